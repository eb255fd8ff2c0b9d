"""Exports that are safe to open in a spreadsheet.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"nom": ["=HYPERLINK(1)", "Lyon"], "valeur": [-3.5, 2]})
>>> print(to_csv_bytes(frame).decode("utf-8-sig").splitlines()[1])
'=HYPERLINK(1);-3,5
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

__all__ = ["SOURCE_COLUMN", "attribution", "neutralise", "to_csv_bytes"]

SOURCE_COLUMN = "Sources (producteur, millésime, licence)"

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Prefix text cells that a spreadsheet would run as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(_DANGEROUS):
        return "'" + value
    return value


def attribution(indicators: Iterable) -> str:
    """Producer, vintage and licence of each indicator, once each, in order.

    >>> from territorial.indicators.catalogue import load_catalogue
    >>> attribution([load_catalogue()["taux_pauvrete_2021"]])
    'INSEE, Filosofi 2021 (base communale) — 2021 — Licence Ouverte 2.0'
    """
    texts = [f"{i.source} — {i.vintage} — {i.licence}" for i in indicators]
    return " ; ".join(dict.fromkeys(texts))


def to_csv_bytes(frame: pd.DataFrame, sources: Iterable = ()) -> bytes:
    """CSV for French spreadsheets: ``;`` separator, decimal comma, UTF-8 with BOM.

    Text cells starting with ``=``, ``+``, ``-`` or ``@`` are neutralised; numbers are not.
    ``sources`` (indicators) adds a column :data:`SOURCE_COLUMN` naming their producers,
    vintages and licences, so that the file carries its attribution.
    """
    safe = frame.copy()
    text = attribution(sources)
    if text:
        safe[SOURCE_COLUMN] = text
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise)
    safe.columns = [neutralise(str(c)) for c in safe.columns]
    return safe.to_csv(index=False, sep=";", decimal=",").encode("utf-8-sig")
