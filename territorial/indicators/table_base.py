"""What every table reader shares: the limits, :class:`TableError`, :class:`RawTable`, shape checks and the final cleaning of cells and headers."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from territorial.indicators.cells import Cells
from territorial.text.formatting import format_number

__all__ = ["RawTable", "TableError", "check_row_limit", "check_xlsx_archive"]


MAX_BYTES = 50 * 1024 * 1024  # 50 Mo

MAX_ROWS = 200_000  # ten times the communes: a table keyed by territory, not a log

MAX_COLUMNS = 1_000

MAX_CELLS = 5_000_000  # rows × columns: 35 000 communes × 140 columns, read in under 10 s

# Excel: the limits hold on the decompressed content, before openpyxl reads a byte of it.
# openpyxl reads about 4 Mo of sheet XML per second here: 30 Mo keeps a workbook under 10 s.
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

_SPACES = "[ \u00a0\u202f\u2009]"

_WRAPPED_RE = re.compile(r'^="(.*)"$', re.DOTALL)

_CONTENT_RE = re.compile(r'[^\s;,|"\ufeff]')


class TableError(ValueError):
    """Bad input table.

    Parameters
    ----------
    message : str
        French sentence naming the problem (and the row/column when relevant), meant
        to be shown to the user.

    Examples
    --------
    >>> from territorial.indicators.tables import read_table
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
    >>> from territorial.indicators.tables import read_table
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
            f"Le fichier « {name} » compte {format_number(n_columns)} colonnes (limite : "
            f"{format_number(MAX_COLUMNS)}). Gardez les colonnes utiles avant de le charger."
        )
    if n_rows * n_columns > MAX_CELLS:
        raise TableError(
            f"Le fichier « {name} » compte {format_number(n_rows * n_columns)} cases "
            f"({format_number(n_rows)} lignes × {format_number(n_columns)} colonnes ; limite : "
            f"{format_number(MAX_CELLS)}). Réduisez-le avant de le charger."
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
            f"Le classeur « {name} » contient {format_number(len(members))} fichiers internes "
            f"(limite : {format_number(MAX_ZIP_MEMBERS)}) : ce n'est pas un classeur ordinaire."
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

    >>> from territorial.indicators.tables import read_table
    >>> raw = read_table(b"code;nom\\n01001;A\\n01002;B\\n", "liste.csv")
    >>> try:
    ...     check_row_limit(raw, 1, "une liste de catalyseurs")
    ... except TableError as error:
    ...     print(error)
    Le fichier « liste.csv » compte 2 lignes ; une liste de catalyseurs en compte au plus 1. Gardez les lignes utiles avant de le charger.
    """
    if len(raw.frame) > limit:
        raise TableError(
            f"Le fichier « {raw.source_name} » compte {format_number(len(raw.frame))} lignes ; "
            f"{what} en compte au plus {format_number(limit)}. Gardez les lignes utiles avant de "
            "le charger."
        )


def _check_rows(n_rows: int, name: str) -> None:
    """Raise :class:`TableError` when ``n_rows`` data rows is over :data:`MAX_ROWS`."""
    if n_rows > MAX_ROWS:
        raise TableError(
            f"Le fichier « {name} » compte plus de {format_number(MAX_ROWS)} lignes de données "
            f"(limite : {format_number(MAX_ROWS)}). Réduisez-le avant de le charger."
        )


def _refuse(name: str, what: str) -> TableError:
    """Error for a file that is something else than a table."""
    return TableError(
        f"Le fichier « {name} » est {what}, pas un tableau de données. "
        f"Formats acceptés : {ACCEPTED_FORMATS}."
    )


def _unwrap(value: str) -> str:
    """``="01001"`` -> ``01001`` (codes protected by Excel), other values unchanged."""
    match = _WRAPPED_RE.match(value)
    return match.group(1) if match else value


def _ignored_header_note(header_row: int | None) -> list[str]:
    """Note for a header row given for a Parquet file, whose header is built in."""
    if header_row in (None, 1):
        return []
    return ["Numéro de ligne d'en-tête ignoré : un fichier Parquet a ses noms de colonnes"]


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


def _finalize(
    header: list[str], body: pd.DataFrame, lines, header_line: int, name: str
) -> tuple[pd.DataFrame, list[str]]:
    """Common cleaning: cells, empty rows/columns, unique names, line-number index."""
    notes: list[str] = []
    width = max(len(header), body.shape[1])
    header = _clean_header(list(header) + [""] * (width - len(header)))
    for position in range(body.shape[1], width):
        body[position] = ""
    cells = Cells(body).stripped()
    n_unwrapped = cells.n_unwrapped
    empty = cells.empty()  # empty cells, column after column (empty rows hold none filled)
    filled = cells.count(~empty) if len(body) else np.zeros(width, dtype=np.int64)
    empty_rows = empty.reshape(width, len(body)).all(axis=0)  # all true without columns
    body = cells.to_frame()
    body.index = pd.Index(np.asarray(lines, dtype=np.int64), name="ligne")
    body = body.loc[~empty_rows]
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
            f'Codes protégés par Excel (="…") nettoyés dans {format_number(n_unwrapped)} cellules'
        )
    if renamed_empty:
        notes.append(f"Colonnes sans nom renommées : {_quote_list(renamed_empty)}")
    if renamed_dup:
        notes.append(f"Colonnes en double renommées : {', '.join(renamed_dup)}")
    return body, notes
