"""Catalyst counts and densities per territory (per inhabitant, per km²) and the zones blanches (gaps)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from territorial.analysis.catalyst_places import _crs, _zone
from territorial.geo.geography import LEVEL_LABELS, Geography

if TYPE_CHECKING:
    from territorial.analysis.catalysts import Catalysts

__all__ = ["catalyst_counts", "densities", "gaps", "nearest"]


# --------------------------------------------------------------------------- counts
def _unit_of_communes(geo: Geography, level: str, communes: pd.Series) -> pd.Series:
    if level == "commune":
        return communes
    if level == "france":
        return pd.Series("FR", index=communes.index)
    hierarchy = geo.hierarchy()
    if level not in hierarchy.columns:
        raise ValueError(f"Niveau inconnu : « {level} »")
    return communes.map(hierarchy[level])


def catalyst_counts(catalysts: Catalysts, geo: Geography, level: str) -> pd.Series:
    """Number of placed catalysts in every unit of ``level`` (all of France, zeros included).

    Parameters
    ----------
    catalysts : Catalysts
        From :func:`load_catalysts`.
    geo : Geography
        The geography whose active perimeter set defines the ``perimetre`` level.
    level : str
        ``"commune"``, ``"epci"``, ``"perimetre"``, ``"departement"``, ``"region"`` or
        ``"france"``.

    Returns
    -------
    pandas.Series
        ``n_catalyseurs`` (int) indexed by unit code.

    Examples
    --------
    >>> from territorial import load_geography
    >>> geo = load_geography()
    >>> from territorial.analysis.catalysts import load_catalysts
    >>> catalysts, _ = load_catalysts(b"nom;code_commune\\nA;42218\\nB;42218\\n", geo, "t.csv")
    >>> counts = catalyst_counts(catalysts, geo, "region")
    >>> int(counts["84"]), int(counts.sum()), len(counts)
    (2, 2, 18)
    """
    placed = catalysts.placed["commune"]
    units = _unit_of_communes(geo, level, placed)
    codes = ["FR"] if level == "france" else geo.table(level, "france")["code"]
    index = pd.Index(codes)
    counts = units.value_counts().reindex(index, fill_value=0).astype("int64")
    counts.index.name = "code"
    counts.name = "n_catalyseurs"
    return counts


def densities(catalysts: Catalysts, store, level: str, scope: str = "metropole") -> pd.DataFrame:
    """Catalysts per 100 000 inhabitants and per 1 000 km² in each unit of ``level``.

    Parameters
    ----------
    catalysts : Catalysts
        From :func:`load_catalysts`.
    store : territorial.indicators.store.IndicatorStore
        Gives ``population`` and ``superficie_km2`` (:meth:`IndicatorStore.values`).
    level : str
        A level of :data:`territorial.indicators.store.AGGREGATION_LEVELS`.
    scope : str, default "metropole"
        Study scope (see :func:`territorial.geo.geography.parse_scope`).

    Returns
    -------
    pandas.DataFrame
        Indexed by unit code: ``nom``, ``n_catalyseurs``, ``population``,
        ``superficie_km2``, ``pour_100k_hab`` and ``pour_1000_km2`` (missing when the
        population or the area is zero or unknown).

    Examples
    --------
    >>> from territorial import load_geography
    >>> from territorial.indicators.store import IndicatorStore
    >>> geo = load_geography()
    >>> from territorial.analysis.catalysts import load_catalysts
    >>> catalysts, _ = load_catalysts(b"nom;code_commune\\nA;42218\\n", geo, "t.csv")
    >>> table = densities(catalysts, IndicatorStore(geo), "departement")
    >>> int(table.at["42", "n_catalyseurs"]), bool(table.at["42", "pour_100k_hab"] > 0)
    (1, True)
    """
    values = store.values(level, scope)
    counts = catalyst_counts(catalysts, store.geo, level).reindex(values.index, fill_value=0)
    names = {"FR": "France"} if level == "france" else store.geo.names(level)
    population = values["population"].astype(float)
    area = values["superficie_km2"].astype(float)
    table = pd.DataFrame(
        {
            "nom": values.index.map(lambda code: names.get(code, code)),
            "n_catalyseurs": counts.astype("int64"),
            "population": population,
            "superficie_km2": area,
        },
        index=values.index,
    )
    table["pour_100k_hab"] = counts / population.where(population > 0) * 100_000
    table["pour_1000_km2"] = counts / area.where(area > 0) * 1_000
    table.index.name = "code"
    return table


# --------------------------------------------------------------------------- distances
def _catalyst_frame(catalysts: Catalysts, geo: Geography) -> pd.DataFrame:
    """Placed catalysts with a point, and the zone (metro / overseas région) they are in."""
    placed = catalysts.placed
    placed = placed[placed["longitude"].notna() & placed["latitude"].notna()].copy()
    placed["zone"] = _zone(placed["commune"].map(geo.hierarchy()["region"]))
    return placed


def _projected(lon: np.ndarray, lat: np.ndarray, zone: str) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import Transformer

    transformer = Transformer.from_crs(4326, _crs(zone), always_xy=True)
    x, y = transformer.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x), np.asarray(y)


def _unit_points(geo: Geography, level: str, scope: str | None) -> pd.DataFrame:
    """Representative point (lon, lat), zone and name of each unit of a level and scope."""
    table = geo.table(level, scope)
    region = table["code"] if level == "region" else table["region"]
    present = table.geometry.notna().to_numpy() & ~table.geometry.is_empty.to_numpy()
    points = np.full(len(table), None, dtype=object)
    points[present] = shapely.point_on_surface(table.geometry.to_numpy()[present])
    return pd.DataFrame(
        {
            "nom": table["nom"].to_numpy(),
            "population": table["population"].to_numpy(dtype=float),
            "longitude": shapely.get_x(points.astype(object)),
            "latitude": shapely.get_y(points.astype(object)),
            "zone": _zone(region).to_numpy(),
        },
        index=pd.Index(table["code"].to_numpy(), name="code"),
    )


def _nearest_catalyst(
    units: pd.DataFrame, catalysts: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Distance (km) to, and row label of, the nearest catalyst of the same zone."""
    distance = np.full(len(units), np.nan)
    label = np.full(len(units), None, dtype=object)
    for zone in units["zone"].unique():
        rows = np.flatnonzero((units["zone"] == zone).to_numpy() & units["longitude"].notna())
        pool = catalysts[catalysts["zone"] == zone]
        if not len(rows) or pool.empty:
            continue
        ux, uy = _projected(units["longitude"].iloc[rows], units["latitude"].iloc[rows], zone)
        cx, cy = _projected(pool["longitude"], pool["latitude"], zone)
        tree = shapely.STRtree(shapely.points(cx, cy))
        inputs, hits = tree.query_nearest(shapely.points(ux, uy), all_matches=False)
        distance[rows[inputs]] = np.hypot(ux[inputs] - cx[hits], uy[inputs] - cy[hits]) / 1000
        label[rows[inputs]] = pool.index.to_numpy()[hits]
    return distance, label


