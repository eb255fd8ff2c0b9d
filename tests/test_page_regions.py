"""Régions page (AppTest) and its pure core ``territorial.analysis.compare``."""

import html
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from territorial.analysis.compare import (
    describe,
    format_gap,
    reading,
    reference_values,
    region_comparison,
    regions_side_by_side,
    versus_france,
)
from territorial.indicators.store import IndicatorStore
from territorial.text.formatting import format_number
from ui.fastmap import read_payload

APP = str(Path(__file__).resolve().parent.parent / "main.py")
PAGE = "views/regions.py"
DEFAULTS = [
    "densite",
    "part_pop_communes_moins_2000",
    "distance_pole_10000_km",
    "part_femmes_conseil_municipal",
    "part_maires_70_ans_plus",
]


# ---------------------------------------------------------------------- pure core
@pytest.fixture(scope="module")
def store(geo):
    return IndicatorStore(geo)


def test_region_comparison_has_the_13_regions_with_the_store_values(store):
    table = region_comparison(store, ["densite", "part_maires_70_ans_plus"])
    assert len(table) == 13
    assert set(table["code"]) == {
        "11",
        "24",
        "27",
        "28",
        "32",
        "44",
        "52",
        "53",
        "75",
        "76",
        "84",
        "93",
        "94",
    }
    expected = store.values("region", "metropole")
    for column in ("densite", "part_maires_70_ans_plus"):
        np.testing.assert_allclose(
            table.set_index("code")[column], expected.loc[table["code"], column]
        )


def test_gap_to_france_by_hand(store):
    france = store.values("france").loc["FR"]
    region = store.values("region", "metropole").loc["84"]
    gaps = versus_france(store, ["part_maires_70_ans_plus"]).set_index("code").loc["84"]
    by_hand = region["part_maires_70_ans_plus"] - france["part_maires_70_ans_plus"]
    assert gaps["reference"] == pytest.approx(france["part_maires_70_ans_plus"])
    assert gaps["ecart"] == pytest.approx(by_hand)
    assert gaps["ecart_pct"] == pytest.approx(by_hand / france["part_maires_70_ans_plus"] * 100)
    # 14,7 % of mayors aged 70+ against 17,2 % in France: fewer old mayors, less fragile.
    assert gaps["lecture"] == "moins fragile"
    ranks = versus_france(store, ["densite"]).set_index("code")["rang"]
    assert ranks["11"] == 1 and ranks["94"] == 13


def test_metropole_reference_is_a_ratio_of_sums(store):
    regions = store.values("region", "metropole")
    metropole = reference_values(store, "metropole")
    assert metropole["population"] == pytest.approx(regions["population"].sum())
    assert metropole["densite"] == pytest.approx(
        regions["population"].sum() / regions["superficie_km2"].sum()
    )
    assert metropole["distance_pole_10000_max_km"] == pytest.approx(
        regions["distance_pole_10000_max_km"].max()
    )
    with pytest.raises(ValueError):
        reference_values(store, "europe")


def test_sums_get_a_share_not_a_gap(store):
    gaps = versus_france(store, ["population"]).set_index("code")
    assert gaps["ecart"].isna().all() and gaps["ecart_pct"].isna().all()
    france = store.values("france").loc["FR", "population"]
    assert gaps.loc["11", "part_pct"] == pytest.approx(
        store.values("region").loc["11", "population"] / france * 100
    )
    assert (gaps["lecture"] == "").all()


def test_side_by_side_difference(store):
    table = regions_side_by_side(store, ["84", "93"]).set_index("id")
    assert len(table) == len(store.catalogue)
    values = store.values("region", "metropole")
    row = table.loc["densite"]
    assert row["Auvergne-Rhône-Alpes"] == pytest.approx(values.loc["84", "densite"])
    assert row["ecart"] == pytest.approx(values.loc["93", "densite"] - values.loc["84", "densite"])
    assert row["reference"] == pytest.approx(store.values("france").loc["FR", "densite"])
    three = regions_side_by_side(store, ["84", "93", "94"], ["densite"])
    assert three.attrs["ecart"] == "Écart entre la plus haute et la plus basse"
    assert three.loc[0, "ecart"] == pytest.approx(
        values.loc["93", "densite"] - values.loc["94", "densite"]
    )


def test_describe_and_gap_formatting(store):
    indicator = store.catalogue["part_maires_70_ans_plus"]
    values = pd.Series([10.0, 30.0, 20.0], index=["A", "B", "C"])
    text = describe(values, indicator, reference=15.0)
    assert text.startswith("Valeur la plus haute : B (30,0 %) ; la plus basse : A (10,0 %).")
    assert "2 régions sur 3 au-dessus de la France entière (15,0 %)" in text
    assert "Aucune région" in describe(values, indicator, reference=99.0)
    assert format_gap(0.04, 1) == "0,0" and format_gap(-0.04, 1) == "0,0"
    assert format_gap(1.25, 1) == "+1,2" or format_gap(1.25, 1) == "+1,3"
    assert reading(indicator, 0.0) == ""


