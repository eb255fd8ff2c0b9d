"""Official open data in the app: INSEE indicators and the ANCT CRTE perimeters.

Once a source is downloaded by :func:`territorial.sources.fetch.fetch` (``python -m territorial
fetch all``, or the « Mettre à jour les données officielles » button), its cached tables
become indicators of the :class:`~territorial.indicators.store.IndicatorStore`, usable everywhere
like the shipped ones. They are not in ``catalogue.toml``: they exist only once
downloaded.

- Recensement 2022 (``census``): ``taux_chomage_15_64`` and ``part_75_ans_plus``, ratios
  of counts given per commune and summed exactly to every level, perimeters included
  (a coarser level published by the file would be used as published).
- Filosofi 2021 (``filosofi``): ``taux_pauvrete`` and ``revenu_median``. A rate or a
  median is never averaged: at each INSEE level (commune, EPCI, département, région) the
  value is the one published in the file. A perimeter (and France, absent from the file)
  is not an INSEE level: its value is an *estimate*, the mean of the official values of
  the largest INSEE units wholly inside it (its whole EPCI, else its communes) weighted by
  the number of persons of fiscal households, flagged by
  :meth:`~territorial.indicators.store.IndicatorStore.is_estimate`. ``menages_fiscaux`` is a count.
- Grille communale de densité (``density``): shares of the population living in
  « urbain dense », « urbain intermédiaire » and « rural » communes, as INSEE groups the
  seven classes (the 7-level grid subdivides the 3-level one): 1 = grands centres urbains
  (communes densément peuplées) ; 2 to 4 = centres urbains intermédiaires, ceintures
  urbaines, petites villes (densité intermédiaire) ; 5 to 7 = bourgs ruraux, rural à
  habitat dispersé, rural à habitat très dispersé (communes rurales).
- CRTE (``crte``): :func:`load_official_crte` turns the cached ANCT table into the
  official perimeter set, to activate with ``geo.set_perimeters(pset)``.

Commune codes go through :meth:`Geography.resolve_communes` (Paris, Lyon and Marseille
arrondissements → commune, old codes → current commune); codes that match no unit are
counted in a :class:`~territorial.indicators.join.JoinReport` per source and level.

Examples
--------
>>> [i.id for i in indicators_for("census")]
['taux_chomage_15_64', 'part_75_ans_plus']
>>> density_group(6), density_group(1), density_group(3)
('rural', 'urbain_dense', 'urbain_intermediaire')
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from territorial.geo.geography import Geography
from territorial.indicators.catalogue import Indicator
from territorial.indicators.join import JoinReport
from territorial.indicators.store import IndicatorStore, OfficialIndicators
from territorial.indicators.tables import TableError, read_table
from territorial.perimeters.model import PerimeterSet, ValidationReport, load_crte
from territorial.sources.cache import cache_dir
from territorial.sources.manifest import LEVELS, FetchError, load_manifest
from territorial.sources.parsing import ParsedSource
from territorial.sources.status import cached_files, load_cached, status
from territorial.text.formatting import format_number

__all__ = [
    "ABSENT_FR",
    "DENSITY_CLASSES",
    "DENSITY_GROUPS",
    "INDICATOR_SOURCES",
    "SOURCE_IDS",
    "TABLE_PREFIX",
    "build_official",
    "density_group",
    "indicators_for",
    "join_reports",
    "load_official_crte",
    "official_indicators",
    "register_official",
    "resolve_table",
    "status_fr",
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
"""Classes of INSEE's 7-level communal density grid."""

DENSITY_GROUPS = {
    "urbain_dense": (1,),
    "urbain_intermediaire": (2, 3, 4),
    "rural": (5, 6, 7),
}
"""INSEE grouping of the 7 classes into the 3-level grid (dense, intermediate, rural)."""

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


# --------------------------------------------------------------------------- indicators


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


# --------------------------------------------------------------------------- codes


def _isin(values, pool) -> np.ndarray:
    """``values.isin(pool)`` through a hash index (much faster on Arrow string codes)."""
    return pd.Index(pool).unique().get_indexer(pd.Index(values)) >= 0


