"""AppTest of the Données page: upload and save a table, manage tables, perimeters, sources.

Every test uses a temporary database (``TERRITORIAL_DATABASE_URL``) and a temporary
official-data cache, so nothing is written in the repository and nothing is downloaded.
Without an atelier, a session saves in its own private space (:class:`OnlySpace` reads it).
"""

import html
import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from territorial.storage import Database, Space
from territorial.storage.schema import spaces
from territorial.storage.workspace import Workspace

APP = str(Path(__file__).resolve().parent.parent / "main.py")
PAGE = "views/donnees.py"

TABLE = (
    "code;Nombre d'associations;Taux de chômage;commentaire\n"
    "01001;12;7,5;table de test\n"
    "75108;3;8,1;arrondissement → Paris\n"
    "99999;1;5;code inconnu\n"
    "01004;s;6;valeur secrète\n"
).encode()
COMPLETE = b"code_dep;Nombre de tiers-lieux (test)\n01;4\n42;7\n69;12\n"


class OnlySpace:
    """The private space of the (single) session of a test, read straight from the database."""

    def __init__(self, url: str):
        self.db = Database(url)

    def __getattr__(self, name: str):
        with self.db.read() as conn:
            codes = conn.execute(select(spaces.c.code).where(spaces.c.kind == "prive")).all()
        assert len(codes) <= 1, codes
        code = codes[0][0] if codes else "aucun"
        return getattr(self.db.space(code, kind="prive", editable=True), name)


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'territorial.sqlite3'}"
    monkeypatch.setenv("TERRITORIAL_DATABASE_URL", url)
    monkeypatch.setenv("TERRITORIAL_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setenv("TERRITORIAL_CACHE_DIR", str(tmp_path / "cache"))
    return OnlySpace(url)


def _open(tab: str | None = None, **query) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    for name, value in query.items():
        app.query_params[name] = value
    app.run()
    return _goto(app, tab)


def _goto(app: AppTest, tab: str | None = None) -> AppTest:
    app.switch_page(PAGE)
    if tab:
        app.query_params["onglet"] = tab
    app.run()
    assert not app.exception, app.exception
    return app


def _plain(text: str) -> str:
    """What the reader sees of a Markdown text made inert (character references decoded)."""
    return html.unescape(text)


def _texts(app: AppTest) -> str:
    parts = [m.value for m in app.markdown] + [c.value for c in app.caption]
    for kind in (app.error, app.warning, app.info, app.success):
        parts += [e.value for e in kind]
    return _plain(" ".join(parts))


def _upload(app: AppTest, name: str, data: bytes, key="fichier-indicateurs") -> AppTest:
    uploader = next(u for u in app.file_uploader if u.key == key)
    uploader.set_value((name, data, "text/csv")).run()
    assert not app.exception, app.exception
    return app


def test_page_renders_with_every_tab(workspace):
    app = _open()
    assert app.title[0].value == "Données"
    assert "50 Mo" in _texts(app) and "200\u202f000 lignes" in _texts(app)
    for tab in ("Mes tableaux", "Périmètres", "Catalyseurs", "Données officielles"):
        _goto(app, tab)
        assert app.subheader, tab


def test_saved_table_appears_in_the_map_picker(workspace):
    app = _open()
    _upload(app, "associations.csv", TABLE)
    assert app.selectbox[0].value == "code"  # detected key column
    assert any(s.value == "commune" for s in app.selectbox)
    text = _texts(app)
    assert "Tableau incomplet : 1 ligne non rattachée" in text
    assert "1 : code inconnu" in text
    size = len(TABLE)  # the uploader's « 352.0B » is hidden: the size in French instead
    assert f"Fichier reçu : « associations.csv », {size} octets." in text
    unmatched, remapped = app.dataframe[0].value, app.dataframe[1].value
    assert unmatched.to_dict("records") == [
        {"Ligne": 4, "Valeur": "99999", "Raison": "code inconnu"}
    ]
    assert remapped["Code retenu"].tolist() == ["75056"]  # Paris 8e arrondissement → Paris
    assert remapped["Correction"].tolist() == ["arrondissement municipal → commune"]  # no rule id
    # one table of settings (a grid, whatever the number of columns), rules guessed from names
    settings = next(d.value for d in app.dataframe if "Agrégation" in d.value.columns)
    rules = dict(zip(settings["Colonne"], settings["Agrégation"], strict=True))
    assert rules["Taux de chômage"] == "Moyenne pondérée par la population"
    assert rules["Nombre d'associations"] == "Somme (effectifs, montants)"
    assert set(settings["Polarité"]) == {"Ni haut ni bas n'est une fragilité"}
    save = next(b for b in app.button if b.label == "Enregistrer")
    assert save.disabled  # incomplete: the user must acknowledge it first
    next(c for c in app.checkbox if "incomplet" in c.label).check().run()
    next(b for b in app.button if b.label == "Enregistrer").click().run()
    assert not app.exception, app.exception
    assert "Tableau « associations » enregistré (INCOMPLET)" in _texts(app)

    meta = workspace.tables("indicateurs")[0]
    assert meta["nom"] == "associations" and meta["niveau"] == "commune"
    assert meta["rapport"]["complete"] is False
    assert meta["regles"] == {
        "Nombre d'associations": "somme",
        "Taux de chômage": "moyenne_ponderee",
    }
    assert set(meta) >= {"rapport", "regles", "unites", "polarites", "enregistre_le"}

    app.switch_page("views/carte.py").run()
    assert not app.exception, app.exception
    options = app.selectbox(key="pick-indicateur").options
    assert any("Mes données : associations · Taux de chômage" in o for o in options)


def test_rename_and_delete(workspace):
    app = _open()
    _upload(app, "tiers_lieux.csv", COMPLETE)
    assert "Tableau complet" in _texts(app)
    assert any(s.value == "departement" for s in app.selectbox)
    next(b for b in app.button if b.label == "Enregistrer").click().run()
    assert [t["nom"] for t in workspace.tables()] == ["tiers_lieux"]

    _goto(app, "Mes tableaux")
    table = app.dataframe[0].value
    assert table["Nom"].tolist() == ["tiers_lieux"] and table["État"].tolist() == ["complet"]
    app.text_input(key="renommer-nom-tiers_lieux").input("Tiers-lieux 2025").run()
    app.button(key="renommer").click().run()
    assert not app.exception, app.exception
    assert [t["nom"] for t in workspace.tables()] == ["Tiers-lieux 2025"]
    assert "renommé" in _texts(app)

    app.button(key="supprimer").click().run()
    assert "Supprimer définitivement" in _texts(app)
    assert workspace.tables()  # nothing deleted before confirmation
    app.button(key="supprimer-oui").click().run()
    assert not app.exception, app.exception
    assert workspace.tables() == []
    assert "Aucun tableau enregistré" in _texts(app)


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("vide.csv", b"", "est vide"),
        ("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00binaire", "image PNG"),
        ("sans_codes.csv", b"nom;valeur\nabc;1\ndef;2\n", "ne correspond à un territoire"),
        ("faux.xlsx", b"PK\x03\x04 pas vraiment un classeur", "faux.xlsx"),
    ],
)
def test_malformed_file_gives_a_french_error(workspace, name, data, expected):
    app = _open()
    _upload(app, name, data)
    assert app.error, "no error shown"
    assert expected in _plain(app.error[0].value)
    assert "Traceback" not in _texts(app)


