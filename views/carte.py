"""Carte: choropleth of any indicator at any level, search, click to select."""

import pandas as pd
import streamlit as st

from territorial import LEVEL_LABELS
from territorial.analysis.classify import (
    METHODS,
    classify,
    classify_categories,
    difference_unit,
    display_decimals,
)
from territorial.outputs.export import to_csv_bytes
from territorial.text.formatting import format_number, format_percent, format_rank
from territorial.text.glossary import help_text
from territorial.text.safetext import inert
from ui.common import (
    on_phone,
    page_header,
    projection_mode,
    query_value,
    sources_footer,
    write_query,
)
from ui.fastmap import preload, show_fast_map
from ui.maps import (
    HEAVY_DOWNLOAD,
    HEAVY_SCOPES,
    category_palette,
    legend_html,
    map_scope_picker,
    palette,
)
from ui.peers import peers_of, show_peers
from ui.state import geography, store, values
from ui.widgets import formatter, indicator_picker, level_picker, search_box

page_header(
    "Carte des territoires",
    "Choisissez un niveau et un indicateur ; survolez un territoire pour sa valeur et son rang, "
    "cliquez-le (ou cherchez-le) pour le sélectionner.",
    first_steps=True,
)
geo = geography()
catalogue = store().catalogue

pending = st.session_state.pop("carte-recherche", None)
if pending is not None:  # apply a search result before the pickers are drawn
    st.session_state["niveau"], st.session_state["perimetre_etude"], found_code = pending
    st.query_params.update(niveau=pending[0], perimetre=pending[1], territoire=found_code)

if on_phone():  # the map first, fitted to the width; the settings folded below it
    map_col = st.container()
    settings = st.expander("Choisir le niveau, l'indicateur, chercher un territoire")
    side_col = st.container()
elif projection_mode():  # the map from under the title to the bottom of the screen
    map_col, side_col = st.columns([3, 1])
    settings = side_col
else:
    settings = st.container()
with settings:
    if projection_mode():  # stacked beside the map
        controls = [st.container(), st.container(), st.container()]
    else:
        controls = st.columns([1.25, 1.4, 2])  # one row, so that the map starts high on the page
with controls[0]:
    level = level_picker()
with controls[1]:
    scope = map_scope_picker(level, query_value("territoire", "") or None)
    preload(level, scope)  # the browser fetches the map's files while the values are computed
with controls[2]:
    indicator = indicator_picker(catalogue)

if not on_phone() and not projection_mode():
    map_col, side_col = st.columns([3, 1.15])
with settings if on_phone() else side_col:  # its results push the legend down, not the map
    picked = search_box()
with side_col, st.expander("Classes et couleurs"):  # beside the map, which starts high
    method_keys = list(METHODS)
    method = query_value("classes", "quantiles", method_keys)
    k = int(query_value("k", "5", [str(i) for i in range(3, 8)]))
    centred, breaks_text = False, ""
    if indicator.is_categorical:
        st.caption("Typologie : une couleur par classe (pas de seuils ni d'écart à la France).")
    else:
        method = st.selectbox(
            "Classes",
            method_keys,
            index=method_keys.index(method),
            format_func=METHODS.get,
            help=help_text("quantiles", "seuils_naturels"),
        )
        k = st.slider("Nombre de classes", 3, 7, k)
        centred = st.toggle(
            "Écart à la France",
            value=query_value("ecart", "non", ["oui", "non"]) == "oui",
            help="Montre l'écart à la valeur France entière, avec une palette divergente centrée sur zéro.",
        )
        if method == "manuel":
            breaks_text = st.text_input(
                "Seuils (séparés par des points-virgules)", query_value("seuils", "")
            )

