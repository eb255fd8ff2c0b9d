"""Normalisation of French territorial codes as users type or export them.

Examples
--------
>>> normalise_commune_code("1001")
'01001'
>>> normalise_commune_code('="2a004"')
'2A004'
>>> normalise_departement_code("1")
'01'
>>> normalise_siren("200 046 977")
'200046977'
"""

from __future__ import annotations

import re

__all__ = [
    "normalise_commune_code",
    "normalise_departement_code",
    "normalise_region_code",
    "normalise_siren",
    "clean_cell",
]

_EXCEL_WRAPPED = re.compile(r'^="?(.*?)"?$')
_FLOAT_ARTIFACT = re.compile(r"^(\d+)\.0+$")


def clean_cell(value: object) -> str:
    """Strip spaces, Excel wrapping (``="01001"``) and float artefacts (``1001.0``)."""
    text = "" if value is None else str(value).strip().strip("\ufeff")
    match = _EXCEL_WRAPPED.match(text)
    if text.startswith("=") and match:
        text = match.group(1).strip()
    text = text.strip("'\"").strip()
    artefact = _FLOAT_ARTIFACT.match(text)
    return artefact.group(1) if artefact else text


def normalise_commune_code(value: object) -> str:
    """INSEE commune code on five characters, leading zero restored, Corsica upper-case.

    Returns the cleaned text unchanged when it cannot be a commune code.
    """
    text = clean_cell(value).upper().replace(" ", "")
    if text.isdigit() and len(text) == 4:
        return "0" + text
    return text


def normalise_departement_code(value: object) -> str:
    """Département code: ``1`` → ``01``, ``2a`` → ``2A``, overseas kept on three digits."""
    text = clean_cell(value).upper().replace(" ", "")
    if text.isdigit() and len(text) == 1:
        return "0" + text
    return text


def normalise_region_code(value: object) -> str:
    """Région code on two digits (``1`` → ``01``)."""
    text = clean_cell(value).replace(" ", "")
    return "0" + text if text.isdigit() and len(text) == 1 else text


def normalise_siren(value: object) -> str:
    """SIREN on nine digits, spaces removed."""
    text = clean_cell(value).replace(" ", "").replace("\u00a0", "")
    return text.zfill(9) if text.isdigit() and 7 <= len(text) < 9 else text