def test_user_perimeters_are_saved_restored_and_reverted(workspace):
    app = _open("Périmètres")
    assert "CRTE — liste ANCT de décembre 2022" in _texts(app)
    app.radio(key="perimetres-type").set_value("utilisateur").run()
    app.text_input(key="perimetres-nom").input("Atelier test").run()
    data = b"code;perimetre\n200000172;Alliance test A\n01001;Alliance test B\n"
    _upload(app, "atelier.csv", data, key="perimetres-fichier")
    assert "2 périmètres" in _texts(app)
    next(b for b in app.button if b.label == "Utiliser ces périmètres").click().run()
    assert not app.exception, app.exception
    assert "Jeu actif : Atelier test" in _texts(app)
    record = workspace.active_perimeters()
    assert record["nom"] == "Atelier test" and record["type"] == "utilisateur"
    assert workspace.perimeter_source(record["slug"])[0] == data
    # another session is not changed; this one keeps its set from page to page
    other = AppTest.from_file(APP, default_timeout=120)
    other.run()
    seen = _texts(_goto(other, "Périmètres"))
    assert "Jeu actif : CRTE — liste ANCT de décembre 2022" in seen and "Atelier test" not in seen
    app.switch_page("views/carte.py").run()
    assert "Jeu actif : Atelier test" in _texts(_goto(app, "Périmètres"))
    app.button(key="perimetres-repli").click().run()
    assert not app.exception, app.exception
    assert "Jeu actif : CRTE — liste ANCT de décembre 2022" in _texts(app)
    assert workspace.active_perimeters() is None  # back to the default: no choice recorded


def test_one_perimeter_per_epci_stays_available_as_another_set(workspace):
    app = _open("Périmètres")
    app.button(key="perimetres-par-epci").click().run()
    assert not app.exception, app.exception
    assert "Jeu actif : Un périmètre par EPCI" in _texts(app)
    assert workspace.active_perimeters()["type"] == "par_epci"
    app.switch_page("views/carte.py").run()  # rebuilt from the geography on the next page
    assert "Jeu actif : Un périmètre par EPCI" in _texts(_goto(app, "Périmètres"))
    app.button(key="perimetres-repli").click().run()
    assert workspace.active_perimeters() is None


