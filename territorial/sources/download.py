"""Guarded transfers of the official files: allowed hosts only, https, size caps.

The official sources are downloaded from the addresses of ``data/sources/official.json``
and from nowhere else. :func:`policy_for` builds the :class:`Policy` of one source: the
origins (scheme, host, port) a request or a redirect may reach, and the byte cap of each
resource. Only ``https`` origins come from the manifest (its resource URLs and its optional
``allowed_hosts``, the hosts its addresses redirect to); a mirror adds its own origin, and
a mirror is an administrator setting (environment variable :data:`ORIGIN_ENV` or the
``--from`` option of the command line), never something a visitor types.

:func:`open_url` opens an address under a policy: the address and every redirect are
checked before any byte is requested, ``file:``, ``ftp:`` and ``data:`` addresses are not
even handled by the opener. Refusals raise :class:`Refused` with a French reason.

This module is pure Python (no streamlit).
"""

from __future__ import annotations

import os
import ssl
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MAX_ARCHIVE_MEMBERS",
    "MAX_UNCOMPRESSED_BYTES",
    "ORIGIN_ENV",
    "Policy",
    "Refused",
    "UPDATES_ENV",
    "admin_origin",
    "may_update_official",
    "open_url",
    "origin_of",
    "policy_for",
    "refusal",
]

ORIGIN_ENV = "TERRITORIAL_OFFICIAL_FROM"
"""Administrator setting: mirror base URL or local file/folder of the official files."""

UPDATES_ENV = "TERRITORIAL_OFFICIAL_UPDATES"
"""Administrator setting: who may update the official data from the app (see
:func:`may_update_official`); the command line ``python -m territorial fetch`` always may."""

DEFAULT_MAX_BYTES = 150 * 1024 * 1024
"""Cap of one downloaded resource (overridden by ``max_bytes`` in the manifest)."""

MAX_UNCOMPRESSED_BYTES = 600 * 1024 * 1024
"""Cap of the declared uncompressed size of all the members of one archive."""

MAX_ARCHIVE_MEMBERS = 2000
"""Cap of the number of members of one archive (zip or xlsx)."""

_DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]


