"""The pydeck map of the Catalyseurs page: places as points, hexagon densities, outlines.

What travels on each rerun is kept small:

- the outlines of the chosen level are the static GeoJSON of :mod:`territorial.geo.mapdata`
  (written once, cached by the browser): the deck only holds its URL;
- the points of the shipped layers (the ANCT places, the fictional example) are static
  JSON files too (:func:`write_points`), written once per layer;
- so are the hexagons of a choice of shipped layers and a scope (one file per content);
- only the points and hexagons of an imported list (a visitor's own file, never written to
  disk) are sent inline.

The hexagons are computed here (:func:`hexagons`), not in the browser, so that their
counts, classes and French tooltips are exact and tested: a regular grid of pointy-top
hexagons in Lambert-93 (EPSG:2154; the UTM projection of each overseas région), one
hexagon per cell holding at least one place.

No tile basemap: the deck has no map style (pydeck's "no style" value, which Streamlit
draws without any basemap), so the map makes no request to any other host.

Examples
--------
>>> import pandas as pd
>>> points = pd.DataFrame({"longitude": [2.35, 2.351, 5.37], "latitude": [48.85, 48.851, 43.3],
...                        "couche": ["A", "B", "A"], "zone": "metro"})
>>> cells = hexagons(points, radius_km=10)
>>> sorted(cells["n"].tolist()), len(cells["contour"].iat[0])
([1, 2], 6)
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pydeck as pdk
from pydeck.bindings.json_tools import default_serialize

from territorial.analysis.catalyst_density import _catalyst_frame
from territorial.analysis.catalyst_places import _crs
from territorial.analysis.catalysts import Catalysts
from territorial.geo.mapdata import STATIC_DIR
from territorial.text.formatting import format_number

__all__ = [
    "HEX_COLOURS",
    "CompactDeck",
    "NO_MAP_STYLE",
    "deck",
    "hex_classes",
    "hexagons",
    "point_records",
    "write_points",
]

NO_MAP_STYLE = "__MAP_STYLE__"  # pydeck's "no style given": Streamlit then draws no basemap
HEX_COLOURS = [  # ColorBrewer « Greys », 5 classes: the layers' colours stay readable on them
    (240, 240, 240),
    (204, 204, 204),
    (150, 150, 150),
    (99, 99, 99),
    (37, 37, 37),
]
OUTLINE_COLOUR = [96, 112, 140, 255]  # blue-grey: the greys of the hexagons stay distinct
_DECIMALS = 4  # about 10 m
_HEX_DECIMALS = 3  # about 100 m, for corners of hexagons of 5 km and more
_POINTS_VERSION = 1


def point_records(catalysts: Catalysts, colours: dict[str, tuple[int, int, int]]) -> list[dict]:
    """One record per placed row: position, colour of its layer, French tooltip texts.

    The tooltip values are plain text: Streamlit escapes them before showing them (a name
    cannot inject markup), so they are not made inert here.

    >>> from territorial.analysis.places import layer_catalysts, load_places
    >>> rows = point_records(layer_catalysts(load_places(), "fabriques"), {"Fabriques de territoire": (1, 2, 3)})
    >>> rows[0]["titre"], rows[0]["couleur"]
    ('LAB 01', [1, 2, 3, 230])
    >>> rows[0]["detail"]
    'Fabrique de territoire — Ambérieu-en-Bugey (position : centre de la commune)'
    """
    placed = catalysts.placed
    placed = placed[placed["longitude"].notna() & placed["latitude"].notna()]
    layer = (
        placed["couche"] if "couche" in placed else pd.Series(catalysts.name, index=placed.index)
    )
    where = np.where(placed["point"].eq("coordonnées"), "", " (position : centre de la commune)")
    return [
        {
            "position": [round(float(lon), _DECIMALS), round(float(lat), _DECIMALS)],
            "couleur": [*colours.get(couche, (102, 102, 102)), 230],
            "titre": str(nom),
            "detail": f"{kind} — {commune}{suffix}",
        }
        for lon, lat, couche, nom, kind, commune, suffix in zip(
            placed["longitude"],
            placed["latitude"],
            layer,
            placed["nom"],
            placed["type_libelle"],
            placed["nom_commune"],
            where,
            strict=True,
        )  # fmt: skip
    ]


def write_points(records: list[dict], name: str, directory: Path = STATIC_DIR) -> Path:
    """Write (once) the records of a shipped layer as static JSON; the name carries a hash."""
    payload = json.dumps(records, ensure_ascii=False, separators=(",", ":")).encode()
    digest = hashlib.sha256(payload + bytes([_POINTS_VERSION])).hexdigest()[:12]
    path = directory / f"lieux-{name}-{digest}.json"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(payload)
        tmp.replace(path)
    return path


def _axial(x: np.ndarray, y: np.ndarray, size: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointy-top hexagon (q, r) of each point (cube rounding)."""
    q = (math.sqrt(3) / 3 * x - y / 3) / size
    r = (2 / 3 * y) / size
    s = -q - r
    rq, rr, rs = np.round(q), np.round(r), np.round(s)
    dq, dr, ds = np.abs(rq - q), np.abs(rr - r), np.abs(rs - s)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    rq = np.where(fix_q, -rr - rs, rq)
    rr = np.where(fix_r, -rq - rs, rr)
    return rq.astype(np.int64), rr.astype(np.int64)


