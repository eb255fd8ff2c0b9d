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
>>> percentile_ranks(pd.Series([3.0, 1.0, 2.0, 2.0], index=list("abcd"))).tolist()
[87.5, 12.5, 50.0, 50.0]
>>> "Vue d'ensemble" in PRESETS
True
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from territorial.geo.geography import LEVEL_LABELS, LEVELS, parse_scope
from territorial.geo.search import fold
from territorial.indicators.catalogue import Catalogue, load_catalogue  # noqa: F401 (doctests)
from territorial.text.formatting import format_number, format_rank
from territorial.text.jsonout import json_text

__all__ = [
    "CLASS_LABELS",
    "DEFAULT_MAX_MISSING",
    "PRESETS",
    "FragilityError",
    "FragilityResult",
    "Preset",
    "available_presets",
    "cli_fragility",
    "find_preset",
    "fragility",
    "oriented_percentiles",
    "percentile_ranks",
]

DEFAULT_MAX_MISSING = 1 / 3
DEFAULT_PRESET = "Vue d'ensemble"
N_PRIORITIES = 3
CLASS_LABELS = {
    5: "Très fragile",
    4: "Fragile",
    3: "Intermédiaire",
    2: "Assez peu fragile",
    1: "Peu fragile",
}
NO_PRIORITY_TEXT = "aucune fragilité au-dessus de la médiane"
_TOLERANCE = 1e-9
_REFERENCE_LABELS = {"france": "ensemble du périmètre", "region": "région de chaque territoire"}
_LEVEL_PLURALS = {
    "commune": "communes",
    "epci": "EPCI",
    "perimetre": "projets de territoire",
    "departement": "départements",
    "region": "régions",
}
# Official indicators (``python -m territorial fetch``) that only exist once downloaded.
_OFFICIAL_LABELS = {
    "taux_pauvrete": "Taux de pauvreté",
    "taux_chomage_15_64": "Taux de chômage des 15-64 ans",
    "revenu_median": "Niveau de vie médian",
    "part_75_ans_plus": "Part des personnes de 75 ans ou plus",
}


class FragilityError(ValueError):
    """A bad request (unknown indicator, neutral polarity, bad weights...), French message."""

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


# ---------------------------------------------------------------------------- presets
@dataclass(frozen=True)
class Preset:
    """A named set of indicators (equal weights when ``weights`` is None).

    ``missing`` lists the indicators of the full preset that the current catalogue lacks
    (filled by :func:`available_presets`).

    >>> Preset("Test", "Un essai.", ("densite",), None).weights is None
    True
    """

    name: str
    description_fr: str
    indicators: tuple[str, ...]
    weights: tuple[float, ...] | None = None
    missing: tuple[str, ...] = ()


OVERVIEW = (
    "taux_pauvrete_2021",
    "revenu_median_2021",
    "taux_chomage_15_64_2021",
    "evolution_population_2015_2021",
    "solde_naturel_2022_1000_hab",
    "part_logements_vacants_2018",
    "etablissements_1000_hab_2018",
    "distance_pole_10000_km",
)
"""Indicators of the default preset: income, poverty, employment, demography, housing,
economic activity and isolation, one or two per theme (governance is left out)."""

