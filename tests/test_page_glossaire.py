"""The glossary (core and page), its help tooltips on the other pages, and « Premiers pas »."""

import html
from pathlib import Path

from streamlit.testing.v1 import AppTest

from territorial.text.glossary import DOCUMENTS, TERMS, anchor, help_text, search

APP = str(Path(__file__).resolve().parent.parent / "main.py")
REQUIRED = [
    "epci", "ept", "crte", "perimetre", "catalyseur", "fabrique", "quantiles", "seuils_naturels",
    "polarite", "mediane", "taux_pauvrete", "secret_statistique", "estimation", "ingenieries",
    "se_conter", "se_compter", "compter",
]  # fmt: skip


def _page(path: str, **params) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=300)
    app.switch_page(path)
    app.query_params.update(params)
    return app


def test_every_required_term_has_a_plain_definition_and_a_source():
    assert set(REQUIRED) <= set(TERMS)
    for term in TERMS.values():
        assert term.definition.endswith(".") and len(term.definition) > 40, term.key
        assert term.source, term.key
    cited = {
        number
        for number in DOCUMENTS
        if any(f"document {number}," in t.source for t in TERMS.values())
    }
    assert cited == set(DOCUMENTS)  # every listed document is used, none is listed for show
    assert "se compter" not in TERMS["se_conter"].definition.lower()


def test_search_ignores_accents_and_case():
    found = [t.key for t in search("MEDIANE")]
    assert found == ["mediane", "estimation"]  # « médiane » in both definitions
    assert [t.key for t in search("pairs")] == ["se_compter"]
    assert search("") == list(TERMS.values())
    assert search("zzz introuvable") == []


def test_help_text_quotes_the_glossary_and_links_to_its_anchor():
    text = help_text("quantiles", "seuils_naturels")
    assert TERMS["quantiles"].definition in text and TERMS["seuils_naturels"].definition in text
    assert TERMS["quantiles"].source in text
    assert text.endswith(f"(/glossaire#{anchor('quantiles')})")


def test_glossary_page_lists_each_term_with_its_source():
    app = _page("views/glossaire.py")
    app.run()
    assert not app.exception
    headings = [s.value for s in app.subheader]
    assert headings == [t.term for t in TERMS.values()] + ["Documents de référence"]
    captions = [html.unescape(c.value) for c in app.caption if c.value.startswith("Source")]
    assert captions == [f"Source : {t.source}." for t in TERMS.values()]
    texts = html.unescape(" ".join(m.value for m in app.markdown))
    assert TERMS["ingenieries"].definition in texts


def test_glossary_search_on_the_page():
    app = _page("views/glossaire.py")
    app.run()
    app.text_input(key="glossaire-recherche").input("pairs").run()
    assert [s.value for s in app.subheader] == ["Se compter", "Documents de référence"]
    app.text_input(key="glossaire-recherche").input("zzz").run()
    assert any("Aucun mot" in i.value for i in app.info)


def test_technical_words_on_the_pages_carry_the_glossary_help():
    app = _page("views/catalyseurs.py")
    app.run()
    assert not app.exception
    assert TERMS["fabrique"].definition in app.multiselect(key="couches").help
    assert TERMS["epci"].definition in app.selectbox(key="niveau").help
    assert TERMS["perimetre"].definition in app.selectbox(key="perimetre_etude").help
    preset = next(s for s in app.selectbox if s.label.startswith("Fragilité retenue"))
    assert TERMS["quantiles"].definition in preset.help
    carte = _page("views/carte.py", indicateur="population")
    carte.run()
    method = next(s for s in carte.selectbox if s.label == "Classes")
    assert TERMS["seuils_naturels"].definition in method.help


def test_premiers_pas_leads_from_a_search_to_the_fiche():
    app = _page("views/premiers_pas.py")
    app.run()
    assert not app.exception
    assert [s.value for s in app.subheader] == [
        "1. Trouver mon territoire",
        "2. Lire sa fiche",
        "3. Voir ses territoires comparables",
    ]
    links = app.get("page_link")
    assert [link.proto.disabled for link in links[:2]] == [True, True]
    app.text_input(key="premiers-pas").input("Saint-Étienne").run()
    app.radio(key="premiers-pas-choix").set_value(("commune", "42218")).run()
    assert not app.exception
    assert any("Saint-Étienne" in html.unescape(s.value) for s in app.success)
    links = app.get("page_link")
    fiche = [link.proto for link in links if "fiche" in link.proto.page]
    assert len(fiche) == 2 and not any(p.disabled for p in fiche)
    assert all(
        "territoire=42218" in p.query_string and "niveau=commune" in p.query_string for p in fiche
    )
