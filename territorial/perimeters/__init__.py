"""Perimeters (Projets de territoire, CRTE, a user's own sets): the model and its dissolve, CRTE layouts, user files, the validation report."""

import lazy_loader as lazy

_EXPORTS = {
    "crte": [
        "CRTE_RAW_FILE",
        "SHIPPED_CRTE_NAME",
        "active_set_label",
        "build_former_epcis",
        "build_shipped_crte",
        "load_shipped_crte",
    ],
    "crte_layout": ["CRTE_LAYOUTS", "CrteLayout", "detect_crte_layout", "load_crte"],
    "model": [
        "CRTE_SOURCE",
        "DOUBLE_COUNT_RULE",
        "PerimeterSet",
        "REFERENCE_COUNTS",
        "dissolve_perimeters",
    ],
    "report": ["ValidationReport"],
    "userfiles": ["load_user_perimeters", "slugify"],
}
__getattr__, __dir__, __all__ = lazy.attach(__name__, submod_attrs=_EXPORTS)
