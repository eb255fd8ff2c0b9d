"""Commune components of the socio-economic indicators, from the raw files of ``data/raw/``.

Read at build time only (``python -m territorial.geo.build`` for the populations,
``python -m territorial.indicators.build`` for the rest); the app reads the built parquet
files. Every file goes through :func:`territorial.sources.raw.raw_path` (sha256 checked).

Codes of other vintages (COG 2021 for the comparateur, COG 2024 for the census and
Filosofi) are brought to COG 2025 by :meth:`Geography.resolve_communes` (arrondissements,
merged communes): counts are summed, rates and medians of several old communes are left
missing. The four communes restored on 1 January 2025 out of Neussargues en Pinatelle
(15141) are published only together with it: their figures other than the population are
left missing for the five communes (:data:`SPLIT_NOTE`).

Examples
--------
>>> census = read_census()
>>> int(census.loc["42218", "population_2021"])
172718
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from territorial.sources.raw import raw_manifest, raw_path

__all__ = [
    "CENSUS_FILE",
    "COMPARATEUR_FILE",
    "FILOSOFI_FILE",
    "PROGRAMMES_FILE",
    "QPV_FILE",
    "SPLIT_NOTE",
    "TYPOLOGY_FILES",
    "programme_members",
    "read_census",
    "read_comparateur",
    "read_filosofi",
    "read_typology",
    "split_population",
]

CENSUS_FILE = "datasfun_communes_cog2024_pop2021_chomage2021.csv"
FILOSOFI_FILE = "insee_cc_filosofi_2021_COM.csv"
COMPARATEUR_FILE = "insee_base_cc_comparateur_2022release_RP2018_FILO2019.zip"
PROGRAMMES_FILE = "anct_programmes_superposeur_2024_membres.csv"
QPV_FILE = "anct_qpv2024_communes.csv"
TYPOLOGY_FILES = {
    "ruralite": "anct_ot_grille_ruralite_communes.csv",
    "densite": "anct_ot_grille_densite_communes.csv",
    "centralite": "anct_ot_grille_centralite_communes.csv",
    "montagne": "anct_ot_grille_montagne_communes.csv",
}
MAYOTTE = "976"
SPLIT_NOTE = (
    "communes rétablies le 1er janvier 2025 à partir de Neussargues en Pinatelle (15141) : "
    "les sources antérieures ne publient que le total des cinq communes"
)
_CENSUS_COLUMNS = {
    "population_2021": "population_2021",
    "population_2015": "population_2015",
    "naissances_2022": "naissances_2022",
    "deces_2022": "deces_2022",
    "actifs_15_64_2021": "pop_15_64_active_2021",
    "chomeurs_15_64_2021": "pop_15_64_chomage_2021",
}


def read_census() -> pd.DataFrame:
    """INSEE census 2021 (and 2015) and civil status 2022, one row per COG 2024 code.

    The file has one row per commune × postcode: rows are deduplicated on the code, and
    delegated communes (``COMD``, which repeat their commune nouvelle's figures) dropped.
    Mayotte's communes carry 0 for figures the census does not publish there: missing.
    """
    frame = pd.read_csv(raw_path(CENSUS_FILE), dtype=str, keep_default_na=False)
    frame = frame[frame["commune_type"] != "COMD"].drop_duplicates("insee_com")
    out = pd.DataFrame(
        {
            ours: pd.to_numeric(frame[theirs], errors="coerce")
            for ours, theirs in _CENSUS_COLUMNS.items()
        }
    )
    out.index = pd.Index(frame["insee_com"].to_numpy(), name="code")
    out.loc[(frame["insee_dep"] == MAYOTTE).to_numpy()] = np.nan
    return out.astype(float)


def split_population(
    population: pd.Series, restored: Mapping[str, str], shares_from: pd.Series
) -> tuple[pd.Series, list[str]]:
    """Share the population of a commune split since the census among its pieces.

    ``population`` is indexed by current codes, the split parent holding the whole
    figure; ``restored`` maps each restored commune to its parent; ``shares_from`` gives
    the weights (the populations of the geography source). Returns the new populations
    and the codes whose figure is an estimate.

    >>> pop = pd.Series({"p": 100.0, "a": np.nan})
    >>> split_population(pop, {"a": "p"}, pd.Series({"p": 3.0, "a": 1.0}))[0].to_dict()
    {'p': 75.0, 'a': 25.0}
    """
    out = population.copy()
    estimated: list[str] = []
    by_parent: dict[str, list[str]] = {}
    for child, parent in restored.items():
        by_parent.setdefault(parent, [parent]).append(child)
    for parent, group in by_parent.items():
        total = out.get(parent)
        weights = shares_from.reindex(group).astype(float)
        if total is None or pd.isna(total) or weights.isna().any() or weights.sum() <= 0:
            continue
        out = out.reindex(out.index.union(group))
        out.loc[group] = _largest_remainder(total, weights).to_numpy()
        estimated += group
    return out, sorted(estimated)


def _largest_remainder(total: float, weights: pd.Series) -> pd.Series:
    """Whole numbers proportional to ``weights`` that add up exactly to ``total``.

    >>> _largest_remainder(10, pd.Series([1.0, 1.0, 1.0], index=list("abc"))).tolist()
    [4.0, 3.0, 3.0]
    """
    exact = total * weights / weights.sum()
    whole = np.floor(exact)
    left = int(round(total - whole.sum()))
    order = (exact - whole).sort_values(ascending=False, kind="stable").index[:left]
    whole[order] += 1
    return whole


def read_filosofi() -> pd.DataFrame:
    """INSEE Filosofi 2021 by commune; secret (``s``) and empty cells are missing."""
    frame = pd.read_csv(raw_path(FILOSOFI_FILE), sep=";", dtype=str, keep_default_na=False)
    columns = {
        "menages_fiscaux_2021": "NBMENFISC21",
        "personnes_menages_fiscaux_2021": "NBPERSMENFISC21",
        "revenu_median_2021": "MED21",
        "taux_pauvrete_2021": "TP6021",
        "part_prestations_sociales_2021": "PPSOC21",
        "part_minima_sociaux_2021": "PPMINI21",
        "rapport_interdecile_2021": "RD21",
    }
    out = pd.DataFrame(
        {
            ours: pd.to_numeric(frame[theirs].str.replace(",", "."), errors="coerce")
            for ours, theirs in columns.items()
        }
    )
    out.index = pd.Index(frame["CODGEO"].to_numpy(), name="code")
    return out.astype(float)


def read_comparateur() -> pd.DataFrame:
    """INSEE comparateur de territoires (census 2018, establishments 2018), COG 2021."""
    with zipfile.ZipFile(raw_path(COMPARATEUR_FILE)) as archive:
        payload = archive.read("base_cc_comparateur.CSV")
    frame = pd.read_csv(io.BytesIO(payload), sep=";", dtype=str, encoding="latin-1")
    columns = {
        "logements_2018": "P18_LOG",
        "logements_vacants_2018": "P18_LOGVAC",
        "etablissements_2018": "ETTOT18",
        "population_2018": "P18_POP",
    }
    out = pd.DataFrame(
        {ours: pd.to_numeric(frame[theirs], errors="coerce") for ours, theirs in columns.items()}
    )
    out.index = pd.Index(frame["CODGEO"].to_numpy(), name="code")
    return out.astype(float)


def read_typology(name: str) -> pd.Series:
    """Class label of each commune in an Observatoire des territoires grid (COG 2025)."""
    frame = pd.read_csv(
        raw_path(TYPOLOGY_FILES[name]), dtype=str, encoding="utf-8-sig", keep_default_na=False
    )
    labels = frame.iloc[:, 2].str.strip()
    return pd.Series(labels.to_numpy(), index=pd.Index(frame["insee_com"].to_numpy(), name="code"))


def programme_members(programmes: Iterable[str] | None = None) -> pd.DataFrame:
    """Members of the ANCT programmes (``programme``, ``id``, ``lib``, ``code``, ``code_type``)."""
    frame = pd.read_csv(raw_path(PROGRAMMES_FILE), dtype=str, keep_default_na=False)
    if programmes is not None:
        frame = frame[frame["programme"].isin(list(programmes))]
    # Several members in one commune share a row (sometimes repeated) of "; "-joined ids and
    # names, in the same order: one row per member, each counted once.
    ids = frame["id"].str.split("; ")
    names = frame["lib"].str.split("; ")
    aligned = ids.str.len() == names.str.len()
    frame = frame.assign(id=ids, lib=names.where(aligned, ids.map(lambda v: [None] * len(v))))
    frame = frame.explode(["id", "lib"]).assign(
        id=lambda f: f["id"].str.strip(), lib=lambda f: f["lib"].str.strip()
    )
    frame = frame.drop_duplicates(["programme", "id", "code"])
    return frame.reset_index(drop=True)


def qpv_communes() -> pd.DataFrame:
    """Communes touched by each QPV 2024 (``insee_com``, ``code_qp``)."""
    return pd.read_csv(raw_path(QPV_FILE), dtype=str, keep_default_na=False)


def provenance(name: str) -> dict:
    """Producer, vintage, licence and sha256 of a raw file (from its manifest)."""
    return dict(raw_manifest()[name])


# --------------------------------------------------------------------------- components

PROGRAMMES = {
    "pvd": "Petites villes de demain",
    "acv": "Action cœur de ville",
    "acv2": "Action cœur de ville",
    "va": "Villages d'avenir",
    "fs": "France services",
    "ti": "Territoires d'industrie",
    "fabt": "Fabriques de territoire",
    "manuprox": "Manufactures de proximité",
}
"""ANCT programmes shipped as territory attributes (code in the source → French name)."""

_COUNTED = {
    "n_france_services": ("fs",),
    "n_fabriques_territoire": ("fabt",),
    "n_manufactures_proximite": ("manuprox",),
    "n_petites_villes_demain": ("pvd",),
    "n_action_coeur_ville": ("acv", "acv2"),
    "n_villages_avenir": ("va",),
}


def _resolved(table: pd.DataFrame, geo, additive, name: str, split: set[str]):
    """Re-index a commune table on today's codes (see ``official.resolve_table``)."""
    from territorial.sources.official_build import resolve_table

    frame, report = resolve_table(table, geo, "commune", additive, name)
    frame = frame.reindex(geo.communes["code"])
    frame.loc[frame.index.isin(split)] = np.nan
    return frame, report.to_dict()


def _split_group(geo) -> set[str]:
    restored = geo.manifest["repairs"].get("geometrie_des_communes_retablies", {})
    return set(restored) | set(restored.values())


def _communes_of_sirens(geo, sirens: set[str]) -> tuple[pd.Series, list[str]]:
    """Communes designated by SIRENs of EPCIs (today's or of 2022) or of communes."""
    communes = geo.communes.set_index("code")
    inside = communes["epci"].isin(sirens)
    former = geo.former_epcis[geo.former_epcis["siren"].isin(sirens)]
    inside |= communes.index.isin(former["commune"].dropna())
    alone = {s: geo.commune_from_siren(s) for s in sirens}
    inside |= communes.index.isin([c for c in alone.values() if c])
    known = set(communes["epci"]) | set(former["siren"]) | {s for s, c in alone.items() if c}
    return inside, sorted(sirens - known)


def census_components(geo) -> tuple[pd.DataFrame, dict]:
    """Census 2021/2015 and civil status 2022 counts, per current commune."""
    table = read_census().rename(
        columns={"population_2021": "population_rp_2021", "population_2015": "population_rp_2015"}
    )
    frame, report = _resolved(table, geo, table.columns, "Recensement 2021", _split_group(geo))
    complete = frame.notna().all(axis=1)
    frame = frame.where(complete, np.nan)
    frame["solde_naturel_2022"] = frame["naissances_2022"] - frame["deces_2022"]
    return frame, report


def filosofi_components(geo, catalogue) -> tuple[pd.DataFrame, dict]:
    """Filosofi 2021: household counts, and weighted sums of the rates and medians."""
    table = read_filosofi()
    counts = ["menages_fiscaux_2021", "personnes_menages_fiscaux_2021"]
    frame, report = _resolved(table, geo, counts, "Filosofi 2021", _split_group(geo))
    out = pd.DataFrame({"menages_fiscaux_2021": frame["menages_fiscaux_2021"]})
    weights = frame["personnes_menages_fiscaux_2021"]
    for column in table.columns.drop(counts):
        out = out.join(catalogue[column].commune_components(frame[column], weights))
    secret = {c: int(frame[c].isna().sum()) for c in table.columns.drop(counts)}
    return out, {**report, "communes_sans_valeur": secret}


def comparateur_components(geo) -> tuple[pd.DataFrame, dict]:
    """Dwellings, vacant dwellings, establishments and population of the 2018 census."""
    table = read_comparateur()
    frame, report = _resolved(table, geo, table.columns, "Comparateur 2018", _split_group(geo))
    return frame, report


def typology_components(geo, catalogue) -> tuple[pd.DataFrame, dict]:
    """Population of each commune in each class of the four typologies (``__k`` columns)."""
    population = geo.communes.set_index("code")["population"].astype(float)
    frames, report = [], {}
    for name in TYPOLOGY_FILES:
        indicator = catalogue[f"typologie_{name}"]
        labels = read_typology(name).reindex(population.index)
        if name == "montagne":
            labels = labels.fillna(indicator.categories[-1])  # absent: not a mountain commune
        position = labels.map({label: i + 1 for i, label in enumerate(indicator.categories)})
        frames.append(indicator.commune_components(position, population))
        unknown = labels.notna() & position.isna()
        report[name] = {
            "communes_sans_classe": int(position.isna().sum()),
            "libelles_ecartes": sorted(labels[unknown].unique().tolist()),
        }
    return pd.concat(frames, axis=1), report


def programme_components(geo) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Counts of programme members per commune, and the member list for the fiches."""
    members = programme_members(PROGRAMMES)
    population = geo.communes.set_index("code")["population"].astype(float)
    by_commune = members[members["code_type"] == "insee_com"]
    resolved = geo.resolve_communes(by_commune["code"].reset_index(drop=True))
    listing = by_commune.reset_index(drop=True).assign(commune=resolved["code"].to_numpy())
    unknown = sorted(listing.loc[listing["commune"].isna(), "code"].unique())
    listing = listing.dropna(subset=["commune"])
    out = pd.DataFrame(index=population.index)
    for column, codes in _COUNTED.items():
        part = listing[listing["programme"].isin(codes)]
        if column in {"n_petites_villes_demain", "n_action_coeur_ville", "n_villages_avenir"}:
            part = part.drop_duplicates("commune")  # a label of the commune, counted once
        out[column] = part.groupby("commune").size().reindex(out.index).fillna(0.0)
    industry = set(members.loc[members["programme"] == "ti", "code"])
    in_industry, unknown_sirens = _communes_of_sirens(geo, industry)
    out["pop_territoires_industrie"] = population.where(in_industry, 0.0).where(population.notna())
    qpv = qpv_communes()
    qpv = qpv.assign(commune=geo.resolve_communes(qpv["insee_com"])["code"].to_numpy())
    qpv = qpv.dropna(subset=["commune"]).assign(population=lambda f: f["commune"].map(population))
    # a QPV touching several communes is counted once, in the most populated one
    first = qpv.sort_values(["code_qp", "population", "commune"], ascending=[True, False, True])
    first = first.drop_duplicates("code_qp")
    out["n_qpv"] = first.groupby("commune").size().reindex(out.index).fillna(0.0)
    listing = pd.concat(
        [
            listing[["programme", "id", "lib", "commune"]],
            first.rename(columns={"code_qp": "id"}).assign(programme="qpv", lib=first["code_qp"])[
                ["programme", "id", "lib", "commune"]
            ],
        ],
        ignore_index=True,
    )
    listing["programme_nom"] = listing["programme"].map(
        {**PROGRAMMES, "qpv": "Quartiers prioritaires de la politique de la ville"}
    )
    report = {
        "membres_lus": int(len(members)),
        "codes_commune_inconnus": unknown,
        "qpv": int(qpv["code_qp"].nunique()),
        "territoires_industrie_membres": len(industry),
        "territoires_industrie_siren_inconnus": unknown_sirens,
    }
    return out, listing.sort_values(["programme", "commune", "id"], ignore_index=True), report


def socio_components(geo, catalogue) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Every socio-economic component per current commune, the programme list, the report."""
    census, census_report = census_components(geo)
    filosofi, filosofi_report = filosofi_components(geo, catalogue)
    comparateur, comparateur_report = comparateur_components(geo)
    typologies, typology_report = typology_components(geo, catalogue)
    programmes, listing, programme_report = programme_components(geo)
    frame = pd.concat([census, filosofi, comparateur, typologies, programmes], axis=1)
    report = {
        "recensement_2021": _short(census_report),
        "filosofi_2021": _short(filosofi_report),
        "comparateur_2018": _short(comparateur_report),
        "typologies": typology_report,
        "programmes": programme_report,
        "communes_non_separables": sorted(_split_group(geo)),
        "communes_non_separables_motif": SPLIT_NOTE,
    }
    return frame, listing, report


def _short(report: dict) -> dict:
    """The join report without its long per-row lists (kept as counts)."""
    out = {}
    for key, value in report.items():
        if isinstance(value, list) and len(value) > 20:
            out[key] = len(value)
            out[f"{key}_exemples"] = value[:20]
        else:
            out[key] = value
    return out
