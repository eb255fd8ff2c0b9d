"""Bytes to text for a user's table: binary files refused, encoding detected, control characters checked."""

from __future__ import annotations

from territorial.indicators.table_base import _CONTENT_RE, ACCEPTED_FORMATS, TableError, _refuse

ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 avec BOM",
    "utf-16": "UTF-16",
    "cp1252": "Windows-1252 (Latin-1)",
    "latin-1": "ISO-8859-1 (Latin-1)",
}

_BINARY_MAGIC = (
    (b"\x89PNG", "une image PNG"),
    (b"\xff\xd8\xff", "une image JPEG"),
    (b"GIF8", "une image GIF"),
    (b"%PDF", "un document PDF"),
    (b"\x1f\x8b", "une archive compressée (gzip) : décompressez-la d'abord"),
    (b"7z\xbc\xaf", "une archive 7-Zip : décompressez-la d'abord"),
    (b"Rar!", "une archive RAR : décompressez-la d'abord"),
    (
        b"\xd0\xcf\x11\xe0",
        (
            "un classeur Excel à l'ancien format (.xls) ou protégé par mot de passe : "
            "ouvrez-le dans un tableur et enregistrez-le au format .xlsx sans mot de passe"
        ),
    ),
)


def _decode(data: bytes, name: str) -> tuple[str, str]:
    """Decode bytes: UTF-16 (BOM), UTF-8 (with or without BOM), cp1252, else latin-1."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    if b"\x00" in data[:65536]:
        raise _binary_error(name)
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _binary_error(name: str) -> TableError:
    """Error for binary content that is not a known table format."""
    return TableError(
        f"Le fichier « {name} » ne contient pas de texte lisible (contenu binaire) : "
        f"format non reconnu. Formats acceptés : {ACCEPTED_FORMATS}."
    )


def _check_text(text: str, name: str) -> None:
    """Reject binary noise, web pages, JSON/XML and blank files saved as CSV."""
    head = text[:65536]
    controls = sum(1 for ch in head if ch < " " and ch not in "\t\n\r\f\v")
    controls += head.count("\x7f") + head.count("\ufffd")
    if head and controls / len(head) > 0.005:
        raise _binary_error(name)
    start = head.lstrip("\ufeff \t\r\n").lower()
    if start.startswith("<!doctype") or "<html" in start[:1024] or "<body" in start[:4096]:
        raise TableError(
            f"Le fichier « {name} » est une page web (HTML), pas un tableau : c'est "
            "probablement une page d'erreur enregistrée à la place des données. "
            "Téléchargez à nouveau le fichier depuis le site d'origine."
        )
    if start.startswith("<?xml"):
        raise _refuse(name, "un document XML")
    if start.startswith("{"):
        raise _refuse(name, "un document JSON")
    if not _CONTENT_RE.search(text):
        raise TableError(
            f"Le fichier « {name} » est vide (aucune valeur, seulement des séparateurs)."
        )
