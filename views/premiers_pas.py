"""Premiers pas: a guided start in three steps for someone who has never used the tool."""

import streamlit as st

from territorial import LEVEL_LABELS
from territorial.text.glossary import help_text
from territorial.text.safetext import inert
from ui.common import page_header, sources_footer
from ui.state import geography
from ui.widgets import search_box

page_header(
    "Premiers pas",
    "Vous découvrez l'outil ? Trois étapes : trouver votre territoire, lire sa fiche, voir "
    "les territoires qui lui ressemblent.",
)
st.subheader("1. Trouver mon territoire")
st.markdown(
    "Tapez le nom ou le code de votre commune, de votre intercommunalité (EPCI), de votre "
    "Projet de territoire, de votre département ou de votre région, puis choisissez-le dans "
    "la liste."
)
found = search_box(key="premiers-pas")
if found is None:
    st.caption("Aucun territoire choisi pour l'instant.")
else:
    level, code = found
    name = geography().names(level).get(code, code)
    st.success(inert(f"Votre territoire : {name} ({LEVEL_LABELS[level]})"))

st.subheader("2. Lire sa fiche")
st.markdown(
    "La fiche réunit ce que disent les données de votre territoire : population, revenus et "
    "pauvreté, emploi, accès aux services, programmes de l'ANCT, fragilités prioritaires, "
    "comparées au département, à la région et à la France. Chaque chiffre a sa source et son "
    "millésime ; une valeur calculée par l'outil est marquée « (estimation) »."
)
params = {"niveau": found[0], "territoire": found[1]} if found else None
st.page_link(
    "views/fiche.py",
    label="Ouvrir la fiche de mon territoire"
    if found
    else "Choisissez d'abord un territoire (étape 1)",
    icon=":material/description:",
    query_params=params,
    disabled=found is None,
    help=help_text("estimation"),
)

st.subheader("3. Voir ses territoires comparables")
st.markdown(
    "Plus bas sur la fiche, la section « Territoires comparables » montre les territoires du "
    "même niveau qui ressemblent le plus au vôtre, et ce qu'ils ont que vous n'avez pas "
    "(programmes, lieux de coopération) : des pistes pour apprendre des autres, pas un "
    "classement. C'est le « se compter » des documents : trouver ses pairs."
)
st.page_link(
    "views/fiche.py",
    label="Voir les territoires comparables sur la fiche"
    if found
    else "Choisissez d'abord un territoire (étape 1)",
    icon=":material/diversity_3:",
    query_params=params,
    disabled=found is None,
    help=help_text("se_compter", "se_conter", "compter"),
)
st.divider()
st.page_link(
    "views/glossaire.py", label="Un mot vous échappe ? Le glossaire", icon=":material/menu_book:"
)
sources_footer()