def hexagons(points: pd.DataFrame, radius_km: float) -> pd.DataFrame:
    """Count the places in each hexagon of a regular grid (centre-to-corner ``radius_km``).

    Parameters
    ----------
    points : pandas.DataFrame
        ``longitude``, ``latitude`` (WGS84), ``couche`` (layer label) and ``zone``
        (``"metro"`` or an overseas région code, which selects the projection).
    radius_km : float
        Radius of the hexagons.

    Returns
    -------
    pandas.DataFrame
        One row per hexagon holding a place: ``n`` (places), ``par_couche`` (layer label →
        count, in the order of the layers' first appearance), ``contour`` (the 6 corners
        as [lon, lat], rounded to 3 decimals: about 100 m). Sorted by zone and cell.
    """
    from pyproj import Transformer

    size = radius_km * 1000
    rows = []
    order = list(dict.fromkeys(points["couche"]))
    for zone, part in points.groupby("zone", sort=True):
        forward = Transformer.from_crs(4326, _crs(zone), always_xy=True)
        back = Transformer.from_crs(_crs(zone), 4326, always_xy=True)
        x, y = forward.transform(
            part["longitude"].to_numpy(float), part["latitude"].to_numpy(float)
        )
        q, r = _axial(np.asarray(x), np.asarray(y), size)
        cells = part.assign(q=q, r=r).groupby(["q", "r"], sort=True)
        angles = np.radians(30 + 60 * np.arange(6))
        for (cq, cr), members in cells:
            cx = size * (math.sqrt(3) * cq + math.sqrt(3) / 2 * cr)
            cy = size * 1.5 * cr
            lon, lat = back.transform(cx + size * np.cos(angles), cy + size * np.sin(angles))
            counts = members["couche"].value_counts()
            rows.append(
                {
                    "n": int(len(members)),
                    "par_couche": {c: int(counts[c]) for c in order if c in counts},
                    "contour": [
                        [round(float(a), _HEX_DECIMALS), round(float(b), _HEX_DECIMALS)]
                        for a, b in zip(lon, lat, strict=True)
                    ],
                }
            )
    return pd.DataFrame(rows, columns=["n", "par_couche", "contour"])


def hex_classes(counts: pd.Series) -> list[int]:
    """Upper bound of each colour class of the hexagon counts (at most 5 classes).

    Classes are quantiles of the counts, merged when equal: ``[1, 2, 4, 9]`` means
    1 place, 2, 3 to 4, 5 to 9 (``numpy.quantile``, ``inverted_cdf``).

    >>> hex_classes(pd.Series([1, 1, 1, 2, 3, 5, 8, 13, 21, 34]))
    [1, 2, 8, 13, 34]
    >>> hex_classes(pd.Series([1, 1, 1]))
    [1]
    """
    if counts.empty:
        return []
    bounds = np.quantile(counts.to_numpy(float), np.linspace(0.2, 1, 5), method="inverted_cdf")
    return sorted({int(b) for b in bounds})


