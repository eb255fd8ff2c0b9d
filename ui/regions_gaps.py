"""Régions page: the gaps view and the detailed comparison of two régions."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from territorial.analysis.compare import (
    describe,
    format_gap,
    gap_unit,
    is_additive,
    regions_side_by_side,
    versus_france,
)
from territorial.outputs.export import to_csv_bytes
from territorial.text.formatting import format_number
from territorial.text.safetext import inert
from ui.common import query_value, write_query
from ui.regions_common import PROFILE_CAP_PCT, column_name, highlight_rows, show_sources
from ui.state import store
from ui.widgets import formatter

if TYPE_CHECKING:
    from ui.regions_common import RegionView

__all__ = ["show_comparison", "show_gaps"]


def show_gaps(view: RegionView) -> None:
    """Gaps to the reference in %, and the detail of one indicator."""
    gaps = versus_france(store(), view.indicator_ids, view.reference)
    comparable = [i for i in view.indicators if not is_additive(i)]
    if comparable:
        st.markdown(
            f"**Écart de chaque région à la {inert(view.reference_label)}, en % de sa valeur**"
        )
        matrix = gaps.pivot(index="nom", columns="indicateur", values="ecart_pct").reindex(
            index=view.table["nom"], columns=[i.id for i in comparable]
        )
        readings = gaps.pivot(index="nom", columns="indicateur", values="lecture").reindex(
            index=matrix.index, columns=matrix.columns
        )
        matrix.columns = [column_name(i) for i in comparable]
        readings.columns = matrix.columns
        matrix = matrix.reset_index().rename(columns={"nom": "Région"})
        readings = readings.reset_index(drop=True)

        def shade(frame: pd.DataFrame) -> pd.DataFrame:
            """Orange (more fragile) or blue (less), stronger with the size of the gap."""
            out = pd.DataFrame("", index=frame.index, columns=frame.columns)
            for column in frame.columns:
                for row in frame.index:
                    value, how = frame.at[row, column], readings.at[row, column]
                    if pd.isna(value) or not how:
                        continue
                    alpha = round(0.12 + 0.6 * min(abs(value) / 50, 1), 2)
                    base = "230, 97, 1" if how == "plus fragile" else "49, 130, 189"
                    out.at[row, column] = f"background-color: rgba({base}, {alpha})"
            return out

        gap_columns = list(matrix.columns[1:])
        styler = matrix.style.format(
            dict.fromkeys(gap_columns, lambda v: f"{format_gap(v, 1)} %" if v == v else "–")
        )
        styler = styler.apply(shade, axis=None, subset=gap_columns)
        styler = highlight_rows(
            styler, "Région", view.highlighted, view.reference_label, only_names=True
        )
        st.table(styler.hide(axis="index"))
        st.caption(
            f"Lecture : +10 % = valeur de la région 10 % au-dessus de la {inert(view.reference_label)}. "
            "Orange : plus fragile que la référence ; bleu : moins fragile, selon le sens de "
            "l'indicateur ; plus la couleur est soutenue, plus l'écart est grand."
            + (
                " Régions choisies sur fond jaune dans la colonne Région."
                if view.highlighted
                else ""
            )
        )
    skipped = [i for i in view.indicators if is_additive(i)]
    if skipped:
        st.caption(
            "Sans écart (sommes : une région est une partie de la France) : "
            + ", ".join(inert(i.label) for i in skipped)
            + ". Leur part du total figure dans le détail."
        )
    if not view.projection:
        st.markdown("**Détail d'un indicateur : valeur, référence, écart absolu et en %**")
        detail_id = st.selectbox(
            "Indicateur détaillé",
            view.indicator_ids,
            index=view.indicator_ids.index(
                query_value("detail", view.indicator_ids[0], view.indicator_ids)
            ),
            format_func=lambda i: view.catalogue[i].label,
            key="detail",
        )
        write_query(detail=None if detail_id == view.indicator_ids[0] else detail_id)
        indicator = view.catalogue[detail_id]
        rows = gaps[gaps["indicateur"] == detail_id].sort_values("rang").reset_index(drop=True)
        fmt = formatter(indicator)
        detail = pd.DataFrame(
            {
                "Rang": rows["rang"].astype(str).str.replace("<NA>", "–"),
                "Région": rows["nom"],
                f"Valeur ({indicator.unit})" if indicator.unit else "Valeur": rows["valeur"].map(
                    fmt
                ),
                view.reference_label: rows["reference"].map(fmt),
            }
        )
        if is_additive(indicator):
            detail[f"Part de la {view.reference_label}"] = [
                f"{format_number(v, 1)} %" for v in rows["part_pct"]
            ]
        else:
            gap_suffix = f" {gap_unit(indicator)}" if gap_unit(indicator) else ""
            detail["Écart absolu"] = [
                format_gap(v, indicator.decimals) + gap_suffix for v in rows["ecart"]
            ]
            detail["Écart (%)"] = [f"{format_gap(v, 1)} %" for v in rows["ecart_pct"]]
            detail["Lecture"] = rows["lecture"].replace("", "–")
        detail_styler = highlight_rows(
            detail.style, "Région", view.highlighted, view.reference_label
        )
        st.table(detail_styler.hide(axis="index"))
        st.caption(
            inert(
                describe(
                    rows.set_index("nom")["valeur"],
                    indicator,
                    view.references.get(detail_id),
                    view.reference_label,
                )
            )
        )
        export = gaps.assign(
            indicateur=gaps["indicateur"].map(lambda i: view.catalogue[i].label),
            unite=gaps["indicateur"].map(lambda i: gap_unit(view.catalogue[i])),
        ).rename(
            columns={
                "code": "Code",
                "nom": "Région",
                "indicateur": "Indicateur",
                "valeur": "Valeur",
                "reference": view.reference_label,
                "ecart": "Écart absolu",
                "unite": "Unité de l'écart",
                "ecart_pct": "Écart (%)",
                "part_pct": f"Part de la {view.reference_label} (%)",
                "rang": "Rang",
                "lecture": "Lecture",
            }
        )
        st.download_button(
            "Télécharger tous les écarts (CSV)",
            to_csv_bytes(export, sources=view.indicators),
            file_name=f"regions_ecarts_{view.reference}.csv",
            mime="text/csv",
        )
    show_sources(view.indicators, view.projection)


def show_comparison(view: RegionView) -> None:
    """Chosen régions side by side on every indicator, with a profile chart."""
    if len(view.chosen) < 2:
        st.info(
            "Choisissez au moins deux régions dans « Régions à comparer en détail » "
            "(en haut de la page) : tous les indicateurs s'afficheront côte à côte."
        )
    else:
        side = regions_side_by_side(store(), view.chosen, None, view.reference)
        region_columns = [view.names[c] for c in view.chosen]
        gap_label = side.attrs["ecart"]
        shown = pd.DataFrame(
            {
                "Thème": side["theme"],
                "Indicateur": [
                    f"{label} ({unit})" if unit else label
                    for label, unit in zip(side["indicateur"], side["unite"], strict=True)
                ],
            }
        )
        for column in [*region_columns, "reference", "ecart"]:
            values = side[column]
            shown[column] = [
                format_gap(v, d)
                if column == "ecart" and len(view.chosen) == 2
                else format_number(v, d)
                for v, d in zip(values, side["decimales"], strict=True)
            ]
        shown = shown.rename(columns={"reference": view.reference_label, "ecart": gap_label})
        st.markdown(
            "**" + " · ".join(inert(n) for n in region_columns) + f"** et la "
            f"{inert(view.reference_label)}, indicateur par indicateur"
        )
        numeric = [*region_columns, view.reference_label, gap_label]
        side_styler = shown.style.set_properties(
            subset=numeric, **{"text-align": "right !important"}
        ).set_properties(subset=[view.reference_label], **{"background-color": "#e8eef5"})
        st.table(side_styler.hide(axis="index"))
        st.caption(
            f"Dernière colonne : {inert(gap_label)} (unité de l'indicateur ; points pour "
            "un pourcentage). Les régions suivent l'ordre de votre choix."
        )
        profile_ids = [i.id for i in view.indicators if not is_additive(i)]
        if profile_ids:
            gaps = versus_france(store(), profile_ids, view.reference)
            gaps = gaps[gaps["code"].isin(view.chosen)]
            fig = go.Figure()
            # Dark2 without its orange, kept for "plus fragile" elsewhere on the page.
            qualitative = ["#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d"]
            largest = float(gaps["ecart_pct"].abs().max())
            span = min(largest if largest == largest else 10.0, PROFILE_CAP_PCT)
            cut = False
            for number, code in enumerate(view.chosen):
                rows = gaps[gaps["code"] == code].set_index("indicateur").reindex(profile_ids)
                pct = rows["ecart_pct"]
                cut = cut or bool((pct.abs() > PROFILE_CAP_PCT).any())
                fig.add_bar(
                    y=[inert(view.catalogue[i].label) for i in profile_ids],
                    x=pct.clip(-PROFILE_CAP_PCT, PROFILE_CAP_PCT).to_numpy(),
                    name=inert(view.names[code]),
                    orientation="h",
                    marker_color=qualitative[number % len(qualitative)],
                    text=[
                        format_gap(v, 1) + " %" + (" ▸" if abs(v) > PROFILE_CAP_PCT else "")
                        for v in pct
                    ],
                    textposition="outside",
                    textfont={"color": "#111111"},
                    cliponaxis=False,
                    hovertext=[
                        f"{inert(view.names[code])} — {inert(view.catalogue[i].label)} : "
                        f"{format_gap(v, 1)} %"
                        for i, v in pct.items()
                    ],
                    hoverinfo="text",
                )
            fig.add_vline(x=0, line_color="#222222", line_width=2)
            font = 19 if view.projection else 13
            fig.update_layout(
                barmode="group",
                height=120
                + (len(view.chosen) * (34 if view.projection else 22) + 24) * len(profile_ids),
                font={"size": font},
                separators=",\u202f",
                plot_bgcolor="white",
                margin={"l": 0, "r": 50, "t": 30, "b": 10},
                legend={
                    "orientation": "h",
                    "y": 1.02,
                    "yanchor": "bottom",
                    "x": 0,
                    "font": {"size": font, "color": "#222222"},
                },
                yaxis={
                    "autorange": "reversed",
                    "automargin": True,
                    "tickfont": {"size": font, "color": "#222222"},
                },
                xaxis={
                    "title": {
                        "text": f"Écart à la {inert(view.reference_label)} (%)",
                        "font": {"size": font, "color": "#222222"},
                    },
                    "tickfont": {"size": font - 1, "color": "#444444"},
                    "gridcolor": "#e5e5e5",
                    "ticksuffix": " %",
                    # symmetric, with room for the value labels on both sides
                    "range": [-span * 1.35, span * 1.35],
                },
            )
            st.markdown(
                f"**Profil : écart à la {inert(view.reference_label)} en %, indicateurs choisis**"
            )
            st.plotly_chart(
                fig,
                config={"displaylogo": False, "staticPlot": view.projection},
                width="stretch",
                key="profil-regions",
            )
            sentences = []
            for indicator_id in profile_ids:
                rows = (
                    gaps[gaps["indicateur"] == indicator_id].set_index("code").reindex(view.chosen)
                )
                parts = [
                    f"{view.names[code]} {format_gap(v, 1)} %"
                    for code, v in rows["ecart_pct"].items()
                ]
                sentences.append(f"{view.catalogue[indicator_id].label} : {', '.join(parts)}")
            if cut:
                sentences.append(
                    f"barres coupées au-delà de ±{PROFILE_CAP_PCT} % (signe ▸), "
                    "la valeur écrite reste exacte"
                )
            st.caption(inert(" ; ".join(sentences) + "."))
        if not view.projection:
            export = side.drop(columns=["decimales"]).rename(
                columns={
                    "id": "Identifiant",
                    "theme": "Thème",
                    "indicateur": "Indicateur",
                    "unite": "Unité",
                    "reference": view.reference_label,
                    "ecart": gap_label,
                }
            )
            st.download_button(
                "Télécharger la comparaison (CSV)",
                to_csv_bytes(export, sources=view.indicators),
                file_name="regions_" + "_".join(view.chosen) + ".csv",
                mime="text/csv",
            )
        if view.projection:
            show_sources(list(view.catalogue), view.projection)
        else:
            with st.expander("Sources de chaque indicateur"):
                show_sources(list(view.catalogue), view.projection)
