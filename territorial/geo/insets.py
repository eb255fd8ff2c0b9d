"""Overseas insets: each DROM moved and scaled into a framed box beside the metropole.

French statistical maps (INSEE, Observatoire des territoires) draw the five overseas
départements in small boxes next to metropolitan France: at their true position, the map of
« France entière » would span a third of the globe and leave the metropole a few pixels wide.
Here the boxes form a column west of Brittany, over the Atlantic, Guadeloupe at the top and
Mayotte at the bottom; each territory gets its own scale, the largest that fits its box under
the box's name.

The transform of each territory is a scale and a shift in the Web Mercator plane the maps are
drawn in (an affine map there), so a territory keeps its shape on screen; in longitude and
latitude it is that affine map between the Mercator projection and its inverse. Every level
(région, département, projet de territoire, EPCI, commune) of a DROM uses the transform of its
département, computed from the département's extent, so communes and outlines still fit.

Examples
--------
>>> import numpy as np, shapely
>>> extents = {"972": (-61.23, 14.39, -60.81, 14.88)}  # Martinique
>>> island = shapely.box(*extents["972"])
>>> moved = move_geometries(np.array([island, shapely.box(2, 46, 3, 47)]), ["972", "18"], extents)
>>> shapely.box(*BOXES["972"]).contains(moved[0]), moved[1].bounds
(True, (2.0, 46.0, 3.0, 47.0))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import shapely

__all__ = [
    "BOXES",
    "DROM",
    "REGION_DEPARTEMENT",
    "extent",
    "frames_geojson",
    "is_overseas",
    "label_points",
    "move_geometries",
    "transforms",
]

# The five overseas départements, top to bottom of the column (INSEE's order).
DROM = {
    "971": "Guadeloupe",
    "972": "Martinique",
    "973": "Guyane",
    "974": "La Réunion",
    "976": "Mayotte",
}
# Each overseas région has a single département.
REGION_DEPARTEMENT = {"01": "971", "02": "972", "03": "973", "04": "974", "06": "976"}

_EAST = -6.2  # the column's east edge: a degree west of Ouessant (-5.14°)
_TOP = 51.1  # the metropole's northern tip, Bray-Dunes (51.09°)
_SIZE = 2.6  # each box is a square of 2.6 Mercator degrees: the column spans the metropole
_GAP = 0.3
_LABEL_BAND = 0.2  # top fifth of a box for its name
_MARGIN = 0.06  # of the box's side, around the territory


def _y(lat):
    """Mercator ordinate, in degrees (equal to longitude degrees at every latitude)."""
    return np.degrees(np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)))


def _lat(y):
    return np.degrees(2 * np.arctan(np.exp(np.radians(y))) - np.pi / 2)


def _mercator_boxes() -> dict[str, tuple[float, float, float, float]]:
    boxes, top = {}, float(_y(_TOP))
    for code in DROM:
        boxes[code] = (_EAST - _SIZE, top - _SIZE, _EAST, top)
        top -= _SIZE + _GAP
    return boxes


_MERCATOR_BOXES = _mercator_boxes()
#: Each inset's frame as (west, south, east, north) in degrees.
BOXES = {
    code: (w, round(float(_lat(s)), 6), e, round(float(_lat(n)), 6))
    for code, (w, s, e, n) in _MERCATOR_BOXES.items()
}


def transforms(
    extents: Mapping[str, Sequence[float]],
) -> dict[str, tuple[float, float, float]]:
    """Scale and shift ``(s, dx, dy)`` in the Mercator plane of each DROM in ``extents``.

    ``extents`` maps a département code to its (west, south, east, north) in degrees; the
    scale is the largest that fits that extent, plus a margin, in the part of its box under
    the name, and the territory is centred there.

    >>> s, dx, dy = transforms({"973": (-54.6, 2.11, -51.62, 5.75)})["973"]
    >>> round(s, 2)  # Guyane is shrunk to fit its box
    0.48
    """
    result = {}
    for code, (west, south, east, north) in extents.items():
        if code not in _MERCATOR_BOXES:
            continue
        bw, bs, be, bn = _MERCATOR_BOXES[code]
        margin = _MARGIN * _SIZE
        room_w = be - bw - 2 * margin
        room_h = (bn - bs) * (1 - _LABEL_BAND) - 2 * margin
        y_south, y_north = float(_y(south)), float(_y(north))
        scale = min(room_w / max(east - west, 1e-9), room_h / max(y_north - y_south, 1e-9))
        centre_x, centre_y = (bw + be) / 2, bs + margin + room_h / 2
        dx = centre_x - scale * (west + east) / 2
        dy = centre_y - scale * (y_south + y_north) / 2
        result[code] = (scale, dx, dy)
    return result


def move_geometries(
    geometries: np.ndarray,
    departements: Sequence[str],
    extents: Mapping[str, Sequence[float]],
) -> np.ndarray:
    """The geometries with those of an overseas département moved into its inset.

    ``departements`` gives each geometry's département code; geometries of the metropole
    (and missing ones) are returned unchanged, the same objects.
    """
    moves = transforms(extents)
    result = np.array(geometries, dtype=object)
    for index, (geometry, code) in enumerate(zip(result, departements, strict=True)):
        if geometry is None or code not in moves:
            continue
        scale, dx, dy = moves[code]

        def move(xy, scale=scale, dx=dx, dy=dy):
            return np.column_stack([xy[:, 0] * scale + dx, _lat(_y(xy[:, 1]) * scale + dy)])

        result[index] = shapely.transform(geometry, move)
    return result


def extent() -> tuple[float, float, float, float]:
    """Bounding box (west, south, east, north) of all the insets' frames."""
    boxes = np.array(list(BOXES.values()))
    return (
        float(boxes[:, 0].min()),
        float(boxes[:, 1].min()),
        float(boxes[:, 2].max()),
        float(boxes[:, 3].max()),
    )


def frames_geojson() -> dict:
    """The frames as a GeoJSON FeatureCollection of rectangles, each with its code and name.

    >>> [f["properties"]["nom"] for f in frames_geojson()["features"]][:2]
    ['Guadeloupe', 'Martinique']
    """
    features = []
    for code, box in BOXES.items():
        features.append(
            {
                "type": "Feature",
                "properties": {"code": code, "nom": DROM[code]},
                "geometry": shapely.box(*box).__geo_interface__,
            }
        )
    return {"type": "FeatureCollection", "features": features}


def label_points() -> list[tuple[str, float, float]]:
    """Each inset's name and where to write it: (name, longitude, latitude), centred in the
    band at the top of its box."""
    points = []
    for code, (west, south, east, north) in _MERCATOR_BOXES.items():
        y = north - (north - south) * _LABEL_BAND / 2
        points.append((DROM[code], (west + east) / 2, round(float(_lat(y)), 6)))
    return points


def is_overseas(code: str) -> bool:
    """Whether a département code is one of the five DROM.

    >>> is_overseas("974"), is_overseas("2A")
    (True, False)
    """
    return code in DROM
