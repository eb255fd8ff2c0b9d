"""Excel workbooks (sheet choice, notices, header line) and Parquet files."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from territorial.indicators.csv_reader import (
    _SAMPLE_RECORDS,
    _check_header_cells,
    _header_note,
    _locate_header,
    _width,
)
from territorial.indicators.table_base import (
    MAX_CELLS,
    RawTable,
    TableError,
    _check_rows,
    _check_shape,
    _finalize,
    _quote_list,
    check_xlsx_archive,
)

__all__ = ["cell_to_str", "sheet_names"]


def cell_to_str(value) -> str:
    """Render a spreadsheet/Parquet cell as text, integers without a spurious ``.0``.

    Parameters
    ----------
    value : object
        Cell value (``None``, number, text, date...).

    Returns
    -------
    str
        ``""`` for missing values, ``"1001"`` for ``1001.0``, ``"12.5"`` for ``12.5``.

    Examples
    --------
    >>> cell_to_str(1001.0), cell_to_str(12.5), cell_to_str(None)
    ('1001', '12.5', '')
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return "VRAI" if value else "FAUX"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return _float_to_str(float(value))
    if isinstance(value, decimal.Decimal):
        return _float_to_str(float(value)) if value.is_finite() else ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _float_to_str(value: float) -> str:
    """``1001.0`` -> ``1001``; other floats with 15 significant digits like Excel."""
    if not math.isfinite(value):
        return ""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.15g}"


def _open_workbook(data: bytes, name: str):
    """Open an xlsx workbook with calamine (fast, Rust), wrapping its errors in French."""
    from python_calamine import CalamineWorkbook

    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as err:  # calamine raises several kinds of errors on damaged files
        raise TableError(
            f"Le classeur Excel « {name} » est illisible ou endommagé. Ouvrez-le dans un "
            "tableur et enregistrez-le à nouveau au format .xlsx."
        ) from err


def sheet_names(data: bytes, name: str) -> list[str]:
    """The sheet names of an xlsx workbook, after the archive's limits are checked.

    Raises
    ------
    TableError
        A workbook over the limits (see :func:`check_xlsx_archive`) or unreadable.
    """
    check_xlsx_archive(data, name)
    workbook = _open_workbook(data, name)
    try:
        return list(workbook.sheet_names)
    finally:
        workbook.close()


