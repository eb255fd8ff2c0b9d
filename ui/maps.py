"""Choropleth maps drawn by plotly from static GeoJSON files (geometry sent once).

A change of indicator only sends codes, rounded values and ranks: names come from the
GeoJSON's properties, colours from a stepped colour scale built on the class breaks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from territorial.analysis.classify import Classification
from territorial.geo import insets
from territorial.geo.mapdata import around, bounds, display_shapes, fit_view, write_geojson
from territorial.text.formatting import format_number
from territorial.text.glossary import help_text
from territorial.text.safetext import inert
from ui.common import on_phone, projection_mode, query_value
from ui.state import geography
from ui.widgets import SCOPE_LABELS

# ColorBrewer palettes, colour-blind safe.
SEQUENTIAL = {
    3: ["#ffeda0", "#feb24c", "#f03b20"],
    4: ["#ffffb2", "#fecc5c", "#fd8d3c", "#e31a1c"],
    5: ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"],
    6: ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"],
    7: ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"],
}
BLUES = {
    3: ["#deebf7", "#9ecae1", "#3182bd"],
    4: ["#eff3ff", "#bdd7e7", "#6baed6", "#2171b5"],
    5: ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"],
    6: ["#eff3ff", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c"],
    7: ["#eff3ff", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#084594"],
}
DIVERGING = {
    3: ["#5e3c99", "#f7f7f7", "#e66101"],
    4: ["#5e3c99", "#b2abd2", "#fdb863", "#e66101"],
    5: ["#5e3c99", "#b2abd2", "#f7f7f7", "#fdb863", "#e66101"],
    6: ["#542788", "#998ec3", "#d8daeb", "#fee0b6", "#f1a340", "#b35806"],
    7: ["#542788", "#998ec3", "#d8daeb", "#f7f7f7", "#fee0b6", "#f1a340", "#b35806"],
}
MISSING_COLOUR = "#d9d9d9"


def category_palette(n: int) -> list[str]:
    """Distinct colours for ``n`` classes of a typology (CARTO « Safe », colour-blind safe)."""
    from plotly.colors import qualitative

    colours = qualitative.Safe
    return [colours[i % len(colours)] for i in range(n)]


def palette(k: int, kind: str = "sequentiel") -> list[str]:
    """Colours for ``k`` classes: ``sequentiel`` (fragility), ``bleu``, ``divergent``;
    the suffix ``_inverse`` reverses the order (low values dark)."""
    reverse = kind.endswith("_inverse")
    table = {"sequentiel": SEQUENTIAL, "bleu": BLUES, "divergent": DIVERGING}[
        kind.removesuffix("_inverse")
    ]
    colours = table[3][-k:] if k <= 2 else table[min(k, 7)]
    return list(reversed(colours)) if reverse else list(colours)


def static_url(path) -> str:
    return f"app/static/geo/{path.name}"


def stepped_scale(classification: Classification, colours: list[str]) -> tuple[list, float, float]:
    """Plotly colour scale with flat steps at the class breaks, and its (zmin, zmax).

    Each class owns ``(previous break, its break]``; a class reduced to one value (many
    zeros, say) still gets its own colour at that exact value.
    """
    low, high = classification.lower, classification.bins[-1]
    span = (high - low) or 1.0
    step = 1e-9
    scale, previous_end = [], None
    for end, colour in zip(classification.bins, colours, strict=False):
        begin = 0.0 if previous_end is None else previous_end + step
        finish = max((end - low) / span, begin)
        scale += [[min(begin, 1.0), colour], [min(finish, 1.0), colour]]
        previous_end = finish
    scale[-1][0] = 1.0
    return scale, low, high


def border_width(level: str, scope: str) -> float:
    """White borders between units: none between the communes of all France, where they
    would wash the colours out, thin ones between the communes of a région."""
    if level != "commune":
        return 0.6
    if scope in {"metropole", "france"}:
        return 0.0
    return 0.15 if scope.startswith("region:") else 0.3


def choropleth(
    level: str,
    scope: str,
    codes: pd.Series,
    values: pd.Series,
    classification: Classification,
    colours: list[str],
    hover_label: str,
    unit: str,
    decimals: int,
    ranks: pd.Series | None = None,
    selected: str | None = None,
    height: int = 620,
    width_px: int = 660,
    missing_label: str = "Donnée manquante",
    points: go.Scattermap | None = None,
    rank_total: int | None = None,
    labels: pd.Series | None = None,
    highlight: list[str] | None = None,
) -> go.Figure:
    """Choropleth whose GeoJSON is referenced by URL, never embedded in the figure.

    ``ranks`` are texts ("3e / 96"), or integers when ``rank_total`` is given: then only
    the integers travel to the browser and the template writes "Xe / total" (the first
    units get their own one-unit trace, for "1er"). ``highlight`` codes (the selected
    territory's comparables) get an orange outline.
    """
    geo = geography()
    url = static_url(write_geojson(geo, level, scope))
    codes = codes.reset_index(drop=True)
    values = values.reset_index(drop=True).round(decimals)
    present = values.notna().to_numpy()
    unit_text = f" {inert(unit)}" if unit else ""
    total = format_number(rank_total) if rank_total is not None else ""
    rank_part = ""
    if ranks is not None:
        rank_part = "<br>Rang : %{customdata}" + (f"e / {total}" if rank_total is not None else "")
    template = (
        "<b>%{properties.nom}</b><br>"
        + inert(hover_label)
        + " : %{z:,."
        + str(decimals)
        + "f}"
        + unit_text
        + rank_part
        + "<extra></extra>"
    )
    if labels is not None:  # a typology: the class name, no rank
        ranks = None
        template = (
            "<b>%{properties.nom}</b><br>" + inert(hover_label) + " : %{customdata}<extra></extra>"
        )
    fig = go.Figure()
    if classification.k:
        scale, zmin, zmax = stepped_scale(classification, colours)
        trace = go.Choroplethmap(
            geojson=url,
            featureidkey="id",
            locations=codes[present].to_numpy(),
            z=values[present].to_numpy(),
            zmin=zmin,
            zmax=zmax,
            colorscale=scale,
            showscale=False,
            marker_line_width=border_width(level, scope),
            marker_line_color="#ffffff",
            hovertemplate=template,
        )
        if labels is not None:
            trace.customdata = labels.reset_index(drop=True)[present].map(inert).to_numpy()
        if ranks is not None:
            shown_ranks = ranks.reset_index(drop=True)
            first = (shown_ranks == 1).to_numpy() & present if rank_total is not None else None
            if first is not None:
                shown_ranks = shown_ranks.fillna(0).astype(int)
                trace.update(
                    locations=codes[present & ~first].to_numpy(),
                    z=values[present & ~first].to_numpy(),
                )
                trace.customdata = shown_ranks[present & ~first].to_numpy()
            else:
                trace.customdata = shown_ranks[present].to_numpy()
        fig.add_trace(trace)
        if ranks is not None and first is not None and first.any():
            fig.add_trace(
                go.Choroplethmap(
                    geojson=url,
                    featureidkey="id",
                    locations=codes[first].to_numpy(),
                    z=values[first].to_numpy(),
                    zmin=zmin,
                    zmax=zmax,
                    colorscale=scale,
                    showscale=False,
                    marker_line_width=trace.marker.line.width,
                    marker_line_color="#ffffff",
                    hovertemplate=template.replace("%{customdata}e", "1er"),
                )
            )
    if not present.all():
        fig.add_trace(
            go.Choroplethmap(
                geojson=url,
                featureidkey="id",
                locations=codes[~present].to_numpy(),
                z=np.zeros(int((~present).sum())),
                colorscale=[[0, MISSING_COLOUR], [1, MISSING_COLOUR]],
                showscale=False,
                marker_line_width=border_width(level, scope),
                marker_line_color="#ffffff",
                hovertemplate="<b>%{properties.nom}</b><br>"
                + inert(missing_label)
                + "<extra></extra>",
            )
        )
    if points is not None:
        fig.add_trace(points)
    _add_outline(fig, level, scope, selected, highlight)
    if highlight:  # frame the selection and its highlighted peers together
        box = bounds(geo, level, scope, [*highlight, selected])
        centre, zoom = fit_view(box, width_px, height)
    else:
        box = bounds(geo, level, scope, selected)
        centre, zoom = fit_view(around(box) if selected is not None else box, width_px, height)
    fig.update_layout(
        map={"style": "white-bg", "center": centre, "zoom": zoom},
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        height=height,
        separators=", ",
        uirevision=f"{level}-{scope}-{selected}-{bool(highlight)}",
        clickmode="event+select",
        hoverlabel={"font_size": 26 if projection_mode() else 15},
    )
    return fig


HIGHLIGHT_COLOUR = "#e65100"


def _add_outline(
    fig: go.Figure, level: str, scope: str, selected: str | None, highlight: list[str] | None = None
) -> None:
    """Région borders drawn from our own data (no basemap needed), highlights, the selection;
    on « France entière », the overseas insets' frames and names."""
    geo = geography()
    layers = []
    moved = scope == "france"  # outlines in the insets too
    if level in {"commune", "epci", "perimetre"}:  # the départements, to tell where one is
        departement_url = static_url(write_geojson(geo, "departement", "france", insets=moved))
        layers.append(
            {"source": departement_url, "type": "line", "color": "#777777", "line": {"width": 0.7}}
        )
    if level != "region":
        region_url = static_url(write_geojson(geo, "region", "france", insets=moved))
        layers.append(
            {"source": region_url, "type": "line", "color": "#222222", "line": {"width": 1.4}}
        )
    if moved:
        layers.append(
            {
                "source": insets.frames_geojson(),
                "type": "line",
                "color": "#555555",
                "line": {"width": 1},
            }
        )
        names, lons, lats = zip(*insets.label_points(), strict=True)
        fig.add_trace(
            go.Scattermap(
                lon=lons, lat=lats, text=names, mode="text", hoverinfo="skip", showlegend=False,
                textfont={"size": 18 if projection_mode() else 8 if on_phone() else 12,
                          "color": "#333333"},
            )
        )  # fmt: skip
    if highlight:
        shapes = display_shapes(geo, level, scope, highlight)
        if len(shapes):
            features = {"type": "FeatureCollection", "features": [
                {"type": "Feature", "properties": {}, "geometry": shape.__geo_interface__}
                for shape in shapes
            ]}  # fmt: skip
            layers.append(
                {
                    "source": features,
                    "type": "line",
                    "color": HIGHLIGHT_COLOUR,
                    "line": {"width": 3},
                }
            )
    if selected is not None:
        shape = display_shapes(geo, level, scope, selected)
        if len(shape):
            layers.append(
                {
                    "source": shape[0].__geo_interface__,
                    "type": "line",
                    "color": "#00b8d9",
                    "line": {"width": 4},
                }
            )
    fig.update_layout(map_layers=layers)


def legend_html(
    classification: Classification,
    colours: list[str],
    unit: str,
    fmt,
    missing: int = 0,
    names: list[str] | None = None,
    missing_label: str = "Donnée manquante",
) -> str:
    """Legend with each class's range and count (and name, if given), plus missing values."""
    rows = []
    names = names or [""] * classification.k
    for (low, high), count, colour, name in zip(
        classification.ranges(), classification.counts, colours, names, strict=False
    ):
        title = f"<b>{inert(name)}</b> " if name else ""
        span = (
            inert(fmt(high)) if fmt(low) == fmt(high) else f"{inert(fmt(low))} – {inert(fmt(high))}"
        )
        rows.append(
            f"<tr><td><span class='dt-swatch' style='background:{colour}'></span></td>"
            f"<td>{title}{span} {inert(unit)}</td>"
            f"<td class='dt-n' style='text-align:right'>{format_number(count)}</td></tr>"
        )
    missing = missing or int((classification.classes < 0).sum())
    if missing:
        rows.append(
            f"<tr><td><span class='dt-swatch' style='background:{MISSING_COLOUR}'></span></td>"
            f"<td>{inert(missing_label)}</td>"
            f"<td class='dt-n' style='text-align:right'>{format_number(missing)}</td></tr>"
        )
    header = "<tr><td></td><td><b>Classe</b></td><td><b>Territoires</b></td></tr>"
    return f"<div class='dt-legend'><table>{header}{''.join(rows)}</table></div>"


def selected_code(event) -> str | None:
    """Code of the clicked territory in a ``st.plotly_chart`` selection event."""
    try:
        points = event.selection.points
    except AttributeError:
        return None
    for point in points:
        code = point.get("location") or point.get("properties", {}).get("code")
        if code:
            return str(code)
    return None


def show_map(fig: go.Figure, key: str):
    """Render a map; clicking a territory returns its selection event."""
    return st.plotly_chart(
        fig,
        key=key,
        on_select="rerun",
        selection_mode="points",
        config={"displaylogo": False, "scrollZoom": True},
        width="stretch",
    )


HEAVY_SCOPES = {
    "metropole": "Toutes les communes de France métropolitaine (carte lourde, ~15 s)",
    "france": "Toutes les communes de France, outre-mer compris (carte lourde, ~15 s)",
}


def home_region(level: str, code: str | None) -> str:
    """The région of a selected territory (the first région when there is none)."""
    geo = geography()
    if code:
        if level == "region":
            return code
        parents = (
            geo.parents(level, code) if code in set(geo.table(level, "france")["code"]) else {}
        )
        if "region" in parents:
            return parents["region"][0]
    return str(geo.table("region", "metropole").sort_values("nom")["code"].iloc[0])


def map_scope_picker(level: str, selected: str | None, key: str = "perimetre_etude") -> str:
    """Scope of the map; at commune level the national map is an explicit, announced choice.

    Switching to communes from a national scope opens the région of the selected territory:
    ~35 000 communes take about 15 s to draw, so they are only drawn when asked for.
    """
    geo = geography()
    previous_level = st.session_state.get(f"{key}-niveau")
    st.session_state[f"{key}-niveau"] = level
    regions = geo.table("region", "france").sort_values("nom")
    departements = geo.table("departement", "france").sort_values("code")
    national = HEAVY_SCOPES if level == "commune" else SCOPE_LABELS
    labels = {} if level == "commune" else dict(national)
    if level != "region":
        labels |= {f"region:{r.code}": f"Région : {r.nom}" for r in regions.itertuples()}
    if level in {"commune", "epci", "perimetre"}:
        labels |= {
            f"departement:{r.code}": f"Département : {r.nom} ({r.code})"
            for r in departements.itertuples()
        }
    if level == "commune":
        labels |= national  # last: the heavy maps come after every light one
    options = list(labels)
    home = home_region(previous_level or level, selected)  # the selection is of the last level
    default = f"region:{home}" if level == "commune" else "metropole"
    current = st.session_state.get(key)
    if current not in options:  # first drawing, or a level without that scope
        st.session_state[key] = query_value("perimetre", default, options)
    elif level == "commune" and previous_level not in (None, "commune") and current in national:
        st.session_state[key] = default  # a national scope carried over from another level
    return st.selectbox(
        "Périmètre d'étude", options, format_func=labels.get, key=key, help=help_text("perimetre")
    )
