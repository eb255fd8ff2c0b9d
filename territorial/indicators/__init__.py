"""Indicators: the catalogue, the store that aggregates them to every level, a user's tables (readers, numbers) and their join on codes."""

import lazy_loader as lazy

_EXPORTS = {
    "catalogue": [
        "CATALOGUE_PATH",
        "Catalogue",
        "INDICATOR_DIR",
        "Indicator",
        "POLARITIES",
        "RULES",
        "aggregate_components",
        "indicator_values",
        "load_catalogue",
        "parent_mapping",
    ],
    "csv_reader": ["detect_separator"],
    "join": [
        "JoinReport",
        "JoinResult",
        "KeyGuess",
        "detect_key",
        "join_table",
        "to_user_indicators",
    ],
    "numeric": ["NumberReport", "looks_like_codes", "numeric_columns", "parse_numbers"],
    "sheet_reader": ["cell_to_str"],
    "store": ["AGGREGATION_LEVELS", "IndicatorStore", "OfficialIndicators", "UserIndicators"],
    "table_base": ["RawTable", "TableError", "check_xlsx_archive"],
}
__getattr__, __dir__, __all__ = lazy.attach(__name__, submod_attrs=_EXPORTS)