def _units(geo: Geography, level: str) -> pd.DataFrame:
    """Codes, population and overseas flag of a level's units (no geometry)."""
    table = {
        "commune": geo.communes,
        "epci": geo.epcis,
        "departement": geo.departements,
        "region": geo.regions,
    }[level]
    return pd.DataFrame(table[["code", "population", "outre_mer"]]).set_index("code")


def resolve_table(
    table: pd.DataFrame,
    geo: Geography,
    level: str,
    additive: Iterable[str],
    source_name: str,
) -> tuple[pd.DataFrame, JoinReport]:
    """Re-index a source table on the geography's codes and report what did not join.

    Commune codes go through :meth:`Geography.resolve_communes`. When several rows land
    on one commune, a row with the exact code wins; otherwise additive columns are summed
    and the other columns (rates, medians, classes) left missing.
    """
    additive = [c for c in additive if c in table.columns]
    report = JoinReport(source_name, len(table), "code", level, "code")
    given = pd.Series(table.index.astype(str), index=pd.RangeIndex(len(table)))
    if level == "commune":
        resolved = geo.resolve_communes(given)
        codes, how = resolved["code"], resolved["how"]
    else:
        known = pd.Series(_isin(given, _units(geo, level).index), index=given.index)
        codes = given.where(known)
        how = pd.Series("exact", index=given.index).where(known)
    frame = table.reset_index(drop=True).assign(_code=codes.to_numpy(), _how=how.to_numpy())
    report.unmatched = [
        {"ligne": None, "valeur": given[i], "raison": "code inconnu"}
        for i in given.index[codes.isna().to_numpy()]
    ]
    changed = codes.notna() & ~how.isin(["exact", "zero"])
    report.remapped = [
        {"ligne": None, "valeur": given[i], "code": codes[i], "regle": how[i]}
        for i in given.index[changed.to_numpy()]
    ]
    frame = frame.dropna(subset=["_code"])
    report.matched = len(frame)
    exact = frame["_how"].isin(["exact", "zero"])
    has_exact = frame.loc[exact, "_code"]
    shadowed = ~exact & _isin(frame["_code"], has_exact)
    if shadowed.any():
        report.notes.append(
            f"{int(shadowed.sum())} ligne(s) (arrondissement, ancien code) écartée(s) : la "
            "commune figure déjà sous son code actuel."
        )
        frame = frame.loc[~shadowed]
    columns = list(table.columns)
    grouped = frame.groupby("_code", sort=True)
    sizes = grouped.size()
    out = grouped[columns].first()
    if (sizes > 1).any():
        several = sizes.index[sizes > 1]
        summed = grouped[additive].sum(min_count=1) if additive else None
        for column in columns:
            if column in additive and summed is not None:
                out.loc[several, column] = summed.loc[several, column]
            else:
                out.loc[several, column] = np.nan
        report.notes.append(
            f"{len(several)} commune(s) reconstituée(s) à partir de plusieurs lignes "
            "(arrondissements ou anciennes communes) : effectifs additionnés, taux et "
            "médianes laissés manquants."
        )
    out.index.name = "code"
    out = out.astype("float64")
    units = _units(geo, level)
    scope = units.loc[~units["outre_mer"].astype(bool)]
    covered = _isin(scope.index, out.index[out.notna().any(axis=1).to_numpy()])
    population = scope["population"].fillna(0)
    total = float(population.sum())
    report.coverage = {
        level: {
            "territoires": int(covered.sum()),
            "sur": len(scope),
            "part_population": float(population[covered].sum() / total) if total else 0.0,
        }
    }
    return out, report


# --------------------------------------------------------------------------- builders


@dataclass
class _Built:
    components: dict[str, pd.DataFrame]
    values: dict[str, pd.DataFrame]
    reports: dict[str, JoinReport]
    notes: list[str]
    weight_fallback: bool = False


def _source_name(spec: Mapping[str, Any], level: str) -> str:
    return f"{spec.get('short_label') or spec['label']} — {_LEVEL_PLURALS[level][1]}"