selected = query_value("territoire", "")
if picked is not None and picked != st.session_state.get("carte-recherche-faite"):
    st.session_state["carte-recherche-faite"] = picked  # apply each search choice once
    found_level, found_code = picked
    unit = geo.indexed(found_level).loc[found_code]
    if found_level == "commune":
        found_scope = f"region:{unit['region']}"  # the communes of its région: a light map
    else:
        found_scope = "france" if unit["outre_mer"] else "metropole"
    st.session_state["carte-recherche"] = (found_level, found_scope, found_code)
    st.rerun()

table = geo.table(level, scope).drop(columns="geometry").reset_index(drop=True)
if selected and selected not in set(table["code"]):
    selected = ""
frame = values(level, scope)
raw = frame[indicator.id].reindex(table["code"]).astype(float).reset_index(drop=True)
france = values("france", "france").at["FR", indicator.id]
categorical = indicator.is_categorical
shown = raw - france if centred else raw
decimals = indicator.decimals if centred else display_decimals(raw, indicator.decimals)
shown_unit = difference_unit(indicator.unit) if centred else indicator.unit


def fmt(value):
    return format_number(value, decimals)


labels = raw.map(indicator.category_label) if categorical else None

if categorical:
    classification = classify_categories(raw, len(indicator.categories))
else:
    try:
        breaks = [float(b.replace(",", ".")) for b in breaks_text.split(";") if b.strip()]
        classification = classify(shown, method, k=k, breaks=breaks or None)
    except ValueError:
        st.warning(
            "Seuils invalides : indiquez des nombres séparés par des points-virgules (ex. 10;20;50)."
        )
        classification = classify(shown, "quantiles", k=k)
kind = (
    "divergent"
    if centred
    else {"fragile_si_haut": "sequentiel", "fragile_si_bas": "sequentiel_inverse"}.get(
        indicator.polarity, "bleu"
    )
)
colours = category_palette(classification.k) if categorical else palette(classification.k, kind)

rank = raw.rank(ascending=False, method="min")
n_ranked = int(raw.notna().sum())
rank_text = pd.Series([format_rank(int(r), n_ranked) if r == r else "–" for r in rank])
unit = f" {indicator.unit}" if indicator.unit else ""
hover_label = f"Écart à la France ({indicator.label})" if centred else indicator.label

peers_shown = bool(selected) and side_col.toggle(
    "Montrer les territoires comparables du territoire sélectionné",
    value=query_value("pairs", "non", ["oui", "non"]) == "oui",
    key="carte-pairs",
    help="Contour orange : les territoires du même niveau au profil le plus proche "
    "(jeu « Vue d'ensemble » ; dans sa région pour une commune).",
)
comparables = None
if peers_shown:
    comparables = peers_of(level, selected, {
        "preset": None, "same_region": level == "commune", "exclude_neighbours": False,
        "similar_size": False,
    })  # fmt: skip

height = 880 if projection_mode() else 620  # fits 1920×1080
if on_phone():
    height = 380
with map_col:
    highlight = [p["code"] for p in comparables["comparables"]] if comparables else None
    if level == "commune" and scope in HEAVY_SCOPES:
        st.caption(
            f"{format_number(len(table))} communes : carte lourde, dessinée dans le navigateur "
            f"({HEAVY_DOWNLOAD} à charger la première fois)."
        )
    clicked = show_fast_map(
        level,
        scope,
        table["code"],
        shown,
        classification,
        colours,
        hover_label,
        shown_unit,
        decimals,
        key=f"carte-{level}-{scope}",
        ranks=None if categorical else rank,
        rank_total=None if categorical else n_ranked,
        selected=selected or None,
        highlight=highlight,
        categories=list(indicator.categories) if categorical else None,
        height=height,
    )
    if clicked and clicked != selected:
        selected = clicked
        if peers_shown:  # redraw the highlights around the new selection
            st.query_params["territoire"] = clicked
            st.rerun()
