"""Analyses over the indicators: fragility priorities, catalysts (placement, densities, gaps), comparable territories (peers), the portrait in words, classification, comparison of régions."""

import lazy_loader as lazy

_EXPORTS = {
    "catalyst_density": ["catalyst_counts", "densities", "gaps", "nearest"],
    "catalyst_places": ["locate_points", "lookup_postcodes"],
    "catalysts": [
        "CatalystReport",
        "Catalysts",
        "KINDS",
        "PLACEMENTS",
        "load_catalysts",
        "match_kind",
    ],
    "classify": ["Classification", "METHODS", "classify_categories"],
    "compare": [
        "REFERENCES",
        "describe",
        "format_gap",
        "gap_unit",
        "is_additive",
        "reading",
        "reference_values",
        "region_comparison",
        "regions_side_by_side",
        "versus_france",
    ],
    "fragility": ["FragilityResult"],
    "peers": ["PeersError", "PeersResult", "find_peers"],
    "portrait": ["portrait", "rules_text"],
    "presets": [
        "CLASS_LABELS",
        "DEFAULT_MAX_MISSING",
        "FragilityError",
        "PRESETS",
        "Preset",
        "available_presets",
        "find_preset",
    ],
    "scoring": ["oriented_percentiles", "percentile_ranks"],
}
__getattr__, __dir__, __all__ = lazy.attach(__name__, submod_attrs=_EXPORTS)