def test_catalyst_list_is_saved_for_the_catalyst_choice(workspace):
    app = _open("Catalyseurs")
    labels = [b.label for b in app.get("download_button")]
    assert "Télécharger le modèle vide (CSV)" in labels
    assert "Télécharger l'exemple FICTIF (CSV)" in labels
    data = "nom;type;code_commune\nAtelier A;Association;42218\nLabo B;Université;75108\n"
    _upload(app, "mes_catalyseurs.csv", data.encode(), key="catalyseurs-fichier")
    assert "2 catalyseurs sont localisés" in _texts(app)
    next(b for b in app.button if b.label == "Enregistrer la liste").click().run()
    assert not app.exception, app.exception
    meta = workspace.tables("catalyseurs")[0]
    assert meta["nom"] == "mes_catalyseurs" and meta["fictif"] is False
    app.switch_page("views/catalyseurs.py").run()
    assert not app.exception, app.exception
    picker = next(s for s in app.multiselect if s.label == "Lieux comptés")
    assert "Catalyseurs importés : mes_catalyseurs" in picker.options
    picker.set_value([f"importe:{meta['slug']}"]).run()  # an imported list as the only layer
    assert not app.exception, app.exception
    assert app.dataframe[0].value["Lieux"].sum() == 2
    spec = json.loads(app.get("deck_gl_json_chart")[0].proto.json)
    inline = next(
        layer["data"] for layer in spec["layers"] if layer["id"].startswith("lieux-importe")
    )
    assert sorted(p["titre"] for p in inline) == ["Atelier A", "Labo B"]  # never a static file
    assert isinstance(next(la["data"] for la in spec["layers"] if la["id"] == "hexagones"), list)


def test_visitors_cannot_choose_where_official_data_come_from(workspace, monkeypatch):
    monkeypatch.setenv("TERRITORIAL_OFFICIAL_UPDATES", "tous")
    app = _open("Données officielles")
    table = app.dataframe[0].value
    assert {"Millésime", "État", "Empreinte (sha256)"} <= set(table.columns)
    assert not app.text_input  # no address or path field for visitors
    assert "choisi par l'administrateur" not in _texts(app)
    assert any(b.key == "maj-filosofi" for b in app.button)


def test_by_default_no_visitor_updates_what_everyone_sees(workspace, monkeypatch):
    monkeypatch.delenv("TERRITORIAL_OFFICIAL_UPDATES", raising=False)
    app = _open("Données officielles")
    assert not any((b.key or "").startswith("maj-") for b in app.button)
    assert "faite par l'administrateur du serveur" in _texts(app)
    assert app.dataframe[0].value.shape[0] >= 4  # the state of the data stays visible
    # an administrator listed by e-mail is not a visitor who is not logged in
    monkeypatch.setenv("TERRITORIAL_OFFICIAL_UPDATES", "anne@exemple.fr")
    app = _open("Données officielles")
    assert not any((b.key or "").startswith("maj-") for b in app.button)


def test_offline_update_shows_a_french_message(workspace, tmp_path, monkeypatch):
    # the mirror (here a missing folder) is the administrator's setting, not a page field
    monkeypatch.setenv("TERRITORIAL_OFFICIAL_FROM", str(tmp_path / "absent"))
    monkeypatch.setenv("TERRITORIAL_OFFICIAL_UPDATES", "tous")
    app = _open("Données officielles")
    assert not app.text_input
    assert "choisi par l'administrateur" in _texts(app)
    app.button(key="maj-filosofi").click().run()
    assert not app.exception, app.exception
    assert "introuvable" in _plain(app.error[0].value)


def test_sources_table_lists_licences(workspace):
    from territorial.indicators.join import JoinReport

    report = JoinReport("mon_fichier.csv", 1, "code", "departement", "code", matched=1)
    values = pd.DataFrame({"x": [1.0]}, index=pd.Index(["01"], name="code"))
    code, _ = workspace.db.create_atelier("Atelier sources")
    workspace.db.space(code, editable=True).save_table(
        "Mon tableau",
        "departement",
        values,
        {"rapport": report.to_dict(), "source": "mon_fichier.csv"},
    )
    app = _goto(_open(atelier=code), "Sources et licences")
    table = app.table[0].value.map(_plain)
    licences = " ".join(table["Licence"])
    assert "Licence Ouverte" in licences and "fourni par l'utilisateur" in licences
    assert "FICTIF" in " ".join(table["Source"]) + licences
    assert any("mon_fichier.csv" in c for c in table["Contenu"])
    assert set(table["Catégorie"]) >= {"Géographie", "Indicateurs du catalogue"}