with side_col:
    title = f"Écart à la France : {indicator.label}" if centred else indicator.label
    st.markdown(f"**{inert(title)}** — {inert(LEVEL_LABELS[level])}")
    if categorical:
        legend = legend_html(
            classification, colours, "", lambda _value: "", names=list(indicator.categories)
        )
        st.markdown(legend, unsafe_allow_html=True)
        if level != "commune":
            st.caption(
                "Au-dessus de la commune : la classe qui rassemble le plus d'habitants "
                "(recensement 2021) ; la part de chaque classe est sur la fiche du territoire."
            )
    else:
        st.markdown(legend_html(classification, colours, shown_unit, fmt), unsafe_allow_html=True)
        if classification.shortfall:
            st.caption(classification.shortfall)
        st.caption(f"France entière : {formatter(indicator)(france)}{inert(unit)}")
    if store().is_estimate(indicator.id, level):
        covered = store().population_coverage(level, indicator).reindex(table["code"])
        st.info(
            "**Estimation** à ce niveau. "
            + inert(store().estimate_method(indicator.id, level).removeprefix("Estimation : "))
            + f" Part de la population couverte : {format_percent(covered.median())} pour le "
            "territoire médian de la carte (de "
            + f"{format_percent(covered.min())} à {format_percent(covered.max())})."
        )
    if selected:
        row = table.set_index("code").loc[selected]
        position = table.index[table["code"] == selected][0]
        st.subheader(inert(row["nom"]))
        st.markdown(f"{inert(LEVEL_LABELS[level])} · code {inert(selected)}")
        if categorical:
            st.metric(indicator.label, labels[position] or "–")
        else:
            st.metric(
                indicator.label, f"{fmt(raw[position])}{unit}", help=f"Rang : {rank_text[position]}"
            )
            st.markdown(f"Rang : **{rank_text[position]}**")
        if store().is_estimate(indicator.id, level):
            share = store().population_coverage(level, indicator).get(selected)
            st.caption(f"Estimation ; part de la population couverte : {format_percent(share)}.")
        for parent_level, (_code, name) in geo.parents(level, selected).items():
            st.markdown(f"- {inert(LEVEL_LABELS[parent_level])} : **{inert(name)}**")
        st.page_link(
            "views/fiche.py",
            label="Ouvrir la fiche du territoire",
            icon=":material/description:",
            query_params={"niveau": level, "territoire": selected},
        )
        if comparables:
            st.markdown(
                f"**Territoires comparables** (contour orange, {inert(comparables['comparaison'])})"
            )
            outside = [
                p["nom"] for p in comparables["comparables"] if p["code"] not in set(table["code"])
            ]
            if outside:
                st.caption(f"Hors de la carte affichée : {inert(', '.join(outside))}.")
            show_peers(comparables, level, compact=True)

write_query(
    niveau=level,
    perimetre=scope,
    indicateur=indicator.id,
    classes=method,
    k=k,
    ecart="oui" if centred else None,
    seuils=breaks_text or None,
    territoire=selected or None,
    pairs="oui" if peers_shown else None,
)
if not projection_mode():
    # A toggle, not an expander: the table is only built and sent when asked for, so an
    # indicator switch sends the map's values alone.
    if st.toggle(
        "Afficher le tableau des données de la carte (équivalent accessible)", key="tableau"
    ):
        if categorical:
            data = pd.DataFrame(
                {"Code": table["code"], "Nom": table["nom"], indicator.label: labels}
            )
        else:
            data = pd.DataFrame(
                {
                    "Code": table["code"],
                    "Nom": table["nom"],
                    f"{indicator.label} ({indicator.unit})": raw.round(indicator.decimals),
                    "Rang": rank.astype("Int64"),
                }
            ).sort_values("Rang")
        st.dataframe(data, hide_index=True, width="stretch")
        st.download_button(
            "Télécharger ce tableau (CSV)",
            to_csv_bytes(data, sources=[indicator]),
            file_name=f"carte_{level}_{indicator.id}.csv",
            mime="text/csv",
        )
    st.caption(
        f"Source : {inert(indicator.source)} — millésime {inert(indicator.vintage)} — "
        f"{inert(indicator.licence)}. Méthode : {inert(indicator.method)}"
    )
sources_footer()
