"""The one helper that makes user strings inert (``territorial.text.safetext.inert``).

Unit properties (hypothesis: any text) and the attack strings of the audit, then the Carte
and Fiche pages with a hostile perimeter name and a hostile column name (AppTest).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from territorial.text.safetext import inert

APP = str(Path(__file__).resolve().parent.parent / "main.py")
LINK = "**[Mise à jour requise](https://exemple.invalid/maj)**"
ATTACKS = [
    LINK,
    "[clic](javascript:alert(1))",
    "![image](https://exemple.invalid/x.png)",
    "<img src=x onerror=alert(1)>",
    "<a href='https://exemple.invalid'>lien</a>",
    "https://exemple.invalid/auto",
    "www.exemple.invalid",
    "moi@exemple.invalid",
    ":red[ALERTE] :material/warning: :smile:",
    "$x^2$ et $$\\int$$",
    "# Titre\n- liste\n> citation\n1. un",
    "| a | b |\n|---|---|",
    "`code` ~~barré~~ __gras__ _it_",
    "%{properties.nom} %{z}",
    "&lt;déjà échappé&gt; &amp;",
    "\\*\\* barre oblique inverse",
    "Saint-Étienne (42) — 1.5 ; l'Île",
]
# After removing the character references, none of these may remain.
STRUCTURAL = set("&<>\"'`*_[](){}#+-.!|~$:=^\\@%/")
REFERENCE = re.compile(r"&#[0-9]+;")


def _visible(text: str) -> str:
    return re.sub(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]", " ", text)


def _assert_inert(out: str, original: str) -> None:
    assert not STRUCTURAL & set(REFERENCE.sub("", out)), out
    assert "\n" not in out and "\r" not in out
    assert _visible(html.unescape(out)) == _visible(original)  # the reader sees the text


@pytest.mark.parametrize("attack", ATTACKS)
def test_attack_strings_are_inert(attack):
    _assert_inert(inert(attack), attack)


@given(st.text())
def test_any_text_is_inert_and_reads_the_same(text):
    _assert_inert(inert(text), text)


@given(st.one_of(st.none(), st.integers(), st.floats(allow_nan=True)))
def test_non_text_values(value):
    assert inert(value) == ("" if value is None else inert(str(value)))


# --------------------------------------------------------------------------- pages


def _shown(app: AppTest) -> list[str]:
    """Every Markdown string the page sends to the browser (texts, alerts, labels)."""
    texts = []
    for kind in ("markdown", "caption", "header", "subheader", "title"):
        texts += [e.value for e in getattr(app, kind)]
    for kind in ("info", "warning", "error", "success"):
        texts += [e.value for e in getattr(app, kind)]
    for kind in ("selectbox", "radio", "text_input", "checkbox", "toggle", "slider"):
        texts += [w.label for w in getattr(app, kind)]
    for radio in app.radio:
        texts += [str(o) for o in radio.options]
    texts += [link.proto.label for link in app.get("page_link")]
    return texts


def _assert_no_live_markup(app: AppTest) -> None:
    assert not app.exception, app.exception
    for text in _shown(app):
        if "<style>" in text or "dt-legend" in text or "dt-source" in text:
            text = re.sub(r"<[^>]*>", "", text)  # the page's own HTML; its texts are checked
        assert "](" not in text and "**[" not in text, text
        assert "<img" not in text and "<a " not in text, text
        assert "exemple.invalid" not in text, text


@pytest.fixture
def hostile(tmp_path, monkeypatch):
    """An atelier's table whose column name is a link, and a perimeter named by attacks.

    Yields the atelier's code. The hostile perimeter set is made the process-wide default
    for the test (the sessions' base geography), then the default is put back.
    """
    from territorial.indicators.join import JoinReport
    from territorial.perimeters.model import PerimeterSet
    from territorial.storage import Database
    from ui.state import base_geography

    monkeypatch.setenv("TERRITORIAL_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    monkeypatch.setenv("TERRITORIAL_CACHE_DIR", str(tmp_path / "cache"))
    report = JoinReport("hostile.csv", 2, "code", "departement", "code", matched=2)
    values = pd.DataFrame({LINK: [1.0, 2.0]}, index=pd.Index(["42", "69"], name="code"))
    db = Database()
    code, _ = db.create_atelier(ATTACKS[0])
    db.space(code, editable=True).save_table(
        "<img src=x onerror=alert(1)>",
        "departement",
        values,
        {"rapport": report.to_dict(), "source": "hostile.csv"},
    )
    geo = base_geography()
    before = (geo.perimeters, geo.perimeters_report)
    loire = geo.communes.loc[geo.communes["departement"] == "42", "code"]
    membership = pd.Series("hostile", index=loire.to_numpy()).rename("perimetre")
    perimetres = pd.DataFrame(
        {"code": ["hostile"], "nom": [LINK], "n_epci": [1], "portage": [ATTACKS[4]]}
    )
    geo.set_perimeters(PerimeterSet(ATTACKS[1], "utilisateur", membership, perimetres))
    yield code
    geo.set_perimeters(*before)


def test_carte_and_fiche_show_hostile_names_as_text(hostile):
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params.update({"atelier": hostile, "niveau": "perimetre", "territoire": "hostile"})
    app.run()
    _assert_no_live_markup(app)
    assert LINK in html.unescape(" ".join(_shown(app)))  # shown, as plain text
    picker = app.selectbox(key="pick-indicateur")
    position = next(i for i, o in enumerate(picker.options) if "Mise à jour requise" in o)
    picker.select_index(position).run()
    _assert_no_live_markup(app)

    app.switch_page("views/fiche.py")
    app.query_params.update({"niveau": "commune", "territoire": "42218"})
    app.run()
    _assert_no_live_markup(app)
    assert LINK in html.unescape(" ".join(_shown(app)))


def test_fiche_of_a_hostile_perimeter_shows_its_portrait_and_peers_as_text(hostile):
    app = AppTest.from_file(APP, default_timeout=120)
    app.switch_page("views/fiche.py")
    app.query_params.update({"atelier": hostile, "niveau": "perimetre", "territoire": "hostile"})
    app.run()
    _assert_no_live_markup(app)
    # the only perimeter of its set: nothing to compare with, said in French
    assert any("Aucun autre territoire de ce niveau" in i.value for i in app.info)
    app.query_params.update({"niveau": "commune", "territoire": "42218"})
    app.run()
    _assert_no_live_markup(app)
    assert LINK in html.unescape(" ".join(_shown(app)))  # « Elle fait partie du projet … »
