"""Catalyseurs et lieux de coopération: the chosen layers on a pydeck map, their density
per inhabitant and per km², the nearest places, and the "zones blanches"."""

import pandas as pd
import streamlit as st

from territorial import LEVEL_LABELS
from territorial.analysis.catalyst_density import densities, gaps, nearest
from territorial.analysis.classify import classify
from territorial.analysis.fragility import fragility
from territorial.analysis.places import LAYERS, POSITION_NOTE, layer_source
from territorial.analysis.presets import DEFAULT_PRESET, FragilityError, available_presets
from territorial.geo.mapdata import bounds, fit_view, write_geojson
from territorial.outputs.deckmap import HEX_COLOURS, deck
from territorial.outputs.export import to_csv_bytes
from territorial.text.formatting import format_number
from territorial.text.glossary import help_text
from territorial.text.safetext import inert
from ui.common import page_header, projection_mode, query_value, sources_footer, write_query
from ui.fastmap import show_fast_map
from ui.maps import legend_html, palette, static_url
from ui.places import (
    EXAMPLE,
    chosen,
    hex_data,
    layer_colour,
    layer_label,
    layer_options,
    point_data,
)
from ui.state import fictional_banner, geography, store
from ui.tables import number_column, text_column
from ui.widgets import level_picker, scope_picker

MEASURES = {
    "pour_100k_hab": ("Lieux pour 100 000 habitants", "pour 100 000 hab.", 1),
    "pour_1000_km2": ("Lieux pour 1 000 km²", "pour 1 000 km²", 1),
    "n_catalyseurs": ("Nombre de lieux", "", 0),
}
VIEWS = {"les_deux": "Lieux et densité", "points": "Lieux", "densite": "Densité (hexagones)"}
HEX_RADIUS_KM = {"metropole": 15, "france": 15, "region": 8, "departement": 5}

page_header(
    "Catalyseurs et lieux de coopération",
    "Où sont les lieux que vous choisissez de compter — vos catalyseurs territoriaux "
    "importés, les Fabriques de territoire et Manufactures de proximité labellisées par "
    "l'ANCT, les France services —, leur densité par habitant et par km², et les « zones "
    "blanches » : territoires parmi les plus fragiles sans aucun de ces lieux.",
)
geo = geography()
indicator_store = store()
density_sources = [indicator_store.catalogue[i] for i in ("population", "superficie_km2")]

options = layer_options()
requested = [k for k in query_value("couches", "fabriques").split(",") if k in options]
controls = st.columns([1.8, 1.3, 1.3, 1.6])
with controls[0]:
    keys = st.multiselect(
        "Lieux comptés",
        list(options),
        default=requested,
        format_func=options.get,
        placeholder="Choisissez au moins une couche",
        key="couches",
        help=help_text("catalyseur", "fabrique", "manufacture", "france_services"),
    )
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
write_query(couches=",".join(keys), niveau=level, perimetre=scope, mesure=measure)
if not keys:
    st.info("Choisissez au moins une couche de lieux à compter (liste « Lieux comptés »).")
    sources_footer()
    st.stop()

places = chosen(keys)
fictional_banner(places)
notes = []
for key in keys:
    if key in LAYERS:
        notes.append(
            f"**{inert(LAYERS[key].label)}** ({inert(LAYERS[key].description)}) — "
            f"source : {inert(layer_source(key))}."
        )
    elif key == EXAMPLE:
        notes.append("**Exemple FICTIF** — 350 catalyseurs inventés par un script documenté.")
    else:
        notes.append(f"**{inert(layer_label(key))}** — liste importée dans « Données ».")
if any(key in LAYERS for key in keys):
    notes.append(f"Lieux de l'ANCT : {inert(POSITION_NOTE)}.")
st.caption("  \n".join(notes))

