"""``python -m territorial fragilites``: the command line over :func:`territorial.analysis.fragility.fragility`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from territorial.analysis.fragility import _json_value, fragility
from territorial.analysis.fragility_text import _REFERENCE_LABELS
from territorial.analysis.presets import FragilityError
from territorial.geo.geography import LEVEL_LABELS
from territorial.indicators.catalogue import Catalogue, load_catalogue  # noqa: F401 (doctests)
from territorial.text.formatting import format_number
from territorial.text.jsonout import json_text

if TYPE_CHECKING:
    from territorial.analysis.fragility import FragilityResult

__all__ = ["cli_fragility"]


# ---------------------------------------------------------------------------- CLI
def _split(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def _cli_weights(text: str | None) -> list[float] | None:
    parts = _split(text)
    if parts is None:
        return None
    try:
        return [float(p) for p in parts]
    except ValueError:
        raise FragilityError(
            f"Poids illisibles : « {text} » (nombres séparés par des virgules, ex. 1,2,1)."
        ) from None


def _text_lines(result: FragilityResult, limit: int) -> list[str]:
    lines = [
        f"Fragilités territoriales prioritaires — {LEVEL_LABELS[result.level]}, "
        f"{result.scope_label or result.scope} (référence : {_REFERENCE_LABELS[result.reference]})",
        "",
    ]
    for code, row in result.table.head(max(limit, 0)).iterrows():
        score = format_number(_json_value(row["score"]), 1)
        detail = row["priorites_texte"] or row["sans_score_raison"]
        lines.append(
            f"{row['rang_texte']:>12}  {str(row['nom'])[:40]:<40} {code:<10} "
            f"{score:>5}  {row['classe_libelle']:<18} {detail}"
        )
    if len(result.table) > limit:
        lines.append(
            f"… {len(result.table) - limit} autres territoires (--limit pour en voir plus)."
        )
    return [*lines, "", result.method_note]


def _cli_store():
    """The shipped indicators plus the official ones in the download cache, as in the app."""
    from territorial.geo.geography import load_geography
    from territorial.indicators.store import IndicatorStore
    from territorial.sources.official import register_official

    store = IndicatorStore(load_geography())
    register_official(store)
    return store


def cli_fragility(
    level: str,
    scope: str,
    indicators: str | None,
    weights: str | None,
    preset: str | None,
    reference: str,
    as_json: bool,
    limit: int = 20,
) -> int:
    """``python -m territorial fragility``: print the result; 2 on a bad request.

    >>> cli_fragility("region", "metropole", "population", None, None, "france", True)
    2
    """
    try:
        result = fragility(
            _cli_store(),
            level,
            scope or "metropole",
            indicators=_split(indicators),
            weights=_cli_weights(weights),
            reference=reference,
            preset=preset,
        )
    except ValueError as error:  # FragilityError and parse_scope's French messages
        print(str(error), file=sys.stderr)
        return 2
    if as_json:
        print(json_text(result.to_dict()))
    else:
        print("\n".join(_text_lines(result, limit)))
    return 0
