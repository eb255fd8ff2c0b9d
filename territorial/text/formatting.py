"""French number formatting and ranks.

Examples
--------
>>> format_number(1234567.891, 1).replace("\u202f", " ")
'1 234 567,9'
>>> format_rank(1, 13)
'1er / 13'
>>> format_rank(13, 34746).replace("\u202f", " ")
'13e / 34 746'
"""

from __future__ import annotations

import math

__all__ = ["count_text", "format_bytes", "format_number", "format_percent", "format_rank"]


def format_number(value: float | None, decimals: int = 0) -> str:
    """``1234.5`` → ``"1 234,5"`` (narrow no-break space, decimal comma); missing → ``"–"``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",")


def count_text(n: int, singular: str, plural: str | None = None) -> str:
    """A count with its noun agreed (French: 0 and 1 take the singular); ``plural`` defaults
    to ``singular`` + « s ».

    >>> count_text(1, "territoire"), count_text(0, "valeur secrète", "valeurs secrètes")
    ('1 territoire', '0 valeur secrète')
    >>> count_text(1234, "ligne non rattachée", "lignes non rattachées").replace("\u202f", " ")
    '1 234 lignes non rattachées'
    """
    return f"{format_number(n)} {singular if n < 2 else (plural or singular + 's')}"


def format_rank(rank: int | None, total: int) -> str:
    """Rank written ``Xe / Y`` (``1er`` for the first)."""
    if rank is None:
        return "–"
    suffix = "er" if rank == 1 else "e"
    return f"{format_number(rank)}{suffix} / {format_number(total)}"


def format_percent(share: float | None) -> str:
    """A share between 0 and 1 written as a whole percentage: ``0.634`` → ``"63 %"``.

    >>> format_percent(0.634), format_percent(None)
    ('63\u202f%', '–')
    """
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "–"
    return f"{format_number(share * 100, 0)}\u202f%"


def format_bytes(size: float) -> str:
    """A file size in French units: ``"512 octets"``, ``"1,5 ko"``, ``"63,2 Mo"`` (base 1024).

    >>> format_bytes(512), format_bytes(1536), format_bytes(3 * 1024**3)
    ('512 octets', '1,5 ko', '3,0 Go')
    """
    for unit in ("octets", "ko", "Mo"):
        if size < 1024:
            return f"{format_number(size, 0 if unit == 'octets' else 1)} {unit}"
        size /= 1024
    return f"{format_number(size, 1)} Go"
