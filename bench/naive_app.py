"""Naive baseline for ``bench/run.py``: the textbook way to draw a choropleth in Streamlit.

On every rerun it rebuilds a ``plotly.express.choropleth_map`` whose figure EMBEDS the whole
GeoJSON of the level (``geo.table(level, scope).__geo_interface__``, every property and
coordinate), so each indicator switch re-sends all the geometry to the browser.

It shares the app's data layer (cached geography and indicator values, ``ui.state``) and its
indicator picker (same label, same key ``pick-indicateur``, same ``?indicateur=``), so that
the benchmark compares the way the map is built and sent, not the data loading. It reads
``?niveau=`` and ``?perimetre=`` from the URL (default: départements of metropolitan France).

Run it by hand with ``python -m streamlit run bench/naive_app.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # streamlit puts bench/ on sys.path, not the repository
    sys.path.insert(0, str(ROOT))

import plotly.express as px  # noqa: E402
import streamlit as st  # noqa: E402

from territorial.geo.mapdata import bounds, fit_view  # noqa: E402
from ui.state import geography, store, values  # noqa: E402
from ui.widgets import indicator_picker  # noqa: E402

LEVELS = ("region", "departement", "perimetre", "epci", "commune")

st.set_page_config(page_title="Baseline naïve (benchmark)", layout="wide")
st.title("Baseline naïve : GeoJSON intégré à la figure")

geo = geography()
level = st.query_params.get("niveau", "departement")
if level not in LEVELS:
    level = "departement"
scope = st.query_params.get("perimetre", "region:84" if level == "commune" else "metropole")
indicator = indicator_picker(store().catalogue)

# Four communes have no geometry: a null "geometry" makes plotly.js draw NO polygon at all,
# so even the naive way must drop them (the app's static GeoJSON leaves them out too).
table = geo.table(level, scope).dropna(subset=["geometry"])
frame = table.drop(columns="geometry").reset_index(drop=True)
frame["valeur"] = values(level, scope)[indicator.id].reindex(frame["code"]).to_numpy()
centre, zoom = fit_view(bounds(geo, level, scope), 660, 620)
fig = px.choropleth_map(
    frame,
    geojson=table.__geo_interface__,  # the whole level, rebuilt and re-sent on every rerun
    locations="code",
    featureidkey="properties.code",
    color="valeur",
    hover_name="nom",
    labels={"valeur": indicator.label},
    color_continuous_scale="YlOrRd",
    map_style="white-bg",  # no basemap tiles, like the app
    center=centre,
    zoom=zoom,
    height=620,
)
fig.update_layout(margin={"l": 0, "r": 0, "t": 0, "b": 0})
st.plotly_chart(fig, width="stretch")
