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

__all__ = ["STATIC_DIR", "GEOJSON_DECIMALS", "geojson_bytes", "write_geojson", "bounds", "fit_view"]

STATIC_DIR = STATIC_DIR / "geo"
GEOJSON_DECIMALS = 4  # about 10 m: finer than a screen pixel at commune zoom
_FORMAT_VERSION = 3  # bump when the GeoJSON layout changes, to bust browser caches


def _round(geometry, decimals: int):
    return shapely.transform(geometry, lambda xy: np.round(xy, decimals))


def geojson_bytes(geo: Geography, level: str, scope: str) -> bytes:
    """FeatureCollection of a level's display geometry.

    Each feature's id is its code; its properties hold the code and the name made inert by
    :func:`territorial.text.safetext.inert` (shown on hover by plotly, which decodes the
    character references: a user-supplied name cannot inject markup or a link).
    """
    table = geo.table(level, scope).dropna(subset=["geometry"])
    geometry = _round(table.geometry.to_numpy(), GEOJSON_DECIMALS)
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
    return path


def bounds(geo: Geography, level: str, scope: str, code: str | None = None) -> tuple[float, ...]:
    """Bounding box (west, south, east, north) of a scope or of one unit."""
    table = geo.table(level, scope)
    if code is not None:
        table = table[table["code"] == code]
    return tuple(float(v) for v in table.total_bounds)


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