PRESETS: dict[str, Preset] = {
    "Vue d'ensemble": Preset(
        "Vue d'ensemble",
        "Pauvreté et niveau de vie (Filosofi 2021), chômage (recensement 2021), évolution et "
        "solde naturel de la population, logements vacants, établissements actifs et "
        "éloignement d'une ville de 10 000 habitants, à poids égaux : une fragilité par "
        "grand thème, sans les indicateurs de gouvernance.",
        OVERVIEW,
    ),
    "Pauvreté et revenus": Preset(
        "Pauvreté et revenus",
        "Taux de pauvreté, niveau de vie médian, poids des minima sociaux et des prestations "
        "sociales dans le revenu, inégalités (rapport interdécile) : Filosofi 2021.",
        (
            "taux_pauvrete_2021",
            "revenu_median_2021",
            "part_minima_sociaux_2021",
            "part_prestations_sociales_2021",
            "rapport_interdecile_2021",
        ),
    ),
    "Emploi": Preset(
        "Emploi",
        "Chômage des 15-64 ans (recensement 2021) et densité d'établissements actifs (2018).",
        ("taux_chomage_15_64_2021", "etablissements_1000_hab_2018"),
    ),
    "Dynamique démographique": Preset(
        "Dynamique démographique",
        "Évolution de la population entre 2015 et 2021, solde naturel de 2022, logements "
        "vacants (2018) et, si le recensement 2022 est téléchargé, part des 75 ans ou plus.",
        (
            "evolution_population_2015_2021",
            "solde_naturel_2022_1000_hab",
            "part_logements_vacants_2018",
            "part_75_ans_plus",
        ),
    ),
    "Isolement et accès aux services": Preset(
        "Isolement et accès aux services",
        "Éloignement d'une ville de 10 000 habitants, poids des petites communes et densité "
        "de population : le premier kilomètre des besoins.",
        ("distance_pole_10000_km", "part_pop_communes_moins_2000", "densite"),
    ),
    "Gouvernance locale": Preset(
        "Gouvernance locale",
        "Place des femmes dans les conseils municipaux, âge des maires élus en 2026 et heures "
        "d'ouverture des mairies (disponible, mais pas une fragilité par défaut).",
        (
            "part_femmes_conseil_municipal",
            "age_moyen_maires",
            "part_maires_70_ans_plus",
            "heures_mairie_pour_1000_hab",
        ),
    ),
    "Pauvreté et emploi (données téléchargées)": Preset(
        "Pauvreté et emploi (données téléchargées)",
        "Pauvreté, chômage, niveau de vie médian et part des 75 ans ou plus des données "
        "officielles INSEE téléchargées (Filosofi et recensement les plus récents).",
        ("taux_pauvrete", "taux_chomage_15_64", "revenu_median", "part_75_ans_plus"),
    ),
}


def _label(catalogue: Catalogue, indicator_id: str) -> str:
    if indicator_id in catalogue:
        return catalogue[indicator_id].label
    return _OFFICIAL_LABELS.get(indicator_id, indicator_id)


def _restrict(preset: Preset, ids: tuple[str, ...], catalogue: Catalogue) -> Preset:
    """The preset limited to ``ids`` (in its own order), saying what was dropped."""
    kept = tuple(i for i in preset.indicators if i in ids)
    missing = tuple(i for i in preset.indicators if i not in ids)
    weights = None
    if preset.weights is not None:
        by_id = dict(zip(preset.indicators, preset.weights, strict=True))
        weights = tuple(by_id[i] for i in kept)
    description = preset.description_fr
    if missing:
        labels = ", ".join(_label(catalogue, i) for i in missing)
        description += f" Indicateurs non disponibles ici, écartés : {labels}."
    return Preset(preset.name, description, kept, weights, missing)


def available_presets(catalogue: Catalogue) -> dict[str, Preset]:
    """The presets usable with ``catalogue``, without the indicators it lacks.

    A preset keeps the indicators that exist with a non-neutral polarity; the others are
    listed in ``missing`` and named in the description. A preset left with no indicator
    is not listed.

    >>> presets = available_presets(load_catalogue())
    >>> "Pauvreté et emploi (données téléchargées)" in presets  # needs the downloads
    False
    >>> presets["Dynamique démographique"].missing
    ('part_75_ans_plus',)
    """
    usable = {i.id for i in catalogue if i.polarity != "neutre"}
    out = {}
    for name, preset in PRESETS.items():
        restricted = _restrict(preset, tuple(usable), catalogue)
        if restricted.indicators:
            out[name] = restricted
    return out


def find_preset(name: str, catalogue: Catalogue) -> Preset:
    """An available preset by name, ignoring case and accents.

    >>> find_preset("isolement et acces aux services", load_catalogue()).indicators[0]
    'distance_pole_10000_km'
    """
    presets = available_presets(catalogue)
    by_folded = {fold(n): p for n, p in presets.items()}
    preset = by_folded.get(fold(name))
    if preset is None:
        if fold(name) in {fold(n) for n in PRESETS}:
            raise FragilityError(
                f"Le jeu d'indicateurs « {name} » n'a aucun indicateur disponible ici "
                "(données officielles à télécharger avec « python -m territorial fetch »)."
            )
        names = ", ".join(f"« {n} »" for n in presets)
        raise FragilityError(f"Jeu d'indicateurs inconnu : « {name} ». Jeux disponibles : {names}.")
    return preset


