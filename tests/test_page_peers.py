"""AppTest of the portrait and of the « Territoires comparables » on the Fiche and the Carte."""

import html
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from territorial import load_geography
from territorial.analysis.peers import find_peers
from territorial.indicators.store import IndicatorStore
from ui.fastmap import read_payload
from ui.maps import HIGHLIGHT_COLOUR

APP = str(Path(__file__).resolve().parent.parent / "main.py")
NBSP = "\u202f"


def _page(path: str, **params) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=180)
    app.switch_page(path)
    app.query_params.update(params)
    return app


def _text(app) -> str:
    return html.unescape(" ".join(m.value for m in app.markdown)).replace(NBSP, " ")


@pytest.fixture(scope="module")
def store():
    return IndicatorStore(load_geography())


def test_fiche_shows_the_portrait_with_sources_and_rules():
    app = _page("views/fiche.py", niveau="commune", territoire="42218")
    app.run()
    assert not app.exception
    text = _text(app)
    assert "La commune compte 172 718 habitants." in text
    assert (
        "Le taux de pauvreté est de 28,0 %, nettement supérieur à celui du département "
        "(18,8 %, estimation)" in text
    )
    assert "(INSEE, Filosofi 2021 (base communale) — 2021)" in text
    assert "Fragilités prioritaires (jeu « Vue d'ensemble ») : Taux de pauvreté" in text
    assert "« proche » en dessous de 5 %" in text  # the wording rules, on screen


def test_fiche_lists_the_peers_with_links_to_their_fiche(store):
    app = _page("views/fiche.py", niveau="commune", territoire="42218")
    app.run()
    assert not app.exception
    expected = find_peers(store, "commune", "42218", same_region=True)  # communes: the région
    links = [link for link in app.get("page_link") if link.proto.label[:1].isdigit()]
    assert [html.unescape(link.proto.label) for link in links] == [
        f"{n}. {p['nom']} ({p['code']})" for n, p in enumerate(expected.peers, start=1)
    ]
    first = links[0].proto
    assert first.page == "fiche"
    assert first.query_string == f"niveau=commune&territoire={expected.peers[0]['code']}"
    assert "Proche sur" in html.unescape(" ".join(c.value for c in app.caption))
    assert expected.leads and "Pistes" in _text(app)
    assert expected.leads[0]["texte"].replace(NBSP, " ") in _text(app)


def test_fiche_peer_options_change_the_list_and_the_url(store):
    app = _page("views/fiche.py", niveau="departement", territoire="42")
    app.run()
    assert not app.exception
    app.toggle(key="pairs-voisins").set_value(True).run()
    assert not app.exception
    assert app.query_params["pairs_sans_voisins"] == "oui"
    expected = find_peers(store, "departement", "42", exclude_neighbours=True)
    labels = [
        html.unescape(link.proto.label)
        for link in app.get("page_link")
        if link.proto.label[:1].isdigit()
    ]
    assert labels[0] == f"1. {expected.peers[0]['nom']} ({expected.peers[0]['code']})"
    assert not any("(69)" in label or "(43)" in label for label in labels)  # neighbours out


def test_fiche_of_a_region_has_no_same_region_option():
    app = _page("views/fiche.py", niveau="region", territoire="84")
    app.run()
    assert not app.exception
    assert not [t for t in app.toggle if t.key == "pairs-region"]
    assert "Territoires comparables" in [s.value for s in app.subheader]


def _highlighted(app) -> list[int]:
    """Units outlined in orange on the canvas map (positions in its map file)."""
    meta = read_payload(app.get("bidi_component")[0].proto.bytes)[0]
    assert meta["highlight_colour"] == HIGHLIGHT_COLOUR
    return meta["highlight"]


def _width(app) -> float:
    """Degrees of longitude the map opens on."""
    west, _south, east, _north = read_payload(app.get("bidi_component")[0].proto.bytes)[0]["view"]
    return east - west


def test_carte_outlines_the_peers_of_the_selected_territory_and_links_their_fiche(store):
    app = _page("views/carte.py", niveau="departement", territoire="42")
    app.run()
    assert not app.exception
    assert not _highlighted(app)
    width_alone = _width(app)
    app.toggle(key="carte-pairs").set_value(True).run()
    assert not app.exception
    assert app.query_params["pairs"] == "oui"
    expected = find_peers(store, "departement", "42")
    assert len(_highlighted(app)) == len(expected.peers)
    links = [link.proto for link in app.get("page_link") if link.proto.label[:1].isdigit()]
    assert [link.query_string for link in links] == [
        f"niveau=departement&territoire={p['code']}" for p in expected.peers
    ]
    assert "Territoires comparables" in _text(app)
    assert _width(app) > width_alone  # the view widens to frame the peers across France


def test_carte_peers_of_a_commune_come_from_its_region_and_follow_the_url(store):
    app = _page("views/carte.py", niveau="commune", perimetre="region:84", territoire="42218",
                pairs="oui")  # fmt: skip
    app.run()
    assert not app.exception
    expected = find_peers(store, "commune", "42218", same_region=True)
    assert len(_highlighted(app)) == len(expected.peers)
    assert "région Auvergne-Rhône-Alpes" in _text(app)