# ---------------------------------------------------------------------- page
def _open(query: dict | None = None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120).run()
    app.query_params.clear()  # drop what the default page wrote
    app.query_params.update(query or {})
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def _text(app) -> str:
    return html.unescape(" ".join(m.value for m in [*app.markdown, *app.caption]))


def test_renders_the_table_of_13_regions_and_the_reference():
    app = _open()
    assert app.title[0].value == "Comparer les régions"
    assert app.multiselect(key="indicateurs").value == DEFAULTS
    table = app.table[0].value
    assert len(table) == 14 and table["Région"].iloc[-1] == "France entière"
    assert table["Densité de population (hab./km²)"].iloc[0] == pytest.approx(1021.23, abs=0.01)
    assert table["Rang"].iloc[0] == "1"
    text = _text(app)
    assert "Sources : IGN" in text and "Licence Ouverte 2.0" in text
    assert "millésime COG 2025" in text
    assert [b.label for b in app.get("download_button")] == ["Télécharger ce tableau (CSV)"]


def test_picking_indicators_updates_the_table_and_the_url():
    app = _open()
    app.multiselect(key="indicateurs").set_value(["age_moyen_maires", "densite"]).run()
    assert not app.exception
    columns = app.table[0].value.columns.tolist()
    assert columns == [
        "Rang",
        "Région",
        "Âge moyen des maires (ans)",
        "Densité de population (hab./km²)",
    ]
    assert app.query_params["indicateurs"] == "age_moyen_maires,densite"
    app.selectbox(key="tri").set_value("densite").run()
    assert app.table[0].value["Région"].iloc[0] == "Île-de-France"
    assert app.query_params["tri"] == "densite"


def test_two_regions_show_the_comparison(store):
    app = _open()
    app.multiselect(key="regions").set_value(["84", "93"])
    app.segmented_control(key="vue").set_value("comparer").run()
    assert not app.exception
    assert app.query_params["regions"] == "84,93" and app.query_params["vue"] == "comparer"
    table = app.table[0].value
    assert table.columns.tolist() == [
        "Thème",
        "Indicateur",
        "Auvergne-Rhône-Alpes",
        "Provence-Alpes-Côte d'Azur",
        "France entière",
        "Écart Provence-Alpes-Côte d'Azur − Auvergne-Rhône-Alpes",
    ]
    assert len(table) == len(store.catalogue)
    row = table.set_index("Indicateur").loc["Densité de population (hab./km²)"]
    values = store.values("region", "metropole")
    assert row["Auvergne-Rhône-Alpes"] == format_number(values.loc["84", "densite"], 1)
    assert row.iloc[-1] == format_gap(values.loc["93", "densite"] - values.loc["84", "densite"], 1)
    assert len(app.get("plotly_chart")) == 1  # profile of the two régions


def test_one_region_asks_for_a_second():
    app = _open({"vue": "comparer", "regions": "84"})
    assert any("au moins deux régions" in i.value for i in app.info)


def test_query_params_round_trip():
    query = {
        "indicateurs": "part_maires_70_ans_plus,densite",
        "regions": "93,11",
        "reference": "metropole",
        "vue": "graphiques",
    }
    app = _open(query)
    assert app.multiselect(key="indicateurs").value == ["part_maires_70_ans_plus", "densite"]
    assert app.multiselect(key="regions").value == ["93", "11"]
    assert app.selectbox(key="reference").value == "metropole"
    assert app.segmented_control(key="vue").value == "graphiques"
    assert len(app.get("plotly_chart")) == 2
    assert {k: app.query_params[k] for k in query} == query
    assert "au-dessus de la France métropolitaine" in _text(app)


def test_unknown_query_values_fall_back_to_defaults():
    app = _open({"indicateurs": "inconnu,<script>", "regions": "99", "vue": "nulle"})
    assert app.multiselect(key="indicateurs").value == DEFAULTS
    assert app.multiselect(key="regions").value == []
    assert app.segmented_control(key="vue").value == "tableau"


@pytest.mark.parametrize(
    ("view", "charts", "maps"),
    [("graphiques", 5, 0), ("cartes", 0, 5), ("ecarts", 0, 0), ("comparer", 1, 0)],
)
def test_every_view_renders(view, charts, maps):
    app = _open({"vue": view, "regions": "84,93"})
    assert len(app.get("plotly_chart")) == charts
    assert len(app.get("bidi_component")) == maps
    if view == "cartes":
        assert len(app.expander) == 5  # each map's table one click away
        assert "Valeur la plus haute" in _text(app)
    if view == "ecarts":
        matrix = app.table[0].value
        assert len(matrix) == 13 and matrix.shape[1] == 6
        assert app.table[1].value.columns[-1] == "Lecture"


def test_maps_reference_geometry_by_url():
    app = _open({"vue": "cartes", "indicateurs": "densite"})
    blob = app.get("bidi_component")[0].proto.bytes
    meta, values, ranks, _classes = read_payload(blob)
    assert meta["geometry"].startswith("app/static/geo/region-metropole-")
    assert meta["n"] == 13 and sorted(ranks.tolist()) == list(range(1, 14))
    assert len(blob) < 20_000  # values only: the outlines stay in the static file
