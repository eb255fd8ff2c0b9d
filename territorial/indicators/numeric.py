"""Numbers written the French or the English way (``1 234,5``, ``1,234.5``, ``12 %``) read into floats, with a report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from territorial.indicators.table_base import _SPACES, SECRET_MARKERS

if TYPE_CHECKING:
    from territorial.indicators.table_base import RawTable

__all__ = ["NumberReport", "looks_like_codes", "numeric_columns", "parse_numbers"]


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
    import pyarrow as pa
    import pyarrow.compute as pc

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
    >>> from territorial.indicators.tables import read_table
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
