"""Données: load indicator tables, manage them, perimeter sets, catalysts, official data, sources.

Each tab is a section of :mod:`ui.donnees`; this page only lays them out.
"""

import streamlit as st

from ui.common import page_header
from ui.donnees.catalyseurs import section_catalysts
from ui.donnees.officielles import section_official
from ui.donnees.perimetres import section_perimeters
from ui.donnees.sources import section_sources
from ui.donnees.tableaux import section_tables, section_upload

TABS = {
    "Charger un tableau": section_upload,
    "Mes tableaux": section_tables,
    "Périmètres": section_perimeters,
    "Catalyseurs": section_catalysts,
    "Données officielles": section_official,
    "Sources et licences": section_sources,
}

page_header(
    "Données",
    "Chargez vos tableaux d'indicateurs, vos périmètres et vos catalyseurs, mettez à jour "
    "les données officielles et retrouvez les sources et licences de tout ce qui est affiché.",
)
tabs = st.tabs(list(TABS), key="onglet", bind="query-params")
for tab, section in zip(tabs, TABS.values(), strict=True):
    if tab.open is False:
        continue
    with tab:
        section()
