"""ANCT CRTE perimeters file, read through the perimeter layouts."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from territorial.sources.cache import _mirror_name
from territorial.sources.manifest import _ctx
from territorial.sources.parsing import _missing_column, _Part, _read_csv


def _parse_crte(spec: Mapping[str, Any], resource: str, path: Path) -> _Part:
    ctx = _ctx(spec)
    part = _Part()
    what = _mirror_name(spec, resource)
    level = spec["resource_details"][resource]["level"]
    raw = _read_csv(path.read_bytes(), what, ctx)
    raw.columns = [col.strip().lower() for col in raw.columns]
    raw = raw.apply(lambda col: col.str.strip())
    columns = list(raw.columns)
    for name in spec.get("required_columns", {}).get(level, []):
        if name not in columns:
            raise _missing_column(ctx, name, {"example": name, "label": name}, what, columns)
    absent = [c for c in spec.get("expected_columns", {}).get(level, []) if c not in columns]
    if absent:
        part.warnings.append(f"{what} : colonne(s) absente(s) : {', '.join(absent)}.")
    part.tables[level] = raw.reset_index(drop=True)
    return part