def _build_filosofi(parsed: ParsedSource, geo: Geography, spec: Mapping[str, Any]) -> _Built:
    built = _Built({}, {}, {}, [])
    for level in INSEE_LEVELS:
        if level not in parsed.tables:
            continue
        frame, report = resolve_table(
            parsed.tables[level], geo, level, _FILOSOFI_COUNTS, _source_name(spec, level)
        )
        built.reports[level] = report
        population = _units(geo, level)["population"].reindex(frame.index).astype(float)
        persons = frame["personnes_menages_fiscaux"]
        fallback = persons.isna() & population.notna() & frame[list(_RATES)].notna().any(axis=1)
        if fallback.any():
            built.weight_fallback = True
            built.notes.append(
                f"{int(fallback.sum())} {_LEVEL_PLURALS[level][1]} sans nombre de personnes "
                "des ménages fiscaux : population municipale utilisée comme poids des "
                "estimations."
            )
        weight = persons.where(persons.notna(), population)
        components = pd.DataFrame({"menages_fiscaux": frame["menages_fiscaux"]})
        for rate in _RATES:
            known = frame[rate].notna() & weight.notna() & (weight > 0)
            components[f"{rate}__somme_ponderee"] = (frame[rate] * weight).where(known)
            components[f"{rate}__poids"] = weight.where(known)
        built.components[level] = components
        built.values[level] = frame[list(_RATES)]
    return built


def _build_census(parsed: ParsedSource, geo: Geography, spec: Mapping[str, Any]) -> _Built:
    built = _Built({}, {}, {}, [])
    for level in INSEE_LEVELS:
        if level not in parsed.tables:
            continue
        table = parsed.tables[level]
        frame, report = resolve_table(table, geo, level, table.columns, _source_name(spec, level))
        built.reports[level] = report
        for numerator, denominator in _CENSUS_PAIRS:
            both = frame[numerator].notna() & frame[denominator].notna()
            frame[numerator] = frame[numerator].where(both)
            frame[denominator] = frame[denominator].where(both)
        built.components[level] = frame
    return built


def _build_density(parsed: ParsedSource, geo: Geography, spec: Mapping[str, Any]) -> _Built:
    built = _Built({}, {}, {}, [])
    frame, report = resolve_table(
        parsed.tables["commune"],
        geo,
        "commune",
        ["population_densite"],
        _source_name(spec, "commune"),
    )
    built.reports["commune"] = report
    classes = frame["densite_classe"]
    population = frame["population_densite"]
    ours = _units(geo, "commune")["population"].reindex(frame.index).astype(float)
    replaced = population.isna() & ours.notna() & classes.notna()
    if replaced.any():
        built.notes.append(
            f"{int(replaced.sum())} commune(s) sans population dans la grille : population "
            "municipale de la géographie utilisée."
        )
    population = population.where(population.notna(), ours)
    known = classes.notna() & population.notna()
    components = pd.DataFrame({"pop_grille": population.where(known)})
    for group, members in DENSITY_GROUPS.items():
        inside = population.where(classes.isin(members), 0.0)
        components[f"pop_grille_{group}"] = inside.where(known)
    built.components["commune"] = components
    return built


_BUILDERS = {"filosofi": _build_filosofi, "census": _build_census, "density": _build_density}


