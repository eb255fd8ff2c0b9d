"""Aggregation of additive components from child units to parents, on integer group labels.

A :class:`Grouping` says which parent group each child row belongs to (as positions sorted
by group); :func:`aggregate` then sums, counts, and takes minima and maxima of every column
at once with numpy's ``reduceat``, instead of one pandas ``groupby`` per kind of column.
Groupings depend only on the geography (and on the rows of a table), so the store builds
them once and reuses them for every table and level.

Examples
--------
>>> components = pd.DataFrame(
...     {"a": [1.0, np.nan, 3.0], "b__max": [2.0, 5.0, 1.0]}, index=["c1", "c2", "c3"]
... )
>>> parents = pd.Series(["P", "Q", "P"], index=components.index)
>>> grouping = Grouping.from_mapping(components.index, parents)
>>> aggregate(components, grouping).to_dict("index")["Q"]
{'a': nan, 'a__n': 0, 'b__max': 5.0, 'n_membres': 1}
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Grouping", "Prepared", "aggregate", "aggregate_with_groupby"]


@dataclass(frozen=True)
class Grouping:
    """Child rows gathered by parent: ``order`` (row positions, group after group, in row
    order within a group), ``starts`` (first position of each group in ``order``) and
    ``codes`` (the parent code of each group, sorted). Rows without a parent are left out.
    """

    order: np.ndarray
    starts: np.ndarray
    codes: pd.Index

    @classmethod
    def from_labels(cls, labels: np.ndarray, uniques: pd.Index) -> Grouping:
        """From the position of each row's parent in sorted ``uniques`` (-1: no parent)."""
        labels = np.asarray(labels, dtype=np.int64)
        kept = np.flatnonzero(labels >= 0)
        order = kept[np.argsort(labels[kept], kind="stable")]
        ordered = labels[order]
        if len(ordered):
            starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        else:
            starts = np.zeros(0, dtype=np.int64)
        return cls(order, starts, pd.Index(uniques).take(ordered[starts]))

    @classmethod
    def from_mapping(cls, index: pd.Index, mapping: pd.Series) -> Grouping:
        """Rows of ``index`` grouped by their parent in ``mapping`` (child code → parent)."""
        labels, uniques = pd.factorize(mapping.reindex(index), sort=True)
        return cls.from_labels(labels, pd.Index(uniques))


def aggregate(components: pd.DataFrame, grouping: Grouping) -> pd.DataFrame:
    """:func:`aggregate_with_groupby` of ``components`` (same columns, dtypes and index).

    Additive components are summed (a parent whose members all miss a value stays
    missing, never zero); ``__min`` / ``__max`` take the min / max; ``<component>__n``
    counts the members with a value, ``n_membres`` the members. Float sums may differ from
    pandas' (compensated) sums in the last bits; integer columns are exact.
    """
    return Prepared(components).aggregate(grouping)


