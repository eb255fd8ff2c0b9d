"""Place each catalyst in a commune: by coordinates (WGS84 or Lambert-93), by postcode, by commune code."""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from territorial.geo.geography import Geography
from territorial.geo.postcodes import lookup_postcodes
from territorial.indicators.numeric import parse_numbers

if TYPE_CHECKING:
    from territorial.analysis.catalysts import CatalystReport

__all__ = ["locate_points", "lookup_postcodes"]


# Lambert-93 (EPSG:2154) bounds of metropolitan France, with a margin, in metres.
_L93_X = (0.0, 1_300_000.0)

_L93_Y = (6_000_000.0, 7_200_000.0)

_OVERSEAS_CRS = {"01": 5490, "02": 5490, "03": 2972, "04": 2975, "06": 4471}

_METRO_CRS = 2154

_TREES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


# --------------------------------------------------------------------------- geometry
def _commune_tree(geo: Geography) -> tuple[shapely.STRtree, np.ndarray, np.ndarray]:
    """STRtree over the detailed commune contours, their codes and geometries (cached)."""
    if geo not in _TREES:
        detail = geo.detail_geometry
        detail = detail[detail.notna() & ~detail.is_empty]
        geoms = detail.to_numpy()
        _TREES[geo] = (shapely.STRtree(geoms), detail.index.to_numpy(dtype=object), geoms)
    return _TREES[geo]