def build_official(
    source_id: str,
    parsed: ParsedSource,
    geo: Geography,
    *,
    record: Mapping[str, Any] | None = None,
    manifest: Mapping[str, Any] | None = None,
) -> OfficialIndicators:
    """Turn a parsed official source into indicators ready for the store.

    Parameters
    ----------
    source_id : str
        ``filosofi``, ``census`` or ``density``.
    parsed : ParsedSource
        From :func:`territorial.sources.load_cached` (or :func:`territorial.sources.fetch.parse`).
    geo : Geography
        Geography the codes are joined to.
    record : mapping, optional
        Status of the cached version (:func:`territorial.sources.status`), for provenance.
    manifest : mapping, optional
        Manifest of the sources.

    Returns
    -------
    OfficialIndicators
        Named ``"officiel:<source_id>"``. Indicators whose data are entirely missing
        (an optional file not downloaded) are left out and named in
        ``report["notes"]``.

    Raises
    ------
    KeyError
        If ``source_id`` provides no indicator.
    """
    spec = _spec(source_id, manifest)
    built = _BUILDERS[source_id](parsed, geo, spec)
    indicators = indicators_for(
        source_id, parsed, manifest=manifest, weight_fallback=built.weight_fallback
    )
    notes = list(built.notes)
    kept = []
    for indicator in indicators:
        frames = [f for f in built.components.values() if set(indicator.components) <= set(f)]
        if any(f[indicator.components].notna().all(axis=1).any() for f in frames):
            kept.append(indicator)
        else:
            notes.append(f"« {indicator.label} » indisponible : aucune donnée dans le fichier.")
    kept_ids = {i.id for i in kept}
    values = {
        level: frame[[c for c in frame.columns if c in kept_ids]]
        for level, frame in built.values.items()
    }
    estimates = {
        indicator.id: _estimate_text(
            "un taux de pauvreté" if indicator.id == "taux_pauvrete" else "une médiane",
            built.weight_fallback,
        )
        for indicator in kept
        if indicator.id in _RATES
    }
    record = dict(record or {})
    unmatched = sum(len(r.unmatched) for r in built.reports.values())
    return OfficialIndicators(
        name=TABLE_PREFIX + source_id,
        indicators=kept,
        components=built.components,
        values={level: frame for level, frame in values.items() if not frame.columns.empty},
        combine="unites_entieres" if source_id == "filosofi" else "somme",
        estimates=estimates,
        report={
            "jointures": built.reports,
            "non_rattaches": unmatched,
            "lignes": dict(parsed.rows),
            "secret": parsed.secret_counts,
            "annees": parsed.years,
            "colonnes_source": parsed.source_columns,
            "avertissements": list(parsed.warnings),
            "notes": notes,
        },
        source={
            "id": source_id,
            "editeur": spec["publisher"],
            "jeu_de_donnees": spec["label"],
            "page": spec.get("page_url"),
            "millesime": str(spec["vintage"]),
            "licence": spec["licence"],
            "telecharge_le": record.get("fetched_at"),
            "sha256": record.get("sha256"),
            "url": record.get("url"),
        },
    )


# --------------------------------------------------------------------------- cache


def _signature(source_id: str) -> tuple:
    """Names, sizes and dates of the cached files of a source (memo key)."""
    parts = []
    for previous in (False, True):
        with contextlib.suppress(FetchError):
            for name, path in sorted((cached_files(source_id, previous=previous) or {}).items()):
                with contextlib.suppress(OSError):
                    stat = Path(path).stat()
                    parts.append(
                        (previous, name, str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino)
                    )
    return (str(cache_dir()), tuple(parts))


@dataclass
class _Loaded:
    parsed: ParsedSource
    previous_note: str | None


def _load_parsed(source_id: str) -> _Loaded | None:
    """The cached version, else the previous one when the current file is unreadable."""
    try:
        parsed = load_cached(source_id)
    except FetchError as exc:
        try:
            older = load_cached(source_id, previous=True)
        except FetchError:
            older = None
        if older is None:
            raise
        reason = exc.detail.rstrip(". ")
        return _Loaded(
            older, f"version précédente utilisée (version en cache illisible : {reason})"
        )
    return None if parsed is None else _Loaded(parsed, None)


_MEMO: dict[tuple, tuple[_Loaded | None, OfficialIndicators | None]] = {}
_MEMO_SIZE = 8


def _load_source(
    source_id: str, geo: Geography
) -> tuple[_Loaded | None, OfficialIndicators | None]:
    key = (source_id, id(geo), _signature(source_id))
    if key in _MEMO:
        return _MEMO[key]
    loaded = _load_parsed(source_id)
    table = None
    if loaded is not None and source_id in INDICATOR_SOURCES:
        table = build_official(source_id, loaded.parsed, geo, record=status(source_id))
    if len(_MEMO) >= _MEMO_SIZE:
        with contextlib.suppress(KeyError, RuntimeError, StopIteration):  # other threads
            _MEMO.pop(next(iter(_MEMO)))
    _MEMO[key] = (loaded, table)
    return loaded, table


def _date_fr(iso: str | None) -> str | None:
    """``2025-03-12T09:03:00+00:00`` → ``12/03/2025 à 10:03`` (heure de Paris)."""
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    try:
        from zoneinfo import ZoneInfo

        moment = moment.astimezone(ZoneInfo("Europe/Paris"))
        suffix = ""
    except Exception:  # no time-zone database: keep UTC and say so
        suffix = " UTC"
    return moment.strftime("%d/%m/%Y à %H:%M") + suffix


