"""Real places of cooperation and of access to public services (ANCT lists), as map layers.

The ANCT publishes the members of its programmes; three of them are places, not labels of a
commune: the **Fabriques de territoire** (tiers-lieux labelled by the ANCT), the
**Manufactures de proximité** (shared workshops of production) and the **France services**
(counters giving access to public services). :mod:`territorial.analysis.places_build` turns the raw
file of ``data/raw/`` into ``data/places/lieux.parquet``, one row per place with a point.
Each place is named for what it is: none of them is called a « catalyseur ».

The source gives no coordinates: each place is put at a point inside its commune (the
representative point of the commune's detailed contour, :func:`shapely.point_on_surface`),
never at its address — the page says so.

Every layer, shipped or imported, becomes a :class:`~territorial.catalysts.Catalysts` (the
counts, densities, gaps and nearest-place functions of :mod:`territorial.analysis.catalysts` work on
it), and the layers chosen by the user are combined by :func:`combine_layers`.

Examples
--------
>>> places = load_places()
>>> sorted(places["couche"].unique())
['fabriques', 'france_services', 'manufactures']
>>> fabriques = layer_catalysts(places, "fabriques")
>>> len(fabriques.placed), fabriques.fictional
(381, False)
>>> LAYERS["france_services"].label
'France services'
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from territorial.analysis.catalysts import Catalysts
from territorial.paths import DATA_DIR

__all__ = [
    "LAYERS",
    "PLACES_DIR",
    "PLACES_FILE",
    "POSITION_NOTE",
    "Layer",
    "combine_layers",
    "layer_catalysts",
    "layer_source",
    "load_places",
    "places_manifest",
]

PLACES_DIR = DATA_DIR / "places"
PLACES_FILE = "lieux.parquet"
POSITION_NOTE = (
    "position : un point à l'intérieur de la commune du lieu (la source ne donne pas "
    "l'adresse), pas l'emplacement exact"
)


@dataclass(frozen=True)
class Layer:
    """A shipped layer of places: its key in the source, names and colour."""

    programme: str  # code of the programme in the ANCT file
    label: str  # plural French name
    singular: str
    description: str
    colour: tuple[int, int, int]


LAYERS: dict[str, Layer] = {
    "fabriques": Layer(
        "fabt",
        "Fabriques de territoire",
        "Fabrique de territoire",
        "tiers-lieux labellisés par l'ANCT qui animent la coopération locale",
        (27, 158, 119),
    ),
    "manufactures": Layer(
        "manuprox",
        "Manufactures de proximité",
        "Manufacture de proximité",
        "ateliers partagés de production labellisés par l'ANCT",
        (217, 95, 2),
    ),
    "france_services": Layer(
        "fs",
        "France services",
        "France services",
        "guichets d'accès aux services publics (accès aux droits, démarches)",
        (31, 120, 180),
    ),
}
"""Shipped layers, in the order of the page (key → :class:`Layer`)."""


@functools.cache
def _read_places(directory: Path) -> pd.DataFrame:
    return pd.read_parquet(directory / PLACES_FILE)


def load_places(directory: Path = PLACES_DIR) -> pd.DataFrame:
    """The shipped places: ``couche``, ``id``, ``nom``, ``commune``, ``nom_commune``,
    ``longitude``, ``latitude`` (WGS84) and ``position`` (``"commune"``)."""
    return _read_places(Path(directory)).copy()


@functools.cache
def places_manifest(directory: Path = PLACES_DIR) -> dict:
    """The build manifest: sources (producer, vintage, licence, sha256), counts, report."""
    return json.loads((Path(directory) / "manifest.json").read_text(encoding="utf-8"))


def layer_source(key: str, directory: Path = PLACES_DIR) -> str:
    """« Producer (list of the ANCT programmes' members), vintage, licence » of a layer.

    >>> layer_source("fabriques").startswith("Agence nationale de la cohésion des territoires")
    True
    """
    source = places_manifest(directory)["source"]
    return (
        f"{source['producteur']}, liste des membres des programmes de l'ANCT, "
        f"{source['millesime']}, {source['licence']}"
    )


def layer_catalysts(places: pd.DataFrame, key: str) -> Catalysts:
    """One shipped layer as a placed :class:`Catalysts` list (``type`` is ``"autre"``)."""
    rows = places[places["couche"] == key].reset_index(drop=True)
    layer = LAYERS[key]
    table = pd.DataFrame(
        {
            "ligne": np.arange(1, len(rows) + 1, dtype=np.int64),
            "nom": rows["nom"].to_numpy(dtype=object),
            "type": "autre",
            "type_libelle": layer.singular,
            "commune": rows["commune"].to_numpy(dtype=object),
            "nom_commune": rows["nom_commune"].to_numpy(dtype=object),
            "longitude": rows["longitude"].to_numpy(dtype=float),
            "latitude": rows["latitude"].to_numpy(dtype=float),
            "point": rows["position"].to_numpy(dtype=object),
            "placement": "code",
            "fictif": False,
            "couche": layer.label,
        }
    )
    return Catalysts(table, layer.label, fictional=False)


def combine_layers(parts: dict[str, Catalysts]) -> Catalysts:
    """The places of several layers as one list (label of each layer → its list).

    Each row keeps its layer's label in ``couche``; ``ligne`` numbers the combined rows;
    the result is fictional when one of the parts is.

    >>> a = layer_catalysts(load_places(), "manufactures")
    >>> b = layer_catalysts(load_places(), "fabriques")
    >>> both = combine_layers({"M": a, "F": b})
    >>> len(both.table) == len(a.table) + len(b.table), both.table["couche"].unique().tolist()
    (True, ['M', 'F'])
    """
    tables = [
        part.table.assign(couche=label).astype({"couche": object}) for label, part in parts.items()
    ]
    if tables:
        table = pd.concat(tables, ignore_index=True)
    else:
        table = layer_catalysts(load_places().head(0), "fabriques").table
    table["ligne"] = np.arange(1, len(table) + 1, dtype=np.int64)
    name = " + ".join(parts) or "aucune couche"
    return Catalysts(table, name, fictional=any(p.fictional for p in parts.values()))
