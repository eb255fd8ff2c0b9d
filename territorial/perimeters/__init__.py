"""Perimeters (Projets de territoire, CRTE, a user's own sets): the model and its dissolve, CRTE layouts, user files, the validation report.

Names are loaded on first use (:mod:`lazy_loader`), so importing the package costs nothing
and the packages can use each other without an import cycle.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submod_attrs={
        "crte": [],
        "crte_layout": [],
        "model": [],
        "report": [],
        "userfiles": [],
    },
)