def _hex_records(cells: pd.DataFrame, bounds: list[int]) -> list[dict]:
    records = []
    for n, by_layer, contour in cells.itertuples(index=False):
        k = int(np.searchsorted(bounds, n))
        colour = HEX_COLOURS[len(HEX_COLOURS) - len(bounds) + k]
        detail = ", ".join(f"{label} : {format_number(c)}" for label, c in by_layer.items())
        records.append(
            {
                "contour": contour,
                "couleur": [*colour, 200],
                "titre": f"{format_number(n)} {'lieu' if n == 1 else 'lieux'} dans cet hexagone",
                "detail": detail,
            }
        )
    return records


def hex_payload(
    catalysts: Catalysts, geo, communes: pd.Index, radius_km: float
) -> tuple[list[dict], list[int]]:
    """Hexagon records (contour, colour, tooltip) of the places in ``communes``, and the
    class bounds of their counts (for the legend)."""
    frame = _catalyst_frame(catalysts, geo)
    frame = frame[frame["commune"].isin(communes)]
    if "couche" not in frame:
        frame = frame.assign(couche=catalysts.name)
    cells = hexagons(frame[["longitude", "latitude", "couche", "zone"]], radius_km)
    bounds = hex_classes(cells["n"])
    return _hex_records(cells, bounds), bounds


class CompactDeck(pdk.Deck):
    """A Deck whose JSON has no indentation (pydeck indents by 2: a third of the bytes)."""

    def to_json(self) -> str:
        return json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"))


def deck(
    outlines_url: str,
    point_layers: list[tuple[str, str | list[dict]]],
    hex_records: str | list[dict],
    view: dict,
    height: int = 600,
    show_points: bool = True,
    show_hexagons: bool = True,
) -> CompactDeck:
    """The pydeck Deck: outlines (GeoJSON URL), hexagons, then one point layer per source.

    ``point_layers`` holds ``(layer id, URL of a static JSON file or inline records)``, drawn
    in that order (the last on top); ``hex_records`` is a URL or the records; ``view`` holds ``longitude``, ``latitude`` and ``zoom``. French tooltip
    (« titre », « détail ») on points and hexagons; no basemap.
    """
    layers = [
        pdk.Layer(
            "GeoJsonLayer",
            id="contours",
            data=outlines_url,
            stroked=True,
            filled=True,
            get_fill_color=[255, 255, 255, 255],
            get_line_color=OUTLINE_COLOUR,
            line_width_min_pixels=1,
            pickable=False,
        ),
        pdk.Layer(
            "PolygonLayer",
            id="hexagones",
            data=hex_records,
            get_polygon="contour",
            get_fill_color="couleur",
            get_line_color=[255, 255, 255, 160],
            line_width_min_pixels=1,
            stroked=True,
            pickable=True,
            visible=show_hexagons,
        ),
    ]
    for layer_id, data in point_layers:
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                id=layer_id,
                data=data,
                get_position="position",
                get_fill_color="couleur",
                get_line_color=[255, 255, 255, 255],
                stroked=True,
                line_width_min_pixels=1,
                radius_min_pixels=2.5,
                radius_max_pixels=9,
                get_radius=1500,
                pickable=True,
                visible=show_points,
            )
        )
    return CompactDeck(
        layers=layers,
        initial_view_state=pdk.ViewState(**view),
        # the wheel scrolls the page, not the map (zoom: double click, pinch, +/- buttons)
        views=[pdk.View("MapView", controller={"scrollZoom": False, "doubleClickZoom": True})],
        map_provider=None,
        tooltip={
            "html": "<b>{titre}</b><br/>{detail}",
            "style": {"backgroundColor": "#1f4e79", "color": "white", "fontSize": "13px"},
        },
        height=height,
    )
