"""Catalyseurs: where catalysts are, per inhabitant and per km², and the "zones blanches"."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from territorial import LEVEL_LABELS
from territorial.analysis.catalyst_density import densities, gaps
from territorial.analysis.catalysts import KINDS
from territorial.analysis.classify import classify
from territorial.analysis.fragility import fragility
from territorial.analysis.presets import FragilityError, available_presets
from territorial.outputs.export import to_csv_bytes
from territorial.text.formatting import format_number
from territorial.text.safetext import inert
from ui.common import page_header, projection_mode, query_value, sources_footer, write_query
from ui.maps import choropleth, legend_html, palette, show_map
from ui.state import active_catalysts, catalyst_lists, fictional_banner, geography, store
from ui.widgets import level_picker, scope_picker

MEASURES = {
    "pour_100k_hab": ("Catalyseurs pour 100 000 habitants", "pour 100 000 hab.", 1),
    "pour_1000_km2": ("Catalyseurs pour 1 000 km²", "pour 1 000 km²", 1),
    "n_catalyseurs": ("Nombre de catalyseurs", "", 0),
}
KIND_COLOURS = {
    "association": "#1b9e77",
    "entreprise": "#d95f02",
    "collectivite": "#7570b3",
    "academique": "#e7298a",
    "autre": "#666666",
}

page_header(
    "Catalyseurs territoriaux",
    "Où sont les catalyseurs (associations, entreprises, collectivités, acteurs académiques "
    "qui facilitent les alliances locales), leur densité par habitant et par km², et les "
    "« zones blanches » : territoires parmi les plus fragiles sans catalyseur.",
)
geo = geography()
indicator_store = store()
density_sources = [indicator_store.catalogue[i] for i in ("population", "superficie_km2")]

lists = catalyst_lists()
choice = query_value("catalyseurs", next(iter(lists)), list(lists))
controls = st.columns([1.4, 1, 1.2, 1.4])
with controls[0]:
    choice = st.selectbox(
        "Liste de catalyseurs", list(lists), index=list(lists).index(choice), format_func=lists.get
    )
    st.query_params["catalyseurs"] = choice
catalysts = active_catalysts()
with controls[1]:
    level = level_picker(
        levels=("region", "departement", "perimetre", "epci"), default="departement"
    )
with controls[2]:
    scope = scope_picker(level)
with controls[3]:
    measure = st.selectbox(
        "Mesure",
        list(MEASURES),
        index=list(MEASURES).index(query_value("mesure", "pour_100k_hab", list(MEASURES))),
        format_func=lambda m: MEASURES[m][0],
    )
fictional_banner(catalysts)

table = densities(catalysts, indicator_store, level, scope)
label, unit, decimals = MEASURES[measure]
values = table[measure].astype(float)
classification = classify(values.reset_index(drop=True), "quantiles", k=5)
colours = palette(classification.k, "bleu")
placed = catalysts.placed
in_scope = placed[placed["commune"].isin(geo.table("commune", scope)["code"])]
points = go.Scattermap(
    lon=in_scope["longitude"],
    lat=in_scope["latitude"],
    mode="markers",
    marker={"size": 9 if projection_mode() else 7, "color": in_scope["type"].map(KIND_COLOURS)},
    text=in_scope["nom"].map(inert) + "<br>" + in_scope["type_libelle"].map(inert),
    hovertemplate="%{text}<extra></extra>",
    name="Catalyseurs",
)
ranks = values.rank(ascending=False, method="min")
rank_text = pd.Series(
    [f"{int(r)}e / {int(values.notna().sum())}" if r == r else "–" for r in ranks],
    index=values.index,
)

map_col, side_col = st.columns([2.1, 1.4] if projection_mode() else [3, 1.2])
with map_col:
    fig = choropleth(
        level,
        scope,
        pd.Series(table.index),
        values,
        classification,
        colours,
        label,
        unit,
        decimals,
        ranks=rank_text,
        height=720 if projection_mode() else 600,
        points=points,
    )
    show_map(fig, key=f"catalyseurs-{level}-{scope}")
with side_col:
    st.markdown(f"**{inert(label)}** — {inert(LEVEL_LABELS[level])}")
    st.markdown(
        legend_html(classification, colours, unit, lambda v: format_number(v, decimals)),
        unsafe_allow_html=True,
    )
    kinds = in_scope["type"].value_counts()
    st.markdown(
        "<div class='dt-legend'>"
        + "<br>".join(
            f"<span class='dt-swatch' style='background:{KIND_COLOURS[k]}'></span> {inert(KINDS[k])} : {int(kinds.get(k, 0))}"
            for k in KINDS
        )
        + "</div>",
        unsafe_allow_html=True,
    )
    st.caption(
        f"{len(in_scope)} catalyseurs placés dans ce périmètre d'étude ({len(placed)} dans la liste)."
    )

st.subheader("Densités")
ordered = table.sort_values(["pour_100k_hab", "nom"], ascending=[False, True])
shown = pd.DataFrame(
    {
        "Territoire": ordered["nom"],
        "Catalyseurs": ordered["n_catalyseurs"].astype("Int64"),
        "Pour 100 000 hab.": ordered["pour_100k_hab"].map(lambda v: format_number(v, 2)),
        "Pour 1 000 km²": ordered["pour_1000_km2"].map(lambda v: format_number(v, 2)),
        "Population": ordered["population"].map(format_number),
    }
).rename_axis("Code")
st.dataframe(shown, width="stretch", height=360)
st.download_button(
    "Télécharger les densités (CSV)",
    to_csv_bytes(
        ordered.reset_index(),
        sources=density_sources,
    ),
    file_name=f"catalyseurs_{level}.csv",
    mime="text/csv",
)

st.subheader("Zones blanches")
presets = available_presets(indicator_store.catalogue)
preset_names = list(presets)
preset = st.selectbox(
    "Fragilité retenue (quintile le plus fragile)",
    preset_names,
    index=preset_names.index(query_value("jeu", "Isolement et accès aux services", preset_names)),
)
try:
    result = fragility(indicator_store, level, scope, preset=preset)
except FragilityError as error:
    st.error(str(error))
    st.stop()
fragile = result.table.index[result.table["classe"].eq(5).fillna(False).to_numpy(dtype=bool)]
blank = gaps(catalysts, geo, level, scope, fragile)
verb = "n'a" if len(blank) < 2 else "n'ont"
noun = "territoire" if len(blank) < 2 else "territoires"
st.markdown(
    f"**{len(blank)}** {noun} parmi les {len(fragile)} plus fragiles (« {inert(preset)} ») "
    f"{verb} aucun catalyseur{' (liste FICTIVE)' if catalysts.fictional else ''}."
)
if not blank.empty:
    distance = blank["distance_km"].reindex(table.index)
    gap_classes = classify(
        distance.reset_index(drop=True), "quantiles", k=min(5, max(1, len(blank)))
    )
    gap_colours = palette(gap_classes.k, "sequentiel")
    gap_col, gap_side = st.columns([2.1, 1.4] if projection_mode() else [3, 1.2])
    with gap_col:
        gap_fig = choropleth(
            level,
            scope,
            pd.Series(table.index),
            distance,
            gap_classes,
            gap_colours,
            "Distance au catalyseur le plus proche",
            "km",
            1,
            height=520,
            missing_label="Pas une zone blanche",
            points=points,
        )
        show_map(gap_fig, key=f"zones-blanches-{level}-{scope}")
    with gap_side:
        st.markdown("**Distance au catalyseur le plus proche**")
        st.markdown(
            legend_html(
                gap_classes,
                gap_colours,
                "km",
                lambda v: format_number(v, 1),
                missing_label="Pas une zone blanche",
            ),
            unsafe_allow_html=True,
        )
    gap_table = pd.DataFrame(
        {
            "Territoire": blank["nom"],
            "Distance (km)": blank["distance_km"].map(lambda v: format_number(v, 1)),
            "Catalyseur le plus proche": blank["catalyseur_proche"],
            "Sa commune": blank["nom_commune_catalyseur"],
        }
    ).rename_axis("Code")
    st.dataframe(gap_table, width="stretch")
    st.download_button(
        "Télécharger les zones blanches (CSV)",
        to_csv_bytes(
            blank.reset_index(),
            sources=density_sources,
        ),
        file_name=f"zones_blanches_{level}.csv",
        mime="text/csv",
    )

write_query(niveau=level, perimetre=scope, mesure=measure, jeu=preset, catalyseurs=choice)
sources_footer()
