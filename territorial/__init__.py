"""Dynamiques territoriales: the pure-Python core (never imports streamlit).

Examples
--------
>>> from territorial import load_geography
>>> geo = load_geography()
>>> len(geo.table("region"))
13
"""

import lazy_loader as lazy

# Loaded on first use, so that ``import territorial.paths`` (or ``territorial.timeline``)
# does not pull in geopandas.
_EXPORTS = {
    "geo.geography": [
        "LEVELS",
        "LEVEL_LABELS",
        "Geography",
        "Resolution",
        "load_geography",
        "parse_scope",
    ],
    "geo.search": ["fold"],
    "perimeters.model": ["REFERENCE_COUNTS", "PerimeterSet", "dissolve_perimeters"],
}
__getattr__, __dir__, __all__ = lazy.attach(__name__, submod_attrs=_EXPORTS)
