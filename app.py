"""Dynamiques territoriales — entry point (``streamlit run app.py``)."""

import streamlit as st

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
]

st.navigation(PAGES, position="sidebar").run()