def _workbook() -> bytes:
    import io

    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Notice"
    book.active.append(["Classeur de test (valeurs inventées)"])
    data = book.create_sheet("Données")
    data.append(["Tableau de test"])
    data.append([])
    data.append(["Département", "Nombre de maisons France services (test)"])
    for code, value in (("01", 3), ("42", 5), ("2A", 2)):
        data.append([code, value])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_excel_sheet_choice_and_header_row(workspace):
    app = _open()
    _upload(app, "classeur.xlsx", _workbook())
    sheet = next(s for s in app.selectbox if s.label == "Feuille du classeur")
    assert sheet.options == ["Notice", "Données"]
    assert sheet.value == "Données"  # the notice sheet has no table: skipped, and said so
    assert "Feuilles sans tableau lisible, passées : « Notice »" in _texts(app)
    header = next(n for n in app.number_input if n.label.startswith("Ligne d'en-tête"))
    assert header.value == 3  # title rows skipped
    assert "Tableau complet" in _texts(app)
    assert any(s.value == "departement" for s in app.selectbox)
    header.set_value(1).run()  # a wrong header row is the user's choice, and reported
    assert not app.exception, app.exception
    assert app.error or "Tableau complet" not in _texts(app)
    sheet = next(s for s in app.selectbox if s.label == "Feuille du classeur")
    sheet.set_value("Notice").run()
    assert not app.exception, app.exception
    assert "aucune ligne de données" in _plain(app.error[0].value)


def test_workspace_reads_its_folder_at_call_time(tmp_path, monkeypatch):
    monkeypatch.setenv("TERRITORIAL_WORKSPACE", str(tmp_path / "a"))
    assert Workspace().directory == tmp_path / "a"
    monkeypatch.setenv("TERRITORIAL_WORKSPACE", str(tmp_path / "b"))
    ws = Workspace()
    assert ws.directory == tmp_path / "b"
    values = pd.DataFrame({"x": [1.0]}, index=pd.Index(["01"], name="code"))
    ws.save_table("Essai", "departement", values, {})
    saved = ws.tables()[0]["enregistre_le"]
    ws.rename("essai", "Essai renommé")
    assert ws.tables()[0]["enregistre_le"] == saved
    assert ws.active_perimeters() is None
    ws.save_perimeters("Atelier", b"code;perimetre\n", "a.csv", "utilisateur", content_hash="h")
    assert ws.active_perimeters()["slug"] == "atelier"
    ws.delete_perimeters("atelier")
    assert ws.active_perimeters()["slug"] == "par_epci" and ws.perimeter_sets() == []


LONG_NAME = "㎯" * 80  # 80 characters, a 480-byte folder name once folded


def test_too_long_names_and_storage_failures_give_french_messages(workspace, monkeypatch):
    app = _open("Catalyseurs")
    data = b"nom;type;code_commune\nTiers-lieu A;association;42218\n"
    _upload(app, "liste.csv", data, key="catalyseurs-fichier")
    name_box = next(t for t in app.text_input if t.label == "Nom de la liste")
    name_box.input(LONG_NAME).run()
    assert not app.exception, app.exception
    assert "trop long" in _texts(app)
    assert next(b for b in app.button if b.label == "Enregistrer la liste").disabled

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device", "/srv/secret/path")

    monkeypatch.setattr(Space, "save_table", full_disk)
    next(t for t in app.text_input if t.label == "Nom de la liste").input("ma liste").run()
    next(b for b in app.button if b.label == "Enregistrer la liste").click().run()
    assert not app.exception, app.exception
    shown = _texts(app)
    assert "Impossible de enregistrer la liste" not in shown
    assert "Impossible d'enregistrer la liste : le disque du serveur est plein." in shown
    assert "/srv/secret" not in shown and "No space" not in shown


def test_too_long_perimeter_set_name_gives_a_french_message(workspace):
    app = _open("Périmètres")
    app.radio(key="perimetres-type").set_value("utilisateur").run()
    app.text_input(key="perimetres-nom").input(LONG_NAME).run()
    data = b"code;perimetre\n200000172;Alliance test A\n01001;Alliance test B\n"
    _upload(app, "atelier.csv", data, key="perimetres-fichier")
    next(b for b in app.button if b.label == "Utiliser ces périmètres").click().run()
    assert not app.exception, app.exception
    shown = _texts(app)
    assert "Impossible d'enregistrer et activer ces périmètres" in shown
    assert "trop long" in shown and "Errno" not in shown
    assert "Jeu actif : CRTE" in shown  # nothing was activated
