"""Official open-data sources: the manifest, download and cache, one parser per source, their indicators, provenance and raw files."""

import lazy_loader as lazy

_EXPORTS = {
    "cache": ["cache_dir"],
    "download": [
        "DEFAULT_MAX_BYTES",
        "MAX_ARCHIVE_MEMBERS",
        "MAX_UNCOMPRESSED_BYTES",
        "ORIGIN_ENV",
        "Policy",
        "Refused",
        "admin_origin",
        "open_url",
        "origin_of",
        "policy_for",
        "refusal",
    ],
    "fetch": ["FetchResult"],
    "manifest": ["FetchError", "LEVELS", "ProgressCallback", "ROW_LABELS", "load_manifest"],
    "official": ["join_reports", "load_official_crte", "official_indicators", "register_official"],
    "official_build": ["build_official", "resolve_table"],
    "official_catalogue": [
        "ABSENT_FR",
        "DENSITY_CLASSES",
        "DENSITY_GROUPS",
        "INDICATOR_SOURCES",
        "SOURCE_IDS",
        "TABLE_PREFIX",
        "density_group",
        "indicators_for",
    ],
    "official_status": ["status_fr"],
    "parsing": ["ParsedSource"],
    "provenance": ["COLUMNS", "sources_table"],
    "raw": ["RAW_DIR", "RawDataError", "raw_manifest", "raw_path"],
    "status": ["cached_files", "load_cached", "statuses"],
}
__getattr__, __dir__, __all__ = lazy.attach(__name__, submod_attrs=_EXPORTS)
