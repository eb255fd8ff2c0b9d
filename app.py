"""Dynamiques territoriales — entry point (``streamlit run app.py``)."""

import streamlit as st

st.set_page_config(
    page_title="Dynamiques territoriales",
    page_icon="🗺️",
    layout="wide",
    initial_sidebar_state="collapsed" if st.query_params.get("mode") == "projection" else "auto",
)

PAGES = [
    st.Page("pages/carte.py", title="Carte", icon="🗺️", url_path="carte", default=True),
]

st.navigation(PAGES, position="sidebar").run()
