"""Which indicators each official source provides: ids, labels, units, vintages and provenance."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from territorial.indicators.catalogue import Indicator
from territorial.sources.manifest import LEVELS, load_manifest
from territorial.sources.parsing import ParsedSource

__all__ = [
    "ABSENT_FR",
    "DENSITY_CLASSES",
    "DENSITY_GROUPS",
    "INDICATOR_SOURCES",
    "SOURCE_IDS",
    "TABLE_PREFIX",
    "density_group",
    "indicators_for",
]


SOURCE_IDS = ("crte", "filosofi", "census", "density")

INDICATOR_SOURCES = ("filosofi", "census", "density")

TABLE_PREFIX = "officiel:"

ABSENT_FR = "absent : utilisez « Mettre à jour les données officielles »"

INSEE_LEVELS = LEVELS  # commune, epci, departement, region

THEME_POVERTY = "Pauvreté et emploi"

THEME_DEMOGRAPHY = "Démographie"

DENSITY_CLASSES = {
    1: "grands centres urbains",
    2: "centres urbains intermédiaires",
    3: "ceintures urbaines",
    4: "petites villes",
    5: "bourgs ruraux",
    6: "rural à habitat dispersé",
    7: "rural à habitat très dispersé",
}

DENSITY_GROUPS = {
    "urbain_dense": (1,),
    "urbain_intermediaire": (2, 3, 4),
    "rural": (5, 6, 7),
}

_LEVEL_PLURALS = {
    "commune": ("commune", "communes"),
    "epci": ("EPCI", "EPCI"),
    "departement": ("département", "départements"),
    "region": ("région", "régions"),
}

_RATES = ("taux_pauvrete", "revenu_median")

_FILOSOFI_COUNTS = ("menages_fiscaux", "personnes_menages_fiscaux")

_CENSUS_PAIRS = (("chomeurs_15_64", "actifs_15_64"), ("pop_75_plus", "population_rp"))


def density_group(density_class: float) -> str | None:
    """INSEE group of a density class: ``urbain_dense``, ``urbain_intermediaire``, ``rural``.

    Parameters
    ----------
    density_class : float
        Class 1 to 7 of the communal density grid.

    Returns
    -------
    str or None
        None for a missing or unknown class.

    Examples
    --------
    >>> density_group(5), density_group(float("nan"))
    ('rural', None)
    """
    for group, members in DENSITY_GROUPS.items():
        if density_class in members:
            return group
    return None


def _spec(source_id: str, manifest: Mapping[str, Any] | None = None) -> dict[str, Any]:
    manifest = manifest if manifest is not None else load_manifest()
    return manifest[source_id]


def _provenance(spec: Mapping[str, Any]) -> dict[str, str]:
    vintage = str(spec["vintage"])
    if spec.get("geography"):
        vintage += f" (géographie {spec['geography']})"
    return {
        "source": f"{spec['publisher']}, {spec['label']}",
        "vintage": vintage,
        "licence": spec["licence"],
    }


def _columns(parsed: ParsedSource | None, stable: str, default: str) -> str:
    """Original column behind a stable id (as read in the file), for method texts."""
    if parsed is None:
        return default
    return parsed.source_columns.get("commune", {}).get(stable, default)


def _weight_text(weight_fallback: bool) -> str:
    text = "le nombre de personnes des ménages fiscaux"
    if weight_fallback:
        text += " (à défaut, la population municipale)"
    return text


def _estimate_text(what: str, weight_fallback: bool) -> str:
    return (
        f"Estimation, et non valeur publiée par l'Insee : {what} d'un ensemble ne se déduit "
        "pas exactement de ceux de ses parties. Valeur calculée comme la moyenne des valeurs "
        "officielles des plus grands territoires Insee entièrement inclus (ses EPCI entiers, "
        "à défaut ses communes ; ses régions pour la France), pondérée par "
        f"{_weight_text(weight_fallback)}. Pour un périmètre formé d'un seul EPCI, elle "
        "égale la valeur officielle de cet EPCI. Les communes sous secret statistique n'y "
        "entrent pas (voir la couverture)."
    )


def indicators_for(
    source_id: str,
    parsed: ParsedSource | None = None,
    *,
    manifest: Mapping[str, Any] | None = None,
    weight_fallback: bool = False,
) -> list[Indicator]:
    """The indicators an official source provides once downloaded.

    Parameters
    ----------
    source_id : str
        ``filosofi``, ``census`` or ``density`` (``crte`` gives perimeters, no indicator).
    parsed : ParsedSource, optional
        The parsed source, to name the columns actually read in the method texts.
    manifest : mapping, optional
        Manifest of the sources (default: :func:`territorial.sources.load_manifest`).
    weight_fallback : bool, default False
        Filosofi only: say that the municipal population replaced the missing numbers of
        persons of fiscal households as weights.

    Returns
    -------
    list of Indicator
        French labels, definitions, units, themes, polarities, source, vintage, licence
        and method; ``origin`` is ``"officiel:<source_id>"``.

    Examples
    --------
    >>> rate = indicators_for("filosofi")[0]
    >>> rate.id, rate.polarity, rate.rule, rate.weight
    ('taux_pauvrete', 'fragile_si_haut', 'moyenne_ponderee', 'personnes_menages_fiscaux')
    >>> indicators_for("crte")
    []
    """
    if source_id not in INDICATOR_SOURCES:
        return []
    spec = _spec(source_id, manifest)
    common = {**_provenance(spec), "origin": TABLE_PREFIX + source_id}
    if source_id == "filosofi":
        levels = "commune, EPCI, département, région"
        return [
            Indicator(
                id="taux_pauvrete",
                label="Taux de pauvreté",
                definition=(
                    "Part des personnes vivant dans un ménage dont le niveau de vie est "
                    "inférieur à 60 % du niveau de vie médian de France métropolitaine."
                ),
                unit="%",
                theme=THEME_POVERTY,
                polarity="fragile_si_haut",
                rule="moyenne_ponderee",
                weight="personnes_menages_fiscaux",
                decimals=1,
                method=(
                    f"Valeur publiée par l'Insee ({_columns(parsed, 'taux_pauvrete', 'TP60')}) "
                    f"à chaque niveau Insee ({levels}), jamais recalculée ni moyennée. "
                    "Valeurs sous secret statistique : manquantes. Projet de territoire et "
                    "France : " + _estimate_text("un taux de pauvreté", weight_fallback)
                ),
                **common,
            ),
            Indicator(
                id="revenu_median",
                label="Niveau de vie médian",
                definition=(
                    "Médiane du niveau de vie (revenu disponible du ménage par unité de "
                    "consommation) : la moitié des personnes ont un niveau de vie inférieur."
                ),
                unit="€/an",
                theme=THEME_POVERTY,
                polarity="fragile_si_bas",
                rule="moyenne_ponderee",
                weight="personnes_menages_fiscaux",
                decimals=0,
                method=(
                    f"Valeur publiée par l'Insee ({_columns(parsed, 'revenu_median', 'MED')}) "
                    f"à chaque niveau Insee ({levels}), jamais recalculée ni moyennée. "
                    "Valeurs sous secret statistique : manquantes. Projet de territoire et "
                    "France : " + _estimate_text("une médiane", weight_fallback)
                ),
                **common,
            ),
            Indicator(
                id="menages_fiscaux",
                label="Nombre de ménages fiscaux",
                definition="Ménages fiscaux (foyers fiscaux d'un même logement) du territoire.",
                unit="ménages",
                theme=THEME_POVERTY,
                polarity="neutre",
                rule="somme",
                decimals=0,
                method=(
                    "Nombre publié par l'Insee "
                    f"({_columns(parsed, 'menages_fiscaux', 'NBMENFISC')}) à chaque niveau "
                    "Insee. Projet de territoire et France : somme des plus grands territoires "
                    "Insee entièrement inclus (EPCI entiers, à défaut communes) ; les communes "
                    "sous secret statistique manquent (voir la couverture)."
                ),
                **common,
            ),
        ]
    if source_id == "census":
        chom = _columns(parsed, "chomeurs_15_64", "P22_CHOM1564")
        act = _columns(parsed, "actifs_15_64", "P22_ACT1564")
        old = _columns(parsed, "pop_75_plus", "P22_POP75P (ou P22_POP7589 + P22_POP90P)")
        pop = _columns(parsed, "population_rp", "P22_POP")
        return [
            Indicator(
                id="taux_chomage_15_64",
                label="Taux de chômage des 15-64 ans",
                definition=(
                    "Part des chômeurs parmi les actifs de 15 à 64 ans, au sens du recensement "
                    "(déclaration des personnes, différente du chômage au sens du BIT)."
                ),
                unit="%",
                theme=THEME_POVERTY,
                polarity="fragile_si_haut",
                rule="part",
                numerator="chomeurs_15_64",
                denominator="actifs_15_64",
                scale=100,
                decimals=1,
                method=(
                    f"Somme des chômeurs de 15-64 ans ({chom}) divisée par la somme des actifs "
                    f"de 15-64 ans ({act}) des communes, × 100, à chaque niveau (projets de "
                    "territoire compris) : jamais une moyenne de taux. Une commune dont l'un "
                    "des deux effectifs manque est écartée des deux sommes."
                ),
                **common,
            ),
            Indicator(
                id="part_75_ans_plus",
                label="Part des personnes de 75 ans ou plus",
                definition="Habitants de 75 ans ou plus rapportés à la population totale.",
                unit="%",
                theme=THEME_DEMOGRAPHY,
                polarity="fragile_si_haut",
                rule="part",
                numerator="pop_75_plus",
                denominator="population_rp",
                scale=100,
                decimals=1,
                method=(
                    f"Somme des habitants de 75 ans ou plus ({old}) divisée par la somme des "
                    f"populations ({pop}) des communes, × 100, à chaque niveau (projets de "
                    "territoire compris) : jamais une moyenne de parts."
                ),
                **common,
            ),
        ]
    pmun = _columns(parsed, "population_densite", "PMUN")
    population = (
        f"population municipale de la grille ({pmun}), à défaut celle de la géographie de "
        "l'application"
    )
    groups = {
        "urbain_dense": (
            "Part de la population en grand centre urbain",
            "Population des communes densément peuplées (classe 1, grands centres urbains "
            "de la grille communale de densité) rapportée à la population totale.",
        ),
        "urbain_intermediaire": (
            "Part de la population en urbain intermédiaire",
            "Population des communes de densité intermédiaire (classes 2 à 4 : centres "
            "urbains intermédiaires, ceintures urbaines, petites villes) rapportée à la "
            "population totale.",
        ),
        "rural": (
            "Part de la population en commune rurale",
            "Population des communes rurales (classes 5 à 7 : bourgs ruraux, rural à "
            "habitat dispersé, rural à habitat très dispersé) rapportée à la population "
            "totale.",
        ),
    }
    out = []
    for group, (label, definition) in groups.items():
        classes = ", ".join(str(c) for c in DENSITY_GROUPS[group])
        out.append(
            Indicator(
                id=f"part_pop_{group}",
                label=label,
                definition=definition,
                unit="%",
                theme=THEME_DEMOGRAPHY,
                polarity="neutre",
                rule="part",
                numerator=f"pop_grille_{group}",
                denominator="pop_grille",
                scale=100,
                decimals=1,
                method=(
                    f"Chaque commune compte pour sa {population}, dans le groupe de sa classe "
                    f"de densité (ici classes {classes}) ; somme des communes du groupe "
                    "divisée par la somme des communes classées, × 100, à chaque niveau. "
                    "Regroupement de l'Insee : urbain dense = 1, urbain intermédiaire = 2 à 4, "
                    "rural = 5 à 7 (la grille à 7 niveaux subdivise la grille à 3 niveaux)."
                ),
                **common,
            )
        )
    return out
