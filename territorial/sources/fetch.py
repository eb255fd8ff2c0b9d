"""Download, validate and cache the official open-data sources of the dashboard.

The sources (ANCT CRTE perimeters, INSEE Filosofi, INSEE census, INSEE density
grid) are described in ``data/sources/official.json``, the only place where
their URLs live. This module is pure Python: it never imports streamlit, so the
command line and the tests can use it directly.

A fetch is transactional. Each resource is streamed with :mod:`urllib` into a
temporary file of the cache directory while its SHA-256 is computed, then
validated (not empty, not an HTML page, a sound zip archive when a zip or an
xlsx is expected, parser runs and finds the expected columns). Only then does
it replace the current cached file with :func:`os.replace`; the replaced file
is kept as ``*.previous.<ext>``. On any failure the cached data is left
untouched, the failure is recorded in the source's status file and a
:class:`FetchError` carrying a plain French message is raised.

Cache layout (directory :func:`cache_dir`)::

    <id>.<ext>                      single-resource source (filosofi, density)
    <id>.previous.<ext>             the version replaced by the last update
    <id>.<resource>.<ext>           multi-resource source (crte, census)
    <id>.<resource>.previous.<ext>
    <id>.status.json                last attempt and current data description

Parsed tables are indexed by ``code`` (string, leading zeros kept) and hold
float columns named by stable ids (``revenu_median``, ``population_rp``...)
that do not carry the year of the source.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from territorial.sources.cache import (
    _current_path,
    _now,
    _previous_path,
    _status_path,
    _write_json_atomic,
    cache_dir,
)
from territorial.sources.download import (
    admin_origin,
    policy_for,
)
from territorial.sources.manifest import FILE_MODE, FetchError, ProgressCallback, _ctx, _spec
from territorial.sources.parse import _combine, _parse_resource
from territorial.sources.parsing import ParsedSource, _Part
from territorial.sources.status import status
from territorial.sources.transfer import _resolve_locations, _retrieve, _Retrieved

__all__ = ["FetchResult", "fetch"]


"""Statistical levels a source may provide (perimeters are aggregated later)."""


@dataclass
class FetchResult:
    """Outcome of a successful :func:`fetch`.

    Attributes
    ----------
    source_id : str
        Identifier of the source.
    parsed : ParsedSource
        Tables of the version now in the cache.
    status : dict
        The status written to ``<id>.status.json``.
    resources : dict of str to dict
        Per resource: ``url`` (or path), ``file`` (cache file name),
        ``sha256``, ``size``, ``fetched_at`` and ``updated`` (False when an
        optional resource failed and the cached copy was kept).
    warnings : list of str
        Non-blocking anomalies, in French.
    ok : bool
        Always True (failures raise :class:`FetchError`).
    """

    source_id: str
    parsed: ParsedSource
    status: dict[str, Any]
    resources: dict[str, dict[str, Any]]
    warnings: list[str] = field(default_factory=list)
    ok: bool = True


_LOCKS: dict[str, threading.Lock] = {}

_LOCKS_GUARD = threading.Lock()


def _lock_for(source_id: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(source_id, threading.Lock())


def _keep_previous(current: Path, previous: Path) -> None:
    """Make ``previous`` a copy of ``current`` (hard link when possible)."""
    tmp = previous.with_name(f".{previous.name}.part")
    tmp.unlink(missing_ok=True)
    try:
        os.link(current, tmp)
    except OSError:
        shutil.copy2(current, tmp)
    os.replace(tmp, previous)


def _record_failure(
    spec: Mapping[str, Any],
    directory: Path,
    error: FetchError,
    attempted_at: str,
    origin: str | None,
) -> dict[str, Any]:
    previous = status(spec["id"]) or {}
    record = dict(previous)
    record.update(
        {
            "source_id": spec["id"],
            "label": spec["label"],
            "vintage": str(spec["vintage"]),
            "ok": False,
            "error": error.message,
            "error_kind": error.kind,
            "attempted_at": attempted_at,
            "attempt_origin": origin or "manifeste",
            "has_data": bool(previous.get("fetched_at")),
        }
    )
    record.setdefault("fetched_at", None)
    with contextlib.suppress(OSError):  # unusable cache: the FetchError says enough
        _write_json_atomic(_status_path(directory, spec["id"]), record)
    return record


def fetch(
    source_id: str,
    *,
    origin: str | None = None,
    progress: ProgressCallback | None = None,
    timeout: float = 60,
    on_resource: Callable[[str, str], None] | None = None,
) -> FetchResult:
    """Download, validate and cache one official source.

    Parameters
    ----------
    source_id : str
        ``crte``, ``filosofi``, ``census`` or ``density``.
    origin : str, optional
        An administrator's setting, never a visitor's text: None to use the
        administrator's :data:`territorial.sources.download.ORIGIN_ENV` when set, else
        the manifest URLs (https, the manifest's hosts only, redirects only to
        them); an ``http(s)://`` base URL of a mirror (each resource's file
        name, ``mirror_name`` in the manifest, is appended; a full file URL is
        accepted too; redirects only to the mirror's or the manifest's
        origins); or a local file or folder (for servers behind a proxy whose
        administrator downloaded the files by hand). Every resource is capped
        (``max_bytes`` in the manifest, else
        :data:`territorial.sources.download.DEFAULT_MAX_BYTES`), archives also once
        decompressed.
    progress : callable, optional
        Called as ``progress(bytes_done, total_or_None)`` while each resource
        is transferred (the count restarts for each resource).
    timeout : float, default 60
        Socket timeout in seconds.
    on_resource : callable, optional
        Called as ``on_resource(resource_name, url_or_path)`` before each
        resource is transferred.

    Returns
    -------
    FetchResult
        Tables of the new cached version, status and per-resource details.

    Raises
    ------
    FetchError
        On any failure (network, HTTP error, HTML page, truncated archive,
        missing column, empty file...). The cached data is then untouched and
        the failure is recorded in the status file.
    """
    spec = _spec(source_id)
    ctx = _ctx(spec)
    directory = cache_dir()
    origin = (origin or "").strip() or admin_origin()
    policy = policy_for(spec, origin)
    with _lock_for(source_id):
        attempted_at = _now()
        retrieved: dict[str, _Retrieved] = {}
        try:
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ctx.error(
                    "local", f"dossier de cache inaccessible : {directory} ({exc.strerror})."
                ) from None
            warnings: list[str] = []
            kept: list[str] = []
            parts: dict[str, _Part] = {}
            for location in _resolve_locations(spec, origin):
                if on_resource is not None:
                    on_resource(location.resource, location.value)
                try:
                    got = _retrieve(location, directory, spec, progress, timeout, policy)
                    retrieved[location.resource] = got
                    parts[location.resource] = _parse_resource(
                        spec, location.resource, got.tmp_path
                    )
                except FetchError as exc:
                    if location.required:
                        raise
                    stale = retrieved.pop(location.resource, None)
                    if stale is not None:
                        stale.tmp_path.unlink(missing_ok=True)
                    kept.append(location.resource)
                    cached = _current_path(directory, spec, location.resource)
                    note = "colonnes correspondantes laissées vides"
                    if cached.is_file():
                        try:
                            parts[location.resource] = _parse_resource(
                                spec, location.resource, cached
                            )
                            note = "la version en cache est conservée"
                        except FetchError:
                            note = "version en cache illisible, colonnes laissées vides"
                    warnings.append(
                        f"Ressource facultative « {location.resource} » non mise à jour "
                        f"({exc.detail.rstrip('. ')}) : {note}."
                    )
            ordered_parts = {name: parts[name] for name in spec["resources"] if name in parts}
            parsed = _combine(spec, ordered_parts)
            parsed.warnings[:0] = warnings

            previous_status = status(source_id) or {}
            fetched_at = _now()
            resources: dict[str, dict[str, Any]] = {}
            for name, got in retrieved.items():
                current = _current_path(directory, spec, name)
                if current.is_file():
                    _keep_previous(current, _previous_path(directory, spec, name))
                os.chmod(got.tmp_path, FILE_MODE)
                os.replace(got.tmp_path, current)
                resources[name] = {
                    "url": got.location,
                    "final_url": got.final_url,
                    "file": current.name,
                    "sha256": got.sha256,
                    "size": got.size,
                    "fetched_at": fetched_at,
                    "updated": True,
                }
            for name in kept:
                old = dict(previous_status.get("resources", {}).get(name) or {})
                old["updated"] = False
                resources[name] = old
            primary = next(iter(spec["resources"]))
            primary_info = resources.get(primary, {})
            record = {
                "source_id": source_id,
                "label": spec["label"],
                "publisher": spec["publisher"],
                "vintage": str(spec["vintage"]),
                "licence": spec["licence"],
                "ok": True,
                "error": None,
                "error_kind": None,
                "has_data": True,
                "attempted_at": attempted_at,
                "attempt_origin": origin or "manifeste",
                "fetched_at": fetched_at,
                "origin": origin or "manifeste",
                "url": primary_info.get("url"),
                "sha256": primary_info.get("sha256"),
                "size": sum(int(r.get("size") or 0) for r in resources.values()),
                "resources": resources,
                "rows": parsed.rows,
                "secret_counts": parsed.secret_counts,
                "years": parsed.years,
                "warnings": parsed.warnings,
                "previous": (
                    {
                        "fetched_at": previous_status.get("fetched_at"),
                        "sha256": previous_status.get("sha256"),
                    }
                    if previous_status.get("fetched_at")
                    else None
                ),
            }
            _write_json_atomic(_status_path(directory, source_id), record)
            return FetchResult(source_id, parsed, record, resources, list(parsed.warnings))
        except FetchError as exc:
            _record_failure(spec, directory, exc, attempted_at, origin)
            raise
        except Exception as exc:  # unexpected bug: still leave a clear trace
            error = ctx.error("interne", f"erreur inattendue : {type(exc).__name__}: {exc}")
            _record_failure(spec, directory, error, attempted_at, origin)
            raise error from exc
        finally:
            for got in retrieved.values():
                got.tmp_path.unlink(missing_ok=True)
