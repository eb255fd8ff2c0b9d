"""Données, tab « Sources et licences »: every source shown, with vintage and licence."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from territorial.outputs.export import to_csv_bytes
from territorial.text.safetext import inert
from ui.state import geography, store, workspace


def sources_table() -> pd.DataFrame:
    """Every source shown in the dashboard, with vintage and licence."""
    from territorial.sources.manifest import FetchError, load_manifest
    from territorial.sources.provenance import sources_table as provenance

    try:
        official = load_manifest()
    except FetchError:
        official = {}  # an unreadable manifest is reported in "Données officielles"
    return provenance(geography(), store().base_catalogue, official, workspace().tables())


def section_sources() -> None:
    st.subheader("Sources et licences")
    st.markdown(
        "Toutes les données affichées, avec leur millésime et leur licence. Les tableaux et "
        "périmètres que vous chargez restent sur ce poste (dossier de travail)."
    )
    table = sources_table()
    # st.table wraps long texts and renders Markdown: every cell is made inert first
    st.table(table.map(inert), hide_index=True, border="horizontal")
    st.download_button(
        "Télécharger la liste des sources (CSV)",
        to_csv_bytes(table),
        file_name="sources_et_licences.csv",
        mime="text/csv",
        key="sources-csv",
    )
