"""The cache folder of the official sources: where each file, previous version and status file lives."""

from __future__ import annotations

import json
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from territorial.paths import REPO_ROOT
from territorial.sources.manifest import CACHE_ENV, FILE_MODE

__all__ = ["cache_dir"]


def cache_dir() -> Path:
    """Directory of the cached official files.

    Returns
    -------
    Path
        ``$TERRITORIAL_CACHE_DIR`` when set, else ``<repo>/data/cache/official``.
        The directory is not created here.
    """
    override = os.environ.get(CACHE_ENV)
    return Path(override).expanduser() if override else REPO_ROOT / "data" / "cache" / "official"


def _cache_stem(spec: Mapping[str, Any], resource: str) -> str:
    if len(spec["resources"]) == 1:
        return spec["id"]
    return f"{spec['id']}.{resource}"


def _resource_kind(spec: Mapping[str, Any], resource: str) -> str:
    return spec["resource_details"][resource].get("kind", spec["kind"])


def _current_path(directory: Path, spec: Mapping[str, Any], resource: str) -> Path:
    return directory / f"{_cache_stem(spec, resource)}.{_resource_kind(spec, resource)}"


def _previous_path(directory: Path, spec: Mapping[str, Any], resource: str) -> Path:
    stem = _cache_stem(spec, resource)
    return directory / f"{stem}.previous.{_resource_kind(spec, resource)}"


def _status_path(directory: Path, source_id: str) -> Path:
    return directory / f"{source_id}.status.json"


def _mirror_name(spec: Mapping[str, Any], resource: str) -> str:
    details = spec["resource_details"][resource]
    if details.get("mirror_name"):
        return details["mirror_name"]
    path = urllib.parse.urlparse(spec["resources"][resource]).path
    return path.rstrip("/").rsplit("/", 1)[-1]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write_json_atomic(path: Path, payload: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, ensure_ascii=False, indent=2)
            fh.write("\n")
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
