"""The fragility presets (sets of weighted indicators) and the checks of a user's selection."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from territorial.geo.search import fold
from territorial.indicators.catalogue import Catalogue, load_catalogue  # noqa: F401 (doctests)

__all__ = [
    "CLASS_LABELS",
    "DEFAULT_MAX_MISSING",
    "FragilityError",
    "PRESETS",
    "Preset",
    "available_presets",
    "find_preset",
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


def _scope_error(scope: str, error: Exception) -> str:
    if isinstance(error, ValueError) and str(error):
        return str(error)
    return f"Périmètre d'étude incompatible avec ce niveau : « {scope} »."
