"""The one-pass column tests give exactly what the column-by-column ones give."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from territorial.indicators.cells import Cells
from territorial.indicators.columns import code_like_columns, parse_number_columns
from territorial.indicators.numeric import looks_like_codes, parse_numbers

CELLS = [
    "",
    " ",
    "0",
    "12",
    "-3",
    "+4",
    "01001",
    "2A004",
    "12.5",
    "12,5",
    "-0,25",
    "1.234",
    "1,234",
    "1.234.567",
    "1 234,5",
    "12,5 %",
    "1e5",
    "\u22123",
    "s",
    "ND",
    "n.d.",
    "abc",
    '="01001"',
    '="12"',
    " 7 ",
    "\u00a08",
    "9" * 400,
    ".5",
    "5.",
]


def _same(frame: pd.DataFrame) -> None:
    columns = list(frame.columns)
    numbers, reports = parse_number_columns(frame, columns)
    assert list(numbers) == columns
    for column in columns:
        expected, report = parse_numbers(frame[column])
        np.testing.assert_array_equal(numbers[column].to_numpy(), expected.to_numpy())
        assert numbers[column].index.equals(frame.index)
        assert reports[column] == report, column
    expected_codes = {c for c in columns if looks_like_codes(frame[c])}
    assert code_like_columns(frame, columns) == expected_codes
    # the same answers from cells built once for the whole table, read in another order
    cells = Cells(frame).stripped()
    shuffled = columns[::-1]
    numbers, reports = parse_number_columns(frame, shuffled, cells)
    for column in shuffled:
        expected, report = parse_numbers(frame[column])
        np.testing.assert_array_equal(numbers[column].to_numpy(), expected.to_numpy())
        assert reports[column] == report
    assert code_like_columns(frame, shuffled, cells) == expected_codes
    # cleaning each distinct value once gives the same cells
    by_value = Cells(frame).stripped(by_value=True)
    assert by_value.text.equals(cells.text) and by_value.n_unwrapped == cells.n_unwrapped
    assert (
        parse_number_columns(frame, columns, by_value)[1] == parse_number_columns(frame, columns)[1]
    )
    # a selection keeps the distinct values of the whole table, in its own cell order
    chosen = cells.select(shuffled)
    assert chosen.text.equals(Cells(frame[shuffled]).stripped().text)
    answers = chosen.per_value(lambda values: np.asarray(values.to_pylist(), dtype=object))
    assert answers.tolist() == chosen.text.to_pylist()


@settings(max_examples=150, deadline=None)
@given(
    st.integers(min_value=1, max_value=6).flatmap(
        lambda n_columns: st.lists(
            st.lists(st.sampled_from(CELLS), min_size=n_columns, max_size=n_columns),
            min_size=1,
            max_size=12,
        )
    )
)
def test_one_pass_equals_column_by_column(rows):
    frame = pd.DataFrame(rows, columns=[f"c{i}" for i in range(len(rows[0]))], dtype="str")
    frame.index = pd.Index(np.arange(2, len(frame) + 2), name="ligne")
    _same(frame)


def test_plain_columns_with_secrets_and_blanks():
    frame = pd.DataFrame(
        {
            "entiers": ["1", "2", "s", ""],
            "virgules": ["1,5", "2", "", "-3,25"],
            "points": ["1.5", "nd", "2", "3"],
            "melange": ["1.5", "2,5", "3", "4"],  # both separators: the full parser decides
            "texte": ["a", "1", "2", "3"],
            "vide": ["", "", "", ""],
        },
        dtype="str",
    )
    _same(frame)
    numbers, reports = parse_number_columns(frame, list(frame.columns))
    assert numbers["virgules"].tolist()[:2] == [1.5, 2.0]
    assert reports["entiers"].n_secret == 1 and reports["entiers"].n_empty == 1
    assert reports["texte"].n_invalid == 1


def test_no_columns_or_no_rows():
    assert parse_number_columns(pd.DataFrame({"a": pd.Series([], dtype="str")}), ["a"])[0][
        "a"
    ].empty
    assert code_like_columns(pd.DataFrame({"a": ["01"]}), []) == set()
