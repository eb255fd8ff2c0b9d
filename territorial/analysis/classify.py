"""Classification of indicator values into map classes.

Examples
--------
>>> import pandas as pd
>>> result = classify(pd.Series([1, 2, 3, 4, 5, 6, 7, 8, 9, 10.0]), "quantiles", k=5)
>>> result.counts
[2, 2, 2, 2, 2]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "METHODS",
    "Classification",
    "classify",
    "classify_categories",
    "difference_unit",
    "display_decimals",
]

METHODS = {
    "quantiles": "Quantiles (effectifs égaux)",
    "jenks": "Seuils naturels (Jenks)",
    "egal": "Intervalles égaux",
    "manuel": "Seuils personnalisés",
}


@dataclass
class Classification:
    """Class of each value (``-1`` when missing), class bounds and counts."""

    method: str
    bins: list[float]  # upper bound of each class
    lower: float
    classes: pd.Series
    counts: list[int]
    requested: int | None = None  # classes asked for
    distinct: int | None = None  # distinct values classified
    lows: list[float] | None = None  # smallest value of each class, when the legend shows them

    @property
    def k(self) -> int:
        return len(self.bins)

    def ranges(self) -> list[tuple[float, float]]:
        """(low, high) of each class."""
        if not self.bins:  # no value to classify
            return []
        lows = self.lows if self.lows is not None else [self.lower, *self.bins[:-1]]
        return list(zip(lows, self.bins, strict=True))

    @property
    def shortfall(self) -> str | None:
        """Why fewer classes than asked were drawn, in French (``None`` when none is missing).

        >>> classify(pd.Series([0.0, 100.0, 0.0, 100.0]), k=5).shortfall
        "5 classes demandées, 2 possibles : l'indicateur ne prend que 2 valeurs distinctes \
(une classe par valeur)."
        """
        if self.requested is None or self.k >= self.requested or self.method == "manuel":
            return None
        asked = f"{self.requested} classes demandées, {self.k} possible{'s' * (self.k > 1)} : "
        if self.distinct is not None and self.distinct <= self.requested:
            plural = "s" * (self.distinct > 1)
            return (
                asked + f"l'indicateur ne prend que {self.distinct} valeur{plural} "
                f"distincte{plural} (une classe par valeur)."
            )
        return asked + (
            "beaucoup de territoires ont la même valeur, si bien que plusieurs seuils se confondent."
        )


def classify(
    values: pd.Series, method: str = "quantiles", k: int = 5, breaks: list[float] | None = None
) -> Classification:
    """Classify ``values``; ``breaks`` are the user's own upper bounds for ``"manuel"``."""
    present = values.dropna().astype(float)
    if present.empty:
        return Classification(method, [], np.nan, pd.Series(-1, index=values.index), [])
    requested, distinct = k, int(present.nunique())
    if method != "manuel" and distinct <= k:  # few values: one class per value
        bins = sorted(float(v) for v in present.unique())
        return _assign(values, present, method, bins, bins, requested, distinct)
    if method == "manuel":
        if not breaks:
            raise ValueError("Indiquez au moins un seuil.")
        bins = sorted({float(b) for b in breaks if b < present.max()} | {float(present.max())})
    elif method == "jenks" and k > 1:
        import mapclassify

        bins = list(mapclassify.NaturalBreaks(present.to_numpy(), k=k).bins)
    elif method == "egal":
        bins = list(np.linspace(present.min(), present.max(), k + 1)[1:])
    else:
        bins = sorted(set(np.quantile(present.to_numpy(), np.linspace(0, 1, k + 1)[1:])))
    result = _assign(values, present, method, bins, None, requested, distinct)
    if method != "manuel" and (present == present.round()).all() and all(result.counts):
        # whole numbers (counts): each class from its smallest to its largest value
        grouped = present.groupby(result.classes[present.index])
        result.lows = [float(v) for v in grouped.min()]
        result.bins = [float(v) for v in grouped.max()]
    return result


def _assign(values, present, method, bins, lows, requested, distinct) -> Classification:
    edges = np.asarray(bins, dtype=float)
    index = np.searchsorted(edges, present.to_numpy(), side="left")
    classes = pd.Series(-1, index=values.index, dtype=int)
    classes[present.index] = np.minimum(index, len(edges) - 1)
    counts = [int((classes == i).sum()) for i in range(len(edges))]
    bins = [float(b) for b in bins]
    lower = float(present.min())
    return Classification(method, bins, lower, classes, counts, requested, distinct, lows)


def display_decimals(values: pd.Series, decimals: int) -> int:
    """No decimals for whole numbers (counts from a user's table), else ``decimals``.

    >>> display_decimals(pd.Series([1.0, 3.0, None]), 2), display_decimals(pd.Series([1.5]), 2)
    (0, 2)
    """
    present = values.dropna()
    return 0 if len(present) and (present == present.round()).all() else decimals


def difference_unit(unit: str) -> str:
    """Unit of a difference: a gap between two percentages is in points.

    >>> difference_unit("%"), difference_unit("%/an"), difference_unit("hab./km²")
    ('pts', 'pts/an', 'hab./km²')
    """
    return "pts" + unit[1:] if unit.startswith("%") else unit


def classify_categories(values: pd.Series, n: int) -> Classification:
    """One class per category of a typology: values are positions 1..``n`` (missing: -1).

    >>> result = classify_categories(pd.Series([2.0, 1.0, None, 2.0]), 3)
    >>> result.classes.tolist(), result.counts
    ([1, 0, -1, 1], [1, 2, 0])
    """
    present = values.dropna().astype(int)
    classes = pd.Series(-1, index=values.index, dtype=int)
    classes[present.index] = present.to_numpy() - 1
    counts = [int((classes == i).sum()) for i in range(n)]
    bins = [float(i) for i in range(1, n + 1)]
    return Classification("categories", bins, 1.0, classes, counts)
