"""The manifest of the official sources (``data/sources/official.json``), its checks, and :class:`FetchError`."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from territorial.paths import REPO_ROOT

__all__ = ["FetchError", "LEVELS", "ProgressCallback", "ROW_LABELS", "load_manifest"]


MANIFEST_PATH = REPO_ROOT / "data" / "sources" / "official.json"

CACHE_ENV = "TERRITORIAL_CACHE_DIR"

MANIFEST_ENV = "TERRITORIAL_MANIFEST"

LEVELS = ("commune", "epci", "departement", "region")

CHUNK_SIZE = 64 * 1024

FILE_MODE = 0o644  # tempfile.mkstemp creates 0600 files; cached data is not secret

USER_AGENT = "dynamiques-territoriales/1.0 (tableau de bord territorial; python-urllib)"

DEFAULT_SECRET_MARKERS = ("s", "nd", "ns", "secret", "")

_REQUIRED_FIELDS = (
    "id",
    "label",
    "publisher",
    "page_url",
    "resources",
    "resource_details",
    "vintage",
    "licence",
    "kind",
    "levels",
    "method",
)

# French names of what a source's parsed rows count, level by level (status texts).
ROW_LABELS = {
    "commune": "communes",
    "epci": "EPCI",
    "departement": "départements",
    "region": "régions",
    "perimetre_rows": "lignes EPCI–CRTE",
    "groupements_rows": "lignes groupements",
}

ProgressCallback = Callable[[int, "int | None"], None]


class FetchError(RuntimeError):
    """A source could not be downloaded, validated or read.

    Parameters
    ----------
    message : str
        Full French message, naming the source and the problem.
    source_id : str, optional
        Identifier of the source in the manifest.
    kind : str, optional
        Machine-readable category: ``reseau``, ``http``, ``html``, ``zip``,
        ``colonne``, ``vide``, ``format``, ``local``, ``refus`` (address or
        redirect outside the allowed hosts), ``taille`` (over a size cap),
        ``manifeste``, ``source_inconnue`` or ``interne``.
    detail : str, optional
        The problem alone, without the source prefix.
    url : str, optional
        Address or path involved.
    http_status : int, optional
        HTTP status code when the server answered with an error.

    Attributes
    ----------
    message : str
        Same as ``str(error)``, ready to show to a user.
    """

    def __init__(
        self,
        message: str,
        *,
        source_id: str | None = None,
        kind: str = "interne",
        detail: str | None = None,
        url: str | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source_id = source_id
        self.kind = kind
        self.detail = detail if detail is not None else message
        self.url = url
        self.http_status = http_status


@dataclass
class _Ctx:
    """Builds French error messages for one source."""

    source_id: str
    label: str

    def error(
        self,
        kind: str,
        problem: str,
        *,
        url: str | None = None,
        http_status: int | None = None,
    ) -> FetchError:
        message = f"Source « {self.label} » ({self.source_id}) — {problem}"
        return FetchError(
            message,
            source_id=self.source_id,
            kind=kind,
            detail=problem,
            url=url,
            http_status=http_status,
        )


def load_manifest(path: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """Read the manifest of official sources.

    Parameters
    ----------
    path : str or Path, optional
        Manifest file. Defaults to the ``TERRITORIAL_MANIFEST`` environment
        variable when set, else ``data/sources/official.json``.

    Returns
    -------
    dict
        Source id to source entry, in manifest order.

    Raises
    ------
    FetchError
        If the file is missing, is not valid JSON or lacks a required field.
    """
    target = Path(path or os.environ.get(MANIFEST_ENV) or MANIFEST_PATH)
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FetchError(
            f"Manifeste des sources introuvable : {target}.", kind="manifeste", url=str(target)
        ) from None
    except (OSError, ValueError) as exc:
        raise FetchError(
            f"Manifeste des sources illisible ({target}) : {exc}.", kind="manifeste"
        ) from exc
    if not isinstance(data, dict):
        raise FetchError(f"Manifeste des sources mal formé : {target}.", kind="manifeste")
    for source_id, entry in data.items():
        missing = [name for name in _REQUIRED_FIELDS if name not in entry]
        if missing:
            raise FetchError(
                f"Manifeste des sources : l'entrée « {source_id} » n'a pas les champs "
                f"{', '.join(missing)}.",
                source_id=source_id,
                kind="manifeste",
            )
        unknown = set(entry["resources"]) ^ set(entry["resource_details"])
        if unknown:
            raise FetchError(
                f"Manifeste des sources : ressources incohérentes pour « {source_id} » "
                f"({', '.join(sorted(unknown))}).",
                source_id=source_id,
                kind="manifeste",
            )
    return data


def _spec(source_id: str, manifest: Mapping[str, Any] | None = None) -> dict[str, Any]:
    manifest = manifest if manifest is not None else load_manifest()
    if source_id not in manifest:
        known = ", ".join(manifest)
        raise FetchError(
            f"Source inconnue : « {source_id} ». Sources disponibles : {known}.",
            source_id=source_id,
            kind="source_inconnue",
        )
    return manifest[source_id]


def _ctx(spec: Mapping[str, Any]) -> _Ctx:
    return _Ctx(spec["id"], spec.get("short_label") or spec["label"])
