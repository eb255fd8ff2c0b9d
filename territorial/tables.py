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
import csv
import datetime as dt
import decimal
import io
import math
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from territorial.cells import Cells

MAX_BYTES = 50 * 1024 * 1024  # 50 Mo
MAX_ROWS = 200_000  # ten times the communes: a table keyed by territory, not a log
MAX_COLUMNS = 1_000
MAX_CELLS = 10_000_000  # rows × columns
# Excel: the limits hold on the decompressed content, before openpyxl reads a byte of it.
# calamine reads about 15 Mo of sheet XML per second here: 30 Mo keeps a workbook under 10 s.
MAX_XLSX_UNCOMPRESSED = 30 * 1024 * 1024
MAX_ZIP_MEMBERS = 1_000
MAX_CELL_CHARS = 128 * 1024  # the csv module's field limit
SECRET_MARKERS = frozenset({"s", "nd", "ns", "secret", "nc", "n.d.", "so", ""})

CSV_EXTENSIONS = frozenset({".csv", ".txt", ".tsv"})
XLSX_EXTENSIONS = frozenset({".xlsx", ".xlsm"})
PARQUET_EXTENSIONS = frozenset({".parquet"})
UNSUPPORTED_EXTENSIONS = {
    ".ods": "OpenDocument (.ods)",
    ".json": "JSON",
    ".geojson": "GeoJSON",
    ".xml": "XML",
    ".pdf": "PDF",
    ".doc": "Word",
    ".docx": "Word",
    ".zip": "archive ZIP",
    ".gz": "archive compressée",
    ".7z": "archive 7-Zip",
    ".rar": "archive RAR",
    ".shp": "Shapefile",
    ".dbf": "dBase",
    ".sav": "SPSS",
    ".dta": "Stata",
    ".sas7bdat": "SAS",
    ".png": "image PNG",
    ".jpg": "image JPEG",
    ".jpeg": "image JPEG",
}
ACCEPTED_FORMATS = "CSV (.csv, .txt, .tsv), Excel (.xlsx, .xlsm) ou Parquet (.parquet)"

SEPARATOR_NAMES = {";": "point-virgule", ",": "virgule", "\t": "tabulation", "|": "barre verticale"}
ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 avec BOM",
    "utf-16": "UTF-16",
    "cp1252": "Windows-1252 (Latin-1)",
    "latin-1": "ISO-8859-1 (Latin-1)",
}

_SAMPLE_LINES = 100  # physical lines looked at to detect the separator and the header
_SAMPLE_RECORDS = 50  # non-blank records used for the detection
_BINARY_MAGIC = (
    (b"\x89PNG", "une image PNG"),
    (b"\xff\xd8\xff", "une image JPEG"),
    (b"GIF8", "une image GIF"),
    (b"%PDF", "un document PDF"),
    (b"\x1f\x8b", "une archive compressée (gzip) : décompressez-la d'abord"),
    (b"7z\xbc\xaf", "une archive 7-Zip : décompressez-la d'abord"),
    (b"Rar!", "une archive RAR : décompressez-la d'abord"),
    (
        b"\xd0\xcf\x11\xe0",
        (
            "un classeur Excel à l'ancien format (.xls) ou protégé par mot de passe : "
            "ouvrez-le dans un tableur et enregistrez-le au format .xlsx sans mot de passe"
        ),
    ),
)
_SPACES = "[ \u00a0\u202f\u2009]"
_WRAPPED_RE = re.compile(r'^="(.*)"$', re.DOTALL)
_HEADER_NUMBER_RE = re.compile(r"[+-]?[0-9][0-9 \u00a0\u202f.,]*%?")
_CONTENT_RE = re.compile(r'[^\s;,|"\ufeff]')
_YEAR_RE = re.compile(r"(?:18|19|20)[0-9]{2}")