def locate_points(geo: Geography, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Commune code holding each WGS84 point (``None`` when none does).

    A point on a border goes to the commune with the smallest code.

    Examples
    --------
    >>> from territorial import load_geography
    >>> locate_points(load_geography(), np.array([2.3376, 7.0]), np.array([48.8606, 50.0]))
    array(['75056', None], dtype=object)
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    out = np.full(len(lon), None, dtype=object)
    valid = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
    if not len(valid):
        return out
    tree, codes, _ = _commune_tree(geo)
    points = shapely.points(lon[valid], lat[valid])
    inputs, hits = tree.query(points, predicate="intersects")
    if len(inputs):
        order = np.lexsort((hits, inputs))
        inputs, hits = inputs[order], hits[order]
        first = np.unique(inputs, return_index=True)[1]
        out[valid[inputs[first]]] = codes[hits[first]]
    return out


def _commune_points(geo: Geography, communes: Iterable[str]) -> pd.DataFrame:
    """Representative point (lon, lat) of the detailed contour of each commune."""
    detail = geo.detail_geometry
    codes = pd.Index(sorted(set(communes))).intersection(detail.index)
    geoms = detail.reindex(codes)
    present = geoms.notna().to_numpy()
    points = shapely.point_on_surface(geoms[present].to_numpy())
    frame = pd.DataFrame(
        {"longitude": shapely.get_x(points), "latitude": shapely.get_y(points)},
        index=codes[present],
    )
    return frame


def _zone(region: pd.Series) -> pd.Series:
    """``"metro"`` or the overseas région code, which selects the projected CRS."""
    return region.where(region.isin(list(_OVERSEAS_CRS)), "metro")


def _crs(zone: str) -> int:
    return _OVERSEAS_CRS.get(zone, _METRO_CRS)


def _parse_coordinates(
    frame: pd.DataFrame, lat_col: str | None, lon_col: str | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Floats for both columns, and which rows had text that is not a number."""
    if lat_col is None or lon_col is None:
        nan = np.full(len(frame), np.nan)
        return nan, nan.copy(), np.zeros(len(frame), dtype=bool)
    lat, _ = parse_numbers(frame[lat_col])
    lon, _ = parse_numbers(frame[lon_col])
    filled = (frame[lat_col] != "").to_numpy() | (frame[lon_col] != "").to_numpy()
    unreadable = filled & (lat.isna().to_numpy() | lon.isna().to_numpy())
    return lat.to_numpy(dtype=float), lon.to_numpy(dtype=float), unreadable


def _from_lambert93(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convert the values that look like Lambert-93 metres (x, y) to WGS84 degrees."""
    metric = (lon >= _L93_X[0]) & (lon <= _L93_X[1]) & (lat >= _L93_Y[0]) & (lat <= _L93_Y[1])
    metric &= (np.abs(lon) > 180) | (np.abs(lat) > 90)
    if metric.any():
        from pyproj import Transformer

        transformer = Transformer.from_crs(_METRO_CRS, 4326, always_xy=True)
        lon, lat = lon.copy(), lat.copy()
        lon[metric], lat[metric] = transformer.transform(lon[metric], lat[metric])
    return lon, lat, metric


def _place(
    frame: pd.DataFrame,
    columns: dict[str, str],
    geo: Geography,
    names: list[str],
    lines: np.ndarray,
    report: CatalystReport,
    has_coords: bool,
) -> dict[str, list]:
    """Commune, point and placement method of every row (see the module docstring)."""
    n = len(frame)
    empty = pd.Series([""] * n, index=frame.index)

    # 1. commune codes
    code_text = frame[columns["commune"]].astype(str).str.strip() if "commune" in columns else empty
    code_values = code_text.tolist()  # fast access in the loops
    resolved = geo.resolve_communes(code_text)
    by_code = resolved["code"].where(code_text != "").to_numpy(dtype=object)
    for i in np.flatnonzero((code_text != "").to_numpy() & pd.isna(by_code)):
        report.unknown_codes.append({"ligne": int(lines[i]), "valeur": code_values[i]})
    changed = pd.notna(by_code) & (resolved["how"] != "exact").to_numpy()
    for i in np.flatnonzero(changed):
        report.remapped.append(
            {
                "ligne": int(lines[i]),
                "valeur": code_values[i],
                "code": by_code[i],
                "regle": resolved["how"].iat[i],
            }
        )

    # 2. coordinates
    lat, lon, unreadable = _parse_coordinates(
        frame, columns.get("latitude") if has_coords else None, columns.get("longitude")
    )
    lon, lat, metric = _from_lambert93(lon, lat)
    report.lambert93 = int(metric.sum())
    by_point = locate_points(geo, lon, lat)
    given = np.isfinite(lon) & np.isfinite(lat)
    retry = np.flatnonzero(given & pd.isna(by_point))
    if len(retry):
        swapped = locate_points(geo, lat[retry], lon[retry])
        for i, commune in zip(retry, swapped, strict=True):
            if commune is not None:
                lon[i], lat[i] = lat[i], lon[i]
                by_point[i] = commune
                report.swapped.append({"ligne": int(lines[i]), "nom": names[i]})

    # 3. postcodes
    cp_text = (
        frame[columns["code_postal"]].astype(str).str.strip() if "code_postal" in columns else empty
    )
    by_postcode = [lookup_postcodes(v) if v else () for v in cp_text]
    cp_values = cp_text.tolist()  # fast access in the loop
    outside_by_line: dict[int, dict] = {}

    communes, methods, points = [], [], []
    for i in range(n):
        line, name = int(lines[i]), names[i]
        postcode = cp_values[i]
        reasons: list[str] = []
        commune = method = None
        if by_code[i] is not None and pd.notna(by_code[i]):
            commune, method = by_code[i], "code"
        elif code_values[i]:
            hint = " — c'est peut-être un code postal" if lookup_postcodes(code_values[i]) else ""
            reasons.append(f"code commune inconnu « {code_values[i]} »{hint}")
        if unreadable[i]:
            report.unreadable_coordinates.append({"ligne": line, "nom": name})
            reasons.append("coordonnées illisibles")
        elif given[i] and by_point[i] is None:
            outside_by_line[line] = {
                "ligne": line,
                "nom": name,
                "latitude": float(lat[i]),
                "longitude": float(lon[i]),
                "localise_par": None,
            }
            report.outside_france.append(outside_by_line[line])
            reasons.append("coordonnées hors de toute commune française (en mer ou à l'étranger)")
        elif given[i] and commune is None:
            commune, method = by_point[i], "coordonnées"
        elif given[i] and by_point[i] != commune:
            report.disagreements.append(
                {
                    "ligne": line,
                    "nom": name,
                    "commune": commune,
                    "selon": "coordonnées",
                    "autre_commune": by_point[i],
                }
            )
        candidates = by_postcode[i]
        if postcode and not candidates:
            report.unknown_postcodes.append({"ligne": line, "valeur": postcode})
            if commune is None:
                reasons.append(f"code postal inconnu « {postcode} »")
        elif candidates and commune is None and len(candidates) == 1:
            commune, method = candidates[0], "code postal"
        elif candidates and commune is None:
            report.ambiguous_postcodes.append(
                {"ligne": line, "nom": name, "code_postal": postcode, "communes": list(candidates)}
            )
            reasons.append(
                f"code postal ambigu « {postcode} » ({len(candidates)} communes possibles)"
            )
        elif candidates and commune not in candidates:
            report.disagreements.append(
                {
                    "ligne": line,
                    "nom": name,
                    "commune": commune,
                    "selon": "code postal",
                    "autre_commune": ", ".join(candidates),
                }
            )
        if commune is not None:
            if line in outside_by_line:
                outside_by_line[line]["localise_par"] = method
        elif not reasons:
            reasons.append("aucune localisation (ni code commune, ni coordonnées, ni code postal)")
        if commune is None:
            report.unplaced.append({"ligne": line, "nom": name, "raison": " ; ".join(reasons)})
        own_point = commune is not None and given[i] and by_point[i] == commune
        points.append((lon[i], lat[i]) if own_point else None)
        communes.append(commune)
        methods.append(method)

    centres = _commune_points(
        geo, [c for c, p in zip(communes, points, strict=True) if c and not p]
    )
    centre_lon, centre_lat = centres["longitude"].to_dict(), centres["latitude"].to_dict()
    longitude, latitude, point_kind = [], [], []
    for commune, point in zip(communes, points, strict=True):
        if point is not None:
            longitude.append(float(point[0]))
            latitude.append(float(point[1]))
            point_kind.append("coordonnées")
        elif commune is not None and commune in centre_lon:
            longitude.append(float(centre_lon[commune]))
            latitude.append(float(centre_lat[commune]))
            point_kind.append("commune")
        else:
            longitude.append(np.nan)
            latitude.append(np.nan)
            point_kind.append(None)
    no_point = [c for c, k in zip(communes, point_kind, strict=True) if c and k is None]
    if no_point:
        report.notes.append(
            f"{len(no_point)} catalyseurs dans une commune sans contour dans la source "
            f"({', '.join(sorted(set(no_point)))}) : comptés, mais sans point sur la carte "
            "ni distance."
        )
    return {
        "commune": communes,
        "longitude": longitude,
        "latitude": latitude,
        "point": point_kind,
        "placement": methods,
    }
