"""Oriented percentile ranks, weighted scores and priority ranks of the fragility analysis."""

from __future__ import annotations

import numpy as np
import pandas as pd

from territorial.analysis.presets import _TOLERANCE, N_PRIORITIES, FragilityError, _scope_error
from territorial.geo.geography import LEVEL_LABELS, LEVELS
from territorial.indicators.catalogue import Catalogue, load_catalogue  # noqa: F401 (doctests)

__all__ = ["oriented_percentiles", "percentile_ranks"]


# ---------------------------------------------------------------------------- percentiles
def percentile_ranks(values: pd.Series, groups: pd.Series | None = None) -> pd.Series:
    """Average-rank percentiles ``(rank - 0.5) / n * 100`` of the non-missing values.

    Ties share their average rank; ``n`` counts the non-missing values of the group (all
    values when ``groups`` is None). Missing values stay missing.

    >>> s = pd.Series([10.0, 20.0, 20.0, None, 5.0], index=list("abcde"))
    >>> percentile_ranks(s).tolist()
    [37.5, 75.0, 75.0, nan, 12.5]
    >>> percentile_ranks(s, pd.Series(list("xxyyy"), index=s.index)).tolist()
    [25.0, 75.0, 75.0, nan, 25.0]
    """
    values = values.astype(float)
    if groups is None:
        return (values.rank(method="average") - 0.5) / values.count() * 100
    keys = groups.reindex(values.index).astype(object).where(groups.notna(), "")
    grouped = values.groupby(keys.to_numpy())
    ranks = grouped.rank(method="average")
    counts = grouped.transform("count")
    return (ranks - 0.5) / counts * 100


def oriented_percentiles(
    values: pd.DataFrame, catalogue: Catalogue, groups: pd.Series | None = None
) -> pd.DataFrame:
    """Percentile rank of every column, turned so that 100 = most fragile.

    >>> cat = load_catalogue()
    >>> frame = pd.DataFrame({"densite": [1.0, 9.0], "age_moyen_maires": [50.0, 70.0]})
    >>> oriented_percentiles(frame, cat).to_dict("list")
    {'densite': [75.0, 25.0], 'age_moyen_maires': [25.0, 75.0]}
    """
    out = {}
    for column in values.columns:
        pct = percentile_ranks(values[column], groups)
        out[column] = 100 - pct if catalogue[column].polarity == "fragile_si_bas" else pct
    return pd.DataFrame(out, index=values.index)


# ---------------------------------------------------------------------------- score, ranks
def _scores(
    pct: pd.DataFrame, weights: pd.Series, max_missing: float, catalogue: Catalogue
) -> pd.DataFrame:
    """Score, weight coverage and the reason of a missing score, per unit."""
    present = pct.notna()
    w = weights.reindex(pct.columns).to_numpy()
    covered = present.to_numpy() @ w
    total = np.nan_to_num(pct.to_numpy()) @ w
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = total / covered
    scored = (covered > 0) & (1 - covered <= max_missing + _TOLERANCE)
    reasons = pd.Series("", index=pct.index, dtype=object)
    absent = ~present[~scored]
    for code, row in absent.iterrows():
        labels = [catalogue[c].label for c in row.index[row.to_numpy()]]
        reasons[code] = "Données manquantes : " + ", ".join(labels)
    return pd.DataFrame(
        {
            "score": pd.Series(np.where(scored, raw, np.nan), index=pct.index).round(1),
            "couverture": covered,
            "sans_score_raison": reasons.to_numpy(),
        },
        index=pct.index,
    )


def _ranks(score: pd.Series) -> pd.DataFrame:
    """Rank (descending score, ties by ascending code) and quintile class of each score.

    >>> _ranks(pd.Series([40.0, 80.0, 40.0, None], index=["b", "c", "a", "d"])).to_dict("list")
    {'rang': [3, 1, 2, None], 'classe': [2, 5, 2, None]}
    """
    order = (
        pd.DataFrame({"score": score.to_numpy(), "cle": score.index.astype(str)}, index=score.index)
        .dropna(subset=["score"])
        .sort_values(["score", "cle"], ascending=[False, True])
    )
    rank = pd.Series(np.arange(1, len(order) + 1), index=order.index)
    scored = score.dropna()
    share = (scored.rank(method="average") - 0.5) / max(len(scored), 1)
    classe = np.minimum(np.floor(share * 5).astype(int) + 1, 5)
    return pd.DataFrame(
        {
            "rang": rank.reindex(score.index).astype("Int64"),
            "classe": classe.reindex(score.index).astype("Int64"),
        },
        index=score.index,
    )


def _priority_ids(pct: pd.DataFrame, catalogue_order: list[str]) -> pd.DataFrame:
    """Up to three indicators per unit with the highest percentile above 50.

    Ties go to the indicator that comes first in the catalogue.

    >>> pct = pd.DataFrame({"b": [90.0, 10.0], "a": [90.0, 20.0], "c": [60.0, None]})
    >>> _priority_ids(pct, ["a", "b", "c"]).to_dict("list")
    {'priorite_1': ['a', ''], 'priorite_2': ['b', ''], 'priorite_3': ['c', '']}
    """
    columns = sorted(pct.columns, key=catalogue_order.index)
    matrix = pct[columns].to_numpy(dtype=float)
    filled = np.where(np.isnan(matrix), -np.inf, matrix)
    order = np.argsort(-filled, axis=1, kind="stable")[:, :N_PRIORITIES]
    out = {}
    for k in range(N_PRIORITIES):
        if k >= order.shape[1]:
            out[f"priorite_{k + 1}"] = [""] * len(pct)
            continue
        picked = np.take_along_axis(filled, order[:, [k]], axis=1)[:, 0]
        names = np.array(columns, dtype=object)[order[:, k]]
        out[f"priorite_{k + 1}"] = np.where(picked > 50, names, "").tolist()
    return pd.DataFrame(out, index=pct.index)


# ---------------------------------------------------------------------------- territories
def _units(geo, level: str, scope: str) -> pd.DataFrame:
    """Code-indexed ``nom`` and ``region`` of the units of ``level`` within ``scope``."""
    if level not in LEVELS:
        names = ", ".join(LEVELS)
        raise FragilityError(f"Niveau inconnu : « {level} ». Niveaux possibles : {names}.")
    try:
        table = geo.table(level, scope)
    except (KeyError, ValueError) as error:
        raise FragilityError(_scope_error(scope, error)) from None
    frame = pd.DataFrame(
        {
            "nom": table["nom"].to_numpy(),
            "region": (table["region"] if "region" in table else table["code"]).to_numpy(),
        },
        index=pd.Index(table["code"].astype(str).to_numpy(), name="code"),
    )
    if frame.empty:
        raise FragilityError(
            f"Aucun territoire du niveau « {LEVEL_LABELS[level]} » dans le périmètre « {scope} »."
        )
    return frame
