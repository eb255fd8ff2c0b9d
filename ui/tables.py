"""Column formats of the sortable tables: numbers stay numbers, shown the French way.

A column stored as text sorts alphabetically ("1 000e" before "9e"); these columns keep the
numbers numeric so a click on the header sorts them by value. ``format="localized"`` writes
them with the visitor's browser language (« 1 234,5 » in a French browser): Streamlit has no
format string with a space as thousands separator and a decimal comma.
"""

from __future__ import annotations

import streamlit as st

from ui.common import projection_mode

# Projection mode's root font size over the normal one (ui.common): the grids' text and rows
# grow with it, so a column width given in pixels grows too, to show the same text.
PROJECTION_SCALE = 1.45


def _width(width):
    """A width in pixels, scaled in projection mode; ``"small"``, ``"large"``… as they are."""
    if isinstance(width, int) and projection_mode():
        return round(width * PROJECTION_SCALE)
    return width


def number_column(decimals: int | None = 0, width=None, help: str | None = None):
    """A numeric column shown with ``decimals`` decimals and thousands separators;
    ``decimals=None``: each number with its own decimals (rows of different indicators)."""
    step = None if decimals is None else 10.0**-decimals if decimals else 1
    return st.column_config.NumberColumn(
        format="localized", step=step, width=_width(width), help=help
    )


def rank_column(help: str | None = None, pinned: bool | None = None):
    """A rank (1 = first) as an integer, so that 9 sorts before 1 000."""
    return st.column_config.NumberColumn(
        format="localized", step=1, width=_width(80), help=help, pinned=pinned
    )


def text_column(width=None, help: str | None = None, pinned: bool | None = None):
    """A text column of a chosen width (pixels for the columns that must not be cut);
    ``pinned`` keeps it in view when the table scrolls sideways."""
    return st.column_config.TextColumn(width=_width(width), help=help, pinned=pinned)
