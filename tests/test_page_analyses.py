"""AppTest of the Fiche, Fragilités prioritaires and Catalyseurs pages."""

import html
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "main.py")


def _page(path: str, **params) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=180)
    app.switch_page(path)
    app.query_params.update(params)
    return app


def _text(app) -> str:
    return html.unescape(" ".join(m.value for m in app.markdown))


def test_fiche_without_territory_invites_to_search():
    app = _page("views/fiche.py")
    app.run()
    assert not app.exception
    assert any("Cherchez un territoire" in i.value for i in app.info)


def test_fiche_of_a_commune_shows_identity_indicators_priorities_catalysts():
    app = _page("views/fiche.py", niveau="commune", territoire="42218")
    app.run()
    assert not app.exception
    assert html.unescape(app.header[0].value) == "Saint-Étienne"
    text = _text(app)
    assert "Loire" in text and "Auvergne-Rhône-Alpes" in text
    assert (
        "Projet de territoire : **CRTE Saint-Etienne Métropole** — porté par un seul EPCI." in text
    )
    assert [s.value for s in app.subheader] == [
        "Portrait du territoire",
        "Fragilités prioritaires",
        "Indicateurs",
        "Programmes de l'ANCT sur ce territoire",
        "Territoires comparables",
        "Catalyseurs territoriaux",
    ]
    indicators = app.dataframe[0].value
    assert "Densité de population" in " ".join(indicators["Indicateur"])
    assert {"Rang région", "Rang France", "Département", "Région", "France"} <= set(
        indicators.columns
    )
    ranks = indicators.set_index("Indicateur")["Rang France"]
    assert pd.api.types.is_integer_dtype(ranks)  # sorts 9 before 1 000
    constant = ranks[ranks.index.str.startswith("Nombre de communes")]  # 1 for every commune
    assert len(constant) == 1 and pd.isna(constant).all()  # a rank without information: none
    assert ranks.dropna().min() >= 1
    caption = " ".join(c.value for c in app.caption)
    assert "comparé à la région" in caption
    priorities = [m.value for m in app.markdown if m.value.startswith(("1. ", "2. "))]
    assert priorities and all("dans la région" in p and "en France" not in p for p in priorities)
    assert any("FICTIFS" in w.value for w in app.warning)
    labels = [b.label for b in app.get("download_button")]
    assert any("HTML" in label for label in labels) and any("CSV" in label for label in labels)


def test_fiche_search_changes_territory():
    app = _page("views/fiche.py", niveau="commune", territoire="42218")
    app.run()
    app.text_input(key="recherche").input("Loire").run()
    app.radio(key="recherche-choix").set_value(("departement", "42")).run()
    assert not app.exception
    assert app.header[0].value == "Loire"
    assert app.query_params["niveau"] == "departement" and app.query_params["territoire"] == "42"


def test_fiche_search_by_postcode():
    app = _page("views/fiche.py")
    app.run()
    app.text_input(key="recherche").input("42000").run()
    assert not app.exception
    choice = app.radio(key="recherche-choix")
    assert html.unescape(choice.options[0]).startswith("Saint-Étienne (42), code postal 42000")
    choice.set_value(("commune", "42218")).run()
    assert html.unescape(app.header[0].value) == "Saint-Étienne"


def test_fragilites_ranks_and_explains():
    app = _page("views/fragilites.py", niveau="departement")
    app.run()
    assert not app.exception
    ranking = app.dataframe[0].value
    assert len(ranking) == 96
    # numbers stay numbers, so that a click on a header sorts by value, not alphabetically
    assert ranking["Rang"].iloc[0] == 1
    assert pd.api.types.is_integer_dtype(ranking["Rang"])
    assert pd.api.types.is_float_dtype(ranking["Score"])
    by_rank = ranking.sort_values("Rang")["Rang"].dropna().tolist()
    assert by_rank[:10] == sorted(by_rank)[:10] and by_rank[9] == 10  # not "1", "10", "11"…
    assert ranking.columns[0] == "Rang" and "Code" in ranking.columns  # no SIREN first
    assert set(ranking["Code"]) >= {"42", "75"}
    assert app.query_params["jeu"] == "Vue d'ensemble"  # the default preset, on real data
    assert "Indicateurs" in _text(app)  # the method note


def test_fragilites_preset_and_reference_round_trip():
    app = _page("views/fragilites.py", niveau="epci", jeu="Gouvernance locale", reference="region")
    app.run()
    assert not app.exception
    assert app.selectbox[2].value == "Gouvernance locale"
    assert app.query_params["reference"] == "region"
    assert len(app.dataframe[0].value) == 1234


@pytest.mark.parametrize("level", ["departement", "epci"])
def test_catalyseurs_page_marks_the_fictional_example(level):
    app = _page("views/catalyseurs.py", niveau=level, couches="exemple")
    app.run()
    assert not app.exception
    assert any("FICTIFS" in w.value for w in app.warning)
    densities = app.dataframe[0].value
    assert densities["Lieux"].sum() == 350
    assert "Zones blanches" in [s.value for s in app.subheader]
    assert "plus fragiles" in _text(app)