def gaps(
    catalysts: Catalysts,
    geo: Geography,
    level: str,
    scope: str | None,
    fragile_codes: Iterable[str],
) -> pd.DataFrame:
    """ "Zones blanches": fragile territories with no catalyst inside, farthest first.

    Parameters
    ----------
    catalysts : Catalysts
        From :func:`load_catalysts`.
    geo : Geography
        The geography.
    level : str
        Level of the territories (``"epci"``, ``"departement"``...).
    scope : str
        Study scope; codes outside it are ignored.
    fragile_codes : iterable of str
        Codes of the territories to examine, normally the most fragile quintile
        (``classe == 5``) of :func:`territorial.analysis.fragility.fragility`.

    Returns
    -------
    pandas.DataFrame
        Indexed by unit code: ``nom``, ``population``, ``distance_km`` (from the unit's
        representative point to the nearest catalyst, both in Lambert-93, or in the
        overseas région's UTM projection), ``catalyseur_proche`` (its name),
        ``commune_catalyseur`` and ``nom_commune_catalyseur``; sorted by distance
        descending (a unit with no catalyst in its part of France comes first, with a
        missing distance).

    Examples
    --------
    >>> from territorial import load_geography
    >>> geo = load_geography()
    >>> from territorial.analysis.catalysts import load_catalysts
    >>> catalysts, _ = load_catalysts(b"nom;code_commune\\nA;13055\\n", geo, "t.csv")
    >>> table = gaps(catalysts, geo, "departement", "metropole", ["13", "59"])
    >>> table.index.tolist(), table.at["59", "catalyseur_proche"]
    (['59'], 'A')
    >>> round(float(table.at["59", "distance_km"]), -2)
    800.0
    """
    units = _unit_points(geo, level, scope)
    wanted = pd.Index([str(code) for code in fragile_codes]).unique()
    units = units[units.index.isin(wanted)]
    counts = catalyst_counts(catalysts, geo, level)
    units = units[counts.reindex(units.index, fill_value=0).to_numpy() == 0]
    pool = _catalyst_frame(catalysts, geo)
    distance, label = _nearest_catalyst(units, pool)
    table = units[["nom", "population"]].copy()
    table["distance_km"] = distance
    found = pd.Series(label, index=units.index)
    table["catalyseur_proche"] = found.map(pool["nom"])
    table["commune_catalyseur"] = found.map(pool["commune"])
    table["nom_commune_catalyseur"] = found.map(pool["nom_commune"])
    table = table.assign(_missing=table["distance_km"].isna(), _code=table.index)
    table = table.sort_values(["_missing", "distance_km", "_code"], ascending=[False, False, True])
    return table.drop(columns=["_missing", "_code"])