# ---------------------------------------------------------------------------- selection
def _check_indicator(catalogue: Catalogue, indicator_id: str) -> None:
    if indicator_id not in catalogue:
        known = ", ".join(i.id for i in catalogue if i.polarity != "neutre")
        raise FragilityError(
            f"Indicateur inconnu : « {indicator_id} ». Indicateurs utilisables : {known}."
        )
    indicator = catalogue[indicator_id]
    if indicator.polarity == "neutre":
        advice = (
            " Indiquez sa polarité (fragile si haut ou fragile si bas) dans « Mes données » "
            "pour pouvoir l'utiliser."
            if indicator_id.startswith("u_")
            else ""
        )
        raise FragilityError(
            f"L'indicateur « {indicator.label} » est neutre : ni une valeur haute ni une "
            f"valeur basse ne signale une fragilité, il ne peut pas entrer dans un score.{advice}"
        )


def _parse_weights(
    weights: Sequence[float] | Mapping[str, float] | None, ids: list[str]
) -> list[float]:
    if weights is None:
        return [1.0] * len(ids)
    if isinstance(weights, Mapping):
        unknown = [k for k in weights if k not in ids]
        if unknown:
            raise FragilityError(f"Poids donné pour un indicateur non choisi : « {unknown[0]} ».")
        weights = [weights.get(i, 1.0) for i in ids]
    weights = list(weights)
    if len(weights) != len(ids):
        raise FragilityError(
            f"{len(weights)} poids pour {len(ids)} indicateurs : donnez un poids par indicateur."
        )
    try:
        values = [float(w) for w in weights]
    except (TypeError, ValueError):
        raise FragilityError("Les poids doivent être des nombres.") from None
    if any(not math.isfinite(w) or w <= 0 for w in values):
        raise FragilityError("Les poids doivent être des nombres strictement positifs.")
    return values


def _selection(
    catalogue: Catalogue,
    indicators: Sequence[str] | None,
    weights: Sequence[float] | Mapping[str, float] | None,
    preset: str | None,
) -> tuple[list[str], list[float], str | None]:
    """Indicator ids, raw weights and preset name of a request, validated."""
    if indicators is not None and preset is not None:
        raise FragilityError(
            "Choisissez soit un jeu d'indicateurs, soit une liste d'indicateurs, pas les deux."
        )
    if indicators is None:
        chosen = find_preset(preset or DEFAULT_PRESET, catalogue)
        ids = list(chosen.indicators)
        if weights is None and chosen.weights is not None:
            weights = chosen.weights
        preset = chosen.name
    else:
        if isinstance(indicators, str):
            indicators = indicators.split(",")
        ids = [str(i).strip() for i in indicators if str(i).strip()]
        if not ids:
            raise FragilityError("Choisissez au moins un indicateur.")
        if len(set(ids)) != len(ids):
            raise FragilityError("Un même indicateur est choisi deux fois.")
    for indicator_id in ids:
        _check_indicator(catalogue, indicator_id)
    return ids, _parse_weights(weights, ids), preset


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


def _scope_error(scope: str, error: Exception) -> str:
    if isinstance(error, ValueError) and str(error):
        return str(error)
    return f"Périmètre d'étude incompatible avec ce niveau : « {scope} »."


def _name(geo, level: str, code: str) -> str:
    try:
        table = geo.table(level, "france")
        names = dict(zip(table["code"].astype(str), table["nom"], strict=True))
    except (KeyError, ValueError):
        return code
    return str(names.get(code, code))


def _scope_label(geo, scope: str) -> str:
    kind, code = parse_scope(scope)
    if kind == "metropole":
        return "France métropolitaine"
    if kind == "france":
        return "France entière"
    if kind == "region":
        return f"région {_name(geo, 'region', code)}"
    return f"département {_name(geo, 'departement', code)} ({code})"


def _population_phrase(level: str, scope: str, reference: str) -> str:
    """Who a unit is compared with: ``"des EPCI"``, ``"des communes de sa région"``..."""
    plural = _LEVEL_PLURALS[level]
    kind, _ = parse_scope(scope)
    if kind == "departement":
        return f"des {plural} du département"
    if kind == "region":
        return f"des {plural} de la région"
    return f"des {plural} de sa région" if reference == "region" else f"des {plural}"