# ---------------------------------------------------------------- pydeck map of the places
in_scope_communes = pd.Index(geo.table("commune", scope)["code"])
radius = HEX_RADIUS_KM.get(scope.split(":")[0], 15)
hex_records, hex_bounds = hex_data(keys, scope, radius)
height = 720 if projection_mode() else 600
centre, zoom = fit_view(bounds(geo, level, scope, insets=False), 560, height)  # phones too
placed = places.placed
in_scope = placed[placed["commune"].isin(in_scope_communes)]
counts = in_scope["couche"].value_counts()
st.subheader("Carte des lieux")
view_mode = (
    st.segmented_control(
        "Afficher",
        list(VIEWS),
        default=query_value("vue", "les_deux", list(VIEWS)),
        format_func=VIEWS.get,
        key="vue-carte",
    )
    or "les_deux"
)
write_query(vue=view_mode)
by_size = sorted(keys, key=lambda k: -int(counts.get(layer_label(k), 0)))  # small on top
chart = deck(
    static_url(write_geojson(geo, level, scope, insets=False)),  # points at true positions
    [(f"lieux-{k.replace(':', '-')}", point_data(k)) for k in by_size],
    hex_records,
    {"longitude": centre["lon"], "latitude": centre["lat"], "zoom": zoom},
    height=height,
    show_points=view_mode != "densite",
    show_hexagons=view_mode != "points",
)
deck_col, deck_side = st.columns([2.1, 1.4] if projection_mode() else [3, 1.2])
with deck_col:
    st.pydeck_chart(chart, height=height, key="carte-lieux")
with deck_side:
    swatch = "<span class='dt-swatch' style='background:rgb{}'></span>"
    st.markdown(
        "<div class='dt-legend'><b>Lieux</b><br>"
        + "<br>".join(
            f"{swatch.format(layer_colour(k))} {inert(layer_label(k))} : "
            f"{format_number(int(counts.get(layer_label(k), 0)))}"
            for k in keys
        )
        + f"<br><br><b>Lieux par hexagone de {radius} km de rayon</b><br>"
        + "<br>".join(
            f"{swatch.format(HEX_COLOURS[len(HEX_COLOURS) - len(hex_bounds) + i])} "
            + (f"{low}" if low == high else f"{low} à {high}")
            for i, (low, high) in enumerate(
                zip([1, *[b + 1 for b in hex_bounds[:-1]]], hex_bounds, strict=True)
            )
        )
        + "</div>",
        unsafe_allow_html=True,
    )
    st.caption(
        f"{format_number(len(in_scope))} lieux dans ce périmètre d'étude "
        f"({format_number(len(placed))} dans les couches choisies). Survolez un point ou un "
        "hexagone pour son détail ; les points hors du périmètre restent visibles autour."
    )

# ---------------------------------------------------------------- densities
st.subheader("Densités par territoire")
table = densities(places, indicator_store, level, scope)
label, unit, decimals = MEASURES[measure]
values = table[measure].astype(float)
classification = classify(values.reset_index(drop=True), "quantiles", k=5)
colours = palette(classification.k, "bleu")
ranks = values.rank(ascending=False, method="min")
map_col, side_col = st.columns([2.1, 1.4] if projection_mode() else [3, 1.2])
with map_col:
    show_fast_map(
        level, scope, pd.Series(table.index), values, classification, colours, label, unit,
        decimals, key=f"catalyseurs-{level}-{scope}", ranks=ranks,
        rank_total=int(values.notna().sum()), height=520,
    )  # fmt: skip
with side_col:
    st.markdown(f"**{inert(label)}** — {inert(LEVEL_LABELS[level])}")
    st.markdown(
        legend_html(classification, colours, unit, lambda v: format_number(v, decimals)),
        unsafe_allow_html=True,
    )
ordered = table.sort_values(["pour_100k_hab", "nom"], ascending=[False, True])
shown = pd.DataFrame(
    {
        "Territoire": ordered["nom"],
        "Lieux": ordered["n_catalyseurs"].astype("Int64"),
        "Pour 100 000 hab.": ordered["pour_100k_hab"].astype(float),
        "Pour 1 000 km²": ordered["pour_1000_km2"].astype(float),
        "Population": ordered["population"].astype(float),
        "Code": ordered.index,
    }
)
st.dataframe(
    shown,
    hide_index=True,
    width="stretch",
    height=360,
    column_config={
        "Territoire": text_column(400, pinned=True),
        "Lieux": number_column(0),
        "Pour 100 000 hab.": number_column(2),
        "Pour 1 000 km²": number_column(2),
        "Population": number_column(0),
    },
)
st.download_button(
    "Télécharger les densités (CSV)",
    to_csv_bytes(
        ordered.reset_index().rename(columns={"n_catalyseurs": "n_lieux"}), sources=density_sources
    ),
    file_name=f"lieux_{level}.csv",
    mime="text/csv",
)

