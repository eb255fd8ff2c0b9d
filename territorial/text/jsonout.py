"""Valid JSON for every ``--json`` output: no NaN or Infinity, any file name.

:func:`json_text` is the one writer of the command line: non-finite numbers (an
overflowing sum, a missing value) become ``null``, strings holding undecodable bytes
(a non-UTF-8 file name, read by Python as surrogate escapes) get U+FFFD instead, and
``allow_nan=False`` guarantees the output is standard JSON.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["clean", "json_text"]


def _text(value: str) -> str:
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def clean(value: Any) -> Any:
    """``value`` with non-finite floats as None and every string valid UTF-8.

    Examples
    --------
    >>> clean({"x": float("inf"), "n": [1, float("nan")], "f": "a\\udcff"})
    {'x': None, 'n': [1, None], 'f': 'a�'}
    """
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, bool | type(None) | int):
        return value
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Mapping):
        return {_text(str(k)): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray):
        return [clean(v) for v in value]
    return _text(str(value))


def json_text(payload: Any, *, indent: int | None = 2) -> str:
    """Standard JSON text of ``payload`` (see :func:`clean`).

    Examples
    --------
    >>> json_text({"somme": float("inf")}, indent=None)
    '{"somme": null}'
    """
    return json.dumps(clean(payload), ensure_ascii=False, indent=indent, allow_nan=False)