def test_fiche_of_saint_etienne_shows_filosofi_2021_with_source_and_estimates():
    app = _page("views/fiche.py", niveau="commune", territoire="42218")
    app.run()
    assert not app.exception
    table = app.dataframe[0].value.set_index("Indicateur")
    poverty = table.loc["Taux de pauvreté (seuil à 60 %)"]
    assert poverty["Valeur"] == 28.0 and poverty["Unité"] == "%"  # published: no estimate flag
    assert poverty["France"].endswith("(estimation)")  # a rate above communes is estimated
    assert poverty["Source, millésime, licence"].startswith("INSEE, Filosofi 2021")
    median = table.loc["Niveau de vie médian"]
    assert median["Valeur"] == 19010 and median["Unité"] == "€/an"
    density = table.loc["Grille communale de densité (7 niveaux)"]
    assert density["Classe"] == "Grands centres urbains" and pd.isna(density["Valeur"])


def test_fiche_values_are_numbers_with_their_unit_beside_them():
    """The value column sorts by value: numbers (rounded as published), the unit apart."""
    app = _page("views/fiche.py", niveau="departement", territoire="42")
    app.run()
    assert not app.exception
    table = app.dataframe[0].value
    assert pd.api.types.is_float_dtype(table["Valeur"])
    assert pd.api.types.is_integer_dtype(table["Rang région"])
    assert pd.api.types.is_integer_dtype(table["Rang France"])
    rows = table.set_index("Indicateur")
    assert rows.loc["Densité de population", "Unité"] == "hab./km²"
    assert rows.loc["Niveau de vie médian", "Unité"] == "€/an (estimation)"
    assert rows.loc["Population municipale", "Valeur"] > 700_000  # the Loire
    massif = rows.loc["Massif de montagne"]  # a typology: its class, no number
    assert massif["Classe"] == "06 - Massif Central" and pd.isna(massif["Valeur"])


def test_fiche_lists_the_anct_programmes_of_the_territory():
    app = _page("views/fiche.py", niveau="commune", territoire="42218")
    app.run()
    assert not app.exception
    assert "Programmes de l'ANCT sur ce territoire" in [s.value for s in app.subheader]
    text = _text(app)
    assert "**France services** (3)" in text  # three structures, one row of the source
    assert "Quartiers prioritaires de la politique de la ville** (9)" in text


def test_printable_fiche_attributes_producers_and_dates_in_french():
    from territorial import load_geography
    from territorial.indicators.store import IndicatorStore
    from territorial.outputs.fiche import fiche_data, render_html

    html = render_html(fiche_data(IndicatorStore(load_geography()), "commune", "42218"))
    for producer in (
        "Agence nationale de la cohésion des territoires",
        "Institut national de la statistique",
        "Observatoire des territoires",
    ):
        assert producer in html
    assert "INSEE, Filosofi 2021 (base communale) — 2021 — Licence Ouverte 2.0" in html
    assert "<h2>Programmes de l'ANCT sur ce territoire</h2>" in html and "France services" in html
    assert "(estimation)" in html
    assert not re.search(r"\d{4}-\d{2}-\d{2}", html.split("Fiche produite le")[1][:40])
    row = html.split("Nombre de communes")[1].split("</tr>")[0]
    assert "1er / " not in row and row.count(">–<") >= 2  # the same for every commune: no rank
    assert re.search(r"\d+e / 34\u202f\d{3}|\d+er / 34\u202f\d{3}", html)  # ranks written out


def test_fiche_above_commune_level_gives_the_share_of_each_typology_class():
    app = _page("views/fiche.py", niveau="departement", territoire="42")
    app.run()
    assert not app.exception
    text = _text(app)
    assert "Typologies : part de la population (2021) dans chaque classe" in text
    assert "Grands centres urbains : 31" in text


@pytest.mark.parametrize(
    ("level", "code", "scope_file", "units"),
    [
        ("commune", "42218", "commune-departement-42-", 320),
        ("region", "84", "region-metropole-", 13),
    ],
)
def test_fiche_locates_the_territory_among_its_neighbours(level, code, scope_file, units):
    from ui.fastmap import read_payload

    app = _page("views/fiche.py", niveau=level, territoire=code)
    app.run()
    assert not app.exception
    (locator,) = app.get("bidi_component")
    meta, _values, _ranks, classes = read_payload(locator.proto.bytes)
    assert meta["geometry"].startswith(f"app/static/geo/{scope_file}") and meta["n"] == units
    assert meta["selected"] >= 0 and classes[meta["selected"]] == 0  # in colour
    assert (classes == 0).sum() == 1  # the others in grey
    assert any("Situation : le territoire" in c.value for c in app.caption)
