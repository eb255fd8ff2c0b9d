"""Retrieve one resource (download or local copy) into a temporary file, with the size caps and container checks."""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from http.client import HTTPException, IncompleteRead
from pathlib import Path
from typing import Any, BinaryIO

from territorial.sources.cache import _current_path, _mirror_name, _resource_kind
from territorial.sources.download import (
    MAX_ARCHIVE_MEMBERS,
    MAX_UNCOMPRESSED_BYTES,
    Policy,
    Refused,
    open_url,
)
from territorial.sources.manifest import (
    CHUNK_SIZE,
    USER_AGENT,
    FetchError,
    ProgressCallback,
    _Ctx,
    _ctx,
)
from territorial.sources.parsing import _looks_like_html
from territorial.text.formatting import format_bytes


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


def _host(url: str) -> str:
    return urllib.parse.urlparse(url).hostname or url


def _call_progress(progress: ProgressCallback | None, done: int, total: int | None) -> None:
    if progress is not None:
        progress(done, total)


def _too_big(cap: int, what: str, ctx: _Ctx, url: str | None = None) -> FetchError:
    return ctx.error(
        "taille",
        f"fichier refusé : {what} dépasse la taille maximale de {format_bytes(cap)} "
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
            raise _too_big(cap, f"le fichier annoncé ({format_bytes(total)})", ctx, url)
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
            raise _too_big(cap, f"le fichier local ({format_bytes(total)})", ctx, str(path))
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
            f"{noun} refusé(e) ({what}) : {format_bytes(unpacked)} une fois décompressé(e), "
            f"au-delà de la limite de {format_bytes(MAX_UNCOMPRESSED_BYTES)}.",
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
