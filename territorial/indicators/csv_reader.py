"""CSV and text tables: separator and header detection, tolerant parsing with line numbers in every message."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from territorial.indicators import table_base
from territorial.indicators.decoding import ENCODING_NAMES, _check_text, _decode
from territorial.indicators.table_base import (
    MAX_CELL_CHARS,
    RawTable,
    TableError,
    _check_rows,
    _check_shape,
    _finalize,
    _quote_list,
    _unwrap,
)
from territorial.text.formatting import format_number

__all__ = ["detect_separator"]


SEPARATOR_NAMES = {";": "point-virgule", ",": "virgule", "\t": "tabulation", "|": "barre verticale"}

_SAMPLE_LINES = 100  # physical lines looked at to detect the separator and the header

_SAMPLE_RECORDS = 50  # non-blank records used for the detection

_HEADER_NUMBER_RE = re.compile(r"[+-]?[0-9][0-9 \u00a0\u202f.,]*%?")

_YEAR_RE = re.compile(r"(?:18|19|20)[0-9]{2}")


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
            f"{format_number(n_lines)} lignes."
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
    """Parse ``text`` (starting at the header) with pyarrow when the file is clean, else
    pandas, or ``csv`` on ragged rows."""
    parsed = _parse_csv_arrow(text, sep)
    if parsed is not None:
        header, body = parsed
        return header, body, header_line + 1 + np.arange(len(body)), []
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
            nrows=table_base.MAX_ROWS + 2,
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


def _parse_csv_arrow(text: str, sep: str) -> tuple[list[str], pd.DataFrame] | None:
    """Header and body of a clean table: no quote, every line as wide as the header.

    pyarrow's CSV reader splits such a file as pandas does, several times faster; any other
    file (quotes, ragged or blank lines) gives None and goes through the careful readers.
    """
    if '"' in text:
        return None
    width = text[: text.find("\n") if "\n" in text else len(text)].count(sep) + 1
    names = [str(i) for i in range(width)]
    try:
        table = pa_csv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pa_csv.ReadOptions(column_names=names),
            parse_options=pa_csv.ParseOptions(
                delimiter=sep, quote_char=False, newlines_in_values=False, ignore_empty_lines=False
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
            ),
        )
    except (pa.ArrowInvalid, UnicodeEncodeError):
        return None
    header = [table.column(i)[0].as_py() for i in range(width)]
    body = table.slice(1).to_pandas()
    body.columns = range(width)
    return header, body


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
