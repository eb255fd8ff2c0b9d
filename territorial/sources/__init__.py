"""Official open-data sources: the manifest, download and cache, one parser per source, their indicators, provenance and raw files.

Names are loaded on first use (:mod:`lazy_loader`), so importing the package costs nothing
and the packages can use each other without an import cycle.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submod_attrs={
        "cache": [],
        "download": [],
        "fetch": [],
        "manifest": [],
        "official": [],
        "official_build": [],
        "official_catalogue": [],
        "official_status": [],
        "parse": [],
        "parsing": [],
        "provenance": [],
        "raw": [],
        "status": [],
    },
)
