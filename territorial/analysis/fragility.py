"""Priority territorial fragilities: a transparent composite score from percentile ranks.

The PHARE programme "qualified the priority territorial fragilities of each territory",
starting from "the first kilometre of needs". This module does the same with the
indicators of the store, in a way every user can re-compute by hand:

1. each chosen indicator gets a percentile rank among the units of the scope (or of the
   unit's région), ``(average rank - 0.5) / n * 100``, turned so that 100 = most fragile
   (``100 - percentile`` for indicators that are fragile when *low*);
2. the score is the weighted mean of the percentiles a unit has, the weights being
   renormalised over the indicators present; a unit missing more than ``max_missing``
   of the weight gets no score;
3. units are ranked by descending score (rounded to 0.1), ties by ascending code, and put
   in quintile classes (5 = most fragile);
4. each unit's priorities are its (at most) three indicators with the highest percentile,
   when that percentile is above the median.

Examples
--------
>>> from territorial.analysis.presets import PRESETS
>>> from territorial.analysis.scoring import percentile_ranks
>>> percentile_ranks(pd.Series([3.0, 1.0, 2.0, 2.0], index=list("abcd"))).tolist()
[87.5, 12.5, 50.0, 50.0]
>>> "Vue d'ensemble" in PRESETS
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from territorial.analysis.fragility_text import (
    _Context,
    _method_note,
    _population_phrase,
    _priorities,
    _priority_labels,
    _reference_values,
    _scope_label,
)
from territorial.analysis.presets import (
    CLASS_LABELS,
    DEFAULT_MAX_MISSING,
    FragilityError,
    _selection,
)
from territorial.analysis.scoring import (
    _priority_ids,
    _ranks,
    _scores,
    _units,
    oriented_percentiles,
)
from territorial.indicators.catalogue import Catalogue, load_catalogue  # noqa: F401 (doctests)
from territorial.text.formatting import format_rank

__all__ = ["FragilityResult", "fragility"]


"""Indicators of the default preset: income, poverty, employment, demography, housing,
economic activity and isolation, one or two per theme (governance is left out)."""


# ---------------------------------------------------------------------------- result
@dataclass
class FragilityResult:
    """Scores, ranks, classes and priorities of every unit, with the method used.

    Attributes
    ----------
    level, scope, reference : str
        The request; ``reference`` is ``"france"`` or ``"region"``.
    indicators : list of str
        Indicator ids actually used (those without any value in the scope are dropped and
        named in ``notes``).
    weights : dict
        Normalised weights (they sum to 1).
    table : pandas.DataFrame
        Indexed by code, sorted by rank (units without a score last, by code): ``nom``,
        ``score``, ``rang``, ``rang_texte``, ``classe``, ``classe_libelle``,
        ``couverture``, ``sans_score_raison``, ``priorite_1..3``, ``priorites_texte``
        and one ``pct__<id>`` column per indicator (100 = most fragile).
    priorities : dict
        Code → up to three dicts (``indicator``, ``libelle``, ``unite``, ``valeur``,
        ``percentile``, ``reference_region``, ``reference_france``, ``ecart_texte``).
    coverage : dict
        ``n_territoires``, ``n_scores``, ``n_sans_score``, ``par_indicateur`` (share of
        units with data), ``remarques``.
    method_note : str
        Plain French account of the computation.

    Examples
    --------
    >>> from territorial import load_geography
    >>> from territorial.indicators.store import IndicatorStore
    >>> result = fragility(IndicatorStore(load_geography()), "region", indicators=["densite"])
    >>> result.to_dict()["table"][0]["rang_texte"]
    '1er / 13'
    """

    level: str
    scope: str
    reference: str
    indicators: list[str]
    weights: dict[str, float]
    table: pd.DataFrame
    priorities: dict[str, list[dict]]
    coverage: dict
    method_note: str
    preset: str | None = None
    notes: list[str] = field(default_factory=list)
    scope_label: str = ""

    def to_dict(self) -> dict:
        """JSON-safe content (missing values as ``None``)."""
        records = [
            {"code": code, **{k: _json_value(v) for k, v in row.items()}}
            for code, row in zip(self.table.index, self.table.to_dict("records"), strict=True)
        ]
        return {
            "niveau": self.level,
            "perimetre": self.scope,
            "perimetre_libelle": self.scope_label,
            "reference": self.reference,
            "jeu": self.preset,
            "indicateurs": list(self.indicators),
            "poids": {k: float(v) for k, v in self.weights.items()},
            "table": records,
            "priorites": self.priorities,
            "couverture": self.coverage,
            "methode": self.method_note,
            "remarques": list(self.notes),
        }


def _json_value(value):
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    return value


def _check_request(level: str, reference: str, max_missing: float) -> None:
    if reference not in {"france", "region"}:
        raise FragilityError(f"Référence inconnue : « {reference} » (france ou region).")
    if reference == "region" and level == "region":
        raise FragilityError(
            "La référence régionale n'a pas de sens au niveau des régions : choisissez « france »."
        )
    if not 0 <= max_missing < 1:
        raise FragilityError("La part de données manquantes tolérée doit être entre 0 et 1.")


def _drop_empty(values: pd.DataFrame, ids: list[str], catalogue) -> tuple[list[str], list[str]]:
    """Indicators with at least one value, and French notes about the others."""
    kept = [i for i in ids if values[i].notna().any()]
    notes = [
        f"Écarté : « {catalogue[i].label} » n'a aucune valeur à ce niveau dans ce périmètre."
        for i in ids
        if i not in kept
    ]
    if not kept:
        raise FragilityError(
            "Aucun des indicateurs choisis n'a de valeur à ce niveau dans ce périmètre."
        )
    return kept, notes


def _drop_commune_extremes(ids: list[str], level: str, catalogue) -> tuple[list[str], list[str]]:
    """At commune level, drop a min / max indicator whose base is also chosen.

    A commune's « distance maximale » is its own distance: scoring both would count the
    same fact twice. Above the commune level the two differ and both are kept.
    """
    if level != "commune":
        return ids, []
    twins = {
        i: catalogue[i].component
        for i in ids
        if i in catalogue and catalogue[i].rule in {"min", "max"} and catalogue[i].component in ids
    }
    notes = [
        f"Écarté : à l'échelle des communes, « {catalogue[i].label} » est la valeur même de "
        f"« {catalogue[base].label} », déjà comptée."
        for i, base in twins.items()
    ]
    return [i for i in ids if i not in twins], notes


def fragility(
    store,
    level: str,
    scope: str = "metropole",
    indicators: Sequence[str] | None = None,
    weights: Sequence[float] | Mapping[str, float] | None = None,
    reference: str = "france",
    max_missing: float = DEFAULT_MAX_MISSING,
    preset: str | None = None,
) -> FragilityResult:
    """Score, rank and explain the fragility of every unit of ``level`` within ``scope``.

    Parameters
    ----------
    store : IndicatorStore
        Anything with ``values(level, scope)``, ``catalogue`` and ``geo.table(level, scope)``.
    level : str
        ``"region"``, ``"departement"``, ``"perimetre"``, ``"epci"`` or ``"commune"``.
    scope : str
        ``"metropole"``, ``"france"``, ``"region:84"``, ``"departement:42"``.
    indicators, weights : optional
        Indicator ids and their weights (a sequence aligned with ``indicators`` or a
        mapping; equal weights by default). Without ``indicators``, the ``preset`` (by
        default "Vue d'ensemble") gives them.
    reference : str
        ``"france"`` (percentiles among all units of the scope) or ``"region"`` (among
        the units of each unit's région).
    max_missing : float
        Largest share of the weight a unit may miss and still get a score.

    Returns
    -------
    FragilityResult

    Raises
    ------
    FragilityError
        With a French message, for any bad request.

    Examples
    --------
    >>> from territorial import load_geography
    >>> from territorial.indicators.store import IndicatorStore
    >>> store = IndicatorStore(load_geography())
    >>> result = fragility(store, "departement", preset="Gouvernance locale")
    >>> len(result.table), int(result.table["rang"].iloc[0])
    (96, 1)
    >>> result.table["rang_texte"].iloc[0]
    '1er / 96'
    """
    _check_request(level, reference, max_missing)
    catalogue = store.catalogue
    requested, raw_weights, preset_name = _selection(catalogue, indicators, weights, preset)
    units = _units(store.geo, level, scope)
    values = store.values(level, scope).reindex(index=units.index, columns=requested)
    ids, notes = _drop_empty(values, requested, catalogue)
    ids, twin_notes = _drop_commune_extremes(ids, level, catalogue)
    notes += twin_notes
    values = values[ids]
    kept = pd.Series(dict(zip(requested, raw_weights, strict=True))).reindex(ids)
    shares = kept / kept.sum()
    pct = oriented_percentiles(
        values, catalogue, units["region"] if reference == "region" else None
    )
    table = _assemble(units, _scores(pct, shares, max_missing, catalogue), pct, catalogue)
    region_refs, france_refs = _reference_values(store, level, units, ids)
    region_names = _region_names(store.geo)
    ctx = _Context(
        catalogue=catalogue,
        position={code: row for row, code in enumerate(units.index)},
        values={i: values[i].to_numpy(dtype=float) for i in ids},
        pct={i: pct[i].to_numpy(dtype=float) for i in ids},
        region_refs=region_refs,
        france_refs=france_refs,
        region_labels=units["region"].map(region_names).fillna("").to_numpy(),
        reference=reference,
        phrase=_population_phrase(level, scope, reference),
        estimated={
            i: {lvl for lvl in ("region", "france") if store.is_estimate(i, lvl)} for i in ids
        },
    )
    scope_label = _scope_label(store.geo, scope)
    note = _method_note(
        level,
        scope_label,
        reference,
        ids,
        shares,
        max_missing,
        catalogue,
        notes,
        len(units),
    )
    return FragilityResult(
        level=level,
        scope=scope,
        reference=reference,
        indicators=ids,
        weights={i: float(shares[i]) for i in ids},
        table=table,
        priorities=_priorities(ctx, table),
        coverage=_coverage(table, values, notes),
        method_note=note,
        preset=preset_name,
        notes=notes,
        scope_label=scope_label,
    )


def _region_names(geo) -> dict[str, str]:
    try:
        table = geo.table("region", "france")
    except (KeyError, ValueError):
        return {}
    return dict(zip(table["code"].astype(str), table["nom"].astype(str), strict=True))


def _assemble(
    units: pd.DataFrame, scores: pd.DataFrame, pct: pd.DataFrame, catalogue: Catalogue
) -> pd.DataFrame:
    """The result table, sorted by rank (units without a score last, by code)."""
    ranks = _ranks(scores["score"])
    n_scores = int(scores["score"].notna().sum())
    ids_table = _priority_ids(pct, [i.id for i in catalogue])
    table = pd.DataFrame(
        {
            "nom": units["nom"],
            "score": scores["score"],
            "rang": ranks["rang"],
            "rang_texte": [
                format_rank(None if pd.isna(r) else int(r), n_scores) for r in ranks["rang"]
            ],
            "classe": ranks["classe"],
            "classe_libelle": ranks["classe"].map(CLASS_LABELS, na_action="ignore").fillna(""),
            "couverture": scores["couverture"],
            "sans_score_raison": scores["sans_score_raison"],
        },
        index=units.index,
    )
    table = table.join(ids_table)
    table["priorites_texte"] = _priority_labels(ids_table, pct, catalogue)
    table = table.join(pct.round(1).add_prefix("pct__"))
    order = pd.DataFrame({"rang": ranks["rang"], "cle": units.index.astype(str)})
    order = order.sort_values(["rang", "cle"], na_position="last")
    return table.loc[order.index]


def _coverage(table: pd.DataFrame, values: pd.DataFrame, notes: list[str]) -> dict:
    n_scores = int(table["score"].notna().sum())
    return {
        "n_territoires": len(table),
        "n_scores": n_scores,
        "n_sans_score": len(table) - n_scores,
        "par_indicateur": {i: round(float(values[i].notna().mean()), 4) for i in values},
        "remarques": list(notes),
    }