class Prepared:
    """Components as numpy blocks, one row per column, ready to aggregate to any level.

    What does not depend on the grouping (column kinds, dtypes, missing cells) is done
    once, so a table aggregated to several levels pays it once.
    """

    def __init__(self, components: pd.DataFrame):
        self.components = components
        names = list(components.columns)
        dtypes = list(components.dtypes)
        self.numeric = (
            all(d in (np.float64, np.int64) for d in dtypes)
            and all(isinstance(c, str) for c in names)
            and len(set(names)) == len(names)
        )
        if not self.numeric:  # the groupby handles any other table
            return
        position = {name: i for i, name in enumerate(names)}
        self.kinds = _kinds(names)
        integers = {n for n, d in zip(names, dtypes, strict=True) if d == np.int64}
        self.blocks = []  # (kind, dtype, names, values by column, present cells or None)
        for kind, columns in zip(("sum", "sum", "min", "max"), self.kinds, strict=True):
            for dtype in (np.int64, np.float64):
                chosen = [c for c in columns if (c in integers) == (dtype == np.int64)]
                if not chosen:
                    continue
                positions = [position[c] for c in chosen]
                block = components.iloc[:, positions].to_numpy(dtype=dtype).T
                block = np.ascontiguousarray(block)
                present = None
                if dtype == np.float64 and kind == "sum":
                    present = ~np.isnan(block)
                    block = np.where(present, block, 0.0)
                    present = present.view(np.int8)
                self.blocks.append((kind, dtype, chosen, block, present))
        self.new_counts = [c for c in self.kinds[0] if f"{c}__n" not in position]
        self.has_members = "n_membres" in names

    def aggregate(self, grouping: Grouping) -> pd.DataFrame:
        """The components summed (counted, min, max) within each group of ``grouping``."""
        if not self.numeric or not len(grouping.starts):
            return aggregate_with_groupby(self.components, grouping)
        order, starts = grouping.order, grouping.starts
        columns: dict[str, np.ndarray] = {}
        filled: dict[str, np.ndarray] = {}
        for kind, _dtype, names, block, present in self.blocks:
            rows = block.take(order, axis=1)
            if kind == "min":
                columns.update(zip(names, np.fmin.reduceat(rows, starts, axis=1), strict=True))
            elif kind == "max":
                columns.update(zip(names, np.fmax.reduceat(rows, starts, axis=1), strict=True))
            else:
                sums = np.add.reduceat(rows, starts, axis=1)
                if present is not None:
                    counts = np.add.reduceat(
                        present.take(order, axis=1), starts, axis=1, dtype=np.int64
                    )
                    sums[counts == 0] = np.nan  # min_count=1
                    filled.update(zip(names, counts, strict=True))
                columns.update(zip(names, sums, strict=True))
        sizes = np.diff(np.r_[starts, len(order)]).astype(np.int64)
        for name in self.new_counts:
            columns[f"{name}__n"] = filled.get(name, sizes)
        additive, counted, minima, maxima = self.kinds
        names = [*additive, *(f"{c}__n" for c in self.new_counts), *counted, *minima, *maxima]
        if not self.has_members:
            columns["n_membres"] = sizes
            names.append("n_membres")
        return _frame(columns, names, grouping.codes.rename("code"))


def _frame(columns: dict[str, np.ndarray], names: list[str], index: pd.Index) -> pd.DataFrame:
    """A table of same-length arrays built as one numpy block per dtype (a dict of sixty
    columns costs pandas a check and a copy per column)."""
    groups: dict[np.dtype, list[str]] = {}
    for name in names:
        groups.setdefault(columns[name].dtype, []).append(name)
    parts = [
        pd.DataFrame(np.vstack([columns[n] for n in group]).T, index=index, columns=group)
        for group in groups.values()
    ]
    frame = parts[0] if len(parts) == 1 else pd.concat(parts, axis=1)
    return frame if list(frame.columns) == names else frame[names]


def _kinds(columns: list[str]) -> tuple[list, list, list, list]:
    """Additive, counted (``__n``, ``n_membres``), ``__min`` and ``__max`` columns."""
    counted = [c for c in columns if c.endswith("__n") or c == "n_membres"]
    minima = [c for c in columns if c.endswith("__min")]
    maxima = [c for c in columns if c.endswith("__max")]
    additive = [c for c in columns if c not in {*counted, *minima, *maxima}]
    return additive, counted, minima, maxima


def aggregate_with_groupby(components: pd.DataFrame, grouping: Grouping) -> pd.DataFrame:
    """The same aggregation with pandas ``groupby`` (any dtype; the reference)."""
    labels = np.full(len(components), -1, dtype=np.int64)
    labels[grouping.order] = np.repeat(
        np.arange(len(grouping.starts)), np.diff(np.r_[grouping.starts, len(grouping.order)])
    )
    known = labels >= 0
    frame = components[known]
    parents = grouping.codes.take(labels[known]) if len(grouping.codes) else labels[known]
    groups = frame.groupby(np.asarray(parents))
    additive, counted, minima, maxima = _kinds(frame.columns)
    parts = [groups[additive].sum(min_count=1)]
    new_counts = [c for c in additive if f"{c}__n" not in frame.columns]
    if new_counts:
        parts.append(groups[new_counts].count().add_suffix("__n"))
    if counted:
        parts.append(groups[counted].sum(min_count=1))
    if minima:
        parts.append(groups[minima].min())
    if maxima:
        parts.append(groups[maxima].max())
    if "n_membres" not in frame.columns:
        parts.append(groups.size().rename("n_membres").to_frame())
    out = pd.concat(parts, axis=1)
    out.index.name = "code"
    return out.sort_index()
