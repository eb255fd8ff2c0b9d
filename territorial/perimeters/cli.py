"""``python -m territorial perimetres``: validate a CRTE or user perimeter file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from territorial.indicators.table_base import RawTable, TableError
from territorial.indicators.tables import read_table
from territorial.text.jsonout import json_text

if TYPE_CHECKING:
    from territorial.geo.geography import Geography
from typing import TYPE_CHECKING

from territorial.perimeters.crte_layout import _crte_from_raw
from territorial.perimeters.userfiles import _user_from_raw

if TYPE_CHECKING:
    from territorial.perimeters.model import PerimeterSet
    from territorial.perimeters.report import ValidationReport

__all__ = ["cli_perimeters"]


def _load_any(raw: RawTable, geo: Geography) -> tuple[PerimeterSet, ValidationReport]:
    """A CRTE file if it has a CRTE layout, else a two-column user set."""
    try:
        return _crte_from_raw(raw, geo, None)
    except TableError:
        if len(raw.frame.columns) != 2:
            raise
    return _user_from_raw(raw, geo, Path(raw.source_name).stem)


def cli_perimeters(path: str, as_json: bool) -> int:
    """Print the validation report of a perimeter file; return the exit code.

    A file with a CRTE layout is read as the official CRTE file; a two-column table as a
    user set (named after the file).

    Parameters
    ----------
    path : str
        The file.
    as_json : bool
        Print :meth:`ValidationReport.to_dict` as JSON instead of French sentences.

    Returns
    -------
    int
        0 when the file was read (even with anomalies, which the report lists), 2 when
        it could not be used (French message on stderr).
    """
    try:
        from territorial.geo.geography import load_geography

        raw = read_table(path)
        _, report = _load_any(raw, load_geography())
    except TableError as err:
        print(err.message, file=sys.stderr)
        return 2
    except Exception as err:  # the CLI never shows a traceback
        print(
            f"Le fichier « {Path(str(path)).name} » n'a pas pu être traité : {err}",
            file=sys.stderr,
        )
        return 2
    if as_json:
        print(json_text(report.to_dict()))
    else:
        print("\n".join(report.summary_fr()))
    return 0
