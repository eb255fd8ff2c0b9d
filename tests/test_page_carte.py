"""AppTest of the Carte page: renders, level / indicator / search update it, URL round-trip."""

import html
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_page_donnees import COMPLETE, _open, _upload, workspace  # noqa: F401 (fixture)

from territorial.geo.binmap import decode_units
from ui.fastmap import read_payload

APP = str(Path(__file__).resolve().parent.parent / "main.py")


@pytest.fixture
def app():
    return AppTest.from_file(APP, default_timeout=120)


def _text(app) -> str:
    return html.unescape(" ".join(m.value for m in app.markdown))


def test_carte_renders_with_legend_and_sources(app):
    app.run()
    assert not app.exception
    assert app.title[0].value == "Carte des territoires"
    assert len(app.get("bidi_component")) == 1  # the canvas map
    meta, values, _ranks, classes = _map(app)
    assert meta["n"] == 96 and meta["geometry"].startswith("app/static/geo/departement-")
    assert (classes < len(meta["colours"])).sum() == 96 and values.max() > 2_000_000
    assert "Classe" in _text(app) and "Sources" in _text(app)


def test_query_params_are_read_and_written_back(app):
    app.query_params.update(
        {"niveau": "region", "indicateur": "densite", "classes": "egal", "k": "4"}
    )
    app.run()
    assert not app.exception
    assert app.selectbox(key="niveau").value == "region"
    assert app.selectbox(key="pick-indicateur").value == "densite"
    assert app.query_params["classes"] == "egal" and app.query_params["k"] == "4"
    app.selectbox(key="niveau").set_value("epci").run()
    assert app.query_params["niveau"] == "epci"


def test_indicator_change_updates_legend(app):
    app.run()
    app.selectbox(key="pick-indicateur").set_value("part_maires_70_ans_plus").run()
    assert not app.exception
    assert "Part des maires âgés de 70 ans ou plus" in _text(app)
    assert app.query_params["indicateur"] == "part_maires_70_ans_plus"


def test_search_selects_a_commune_and_shows_its_parents(app):
    app.run()
    app.text_input(key="recherche").input("ST-ETIENNE").run()
    radio = app.radio(key="recherche-choix")
    assert html.unescape(radio.options[0]).startswith("Saint-Étienne (42)")
    radio.set_value(("commune", "42218")).run()
    assert not app.exception
    assert app.query_params["territoire"] == "42218"
    assert app.query_params["niveau"] == "commune"
    assert "Loire" in _text(app) and "Auvergne-Rhône-Alpes" in _text(app)
    meta = _map(app)[0]
    west, south, east, north = meta["view"]
    assert east - west >= 1.59  # about 120 km across: the neighbours show where it is
    assert meta["selected"] >= 0
    assert any("departement-france" in layer["url"] for layer in meta["outlines"])


def test_projection_mode_from_url(app):
    app.query_params["mode"] = "projection"
    app.run()
    assert not app.exception
    assert any(b.label == "Quitter le mode projection" for b in app.button)


def _codes(meta) -> list[str]:
    """Codes of the map file, in the order of the values sent."""
    path = Path(APP).parent / "static" / "geo" / Path(meta["geometry"]).name
    return decode_units(path.read_bytes())["codes"]


def _map(app):
    """Header, values, ranks and classes sent to the canvas map (ui/fastmap.py)."""
    return read_payload(app.get("bidi_component")[0].proto.bytes)


def test_a_typology_is_drawn_with_its_class_names(app):
    app.query_params.update(
        {"niveau": "commune", "perimetre": "departement:42", "indicateur": "typologie_densite"}
    )
    app.run()
    assert not app.exception
    text = _text(app)
    assert "Grands centres urbains" in text and "Rural à habitat très dispersé" in text
    assert "Rang" not in text  # a class has no rank
    meta, _values, ranks, classes = _map(app)
    saint_etienne = classes[_codes(meta).index("42218")]
    assert html.unescape(meta["categories"][saint_etienne]) == "Grands centres urbains"
    assert meta["rank_total"] is None and not ranks.any()  # a class has no rank


def test_an_estimate_says_how_much_of_the_population_it_covers(app):
    app.query_params.update({"niveau": "epci", "indicateur": "taux_pauvrete_2021"})
    app.run()
    assert not app.exception
    info = " ".join(i.value for i in app.info)
    assert "Estimation" in info and "Part de la population couverte" in info


