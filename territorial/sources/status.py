"""What the cache holds for each source: its status file, its cached files, its parsed tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from territorial.sources.cache import _current_path, _previous_path, _status_path, cache_dir
from territorial.sources.manifest import _spec, load_manifest
from territorial.sources.parse import _parse_files
from territorial.sources.parsing import ParsedSource

__all__ = ["cached_files", "load_cached", "status", "statuses"]


def status(source_id: str) -> dict[str, Any] | None:
    """Status of the last fetch attempt of a source.

    Parameters
    ----------
    source_id : str
        Identifier of the source.

    Returns
    -------
    dict or None
        Content of ``<id>.status.json`` (keys include ``ok``, ``error``,
        ``attempted_at``, ``fetched_at``, ``url``, ``sha256``, ``size``,
        ``rows``, ``vintage``, ``resources``), or None if the source was never
        fetched or the file is unreadable.
    """
    path = _status_path(cache_dir(), source_id)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def statuses() -> dict[str, dict[str, Any] | None]:
    """Status of every source of the manifest.

    Returns
    -------
    dict
        Source id to :func:`status` result.
    """
    return {source_id: status(source_id) for source_id in load_manifest()}


def cached_files(source_id: str, *, previous: bool = False) -> dict[str, Path] | None:
    """Files of a source currently in the cache, by resource.

    Parameters
    ----------
    source_id : str
        Identifier of the source.
    previous : bool, default False
        Return the version replaced by the last update (``*.previous.<ext>``)
        instead; a resource without a previous copy falls back to its current
        file.

    Returns
    -------
    dict of str to Path or None
        Resource name to file; None when a required file is missing (with
        ``previous``, also when no resource has a previous copy).

    Raises
    ------
    FetchError
        If the source is unknown.

    Examples
    --------
    >>> cached_files("density") is None or "grille" in cached_files("density")
    True
    """
    spec = _spec(source_id)
    directory = cache_dir()
    files: dict[str, Path] = {}
    for resource, details in spec["resource_details"].items():
        current = _current_path(directory, spec, resource)
        older = _previous_path(directory, spec, resource)
        path = older if previous and older.is_file() else current
        if path.is_file():
            files[resource] = path
        elif details.get("required", True):
            return None
    if previous and not any(".previous." in p.name for p in files.values()):
        return None
    return files or None


def load_cached(source_id: str, *, previous: bool = False) -> ParsedSource | None:
    """Parse the version of a source currently in the cache.

    Parameters
    ----------
    source_id : str
        Identifier of the source.
    previous : bool, default False
        Parse the version replaced by the last update instead (see
        :func:`cached_files`), to recover when the current file became
        unreadable.

    Returns
    -------
    ParsedSource or None
        None when a required file of the source is not in the cache (or, with
        ``previous``, when no previous version is kept).

    Raises
    ------
    FetchError
        If the source is unknown or the cached file cannot be read any more.
    """
    spec = _spec(source_id)
    files = cached_files(source_id, previous=previous)
    if not files:
        return None
    return _parse_files(spec, files)
