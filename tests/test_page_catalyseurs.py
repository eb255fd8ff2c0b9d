"""AppTest of the Catalyseurs page: the choice of layers (ANCT places, example, imports),
densities, nearest places, zones blanches on real fragility, and the pydeck map's spec."""

import html
import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from territorial import load_geography
from territorial.analysis.catalyst_density import gaps
from territorial.analysis.fragility import fragility
from territorial.analysis.places import combine_layers, layer_catalysts, load_places
from territorial.analysis.presets import DEFAULT_PRESET
from territorial.indicators.store import IndicatorStore

APP = str(Path(__file__).resolve().parent.parent / "main.py")


def _page(**params) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=300)
    app.switch_page("views/catalyseurs.py")
    app.query_params.update(params)
    return app


def _text(app) -> str:
    return html.unescape(" ".join(m.value for m in [*app.markdown, *app.caption]))


@pytest.fixture(scope="module")
def geo():
    return load_geography()


def _metro_count(geo, *keys) -> int:
    places = load_places()
    regions = places[places["couche"].isin(keys)]["commune"].map(geo.hierarchy()["region"])
    return int(regions.isin(geo.table("region", "metropole")["code"]).sum())


def _spec(app) -> dict:
    return json.loads(app.get("deck_gl_json_chart")[0].proto.json)


def test_default_counts_the_real_fabriques_de_territoire_with_their_source(geo):
    app = _page()
    app.run()
    assert not app.exception
    assert app.multiselect(key="couches").value == ["fabriques"]
    densities = app.dataframe[0].value
    assert densities["Lieux"].sum() == _metro_count(geo, "fabriques")
    population = densities["Population"]
    assert pd.api.types.is_float_dtype(population)  # not text: sorts 9 000 before 1 043 522
    assert population.sort_values().tolist() == sorted(population.tolist())
    assert densities.columns[0] == "Territoire" and densities.columns[-1] == "Code"
    assert not any("FICTIFS" in w.value for w in app.warning)
    text = _text(app)
    assert "Fabriques de territoire" in text
    assert "Agence nationale de la cohésion des territoires (ANCT)" in text
    assert "septembre 2024" in text and "Licence Ouverte / Etalab 2.0" in text
    assert "la source ne donne pas l'adresse" in text
    labels = app.multiselect(key="couches").options
    assert all("atalyseur" not in label for label in labels[:3])  # named for what they are
    assert app.query_params["couches"] == "fabriques"


def test_choosing_layers_changes_densities_and_the_url(geo):
    app = _page()
    app.run()
    app.multiselect(key="couches").set_value(["fabriques", "france_services", "manufactures"]).run()
    assert not app.exception
    expected = _metro_count(geo, "fabriques", "france_services", "manufactures")
    assert app.dataframe[0].value["Lieux"].sum() == expected
    assert app.query_params["couches"] == "fabriques,france_services,manufactures"
    spec = _spec(app)
    ids = [layer["id"] for layer in spec["layers"]]
    assert ids[:2] == ["contours", "hexagones"]
    assert ids[2] == "lieux-france_services"  # the largest layer first, the small on top
    assert set(ids[2:]) == {"lieux-fabriques", "lieux-france_services", "lieux-manufactures"}


def test_example_and_real_layers_combine_and_the_example_is_marked():
    app = _page(couches="exemple,manufactures")
    app.run()
    assert not app.exception
    assert any("FICTIFS" in w.value for w in app.warning)
    assert app.dataframe[0].value["Lieux"].sum() == 350 + _metro_count(
        load_geography(), "manufactures"
    )


def test_no_layer_chosen_says_so():
    app = _page()
    app.run()
    app.multiselect(key="couches").set_value([]).run()
    assert not app.exception
    assert any("au moins une couche" in i.value for i in app.info)
    assert not app.dataframe


def test_map_sends_urls_not_geometry_and_has_no_basemap():
    app = _page(couches="fabriques,france_services")
    app.run()
    spec = _spec(app)
    layers = {layer["id"]: layer for layer in spec["layers"]}
    assert layers["contours"]["data"].startswith("app/static/geo/departement-metropole-")
    assert layers["hexagones"]["data"].startswith("app/static/geo/lieux-hexagones-")
    assert layers["lieux-fabriques"]["data"].startswith("app/static/geo/lieux-fabriques-")
    assert spec.get("mapStyle") == "__MAP_STYLE__" and "mapProvider" not in spec
    assert len(app.get("deck_gl_json_chart")[0].proto.json) < 5_000  # no inline data
    root = Path(APP).parent
    served = json.loads((root / layers["lieux-fabriques"]["data"].removeprefix("app/")).read_text())
    assert len(served) == len(load_places().query("couche == 'fabriques'"))
    assert {"position", "couleur", "titre", "detail"} <= set(served[0])


def test_view_switch_hides_points_or_hexagons():
    app = _page(couches="fabriques")
    app.run()
    app.get("button_group")[0].set_value("densite").run()
    assert not app.exception
    layers = {layer["id"]: layer for layer in _spec(app)["layers"]}
    assert layers["lieux-fabriques"]["visible"] is False and layers["hexagones"]["visible"] is True
    assert app.query_params["vue"] == "densite"


def test_nearest_places_of_a_territory():
    app = _page(couches="france_services")
    app.run()
    app.selectbox(key="lieux-proches-de").set_value("42").run()
    assert not app.exception
    table = next(d.value for d in app.dataframe if "Couche" in d.value.columns)
    assert (table["Couche"] == "France services").all() and len(table) == 8
    assert (table["Dans le territoire"] == "oui").all()  # the Loire has 8 or more
    assert pd.api.types.is_float_dtype(table["Distance (km)"])  # sorts by value


def test_zones_blanches_use_the_default_real_fragility_preset(geo):
    app = _page(couches="manufactures", niveau="departement")
    app.run()
    assert not app.exception
    assert app.query_params["jeu"] == DEFAULT_PRESET
    store = IndicatorStore(geo)
    result = fragility(store, "departement", "metropole", preset=DEFAULT_PRESET)
    fragile = result.table.index[result.table["classe"].eq(5).fillna(False).to_numpy(dtype=bool)]
    places = combine_layers(
        {"Manufactures de proximité": layer_catalysts(load_places(), "manufactures")}
    )
    blank = gaps(places, geo, "departement", "metropole", fragile)
    assert f"**{len(blank)}** " in " ".join(m.value for m in app.markdown)
    assert f"parmi les {len(fragile)} plus fragiles (« {DEFAULT_PRESET} »" in _text(app)
    if len(blank):
        shown = next(d.value for d in app.dataframe if "Lieu le plus proche" in d.value.columns)
        assert list(shown["Code"]) == list(blank.index)
        assert pd.api.types.is_float_dtype(shown["Distance (km)"])
