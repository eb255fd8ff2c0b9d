"""Map layers as static GeoJSON files, written once and reused by the browser.

Geometry is sent once per level and scope (the browser caches the file); a change of
indicator only sends codes and values.

Examples
--------
>>> from territorial import load_geography
>>> path = write_geojson(load_geography(), "region", "metropole", STATIC_DIR)
>>> path.name.startswith("region-metropole-")
True
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import shapely

from territorial.geo import insets as _insets
from territorial.geo.geography import Geography
from territorial.paths import STATIC_DIR
from territorial.text.safetext import inert
from territorial.timeline import mark

__all__ = [
    "STATIC_DIR",
    "GEOJSON_DECIMALS",
    "around",
    "display_geometry",
    "fill_gaps",
    "geojson_bytes",
    "write_geojson",
    "bounds",
    "display_shapes",
    "fit_view",
    "uses_insets",
]

STATIC_DIR = STATIC_DIR / "geo"
GEOJSON_DECIMALS = 4  # about 10 m: finer than a screen pixel at commune zoom
_FORMAT_VERSION = 5  # bump when the GeoJSON layout changes, to bust browser caches


def _round(geometry, decimals: int):
    return shapely.transform(geometry, lambda xy: np.round(xy, decimals))


# Départements and régions have no enclave this small (the smallest, the Hautes-Pyrénées'
# enclaves in the Pyrénées-Atlantiques, are 20 times larger): smaller rings are slivers.
_MIN_ENCLAVE = {"region": 1e-4, "departement": 1e-4}  # square degrees, ~0.8 km²


def fill_gaps(geometries: np.ndarray, min_area: float = 0.0) -> np.ndarray:
    """Remove the interior rings that no other unit fills: slivers left between simplified
    communes when they were dissolved into larger units. A real enclave (a ring mostly
    covered by another unit, such as the Enclave des papes in the Drôme) is kept, unless
    it is smaller than ``min_area``.

    >>> outer = shapely.box(0, 0, 10, 10)
    >>> gap, enclave = shapely.box(1, 1, 2, 2), shapely.box(5, 5, 7, 7)
    >>> ring = outer.difference(gap).difference(enclave)
    >>> [len(g.interiors) for g in fill_gaps(np.array([ring, enclave]))]
    [1, 0]
    """
    tree = shapely.STRtree(geometries)
    filled = []
    for index, geometry in enumerate(geometries):
        parts = []
        for polygon in shapely.get_parts(geometry):
            kept = []
            for ring in polygon.interiors:
                hole = shapely.Polygon(ring)
                others = [geometries[i] for i in tree.query(hole) if i != index]
                covered = shapely.union_all(others).intersection(hole).area if others else 0.0
                if covered > 0.5 * hole.area and hole.area >= min_area:
                    kept.append(ring)
            parts.append(shapely.Polygon(polygon.exterior, kept))
        filled.append(parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts))
    return np.array(filled, dtype=object)


def uses_insets(scope: str, insets: bool | None = None) -> bool:
    """Whether a map of ``scope`` draws the overseas départements in insets: by default on
    « France entière » only (:mod:`territorial.geo.insets`).

    >>> uses_insets("france"), uses_insets("metropole"), uses_insets("france", insets=False)
    (True, False, False)
    """
    return scope == "france" if insets is None else insets


def _departements(table, level: str) -> list[str]:
    """Each unit's département code (a région's, for the one-département overseas régions)."""
    if level == "region":
        return [_insets.REGION_DEPARTEMENT.get(code, "") for code in table["code"]]
    column = "code" if level == "departement" else "departement"
    return [str(code) for code in table[column]]


def _drom_extents(geo: Geography) -> dict[str, tuple[float, ...]]:
    table = geo.table("departement", "france")
    table = table[table["code"].isin(list(_insets.DROM))].dropna(subset=["geometry"])
    return {code: tuple(g.bounds) for code, g in zip(table["code"], table.geometry, strict=True)}


def _moved(geo: Geography, level: str, table, geometry: np.ndarray) -> np.ndarray:
    return _insets.move_geometries(geometry, _departements(table, level), _drom_extents(geo))


def display_shapes(
    geo: Geography, level: str, scope: str, codes=None, insets: bool | None = None
) -> np.ndarray:
    """Geometries of a scope's units (or of ``codes`` only) as drawn on its map: on
    « France entière », the overseas ones moved into their insets."""
    table = geo.table(level, scope)
    if codes is not None:
        table = table[table["code"].isin([codes] if isinstance(codes, str) else list(codes))]
    table = table.dropna(subset=["geometry"])
    geometry = table.geometry.to_numpy()
    return _moved(geo, level, table, geometry) if uses_insets(scope, insets) else geometry


def display_geometry(
    geo: Geography, level: str, scope: str, insets: bool | None = None
) -> tuple[list, list, np.ndarray]:
    """Codes, names and display geometry of a level and scope (units without geometry left out).

    The geometry is the one every map draws: gaps between simplified units filled
    (:func:`fill_gaps`), on « France entière » (or when ``insets`` is true) the overseas
    départements moved into their insets, coordinates rounded to ``GEOJSON_DECIMALS``.
    """
    table = geo.table(level, scope).dropna(subset=["geometry"])
    whole = geo.table(level, "france").dropna(subset=["geometry"])  # enclaves across the scope
    filled = dict(
        zip(
            whole["code"],
            fill_gaps(whole.geometry.to_numpy(), _MIN_ENCLAVE.get(level, 0.0)),
            strict=True,
        )
    )
    geometry = np.array([filled[c] for c in table["code"]], dtype=object)
    if uses_insets(scope, insets):
        geometry = _moved(geo, level, table, geometry)
    return list(table["code"]), list(table["nom"]), _round(geometry, GEOJSON_DECIMALS)


def geojson_bytes(geo: Geography, level: str, scope: str, insets: bool | None = None) -> bytes:
    """FeatureCollection of a level's display geometry.

    Each feature's id is its code; its properties hold the code and the name made inert by
    :func:`territorial.text.safetext.inert` (shown on hover by plotly, which decodes the
    character references: a user-supplied name cannot inject markup or a link). On
    « France entière » (or when ``insets`` is true), the overseas départements are moved
    into their insets.
    """
    codes, names, geometry = display_geometry(geo, level, scope, insets)
    names = [json.dumps(inert(n), ensure_ascii=False) for n in names]
    features = [
        f'{{"type":"Feature","id":{json.dumps(code)},"properties":{{"code":{json.dumps(code)},'
        f'"nom":{name}}},"geometry":{shape}}}'
        for code, name, shape in zip(codes, names, shapely.to_geojson(geometry), strict=True)
    ]
    return ('{"type":"FeatureCollection","features":[' + ",".join(features) + "]}").encode()


def write_geojson(
    geo: Geography,
    level: str,
    scope: str,
    directory: Path = STATIC_DIR,
    insets: bool | None = None,
) -> Path:
    """Write (once) the GeoJSON of a level and scope; the file name carries a content hash.

    ``insets`` (by default, on « France entière » only) moves the overseas départements into
    their insets (:func:`uses_insets`).
    """
    moved = uses_insets(scope, insets)
    key = json.dumps(
        [level, scope, geo.manifest["files"], geo.perimeters_hash, _FORMAT_VERSION, moved]
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    safe_scope = scope.replace(":", "-") + ("-encarts" if moved else "")
    path = directory / f"{level}-{safe_scope}-{digest}.geojson"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(geojson_bytes(geo, level, scope, insets=moved))
        tmp.replace(path)
        mark(f"GeoJSON written {level} {scope}")
    mark(f"GeoJSON ready {level} {scope}")
    return path


def bounds(
    geo: Geography, level: str, scope: str, code=None, insets: bool | None = None
) -> tuple[float, ...]:
    """Bounding box (west, south, east, north) of a scope, of one unit or of a list of units,
    as drawn on the scope's map (« France entière »: the metropole and the insets)."""
    if not uses_insets(scope, insets):
        table = geo.table(level, scope)
        if code is not None:
            table = table[table["code"].isin([code] if isinstance(code, str) else list(code))]
        return tuple(float(v) for v in table.total_bounds)
    box = shapely.total_bounds(display_shapes(geo, level, scope, code, insets=True))
    if code is None:  # the frames too, with their names
        frames = _insets.extent()
        box = (*np.minimum(box[:2], frames[:2]), *np.maximum(box[2:], frames[2:]))
    return tuple(float(v) for v in box)


