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
import hashlib
import io
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.client import HTTPException, IncompleteRead
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import pandas as pd

from territorial.paths import REPO_ROOT
from territorial.sources.download import (
    MAX_ARCHIVE_MEMBERS,
    MAX_UNCOMPRESSED_BYTES,
    Policy,
    Refused,
    admin_origin,
    open_url,
    policy_for,
)
from territorial.text.jsonout import json_text

__all__ = [
    "LEVELS",
    "FetchError",
    "FetchResult",
    "ParsedSource",
    "ROW_LABELS",
    "cache_dir",
    "cached_files",
    "cli_fetch",
    "fetch",
    "load_cached",
    "load_manifest",
    "parse",
    "status",
    "statuses",
]


MANIFEST_PATH = REPO_ROOT / "data" / "sources" / "official.json"
CACHE_ENV = "TERRITORIAL_CACHE_DIR"
MANIFEST_ENV = "TERRITORIAL_MANIFEST"

LEVELS = ("commune", "epci", "departement", "region")
"""Statistical levels a source may provide (perimeters are aggregated later)."""

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
_CODE_WIDTH = {"commune": 5, "epci": 9, "departement": 2, "region": 2}
_CODE_FORMAT = {
    "commune": re.compile(r"^(\d{5}|2[AB]\d{3})$"),
    "epci": re.compile(r"^\d{9}$"),
    "departement": re.compile(r"^(\d{2}|2[AB]|97\d)$"),
    "region": re.compile(r"^\d{2}$"),
}
# Municipal arrondissements of Paris, Lyon and Marseille and their parent commune.
_ARM_PARENTS = (
    (re.compile(r"^751(0[1-9]|1\d|20)$"), "75056"),
    (re.compile(r"^6938[1-9]$"), "69123"),
    (re.compile(r"^132(0[1-9]|1[0-6])$"), "13055"),
)

ProgressCallback = Callable[[int, "int | None"], None]


# --------------------------------------------------------------------------- errors


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


# --------------------------------------------------------------------------- results