def test_communes_open_on_the_region_of_the_selection_not_all_of_france(app):
    app.query_params.update({"niveau": "departement", "territoire": "29"})
    app.run()
    assert app.selectbox(key="perimetre_etude").value == "metropole"
    app.selectbox(key="niveau").set_value("commune").run()
    assert not app.exception
    scope = app.selectbox(key="perimetre_etude")
    assert scope.value == "region:53"  # Bretagne, the région of the Finistère
    assert app.query_params["perimetre"] == "region:53"
    assert 1000 < _map(app)[0]["n"] < 1300  # Bretagne's communes, not 35 000
    heavy = [o for o in scope.options if "carte lourde" in o]
    assert heavy and all("environ 2 Mo" in o for o in heavy)


def test_the_national_commune_map_is_an_explicit_choice(app):
    app.query_params.update({"niveau": "departement"})
    app.run()
    app.selectbox(key="niveau").set_value("commune").run()
    assert app.selectbox(key="perimetre_etude").value == "region:84"  # no selection: first région
    app.selectbox(key="perimetre_etude").set_value("metropole").run()
    assert not app.exception
    assert app.query_params["perimetre"] == "metropole"
    assert _map(app)[0]["n"] == 34746
    assert any("carte lourde" in c.value and "communes" in c.value for c in app.caption)
    app.selectbox(key="pick-indicateur").set_value("densite").run()
    assert app.selectbox(key="perimetre_etude").value == "metropole"  # the choice holds


def _legend(app) -> str:
    return html.unescape(
        next(m.value for m in app.markdown if "<div class='dt-legend'>" in m.value)
    )


def test_a_two_valued_indicator_says_why_it_has_fewer_classes(app):
    app.query_params.update(
        {
            "niveau": "commune",
            "perimetre": "departement:42",
            "indicateur": "part_maires_70_ans_plus",
        }
    )
    app.run()
    assert not app.exception
    legend = _legend(app)
    assert "0 %" in legend and "100 %" in legend and "0,0 – 100,0" not in legend
    captions = " ".join(c.value for c in app.caption)
    assert "5 classes demandées, 2 possibles" in captions
    assert "ne prend que 2 valeurs distinctes" in captions


def test_the_gap_to_france_of_a_percentage_is_in_points(app):
    app.query_params.update({"niveau": "departement", "indicateur": "part_maires_70_ans_plus"})
    app.run()
    next(t for t in app.toggle if t.label == "Écart à la France").set_value(True).run()
    assert not app.exception
    assert app.query_params["ecart"] == "oui"
    legend = _legend(app)
    assert " pts" in legend and " %" not in legend
    assert _map(app)[0]["unit"] == "pts"


@pytest.mark.usefixtures("workspace")  # a temporary database: the table is saved there
def test_counts_from_a_user_table_have_no_decimals():
    app = _open()
    _upload(app, "tiers_lieux.csv", COMPLETE)
    next(b for b in app.button if b.label == "Enregistrer").click().run()
    app.switch_page("views/carte.py").run()
    picker = app.selectbox(key="pick-indicateur")
    picker.select_index(next(i for i, o in enumerate(picker.options) if "tiers-lieux" in o)).run()
    assert not app.exception, app.exception
    legend = _legend(app)
    assert "12" in legend and ",00" not in legend


def test_projection_mode_keeps_its_pages_in_projection_mode(app):
    app.query_params["mode"] = "projection"
    app.run()
    assert not app.exception
    links = {link.proto.label: link.proto for link in app.get("page_link")}
    assert {"Carte", "Fiche", "Fragilités", "Glossaire"} <= set(links)  # short, on one line
    assert all(link.query_string == "mode=projection" for link in links.values())
    assert links["Fiche"].page == "fiche"
    assert _map(app)[0]["projection"]  # the map's larger hover and buttons


def _share_link(app) -> str:
    return next(c.value for c in app.code if c.value.startswith("http"))


def test_the_link_of_the_view_holds_its_settings(app):
    app.run()
    app.selectbox(key="niveau").set_value("region").run()
    app.selectbox(key="pick-indicateur").set_value("densite").run()
    assert not app.exception
    link = _share_link(app)  # drawn after the page: the settings just chosen
    assert "niveau=region" in link and "indicateur=densite" in link
    app.switch_page("views/glossaire.py").run()
    assert not app.exception
    assert "/glossaire" in _share_link(app)