def around(box: tuple[float, ...], factor: float = 2.5, min_span: float = 1.6) -> tuple[float, ...]:
    """A box ``factor`` times larger than ``box`` and at least ``min_span`` degrees of
    longitude wide (about 120 km), same centre: a selected commune with its neighbours,
    enough of them to tell where it is.

    >>> around((4.3, 45.4, 4.5, 45.5))  # Saint-Étienne: a 1.6° wide view
    (3.6, 44.97, 5.2, 45.93)
    """
    west, south, east, north = box
    x, y = (west + east) / 2, (south + north) / 2
    half_x = max((east - west) * factor, min_span) / 2
    half_y = max((north - south) * factor, min_span * 0.6) / 2  # ~ the same distance north–south
    return tuple(round(v, 6) for v in (x - half_x, y - half_y, x + half_x, y + half_y))


def _mercator_y(lat: float) -> float:
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def fit_view(box: tuple[float, ...], width_px: int, height_px: int) -> tuple[dict, float]:
    """Centre and zoom that fit a bounding box in a map of the given pixel size.

    >>> centre, zoom = fit_view((-5.2, 41.3, 9.6, 51.1), 900, 620)
    >>> round(zoom, 1)
    4.8
    """
    west, south, east, north = box
    lon_span = max(east - west, 1e-4)
    y_span = max(_mercator_y(north) - _mercator_y(south), 1e-6)
    zoom_x = math.log2(width_px * 360 / (lon_span * 512))
    zoom_y = math.log2(height_px * 2 * math.pi / (y_span * 512))
    centre_y = (_mercator_y(north) + _mercator_y(south)) / 2
    centre = {
        "lon": (west + east) / 2,
        "lat": math.degrees(2 * math.atan(math.exp(centre_y)) - math.pi / 2),
    }
    return centre, min(zoom_x, zoom_y) - 0.15
