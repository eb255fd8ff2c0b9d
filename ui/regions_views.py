"""Régions page: the five views (table, charts, maps, gaps, detailed comparison)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from territorial.analysis.classify import classify
from territorial.analysis.compare import (
    describe,
    format_gap,
    gap_unit,
    is_additive,
    reading,
    regions_side_by_side,
    versus_france,
)
from territorial.geo.search import fold
from territorial.indicators.catalogue import Catalogue, Indicator
from territorial.outputs.export import to_csv_bytes
from territorial.text.formatting import format_number, format_rank
from territorial.text.safetext import inert
from ui.common import query_value, write_query
from ui.maps import choropleth, legend_html, palette
from ui.state import store
from ui.widgets import formatter

# Bar colours: orange = more fragile than the reference, blue = less, grey = no reading.
READING_COLOURS = {"plus fragile": "#e66101", "moins fragile": "#3182bd", "": "#8c8c8c"}
# Light tints when the gap is under SMALL_GAP_PCT % of the reference.
LIGHT_COLOURS = {"plus fragile": "#fdb863", "moins fragile": "#9ecae1", "": "#bdbdbd"}
SMALL_GAP_PCT = 5
PROFILE_CAP_PCT = 150  # profile bars are cut beyond ±150 % (the label keeps the value)
HIGHLIGHT_BACKGROUND = "background-color: #fff3cd"
REFERENCE_BACKGROUND = "background-color: #e8eef5"


@dataclass(frozen=True)
class RegionView:
    """What every view of the page shows: the choices made at the top of the page."""

    catalogue: Catalogue
    indicators: list[Indicator]
    indicator_ids: list[str]
    table: pd.DataFrame
    references: dict
    reference: str
    reference_label: str
    highlighted: set[str]
    chosen: list[str]
    names: dict[str, str]
    projection: bool


def grid_title(indicator) -> None:
    """Title of a chart or map in a grid; a fixed height keeps the grid aligned."""
    st.markdown(
        f"<div style='min-height:3.1em; font-weight:600'>{inert(column_name(indicator))}</div>",
        unsafe_allow_html=True,
    )


def column_name(indicator) -> str:
    return f"{indicator.label} ({indicator.unit})" if indicator.unit else indicator.label


def source_line(indicator) -> str:
    return (
        f"**{inert(indicator.label)}** — source : {inert(indicator.source) or 'non précisée'}, "
        f"millésime {inert(indicator.vintage) or 'non précisé'}, "
        f"{inert(indicator.licence) or 'licence non précisée'}."
    )


def show_sources(shown, projection: bool) -> None:
    """Source, vintage and licence of each indicator: one line each, or one compact line
    in projection mode."""
    if projection:
        st.caption(" · ".join(source_line(i) for i in shown))
    else:
        for indicator in shown:
            st.caption(source_line(indicator))


def french_styler(frame: pd.DataFrame, decimals: dict[str, int], signed=()):
    """Numbers shown in French format while the columns stay numeric (sortable)."""

    def fmt(places, sign):
        def apply(value):
            return format_gap(value, places) if sign else format_number(value, places)

        return apply

    return frame.style.format(
        {column: fmt(places, column in signed) for column, places in decimals.items()}
    )


def highlight_rows(
    styler, names_column: str, highlighted: set[str], reference_name: str, only_names=False
):
    def colour(row):
        name = row[names_column]
        style = (
            REFERENCE_BACKGROUND
            if name == reference_name
            else HIGHLIGHT_BACKGROUND
            if name in highlighted
            else ""
        )
        return [style] * len(row)

    return styler.apply(colour, axis=1, subset=[names_column] if only_names else None)


def bar_colour(indicator, value: float, ref: float) -> str:
    """Orange if more fragile than the reference, blue if less; light when the gap is small."""
    if is_additive(indicator) or pd.isna(value) or pd.isna(ref):
        return READING_COLOURS[""]
    how = reading(indicator, value - ref)
    small = ref != 0 and abs(value - ref) / abs(ref) * 100 < SMALL_GAP_PCT
    return (LIGHT_COLOURS if small else READING_COLOURS)[how]


def bar_chart(
    indicator,
    values: pd.Series,
    ref: float,
    highlighted: set[str],
    reference_label: str,
    projection: bool,
) -> go.Figure:
    """Horizontal bars of the 13 régions, highest on top, reference line, French labels."""
    ordered_values = values.sort_values(ascending=True, na_position="first")
    additive = is_additive(indicator)
    colours = [bar_colour(indicator, v, ref) for v in ordered_values]
    fmt = formatter(indicator)
    font = 19 if projection else 13
    labels = [
        f"<b>{inert(name)}</b>" if name in highlighted else inert(name)
        for name in ordered_values.index
    ]
    fig = go.Figure(
        go.Bar(
            x=ordered_values.to_numpy(),
            y=list(range(len(ordered_values))),
            orientation="h",
            marker_color=colours,
            marker_line_color=[
                "#111111" if n in highlighted else "rgba(0,0,0,0)" for n in ordered_values.index
            ],
            marker_line_width=2,
            text=[fmt(v) for v in ordered_values],
            textposition="outside",
            textfont={"color": "#111111"},
            cliponaxis=False,
            hovertext=[
                f"{label} : {fmt(v)} {inert(indicator.unit)}"
                for label, v in zip(labels, ordered_values, strict=True)
            ],
            hoverinfo="text",
        )
    )
    if not additive and not pd.isna(ref):
        fig.add_vline(
            x=ref,
            line_dash="dash",
            line_color="#555555",
            line_width=2,
            layer="below",
            annotation_text=f"{inert(reference_label)} : {fmt(ref)}",
            annotation_position="top",
            annotation_font={"size": font - 1, "color": "#222222"},
        )
    row = 40 if projection else 27
    fig.update_layout(
        height=70 + row * len(ordered_values),
        margin={"l": 0, "r": 40, "t": 36, "b": 10},
        font={"size": font},
        separators=",\u202f",
        showlegend=False,
        plot_bgcolor="white",
        yaxis={
            "tickmode": "array",
            "tickvals": list(range(len(ordered_values))),
            "ticktext": labels,
            "automargin": True,
            "tickfont": {"size": font, "color": "#222222"},
        },
        xaxis={
            "title": {"text": inert(indicator.unit), "font": {"size": font, "color": "#222222"}},
            "tickfont": {"size": font - 1, "color": "#444444"},
            "gridcolor": "#e5e5e5",
            "zeroline": True,
            "zerolinecolor": "#999999",
            "rangemode": "tozero",
        },
    )
    return fig


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


def _grid(indicators: list, per_row: int):
    """Each indicator with the column it is drawn in, ``per_row`` columns a row."""
    for start in range(0, len(indicators), per_row):
        columns = st.columns(per_row)
        yield from zip(columns, indicators[start : start + per_row], strict=False)


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
            rank_text = [
                format_rank(int(r), int(values.notna().sum())) if r == r else "–" for r in ranks
            ]
            grid_title(indicator)
            fig = choropleth(
                "region",
                "metropole",
                view.table["code"],
                values,
                classification,
                colours,
                indicator.label,
                indicator.unit,
                indicator.decimals,
                ranks=pd.Series(rank_text),
                height=height,
                width_px=560 if view.projection else 300,
            )
            st.plotly_chart(
                fig,
                config={"displaylogo": False, "scrollZoom": False},
                width="stretch",
                key=f"carte-{indicator.id}",
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


VIEW_FUNCTIONS = {
    "tableau": show_table,
    "graphiques": show_charts,
    "cartes": show_maps,
    "ecarts": show_gaps,
    "comparer": show_comparison,
}
