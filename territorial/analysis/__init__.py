"""Analyses over the indicators: fragility priorities, catalysts (placement, densities, gaps), classification, comparison of régions.

Names are loaded on first use (:mod:`lazy_loader`), so importing the package costs nothing
and the packages can use each other without an import cycle.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submod_attrs={
        "catalyst_density": [],
        "catalyst_places": [],
        "catalysts": [],
        "classify": [],
        "compare": [],
        "fragility": [],
        "presets": [],
        "scoring": [],
    },
)