class TableError(ValueError):
    """Bad input table.

    Parameters
    ----------
    message : str
        French sentence naming the problem (and the row/column when relevant), meant
        to be shown to the user.

    Examples
    --------
    >>> try:
    ...     read_table(b"", "vide.csv")
    ... except TableError as err:
    ...     print(err.message)
    Le fichier « vide.csv » est vide.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class RawTable:
    """A table read from a file, every cell still a string.

    Attributes
    ----------
    frame : pandas.DataFrame
        All cells as ``str`` (stripped, Excel-wrapped codes ``="01001"`` unwrapped),
        cleaned unique headers, index ``"ligne"`` = line/row number in the file.
    source_name : str
        File name.
    format : str
        ``"csv"``, ``"xlsx"`` or ``"parquet"``.
    encoding : str or None
        Text encoding of a CSV file (``"utf-8"``, ``"utf-8-sig"``, ``"cp1252"``...).
    separator : str or None
        Field separator of a CSV file.
    sheet : str or None
        Excel sheet used.
    sheets : list of str
        All Excel sheets (empty for other formats).
    header_row : int
        1-based line/row number of the header in the file.
    notes : list of str
        French notes about what was detected.

    Examples
    --------
    >>> raw = read_table(b"code;pop\\n01001;12\\n", "t.csv")
    >>> raw.frame.loc[2, "code"], raw.separator, raw.header_row
    ('01001', ';', 1)
    """

    frame: pd.DataFrame
    source_name: str
    format: str
    encoding: str | None = None
    separator: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    header_row: int = 1
    notes: list[str] = field(default_factory=list)


@dataclass
class NumberReport:
    """What :func:`parse_numbers` found in a column.

    ``n_values == n_numeric + n_secret + n_empty + n_invalid``.

    Attributes
    ----------
    n_values : int
        Number of cells.
    n_numeric : int
        Cells converted to a number.
    n_secret : int
        Cells holding a secret marker (``s``, ``nd``, ``secret``...).
    n_empty : int
        Empty cells.
    n_invalid : int
        Other cells, which are not numbers.
    invalid_examples : list of (int, str)
        Up to 5 ``(row number, cell)`` pairs among the invalid cells.

    Examples
    --------
    >>> _, report = parse_numbers(pd.Series(["1", "s", "", "abc"]))
    >>> report.n_numeric, report.n_secret, report.n_empty, report.invalid_examples
    (1, 1, 1, [(4, 'abc')])
    """

    n_values: int = 0
    n_numeric: int = 0
    n_secret: int = 0
    n_empty: int = 0
    n_invalid: int = 0
    invalid_examples: list[tuple[int, str]] = field(default_factory=list)


# --------------------------------------------------------------------------- helpers


def _fr_int(n: int) -> str:
    """Format an integer the French way, e.g. ``1 000 000``."""
    return f"{n:,}".replace(",", " ")


def _fr_size(n_bytes: int) -> str:
    """Format a size in Mo with a decimal comma, e.g. ``63,2 Mo``."""
    mo = n_bytes / (1024 * 1024)
    text = f"{mo:.1f}" if mo >= 0.1 else f"{mo:.4f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return f"{text.replace('.', ',')} Mo"


def _quote_list(items: list[str], limit: int = 10) -> str:
    """``« a », « b »`` for a list of names, shortened after ``limit`` items."""
    shown = ", ".join(f"« {item} »" for item in items[:limit])
    return shown + (f" et {len(items) - limit} autres" if len(items) > limit else "")


def _check_size(size: int, name: str) -> None:
    """Raise :class:`TableError` when ``size`` bytes is over :data:`MAX_BYTES`."""
    if size > MAX_BYTES:
        raise TableError(
            f"Le fichier « {name} » pèse {_fr_size(size)}, au-delà de la limite de "
            f"{_fr_size(MAX_BYTES)}. Réduisez-le (moins de lignes ou de colonnes) "
            "ou enregistrez-le au format Parquet."
        )


def _check_shape(n_rows: int, n_columns: int, name: str) -> None:
    """Raise when a table has too many columns or cells (rows × columns)."""
    if n_columns > MAX_COLUMNS:
        raise TableError(
            f"Le fichier « {name} » compte {_fr_int(n_columns)} colonnes (limite : "
            f"{_fr_int(MAX_COLUMNS)}). Gardez les colonnes utiles avant de le charger."
        )
    if n_rows * n_columns > MAX_CELLS:
        raise TableError(
            f"Le fichier « {name} » compte {_fr_int(n_rows * n_columns)} cases "
            f"({_fr_int(n_rows)} lignes × {_fr_int(n_columns)} colonnes ; limite : "
            f"{_fr_int(MAX_CELLS)}). Réduisez-le avant de le charger."
        )


def check_xlsx_archive(data: bytes, name: str) -> None:
    """Refuse a workbook whose decompressed content is over the limits, before reading it.

    The declared sizes are a real bound: :mod:`zipfile` never inflates a member past its
    declared size (a lying header fails its CRC check).
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        raise TableError(
            f"Le classeur « {name} » contient {_fr_int(len(members))} fichiers internes "
            f"(limite : {_fr_int(MAX_ZIP_MEMBERS)}) : ce n'est pas un classeur ordinaire."
        )
    unpacked = sum(info.file_size for info in members)
    if unpacked > MAX_XLSX_UNCOMPRESSED:
        raise TableError(
            f"Le classeur « {name} » occupe {_fr_size(unpacked)} une fois décompressé, au-delà "
            f"de la limite de {_fr_size(MAX_XLSX_UNCOMPRESSED)} pour un fichier Excel. "
            "Enregistrez-le au format CSV (limite : "
            f"{_fr_size(MAX_BYTES)}) ou Parquet."
        )


def check_row_limit(raw: RawTable, limit: int, what: str) -> None:
    """Raise :class:`TableError` when a table read for ``what`` has over ``limit`` rows.

    Lists of places and perimeter files have their own, lower limits than indicator
    tables: each row is placed or checked one by one.

    >>> raw = read_table(b"code;nom\\n01001;A\\n01002;B\\n", "liste.csv")
    >>> try:
    ...     check_row_limit(raw, 1, "une liste de catalyseurs")
    ... except TableError as error:
    ...     print(error)
    Le fichier « liste.csv » compte 2 lignes ; une liste de catalyseurs en compte au plus 1. Gardez les lignes utiles avant de le charger.
    """
    if len(raw.frame) > limit:
        raise TableError(
            f"Le fichier « {raw.source_name} » compte {_fr_int(len(raw.frame))} lignes ; "
            f"{what} en compte au plus {_fr_int(limit)}. Gardez les lignes utiles avant de "
            "le charger."
        )


