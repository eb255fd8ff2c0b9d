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

__all__ = ["METHODS", "Classification", "classify", "classify_categories"]

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

    @property
    def k(self) -> int:
        return len(self.bins)

    def ranges(self) -> list[tuple[float, float]]:
        """(low, high) of each class."""
        if not self.bins:  # no value to classify
            return []
        lows = [self.lower, *self.bins[:-1]]
        return list(zip(lows, self.bins, strict=True))


def classify(
    values: pd.Series, method: str = "quantiles", k: int = 5, breaks: list[float] | None = None
) -> Classification:
    """Classify ``values``; ``breaks`` are the user's own upper bounds for ``"manuel"``."""
    present = values.dropna().astype(float)
    if present.empty:
        return Classification(method, [], np.nan, pd.Series(-1, index=values.index), [])
    k = max(1, min(k, present.nunique()))
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
    edges = np.asarray(bins, dtype=float)
    index = np.searchsorted(edges, present.to_numpy(), side="left")
    classes = pd.Series(-1, index=values.index, dtype=int)
    classes[present.index] = np.minimum(index, len(edges) - 1)
    counts = [int((classes == i).sum()) for i in range(len(edges))]
    return Classification(method, [float(b) for b in bins], float(present.min()), classes, counts)


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
