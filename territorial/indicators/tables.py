"""Robust reading of user-provided indicator tables (CSV, Excel, Parquet).

This module never imports Streamlit. It turns an uploaded file into a :class:`RawTable`
whose cells are all strings (so that territorial codes keep their leading zeros), and
offers :func:`parse_numbers` to convert a column of French-formatted numbers.

Every problem with the input raises :class:`TableError`, whose ``message`` is a plain
French sentence that can be shown to the user as is.

Row numbers
-----------
The index of ``RawTable.frame`` (named ``"ligne"``) holds, for each data row, the number
of the line (CSV) or row (Excel) where it starts in the file, so that messages can point
the user to the right place. For Parquet files the header counts as row 1 and data rows
are numbered from 2.
"""

from __future__ import annotations

import contextlib
import io
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from territorial.indicators import table_base
from territorial.indicators.csv_reader import _read_csv
from territorial.indicators.decoding import _BINARY_MAGIC
from territorial.indicators.sheet_reader import _read_parquet, _read_xlsx
from territorial.indicators.table_base import (
    ACCEPTED_FORMATS,
    PARQUET_EXTENSIONS,
    UNSUPPORTED_EXTENSIONS,
    XLSX_EXTENSIONS,
    TableError,
    _check_size,
    _ignored_header_note,
    _refuse,
)

if TYPE_CHECKING:
    from territorial.indicators.table_base import RawTable


def _load_bytes(source, name: str | None) -> tuple[bytes, str]:
    """Read the whole source (path, bytes or binary file-like) into memory."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        name = name or path.name
        if not path.is_file():
            raise TableError(f"Le fichier « {name} » est introuvable.")
        _check_size(path.stat().st_size, name)
        return path.read_bytes(), name
    if isinstance(source, (bytes, bytearray, memoryview)):
        name = name or "fichier"
        data = bytes(source)
        _check_size(len(data), name)
        return data, name
    if hasattr(source, "read"):
        return _read_file_like(source, name)
    raise TableError(
        f"Source de type {type(source).__name__} non prise en charge : "
        "donnez un chemin de fichier, des octets ou un fichier ouvert."
    )


def _read_file_like(source, name: str | None) -> tuple[bytes, str]:
    """Read a binary file-like object such as a Streamlit ``UploadedFile``."""
    name = name or Path(str(getattr(source, "name", "") or "fichier")).name
    size = getattr(source, "size", None)
    if isinstance(size, int):
        _check_size(size, name)
    with contextlib.suppress(AttributeError, OSError, ValueError):
        source.seek(0)
    data = source.read(table_base.MAX_BYTES + 1)
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > table_base.MAX_BYTES:
        rest = source.read()
        _check_size(len(data) + len(rest or b""), name)
    return bytes(data), name


def _zip_kind(data: bytes) -> str:
    """Tell what a ZIP container holds: ``"xlsx"``, ``"ods"``, ``"docx"`` or ``"zip"``."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return "zip"
    if any(n.startswith("xl/") for n in names):
        return "xlsx"
    if "content.xml" in names:
        return "ods"
    if any(n.startswith("word/") for n in names):
        return "docx"
    return "zip"


def _detect_format(data: bytes, name: str) -> tuple[str, list[str]]:
    """Choose ``"csv"``, ``"xlsx"`` or ``"parquet"`` from magic bytes, then extension."""
    ext = Path(name).suffix.lower()
    for magic, what in _BINARY_MAGIC:
        if data.startswith(magic):
            raise _refuse(name, what)
    if data.startswith(b"PAR1"):
        notes = [] if ext in PARQUET_EXTENSIONS else ["Format reconnu d'après le contenu : Parquet"]
        return "parquet", notes
    if data.startswith(b"PK\x03\x04"):
        kind = _zip_kind(data)
        if kind == "xlsx":
            notes = [] if ext in XLSX_EXTENSIONS else ["Format reconnu d'après le contenu : Excel"]
            return "xlsx", notes
        what = {
            "ods": "un classeur OpenDocument (.ods) : enregistrez-le au format .xlsx ou .csv",
            "docx": "un document Word",
        }.get(kind, "une archive ZIP : décompressez-la d'abord")
        raise _refuse(name, what)
    if ext in UNSUPPORTED_EXTENSIONS:
        raise TableError(
            f"Le format du fichier « {name} » ({UNSUPPORTED_EXTENSIONS[ext]}) n'est pas pris "
            f"en charge. Formats acceptés : {ACCEPTED_FORMATS}."
        )
    if ext in XLSX_EXTENSIONS | PARQUET_EXTENSIONS:
        return "csv", [
            f"Le fichier porte l'extension {ext} mais contient du texte : lu comme un CSV"
        ]
    return "csv", []


def read_table(
    source,
    name: str | None = None,
    *,
    sheet: str | int | None = None,
    header_row: int | None = None,
) -> RawTable:
    """Read a user-provided table (CSV, Excel or Parquet) with every cell as text.

    The format comes from the file content when it is unambiguous (ZIP/Excel and Parquet
    signatures), else from the extension; text files are read as CSV, with detection of
    the encoding (UTF-8, UTF-8 with BOM, UTF-16 with BOM, cp1252, latin-1), of the
    separator (``;`` ``,`` tab ``|``) and of the header line (the first line at least as
    wide as most lines, which skips titles and blank lines above the table).

    Parameters
    ----------
    source : str, pathlib.Path, bytes or binary file-like
        The file; a file-like object (e.g. Streamlit ``UploadedFile``) needs ``read()``
        and usually ``name``.
    name : str, optional
        File name used for the format and in messages (default: from ``source``).
    sheet : str or int, optional
        Excel sheet name or 0-based index (default: first non-empty sheet).
    header_row : int, optional
        1-based line (CSV) or row (Excel) number of the header (default: detected).

    Returns
    -------
    RawTable
        The table, all cells as ``str``, index = line numbers in the file.

    Raises
    ------
    TableError
        Empty, binary, unknown-format, web-page, too big or too long file, missing
        sheet, no header, or a line with more values than the header.

    Examples
    --------
    >>> raw = read_table(b"Titre\\n\\ncode;taux\\n01001;12,5\\n", "t.csv")
    >>> raw.header_row, list(raw.frame.columns), raw.frame.loc[4, "code"]
    (3, ['code', 'taux'], '01001')
    """
    try:
        data, name = _load_bytes(source, name)
        return _read_bytes(data, name, sheet, header_row)
    except TableError:
        raise
    except Exception as err:  # never let a raw OS/pandas/openpyxl/pyarrow error escape
        shown = name or Path(str(getattr(source, "name", "") or "fichier")).name
        raise TableError(
            f"Le fichier « {shown} » n'a pas pu être lu : son contenu n'est pas un tableau "
            f"lisible. Formats acceptés : {ACCEPTED_FORMATS}."
        ) from err


def _read_bytes(data: bytes, name: str, sheet, header_row: int | None) -> RawTable:
    """Dispatch on the detected format."""
    if not data.strip():
        raise TableError(f"Le fichier « {name} » est vide.")
    fmt, notes = _detect_format(data, name)
    if fmt == "xlsx":
        raw = _read_xlsx(data, name, sheet, header_row)
    elif fmt == "parquet":
        raw = _read_parquet(data, name)
        notes += _ignored_header_note(header_row)
    else:
        raw = _read_csv(data, name, header_row)
    raw.notes = notes + raw.notes
    return raw
