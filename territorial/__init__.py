"""Dynamiques territoriales: the pure-Python core (never imports streamlit).

Examples
--------
>>> from territorial import load_geography
>>> geo = load_geography()
>>> len(geo.table("region"))
13
"""

from territorial.geo.geography import (
    LEVEL_LABELS,
    LEVELS,
    Geography,
    Resolution,
    load_geography,
    parse_scope,
)
from territorial.geo.search import fold
from territorial.perimeters.model import REFERENCE_COUNTS, PerimeterSet, dissolve_perimeters

__all__ = [
    "LEVELS",
    "LEVEL_LABELS",
    "REFERENCE_COUNTS",
    "Geography",
    "PerimeterSet",
    "Resolution",
    "dissolve_perimeters",
    "fold",
    "load_geography",
    "parse_scope",
]
