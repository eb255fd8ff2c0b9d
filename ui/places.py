"""The layers of places a visitor can count on the Catalyseurs page (cached per process).

Shipped layers (the ANCT places, the fictional example) are loaded once per process and
their points written once as static files; an imported catalyst list stays in the
session's space and is sent inline.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from territorial.analysis.catalysts import Catalysts
from territorial.analysis.places import LAYERS, combine_layers, layer_catalysts, load_places
from territorial.outputs.deckmap import hex_payload, point_records, write_points
from ui.maps import static_url
from ui.state import FICTIONAL_EXAMPLE, _catalysts, base_geography, space_version, workspace

EXAMPLE = "exemple"
IMPORTED = "importe:"
COLOURS = {
    **{key: layer.colour for key, layer in LAYERS.items()},
    EXAMPLE: (231, 41, 138),
}
IMPORTED_COLOUR = (230, 171, 2)


def layer_options() -> dict[str, str]:
    """Key → French label of every layer: ANCT places, the example, the imported lists."""
    counts = load_places()["couche"].value_counts()
    options = {
        key: f"{layer.label} ({counts.get(key, 0)} lieux, ANCT)" for key, layer in LAYERS.items()
    }
    options[EXAMPLE] = "Exemple FICTIF (350 catalyseurs inventés)"
    for meta in workspace().tables("catalyseurs"):
        suffix = " (FICTIF)" if meta.get("fictif") else ""
        options[IMPORTED + meta["slug"]] = f"Catalyseurs importés : {meta['nom']}{suffix}"
    return options


def layer_label(key: str) -> str:
    """Short label of a layer (the name of its points on the map and in the tables)."""
    if key in LAYERS:
        return LAYERS[key].label
    if key == EXAMPLE:
        return "Catalyseurs FICTIFS (exemple)"
    return layer_options().get(key, key).removeprefix("Catalyseurs importés : ")


def layer_colour(key: str) -> tuple[int, int, int]:
    return COLOURS.get(key, IMPORTED_COLOUR)


@st.cache_resource(show_spinner=False)
def _shipped(key: str) -> Catalysts:
    if key == EXAMPLE:
        return _catalysts(FICTIONAL_EXAMPLE, "")
    return layer_catalysts(load_places(), key)


def layer(key: str) -> Catalysts:
    """One layer's places (a shipped layer, or an imported list of the session's space)."""
    if key in LAYERS or key == EXAMPLE:
        return _shipped(key)
    return _catalysts(key.removeprefix(IMPORTED), space_version())


def chosen(keys: list[str]) -> Catalysts:
    """The places of the chosen layers, combined (each row keeps its layer's label)."""
    return combine_layers({layer_label(k): layer(k) for k in keys})


@st.cache_resource(show_spinner=False)
def _points_url(key: str) -> str:
    records = _records(key)
    return static_url(write_points(records, key))


def point_data(key: str) -> str | list[dict]:
    """A shipped layer's static file URL (sent once), an imported list's records inline."""
    if key in LAYERS or key == EXAMPLE:
        return _points_url(key)
    return _records(key)


def _records(key: str) -> list[dict]:
    label = layer_label(key)
    return point_records(combine_layers({label: layer(key)}), {label: layer_colour(key)})


def _shipped_only(keys: list[str]) -> bool:
    return all(k in LAYERS or k == EXAMPLE for k in keys)


def _hexes(keys: list[str], scope: str, radius_km: int) -> tuple[list[dict], list[int]]:
    geo = base_geography()  # the communes of a scope do not depend on the perimeter set
    communes = pd.Index(geo.table("commune", scope)["code"])
    return hex_payload(chosen(keys), geo, communes, radius_km)


@st.cache_resource(show_spinner=False, max_entries=64)
def _hex_url(keys: tuple[str, ...], scope: str, radius_km: int) -> tuple[str, list[int]]:
    records, bounds = _hexes(list(keys), scope, radius_km)
    return static_url(write_points(records, "hexagones")), bounds


def hex_data(keys: list[str], scope: str, radius_km: int) -> tuple[str | list[dict], list[int]]:
    """Hexagons of the chosen layers in a scope (a static file URL when every layer is
    shipped, the records inline otherwise) and the class bounds of their counts."""
    if _shipped_only(keys):
        return _hex_url(tuple(keys), scope, radius_km)
    return _hexes(keys, scope, radius_km)
