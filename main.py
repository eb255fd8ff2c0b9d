"""Dynamiques territoriales — the pages: the script Streamlit runs for every visit (served by
``app.py``, see ``ui/warmup.py``)."""

from territorial.timeline import mark

mark("first script run starts")

import streamlit as st  # noqa: E402

from ui.atelier import (  # noqa: E402
    PAGE_KEY,
    add_view_form,
    go_to_view,
    open_space_from_url,
    space_caption,
)
from ui.common import share_link, view_bar  # noqa: E402

mark("app.py imports done")

st.set_page_config(
    page_title="Dynamiques territoriales",
    page_icon=":material/map:",
    layout="wide",
    initial_sidebar_state="collapsed" if st.query_params.get("mode") == "projection" else "auto",
)

PAGES = [
    st.Page("views/carte.py", title="Carte", icon=":material/map:", default=True),
    st.Page(
        "views/fiche.py", title="Fiche territoire", icon=":material/description:", url_path="fiche"
    ),
    st.Page("views/regions.py", title="Régions", icon=":material/compare:", url_path="regions"),
    st.Page(
        "views/fragilites.py",
        title="Fragilités prioritaires",
        icon=":material/crisis_alert:",
        url_path="fragilites",
    ),
    st.Page(
        "views/catalyseurs.py", title="Catalyseurs", icon=":material/hub:", url_path="catalyseurs"
    ),
    st.Page("views/donnees.py", title="Données", icon=":material/database:", url_path="donnees"),
    st.Page("views/atelier.py", title="Atelier", icon=":material/groups:", url_path="atelier"),
    st.Page(
        "views/premiers_pas.py",
        title="Premiers pas",
        icon=":material/school:",
        url_path="premiers_pas",
    ),
    st.Page(
        "views/glossaire.py", title="Glossaire", icon=":material/menu_book:", url_path="glossaire"
    ),
]

open_space_from_url()  # the atelier of ?atelier= (read-only, or editable with its edit link)
page = st.navigation(PAGES, position="sidebar")
st.session_state[PAGE_KEY] = page.url_path
go_to_view(PAGES)  # a parcours short link (?atelier=…&etape=…) opens that view's page
space_caption()
add_view_form()
link_slot = view_bar(PAGES)  # projection mode: the pages, staying in projection mode
page.run()
share_link(link_slot, page.url_path)
mark("first script run ends")