def _check_rows(n_rows: int, name: str) -> None:
    """Raise :class:`TableError` when ``n_rows`` data rows is over :data:`MAX_ROWS`."""
    if n_rows > MAX_ROWS:
        raise TableError(
            f"Le fichier « {name} » compte plus de {_fr_int(MAX_ROWS)} lignes de données "
            f"(limite : {_fr_int(MAX_ROWS)}). Réduisez-le avant de le charger."
        )


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
    data = source.read(MAX_BYTES + 1)
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_BYTES:
        rest = source.read()
        _check_size(len(data) + len(rest or b""), name)
    return bytes(data), name


# --------------------------------------------------------------------------- format


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


def _refuse(name: str, what: str) -> TableError:
    """Error for a file that is something else than a table."""
    return TableError(
        f"Le fichier « {name} » est {what}, pas un tableau de données. "
        f"Formats acceptés : {ACCEPTED_FORMATS}."
    )


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


# --------------------------------------------------------------------------- text


def _decode(data: bytes, name: str) -> tuple[str, str]:
    """Decode bytes: UTF-16 (BOM), UTF-8 (with or without BOM), cp1252, else latin-1."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    if b"\x00" in data[:65536]:
        raise _binary_error(name)
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _binary_error(name: str) -> TableError:
    """Error for binary content that is not a known table format."""
    return TableError(
        f"Le fichier « {name} » ne contient pas de texte lisible (contenu binaire) : "
        f"format non reconnu. Formats acceptés : {ACCEPTED_FORMATS}."
    )


def _check_text(text: str, name: str) -> None:
    """Reject binary noise, web pages, JSON/XML and blank files saved as CSV."""
    head = text[:65536]
    controls = sum(1 for ch in head if ch < " " and ch not in "\t\n\r\f\v")
    controls += head.count("\x7f") + head.count("\ufffd")
    if head and controls / len(head) > 0.005:
        raise _binary_error(name)
    start = head.lstrip("\ufeff \t\r\n").lower()
    if start.startswith("<!doctype") or "<html" in start[:1024] or "<body" in start[:4096]:
        raise TableError(
            f"Le fichier « {name} » est une page web (HTML), pas un tableau : c'est "
            "probablement une page d'erreur enregistrée à la place des données. "
            "Téléchargez à nouveau le fichier depuis le site d'origine."
        )
    if start.startswith("<?xml"):
        raise _refuse(name, "un document XML")
    if start.startswith("{"):
        raise _refuse(name, "un document JSON")
    if not _CONTENT_RE.search(text):
        raise TableError(
            f"Le fichier « {name} » est vide (aucune valeur, seulement des séparateurs)."
        )


def _line_offset(text: str, line_no: int) -> int:
    """Character offset where the 1-based physical ``line_no`` starts, or -1."""
    pos = 0
    for _ in range(line_no - 1):
        pos = text.find("\n", pos)
        if pos < 0:
            return -1
        pos += 1
    return pos if pos < len(text) else -1


def _sample(text: str, start: int) -> str:
    """The first :data:`_SAMPLE_LINES` physical lines of ``text`` from ``start``."""
    end = start
    for _ in range(_SAMPLE_LINES):
        end = text.find("\n", end)
        if end < 0:
            return text[start:]
        end += 1
    return text[start:end]


def _records(sample: str, sep: str) -> list[tuple[int, list[str]]]:
    """Non-blank CSV records of ``sample`` with their 1-based starting line."""
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=sep, quotechar='"')
    records: list[tuple[int, list[str]]] = []
    previous = 0
    try:
        for row in reader:
            start, previous = previous + 1, reader.line_num
            if any(cell.strip() for cell in row):
                records.append((start, row))
            if len(records) >= _SAMPLE_RECORDS:
                break
    except csv.Error as err:
        if "field limit" in str(err):
            raise _long_cell_error(reader.line_num) from None
    return records


def _long_cell_error(line: int, name: str | None = None) -> TableError:
    where = f" de « {name} »" if name else ""
    return TableError(
        f"Ligne {line}{where} : une valeur dépasse {MAX_CELL_CHARS // 1024} Ko de texte "
        "(souvent un guillemet jamais fermé). Vérifiez cette ligne."
    )


def _modal(counts: list[int]) -> tuple[int, float]:
    """Most frequent value (the larger one on ties) and its share."""
    if not counts:
        return 0, 0.0
    tally = Counter(counts)
    value = max(tally, key=lambda v: (tally[v], v))
    return value, tally[value] / len(counts)


def detect_separator(sample: str) -> str:
    """Pick the field separator of a CSV sample among ``;`` ``,`` tab and ``|``.

    Each candidate splits the sample into records (quotes respected); the winner is the
    one giving more than one field with the most consistent field count across records,
    then the most fields, then the order ``;`` tab ``,`` ``|``.

    Parameters
    ----------
    sample : str
        The first lines of the file.

    Returns
    -------
    str
        The separator.

    Examples
    --------
    >>> detect_separator("code;taux\\n01001;12,5\\n01002;3,25\\n")
    ';'
    """
    best, best_key = ";", None
    for priority, sep in enumerate((";", "\t", ",", "|")):
        modal, share = _modal([len(row) for _, row in _records(sample, sep)])
        key = (modal > 1, share, modal, -priority)
        if best_key is None or key > best_key:
            best, best_key = sep, key
    return best


def _width(cells: list[str]) -> int:
    """Number of cells up to the last non-blank one."""
    for i in range(len(cells), 0, -1):
        if cells[i - 1].strip():
            return i
    return 0


def _locate_header(records: list[tuple[int, list[str]]]) -> tuple[int, list[str]]:
    """First record at least as wide as the most common width (title lines are narrower)."""
    modal, _ = _modal([_width(cells) for _, cells in records])
    for line_no, cells in records:
        if _width(cells) >= modal:
            return line_no, cells
    return records[0]


def _check_header_cells(cells: list[str], line_no: int, name: str) -> None:
    """Raise when the detected header holds only numbers: the file has no header."""
    values = [c.strip() for c in cells if c.strip()]
    if not values or all(_YEAR_RE.fullmatch(v) for v in values):
        return
    if all(_HEADER_NUMBER_RE.fullmatch(_unwrap(v)) for v in values):
        shown = _quote_list(values, 3)
        raise TableError(
            f"Aucune ligne d'en-tête trouvée dans « {name} » : la ligne {line_no} ne contient "
            f"que des nombres ({shown}). Ajoutez au-dessus des données une ligne donnant le "
            "nom de chaque colonne, ou indiquez le numéro de la ligne d'en-tête."
        )


def _unwrap(value: str) -> str:
    """``="01001"`` -> ``01001`` (codes protected by Excel), other values unchanged."""
    match = _WRAPPED_RE.match(value)
    return match.group(1) if match else value


# --------------------------------------------------------------------------- CSV


def _read_csv(data: bytes, name: str, header_row: int | None) -> RawTable:
    """Read CSV bytes: encoding, separator and header line are detected."""
    text, encoding = _decode(data, name)
    _check_text(text, name)
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")
    if header_row is None:
        sample = _sample(text, 0)
        sep = detect_separator(sample)
        header_line = _detect_header_line(_records(sample, sep), name)
    else:
        header_line = header_row
        sep = detect_separator(_sample(text, _user_header_offset(text, header_row, name)))
    table_text = text[_line_offset(text, header_line) :]
    del text
    first_line = table_text[: table_text.find("\n") if "\n" in table_text else len(table_text)]
    width = first_line.count(sep) + 1
    _check_shape(0, width, name)
    if '"' not in table_text:  # without quotes, one line is one row: refuse before parsing
        n_lines = table_text.count("\n")
        _check_rows(n_lines, name)
        _check_shape(n_lines, width, name)
    header, body, lines, notes = _parse_csv_body(table_text, sep, header_line, name)
    _check_shape(len(body), body.shape[1], name)
    _check_quotes(table_text, body, lines, name)
    notes = [
        f"Encodage détecté : {ENCODING_NAMES[encoding]}",
        f"Séparateur détecté : {SEPARATOR_NAMES[sep]}",
        *notes,
    ]
    frame, more = _finalize(header, body, lines, header_line, name)
    return RawTable(
        frame=frame,
        source_name=name,
        format="csv",
        encoding=encoding,
        separator=sep,
        header_row=header_line,
        notes=notes + _header_note(header_line, header_row) + more,
    )


def _detect_header_line(records: list[tuple[int, list[str]]], name: str) -> int:
    """Header line detected among the first records of a CSV file."""
    if not records:
        raise TableError(
            f"Aucune ligne d'en-tête trouvée dans « {name} » : les premières lignes ne "
            "contiennent aucune valeur."
        )
    header_line, header_cells = _locate_header(records)
    _check_header_cells(header_cells, header_line, name)
    return header_line


def _user_header_offset(text: str, header_row: int, name: str) -> int:
    """Offset of a header line given by the user, checked to exist and hold text."""
    offset = _line_offset(text, header_row) if header_row >= 1 else -1
    if offset < 0:
        n_lines = text.count("\n") + 1
        raise TableError(
            f"La ligne d'en-tête {header_row} n'existe pas : le fichier « {name} » compte "
            f"{_fr_int(n_lines)} lignes."
        )
    end = text.find("\n", offset)
    if not text[offset : end if end >= 0 else len(text)].strip():
        raise TableError(f"La ligne {header_row} indiquée comme en-tête dans « {name} » est vide.")
    return offset


def _header_note(header_line: int, header_row: int | None) -> list[str]:
    """Note telling that lines above the header were skipped."""
    if header_line > 1 and header_row is None:
        return [f"Ligne d'en-tête détectée : ligne {header_line} (lignes au-dessus ignorées)"]
    return []


def _parse_csv_body(
    text: str, sep: str, header_line: int, name: str
) -> tuple[list[str], pd.DataFrame, np.ndarray, list[str]]:
    """Parse ``text`` (starting at the header) with pandas, or ``csv`` on ragged rows."""
    try:
        table = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            header=None,
            dtype=str,
            na_filter=False,
            skip_blank_lines=False,
            quotechar='"',
            engine="c",
            nrows=MAX_ROWS + 2,
        )
    except pd.errors.ParserError:
        return _parse_csv_slow(text, sep, header_line, name)
    except pd.errors.EmptyDataError:
        raise TableError(f"Le fichier « {name} » est vide.") from None
    _check_rows(len(table) - 1, name)
    table = table.fillna("")
    header = table.iloc[0].tolist()
    body = table.iloc[1:].reset_index(drop=True)
    body.columns = range(body.shape[1])
    lines = _csv_line_numbers(header, body, header_line, '"' in text)
    return header, body, lines, []


def _row_newlines(body: pd.DataFrame) -> np.ndarray:
    """Number of newlines inside the cells of each row."""
    newlines = np.zeros(len(body), dtype=np.int64)
    for column in body.columns:
        newlines += body[column].str.count("\n").to_numpy(dtype=np.int64)
    return newlines


def _csv_line_numbers(
    header: list[str], body: pd.DataFrame, header_line: int, quoted: bool
) -> np.ndarray:
    """Starting line of each body row, accounting for newlines inside quoted cells."""
    n = len(body)
    first = header_line + 1
    if not quoted or n == 0:
        return first + np.arange(n)
    first += sum(cell.count("\n") for cell in header)
    newlines = _row_newlines(body)
    return first + np.arange(n) + np.concatenate([[0], np.cumsum(newlines)[:-1]])


def _check_quotes(text: str, body: pd.DataFrame, lines: np.ndarray, name: str) -> None:
    """Raise when an unclosed quote swallowed the following lines into a single cell."""
    if body.empty or text.count('"') % 2 == 0:
        return
    newlines = _row_newlines(body)
    if newlines.max() == 0:
        return
    line = int(lines[int(np.argmax(newlines))])
    raise TableError(
        f'Ligne {line} de « {name} » : un guillemet (") est ouvert mais jamais fermé, si '
        "bien que les lignes suivantes seraient lues comme une seule valeur. Corrigez les "
        "guillemets de cette ligne."
    )


def _parse_csv_slow(
    text: str, sep: str, header_line: int, name: str
) -> tuple[list[str], pd.DataFrame, np.ndarray, list[str]]:
    """Parse with the ``csv`` module, dropping empty extra fields, naming bad lines."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar='"')
    rows: list[list[str]] = []
    lines: list[int] = []
    notes: list[str] = []
    header: list[str] | None = None
    previous = 0
    try:
        for row in reader:
            start, previous = header_line + previous, reader.line_num
            if header is None:
                header = row
                continue
            if len(row) > len(header):
                row = _trim_extra_fields(row, header, start, header_line, name, notes)
            rows.append(row)
            lines.append(start)
            _check_rows(len(rows), name)
    except csv.Error as err:
        line = header_line + reader.line_num - 1
        if "field limit" in str(err):
            raise _long_cell_error(line, name) from None
        raise TableError(
            f"Ligne {line} de « {name} » illisible : une valeur est trop longue ou des "
            "guillemets sont mal placés. Vérifiez cette ligne."
        ) from None
    header = header or []
    rows = [row + [""] * (len(header) - len(row)) for row in rows]
    body = pd.DataFrame(rows, columns=range(len(header)), dtype="str").fillna("")
    return header, body, np.asarray(lines, dtype=np.int64), notes


