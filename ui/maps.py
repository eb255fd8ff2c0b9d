"""What every choropleth shares: palettes, the legend, the view a map opens on, the
scope picker of the Carte (the maps themselves are drawn by :mod:`ui.fastmap`)."""

from __future__ import annotations

import streamlit as st

from territorial.analysis.classify import Classification
from territorial.geo.mapdata import around, bounds
from territorial.text.formatting import format_number
from territorial.text.glossary import help_text
from territorial.text.safetext import inert
from ui.common import query_value
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


def view_box(
    level: str, scope: str, selected: str | None = None, highlight: list[str] | None = None
) -> tuple[float, ...]:
    """The box a map opens on: the scope, a selection with ~120 km around it, or the
    selection and its highlighted peers together."""
    geo = geography()
    if highlight:
        return bounds(geo, level, scope, [*highlight, selected])
    box = bounds(geo, level, scope, selected)
    return around(box) if selected is not None else box


HIGHLIGHT_COLOUR = "#e65100"
SELECTED_COLOUR = "#00b8d9"


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


HEAVY_DOWNLOAD = "environ 2 Mo"  # the national commune map file, gzipped (ui/fastmap.py)
HEAVY_SCOPES = {
    "metropole": f"Toutes les communes de France métropolitaine (carte lourde, {HEAVY_DOWNLOAD})",
    "france": f"Toutes les communes de France, outre-mer compris (carte lourde, {HEAVY_DOWNLOAD})",
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
    ~35 000 communes weigh about 2 MB to download the first time, so they are only drawn when
    asked for.
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
