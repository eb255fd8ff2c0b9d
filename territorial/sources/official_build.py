"""Turn a parsed official source into the indicator values of every level (join on codes, aggregation)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from territorial.geo.geography import Geography
from territorial.indicators.join import JoinReport
from territorial.indicators.store import OfficialIndicators
from territorial.sources.official_catalogue import (
    _CENSUS_PAIRS,
    _FILOSOFI_COUNTS,
    _LEVEL_PLURALS,
    _RATES,
    DENSITY_GROUPS,
    INSEE_LEVELS,
    TABLE_PREFIX,
    _estimate_text,
    _spec,
    indicators_for,
)
from territorial.sources.parsing import ParsedSource

__all__ = ["build_official", "resolve_table"]


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
        From :func:`territorial.sources.load_cached` (or :func:`territorial.sources.parse.parse`).
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


@dataclass
class _Loaded:
    parsed: ParsedSource
    previous_note: str | None
