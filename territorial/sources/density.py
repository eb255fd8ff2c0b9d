"""INSEE communal density grid (grille communale de densité), an xlsx file."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from territorial.sources.cache import _mirror_name
from territorial.sources.manifest import DEFAULT_SECRET_MARKERS, _Ctx, _ctx
from territorial.sources.parsing import (
    _cell_to_str,
    _finalize_values,
    _match_columns,
    _norm_header,
    _Part,
    _select_columns,
)


def _read_xlsx(path: Path, spec: Mapping[str, Any], what: str, ctx: _Ctx) -> pd.DataFrame:
    """Read the first sheet that has a header row (code + density class) near its top."""
    import openpyxl  # local import: slow to import and only needed here
    from openpyxl.utils.exceptions import InvalidFileException

    code_rx = re.compile(spec["code_column"])
    class_rx = re.compile(spec["columns"]["densite_classe"]["pattern"])
    search_rows = int(spec.get("header_search_rows", 40))
    handle = path.open("rb")  # a handle, not a path: temp files do not end in .xlsx
    try:
        workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        handle.close()
        raise ctx.error("format", f"classeur Excel illisible ({what}) : {exc}.") from None
    try:
        seen: list[str] = []
        for sheet in workbook.worksheets:
            rows = sheet.iter_rows(values_only=True)
            header: list[str] | None = None
            for index, row in enumerate(rows):
                if index >= search_rows:
                    break
                names = [_cell_to_str(cell) for cell in row]
                norm = [_norm_header(name) for name in names]
                if any(code_rx.fullmatch(n) for n in norm) and any(
                    class_rx.fullmatch(n) for n in norm
                ):
                    header = names
                    break
                if index < 8:
                    seen.extend(name for name in names if name)
            if header is None:
                continue
            width = len(header)
            body = [
                [_cell_to_str(cell) for cell in row[:width]] + [""] * (width - len(row))
                for row in rows
                if row and sum(cell not in (None, "") for cell in row) >= 2  # skip notes
            ]
            labels = [name or f"colonne_{i + 1}" for i, name in enumerate(header)]
            return pd.DataFrame(body, columns=labels, dtype=str)
    finally:
        workbook.close()
        handle.close()
    shown = ", ".join(seen[:12]) or "rien"
    raise ctx.error(
        "colonne",
        f"colonne attendue absente : « CODGEO » et « DENS » (code commune et degré de densité) "
        f"introuvables dans les {search_rows} premières lignes du classeur {what}. "
        f"Début du classeur : {shown}. Le format du fichier a peut-être changé.",
    )


def _parse_density(spec: Mapping[str, Any], resource: str, path: Path) -> _Part:
    ctx = _ctx(spec)
    part = _Part()
    what = _mirror_name(spec, resource)
    raw = _read_xlsx(path, spec, what, ctx)
    if raw.empty:
        raise ctx.error("vide", f"le classeur {what} ne contient aucune ligne de données.")
    code_column = _match_columns(list(raw.columns), spec["code_column"])[0][0]
    markers = set(spec.get("secret_markers", DEFAULT_SECRET_MARKERS))
    values, secret = _select_columns(raw, spec["columns"], markers, "commune", what, ctx, part)
    table = _finalize_values(values, secret, raw[code_column], "commune", what, part)
    low, high = spec["columns"]["densite_classe"].get("valid_range", [1, 7])
    classes = table["densite_classe"]
    outside = classes.notna() & ~classes.between(low, high)
    outside |= classes.notna() & (classes % 1 != 0)
    if outside.any():
        part.warnings.append(
            f"{what} : {int(outside.sum())} classe(s) de densité hors de {low}–{high} remplacée(s) "
            "par des valeurs manquantes."
        )
        table.loc[outside, "densite_classe"] = float("nan")
    if table["densite_classe"].notna().sum() == 0:
        raise ctx.error("format", f"aucune classe de densité valide ({low} à {high}) dans {what}.")
    part.tables["commune"] = table
    return part