class Refused(ValueError):
    """An address or a transfer refused by the policy; ``reason`` is French."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Policy:
    """Where one source may be downloaded from, and how much.

    Attributes
    ----------
    origins : frozenset of (scheme, host, port)
        Origins a request or a redirect may reach.
    max_bytes : dict of str to int
        Byte cap of each resource.
    """

    origins: frozenset[Origin]
    max_bytes: Mapping[str, int]

    def cap(self, resource: str) -> int:
        return int(self.max_bytes.get(resource, DEFAULT_MAX_BYTES))


def origin_of(url: str) -> Origin | None:
    """``(scheme, host, port)`` of an http(s) address, None for anything else.

    Examples
    --------
    >>> origin_of("https://www.insee.fr/fr/statistiques/fichier/x.zip")
    ('https', 'www.insee.fr', 443)
    >>> origin_of("file:///etc/passwd") is None
    True
    """
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username or parts.password:
        return None
    return scheme, parts.hostname.lower().rstrip("."), port or _DEFAULT_PORTS[scheme]


def _manifest_origins(spec: Mapping[str, Any]) -> set[Origin]:
    urls = list(spec["resources"].values())
    urls += [f"https://{host}/" for host in spec.get("allowed_hosts", ())]
    origins = {origin_of(url) for url in urls}
    return {o for o in origins if o is not None and o[0] == "https"}


def policy_for(spec: Mapping[str, Any], mirror: str | None = None) -> Policy:
    """The policy of one manifest entry, with the origin of an administrator's mirror.

    Parameters
    ----------
    spec : mapping
        The source entry of the manifest (``resources``, ``resource_details``, optional
        ``allowed_hosts`` and per-resource ``max_bytes``).
    mirror : str, optional
        An http(s) mirror base URL set by the administrator.

    Returns
    -------
    Policy
    """
    origins = _manifest_origins(spec)
    if mirror and origin_of(mirror) is not None:
        origins.add(origin_of(mirror))
    caps = {
        name: int(details.get("max_bytes", DEFAULT_MAX_BYTES))
        for name, details in spec["resource_details"].items()
    }
    return Policy(frozenset(origins), caps)


def _hosts_text(origins: Iterable[Origin]) -> str:
    return ", ".join(sorted({host for _, host, _ in origins})) or "aucun"


def refusal(url: str, policy: Policy) -> str | None:
    """Why ``url`` may not be requested under ``policy`` (French), or None when it may.

    Examples
    --------
    >>> p = Policy(frozenset({("https", "www.insee.fr", 443)}), {})
    >>> refusal("https://www.insee.fr/fichier.zip", p) is None
    True
    >>> refusal("http://www.insee.fr/fichier.zip", p)
    'adresse refusée : seules les adresses https des hôtes officiels sont permises (www.insee.fr).'
    """
    origin = origin_of(url)
    if origin in policy.origins:
        return None
    allowed = _hosts_text(policy.origins)
    if origin is None:
        return (
            "adresse refusée : seules les adresses http(s) sont permises "
            f"(hôtes autorisés : {allowed})."
        )
    if any(o[1:] == origin[1:] for o in policy.origins) or origin[0] == "http":
        return f"adresse refusée : seules les adresses https des hôtes officiels sont permises ({allowed})."
    return f"adresse refusée : l'hôte {origin[1]} n'est pas un hôte autorisé ({allowed})."


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to an origin of the policy (at most 5 hops)."""

    max_redirections = 5

    def __init__(self, policy: Policy) -> None:
        super().__init__()
        self.policy = policy

    def http_error_302(self, req, fp, code, msg, headers):  # noqa: ANN001 - urllib API
        target = headers.get("location") or headers.get("uri")
        if target:
            newurl = urllib.parse.urljoin(req.full_url, target)
            reason = refusal(newurl, self.policy)
            if reason is not None:
                fp.close()
                raise Refused(f"redirection vers {newurl} refusée — {reason}")
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


def open_url(url: str, policy: Policy, *, timeout: float, headers: Mapping[str, str]):
    """Open ``url`` under ``policy``; the response (a context manager).

    Raises
    ------
    Refused
        When the address or a redirect is outside the policy.
    urllib.error.URLError, OSError
        Network failures, as :func:`urllib.request.urlopen`.
    """
    reason = refusal(url, policy)
    if reason is not None:
        raise Refused(reason)
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(context=ssl.create_default_context()),
        urllib.request.HTTPDefaultErrorHandler(),
        _CheckedRedirects(policy),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    request = urllib.request.Request(url, headers=dict(headers))
    return opener.open(request, timeout=timeout)


def admin_origin() -> str | None:
    """The mirror or local folder set by the administrator (:data:`ORIGIN_ENV`), if any."""
    value = os.environ.get(ORIGIN_ENV, "").strip()
    return value or None


def may_update_official(email: str | None, logged_in: bool, setting: str | None = None) -> bool:
    """May this visitor update the official data from the app (for every visitor)?

    An update replaces the cache every visitor reads, so by default nobody may from the
    app: the administrator runs ``python -m territorial fetch``. :data:`UPDATES_ENV` opens
    it: ``tous`` (a single-user install on one's own computer), or a comma-separated list
    of e-mail addresses of administrators logged in with Streamlit's OIDC login.

    >>> may_update_official(None, False, "")
    False
    >>> may_update_official(None, False, "tous")
    True
    >>> may_update_official("Anne@Exemple.fr", True, "anne@exemple.fr, paul@exemple.fr")
    True
    >>> may_update_official("anne@exemple.fr", False, "anne@exemple.fr")
    False
    """
    raw = os.environ.get(UPDATES_ENV, "") if setting is None else setting
    allowed = {part.strip().lower() for part in raw.split(",") if part.strip()}
    if "tous" in allowed:
        return True
    return bool(logged_in and email and email.strip().lower() in allowed)
