"""AppTest of the Carte page: renders on the embedded data, level, search and URL state."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parent.parent / "app.py"


@pytest.fixture
def app():
    return AppTest.from_file(str(APP), default_timeout=120)


def test_carte_renders(app):
    app.run()
    assert not app.exception
    assert app.title[0].value == "Dynamiques territoriales"
    assert len(app.get("plotly_chart")) == 1


def test_level_from_query_params_and_written_back(app):
    app.query_params["niveau"] = "region"
    app.run()
    assert not app.exception
    assert app.selectbox[0].value == "region"
    app.selectbox[0].set_value("epci").run()
    assert app.query_params["niveau"] == "epci"


def test_search_selects_and_shows_parents(app):
    app.run()
    app.text_input[0].input("ST-ETIENNE").run()
    radio = app.radio[0]
    assert radio.options[0].startswith("Saint-Étienne (42)")
    radio.set_value(("commune", "42218")).run()
    assert not app.exception
    assert app.query_params["territoire"] == "42218"
    assert app.query_params["niveau"] == "commune"
    text = " ".join(m.value for m in app.markdown)
    assert "Loire" in text and "Auvergne-Rhône-Alpes" in text