def _count(n: int, level: str) -> str:
    singular, plural = _LEVEL_PLURALS.get(level, (level, level))
    return f"{format_number(n, 0)} {singular if n == 1 else plural}"


def _rows_text(rows: Mapping[str, int]) -> str:
    parts = []
    for level, n in rows.items():
        if level in _LEVEL_PLURALS:
            parts.append(_count(int(n), level))
        elif level == "perimetre_rows":
            parts.append(f"{format_number(int(n), 0)} lignes EPCI–CRTE")
        elif level == "groupements_rows":
            parts.append(f"{format_number(int(n), 0)} lignes groupements")
    return ", ".join(parts)


def _loaded_message(source_id: str, loaded: _Loaded, table: OfficialIndicators | None) -> str:
    parsed = loaded.parsed
    record = status(source_id) or {}
    date = _date_fr(record.get("fetched_at"))
    if source_id == "crte":
        rows = parsed.tables.get("perimetre_rows")
        n_crte = int(rows["id_crte"].replace("", np.nan).nunique()) if rows is not None else 0
        details = f"millésime {parsed.vintage}, {format_number(n_crte, 0)} CRTE"
        if date:
            details += f", téléchargé le {date}"
        text = f"disponible ({details}) : à activer comme jeu de périmètres"
    else:
        details = f"millésime {parsed.vintage}, {_rows_text(parsed.rows)}"
        if date:
            details += f" ; téléchargé le {date}"
        text = f"chargé ({details})"
        if table is not None:
            unmatched = table.report.get("non_rattaches", 0)
            if unmatched:
                text += f" ; {format_number(unmatched, 0)} code(s) non rattaché(s)"
            for note in table.report.get("notes", []):
                if "indisponible" in note:
                    text += f" ; {note.rstrip('.')}"
    if loaded.previous_note:
        text += f" — {loaded.previous_note}"
    return text


def register_official(
    store: IndicatorStore, sources: Iterable[str] | None = None
) -> dict[str, str]:
    """Add the official indicators found in the cache to ``store``.

    Idempotent: a source already registered from the same files is not rebuilt, a source
    no longer in the cache is removed from the store, and an unreadable cached version is
    replaced by the previous one when the cache keeps it. Nothing is downloaded.

    Parameters
    ----------
    store : IndicatorStore
        The store to fill (its geography joins the codes).
    sources : iterable of str, optional
        Source ids (default: every source, ``crte`` included for its status).

    Returns
    -------
    dict of str to str
        Per source, a French status: ``"chargé (millésime 2021, 34 932 communes…)"``,
        :data:`ABSENT_FR`, or ``"erreur : …"`` (the store then keeps what it had).

    Examples
    --------
    >>> import tempfile
    >>> from unittest import mock
    >>> from territorial import load_geography
    >>> store = IndicatorStore(load_geography())
    >>> with mock.patch.dict("os.environ", {"TERRITORIAL_CACHE_DIR": tempfile.mkdtemp()}):
    ...     register_official(store)["filosofi"]  # empty cache
    'absent : utilisez « Mettre à jour les données officielles »'
    """
    out: dict[str, str] = {}
    for source_id in sources or SOURCE_IDS:
        name = TABLE_PREFIX + source_id
        try:
            loaded, table = _load_source(source_id, store.geo)
        except FetchError as exc:
            out[source_id] = f"erreur : {exc.message}"
            continue
        except Exception as exc:  # a bad file must never break the app
            out[source_id] = f"erreur : lecture impossible ({type(exc).__name__} : {exc})"
            continue
        if loaded is None:
            store.remove_official(name)
            out[source_id] = ABSENT_FR
            continue
        if table is not None:
            store.add_official(table)
        out[source_id] = _loaded_message(source_id, loaded, table)
    return out


