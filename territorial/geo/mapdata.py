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

from territorial.geo.geography import Geography
from territorial.paths import STATIC_DIR
from territorial.text.safetext import inert
from territorial.timeline import mark

__all__ = [
    "STATIC_DIR",
    "GEOJSON_DECIMALS",
    "around",
    "fill_gaps",
    "geojson_bytes",
    "write_geojson",
    "bounds",
    "fit_view",
]

STATIC_DIR = STATIC_DIR / "geo"
GEOJSON_DECIMALS = 4  # about 10 m: finer than a screen pixel at commune zoom
_FORMAT_VERSION = 4  # bump when the GeoJSON layout changes, to bust browser caches


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


def geojson_bytes(geo: Geography, level: str, scope: str) -> bytes:
    """FeatureCollection of a level's display geometry.

    Each feature's id is its code; its properties hold the code and the name made inert by
    :func:`territorial.text.safetext.inert` (shown on hover by plotly, which decodes the
    character references: a user-supplied name cannot inject markup or a link).
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
    geometry = _round(np.array([filled[c] for c in table["code"]], dtype=object), GEOJSON_DECIMALS)
    names = [json.dumps(inert(n), ensure_ascii=False) for n in table["nom"]]
    features = [
        f'{{"type":"Feature","id":{json.dumps(code)},"properties":{{"code":{json.dumps(code)},'
        f'"nom":{name}}},"geometry":{shape}}}'
        for code, name, shape in zip(
            table["code"], names, shapely.to_geojson(geometry), strict=True
        )
    ]
    return ('{"type":"FeatureCollection","features":[' + ",".join(features) + "]}").encode()


def write_geojson(geo: Geography, level: str, scope: str, directory: Path = STATIC_DIR) -> Path:
    """Write (once) the GeoJSON of a level and scope; the file name carries a content hash."""
    key = json.dumps([level, scope, geo.manifest["files"], geo.perimeters_hash, _FORMAT_VERSION])
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    safe_scope = scope.replace(":", "-")
    path = directory / f"{level}-{safe_scope}-{digest}.geojson"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(geojson_bytes(geo, level, scope))
        tmp.replace(path)
        mark(f"GeoJSON written {level} {scope}")
    mark(f"GeoJSON ready {level} {scope}")
    return path


def bounds(geo: Geography, level: str, scope: str, code: str | None = None) -> tuple[float, ...]:
    """Bounding box (west, south, east, north) of a scope or of one unit."""
    table = geo.table(level, scope)
    if code is not None:
        table = table[table["code"] == code]
    return tuple(float(v) for v in table.total_bounds)


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