def _trim_extra_fields(
    row: list[str], header: list[str], line: int, header_line: int, name: str, notes: list[str]
) -> list[str]:
    """Drop empty fields beyond the header width; raise if one of them holds a value."""
    if any(cell.strip() for cell in row[len(header) :]):
        raise TableError(
            f"Ligne {line} de « {name} » : {len(row)} valeurs trouvées alors que l'en-tête "
            f"(ligne {header_line}) compte {len(header)} colonnes. Vérifiez le séparateur "
            "et les guillemets de cette ligne."
        )
    if not notes:
        notes.append("Séparateurs en trop en fin de ligne ignorés")
    return row[: len(header)]


# --------------------------------------------------------------------------- Excel


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
    for row in values:
        cells = [cell_to_str(v).strip() for v in row]
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


# --------------------------------------------------------------------------- Parquet


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


def _ignored_header_note(header_row: int | None) -> list[str]:
    """Note for a header row given for a Parquet file, whose header is built in."""
    if header_row in (None, 1):
        return []
    return ["Numéro de ligne d'en-tête ignoré : un fichier Parquet a ses noms de colonnes"]


# --------------------------------------------------------------------------- finalize


def _clean_header(cells: list[str]) -> list[str]:
    """Strip names, remove BOMs and Excel wrapping, collapse inner whitespace."""
    return [" ".join(_unwrap(str(c).replace("\ufeff", "").strip()).split()) for c in cells]


