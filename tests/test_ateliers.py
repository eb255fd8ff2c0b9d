"""Ateliers and private spaces with two AppTest sessions on one database.

Without an atelier, what a session loads stays in its private space; an atelier's data is
visible to every participant but only the edit link may change it; the perimeter set
activated in one atelier changes neither another atelier nor the process geography.
"""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from territorial import load_geography
from territorial.storage import Database

APP = str(Path(__file__).resolve().parent.parent / "main.py")
COMPLETE = b"code_dep;Nombre de tiers-lieux (test)\n01;4\n42;7\n69;12\n"
PERIMETERS = b"code;perimetre\n200000172;Alliance test A\n01001;Alliance test B\n"


@pytest.fixture
def db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'territorial.sqlite3'}"
    monkeypatch.setenv("TERRITORIAL_DATABASE_URL", url)
    monkeypatch.setenv("TERRITORIAL_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setenv("TERRITORIAL_CACHE_DIR", str(tmp_path / "cache"))
    return Database(url)


def _session(**query) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    for name, value in query.items():
        app.query_params[name] = value
    app.run()
    assert not app.exception, app.exception
    return app


def _goto(app: AppTest, page: str, tab: str | None = None) -> AppTest:
    app.switch_page(page)
    if tab:
        app.query_params["onglet"] = tab
    app.run()
    assert not app.exception, app.exception
    return app


def _texts(app: AppTest) -> str:
    parts = [m.value for m in app.markdown] + [c.value for c in app.caption]
    for kind in (app.error, app.warning, app.info, app.success):
        parts += [e.value for e in kind]
    return html.unescape(" ".join(parts))


def _save_table(app: AppTest) -> None:
    _goto(app, "views/donnees.py")
    uploader = next(u for u in app.file_uploader if u.key == "fichier-indicateurs")
    uploader.set_value(("tiers_lieux.csv", COMPLETE, "text/csv")).run()
    next(b for b in app.button if b.label == "Enregistrer").click().run()
    assert not app.exception, app.exception
    assert "Tableau « tiers_lieux » enregistré" in _texts(app)


def _create_atelier(app: AppTest, name: str) -> tuple[str, str]:
    _goto(app, "views/atelier.py")
    app.text_input(key="atelier-nom").input(name).run()
    app.button(key="atelier-creer").click().run()
    assert not app.exception, app.exception
    links = [c.value for c in app.code]
    edit = next(link for link in links if "&cle=" in link)
    code = edit.split("atelier=")[1].split("&")[0]
    return code, edit.split("&cle=")[1]


def test_a_private_table_is_seen_by_no_other_session(db):
    a, b = _session(), _session()
    _save_table(a)
    _goto(b, "views/donnees.py", "Mes tableaux")
    assert "Aucun tableau enregistré" in _texts(b)
    _goto(a, "views/donnees.py", "Mes tableaux")
    assert a.dataframe[0].value["Nom"].tolist() == ["tiers_lieux"]


def test_an_atelier_table_is_read_only_without_the_edit_link(db):
    a = _session()
    code, token = _create_atelier(a, "Atelier Loire")
    assert db.can_edit(code, token)
    assert "cle" not in a.query_params  # the edit key never stays in the address bar
    _save_table(a)
    b = _session(atelier=code)
    _goto(b, "views/donnees.py", "Mes tableaux")
    assert b.dataframe[0].value["Nom"].tolist() == ["tiers_lieux"]  # participants see it
    assert "lecture seule" in _texts(b)
    assert not [x for x in b.button if x.key in {"supprimer", "renommer"}]
    _goto(b, "views/donnees.py", "Charger un tableau")
    assert not b.file_uploader and "lecture seule" in _texts(b)
    forged = _session(atelier=code, cle=token[:-2] + "xx")
    assert "pas (ou plus) valable" in _texts(forged)
    _goto(forged, "views/donnees.py", "Mes tableaux")
    assert not [x for x in forged.button if x.key == "supprimer"]
    assert [t["nom"] for t in db.space(code).tables()] == ["tiers_lieux"]
    editor = _session(atelier=code, cle=token)  # the edit link, from another device
    _goto(editor, "views/donnees.py", "Mes tableaux")
    editor.button(key="supprimer").click().run()
    editor.button(key="supprimer-oui").click().run()
    assert not editor.exception, editor.exception
    assert db.space(code).tables() == []


def test_the_perimeter_set_of_one_atelier_changes_no_other(db):
    default = load_geography().perimeters_hash
    a, b = _session(), _session()
    _create_atelier(a, "Atelier A")
    _create_atelier(b, "Atelier B")
    _goto(a, "views/donnees.py", "Périmètres")
    a.radio(key="perimetres-type").set_value("utilisateur").run()
    a.text_input(key="perimetres-nom").input("Alliances A").run()
    uploader = next(u for u in a.file_uploader if u.key == "perimetres-fichier")
    uploader.set_value(("alliances.csv", PERIMETERS, "text/csv")).run()
    next(x for x in a.button if x.label == "Utiliser ces périmètres").click().run()
    assert not a.exception, a.exception
    assert "Jeu actif : Alliances A" in _texts(a)
    _goto(b, "views/donnees.py", "Périmètres")
    assert "Jeu actif : Alliances A" not in _texts(b)
    assert load_geography().perimeters_hash == default  # the process geography is untouched
    _goto(a, "views/carte.py")
    _goto(a, "views/donnees.py", "Périmètres")
    assert "Jeu actif : Alliances A" in _texts(a)  # kept from page to page


def test_parcours_views_are_saved_and_stepped_through(db):
    a = _session()
    code, _ = _create_atelier(a, "Parcours")
    for title, page, query in (
        ("Les régions", "views/regions.py", {}),
        ("Saint-Étienne", "views/fiche.py", {"niveau": "commune", "territoire": "42218"}),
    ):
        a.switch_page(page)
        for name, value in query.items():
            a.query_params[name] = value
        a.run()
        a.text_input(key="vue-titre").input(title).run()
        a.button(key="vue-ajouter").click().run()
        assert not a.exception, a.exception
    views = db.space(code).views()
    assert [v["titre"] for v in views] == ["Les régions", "Saint-Étienne"]
    assert views[1]["page"] == "fiche" and views[1]["parametres"]["territoire"] == "42218"
    phone = _session(atelier=code, etape=str(views[1]["id"]))
    assert phone.title[0].value == "Fiche territoire"
    assert "Saint-Étienne" in [html.unescape(s.value) for s in phone.subheader]
    assert phone.query_params["territoire"] == "42218"
    assert "vue 2 / 2" in _texts(phone)
    phone.button(key="parcours-precedente").click().run()
    assert not phone.exception, phone.exception
    assert "vue 1 / 2" in _texts(phone) and phone.title[0].value == "Comparer les régions"
    assert not [x for x in phone.button if x.key == "vue-ajouter"]  # participants: read-only


def test_oidc_editors_setting_offers_a_login_and_grants_nothing_before_it(db, monkeypatch):
    code, _ = db.create_atelier("Atelier OIDC")
    monkeypatch.setenv("TERRITORIAL_EDITORS", "anne@exemple.fr")
    visitor = _goto(_session(atelier=code), "views/atelier.py")
    assert [b.label for b in visitor.button if b.key == "atelier-connexion"]
    assert "lecture seule" in _texts(visitor)  # not logged in: no edit right
    monkeypatch.delenv("TERRITORIAL_EDITORS")
    plain = _goto(_session(), "views/atelier.py")
    assert not [b for b in plain.button if b.key == "atelier-connexion"]
