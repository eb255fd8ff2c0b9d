"""Régions page: the five views (table, charts, maps, gaps, detailed comparison)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from territorial.analysis.classify import classify
from territorial.analysis.compare import (
    describe,
    is_additive,
)
from territorial.geo.search import fold
from territorial.outputs.export import to_csv_bytes
from territorial.text.formatting import format_number
from territorial.text.safetext import inert
from ui.common import query_value, write_query
from ui.fastmap import show_fast_map
from ui.maps import legend_html, palette
from ui.regions_common import (
    SMALL_GAP_PCT,
    _grid,
    bar_chart,
    column_name,
    french_styler,
    grid_title,
    highlight_rows,
    show_sources,
    source_line,
)
from ui.regions_gaps import show_comparison, show_gaps
from ui.widgets import formatter

if TYPE_CHECKING:
    from ui.regions_common import RegionView


def show_table(view: RegionView) -> None:
    """Sortable table of the régions, with the reference row and a CSV export."""
    sort_options = [*view.indicator_ids, "region"]
    sort_cols = st.columns([2.2, 1, 2])
    sort_by = sort_cols[0].selectbox(
        "Trier par",
        sort_options,
        index=sort_options.index(query_value("tri", view.indicator_ids[0], sort_options)),
        format_func=lambda i: "Nom de la région" if i == "region" else view.catalogue[i].label,
        key="tri",
    )
    descending = (
        sort_cols[1].selectbox(
            "Ordre",
            ["decroissant", "croissant"],
            index=0 if query_value("ordre", "decroissant") == "decroissant" else 1,
            format_func={"decroissant": "Décroissant", "croissant": "Croissant"}.get,
            key="ordre",
        )
        == "decroissant"
    )
    write_query(
        tri=None if sort_by == view.indicator_ids[0] else sort_by,
        ordre=None if descending else "croissant",
    )
    shown = pd.DataFrame({"Région": view.table["nom"]})
    if sort_by != "region":
        rank = view.table[sort_by].rank(ascending=False, method="min")
        shown.insert(0, "Rang", [str(int(r)) if r == r else "–" for r in rank])
    for indicator in view.indicators:
        shown[column_name(indicator)] = view.table[indicator.id]
    if sort_by == "region":
        order = view.table["nom"].map(fold).sort_values(ascending=not descending).index
    else:
        order = view.table[sort_by].sort_values(ascending=not descending, na_position="last").index
    shown = shown.loc[order]
    reference_row = {"Région": view.reference_label} | ({"Rang": ""} if sort_by != "region" else {})
    for indicator in view.indicators:
        reference_row[column_name(indicator)] = view.references.get(indicator.id)
    shown = pd.concat([shown, pd.DataFrame([reference_row])], ignore_index=True)
    decimals = {column_name(i): i.decimals for i in view.indicators}
    styler = highlight_rows(
        french_styler(shown, decimals), "Région", view.highlighted, view.reference_label
    )
    if sort_by != "region":
        styler = styler.set_properties(
            subset=[column_name(view.catalogue[sort_by])], **{"font-weight": "bold"}
        )
    st.table(styler.hide(axis="index"))
    st.caption(
        f"Dernière ligne (bleutée) : {inert(view.reference_label)}"
        + (" ; en jaune : les régions choisies." if view.highlighted else ".")
        + (
            f" Rang : 1 = valeur la plus haute pour « {inert(view.catalogue[sort_by].label)} »."
            if sort_by != "region"
            else ""
        )
    )
    if not view.projection:
        export = pd.concat(
            [
                view.table.rename(columns={"code": "Code", "nom": "Région"}),
                pd.DataFrame(
                    [
                        {"Code": view.reference, "Région": view.reference_label}
                        | {i.id: view.references.get(i.id) for i in view.indicators}
                    ]
                ),
            ],
            ignore_index=True,
        ).rename(columns={i.id: column_name(i) for i in view.indicators})
        for indicator in view.indicators:
            export[column_name(indicator)] = export[column_name(indicator)].round(
                indicator.decimals
            )
        st.download_button(
            "Télécharger ce tableau (CSV)",
            to_csv_bytes(export, sources=view.indicators),
            file_name="regions_comparaison.csv",
            mime="text/csv",
        )
    show_sources(view.indicators, view.projection)


def show_charts(view: RegionView) -> None:
    """One bar chart per indicator, régions against the reference."""
    per_row = 1 if view.projection else 2
    for column, indicator in _grid(view.indicators, per_row):
        with column:
            values = view.table.set_index("nom")[indicator.id]
            ref = float(view.references.get(indicator.id))
            grid_title(indicator)
            st.plotly_chart(
                bar_chart(
                    indicator,
                    values,
                    ref,
                    view.highlighted,
                    view.reference_label,
                    view.projection,
                ),
                config={"displaylogo": False, "staticPlot": view.projection},
                width="stretch",
                key=f"barres-{indicator.id}",
            )
            text = describe(values, indicator, ref, view.reference_label)
            if is_additive(indicator):
                share = values.sum() / ref * 100 if ref else float("nan")
                text += (
                    f" Somme : pas de comparaison à la France ; les 13 régions font "
                    f"{format_number(share, 1)} % du total {view.reference_label}."
                )
            st.caption(inert(text))
            if not view.projection:
                st.caption(source_line(indicator))
    st.caption(
        "Couleurs : orange = plus fragile que la référence, bleu = moins fragile, "
        "selon le sens de chaque indicateur ; teinte claire : écart de moins de "
        f"{SMALL_GAP_PCT} % ; gris : indicateur sans sens de fragilité. "
        "Tirets : valeur de la référence."
        + (" Régions choisies en gras et encadrées." if view.highlighted else "")
    )
    if view.projection:
        show_sources(view.indicators, view.projection)


def show_maps(view: RegionView) -> None:
    """Small multiples: one map of the 13 régions per indicator."""
    per_row = 2 if view.projection else 3
    height = 520 if view.projection else 360
    for column, indicator in _grid(view.indicators, per_row):
        with column:
            values = view.table[indicator.id]
            fmt = formatter(indicator)
            classification = classify(values, "quantiles", k=5)
            kind = {"fragile_si_haut": "sequentiel", "fragile_si_bas": "sequentiel_inverse"}
            colours = palette(classification.k, kind.get(indicator.polarity, "bleu"))
            ranks = values.rank(ascending=False, method="min")
            grid_title(indicator)
            show_fast_map(
                "region",
                "metropole",
                view.table["code"],
                values,
                classification,
                colours,
                indicator.label,
                indicator.unit,
                indicator.decimals,
                key=f"carte-{indicator.id}",
                ranks=ranks,
                rank_total=int(values.notna().sum()),
                height=height,
            )
            st.markdown(
                legend_html(classification, colours, indicator.unit, fmt),
                unsafe_allow_html=True,
            )
            ref = view.references.get(indicator.id)
            summary = describe(
                values.set_axis(view.table["nom"]), indicator, ref, view.reference_label
            )
            st.caption(inert(summary))
            if not view.projection:
                with st.expander("Tableau de cette carte"):
                    data = pd.DataFrame(
                        {
                            "Région": view.table["nom"],
                            column_name(indicator): values,
                            "Rang": values.rank(ascending=False, method="min").astype("Int64"),
                        }
                    ).sort_values("Rang")
                    st.dataframe(
                        french_styler(data, {column_name(indicator): indicator.decimals}),
                        hide_index=True,
                        width="stretch",
                    )
                st.caption(source_line(indicator))
    st.caption(
        "Cinq classes d'effectifs égaux (quantiles) ; les couleurs foncées signalent la "
        "fragilité pour les indicateurs qui en ont un sens, un dégradé bleu sinon."
    )
    if view.projection:
        show_sources(view.indicators, view.projection)


VIEW_FUNCTIONS = {
    "tableau": show_table,
    "graphiques": show_charts,
    "cartes": show_maps,
    "ecarts": show_gaps,
    "comparer": show_comparison,
}
