"""Exports that are safe to open in a spreadsheet.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"nom": ["=HYPERLINK(1)", "Lyon"], "valeur": [-3.5, 2]})
>>> print(to_csv_bytes(frame).decode("utf-8-sig").splitlines()[1])
'=HYPERLINK(1);-3,5
"""

from __future__ import annotations

import pandas as pd

__all__ = ["neutralise", "to_csv_bytes"]

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Prefix text cells that a spreadsheet would run as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(_DANGEROUS):
        return "'" + value
    return value


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV for French spreadsheets: ``;`` separator, decimal comma, UTF-8 with BOM.

    Text cells starting with ``=``, ``+``, ``-`` or ``@`` are neutralised; numbers are not.
    """
    safe = frame.copy()
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise)
    safe.columns = [neutralise(str(c)) for c in safe.columns]
    return safe.to_csv(index=False, sep=";", decimal=",").encode("utf-8-sig")
