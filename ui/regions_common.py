"""What the Régions views share: the view request, colours, French styling of tables, the bar chart."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from territorial.analysis.compare import (
    format_gap,
    is_additive,
    reading,
)
from territorial.indicators.catalogue import Catalogue, Indicator
from territorial.text.formatting import format_number
from territorial.text.safetext import inert
from ui.widgets import formatter

__all__ = [
    "HIGHLIGHT_BACKGROUND",
    "LIGHT_COLOURS",
    "PROFILE_CAP_PCT",
    "READING_COLOURS",
    "REFERENCE_BACKGROUND",
    "RegionView",
    "SMALL_GAP_PCT",
    "bar_chart",
    "bar_colour",
    "column_name",
    "french_styler",
    "grid_title",
    "highlight_rows",
    "show_sources",
    "source_line",
]


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


def _grid(indicators: list, per_row: int):
    """Each indicator with the column it is drawn in, ``per_row`` columns a row."""
    for start in range(0, len(indicators), per_row):
        columns = st.columns(per_row)
        yield from zip(columns, indicators[start : start + per_row], strict=False)
