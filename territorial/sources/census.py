"""INSEE census (recensement de la population) resources."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from territorial.sources.cache import _mirror_name
from territorial.sources.manifest import DEFAULT_SECRET_MARKERS, _ctx
from territorial.sources.parsing import (
    _check_years,
    _finalize_values,
    _is_meta,
    _keep_matching,
    _match_columns,
    _missing_column,
    _Part,
    _read_csv,
    _read_member,
    _select_columns,
    _spec_patterns,
    _zip_members,
)


def _parse_census(spec: Mapping[str, Any], resource: str, path: Path) -> _Part:
    ctx = _ctx(spec)
    part = _Part()
    what = _mirror_name(spec, resource)
    details = spec["resource_details"][resource]
    members = [
        m
        for m in _zip_members(path, ctx, what)
        if m.filename.lower().endswith(".csv") and not _is_meta(m.filename)
    ]
    if not members:
        raise ctx.error("format", f"aucun fichier CSV de données dans l'archive {what}.")
    pattern = details.get("data_member")
    if pattern:
        rx = re.compile(pattern, re.IGNORECASE)
        matching = [m for m in members if rx.search(m.filename.rsplit("/", 1)[-1])]
        members = matching or members
    not_arm = [m for m in members if "arm" not in m.filename.lower()]
    member = max(not_arm or members, key=lambda m: m.file_size).filename
    col_specs = {
        stable: col_spec
        for stable, col_spec in spec["columns"].items()
        if col_spec.get("resource") == resource
    }
    keep = _keep_matching(spec["code_column"], *_spec_patterns(col_specs))
    raw = _read_csv(_read_member(path, member, ctx), member, ctx, keep)
    code_cols = _match_columns(list(raw.columns), spec["code_column"])
    if not code_cols:
        raise _missing_column(
            ctx,
            "code",
            {"example": "CODGEO", "label": "code commune"},
            member,
            raw.attrs["all_columns"],
        )
    markers = set(spec.get("secret_markers", DEFAULT_SECRET_MARKERS))
    values, secret = _select_columns(raw, col_specs, markers, "commune", member, ctx, part)
    part.tables["commune"] = _finalize_values(
        values, secret, raw[code_cols[0][0]], "commune", member, part
    )
    _check_years(spec, part, "Recensement")
    return part
