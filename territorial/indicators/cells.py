"""All the cells of a table as one Arrow string array: one vectorised pass per test.

A table of 1 000 columns handled column by column pays a fixed cost per column (each
pandas string operation has its own overhead): 20 ms × 1 000 columns is 20 s before any
real work. :class:`Cells` puts every cell of the chosen columns, column after column, in
one Arrow array, so each test runs once and costs in proportion to the number of cells;
:meth:`Cells.count` splits a per-cell answer by column, :meth:`Cells.to_frame` rebuilds
the table.

Examples
--------
>>> frame = pd.DataFrame({"a": [" 1", '="01"'], "b": ["x ", ""]})
>>> cells = Cells(frame).stripped()
>>> cells.to_frame().to_dict("list"), cells.n_unwrapped
({'a': ['1', '01'], 'b': ['x', '']}, 1)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["Cells"]

_WRAPPED = r'(?s)^="(.*)"$'


class Cells:
    """The cells of ``columns`` (default: all) of ``frame``, missing cells as ``""``."""

    def __init__(self, frame: pd.DataFrame, columns: list | None = None):
        self.columns = list(frame.columns if columns is None else columns)
        self.index = frame.index
        self.n_rows = len(frame)
        chunks = []
        for column in self.columns:
            values = frame[column]
            if values.dtype != "str":
                values = values.astype("str")
            array = pa.array(values.array)  # a ChunkedArray for Arrow-backed columns
            chunks.extend(array.chunks if isinstance(array, pa.ChunkedArray) else [array])
        flat = pa.chunked_array(
            [c.cast(pa.large_string()) for c in chunks], type=pa.large_string()
        ).combine_chunks()
        self.text = pc.fill_null(flat, "")
        self.starts = np.arange(len(self.columns), dtype=np.int64) * self.n_rows
        self.n_unwrapped = 0
        self._encoded: tuple[pa.Array, np.ndarray] | None = None

    def stripped(self, by_value: bool = False) -> Cells:
        """Cells stripped of surrounding spaces, Excel-protected codes (``="01"``) unwrapped.

        ``by_value`` cleans each distinct value once (see :meth:`per_value`), and keeps
        the text untouched when no value changes: for a table already cleaned on reading
        that is about to be tested value by value anyway.
        """
        if not by_value:
            self.text, wrapped = _strip(self.text)
            self.n_unwrapped = int(np.count_nonzero(wrapped))
            self._encoded = None
            return self
        dictionary, indices = self._encode()
        clean, wrapped = _strip(dictionary)
        self.n_unwrapped = int(np.count_nonzero(wrapped[indices]))
        if not clean.equals(dictionary):  # the same positions: the encoding still holds
            self.text = clean.take(pa.array(indices))
            self._encoded = (clean, indices)
        return self

    def select(self, columns: list) -> Cells:
        """The cells of some of the columns (in the order given)."""
        position = {c: i for i, c in enumerate(self.columns)}
        n = self.n_rows
        chosen = object.__new__(Cells)
        chosen.columns = list(columns)
        chosen.index, chosen.n_rows, chosen.n_unwrapped = self.index, n, self.n_unwrapped
        slices = [self.text.slice(position[c] * n, n) for c in columns]
        chosen.text = pa.concat_arrays(slices) if slices else pa.array([], pa.large_string())
        chosen.starts = np.arange(len(columns), dtype=np.int64) * n
        dictionary, indices = self._encode()  # once for the table, whatever the selections
        parts = [indices[position[c] * n : (position[c] + 1) * n] for c in columns]
        chosen._encoded = (dictionary, np.concatenate(parts) if parts else indices[:0])
        return chosen

    def _encode(self) -> tuple[pa.Array, np.ndarray]:
        """The distinct values of the cells and, per cell, the position of its value."""
        if self._encoded is None:
            encoded = pc.dictionary_encode(self.text)
            self._encoded = (encoded.dictionary, encoded.indices.to_numpy())
        return self._encoded

    def per_value(self, test) -> np.ndarray:
        """``test`` of every cell, run once per distinct value.

        ``test`` takes an Arrow string array and gives one answer per string (an Arrow
        array, null read as false for booleans, or a numpy array). Tables repeat values
        (counts, rates with two decimals): 700,000 cells often hold under 10,000 values.
        """
        dictionary, indices = self._encode()
        answers = test(dictionary)
        if isinstance(answers, (pa.Array, pa.ChunkedArray)):
            if pa.types.is_boolean(answers.type):
                answers = pc.fill_null(answers, False)
            answers = answers.to_numpy(zero_copy_only=False)
        return np.asarray(answers)[indices]

    def mask(self, arrow_mask) -> np.ndarray:
        """A per-cell Arrow boolean answer as a numpy array (null is false)."""
        return np.asarray(pc.fill_null(arrow_mask, False), dtype=bool)

    def empty(self) -> np.ndarray:
        return self.mask(pc.equal(pc.binary_length(self.text), 0))

    def count(self, mask: np.ndarray) -> np.ndarray:
        """Number of true cells of ``mask`` in each column."""
        if not self.n_rows:
            return np.zeros(len(self.columns), dtype=np.int64)
        return np.add.reduceat(mask.astype(np.int64), self.starts)

    def column(self, values: np.ndarray, position: int) -> np.ndarray:
        """The cells of the column at ``position`` in a per-cell array."""
        start = position * self.n_rows
        return values[start : start + self.n_rows]

    def to_frame(self) -> pd.DataFrame:
        """The cells as a table of ``str`` columns, with the original index and names."""
        n = self.n_rows
        table = pa.table({str(i): self.text.slice(i * n, n) for i in range(len(self.columns))})
        frame = table.to_pandas()
        frame.columns = self.columns
        frame.index = self.index
        return frame


def _strip(text: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """``text`` stripped of surrounding spaces, ``="…"`` unwrapped; which were unwrapped."""
    text = pc.utf8_trim_whitespace(text)
    wrapped = np.asarray(pc.fill_null(pc.starts_with(text, '="'), False), dtype=bool)
    if wrapped.any():  # the cheap first pass found candidates
        full = pc.fill_null(pc.match_substring_regex(text, _WRAPPED), False)
        wrapped &= np.asarray(full, dtype=bool)
    if wrapped.any():
        inner = pc.utf8_trim_whitespace(pc.replace_substring_regex(text, _WRAPPED, r"\1"))
        text = pc.if_else(pa.array(wrapped), inner, text)
    return text, wrapped
