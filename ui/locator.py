"""The fiche's locator map: the territory among its neighbours of the same level."""

from __future__ import annotations

import pandas as pd

from territorial.analysis.classify import classify_categories
from ui.fastmap import show_fast_map
from ui.maps import view_box
from ui.state import geography

__all__ = ["locator_caption", "locator_scope", "show_locator"]

LOCATOR_COLOUR = "#1f4e79"  # the app's primary colour


def locator_scope(level: str, code: str) -> str:
    """The map around a territory: its département for a commune, its région for an EPCI
    or a projet de territoire, France for a département or a région.

    >>> locator_scope("region", "84")
    'metropole'
    """
    geo = geography()
    unit = geo.indexed(level).loc[code]
    if level == "commune":
        return f"departement:{unit['departement']}"
    if level in {"epci", "perimetre"}:
        region = geo.parents(level, code).get("region")
        if region:
            return f"region:{region[0]}"
    overseas = bool(unit.get("outre_mer", False))
    return "france" if overseas else "metropole"


_AMONG = {
    "commune": "les communes de son département",
    "epci": "les EPCI de sa région",
    "perimetre": "les projets de territoire de sa région",
    "departement": "les départements",
    "region": "les régions",
}


def locator_caption(level: str) -> str:
    """What the locator map shows, in French.

    >>> locator_caption("commune")
    'Situation : le territoire (en bleu) parmi les communes de son département ; un clic sur un autre ouvre sa fiche.'
    """
    return (
        f"Situation : le territoire (en bleu) parmi {_AMONG[level]} ; "
        "un clic sur un autre ouvre sa fiche."
    )


def show_locator(level: str, code: str, height: int = 320) -> str | None:
    """Draw the locator map; return the code of another territory clicked on it."""
    scope = locator_scope(level, code)
    codes = geography().table(level, scope)["code"].reset_index(drop=True)
    marked = pd.Series([1.0 if c == code else None for c in codes], dtype=float)
    clicked = show_fast_map(
        level,
        scope,
        codes,
        marked,
        classify_categories(marked, 1),
        [LOCATOR_COLOUR],
        "Territoire",
        "",
        0,
        key=f"situation-{level}-{scope}",
        view=view_box(level, scope),  # the whole scope, not a zoom on the territory
        selected=code,
        categories=["celui de cette fiche"],
        height=height,
        missing_label="Cliquer pour ouvrir sa fiche",
    )
    return clicked if clicked != code else None