def _unique_names(names: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Name empty headers ``colonne_N`` and duplicates ``nom_N`` (N = 1-based position)."""
    result: list[str] = []
    taken: set[str] = set()
    originals = set(names)
    renamed_empty: list[str] = []
    renamed_dup: list[str] = []
    for position, original in enumerate(names, start=1):
        candidate = original or f"colonne_{position}"
        if original and candidate in taken:
            candidate = f"{original}_{position}"
        while candidate in taken or (candidate != original and candidate in originals):
            candidate += "_bis"
        taken.add(candidate)
        if not original:
            renamed_empty.append(candidate)
        elif candidate != original:
            renamed_dup.append(f"{original} → {candidate}")
        result.append(candidate)
    return result, renamed_empty, renamed_dup


def _clean_cells(body: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Strip every cell and unwrap Excel-protected codes; count unwrapped cells."""
    cells = Cells(body).stripped()
    return cells.to_frame(), cells.n_unwrapped


def _finalize(
    header: list[str], body: pd.DataFrame, lines, header_line: int, name: str
) -> tuple[pd.DataFrame, list[str]]:
    """Common cleaning: cells, empty rows/columns, unique names, line-number index."""
    notes: list[str] = []
    width = max(len(header), body.shape[1])
    header = _clean_header(list(header) + [""] * (width - len(header)))
    for position in range(body.shape[1], width):
        body[position] = ""
    body, n_unwrapped = _clean_cells(body)
    body.index = pd.Index(np.asarray(lines, dtype=np.int64), name="ligne")
    empty_rows = (body == "").all(axis=1) if width else pd.Series(True, index=body.index)
    body = body.loc[~empty_rows.to_numpy()]
    cells = Cells(body)
    filled = cells.count(~cells.empty()) if len(body) else np.zeros(width, dtype=np.int64)
    keep = [i for i in range(width) if header[i] or filled[i]]
    if len(keep) < width:
        n = width - len(keep)
        notes.append(
            f"{n} colonne{'s' if n > 1 else ''} vide{'s' if n > 1 else ''} "
            f"sans nom supprimée{'s' if n > 1 else ''}"
        )
    body = body[keep]
    names, renamed_empty, renamed_dup = _unique_names([header[i] for i in keep])
    body.columns = names
    if body.empty:
        raise TableError(
            f"Le fichier « {name} » ne contient qu'une ligne d'en-tête (ligne {header_line}) "
            "et aucune ligne de données."
        )
    if n_unwrapped:
        notes.append(
            f'Codes protégés par Excel (="…") nettoyés dans {_fr_int(n_unwrapped)} cellules'
        )
    if renamed_empty:
        notes.append(f"Colonnes sans nom renommées : {_quote_list(renamed_empty)}")
    if renamed_dup:
        notes.append(f"Colonnes en double renommées : {', '.join(renamed_dup)}")
    return body, notes


# --------------------------------------------------------------------------- public


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


# --------------------------------------------------------------------------- numbers

_D = "[0-9]"
_SIGN = "[+-]?"
_EXP = f"(?:[eE][+-]?{_D}+)?"
_INT = f"{_SIGN}{_D}+{_EXP}"
_DOT = rf"{_SIGN}(?:{_D}+\.{_D}*|\.{_D}+){_EXP}"
_COMMA = rf"{_SIGN}(?:{_D}+,{_D}*|,{_D}+){_EXP}"
_LEAD = f"{_SIGN}[1-9]{_D}{{0,2}}"  # first group of a number with thousands separators
_DOT_AMBIG = rf"{_LEAD}\.{_D}{{3}}"  # 1.234: decimal or thousands?
_COMMA_AMBIG = rf"{_LEAD},{_D}{{3}}"  # 1,234: decimal or thousands?
_DOT_GROUPS = rf"{_LEAD}(?:\.{_D}{{3}}){{2,}}"  # 1.234.567
_COMMA_GROUPS = rf"{_LEAD}(?:,{_D}{{3}}){{2,}}"  # 1,234,567
_DOT_GROUPS_COMMA_DEC = rf"{_LEAD}(?:\.{_D}{{3}})+,{_D}+"  # 1.234,5
_COMMA_GROUPS_DOT_DEC = rf"{_LEAD}(?:,{_D}{{3}})+\.{_D}+"  # 1,234.5
_SPACED = rf"{_LEAD}(?:{_SPACES}{_D}{{3}})+(?:[.,]{_D}+)?"  # 1 234 567,5
_LEADING_ZERO_INT = f"0{_D}+"


def _as_text(values: pd.Series) -> pd.Series:
    """Cells as stripped str (missing -> ""), Excel-wrapped codes unwrapped."""
    text = values.astype("str").fillna("").str.strip()
    wrapped = text.str.startswith('="') & text.str.endswith('"') & (text.str.len() >= 3)
    if wrapped.any():
        text = text.where(~wrapped, text.str.slice(2, -1).str.strip())
    return text


def _number_text(text: pd.Series) -> pd.Series:
    """Remove percent signs and space thousands separators, normalise the minus sign."""
    if text.str.contains("\u2212", regex=False).any():
        text = text.str.replace("\u2212", "-", regex=False)
    if text.str.contains("%", regex=False).any():
        text = text.str.replace(f"{_SPACES}*%$", "", regex=True)
    spaced = text.str.fullmatch(_SPACED)
    if spaced.any():
        text = text.where(~spaced, text.str.replace(_SPACES, "", regex=True))
    return text


def _matches(text: pd.Series, pattern: str) -> np.ndarray:
    """Boolean array: which cells fully match ``pattern``."""
    return text.str.fullmatch(pattern).to_numpy(dtype=bool)


def _separator_roles(dots: pd.Series, commas: pd.Series, both: pd.Series) -> tuple[bool, bool]:
    """Column-level decision: are dots / commas used as thousands separators?

    ``dots``, ``commas`` and ``both`` are the cells holding only dots, only commas, and
    both. Dots are thousands separators when a value has several dot groups
    (``1.234.567``) or dot groups before a decimal comma (``1.234,5``), or when every
    dotted number looks like ``1.234`` and another value uses an unambiguous decimal
    comma (``12,5``). The same rule is applied to commas with the roles swapped.
    Otherwise ``1.234`` and ``1,234`` are decimals (1.234).
    """
    dot_ambig, comma_ambig = _matches(dots, _DOT_AMBIG), _matches(commas, _COMMA_AMBIG)
    dot_decimal = _matches(dots[~dot_ambig], _DOT).any()
    comma_decimal = _matches(commas[~comma_ambig], _COMMA).any()
    dot_thousands = (
        _matches(both, _DOT_GROUPS_COMMA_DEC).any()
        or _matches(dots[~dot_ambig], _DOT_GROUPS).any()
        or (dot_ambig.any() and not dot_decimal and comma_decimal)
    )
    comma_thousands = (
        _matches(both, _COMMA_GROUPS_DOT_DEC).any()
        or _matches(commas[~comma_ambig], _COMMA_GROUPS).any()
        or (comma_ambig.any() and not comma_decimal and dot_decimal)
    )
    return bool(dot_thousands), bool(comma_thousands)


def _same(text: pd.Series) -> pd.Series:
    return text


def _drop_dots(text: pd.Series) -> pd.Series:
    return text.str.replace(".", "", regex=False)


def _drop_commas(text: pd.Series) -> pd.Series:
    return text.str.replace(",", "", regex=False)


def _comma_to_dot(text: pd.Series) -> pd.Series:
    return text.str.replace(",", ".", regex=False)


def _european(text: pd.Series) -> pd.Series:
    return _comma_to_dot(_drop_dots(text))


def _floats(text: pd.Series) -> np.ndarray:
    """Float array from canonical number strings (fast pyarrow cast when possible)."""
    try:
        array = pc.cast(pa.array(text, type=pa.large_string()), pa.float64())
        return array.to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64")


def _apply_rules(result: np.ndarray, text: pd.Series, positions: np.ndarray, rules) -> None:
    """Convert cells at ``positions`` with the first ``(pattern, rewrite)`` they match."""
    cells = text.iloc[positions]
    for pattern, rewrite in rules:
        if len(cells) == 0:
            return
        match = _matches(cells, pattern)
        if match.any():
            result[positions[match]] = _floats(rewrite(cells[match]))
            positions, cells = positions[~match], cells[~match]


def _to_floats(text: pd.Series) -> np.ndarray:
    """Numbers for the cells written as numbers (see :func:`parse_numbers`), else NaN."""
    result = np.full(len(text), np.nan)
    has_dot = text.str.contains(".", regex=False).to_numpy(dtype=bool)
    has_comma = text.str.contains(",", regex=False).to_numpy(dtype=bool)
    plain = np.flatnonzero(~has_dot & ~has_comma)
    dots = np.flatnonzero(has_dot & ~has_comma)
    commas = np.flatnonzero(has_comma & ~has_dot)
    both = np.flatnonzero(has_dot & has_comma)
    dot_thousands, comma_thousands = _separator_roles(
        text.iloc[dots], text.iloc[commas], text.iloc[both]
    )
    _apply_rules(result, text, plain, [(_INT, _same)])
    dot_ambig = _drop_dots if dot_thousands else _same
    _apply_rules(
        result, text, dots, [(_DOT_AMBIG, dot_ambig), (_DOT, _same), (_DOT_GROUPS, _drop_dots)]
    )
    comma_ambig = _drop_commas if comma_thousands else _comma_to_dot
    comma_rules = [
        (_COMMA_AMBIG, comma_ambig),
        (_COMMA, _comma_to_dot),
        (_COMMA_GROUPS, _drop_commas),
    ]
    _apply_rules(result, text, commas, comma_rules)
    both_rules = [(_DOT_GROUPS_COMMA_DEC, _european), (_COMMA_GROUPS_DOT_DEC, _drop_commas)]
    _apply_rules(result, text, both, both_rules)
    result[~np.isfinite(result)] = np.nan
    return result


def _row_numbers(index: pd.Index, positions: np.ndarray) -> list[int]:
    """Row numbers shown to the user: integer index labels, else 1-based positions."""
    default = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
    if pd.api.types.is_integer_dtype(index.dtype) and not default:
        return [int(index[p]) for p in positions]
    return [int(p) + 1 for p in positions]


_PLAIN_NUMBER = r"[+-]?[0-9]+(?:\.[0-9]+)?"  # 12, -3.5
_PLAIN_COMMA_NUMBER = r"[+-]?[0-9]+(?:,[0-9]+)?"  # 12, -3,5


def _plain_numbers(text: pd.Series, skipped: np.ndarray) -> pd.Series | None:
    """Floats when every cell not ``skipped`` is a plain number, else None.

    Plain means all written with a decimal dot (``-3.5``) or all with a decimal comma
    (``-3,5``), integers allowed in both, nothing else. In such a column the full parser
    reads every separator as a decimal one (it only reads ``1.234`` or ``1,234`` as a
    thousand when another cell shows it, e.g. ``1.234.567``, or ``12,5`` next to dotted
    cells, which are not plain), so both readings agree. Skipped cells give NaN.
    """
    filled = text[~skipped]
    if filled.empty:
        return None
    if not filled.str.fullmatch(_PLAIN_NUMBER).all():  # e.g. "12,5", "1e5", " 12"
        if not filled.str.fullmatch(_PLAIN_COMMA_NUMBER).all():
            return None
        filled = filled.str.replace(",", ".", regex=False)
    numbers = np.full(len(text), np.nan)
    numbers[~skipped] = _floats(filled)
    if not np.isfinite(numbers[~skipped]).all():  # digits beyond the float range
        return None
    return pd.Series(numbers, index=text.index, dtype="float64")


def parse_numbers(values: pd.Series) -> tuple[pd.Series, NumberReport]:
    """Convert text cells written the French (or English) way to floats.

    Accepted: decimal comma or dot (``12,5``, ``12.5``), thousands separators made of
    spaces (normal, non-breaking U+00A0, narrow U+202F, thin U+2009) or of dots/commas
    when unambiguous (``1.234.567``, ``1 234,5``, ``1.234,5``, ``1,234.5``), a trailing
    percent sign (``12,5 %`` -> 12.5, not divided by 100), the minus sign U+2212,
    exponents (``1e-05``) and Excel-protected values (``="12"``). Secret markers
    (:data:`SECRET_MARKERS`, case-insensitive) and empty cells give NaN and are counted
    apart from invalid cells (text that is not a number).

    Ambiguity rule: ``1.234`` (1-3 digits, a dot, exactly 3 digits) is the decimal
    1.234 unless the column shows that dots separate thousands: a value with several dot
    groups (``1.234.567``) or with dot groups and a decimal comma (``1.234,5``), or every
    dotted value looks like ``1.234`` while some value uses a decimal comma that cannot
    be a thousands separator (``12,5``). Symmetrically ``1,234`` is the decimal 1.234
    unless commas separate thousands in the column (``1,234,567``, ``1,234.5``, or every
    comma value looks like ``1,234`` while some value is an unambiguous decimal with a
    dot such as ``12.5``). Values matching a single reading always take it.

    Parameters
    ----------
    values : pandas.Series
        Cells (normally ``str``); missing values are treated as empty cells.

    Returns
    -------
    numbers : pandas.Series
        Floats with the same index (NaN for secret, empty and invalid cells).
    report : NumberReport
        Counts, and up to 5 invalid cells with their row number (the index label when
        the index holds integers, as set by :func:`read_table`, else the 1-based
        position).

    Examples
    --------
    >>> numbers, report = parse_numbers(pd.Series(["1 234,5", "12,5 %", "s", "abc"]))
    >>> numbers.tolist()[:2], report.n_secret, report.n_invalid
    ([1234.5, 12.5], 1, 1)
    """
    text = _as_text(values)
    empty = (text == "").to_numpy()
    secret = text.str.lower().isin(SECRET_MARKERS).to_numpy() & ~empty
    plain = _plain_numbers(text, empty | secret)
    if plain is not None:  # fast path: "12", "-3.5" or "12", "-3,5", secret markers
        return plain.rename(values.name), NumberReport(
            n_values=len(text),
            n_numeric=int((~(empty | secret)).sum()),
            n_secret=int(secret.sum()),
            n_empty=int(empty.sum()),
        )
    numbers = pd.Series(_to_floats(_number_text(text)), index=values.index, dtype="float64")
    numeric = numbers.notna().to_numpy()
    invalid = ~(numeric | secret | empty)
    positions = np.flatnonzero(invalid)[:5]
    examples = list(
        zip(_row_numbers(values.index, positions), text.iloc[positions].tolist(), strict=True)
    )
    report = NumberReport(
        n_values=len(values),
        n_numeric=int(numeric.sum()),
        n_secret=int(secret.sum()),
        n_empty=int(empty.sum()),
        n_invalid=int(invalid.sum()),
        invalid_examples=examples,
    )
    numbers.name = values.name
    return numbers, report


def looks_like_codes(values: pd.Series) -> bool:
    """True when some value is an integer written with a leading zero (``01001``).

    Such columns hold identifiers (commune, department codes...), not quantities.

    Examples
    --------
    >>> looks_like_codes(pd.Series(["01001", "75056"])), looks_like_codes(pd.Series(["0,5"]))
    (True, False)
    """
    text = _as_text(values)
    text = text[text.str.startswith("0").to_numpy(dtype=bool)]  # cheap first pass
    return bool(text.str.fullmatch(_LEADING_ZERO_INT).any())


def numeric_columns(
    raw: RawTable, min_share: float = 0.8, *, exclude_codes: bool = True
) -> list[str]:
    """Columns whose non-secret, non-empty cells are mostly numbers.

    Parameters
    ----------
    raw : RawTable
        Table returned by :func:`read_table`.
    min_share : float, default 0.8
        Minimum share of numbers among cells that are neither empty nor secret.
    exclude_codes : bool, default True
        Leave out identifier columns (see :func:`looks_like_codes`), such as a commune
        code column ``01001``, ``01002``..., which would otherwise parse as numbers.

    Returns
    -------
    list of str
        Column names, in table order. A column with only empty/secret cells is not
        numeric.

    Examples
    --------
    >>> raw = read_table(b"code;nom;pop\\n01001;Ain;12\\n01002;Ain;s\\n", "t.csv")
    >>> numeric_columns(raw)
    ['pop']
    """
    result = []
    for column in raw.frame.columns:
        values = raw.frame[column]
        _, report = parse_numbers(values)
        checked = report.n_numeric + report.n_invalid
        numeric = bool(checked) and report.n_numeric / checked >= min_share
        if numeric and not (exclude_codes and looks_like_codes(values)):
            result.append(column)
    return result
