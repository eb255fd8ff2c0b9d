"""Carte: choropleth of France at the chosen level, search by name or code."""

import pandas as pd
import streamlit as st

from territorial import LEVEL_LABELS
from territorial.classify import classify
from territorial.formatting import format_number, format_rank
from ui.common import (
    apply_page_style,
    escape,
    geography,
    projection_mode,
    query_value,
    sources_footer,
    write_query,
)
from ui.maps import choropleth, legend_html, palette, selected_code, show_map

MAP_LEVELS = ("region", "departement", "perimetre", "epci", "commune")

apply_page_style()
geo = geography()

st.title("Dynamiques territoriales")
if not projection_mode():
    st.caption(
        "Carte de France par région, département, projet de territoire, EPCI ou commune. "
        "Cliquez un territoire ou cherchez-le par son nom."
    )

level = query_value("niveau", "departement", MAP_LEVELS)
selected = query_value("territoire", "")

controls = st.columns([1, 2])
with controls[0]:
    level = st.selectbox(
        "Niveau", MAP_LEVELS, index=MAP_LEVELS.index(level), format_func=LEVEL_LABELS.get
    )
with controls[1]:
    query = st.text_input("Rechercher un territoire (nom ou code)", placeholder="ex. saint etienne")
    if query:
        found = geo.search(query, limit=8)
        if found.empty:
            st.info("Aucun territoire ne correspond à cette recherche.")
        else:
            options = list(zip(found["level"], found["code"], strict=True))
            labels = {
                (r.level, r.code): f"{r.label} — {LEVEL_LABELS[r.level]}"
                for r in found.itertuples()
            }
            choice = st.radio("Résultats", options, format_func=labels.get, index=None)
            if choice is not None:
                level, selected = choice

scope = "metropole"
table = geo.table(level, scope).drop(columns="geometry").reset_index(drop=True)
if selected and selected not in set(table["code"]):
    selected = ""

values = table["population"].astype(float)
classification = classify(values, "quantiles", k=5)
colours = palette(classification.k, "bleu")
ranks = values.rank(ascending=False, method="min")
hover = (
    table["nom"].map(escape)
    + "<br>Population : "
    + values.map(format_number)
    + " hab.<br>Rang : "
    + [format_rank(int(r), len(table)) if r == r else "–" for r in ranks]
)

map_col, side_col = (
    st.columns([3, 1]) if not projection_mode() else (st.container(), st.container())
)
with map_col:
    fig = choropleth(
        level, scope, table, classification, colours, pd.Series(hover), selected or None
    )
    event = show_map(fig, key=f"carte-{level}")
    clicked = selected_code(event)
    if clicked and clicked != selected:
        selected = clicked
with side_col:
    st.markdown(f"**Population municipale** — {LEVEL_LABELS[level]}")
    st.markdown(legend_html(classification, colours, "hab.", format_number), unsafe_allow_html=True)
    if selected:
        row = table.set_index("code").loc[selected]
        st.subheader(row["nom"])
        st.markdown(f"{LEVEL_LABELS[level]} · code {escape(selected)}")
        st.metric("Population municipale", format_number(row["population"]))
        for parent_level, (code, name) in geo.parents(level, selected).items():
            st.markdown(f"- {LEVEL_LABELS[parent_level]} : **{escape(name)}** ({escape(code)})")

write_query(niveau=level, territoire=selected)
with st.expander("Tableau des données de la carte"):
    shown = table[["code", "nom", "population"]].assign(rang=ranks.astype("Int64"))
    st.dataframe(shown.sort_values("rang"), hide_index=True, width="stretch")
sources_footer()
