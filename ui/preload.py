"""Start fetching plotly.js in the browser while the server runs the first script run.

Streamlit loads its plotly.js chunk (~4.7 MB) only when a chart element arrives, that is
after the script computed the map: on a first visit the browser then waits for the chunk,
then parses it, then draws. A ``<link rel="modulepreload">`` sent as the script run's very
first element makes the browser fetch and compile the chunk meanwhile (it is then taken
from the module map, and from the browser's cache on the next visits). The element is
hidden, so the page looks the same.
"""

from __future__ import annotations

import functools
from pathlib import Path

import streamlit as st

__all__ = ["preload_plotly"]


@functools.cache
def _preload_html() -> str:
    """The hidden element's HTML, or "" when this Streamlit has no plotly chunk."""
    chunks = sorted(
        (Path(st.__file__).parent / "static" / "static" / "js").glob("PlotlyChart.*.js")
    )
    if not chunks:
        return ""
    hide = "[data-testid='stElementContainer']:has(link[rel='modulepreload']) {display: none;}"
    return f'<style>{hide}</style><link rel="modulepreload" href="./static/js/{chunks[0].name}">'


def preload_plotly() -> None:
    """Send the hidden ``modulepreload`` element (every run, so the page's layout never shifts)."""
    html = _preload_html()
    if html:
        st.markdown(html, unsafe_allow_html=True)