def _sheet_rows(workbook, sheet_name: str, name: str) -> list[list[str]]:
    """All rows of a sheet as lists of str (item k of the list = Excel row k + 1)."""
    try:
        values = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
    except Exception as err:  # a chart sheet, or a damaged sheet
        raise TableError(
            f"La feuille « {sheet_name} » du classeur « {name} » est illisible."
        ) from err
    _check_rows(len(values) - 1, name)  # empty rows count: reading them costs time too
    rows = []
    n_cells = 0
    texts: dict[tuple, str] = {}  # a sheet repeats its values: each one is written once

    def text(value) -> str:
        key = (value.__class__, value)  # the class keeps True, 1 and 1.0 apart
        try:
            return texts[key]
        except KeyError:
            texts[key] = written = cell_to_str(value).strip()
            return written
        except TypeError:  # an unhashable cell
            return cell_to_str(value).strip()

    for row in values:
        cells = [text(v) for v in row]
        rows.append(cells[: _width(cells)])
        n_cells += len(rows[-1])
        _check_shape(1, len(rows[-1]), name)
        if n_cells > MAX_CELLS:
            _check_shape(len(rows), MAX_CELLS // max(len(rows), 1) + 1, name)
    return rows


def _pick_sheet(workbook, sheet: str | int | None, name: str) -> tuple[str, list[list[str]]]:
    """Resolve ``sheet`` (name, 0-based index or None = first non-empty sheet)."""
    names = list(workbook.sheet_names)
    if sheet is None:
        first = None
        for candidate in names:
            rows = _sheet_rows(workbook, candidate, name)
            if not any(rows):
                continue
            if not _is_notice(rows):
                return candidate, rows
            first = first or (candidate, rows)
        if first is not None:  # only notices: the first one, its header check will tell
            return first
        raise TableError(
            f"Le classeur « {name} » ne contient aucune donnée : toutes ses feuilles sont vides."
        )
    if isinstance(sheet, int) and not isinstance(sheet, bool):
        if not -len(names) <= sheet < len(names):
            raise TableError(
                f"Le classeur « {name} » ne compte que {len(names)} feuille(s) : "
                f"{_quote_list(names)}. La feuille n° {sheet + 1} n'existe pas."
            )
        chosen = names[sheet]
    else:
        chosen = _match_sheet_name(str(sheet), names, name)
    rows = _sheet_rows(workbook, chosen, name)
    if not any(rows):
        raise TableError(f"La feuille « {chosen} » du classeur « {name} » est vide.")
    return chosen, rows


def _is_notice(rows: list[list[str]]) -> bool:
    """A sheet of text (a notice, a README): no row has two filled cells."""
    return all(sum(bool(c) for c in row) < 2 for row in rows)


def _match_sheet_name(wanted: str, names: list[str], name: str) -> str:
    """Exact sheet name, else a case/space-insensitive match, else a French error."""
    if wanted in names:
        return wanted
    folded = {n.strip().casefold(): n for n in names}
    if wanted.strip().casefold() in folded:
        return folded[wanted.strip().casefold()]
    raise TableError(
        f"La feuille « {wanted} » n'existe pas dans le classeur « {name} ». "
        f"Feuilles disponibles : {_quote_list(names)}."
    )


def _read_xlsx(data: bytes, name: str, sheet, header_row: int | None) -> RawTable:
    """Read an Excel workbook: sheet choice and header row detection."""
    check_xlsx_archive(data, name)
    workbook = _open_workbook(data, name)
    try:
        sheets = list(workbook.sheet_names)
        chosen, rows = _pick_sheet(workbook, sheet, name)
    finally:
        workbook.close()
    header_line = _excel_header_line(rows, header_row, chosen, name)
    header = rows[header_line - 1]
    body_rows = rows[header_line:]
    while body_rows and not body_rows[-1]:
        body_rows.pop()
    _check_rows(len(body_rows), name)
    width = max([len(header), *map(len, body_rows)])
    header = header + [""] * (width - len(header))
    body = pd.DataFrame(
        [r + [""] * (width - len(r)) for r in body_rows], columns=range(width), dtype="str"
    )
    lines = header_line + 1 + np.arange(len(body_rows))
    frame, notes = _finalize(header, body.fillna(""), lines, header_line, name)
    sheet_note = f"Feuille utilisée : « {chosen} »"
    if len(sheets) > 1:
        sheet_note += f" (feuilles du classeur : {_quote_list(sheets)})"
    passed = sheets[: sheets.index(chosen)] if sheet is None else []
    if passed:
        sheet_note += f". Feuilles sans tableau lisible, passées : {_quote_list(passed)}"
    return RawTable(
        frame=frame,
        source_name=name,
        format="xlsx",
        sheet=chosen,
        sheets=sheets,
        header_row=header_line,
        notes=[sheet_note, *_header_note(header_line, header_row), *notes],
    )


def _excel_header_line(rows: list[list[str]], header_row: int | None, sheet: str, name: str) -> int:
    """1-based header row: given by the user (checked) or detected."""
    if header_row is not None:
        if not 1 <= header_row <= len(rows) or not rows[header_row - 1]:
            raise TableError(
                f"La ligne {header_row} indiquée comme en-tête est vide ou absente dans la "
                f"feuille « {sheet} » de « {name} »."
            )
        return header_row
    records = [(i + 1, cells) for i, cells in enumerate(rows) if cells][:_SAMPLE_RECORDS]
    line, cells = _locate_header(records)
    _check_header_cells(cells, line, name)
    return line


def _read_parquet(data: bytes, name: str) -> RawTable:
    """Read a Parquet file, every column converted to str (missing -> "")."""
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(io.BytesIO(data))
        _check_rows(parquet.metadata.num_rows, name)
        _check_shape(parquet.metadata.num_rows, parquet.metadata.num_columns, name)
        table = parquet.read()
    except TableError:
        raise
    except Exception as err:  # pyarrow raises ArrowInvalid, OSError... in English
        raise TableError(
            f"Le fichier Parquet « {name} » est illisible ou endommagé (fichier tronqué, "
            "abîmé ou qui n'est pas un vrai Parquet). Enregistrez-le à nouveau, ou au "
            "format CSV."
        ) from err
    header = [str(c) for c in table.column_names]
    text = pa.table({str(i): _parquet_text(column) for i, column in enumerate(table.columns)})
    body = text.to_pandas()
    body.columns = range(len(header))
    frame, notes = _finalize(header, body.fillna(""), 2 + np.arange(len(body)), 1, name)
    return RawTable(frame=frame, source_name=name, format="parquet", header_row=1, notes=notes)


def _parquet_text(column):
    """A Parquet column as text, as :func:`cell_to_str` writes cells (vectorised for numbers).

    Floats are written in their shortest exact form (``12.5``, ``1001``); NaN and infinities
    are empty, as missing values are.
    """
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return pc.fill_null(column, "")
    if pa.types.is_integer(kind):
        return pc.fill_null(pc.cast(column, pa.string()), "")
    if pa.types.is_floating(kind):
        finite = pc.fill_null(pc.is_finite(column), False)
        return pc.if_else(finite, pc.cast(column, pa.string()), "")
    return pa.array([cell_to_str(v) for v in column.to_pylist()], type=pa.string())
