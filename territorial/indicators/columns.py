"""Number and code tests of many columns in one vectorised pass (see :mod:`territorial.cells`).

:func:`parse_number_columns` gives, for each column, the same numbers and the same
:class:`~territorial.tables.NumberReport` as :func:`~territorial.tables.parse_numbers`:
columns of plain numbers (``12``, ``-3.5`` or ``-3,5``, secret markers, empty cells) are
read in the shared pass; any other column (thousands separators, percent signs, ``="12"``,
text) goes through :func:`~territorial.tables.parse_numbers` itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from territorial.indicators.cells import Cells
from territorial.indicators.numeric import NumberReport, parse_numbers
from territorial.indicators.table_base import SECRET_MARKERS

__all__ = ["code_like_columns", "parse_number_columns"]

_PLAIN = r"^[+-]?[0-9]+(?:[.,][0-9]+)?$"
_LEADING_ZERO_INT = r"^0[0-9]+$"


def parse_number_columns(
    frame: pd.DataFrame, columns: list[str], cells: Cells | None = None
) -> tuple[dict[str, pd.Series], dict[str, NumberReport]]:
    """:func:`~territorial.tables.parse_numbers` of each column, in one pass for most.

    Parameters
    ----------
    frame : pandas.DataFrame
        Text cells (as read by :func:`~territorial.tables.read_table`).
    columns : list of str
        The columns to read.
    cells : Cells, optional
        The stripped cells of ``frame`` (of at least ``columns``), when already built.

    Returns
    -------
    numbers : dict of str to pandas.Series
        Floats of each column, NaN for secret, empty and invalid cells.
    reports : dict of str to NumberReport
        The counts of each column, as :func:`~territorial.tables.parse_numbers` gives them.

    Examples
    --------
    >>> frame = pd.DataFrame({"a": ["1", "2,5", "s"], "b": ["1 234", "x", ""]})
    >>> numbers, reports = parse_number_columns(frame, ["a", "b"])
    >>> numbers["a"].tolist()[:2], reports["a"].n_secret, reports["b"].n_invalid
    ([1.0, 2.5], 1, 1)
    """
    if not columns or frame.empty:
        return _one_by_one(frame, columns)
    cells = _cells(frame, columns, cells)
    text = cells.text
    empty = cells.empty()
    plain = cells.per_value(lambda values: pc.match_substring_regex(values, _PLAIN))
    secret = _secret(text, ~plain & ~empty)
    dotted = plain & cells.per_value(lambda values: pc.match_substring(values, "."))
    commas = plain & cells.per_value(lambda values: pc.match_substring(values, ","))
    n_other = cells.count(~plain & ~empty & ~secret)
    n_dotted, n_commas = cells.count(dotted), cells.count(commas)
    n_plain = cells.count(plain)
    fast = (n_other == 0) & (n_plain > 0) & ~((n_dotted > 0) & (n_commas > 0))
    floats = cells.per_value(_plain_floats)
    floats[~(plain & np.repeat(fast, cells.n_rows))] = np.nan
    numbers, reports = {}, {}
    slow = []
    for position, column in enumerate(columns):
        values = cells.column(floats, position)
        if not fast[position] or not np.isfinite(values[cells.column(plain, position)]).all():
            slow.append(column)
            continue
        numbers[column] = pd.Series(values, index=frame.index, dtype="float64", name=column)
        n_secret = int(cells.column(secret, position).sum())
        n_empty = int(cells.column(empty, position).sum())
        reports[column] = NumberReport(
            n_values=cells.n_rows,
            n_numeric=int(n_plain[position]),
            n_secret=n_secret,
            n_empty=n_empty,
        )
    more_numbers, more_reports = _one_by_one(frame, slow)
    numbers.update(more_numbers)
    reports.update(more_reports)
    return {c: numbers[c] for c in columns}, {c: reports[c] for c in columns}


def _one_by_one(frame: pd.DataFrame, columns: list[str]):
    numbers, reports = {}, {}
    for column in columns:
        numbers[column], reports[column] = parse_numbers(frame[column])
    return numbers, reports


def _secret(text: pa.Array, candidates: np.ndarray) -> np.ndarray:
    """Secret markers (``s``, ``nd``…, any case) among the ``candidates`` cells."""
    secret = np.zeros(len(text), dtype=bool)
    positions = np.flatnonzero(candidates)
    if len(positions):
        lower = pc.utf8_lower(pc.take(text, pa.array(positions)))
        markers = pa.array(sorted(SECRET_MARKERS), type=pa.large_string())
        secret[positions] = np.asarray(pc.is_in(lower, value_set=markers), dtype=bool)
    return secret


def _plain_floats(values: pa.Array) -> np.ndarray:
    """Floats of the plain ``values`` (a decimal comma read as a dot), else NaN."""
    plain = pc.fill_null(pc.match_substring_regex(values, _PLAIN), False)
    chosen = pc.if_else(plain, _commas_to_dots(values), pa.scalar(None, values.type))
    floats = pc.cast(chosen, pa.float64()).to_numpy(zero_copy_only=False)
    return floats.astype("float64", copy=False)


def _commas_to_dots(text: pa.Array) -> pa.Array:
    """``pc.replace_substring(text, ",", ".")`` on the bytes: both are one byte in UTF-8
    (never part of a longer character), so only the data buffer changes, not the offsets."""
    text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    validity, offsets, data = text.buffers()
    if data is None:
        return text
    swapped = np.frombuffer(data, dtype=np.uint8).copy()
    swapped[swapped == ord(",")] = ord(".")
    buffers = [validity, offsets, pa.py_buffer(swapped)]
    return pa.Array.from_buffers(text.type, len(text), buffers, text.null_count, text.offset)


def _cells(frame: pd.DataFrame, columns: list[str], cells: Cells | None) -> Cells:
    return Cells(frame, columns).stripped() if cells is None else cells.select(columns)


def code_like_columns(
    frame: pd.DataFrame, columns: list[str], cells: Cells | None = None
) -> set[str]:
    """Columns where some cell is an integer written with a leading zero (``01001``).

    The same test as :func:`~territorial.tables.looks_like_codes`, for many columns at once.

    Examples
    --------
    >>> frame = pd.DataFrame({"code": ["01001", "75056"], "part": ["0,5", "1"]})
    >>> sorted(code_like_columns(frame, ["code", "part"]))
    ['code']
    """
    if not columns or frame.empty:
        return set()
    cells = _cells(frame, columns, cells)
    coded = cells.per_value(lambda values: pc.match_substring_regex(values, _LEADING_ZERO_INT))
    hits = cells.count(coded)
    return {column for column, n in zip(columns, hits, strict=True) if n}