# ---------------------------------------------------------------------------- priorities
@dataclass
class _Context:
    """What the priority sentences need, as plain arrays (fast for 35 000 communes)."""

    catalogue: Catalogue
    position: dict[str, int]  # unit code -> row of the arrays below
    values: dict[str, np.ndarray]
    pct: dict[str, np.ndarray]
    region_refs: dict[str, np.ndarray]  # value of each unit's région
    france_refs: dict[str, float | None]
    region_labels: np.ndarray  # name of each unit's région
    reference: str
    phrase: str
    estimated: dict[str, set[str]]  # indicator -> reference levels whose value is estimated


def _float(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _with_unit(value: float | None, indicator) -> str:
    text = format_number(value, indicator.decimals)
    return f"{text} {indicator.unit}".strip() if value is not None else text


def _gap_text(ctx: _Context, row: int, entry: dict) -> str:
    """``"Libellé : 23,4 km contre 7,0 km en France (plus fragile que 85 % des EPCI)"``."""
    indicator = ctx.catalogue[entry["indicator"]]
    text = f"{indicator.label} : {_with_unit(entry['valeur'], indicator)}"
    region = entry["reference_region"]
    if ctx.reference == "region" and region is not None:
        name = ctx.region_labels[row]
        text += f" contre {_with_unit(region, indicator)} dans la région {name}".rstrip()
        text += _estimate_mark(ctx, indicator.id, "region")
    elif entry["reference_france"] is not None:
        text += f" contre {_with_unit(entry['reference_france'], indicator)} en France"
        text += _estimate_mark(ctx, indicator.id, "france")
    share = math.floor(entry["percentile"])
    return f"{text} (plus fragile que {share} % {ctx.phrase})"


def _estimate_mark(ctx: _Context, indicator_id: str, level: str) -> str:
    return " (estimation)" if level in ctx.estimated.get(indicator_id, ()) else ""


def _priority_entry(ctx: _Context, row: int, indicator_id: str) -> dict:
    indicator = ctx.catalogue[indicator_id]
    entry = {
        "indicator": indicator_id,
        "libelle": indicator.label,
        "unite": indicator.unit,
        "valeur": _float(ctx.values[indicator_id][row]),
        "percentile": round(float(ctx.pct[indicator_id][row]), 1),
        "reference_region": _float(ctx.region_refs[indicator_id][row]),
        "reference_france": ctx.france_refs[indicator_id],
    }
    entry["ecart_texte"] = _gap_text(ctx, row, entry)
    return entry


def _reference_values(store, level: str, units: pd.DataFrame, ids: list[str]):
    """Values of each unit's région and of France (as ``store.reference`` gives them).

    Read level-wide once instead of calling ``store.reference`` unit by unit, which
    would take minutes for the 1 234 EPCI. A région has no région reference.
    """
    if level == "region":
        region_refs = {i: np.full(len(units), np.nan) for i in ids}
    else:
        regions = store.values("region", "france").reindex(columns=ids)
        aligned = regions.reindex(units["region"].to_numpy())
        region_refs = {i: aligned[i].to_numpy(dtype=float) for i in ids}
    france = store.values("france", None).reindex(columns=ids)
    france_refs = {i: _float(france[i].iloc[0]) if len(france) else None for i in ids}
    return region_refs, france_refs


def _priorities(ctx: _Context, ids_table: pd.DataFrame) -> dict[str, list[dict]]:
    columns = [f"priorite_{k + 1}" for k in range(N_PRIORITIES)]
    out = {}
    for code, *picked in ids_table[columns].itertuples(name=None):
        row = ctx.position[code]
        out[code] = [_priority_entry(ctx, row, i) for i in picked if i]
    return out


def _priority_labels(ids_table: pd.DataFrame, pct: pd.DataFrame, catalogue) -> pd.Series:
    """Readable list of the priorities, or why there is none."""
    columns = [f"priorite_{k + 1}" for k in range(N_PRIORITIES)]
    has_data = pct.notna().any(axis=1).to_numpy()
    texts = []
    for picked, data in zip(ids_table[columns].itertuples(index=False), has_data, strict=True):
        labels = [catalogue[i].label for i in picked if i]
        texts.append(" ; ".join(labels) if labels else (NO_PRIORITY_TEXT if data else ""))
    return pd.Series(texts, index=ids_table.index)


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


def _pct_text(value: float) -> str:
    return f"{format_number(value * 100, 0)} %"


def _method_note(
    level, scope_label, reference, ids, weights, max_missing, catalogue, notes, n_units
) -> str:
    plural = _LEVEL_PLURALS[level]
    polarity = {"fragile_si_haut": "fragile si haut", "fragile_si_bas": "fragile si bas"}
    parts = [
        f"{catalogue[i].label} ({i}, poids {_pct_text(weights[i])}, {polarity[catalogue[i].polarity]})"
        for i in ids
    ]
    within = (
        f"parmi les {plural} de sa région"
        if reference == "region"
        else f"parmi les {format_number(n_units)} {plural} du périmètre ({scope_label})"
    )
    lines = [
        f"Score de fragilité des {plural} — {scope_label}.",
        "Indicateurs : " + " ; ".join(parts) + ".",
        f"Pour chaque indicateur, chaque territoire reçoit un rang centile {within} : "
        "(rang moyen − 0,5) / nombre de territoires ayant la donnée × 100, les ex æquo "
        "partageant leur rang moyen. Il est inversé (100 − centile) quand une valeur basse "
        "signale une fragilité : 100 = le plus fragile.",
        "Le score (0 à 100) est la moyenne pondérée des centiles disponibles, les poids "
        "étant répartis sur les indicateurs présents ; un territoire auquel il manque plus "
        f"de {_pct_text(max_missing)} du poids n'a pas de score.",
        "Rang : score décroissant arrondi au dixième, à égalité le plus petit code d'abord. "
        "Classes : quintiles des scores (5 « Très fragile » = les 20 % de scores les plus "
        "élevés, 1 « Peu fragile » = les 20 % les plus bas).",
        "Fragilités prioritaires : les trois indicateurs au centile le plus élevé, s'il "
        "dépasse 50 (à égalité, l'ordre du catalogue).",
        "Le score est relatif : il situe les territoires les uns par rapport aux autres, "
        "ce n'est pas une mesure absolue.",
    ]
    return "\n".join(lines + notes)


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


# ---------------------------------------------------------------------------- CLI
def _split(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def _cli_weights(text: str | None) -> list[float] | None:
    parts = _split(text)
    if parts is None:
        return None
    try:
        return [float(p) for p in parts]
    except ValueError:
        raise FragilityError(
            f"Poids illisibles : « {text} » (nombres séparés par des virgules, ex. 1,2,1)."
        ) from None


def _text_lines(result: FragilityResult, limit: int) -> list[str]:
    lines = [
        f"Fragilités territoriales prioritaires — {LEVEL_LABELS[result.level]}, "
        f"{result.scope_label or result.scope} (référence : {_REFERENCE_LABELS[result.reference]})",
        "",
    ]
    for code, row in result.table.head(max(limit, 0)).iterrows():
        score = format_number(_json_value(row["score"]), 1)
        detail = row["priorites_texte"] or row["sans_score_raison"]
        lines.append(
            f"{row['rang_texte']:>12}  {str(row['nom'])[:40]:<40} {code:<10} "
            f"{score:>5}  {row['classe_libelle']:<18} {detail}"
        )
    if len(result.table) > limit:
        lines.append(
            f"… {len(result.table) - limit} autres territoires (--limit pour en voir plus)."
        )
    return [*lines, "", result.method_note]


def _cli_store():
    """The shipped indicators plus the official ones in the download cache, as in the app."""
    from territorial.geo.geography import load_geography
    from territorial.indicators.store import IndicatorStore
    from territorial.sources.official import register_official

    store = IndicatorStore(load_geography())
    register_official(store)
    return store


def cli_fragility(
    level: str,
    scope: str,
    indicators: str | None,
    weights: str | None,
    preset: str | None,
    reference: str,
    as_json: bool,
    limit: int = 20,
) -> int:
    """``python -m territorial fragility``: print the result; 2 on a bad request.

    >>> cli_fragility("region", "metropole", "population", None, None, "france", True)
    2
    """
    try:
        result = fragility(
            _cli_store(),
            level,
            scope or "metropole",
            indicators=_split(indicators),
            weights=_cli_weights(weights),
            reference=reference,
            preset=preset,
        )
    except ValueError as error:  # FragilityError and parse_scope's French messages
        print(str(error), file=sys.stderr)
        return 2
    if as_json:
        print(json_text(result.to_dict()))
    else:
        print("\n".join(_text_lines(result, limit)))
    return 0
