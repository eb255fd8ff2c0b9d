"""The canvas map of many units (the national commune map), a Streamlit v2 component.

Plotly's map tiles a GeoJSON of ~35 000 communes in WebGL again at every change, which
takes 10–15 s in a browser without a GPU. This map draws the same display geometry with
the browser's 2D canvas from a static binary file (:mod:`territorial.geo.binmap`, sent
once and cached), and each rerun only sends, per commune in the file's order, its class,
value and rank: a few hundred kilobytes, painted in well under a second.

Hover shows the name, the value and the rank; a click selects the territory (returned by
:func:`show_fast_map`); the wheel or « + » / « − » zoom, dragging pans (sideways on a phone,
where an upward swipe still scrolls the page), « ⟲ » goes back to the initial view. After each paint the map's element carries ``data-paints`` and
``data-sig`` (the signature of the values drawn), which the browser tests and the
benchmark read.
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from territorial.analysis.classify import Classification
from territorial.geo import insets
from territorial.geo.binmap import NATIONAL_TOLERANCE, write_units
from territorial.geo.mapdata import display_shapes, uses_insets
from territorial.text.safetext import inert
from ui.common import projection_mode
from ui.maps import HIGHLIGHT_COLOUR, MISSING_COLOUR, SELECTED_COLOUR, static_url, view_box
from ui.state import geography

__all__ = ["map_file", "payload", "read_payload", "show_fast_map"]

_JS = (Path(__file__).with_name("fastmap.js")).read_text(encoding="utf-8")
_CSS = """
.dt-fastmap { position: relative; width: 100%; background: #ffffff; touch-action: pan-y;
  overflow: hidden; }
