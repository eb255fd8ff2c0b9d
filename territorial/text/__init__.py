"""French text in one place: numbers, ranks, percentages, plurals, dates; inert user strings; JSON output."""

import lazy_loader as lazy

_EXPORTS = {
    "formatting": ["format_number", "format_percent", "format_rank"],
    "jsonout": ["clean", "json_text"],
    "safetext": ["inert"],
}
__getattr__, __dir__, __all__ = lazy.attach(__name__, submod_attrs=_EXPORTS)
