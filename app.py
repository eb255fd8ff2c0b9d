"""Dynamiques territoriales — entry point (``streamlit run app.py``)."""

import streamlit as st

from ui.state import restore_perimeters

st.set_page_config(
    page_title="Dynamiques territoriales",
    page_icon=":material/map:",
    layout="wide",
    initial_sidebar_state="collapsed" if st.query_params.get("mode") == "projection" else "auto",
)

PAGES = [
    st.Page("views/carte.py", title="Carte", icon=":material/map:", default=True),
    st.Page("views/fiche.py", title="Fiche territoire", icon=":material/description:", url_path="fiche"),
    st.Page("views/regions.py", title="Régions", icon=":material/compare:", url_path="regions"),
    st.Page(
        "views/fragilites.py", title="Fragilités prioritaires", icon=":material/crisis_alert:",
        url_path="fragilites",
    ),
    st.Page("views/catalyseurs.py", title="Catalyseurs", icon=":material/hub:", url_path="catalyseurs"),
    st.Page("views/donnees.py", title="Données", icon=":material/database:", url_path="donnees"),
]

restore_perimeters()  # a perimeter set chosen in "Données" survives a restart
st.navigation(PAGES, position="sidebar").run()