def official_indicators(geo: Geography) -> list[OfficialIndicators]:
    """The official indicator tables that can be built from the cache (nothing added).

    Parameters
    ----------
    geo : Geography
        Geography the codes are joined to.

    Returns
    -------
    list of OfficialIndicators
        One per downloaded and readable indicator source (``filosofi``, ``census``,
        ``density``), ready for :meth:`IndicatorStore.add_official`.
    """
    tables = []
    for source_id in INDICATOR_SOURCES:
        with contextlib.suppress(FetchError):
            _, table = _load_source(source_id, geo)
            if table is not None:
                tables.append(table)
    return tables


def join_reports(store: IndicatorStore) -> dict[str, dict[str, JoinReport]]:
    """Join reports of the registered official sources, per source and level.

    Returns
    -------
    dict
        Source id → level → :class:`~territorial.indicators.join.JoinReport` (``summary_fr()`` gives
        the French sentences).
    """
    return {
        name.removeprefix(TABLE_PREFIX): dict(table.report.get("jointures", {}))
        for name, table in store.official_tables.items()
    }


def _size_text(size: float | None) -> str | None:
    if not size:
        return None
    for unit in ("octets", "ko", "Mo", "Go"):
        if size < 1024 or unit == "Go":
            return f"{format_number(size, 0 if unit == 'octets' else 1)} {unit}"
        size /= 1024
    return None  # pragma: no cover


def status_fr(store: IndicatorStore | None = None) -> list[dict[str, Any]]:
    """State of every official source, for the Données page.

    Parameters
    ----------
    store : IndicatorStore, optional
        When given, ``charge`` tells whether the source's indicators are in the store.

    Returns
    -------
    list of dict
        One dict per source of the manifest, with French keys: ``id``, ``libelle``,
        ``editeur``, ``millesime``, ``licence``, ``page``, ``present`` (data in the
        cache), ``ok`` (last attempt succeeded; None if never tried), ``etat``
        (``"à jour"``, ``"échec de la dernière mise à jour"`` or ``"absent"``),
        ``message`` (one French sentence), ``telecharge_le``, ``derniere_tentative``,
        ``lignes`` (per level), ``lignes_texte``, ``sha256``, ``taille``, ``erreur``,
        ``avertissements``, ``indicateurs`` (ids), ``a_verifier`` (resources whose
        address is unconfirmed), ``charge`` and ``rattachement`` (French join report
        lines of the loaded source).

    Examples
    --------
    >>> import tempfile
    >>> from unittest import mock
    >>> with mock.patch.dict("os.environ", {"TERRITORIAL_CACHE_DIR": tempfile.mkdtemp()}):
    ...     [(s["id"], s["etat"]) for s in status_fr()][:2]
    [('crte', 'absent'), ('filosofi', 'absent')]
    """
    manifest = load_manifest()
    out = []
    for source_id, spec in manifest.items():
        record = status(source_id) or {}
        try:
            present = cached_files(source_id) is not None
        except FetchError:
            present = False
        ok = record.get("ok") if record else None
        date = _date_fr(record.get("fetched_at"))
        rows = {k: int(v) for k, v in (record.get("rows") or {}).items()} if present else {}
        error = record.get("error")
        if not present:
            etat = "absent"
            message = ABSENT_FR[0].upper() + ABSENT_FR[1:] + "."
            if error:
                message += f" Dernière tentative en échec : {error}"
        elif ok is False:
            etat = "échec de la dernière mise à jour"
            message = (
                f"La dernière mise à jour a échoué ({error}) ; les données téléchargées le "
                f"{date or '?'} restent utilisées."
            )
        else:
            etat = "à jour"
            when = f"téléchargées le {date}" if date else "présentes dans le cache"
            message = f"Données {when} ({_rows_text(rows) or 'détail inconnu'})."
        checks = [
            f"{details.get('label', name)} : {details.get('note', 'adresse à vérifier')}"
            for name, details in spec["resource_details"].items()
            if details.get("a_verifier")
        ]
        entry = {
            "id": source_id,
            "libelle": spec["label"],
            "editeur": spec["publisher"],
            "millesime": str(spec["vintage"]),
            "licence": spec["licence"],
            "licence_url": spec.get("licence_url"),
            "page": spec.get("page_url"),
            "present": present,
            "ok": ok,
            "etat": etat,
            "message": message,
            "telecharge_le": date if present else None,
            "telecharge_le_iso": record.get("fetched_at") if present else None,
            "derniere_tentative": _date_fr(record.get("attempted_at")),
            "lignes": rows,
            "lignes_texte": _rows_text(rows),
            "sha256": record.get("sha256") if present else None,
            "taille": _size_text(record.get("size")) if present else None,
            "erreur": error,
            "avertissements": list(record.get("warnings") or []) if present else [],
            "indicateurs": [i.id for i in indicators_for(source_id, manifest=manifest)],
            "a_verifier": checks,
            "charge": None,
            "rattachement": [],
        }
        if store is not None:
            table = store.official_tables.get(TABLE_PREFIX + source_id)
            entry["charge"] = table is not None
            if table is not None:
                entry["rattachement"] = [
                    line
                    for report in table.report.get("jointures", {}).values()
                    for line in report.summary_fr()
                ] + list(table.report.get("notes", []))
        out.append(entry)
    return out


