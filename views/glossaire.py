"""Glossaire: the words of the tool in plain French, each with its source."""

import streamlit as st

from territorial.text.glossary import DOCUMENTS, search
from territorial.text.safetext import inert
from ui.common import page_header, sources_footer

page_header(
    "Glossaire",
    "Les mots de l'outil expliqués simplement, chacun avec sa source : les documents du "
    "Rameau et de l'Observatoire des partenariats, l'INSEE, l'ANCT, ou la méthode de l'outil.",
)
text = st.text_input(
    "Chercher un mot", placeholder="ex. EPCI, médiane, pairs", key="glossaire-recherche"
)
found = search(text)
if not found:
    st.info("Aucun mot du glossaire ne correspond à cette recherche.")
st.page_link(
    "views/premiers_pas.py",
    label="Premiers pas : découvrir l'outil en 3 étapes",
    icon=":material/school:",
)
for term in found:
    st.subheader(term.term, anchor=term.anchor)
    st.markdown(inert(term.definition))
    st.caption(f"Source : {inert(term.source)}.")
st.subheader("Documents de référence", anchor="glossaire-documents")
st.markdown(
    "\n".join(f"- {inert(title)} (document {number})" for number, title in DOCUMENTS.items())
)
sources_footer()
