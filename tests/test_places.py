"""The shipped ANCT places (Fabriques de territoire, Manufactures de proximité, France
services): build, points, and their use as layers of the Catalyseurs page."""

import hashlib

import pandas as pd
import pytest
import shapely

from territorial import load_geography
from territorial.analysis.catalyst_density import catalyst_counts, densities, gaps, nearest
from territorial.analysis.catalysts import load_catalysts
from territorial.analysis.catalysts_example import EXAMPLE_PATH
from territorial.analysis.places import (
    LAYERS,
    PLACES_DIR,
    PLACES_FILE,
    combine_layers,
    layer_catalysts,
    layer_source,
    load_places,
    places_manifest,
)
from territorial.analysis.places_build import build
from territorial.geo.census import PROGRAMMES_FILE
from territorial.indicators.store import IndicatorStore
from territorial.sources.raw import raw_path


@pytest.fixture(scope="module")
def geo():
    return load_geography()


@pytest.fixture(scope="module")
def places():
    return load_places()


def test_committed_file_is_what_the_build_writes(tmp_path, geo):
    manifest = build(tmp_path, geo)
    built = (tmp_path / PLACES_FILE).read_bytes()
    assert built == (PLACES_DIR / PLACES_FILE).read_bytes()
    shipped = places_manifest()
    assert manifest["fichiers"] == shipped["fichiers"]
    assert shipped["fichiers"][PLACES_FILE] == hashlib.sha256(built).hexdigest()
    assert (
        shipped["source"]["sha256"]
        == hashlib.sha256(raw_path(PROGRAMMES_FILE).read_bytes()).hexdigest()
    )
    assert shipped["source"]["millesime"] == "septembre 2024"


def test_every_member_of_the_source_is_a_place_or_reported(places):
    raw = pd.read_csv(raw_path(PROGRAMMES_FILE), dtype=str, keep_default_na=False)
    report = places_manifest()["rapport"]
    for key, layer in LAYERS.items():
        rows = raw[raw["programme"] == layer.programme]
        ids = set(rows["id"].str.split("; ").explode().str.strip())
        shipped = set(places.loc[places["couche"] == key, "id"])
        outside = {p["id"] for p in report["lieux_hors_geographie"] if p["id"] in ids}
        assert shipped | outside == ids and not shipped & outside
        assert report["lignes_de_la_source"][key] == len(rows)
    assert report["lignes_de_la_source"]["fabriques"] == 342  # the README's count of rows
    assert {p["code_commune"] for p in report["lieux_hors_geographie"]} == {"97801"}


def test_each_place_lies_inside_its_commune(places, geo):
    contours = geo.detail_geometry.reindex(places["commune"]).to_numpy()
    points = shapely.points(places["longitude"], places["latitude"])
    assert shapely.intersects(contours, shapely.buffer(points, 1e-4)).all()
    assert (places["position"] == "commune").all()
    assert places["nom"].str.len().gt(0).all() and places["id"].is_unique


def test_a_known_place_keeps_its_source_name_and_commune(places):
    row = places.set_index("id").loc["fs-634"]
    assert row["nom"] == "France services Agora d'Ambérieu-en-Bugey"
    assert row["commune"] == "01004" and row["nom_commune"] == "Ambérieu-en-Bugey"
    unnamed = places.set_index("id").loc["fabt-194", "nom"]
    assert unnamed == "Fabrique de territoire sans nom dans la source (fabt-194)"


def test_layers_count_densities_gaps_and_nearest(places, geo):
    fabriques = layer_catalysts(places, "fabriques")
    counts = catalyst_counts(fabriques, geo, "departement")
    expected = places[places["couche"] == "fabriques"]["commune"].map(
        geo.hierarchy()["departement"]
    )
    assert counts.sum() == len(expected) and counts["01"] == (expected == "01").sum()
    table = densities(fabriques, IndicatorStore(geo), "departement", "metropole")
    assert (
        table["n_catalyseurs"].sum()
        == (
            places[places["couche"] == "fabriques"]["commune"]
            .map(geo.hierarchy()["region"])
            .isin(geo.table("region", "metropole")["code"])
        ).sum()
    )
    empty = counts[counts == 0].index.intersection(table.index)
    blank = gaps(fabriques, geo, "departement", "metropole", list(empty[:3]) + ["01"])
    assert list(blank.index) == sorted(empty[:3], key=lambda c: -blank.at[c, "distance_km"])
    assert blank["distance_km"].gt(0).all()
    close = nearest(fabriques, geo, "departement", "01", k=3)
    assert (
        close["dans_le_territoire"].all()
        and close["type_libelle"].eq("Fabrique de territoire").all()
    )


def test_combined_layers_keep_their_labels_and_the_fictional_flag(places, geo):
    example, _ = load_catalysts(EXAMPLE_PATH, geo)
    services = layer_catalysts(places, "france_services")
    both = combine_layers({"Exemple FICTIF": example, "France services": services})
    assert both.fictional and len(both.placed) == len(example.placed) + len(services.placed)
    assert both.table["ligne"].tolist() == list(range(1, len(both.table) + 1))
    assert set(both.table["couche"]) == {"Exemple FICTIF", "France services"}
    real = combine_layers({"France services": services})
    assert not real.fictional
    assert int(catalyst_counts(real, geo, "france").iat[0]) == len(services.placed)
    none = combine_layers({})
    assert none.table.empty and int(catalyst_counts(none, geo, "region").sum()) == 0


def test_layer_source_names_producer_vintage_licence():
    text = layer_source("manufactures")
    assert "Agence nationale de la cohésion des territoires" in text
    assert "septembre 2024" in text and "Licence Ouverte" in text
    assert all("atalyseur" not in layer.label + layer.description for layer in LAYERS.values())