# --------------------------------------------------------------------------- CRTE


def load_official_crte(
    geo: Geography, *, previous: bool = False
) -> tuple[PerimeterSet, ValidationReport] | None:
    """The official CRTE perimeter set, from the ANCT table in the cache.

    Parameters
    ----------
    geo : Geography
        Geography the SIRENs are matched against (it is not modified: activate the set
        with ``geo.set_perimeters(pset)``).
    previous : bool, default False
        Read the version replaced by the last update. Used automatically when the current
        cached file cannot be read.

    Returns
    -------
    (PerimeterSet, ValidationReport) or None
        None when the CRTE source was never downloaded. The set's name gives the file and
        the download date; ``pset.source`` adds the vintage, sha256 and address; when the
        groupements table is cached, ``date_signature`` is added to ``pset.perimetres``.

    Raises
    ------
    TableError
        If neither the current nor the previous cached file can be read.

    Examples
    --------
    >>> import tempfile
    >>> from unittest import mock
    >>> from territorial import load_geography
    >>> with mock.patch.dict("os.environ", {"TERRITORIAL_CACHE_DIR": tempfile.mkdtemp()}):
    ...     load_official_crte(load_geography()) is None
    True
    """
    files = cached_files("crte", previous=previous)
    if not files:
        return None
    spec = _spec("crte")
    record = status("crte") or {}
    details = spec["resource_details"]["epci_crte"]
    shown = details.get("mirror_name") or Path(files["epci_crte"]).name
    if previous:
        fetched_at = (record.get("previous") or {}).get("fetched_at")
    else:
        fetched_at = record.get("fetched_at")
    date = _date_fr(fetched_at)
    parts = (["version précédente"] if previous else []) + (
        [f"téléchargé le {date}"] if date else []
    )
    name = f"CRTE officiels (ANCT, fichier « {shown} »{''.join(', ' + p for p in parts)})"
    try:
        pset, report = load_crte(files["epci_crte"], geo, name, filename=shown)
    except TableError:
        if previous:
            raise
        older = None
        with contextlib.suppress(TableError):
            older = load_official_crte(geo, previous=True)
        if older is None:
            raise
        return older
    pset.source = {
        **pset.source,
        "millesime": str(spec["vintage"]),
        "telecharge_le": fetched_at,
        "sha256": None if previous else record.get("sha256"),
        "url": None if previous else record.get("url"),
        "fichier_cache": str(files["epci_crte"]),
        "version": "précédente" if previous else "courante",
    }
    if "groupements" in files and "date_signature" not in pset.perimetres.columns:
        dates = _signature_dates(files["groupements"])
        if dates is not None:
            pset.perimetres = pset.perimetres.assign(
                date_signature=pset.perimetres["code"].map(dates)
            )
    return pset, report


def _signature_dates(path: Path) -> pd.Series | None:
    """Earliest signature date per CRTE id in the cached groupements table (or None)."""
    try:
        frame = read_table(path).frame
    except TableError:
        return None
    columns = {str(c).strip().lstrip("\ufeff").lower(): c for c in frame.columns}
    if "id_crte" not in columns or "date_signature" not in columns:
        return None
    ids = frame[columns["id_crte"]].astype(str).str.strip()
    dates = frame[columns["date_signature"]].astype(str).str.strip()
    keep = (ids != "") & (dates != "")
    return dates[keep].groupby(ids[keep]).min()
