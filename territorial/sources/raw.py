"""The official raw files shipped in ``data/raw/``, checked against their sha256.

Every build step that reads a raw file goes through :func:`raw_path`, which refuses a file
whose content differs from the one recorded in ``data/raw/manifest.json`` (producer,
vintage, licence, where the copy came from, sha256).

Examples
--------
>>> raw_path("anct_qpv2024_communes.csv").name
'anct_qpv2024_communes.csv'
>>> raw_manifest()["anct_qpv2024_communes.csv"]["producteur"]
'Agence nationale de la cohésion des territoires (ANCT)'
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

from territorial.paths import DATA_DIR

__all__ = ["RAW_DIR", "RawDataError", "raw_manifest", "raw_path"]

RAW_DIR = DATA_DIR / "raw"


class RawDataError(RuntimeError):
    """A shipped raw file is missing or differs from its recorded sha256 (French message)."""


@functools.cache
def raw_manifest() -> dict[str, dict]:
    """Per file name: producer, dataset, vintage, licence, page, copy origin, sha256."""
    payload = json.loads((RAW_DIR / "manifest.json").read_text(encoding="utf-8"))
    return payload["fichiers"]


def raw_path(name: str) -> Path:
    """Path of a shipped raw file, after checking its sha256 against the manifest.

    Raises
    ------
    RawDataError
        If the file is not in the manifest, is missing, or its content changed.
    """
    entry = raw_manifest().get(name)
    if entry is None:
        raise RawDataError(f"« {name} » n'est pas dans data/raw/manifest.json")
    path = RAW_DIR / name
    if not path.exists():
        raise RawDataError(f"fichier brut absent : data/raw/{name}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != entry["sha256"]:
        raise RawDataError(
            f"data/raw/{name} ne correspond pas à son empreinte sha256 enregistrée "
            f"({digest[:12]}… au lieu de {entry['sha256'][:12]}…)"
        )
    return path