# ---------------------------------------------------------------- nearest places
st.subheader("Lieux les plus proches d'un territoire")
names = table["nom"].to_dict()
territory = st.columns([1, 1.6])[0].selectbox(
    "Territoire",
    list(table.sort_values("nom").index),
    format_func=lambda c: f"{names[c]} ({c})",
    key="lieux-proches-de",
)
close = nearest(places, geo, level, territory, k=8)
layer_of_row = places.table.set_index("ligne")["couche"]
st.dataframe(
    pd.DataFrame(
        {
            "Lieu": close["nom"],
            "Couche": close["ligne"].map(layer_of_row),
            "Commune": close["nom_commune"],
            "Distance (km)": close["distance_km"].astype(float),
            "Dans le territoire": close["dans_le_territoire"].map({True: "oui", False: ""}),
        }
    ),
    width="stretch",
    hide_index=True,
    column_config={"Distance (km)": number_column(1)},
)
st.caption(
    "Distance à vol d'oiseau entre un point central du territoire et celui de la commune du "
    "lieu (Lambert-93 ; en outre-mer, la projection UTM de la région)."
)

# ---------------------------------------------------------------- zones blanches
st.subheader("Zones blanches")
presets = available_presets(indicator_store.catalogue)
preset_names = list(presets)
preset = st.columns([1, 1.6])[0].selectbox(
    "Fragilité retenue (quintile le plus fragile)",
    preset_names,
    index=preset_names.index(query_value("jeu", DEFAULT_PRESET, preset_names)),
    help=help_text("quantiles", "polarite"),
)
write_query(jeu=preset)
try:
    result = fragility(indicator_store, level, scope, preset=preset)
except FragilityError as error:
    st.error(str(error))
    st.stop()
fragile = result.table.index[result.table["classe"].eq(5).fillna(False).to_numpy(dtype=bool)]
blank = gaps(places, geo, level, scope, fragile)
verb = "n'a" if len(blank) < 2 else "n'ont"
noun = "territoire" if len(blank) < 2 else "territoires"
chosen_names = ", ".join(inert(layer_label(k)) for k in keys)
st.markdown(
    f"**{len(blank)}** {noun} parmi les {len(fragile)} plus fragiles (« {inert(preset)} », "
    f"données réelles) {verb} aucun des lieux comptés ({chosen_names})."
)
if not blank.empty:
    distance = blank["distance_km"].reindex(table.index)
    gap_classes = classify(
        distance.reset_index(drop=True), "quantiles", k=min(5, max(1, len(blank)))
    )
    gap_colours = palette(gap_classes.k, "sequentiel")
    gap_col, gap_side = st.columns([2.1, 1.4] if projection_mode() else [3, 1.2])
    with gap_col:
        show_fast_map(
            level, scope, pd.Series(table.index), distance, gap_classes, gap_colours,
            "Distance au lieu le plus proche", "km", 1, key=f"zones-blanches-{level}-{scope}",
            height=520, missing_label="Pas une zone blanche",
        )  # fmt: skip
    with gap_side:
        st.markdown("**Distance au lieu le plus proche**")
        st.markdown(
            legend_html(
                gap_classes,
                gap_colours,
                "km",
                lambda v: format_number(v, 1),
                missing_label="Pas une zone blanche",
            ),  # fmt: skip
            unsafe_allow_html=True,
        )
    st.dataframe(
        pd.DataFrame(
            {
                "Territoire": blank["nom"],
                "Distance (km)": blank["distance_km"].astype(float),
                "Lieu le plus proche": blank["catalyseur_proche"],
                "Sa commune": blank["nom_commune_catalyseur"],
                "Code": blank.index,
            }
        ),
        width="stretch",
        hide_index=True,
        column_config={"Distance (km)": number_column(1)},
    )
    st.download_button(
        "Télécharger les zones blanches (CSV)",
        to_csv_bytes(blank.reset_index(), sources=density_sources),
        file_name=f"zones_blanches_{level}.csv",
        mime="text/csv",
    )
sources_footer()
