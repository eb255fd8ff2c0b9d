"""Indicators: the catalogue, the store that aggregates them to every level, a user's tables (readers, numbers) and their join on codes.

Names are loaded on first use (:mod:`lazy_loader`), so importing the package costs nothing
and the packages can use each other without an import cycle.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submod_attrs={
        "catalogue": [],
        "csv_reader": [],
        "join": [],
        "numeric": [],
        "sheet_reader": [],
        "store": [],
        "table_base": [],
    },
)
