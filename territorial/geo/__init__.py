"""Geography: the communes and their parents (EPCI, départements, régions), codes, search, map data, and the build of ``data/geo``."""

import lazy_loader as lazy

_EXPORTS = {
    "codes": [
        "clean_cell",
        "clean_series",
        "code_positions",
        "normalise_commune_code",
        "normalise_departement_code",
        "normalise_region_code",
        "normalise_series",
        "normalise_siren",
    ],
    "geography": [
        "GEO_DIR",
        "Geography",
        "LEVELS",
        "LEVEL_LABELS",
        "Resolution",
        "load_geography",
        "parse_scope",
        "resolution_label",
    ],
    "insets": ["BOXES", "DROM", "frames_geojson", "label_points", "move_geometries"],
    "mapdata": [
        "GEOJSON_DECIMALS",
        "STATIC_DIR",
        "bounds",
        "display_shapes",
        "fit_view",
        "geojson_bytes",
        "uses_insets",
        "write_geojson",
    ],
    "postcodes": [
        "POSTCODE_FILE",
        "build_postcodes",
        "clean_postcode",
        "load_postcode_table",
        "lookup_postcodes",
        "postcode_table",
    ],
    "search": ["SearchIndex", "fold"],
}
__getattr__, __dir__, __all__ = lazy.attach(__name__, submod_attrs=_EXPORTS)