def nearest(
    catalysts: Catalysts, geo: Geography, level: str, code: str, k: int = 5
) -> pd.DataFrame:
    """The ``k`` catalysts nearest to a territory, those inside it first (distance 0).

    Distances go from the territory's representative point to each catalyst's point
    (Lambert-93, or the overseas région's UTM projection), among the catalysts of the same
    part of France.

    Returns
    -------
    pandas.DataFrame
        Columns ``ligne``, ``nom``, ``type_libelle``, ``commune``, ``nom_commune``,
        ``distance_km`` and ``dans_le_territoire``, nearest first.

    Raises
    ------
    ValueError
        Unknown territory code (French message).

    Examples
    --------
    >>> from territorial import load_geography
    >>> geo = load_geography()
    >>> from territorial.analysis.catalysts import load_catalysts
    >>> catalysts, _ = load_catalysts(b"nom;code_commune\\nA;42218\\nB;69123\\n", geo, "t.csv")
    >>> table = nearest(catalysts, geo, "departement", "42", k=2)
    >>> table["nom"].tolist(), float(table["distance_km"].iat[0]), table["dans_le_territoire"].tolist()
    (['A', 'B'], 0.0, [True, False])
    """
    units = _unit_points(geo, level, "france")
    if code not in units.index:
        raise ValueError(f"Territoire inconnu : « {code} » ({LEVEL_LABELS.get(level, level)})")
    unit = units.loc[[code]]
    zone = unit["zone"].iat[0]
    pool = _catalyst_frame(catalysts, geo)
    pool = pool[pool["zone"] == zone]
    inside = _unit_of_communes(geo, level, pool["commune"]) == code
    if pool.empty or unit["longitude"].isna().iat[0]:
        distance = np.full(len(pool), np.nan)
    else:
        ux, uy = _projected(unit["longitude"], unit["latitude"], zone)
        cx, cy = _projected(pool["longitude"], pool["latitude"], zone)
        distance = np.hypot(cx - ux[0], cy - uy[0]) / 1000
    table = pool[["ligne", "nom", "type_libelle", "commune", "nom_commune"]].copy()
    table["distance_km"] = np.where(inside.to_numpy(), 0.0, distance)
    table["dans_le_territoire"] = inside.to_numpy()
    table["_true"] = distance
    table = table.sort_values(["distance_km", "_true", "ligne"])
    return table.drop(columns="_true").head(k).reset_index(drop=True)
