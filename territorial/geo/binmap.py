"""Map geometry as a compact binary file, for the canvas map of many units.

The national commune map has ~35 000 polygons: drawn by the browser's 2D canvas from
typed arrays, it paints in a fraction of a second where a GeoJSON tiled by a WebGL map
library takes several seconds. The file is written once per level and scope (its name
carries a hash of its inputs) and served as a static file, cached by the browser; a change
of indicator then only sends one class, value and rank per unit, in the file's order.

Layout (little-endian)::

    b"DTG2"                       magic
    uint32 n_units, n_rings, n_points
    uint32 unit_rings[n_units + 1]   first ring of each unit (the last entry: n_rings)
    uint32 ring_points[n_rings + 1]  first point of each ring (the last entry: n_points)
    int32 xy[2 * n_points]           longitude, latitude in 1e-4 degrees (GEOJSON_DECIMALS),
                                     each point but a ring's first as the difference to
                                     the previous one (small numbers: gzip packs them well)
    uint32 n_json, then n_json bytes of UTF-8 JSON {"codes": [...], "noms": [...]}, plus,
        for the levels whose names are written on maps (régions, départements), "points":
        a label point inside each unit, [longitude, latitude]

Rings are stored without their closing point. Names are made inert by
:func:`territorial.text.safetext.inert`; the map decodes the numeric character references
and shows them as plain text (``textContent``), never as markup.

Examples
--------
>>> import shapely
>>> blob = encode_units(["01"], ["Ain"], [shapely.box(4.0, 45.0, 5.0, 46.0)])
>>> decoded = decode_units(blob)
>>> decoded["codes"], decoded["ring_points"].tolist()
(['01'], [0, 4])
>>> decoded["xy"].reshape(-1, 2).tolist()
[[5.0, 45.0], [5.0, 46.0], [4.0, 46.0], [4.0, 45.0]]
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import numpy as np
import shapely

from territorial.geo.geography import Geography
from territorial.geo.mapdata import GEOJSON_DECIMALS, STATIC_DIR, display_geometry, uses_insets
from territorial.text.safetext import inert
from territorial.timeline import mark

__all__ = ["LABELLED_LEVELS", "NATIONAL_TOLERANCE", "decode_units", "encode_units", "write_units"]

MAGIC = b"DTG2"
_FORMAT_VERSION = 3
_SCALE = 10**GEOJSON_DECIMALS
# Degrees: coverage-preserving simplification of the national commune map (~500 m, under a
# screen pixel at the national zoom); neighbours keep shared borders, so no gap appears.
NATIONAL_TOLERANCE = 0.005


def _deltas(coords: np.ndarray, ring_starts: np.ndarray) -> np.ndarray:
    quantised = np.round(coords * _SCALE).astype("<i4")
    deltas = quantised.copy()
    deltas[1:] -= quantised[:-1]
    deltas[ring_starts] = quantised[ring_starts]
    return deltas


LABELLED_LEVELS = ("region", "departement")


def encode_units(codes: list[str], names: list[str], geometries, points: bool = False) -> bytes:
    """The binary layout of units (polygons or multipolygons) with their codes and names,
    and a label point inside each when ``points``."""
    geometries = np.asarray(geometries, dtype=object)
    polygons, unit_of_polygon = shapely.get_parts(geometries, return_index=True)
    rings, polygon_of_ring = shapely.get_rings(polygons, return_index=True)
    coords, ring_of_point = shapely.get_coordinates(rings, return_index=True)
    # Drop each ring's closing point (the canvas closes the path).
    counts = np.bincount(ring_of_point, minlength=len(rings))
    last = np.cumsum(counts) - 1
    keep = np.ones(len(coords), dtype=bool)
    keep[last[counts > 0]] = False
    coords, ring_of_point = coords[keep], ring_of_point[keep]
    unit_of_ring = unit_of_polygon[polygon_of_ring]
    unit_rings = np.searchsorted(unit_of_ring, np.arange(len(geometries) + 1)).astype("<u4")
    ring_points = np.searchsorted(ring_of_point, np.arange(len(rings) + 1)).astype("<u4")
    starts = ring_points[:-1].astype(np.int64)
    block = {"codes": list(codes), "noms": [inert(n) for n in names]}
    if points:
        inside = shapely.get_coordinates(shapely.point_on_surface(geometries))
        block["points"] = np.round(inside, GEOJSON_DECIMALS).tolist()
    text = json.dumps(block, ensure_ascii=False).encode()
    header = MAGIC + struct.pack("<3I", len(geometries), len(rings), len(coords))
    return b"".join(
        [
            header,
            unit_rings.tobytes(),
            ring_points.tobytes(),
            _deltas(coords, starts[starts < len(coords)]).tobytes(),
            struct.pack("<I", len(text)),
            text,
        ]
    )


def decode_units(blob: bytes) -> dict:
    """Read back :func:`encode_units` (for tests and tools)."""
    if blob[:4] != MAGIC:
        raise ValueError("not a DTG2 map file")
    n_units, n_rings, n_points = struct.unpack_from("<3I", blob, 4)
    offset = 16
    unit_rings = np.frombuffer(blob, "<u4", n_units + 1, offset)
    offset += 4 * (n_units + 1)
    ring_points = np.frombuffer(blob, "<u4", n_rings + 1, offset)
    offset += 4 * (n_rings + 1)
    deltas = np.frombuffer(blob, "<i4", 2 * n_points, offset).reshape(-1, 2)
    restart = np.zeros(n_points, dtype=bool)
    restart[ring_points[:-1][ring_points[:-1] < n_points]] = True
    # cumulative sums that start again at each ring
    ring = np.cumsum(restart) - 1
    totals = np.cumsum(deltas, axis=0)
    base = totals[np.flatnonzero(restart)] - deltas[np.flatnonzero(restart)]
    xy = ((totals - base[ring]) / _SCALE).ravel()
    offset += 8 * n_points
    (n_json,) = struct.unpack_from("<I", blob, offset)
    names = json.loads(blob[offset + 4 : offset + 4 + n_json])
    return {"unit_rings": unit_rings, "ring_points": ring_points, "xy": xy, **names}


def write_units(
    geo: Geography,
    level: str,
    scope: str,
    tolerance: float = 0.0,
    directory: Path = STATIC_DIR,
    insets: bool | None = None,
) -> tuple[Path, list[str]]:
    """Write (once) the binary map file of a level and scope; return its path and codes.

    ``tolerance`` (degrees) simplifies the whole coverage at once
    (:func:`shapely.coverage_simplify`), so shared borders stay shared. ``insets`` (by
    default on « France entière » only) moves the overseas départements into their insets
    (:func:`territorial.geo.mapdata.uses_insets`).
    """
    moved = uses_insets(scope, insets)
    key = json.dumps(
        [
            level,
            scope,
            tolerance,
            moved,
            geo.manifest["files"],
            geo.perimeters_hash,
            _FORMAT_VERSION,
        ]
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    name = f"{level}-{scope.replace(':', '-')}{'-encarts' if moved else ''}-{digest}.bin"
    path = directory / name
    if path.exists():
        mark(f"map file ready {level} {scope}")
        return path, list(geo.table(level, scope).dropna(subset=["geometry"])["code"])
    codes, names, geometry = display_geometry(geo, level, scope, insets=moved)
    if tolerance:
        geometry = shapely.coverage_simplify(geometry, tolerance)
    directory.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{digest}.tmp")
    tmp.write_bytes(encode_units(codes, names, geometry, points=level in LABELLED_LEVELS))
    tmp.replace(path)
    mark(f"map file written {level} {scope}")
    return path, codes