@dataclass
class ParsedSource:
    """Clean tables extracted from one source.

    Attributes
    ----------
    source_id : str
        Identifier of the source in the manifest.
    vintage : str
        Vintage declared in the manifest (for example ``"2021"``).
    tables : dict of str to pandas.DataFrame
        One frame per level. Statistical levels (``commune``, ``epci``,
        ``departement``, ``region``) are indexed by ``code`` (str) and hold
        float columns named by stable ids. The CRTE levels
        (``perimetre_rows``, ``groupements_rows``) hold the raw rows as str.
    rows : dict of str to int
        Number of rows per level.
    secret_counts : dict of str to dict of str to int
        Per level, per column: number of values withheld (statistical secret
        markers ``s``, ``nd``, ``ns``, ``secret``, empty or missing).
    years : dict of str to str
        Four-digit year detected in the source for each column, when known.
    source_columns : dict of str to dict of str to str
        Per level, original column (or measure) name behind each stable id.
    warnings : list of str
        Non-blocking anomalies, in French.
    """

    source_id: str
    vintage: str
    tables: dict[str, pd.DataFrame]
    rows: dict[str, int]
    secret_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    years: dict[str, str] = field(default_factory=dict)
    source_columns: dict[str, dict[str, str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


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


# --------------------------------------------------------------------------- manifest


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


# --------------------------------------------------------------------------- cache files


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


# --------------------------------------------------------------------------- locations


@dataclass
class _Location:
    resource: str
    is_url: bool
    value: str
    required: bool


def _resolve_locations(spec: Mapping[str, Any], origin: str | None) -> list[_Location]:
    ctx = _ctx(spec)
    details = spec["resource_details"]
    names = list(spec["resources"])
    origin = (origin or "").strip() or None
    out: list[_Location] = []
    if origin is None:
        for name in names:
            out.append(_Location(name, True, spec["resources"][name], details[name]["required"]))
        return out
    scheme = urllib.parse.urlparse(origin).scheme.lower()
    if scheme in ("http", "https"):
        parsed = urllib.parse.urlparse(origin)
        last = urllib.parse.unquote(parsed.path.rstrip("/").rsplit("/", 1)[-1])
        mirror_names = {_mirror_name(spec, name): name for name in names}
        base = origin
        if last in mirror_names:  # a full file URL was given: use its folder as the base
            base = origin[: origin.rstrip("/").rfind("/")]
        for name in names:
            url = base.rstrip("/") + "/" + urllib.parse.quote(_mirror_name(spec, name))
            out.append(_Location(name, True, url, details[name]["required"]))
        return out
    if scheme == "file":
        origin = urllib.request.url2pathname(urllib.parse.urlparse(origin).path)
    elif scheme and len(scheme) > 1:
        raise ctx.error(
            "local",
            f"origine non reconnue : « {origin} » (attendu : adresse http(s)://, "
            "fichier ou dossier local).",
            url=origin,
        )
    path = Path(origin).expanduser()
    if not path.exists():
        raise ctx.error("local", f"fichier local introuvable : {path}.", url=str(path))
    if path.is_dir():
        folder, given = path, None
    else:
        folder, given = path.parent, path
    assigned: dict[str, Path] = {}
    if given is not None:
        match = next(
            (
                name
                for name in names
                if given.name in (_mirror_name(spec, name), _current_path(folder, spec, name).name)
            ),
            names[0],
        )
        assigned[match] = given
    for name in names:
        if name in assigned:
            continue
        for candidate in (folder / _mirror_name(spec, name), _current_path(folder, spec, name)):
            if candidate.is_file():
                assigned[name] = candidate
                break
        else:
            assigned[name] = folder / _mirror_name(spec, name)
    for name in names:
        out.append(_Location(name, False, str(assigned[name]), details[name]["required"]))
    return out


# --------------------------------------------------------------------------- transfer


def _host(url: str) -> str:
    return urllib.parse.urlparse(url).hostname or url


def _call_progress(progress: ProgressCallback | None, done: int, total: int | None) -> None:
    if progress is not None:
        progress(done, total)


def _too_big(cap: int, what: str, ctx: _Ctx, url: str | None = None) -> FetchError:
    return ctx.error(
        "taille",
        f"fichier refusé : {what} dépasse la taille maximale de {_format_bytes(cap)} "
        "pour cette ressource. Les données déjà en cache restent utilisées.",
        url=url,
    )


def _download(
    url: str,
    out: BinaryIO,
    hasher: Any,
    progress: ProgressCallback | None,
    timeout: float,
    ctx: _Ctx,
    policy: Policy,
    cap: int,
) -> tuple[int, str]:
    """Stream ``url`` into ``out`` under ``policy``, at most ``cap`` bytes.

    Return (size, final URL after redirects).
    """
    offline = (
        f"impossible de joindre {_host(url)} : pas de connexion ? "
        "Les données déjà en cache restent utilisées."
    )
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
    try:
        response = open_url(url, policy, timeout=timeout, headers=headers)
    except Refused as exc:
        raise ctx.error(
            "refus", exc.reason + " Les données déjà en cache restent utilisées.", url=url
        ) from None
    except urllib.error.HTTPError as exc:
        code = exc.code
        exc.close()
        if code == 404:
            problem = (
                f"HTTP 404 : fichier introuvable à l'adresse {url} "
                "(déplacé ou renommé par l'éditeur ? vérifiez la page de la source)."
            )
        elif code in (401, 403):
            problem = f"HTTP {code} : accès refusé par {_host(url)} ({url})."
        elif code >= 500:
            problem = (
                f"HTTP {code} : erreur du serveur {_host(url)}, réessayez plus tard. "
                "Les données déjà en cache restent utilisées."
            )
        else:
            problem = f"HTTP {code} : le serveur {_host(url)} a refusé la demande ({url})."
        raise ctx.error("http", problem, url=url, http_status=code) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            problem = (
                f"délai dépassé en joignant {_host(url)} ({timeout:g} s). "
                "Les données déjà en cache restent utilisées."
            )
            raise ctx.error("reseau", problem, url=url) from None
        raise ctx.error("reseau", offline[0].upper() + offline[1:], url=url) from None
    except TimeoutError:
        problem = (
            f"délai dépassé en joignant {_host(url)} ({timeout:g} s). "
            "Les données déjà en cache restent utilisées."
        )
        raise ctx.error("reseau", problem, url=url) from None
    except (HTTPException, OSError, ValueError):
        raise ctx.error("reseau", offline[0].upper() + offline[1:], url=url) from None

    with response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.strip().isdigit() else None
        final_url = response.geturl() or url
        if total is not None and total > cap:
            raise _too_big(cap, f"le fichier annoncé ({_format_bytes(total)})", ctx, url)
        done = 0
        _call_progress(progress, 0, total)
        try:
            while True:
                chunk = response.read(CHUNK_SIZE)
                if not chunk:
                    break
                if done + len(chunk) > cap:
                    raise _too_big(cap, "le fichier reçu", ctx, url)
                out.write(chunk)
                hasher.update(chunk)
                done += len(chunk)
                _call_progress(progress, done, total)
        except TimeoutError:
            raise ctx.error(
                "reseau",
                f"téléchargement interrompu : délai dépassé ({done} octets reçus depuis "
                f"{_host(url)}).",
                url=url,
            ) from None
        except (IncompleteRead, HTTPException, OSError):
            raise ctx.error(
                "reseau",
                f"téléchargement interrompu après {done} octets ({_host(url)}). "
                "Les données déjà en cache restent utilisées.",
                url=url,
            ) from None
    if total is not None and done < total:
        raise ctx.error(
            "reseau",
            f"téléchargement interrompu : {done} octets reçus sur {total} attendus "
            f"({_host(url)}). Les données déjà en cache restent utilisées.",
            url=url,
        )
    return done, final_url


def _copy_local(
    path: Path,
    out: BinaryIO,
    hasher: Any,
    progress: ProgressCallback | None,
    ctx: _Ctx,
    cap: int,
) -> int:
    try:
        if path.exists() and not path.is_file():
            raise ctx.error("local", f"pas un fichier ordinaire : {path}.", url=str(path))
        total = path.stat().st_size
        if total > cap:
            raise _too_big(cap, f"le fichier local ({_format_bytes(total)})", ctx, str(path))
        done = 0
        _call_progress(progress, 0, total)
        with path.open("rb") as src:
            while chunk := src.read(CHUNK_SIZE):
                if done + len(chunk) > cap:  # files whose stat size lies (/proc, growing)
                    raise _too_big(cap, "le fichier local", ctx, str(path))
                out.write(chunk)
                hasher.update(chunk)
                done += len(chunk)
                _call_progress(progress, done, total)
    except FileNotFoundError:
        raise ctx.error("local", f"fichier local introuvable : {path}.", url=str(path)) from None
    except OSError as exc:
        raise ctx.error(
            "local", f"fichier local illisible : {path} ({exc.strerror}).", url=str(path)
        ) from None
    return done


def _looks_like_html(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return (
        text.startswith(b"<!doctype html")
        or text.startswith(b"<html")
        or text.startswith(b"<head")
        or (text.startswith(b"<") and b"<html" in text[:2048])
    )


def _check_container(path: Path, kind: str, what: str, ctx: _Ctx) -> None:
    """Reject empty files, HTML pages and broken archives before parsing."""
    size = path.stat().st_size
    if size == 0:
        raise ctx.error("vide", f"le fichier reçu ({what}) est vide (0 octet).")
    with path.open("rb") as fh:
        head = fh.read(4096)
    if _looks_like_html(head):
        raise ctx.error(
            "html",
            f"une page HTML a été reçue au lieu du fichier attendu ({what}) : page d'erreur, "
            "portail en maintenance ou proxy ? Les données déjà en cache restent utilisées.",
        )
    if kind in ("zip", "xlsx"):
        noun = "archive zip" if kind == "zip" else "classeur Excel (xlsx)"
        if not zipfile.is_zipfile(path):
            raise ctx.error(
                "zip",
                f"{noun} tronqué(e) ou corrompu(e) ({what}, {size} octets) : "
                "téléchargement incomplet ?",
            )
        try:
            with zipfile.ZipFile(path) as archive:
                _check_archive_sizes(archive.infolist(), noun, what, ctx)
                bad = archive.testzip()
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
            raise ctx.error("zip", f"{noun} corrompu(e) ({what}) : {exc}.") from None
        if bad is not None:
            raise ctx.error("zip", f"{noun} corrompu(e) ({what}) : le membre « {bad} » est abîmé.")


def _check_archive_sizes(members: list[zipfile.ZipInfo], noun: str, what: str, ctx: _Ctx) -> None:
    """Refuse archives with too many members or too large once decompressed.

    The declared sizes are a real bound: :mod:`zipfile` never inflates a member past its
    declared size (a lying header fails the CRC check of ``testzip``).
    """
    if len(members) > MAX_ARCHIVE_MEMBERS:
        raise ctx.error(
            "taille",
            f"{noun} refusé(e) ({what}) : {len(members)} fichiers à l'intérieur, au-delà "
            f"de la limite de {MAX_ARCHIVE_MEMBERS}.",
        )
    unpacked = sum(info.file_size for info in members)
    if unpacked > MAX_UNCOMPRESSED_BYTES:
        raise ctx.error(
            "taille",
            f"{noun} refusé(e) ({what}) : {_format_bytes(unpacked)} une fois décompressé(e), "
            f"au-delà de la limite de {_format_bytes(MAX_UNCOMPRESSED_BYTES)}.",
        )


@dataclass
class _Retrieved:
    resource: str
    location: str
    tmp_path: Path
    sha256: str
    size: int
    final_url: str


def _retrieve(
    location: _Location,
    directory: Path,
    spec: Mapping[str, Any],
    progress: ProgressCallback | None,
    timeout: float,
    policy: Policy,
) -> _Retrieved:
    ctx = _ctx(spec)
    cap = policy.cap(location.resource)
    kind = _resource_kind(spec, location.resource)
    fd, tmp_name = tempfile.mkstemp(
        dir=directory, prefix=f".{spec['id']}.{location.resource}.", suffix=f".{kind}.part"
    )
    tmp_path = Path(tmp_name)
    hasher = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            if location.is_url:
                size, final_url = _download(
                    location.value, out, hasher, progress, timeout, ctx, policy, cap
                )
            else:
                size = _copy_local(Path(location.value), out, hasher, progress, ctx, cap)
                final_url = location.value
        what = _mirror_name(spec, location.resource)
        _check_container(tmp_path, kind, what, ctx)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return _Retrieved(
        location.resource, location.value, tmp_path, hasher.hexdigest(), size, final_url
    )


# --------------------------------------------------------------------------- parsing helpers


def _norm_header(name: object) -> str:
    """Upper-case ASCII header with non-alphanumerics collapsed to ``_``."""
    text = unicodedata.normalize("NFKD", "" if name is None else str(name))
    text = text.encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_").upper()


def _year4(two_or_four: str | None) -> str | None:
    if not two_or_four:
        return None
    return two_or_four if len(two_or_four) == 4 else f"20{two_or_four[-2:]}"


def _match_columns(columns: list[str], pattern: str) -> list[tuple[str, str | None]]:
    """Columns whose normalised name matches ``pattern``, most recent year first."""
    regex = re.compile(pattern)
    found: list[tuple[str, str | None]] = []
    for column in columns:
        match = regex.fullmatch(_norm_header(column))
        if match:
            year = match.groupdict().get("year") if "year" in regex.groupindex else None
            found.append((column, year))
    found.sort(key=lambda item: int(_year4(item[1]) or 0), reverse=True)
    return found


def _decode_csv(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _read_csv(
    data: bytes, what: str, ctx: _Ctx, keep: Callable[[str], bool] | None = None
) -> pd.DataFrame:
    """Read CSV bytes as str columns, detecting separator and encoding.

    ``keep`` selects the columns to read (all by default); the full header is
    stored in ``frame.attrs["all_columns"]`` for error messages.
    """
    if not data.strip():
        raise ctx.error("vide", f"le fichier {what} est vide.")
    if _looks_like_html(data[:4096]):
        raise ctx.error("html", f"le fichier {what} est une page HTML et non un tableau CSV.")
    text = _decode_csv(data)
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    separators = (";", ",", "\t", "|")
    sep = max(separators, key=header.count)
    if header.count(sep) == 0:
        sep = ";"
    all_columns = [name.strip().strip('"').strip() for name in header.strip().split(sep)]
    usecols = None if keep is None else (lambda name: keep(str(name)))
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            usecols=usecols,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise ctx.error("format", f"le fichier {what} n'est pas un CSV lisible ({exc}).") from None
    frame.columns = [str(col).strip().lstrip("\ufeff").strip('"').strip() for col in frame.columns]
    frame.attrs["all_columns"] = all_columns
    if frame.empty:
        raise ctx.error("vide", f"le fichier {what} ne contient aucune ligne de données.")
    return frame


def _cell_to_str(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def _to_float(values: pd.Series, markers: set[str]) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Convert str values to float; return (values, secret mask, invalid mask)."""
    text = values.fillna("").astype(str).str.strip()
    secret = text.str.lower().isin(markers)
    cleaned = (
        text.str.replace("\u00a0", "", regex=False)
        .str.replace("\u202f", "", regex=False)
        .str.replace(" ", "", regex=False)
        .str.replace(",", ".", regex=False)
    )
    numbers = pd.to_numeric(cleaned.where(~secret), errors="coerce").astype("float64")
    numbers.index = values.index
    invalid = numbers.isna() & ~secret
    return numbers, secret.astype(bool), invalid.astype(bool)


def _normalize_codes(values: pd.Series, level: str) -> pd.Series:
    text = values.fillna("").astype(str).str.strip().str.upper().str.strip('="')
    text = text.str.replace(r"\.0+$", "", regex=True)
    prefixed = text.str.contains("-", regex=False)  # "COM-01001" (Melodi style)
    if prefixed.any():
        text = text.where(~prefixed, text.str.rsplit("-", n=1).str[-1])
    width = _CODE_WIDTH[level]
    short_digits = text.str.fullmatch(r"\d+") & (text.str.len() < width)
    if level == "departement":
        short_digits = text.str.fullmatch(r"\d")
    return text.where(~short_digits, text.str.zfill(width))


@dataclass
class _Part:
    """Parsed content of one resource (merged later into a ParsedSource)."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    secret_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    years: dict[str, str] = field(default_factory=dict)
    source_columns: dict[str, dict[str, str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _finalize(
    frame: pd.DataFrame, codes: pd.Series, level: str, what: str, part: _Part
) -> pd.DataFrame:
    """Index ``frame`` by normalised codes, dropping invalid and duplicate codes."""
    frame = frame.copy()
    frame.index = pd.Index(_normalize_codes(codes, level).to_numpy(), name="code", dtype=str)
    valid = frame.index.to_series().str.fullmatch(_CODE_FORMAT[level].pattern).to_numpy()
    dropped = int((~valid).sum())
    if dropped:
        examples = ", ".join(sorted(set(frame.index[~valid]))[:3])
        part.warnings.append(
            f"{what} : {dropped} ligne(s) au code {level} invalide ignorée(s) ({examples})."
        )
        frame = frame.loc[valid]
    duplicated = frame.index.duplicated(keep="first")
    if duplicated.any():
        part.warnings.append(
            f"{what} : {int(duplicated.sum())} code(s) en double, première occurrence conservée."
        )
        frame = frame.loc[~duplicated]
    if level == "commune":
        present = set(frame.index)
        arm = [
            code
            for code in frame.index
            if any(rx.match(code) and parent in present for rx, parent in _ARM_PARENTS)
        ]
        if arm:
            part.warnings.append(
                f"{what} : {len(arm)} arrondissement(s) municipal(aux) écarté(s), la commune "
                "entière (Paris, Lyon ou Marseille) étant déjà présente."
            )
            frame = frame.drop(index=arm)
    return frame.sort_index()


_SECRET_PREFIX = "__secret__"


def _finalize_values(
    values: pd.DataFrame,
    secret: pd.DataFrame,
    codes: pd.Series,
    level: str,
    what: str,
    part: _Part,
) -> pd.DataFrame:
    """Index float ``values`` by code and count the secret values that remain."""
    masks = secret.add_prefix(_SECRET_PREFIX)
    table = _finalize(pd.concat([values, masks], axis=1), codes, level, what, part)
    counts = part.secret_counts.setdefault(level, {})
    for stable in values.columns:
        counts[stable] = counts.get(stable, 0) + int(table[_SECRET_PREFIX + stable].sum())
    return table[list(values.columns)].astype("float64")


def _file_year(columns: list[str], col_specs: list[Mapping[str, Any]]) -> str | None:
    """Most recent year suffix found among the columns matching ``col_specs``."""
    years = [
        year
        for col_spec in col_specs
        for pattern in [col_spec["pattern"], *col_spec.get("fallback_sum", [])]
        for _, year in _match_columns(columns, pattern)
        if year
    ]
    return max(years, key=lambda y: int(_year4(y) or 0)) if years else None


def _pick(columns: list[str], pattern: str, year: str | None) -> tuple[str, str | None] | None:
    for column, found in _match_columns(columns, pattern):
        if year is None or found is None or found == year:
            return column, found
    return None


def _example(col_spec: Mapping[str, Any], year: str | None) -> str:
    pattern = col_spec.get("pattern", "")
    if year and "(?P<year>" in pattern:
        text = re.sub(r"\(\?P<year>[^)]*\)", year, pattern).strip("^$")
        if re.fullmatch(r"[A-Z0-9_]+", text):
            return text
    return col_spec.get("example") or pattern


def _missing_column(
    ctx: _Ctx,
    column_id: str,
    col_spec: Mapping[str, Any],
    what: str,
    columns: list[str],
    year: str | None = None,
) -> FetchError:
    shown = ", ".join(columns[:15]) + (" …" if len(columns) > 15 else "")
    example = _example(col_spec, year) or column_id
    return ctx.error(
        "colonne",
        f"colonne attendue absente : « {example} » ({col_spec.get('label', column_id)}) dans "
        f"{what}. Colonnes trouvées : {shown}. Le format du fichier a peut-être changé.",
    )


def _keep_matching(*patterns: str) -> Callable[[str], bool]:
    """Column filter for :func:`_read_csv`: names matching one of ``patterns``."""
    regexes = [re.compile(p) for p in patterns]
    return lambda name: any(rx.fullmatch(_norm_header(name)) for rx in regexes)


def _spec_patterns(col_specs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    return [
        pattern
        for col_spec in col_specs.values()
        for pattern in [col_spec["pattern"], *col_spec.get("fallback_sum", [])]
    ]


def _select_columns(
    raw: pd.DataFrame,
    col_specs: Mapping[str, Mapping[str, Any]],
    markers: set[str],
    level: str,
    what: str,
    ctx: _Ctx,
    part: _Part,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Convert the columns described by ``col_specs`` to floats.

    The year suffix of the file is detected once (most recent year among the
    matching columns) and every column must exist for that year, so that a
    renamed ``P22_POP`` is reported instead of silently using ``P16_POP``.
    """
    columns = list(raw.columns)
    year = _file_year(columns, list(col_specs.values()))
    values: dict[str, pd.Series] = {}
    secrets: dict[str, pd.Series] = {}
    for stable, col_spec in col_specs.items():
        picked = _pick(columns, col_spec["pattern"], year)
        fallback = [_pick(columns, p, year) for p in col_spec.get("fallback_sum", [])]
        if picked is not None:
            sources, found_years = [picked[0]], [picked[1]]
        elif fallback and all(fallback):
            sources = [item[0] for item in fallback if item]
            found_years = [item[1] for item in fallback if item]
            part.warnings.append(
                f"{what} : « {stable} » calculé comme {' + '.join(sources)} (colonne "
                f"{_example(col_spec, year)} absente)."
            )
        elif col_spec.get("required", True):
            shown = raw.attrs.get("all_columns", columns)
            raise _missing_column(ctx, stable, col_spec, what, shown, year)
        else:
            part.warnings.append(
                f"{what} : colonne « {_example(col_spec, year)} » absente, « {stable} » "
                "laissé vide."
            )
            continue
        total: pd.Series | None = None
        secret: pd.Series | None = None
        for name in sources:
            numbers, is_secret, invalid = _to_float(raw[name], markers)
            if invalid.any():
                part.warnings.append(
                    f"{what} : {int(invalid.sum())} valeur(s) non numérique(s) dans « {name} » "
                    "remplacée(s) par des valeurs manquantes."
                )
            total = numbers if total is None else total + numbers
            secret = is_secret if secret is None else secret | is_secret
        values[stable] = total
        secrets[stable] = secret
        part.source_columns.setdefault(level, {})[stable] = " + ".join(sources)
        full_year = _year4(next((y for y in found_years if y), None))
        if full_year:
            part.years[stable] = full_year
    return pd.DataFrame(values, index=raw.index), pd.DataFrame(secrets, index=raw.index)


def _zip_members(path: Path, ctx: _Ctx, what: str) -> list[zipfile.ZipInfo]:
    try:
        with zipfile.ZipFile(path) as archive:
            return [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError) as exc:
        raise ctx.error("zip", f"archive zip illisible ({what}) : {exc}.") from None


def _read_member(path: Path, name: str, ctx: _Ctx) -> bytes:
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.read(name)
    except (zipfile.BadZipFile, OSError, KeyError, EOFError) as exc:
        raise ctx.error("zip", f"membre « {name} » illisible dans l'archive : {exc}.") from None


def _is_meta(name: str) -> bool:
    base = name.rsplit("/", 1)[-1].lower()
    return base.startswith("meta") or "metadata" in base or "_meta" in base


def _check_years(spec: Mapping[str, Any], part: _Part, what: str) -> None:
    if not spec.get("check_year_against_vintage"):
        return
    for stable, year in part.years.items():
        if year and year != str(spec["vintage"]):
            part.warnings.append(
                f"{what} : millésime {year} détecté pour « {stable} », {spec['vintage']} attendu "
                "d'après le manifeste."
            )


# --------------------------------------------------------------------------- source parsers


def _parse_filosofi(spec: Mapping[str, Any], resource: str, path: Path) -> _Part:
    ctx = _ctx(spec)
    what = _mirror_name(spec, resource)
    members = _zip_members(path, ctx, what)
    long_layout = spec["layouts"]["long"]
    long_rx = re.compile(long_layout["data_member"], re.IGNORECASE)
    long_member = next((m.filename for m in members if long_rx.search(m.filename)), None)
    if long_member is not None:
        return _parse_filosofi_long(spec, path, long_member)
    wide = spec["layouts"]["wide"]
    by_level: dict[str, str] = {}
    for level, pattern in wide["members"].items():
        rx = re.compile(pattern, re.IGNORECASE)
        found = [m.filename for m in members if rx.search(m.filename) and not _is_meta(m.filename)]
        if found:
            by_level[level] = found[0]
    if not by_level:
        names = ", ".join(m.filename for m in members) or "aucun fichier"
        raise ctx.error(
            "format",
            f"aucun fichier de données Filosofi reconnu dans l'archive {what} "
            f"(attendu : DS_FILOSOFI_CC_data.csv ou cc_filosofi_*_COM.csv ; trouvé : {names}).",
        )
    return _parse_filosofi_wide(spec, path, by_level)


def _parse_filosofi_wide(spec: Mapping[str, Any], path: Path, by_level: dict[str, str]) -> _Part:
    ctx = _ctx(spec)
    part = _Part()
    markers = set(spec.get("secret_markers", DEFAULT_SECRET_MARKERS))
    code_pattern = spec["layouts"]["wide"]["code_column"]
    for level in spec["levels"]:
        member = by_level.get(level)
        if member is None:
            _missing_level(spec, level, part, ctx)
            continue
        keep = _keep_matching(code_pattern, *_spec_patterns(spec["columns"]))
        raw = _read_csv(_read_member(path, member, ctx), member, ctx, keep)
        code_cols = _match_columns(list(raw.columns), code_pattern)
        if not code_cols:
            raise _missing_column(
                ctx,
                "code",
                {"example": "CODGEO", "label": "code"},
                member,
                raw.attrs["all_columns"],
            )
        values, secret = _select_columns(raw, spec["columns"], markers, level, member, ctx, part)
        part.tables[level] = _finalize_values(
            values, secret, raw[code_cols[0][0]], level, member, part
        )
    _check_years(spec, part, "Filosofi")
    return part


def _missing_level(spec: Mapping[str, Any], level: str, part: _Part, ctx: _Ctx) -> None:
    if level in spec.get("required_levels", []):
        raise ctx.error(
            "format",
            f"aucune donnée au niveau « {ROW_LABELS.get(level, level)} » dans le fichier.",
        )
    part.warnings.append(
        f"Aucune donnée au niveau « {ROW_LABELS.get(level, level)} » dans le fichier."
    )


def _parse_filosofi_long(spec: Mapping[str, Any], path: Path, member: str) -> _Part:
    ctx = _ctx(spec)
    part = _Part()
    layout = spec["layouts"]["long"]
    markers = set(spec.get("secret_markers", DEFAULT_SECRET_MARKERS))
    names = [layout[key] for key in layout if key.endswith("_column")]
    keep = _keep_matching(*(re.escape(_norm_header(name)) for name in names))
    raw = _read_csv(_read_member(path, member, ctx), member, ctx, keep)
    columns = raw.attrs["all_columns"]
    by_norm = {_norm_header(col): col for col in raw.columns}

    def column(key: str, required: bool = True) -> str | None:
        name = layout[key]
        found = by_norm.get(_norm_header(name))
        if found is None and required:
            raise _missing_column(ctx, key, {"example": name, "label": key}, member, columns)
        return found

    geo = column("geo_column")
    level_col = column("level_column")
    measure_col = column("measure_column")
    value_col = column("value_column")
    period_col = column("period_column", required=False)
    conf_col = column("confidentiality_column", required=False)

    raw[measure_col] = raw[measure_col].str.strip().str.upper()
    raw[level_col] = raw[level_col].str.strip().str.upper()
    if period_col is not None:
        periods = raw[period_col].str.strip()
        latest = periods[periods != ""].max() if (periods != "").any() else None
        if latest is not None and periods.nunique() > 1:
            part.warnings.append(
                f"{member} : plusieurs périodes présentes, seule la plus récente ({latest}) est "
                "conservée."
            )
            raw = raw.loc[periods.isin([latest, ""])]
        if latest:
            for stable in spec["columns"]:
                part.years[stable] = _year4(str(latest)[-4:] if len(latest) >= 4 else latest)
    present_measures = set(raw[measure_col].unique())
    chosen: dict[str, str] = {}
    for stable, col_spec in spec["columns"].items():
        measure = next(
            (m for m in col_spec.get("long_measures", []) if m in present_measures), None
        )
        if measure is None:
            if col_spec.get("required", True):
                example = " ou ".join(col_spec.get("long_measures", [])) or stable
                shown = ", ".join(sorted(present_measures)[:20])
                raise ctx.error(
                    "colonne",
                    f"mesure attendue absente : « {example} » ({col_spec.get('label', stable)}) "
                    f"dans {member}. Mesures trouvées : {shown}. Le format du fichier a "
                    "peut-être changé.",
                )
            part.warnings.append(
                f"{member} : mesure « {' / '.join(col_spec.get('long_measures', []))} » absente, "
                f"« {stable} » laissé vide."
            )
            continue
        chosen[stable] = measure

    # Keep only the wanted measures before the costly per-row work.
    raw = raw.loc[raw[measure_col].isin(list(chosen.values()))]
    observed = raw[value_col].astype(str).str.strip()
    if conf_col is not None:
        confidential = (
            raw[conf_col]
            .str.strip()
            .str.upper()
            .isin([v.upper() for v in layout.get("confidential_values", ["C"])])
        )
        observed = observed.where(~confidential, "")
    raw = raw.assign(**{value_col: observed})

    level_codes = {code.upper(): level for code, level in layout["level_codes"].items()}
    for level in spec["levels"]:
        objects = [code for code, lvl in level_codes.items() if lvl == level]
        sub = raw.loc[raw[level_col].isin(objects)]
        if sub.empty:
            _missing_level(spec, level, part, ctx)
            continue
        codes = _normalize_codes(sub[geo], level)
        kept = sub.assign(_code=codes.to_numpy())
        dup = kept.duplicated(["_code", measure_col], keep="first")
        if dup.any():
            part.warnings.append(
                f"{member} : {int(dup.sum())} observation(s) en double au niveau {level}, "
                "première occurrence conservée."
            )
            kept = kept.loc[~dup]
        wide = kept.pivot(index="_code", columns=measure_col, values=value_col)
        all_codes = pd.Index(sorted(set(kept["_code"])), dtype=str)
        wide = wide.reindex(index=all_codes)
        values: dict[str, pd.Series] = {}
        secrets: dict[str, pd.Series] = {}
        for stable, measure in chosen.items():
            text = wide[measure] if measure in wide.columns else pd.Series("", index=all_codes)
            numbers, is_secret, invalid = _to_float(text, markers)
            if invalid.any():
                part.warnings.append(
                    f"{member} : {int(invalid.sum())} valeur(s) non numérique(s) pour "
                    f"« {measure} » ({level}) remplacée(s) par des valeurs manquantes."
                )
            values[stable], secrets[stable] = numbers, is_secret
            part.source_columns.setdefault(level, {})[stable] = measure
        part.tables[level] = _finalize_values(
            pd.DataFrame(values, index=all_codes),
            pd.DataFrame(secrets, index=all_codes),
            pd.Series(all_codes, index=all_codes),
            level,
            member,
            part,
        )
    _check_years(spec, part, "Filosofi")
    return part


def _parse_census(spec: Mapping[str, Any], resource: str, path: Path) -> _Part:
    ctx = _ctx(spec)
    part = _Part()
    what = _mirror_name(spec, resource)
    details = spec["resource_details"][resource]
    members = [
        m
        for m in _zip_members(path, ctx, what)
        if m.filename.lower().endswith(".csv") and not _is_meta(m.filename)
    ]
    if not members:
        raise ctx.error("format", f"aucun fichier CSV de données dans l'archive {what}.")
    pattern = details.get("data_member")
    if pattern:
        rx = re.compile(pattern, re.IGNORECASE)
        matching = [m for m in members if rx.search(m.filename.rsplit("/", 1)[-1])]
        members = matching or members
    not_arm = [m for m in members if "arm" not in m.filename.lower()]
    member = max(not_arm or members, key=lambda m: m.file_size).filename
    col_specs = {
        stable: col_spec
        for stable, col_spec in spec["columns"].items()
        if col_spec.get("resource") == resource
    }
    keep = _keep_matching(spec["code_column"], *_spec_patterns(col_specs))
    raw = _read_csv(_read_member(path, member, ctx), member, ctx, keep)
    code_cols = _match_columns(list(raw.columns), spec["code_column"])
    if not code_cols:
        raise _missing_column(
            ctx,
            "code",
            {"example": "CODGEO", "label": "code commune"},
            member,
            raw.attrs["all_columns"],
        )
    markers = set(spec.get("secret_markers", DEFAULT_SECRET_MARKERS))
    values, secret = _select_columns(raw, col_specs, markers, "commune", member, ctx, part)
    part.tables["commune"] = _finalize_values(
        values, secret, raw[code_cols[0][0]], "commune", member, part
    )
    _check_years(spec, part, "Recensement")
    return part


def _read_xlsx(path: Path, spec: Mapping[str, Any], what: str, ctx: _Ctx) -> pd.DataFrame:
    """Read the first sheet that has a header row (code + density class) near its top."""
    import openpyxl  # local import: slow to import and only needed here
    from openpyxl.utils.exceptions import InvalidFileException

    code_rx = re.compile(spec["code_column"])
    class_rx = re.compile(spec["columns"]["densite_classe"]["pattern"])
    search_rows = int(spec.get("header_search_rows", 40))
    handle = path.open("rb")  # a handle, not a path: temp files do not end in .xlsx
    try:
        workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        handle.close()
        raise ctx.error("format", f"classeur Excel illisible ({what}) : {exc}.") from None
    try:
        seen: list[str] = []
        for sheet in workbook.worksheets:
            rows = sheet.iter_rows(values_only=True)
            header: list[str] | None = None
            for index, row in enumerate(rows):
                if index >= search_rows:
                    break
                names = [_cell_to_str(cell) for cell in row]
                norm = [_norm_header(name) for name in names]
                if any(code_rx.fullmatch(n) for n in norm) and any(
                    class_rx.fullmatch(n) for n in norm
                ):
                    header = names
                    break
                if index < 8:
                    seen.extend(name for name in names if name)
            if header is None:
                continue
            width = len(header)
            body = [
                [_cell_to_str(cell) for cell in row[:width]] + [""] * (width - len(row))
                for row in rows
                if row and sum(cell not in (None, "") for cell in row) >= 2  # skip notes
            ]
            labels = [name or f"colonne_{i + 1}" for i, name in enumerate(header)]
            return pd.DataFrame(body, columns=labels, dtype=str)
    finally:
        workbook.close()
        handle.close()
    shown = ", ".join(seen[:12]) or "rien"
    raise ctx.error(
        "colonne",
        f"colonne attendue absente : « CODGEO » et « DENS » (code commune et degré de densité) "
        f"introuvables dans les {search_rows} premières lignes du classeur {what}. "
        f"Début du classeur : {shown}. Le format du fichier a peut-être changé.",
    )


def _parse_density(spec: Mapping[str, Any], resource: str, path: Path) -> _Part:
    ctx = _ctx(spec)
    part = _Part()
    what = _mirror_name(spec, resource)
    raw = _read_xlsx(path, spec, what, ctx)
    if raw.empty:
        raise ctx.error("vide", f"le classeur {what} ne contient aucune ligne de données.")
    code_column = _match_columns(list(raw.columns), spec["code_column"])[0][0]
    markers = set(spec.get("secret_markers", DEFAULT_SECRET_MARKERS))
    values, secret = _select_columns(raw, spec["columns"], markers, "commune", what, ctx, part)
    table = _finalize_values(values, secret, raw[code_column], "commune", what, part)
    low, high = spec["columns"]["densite_classe"].get("valid_range", [1, 7])
    classes = table["densite_classe"]
    outside = classes.notna() & ~classes.between(low, high)
    outside |= classes.notna() & (classes % 1 != 0)
    if outside.any():
        part.warnings.append(
            f"{what} : {int(outside.sum())} classe(s) de densité hors de {low}–{high} remplacée(s) "
            "par des valeurs manquantes."
        )
        table.loc[outside, "densite_classe"] = float("nan")
    if table["densite_classe"].notna().sum() == 0:
        raise ctx.error("format", f"aucune classe de densité valide ({low} à {high}) dans {what}.")
    part.tables["commune"] = table
    return part


def _parse_crte(spec: Mapping[str, Any], resource: str, path: Path) -> _Part:
    ctx = _ctx(spec)
    part = _Part()
    what = _mirror_name(spec, resource)
    level = spec["resource_details"][resource]["level"]
    raw = _read_csv(path.read_bytes(), what, ctx)
    raw.columns = [col.strip().lower() for col in raw.columns]
    raw = raw.apply(lambda col: col.str.strip())
    columns = list(raw.columns)
    for name in spec.get("required_columns", {}).get(level, []):
        if name not in columns:
            raise _missing_column(ctx, name, {"example": name, "label": name}, what, columns)
    absent = [c for c in spec.get("expected_columns", {}).get(level, []) if c not in columns]
    if absent:
        part.warnings.append(f"{what} : colonne(s) absente(s) : {', '.join(absent)}.")
    part.tables[level] = raw.reset_index(drop=True)
    return part


_PARSERS: dict[str, Callable[[Mapping[str, Any], str, Path], _Part]] = {
    "crte": _parse_crte,
    "filosofi": _parse_filosofi,
    "census": _parse_census,
    "density": _parse_density,
}


def _parse_resource(spec: Mapping[str, Any], resource: str, path: Path) -> _Part:
    parser = _PARSERS.get(spec["id"])
    if parser is None:
        raise _ctx(spec).error("interne", "aucun lecteur n'est défini pour cette source.")
    return parser(spec, resource, path)


def _combine(spec: Mapping[str, Any], parts: Mapping[str, _Part]) -> ParsedSource:
    tables: dict[str, pd.DataFrame] = {}
    secret_counts: dict[str, dict[str, int]] = {}
    years: dict[str, str] = {}
    source_columns: dict[str, dict[str, str]] = {}
    warnings: list[str] = []
    for part in parts.values():
        for level, frame in part.tables.items():
            if level in tables and level in LEVELS:
                tables[level] = tables[level].join(frame, how="outer")
                tables[level].index.name = "code"
            else:
                tables[level] = frame
        for level, counts in part.secret_counts.items():
            secret_counts.setdefault(level, {}).update(counts)
        for level, mapping in part.source_columns.items():
            source_columns.setdefault(level, {}).update(mapping)
        years.update(part.years)
        warnings.extend(part.warnings)
    # Stable schema: every declared column exists at every statistical level.
    declared = list(spec.get("columns", {}))
    for level in spec["levels"]:
        if level not in LEVELS or level not in tables:
            continue
        frame = tables[level]
        for stable in declared:
            if stable not in frame.columns:
                frame[stable] = float("nan")
        tables[level] = frame[declared + [c for c in frame.columns if c not in declared]]
        tables[level] = tables[level].astype({stable: "float64" for stable in declared})
        tables[level].index.name = "code"
    ordered = {level: tables[level] for level in spec["levels"] if level in tables}
    rows = {level: int(len(frame)) for level, frame in ordered.items()}
    return ParsedSource(
        source_id=spec["id"],
        vintage=str(spec["vintage"]),
        tables=ordered,
        rows=rows,
        secret_counts=secret_counts,
        years=years,
        source_columns=source_columns,
        warnings=warnings,
    )


def _parse_files(spec: Mapping[str, Any], files: Mapping[str, Path]) -> ParsedSource:
    ctx = _ctx(spec)
    parts: dict[str, _Part] = {}
    for resource in spec["resources"]:
        if resource not in files:
            continue
        what = _mirror_name(spec, resource)
        _check_container(Path(files[resource]), _resource_kind(spec, resource), what, ctx)
        parts[resource] = _parse_resource(spec, resource, Path(files[resource]))
    return _combine(spec, parts)


def parse(source_id: str, path: str | Path | Mapping[str, str | Path]) -> ParsedSource:
    """Parse local files of a source without touching the cache.

    Parameters
    ----------
    source_id : str
        Identifier of the source in the manifest.
    path : str, Path or mapping
        Either a mapping resource name -> file, or one file. A single file is
        assigned to the resource whose mirror name or cache name matches its
        name (else to the first resource); the other resources are looked up
        beside it under their mirror or cache names. A directory works too.

    Returns
    -------
    ParsedSource

    Raises
    ------
    FetchError
        If a required file is missing or a file does not validate.
    """
    spec = _spec(source_id)
    if isinstance(path, Mapping):
        files = {name: Path(value) for name, value in path.items()}
        unknown = set(files) - set(spec["resources"])
        if unknown:
            raise _ctx(spec).error(
                "local", f"ressource(s) inconnue(s) : {', '.join(sorted(unknown))}."
            )
        for name, details in spec["resource_details"].items():
            if details.get("required", True) and name not in files:
                raise _ctx(spec).error("local", f"fichier manquant pour la ressource « {name} ».")
    else:
        files = {}
        for location in _resolve_locations(spec, str(path)):
            candidate = Path(location.value)
            if candidate.is_file():
                files[location.resource] = candidate
            elif location.required:
                raise _ctx(spec).error(
                    "local",
                    f"fichier local introuvable : {candidate} (ressource « {location.resource} »).",
                    url=str(candidate),
                )
    return _parse_files(spec, files)


# --------------------------------------------------------------------------- fetch


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


# --------------------------------------------------------------------------- command line


def _format_bytes(size: float) -> str:
    for unit in ("octets", "ko", "Mo", "Go"):
        if size < 1024 or unit == "Go":
            text = f"{size:.0f} {unit}" if unit == "octets" else f"{size:.1f} {unit}"
            return text.replace(".", ",")
        size /= 1024
    return f"{size:.1f} Go"  # pragma: no cover


def _format_int(value: int) -> str:
    return f"{value:,}".replace(",", " ")


class _ProgressBar:
    """Text progress bar drawn on a stream (stderr)."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self.label = ""
        self.last_draw = 0.0
        self.done = 0
        self.total: int | None = None
        self.tty = bool(getattr(stream, "isatty", lambda: False)())

    def start(self, source_id: str, resource: str, location: str) -> None:
        self.finish()
        self.label = f"{source_id}/{resource}"
        self.done, self.total, self.last_draw = 0, None, 0.0
        self.stream.write(f"Téléchargement {self.label} depuis {location}\n")
        self.stream.flush()

    def __call__(self, done: int, total: int | None) -> None:
        self.done, self.total = done, total
        now = time.monotonic()
        if self.tty and now - self.last_draw >= 0.1:
            self.last_draw = now
            self._draw("\r")

    def _draw(self, prefix: str) -> None:
        if self.total:
            ratio = min(self.done / self.total, 1.0)
            filled = int(ratio * self.width)
            bar = "#" * filled + "." * (self.width - filled)
            percent = f"{ratio * 100:5.1f}".replace(".", ",")
            text = f"  [{bar}] {percent} % {_format_bytes(self.done)} / {_format_bytes(self.total)}"
        else:
            text = f"  {_format_bytes(self.done)} reçus (taille inconnue)"
        self.stream.write(f"{prefix}{text}   ")
        self.stream.flush()

    def finish(self) -> None:
        if self.label and (self.done or self.total):
            self._draw("\r" if self.tty else "")
            self.stream.write("\n")
            self.stream.flush()
        self.label = ""
        self.done, self.total = 0, None


def _summary_ok(spec: Mapping[str, Any], result: FetchResult) -> list[str]:
    counts = ", ".join(
        f"{_format_int(n)} {ROW_LABELS.get(level, level)}"
        for level, n in result.parsed.rows.items()
    )
    sha = (result.status.get("sha256") or "")[:12]
    lines = [
        f"✓ {spec['label']} : {counts} — {_format_bytes(result.status.get('size') or 0)}, "
        f"sha256 {sha}…"
    ]
    lines.extend(f"  ⚠ {warning}" for warning in result.warnings)
    return lines


def _summary_fail(error: FetchError, record: Mapping[str, Any] | None) -> list[str]:
    lines = [f"✗ {error.message}"]
    if record and record.get("fetched_at"):
        lines.append(
            f"  Données en cache conservées (version téléchargée le {record['fetched_at']})."
        )
    elif error.source_id:
        lines.append("  Aucune donnée en cache pour cette source.")
    return lines


def cli_fetch(
    source: str,
    origin: str | None,
    as_json: bool,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    timeout: float = 60,
) -> int:
    """Implement ``python -m territorial fetch SOURCE [--from URL_OR_FILE] [--json]``.

    Parameters
    ----------
    source : str
        A source id of the manifest, or ``all``.
    origin : str or None
        Mirror base URL, local file or folder (see :func:`fetch`).
    as_json : bool
        Print one JSON document ``{"ok": ..., "sources": {id: {...}}}``
        instead of the French summary.
    stdout, stderr : text stream, optional
        Output streams (default: ``sys.stdout`` and ``sys.stderr``).
    timeout : float, default 60
        Socket timeout in seconds.

    Returns
    -------
    int
        0 when every requested source was updated, 1 otherwise.
    """
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        manifest = load_manifest()
    except FetchError as exc:
        err.write(exc.message + "\n")
        return 1
    if source == "all":
        ids = list(manifest)
    elif source in manifest:
        ids = [source]
    else:
        err.write(
            f"Source inconnue : « {source} ». Sources disponibles : {', '.join(manifest)}, all.\n"
        )
        return 1
    all_ok = True
    report: dict[str, Any] = {}
    lines: list[str] = []
    for source_id in ids:
        spec = manifest[source_id]
        bar = _ProgressBar(err)
        try:
            result = fetch(
                source_id,
                origin=origin,
                progress=bar,
                timeout=timeout,
                on_resource=lambda name, where, sid=source_id, b=bar: b.start(sid, name, where),
            )
        except FetchError as exc:
            bar.finish()
            all_ok = False
            record = status(source_id)
            lines.extend(_summary_fail(exc, record))
            report[source_id] = {
                "ok": False,
                "message": exc.message,
                "error_kind": exc.kind,
                "status": record,
            }
            continue
        bar.finish()
        lines.extend(_summary_ok(spec, result))
        report[source_id] = {
            "ok": True,
            "message": f"{spec['label']} : données mises à jour.",
            "error_kind": None,
            "status": result.status,
        }
    if as_json:
        out.write(json_text({"ok": all_ok, "sources": report}))
        out.write("\n")
    else:
        failed = sum(1 for item in report.values() if not item["ok"])
        lines.append(f"Bilan : {len(report) - failed} source(s) à jour, {failed} en échec.")
        out.write("\n".join(lines) + "\n")
    out.flush()
    return 0 if all_ok else 1