.dt-fastmap canvas { display: block; cursor: grab; }
.dt-fastmap-tip { position: absolute; pointer-events: none; background: #ffffff;
  border: 1px solid #555555; padding: 4px 8px; font: 15px/1.35 "Source Sans Pro", sans-serif;
  color: #222222; max-width: 320px; box-shadow: 0 1px 4px rgba(0,0,0,.25); }
.dt-projection .dt-fastmap-tip { font-size: 26px; max-width: 560px; }
.dt-fastmap-buttons { position: absolute; top: 8px; right: 8px; display: flex;
  flex-direction: column; gap: 4px; }
.dt-fastmap-buttons button { width: 32px; height: 32px; font-size: 18px; line-height: 1;
  border: 1px solid #999999; border-radius: 4px; background: #ffffff; cursor: pointer; }
.dt-projection .dt-fastmap-buttons button { width: 48px; height: 48px; font-size: 26px; }
.dt-fastmap-status { position: absolute; top: 45%; width: 100%; text-align: center;
  color: #555555; font: 16px "Source Sans Pro", sans-serif; }
"""
_component = st.components.v2.component("dt_fastmap", html="", css=_CSS, js=_JS)

# Borders of the coarser levels (départements, régions) drawn over the units, so that one
# can tell where one is.
_OUTLINES = [("departement", "#777777", 0.7), ("region", "#222222", 1.4)]
_FINER_THAN = {"region": set(), "departement": {"region"}}
MISSING_CLASS = 255
_INT32_MAX = 2**31 - 1


def unit_border(level: str, scope: str) -> float:
    """Width (px) of the white borders between units: none between the communes of all
    France, where they would wash the colours out, thin ones between those of a région.

    >>> unit_border("commune", "metropole"), unit_border("commune", "region:84")
    (0.0, 0.15)
    """
    if level != "commune":
        return 0.6
    if scope in {"metropole", "france"}:
        return 0.0
    return 0.15 if scope.startswith("region:") else 0.3


def _label_level(level: str) -> str:
    """The level whose names are written on the map: the finest outline drawn over it."""
    return {"region": "region", "departement": "region"}.get(level, "departement")


def _selected_label(level: str, scope: str, selected: str | None) -> list | None:
    """Name, label point and width (degrees) of the selected territory, where it is drawn."""
    if not selected:
        return None
    table = geography().table(level, scope)
    names = table.loc[table["code"] == selected, "nom"]
    shapes = display_shapes(geography(), level, scope, selected)
    if names.empty or not len(shapes):
        return None
    point = shapes[0].representative_point()
    west, _south, east, _north = shapes[0].bounds
    return [inert(names.iloc[0]), round(point.x, 4), round(point.y, 4), east - west]


@st.cache_resource(show_spinner="Préparation de la carte…", max_entries=32)
def _map_file(
    level: str, scope: str, insets: bool, perimeters_hash: str
) -> tuple[str, tuple[str, ...]]:
    del perimeters_hash  # part of the cache key: the geometry of a perimeter set
    national = level == "commune" and scope in {"metropole", "france"}
    tolerance = NATIONAL_TOLERANCE if national else 0.0
    path, codes = write_units(geography(), level, scope, tolerance, insets=insets)
    return static_url(path), tuple(codes)


def map_file(level: str, scope: str, insets: bool | None = None) -> tuple[str, tuple[str, ...]]:
    """URL of the binary map file of a level and scope, and the codes in its order; the
    overseas départements are in their insets on « France entière » (or when ``insets``)."""
    return _map_file(level, scope, uses_insets(scope, insets), geography().perimeters_hash)


def _overlays(level: str, scope: str) -> tuple[list[dict], str]:
    """The outline layers drawn over a map of ``level`` on ``scope`` (borders of the coarser
    levels) and the URL of the file whose names are written on it; in inset coordinates on
    « France entière », like the units."""
    moved = uses_insets(scope)
    coarser = _FINER_THAN.get(level, {"region", "departement"})
    outlines = [
        {"url": map_file(outline, "france", moved)[0], "color": colour, "width": width}
        for outline, colour, width in _OUTLINES
        if outline in coarser
    ]
    return outlines, map_file(_label_level(level), "france", moved)[0]


def preload(level: str, scope: str) -> None:
    """Let the browser fetch a map's files while the server computes its values: a hidden
    ``<link rel="preload">`` per file (the map's own fetch then takes them from the cache)."""
    outlines, labels = _overlays(level, scope)
    urls = dict.fromkeys([map_file(level, scope)[0], *(o["url"] for o in outlines), labels])
    links = "".join(
        f'<link rel="preload" as="fetch" crossorigin="anonymous" href="{url}">' for url in urls
    )
    hide = "[data-testid='stElementContainer']:has(link[rel='preload']) {display: none;}"
    st.markdown(f"<style>{hide}</style>{links}", unsafe_allow_html=True)


def _insets(scope: str) -> dict | None:
    """The frames of the overseas insets and their names, on « France entière »."""
    if not uses_insets(scope):
        return None
    return {
        "frames": [list(box) for box in insets.BOXES.values()],
        "names": [[inert(name), lon, lat] for name, lon, lat in insets.label_points()],
    }


def _value_encoding(values: np.ndarray, decimals: int) -> tuple[int | None, np.ndarray]:
    """Values as int32 steps of 10^-decimals when they all fit (4 bytes, exact after the
    rounding the map shows), else float64; missing values are NaN, or the int32 minimum."""
    scale = 10 ** max(int(decimals), 0)
    scaled = values * scale
    finite = np.isfinite(scaled)
    if np.all(np.abs(scaled[finite]) < _INT32_MAX):
        steps = np.full(len(values), -_INT32_MAX - 1, dtype="<i4")
        steps[finite] = np.round(scaled[finite]).astype("<i4")
        return scale, steps
    return None, values.astype("<f8")


def payload(
    meta: dict,
    order: tuple[str, ...],
    codes: pd.Series,
    values: pd.Series,
    classes: pd.Series,
    ranks: pd.Series | None,
    decimals: int = 6,
) -> bytes:
    """The bytes of one rerun: JSON header, then per unit of ``order`` (the map file's
    order) its value (int32 steps of ``1 / value_scale``, or float64 when the header's
    ``value_scale`` is null), its rank (uint16, 0: none) and its class (uint8, 255: missing).

    >>> codes = pd.Series(["b", "a"])
    >>> blob = payload({"x": 1}, ("a", "b", "c"), codes, pd.Series([2.5, 1.0]),
    ...                pd.Series([1, 0]), pd.Series([1.0, 2.0]), decimals=1)
    >>> meta, values, ranks, classes = read_payload(blob)
    >>> meta["n"], values.tolist()[:2], ranks.tolist(), classes.tolist()
    (3, [1.0, 2.5], [2, 1, 0], [0, 1, 255])
    """
    position = pd.Series(np.arange(len(codes)), index=codes.to_numpy())
    index = position.reindex(list(order)).to_numpy()
    found = ~np.isnan(index)
    take = index[found].astype(int)
    n = len(order)
    shown = np.full(n, np.nan)
    shown[found] = values.to_numpy(dtype=float)[take]
    rank = np.zeros(n, dtype="<u2")
    if ranks is not None:
        rank[found] = np.clip(pd.Series(ranks).fillna(0).to_numpy()[take], 0, 65535)
    cls = np.full(n, MISSING_CLASS, dtype="u1")
    raw_classes = classes.to_numpy()[take]
    cls[found] = np.where(raw_classes < 0, MISSING_CLASS, raw_classes).astype("u1")
    cls[np.isnan(shown)] = MISSING_CLASS
    scale, encoded = _value_encoding(shown, decimals)
    signature = hashlib.sha256(encoded.tobytes() + cls.tobytes()).hexdigest()[:12]
    header = json.dumps(
        {**meta, "n": n, "sig": signature, "value_scale": scale}, ensure_ascii=False
    ).encode()
    padding = b"\0" * (-(4 + len(header)) % 8)
    return b"".join(
        [
            struct.pack("<I", len(header)),
            header,
            padding,
            encoded.tobytes(),
            rank.tobytes(),
            cls.tobytes(),
        ]
    )


def read_payload(blob: bytes) -> tuple[dict, np.ndarray, np.ndarray, np.ndarray]:
    """The header, values (float, NaN when missing), ranks and classes of a :func:`payload`
    (for tests and tools)."""
    (n_json,) = struct.unpack_from("<I", blob)
    meta = json.loads(blob[4 : 4 + n_json])
    offset = 4 + n_json + (-(4 + n_json) % 8)
    n, scale = meta["n"], meta["value_scale"]
    if scale is None:
        values = np.frombuffer(blob, "<f8", n, offset).copy()
        offset += 8 * n
    else:
        steps = np.frombuffer(blob, "<i4", n, offset)
        values = np.where(steps == -_INT32_MAX - 1, np.nan, steps / scale)
        offset += 4 * n
    ranks = np.frombuffer(blob, "<u2", n, offset)
    classes = np.frombuffer(blob, "u1", n, offset + 2 * n)
    return meta, values, ranks, classes


def show_fast_map(
    level: str,
    scope: str,
    codes: pd.Series,
    values: pd.Series,
    classification: Classification,
    colours: list[str],
    hover_label: str,
    unit: str,
    decimals: int,
    key: str,
    view: tuple[float, ...] | None = None,
    ranks: pd.Series | None = None,
    rank_total: int | None = None,
    selected: str | None = None,
    highlight: list[str] | None = None,
    categories: list[str] | None = None,
    height: int = 620,
    missing_label: str = "Donnée manquante",
) -> str | None:
    """Draw the canvas map; return the code of a territory clicked in this rerun.

    ``codes``, ``values``, ``ranks`` (integers) and ``classification.classes`` are aligned;
    ``view`` (west, south, east, north) defaults to :func:`ui.maps.view_box`; texts
    (``hover_label``, ``unit``, ``categories``) are made inert here and shown as plain
    text by the map.
    """
    if view is None:
        view = view_box(level, scope, selected, highlight)
    url, order = map_file(level, scope)
    outlines, labels = _overlays(level, scope)
    position = {code: i for i, code in enumerate(order)}
    meta = {
        "geometry": url,
        "outlines": outlines,
        "colours": list(colours),
        "unit_border": unit_border(level, scope),
        "missing_colour": MISSING_COLOUR,
        "label": inert(hover_label),
        "unit": inert(unit),
        "decimals": int(decimals),
        "rank_total": int(rank_total) if rank_total else None,
        "categories": [inert(c) for c in categories] if categories else None,
        "selected": position.get(selected, -1) if selected else -1,
        "highlight": [position[c] for c in highlight or [] if c in position],
        "highlight_colour": HIGHLIGHT_COLOUR,
        "selected_colour": SELECTED_COLOUR,
        "view": [round(float(v), 6) for v in view],
        "labels": labels,
        "insets": _insets(scope),
        "selected_label": _selected_label(level, scope, selected),
        "height": int(height),
        "projection": projection_mode(),
        "missing_label": inert(missing_label),
    }
    data = payload(
        meta,
        order,
        codes.reset_index(drop=True),
        values.reset_index(drop=True).round(decimals),
        classification.classes.reset_index(drop=True),
        ranks.reset_index(drop=True) if ranks is not None else None,
        decimals,
    )
    result = _component(key=key, data=data, height=height, on_clicked_change=lambda: None)
    clicked = getattr(result, "clicked", None)
    return str(clicked) if clicked else None
