"""Shared pieces of the Données page: constants, escaping, messages, listings.

Every user-provided string shown on the page goes through :func:`territorial.text.safetext.inert` (Markdown and
HTML neutralised) or into ``st.dataframe``; every problem with a file is shown as a French
sentence (``TableError.message``, ``FetchError.message``), never as a traceback.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import logging
from pathlib import Path

import pandas as pd
import streamlit as st

from territorial.geo.geography import resolution_label
from territorial.indicators.table_base import (
    ACCEPTED_FORMATS,
    MAX_BYTES,
    MAX_CELLS,
    MAX_ROWS,
    TableError,
)
from territorial.outputs.export import to_csv_bytes
from territorial.storage import StorageError
from territorial.storage.workspace import slugify
from territorial.text.formatting import format_bytes, format_number
from territorial.text.safetext import inert
from ui.state import workspace

TABLE_TYPES = ["csv", "txt", "tsv", "xlsx", "xlsm", "parquet"]
MAX_MB = MAX_BYTES // (1024 * 1024)
LIMITS = (
    f"Formats acceptés : {ACCEPTED_FORMATS}. Au plus {MAX_MB} Mo, "
    f"{format_number(MAX_ROWS)} lignes et {format_number(MAX_CELLS // 1_000_000)} millions "
    "de cases par fichier."
)
TYPE_LABELS = {"indicateurs": "Indicateurs", "catalyseurs": "Catalyseurs"}


def bullets(lines: list[str]) -> None:
    if lines:
        st.markdown("\n".join(f"- {inert(line)}" for line in lines))


UNMATCHED = ("ligne non rattachée", "lignes non rattachées")
UNPLACED = ("ligne non localisée", "lignes non localisées")


def fr_value(value: object) -> str:
    """A parsed value written the French way (``7,5``; missing → ``–``)."""
    if value is None or pd.isna(value):
        return "–"
    number = float(value)
    for decimals in range(4):
        if abs(number - round(number, decimals)) < 1e-9:
            return format_number(number, decimals)
    return format_number(number, 4)


def content_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def date_text(value: object) -> str:
    """ISO timestamp → « 24/11/2026 à 10:05 » (empty when missing)."""
    if not value:
        return ""
    try:
        stamp = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone()
    return stamp.strftime("%d/%m/%Y à %H:%M")


def flash(section: str, kind: str, text: str) -> None:
    """A message shown once, after the rerun that follows an action."""
    st.session_state.setdefault("donnees-messages", {})[section] = (kind, text)


def show_flash(section: str) -> None:
    message = st.session_state.get("donnees-messages", {}).pop(section, None)
    if message:
        kind, text = message
        getattr(st, kind)(text)


def listing(title: str, rows: list[dict], columns: dict[str, str], key: str) -> None:
    """An expander with a table of report rows (and its CSV), when there are rows."""
    if not rows:
        return
    frame = pd.DataFrame(rows)
    if "regle" in frame.columns:  # a code-resolution rule: say what was done, in French
        frame["regle"] = frame["regle"].map(resolution_label)
    frame = frame[[c for c in columns if c in frame.columns]].rename(columns=columns)
    for column in frame.columns:
        if frame[column].map(lambda v: isinstance(v, list | tuple | dict)).any():
            frame[column] = frame[column].map(
                lambda v: ", ".join(map(str, v)) if isinstance(v, list | tuple) else str(v)
            )
    with st.expander(f"{title} ({format_number(len(rows))})"):
        st.dataframe(frame, hide_index=True, width="stretch")
        st.download_button(
            "Télécharger cette liste (CSV)",
            to_csv_bytes(frame),
            file_name=f"{key}.csv",
            mime="text/csv",
            key=f"csv-{key}",
        )


def page_link(page: str, label: str, **kwargs) -> None:
    """A link to another page, skipped when that page is not (yet) in the navigation."""
    try:
        st.page_link(page, label=label, **kwargs)
    except Exception:  # page not registered in app.py
        return


_LOG = logging.getLogger(__name__)
_STORAGE_REASONS = {
    errno.ENAMETOOLONG: "le nom est trop long pour le stockage, raccourcissez-le",
    errno.ENOSPC: "le disque du serveur est plein",
    errno.EDQUOT: "le quota de stockage du serveur est atteint",
    errno.EACCES: "le dossier de travail du serveur n'est pas accessible en écriture",
    errno.EPERM: "le dossier de travail du serveur n'est pas accessible en écriture",
    errno.EROFS: "le dossier de travail du serveur est en lecture seule",
    errno.ENOENT: "l'élément n'existe plus (supprimé entre-temps ?)",
}
NAME_BYTES = 120  # longest stored name (its slug, in bytes): folder names stay portable


def failure_reason(err: BaseException) -> str:
    """Any failure as a short French reason, without server paths nor English text."""
    if isinstance(err, TableError):
        return err.message
    if isinstance(err, StorageError):  # conflict, read-only atelier…: already French
        return err.message.rstrip(".")
    if isinstance(err, OSError):
        return _STORAGE_REASONS.get(err.errno, "erreur d'accès au stockage du serveur")
    if isinstance(err, ValueError | KeyError | TypeError):
        return "les données enregistrées sont illisibles ou incomplètes"
    return "erreur inattendue du serveur (elle est consignée dans son journal)"


def attempt(what: str, action, *args, **kwargs) -> tuple[bool, object]:
    """Run one save, load, rename or delete; a failure is shown as a French sentence.

    Returns ``(True, result)``, or ``(False, None)`` after showing « Impossible de
    <what> : <reason>. » (the details go to the server log, never to the page).
    """
    try:
        return True, action(*args, **kwargs)
    except Exception as err:  # any storage failure: a message, never a traceback
        _LOG.warning("Données: %s failed", what, exc_info=True)
        verb = f"d'{what}" if what[:1] in "aeéiou" else f"de {what}"
        st.error(inert(f"Impossible {verb} : {failure_reason(err)}."), icon=":material/error:")
        return False, None


def show_error(err: Exception, filename: str) -> None:
    """Bad input as a French sentence; anything unexpected without a traceback."""
    if isinstance(err, TableError):
        st.error(inert(err.message), icon=":material/error:")
    else:
        _LOG.warning("Données: reading %r failed", filename, exc_info=True)
        st.error(
            inert(f"Le fichier « {filename} » n'a pas pu être traité : {failure_reason(err)}.")
            + " Vérifiez son contenu ou enregistrez-le au format CSV.",
            icon=":material/error:",
        )


def name_conflict(name: str, kind: str) -> str | None:
    """Why ``name`` cannot be used for a new table of ``kind`` (None when it can)."""
    if not name.strip():
        return "Donnez un nom au tableau."
    slug = slugify(name)
    if len(slug.encode()) > NAME_BYTES:
        return "Ce nom est trop long une fois écrit en caractères simples : raccourcissez-le."
    for meta in workspace().tables():
        if meta["slug"] == slug and meta.get("type", "indicateurs") != kind:
            other = TYPE_LABELS.get(meta.get("type"), meta.get("type")).lower()
            return f"Le nom « {meta['nom']} » est déjà pris par un tableau de type {other}."
    return None


def read_only() -> bool:
    """True, with a French note, when this session may not change its atelier's data."""
    if workspace().editable:
        return False
    st.info(
        "Atelier ouvert en lecture seule : seul le lien d'édition de l'animateur permet "
        "d'ajouter, de modifier ou de supprimer.",
        icon=":material/lock:",
    )
    return True


def official_module():
    try:
        from territorial.sources import official
    except ImportError:
        return None
    return official


def uploaded_file(label: str, key: str) -> tuple[bytes, str, str] | None:
    """A table file picked by the user: its bytes, name and content digest (None before)."""
    uploaded = st.file_uploader(
        label, type=TABLE_TYPES, key=key, help=LIMITS, max_upload_size=MAX_MB
    )
    if uploaded is None:
        return None
    data = uploaded.getvalue()
    st.caption(f"Fichier reçu : « {inert(uploaded.name)} », {format_bytes(len(data))}.")
    return data, uploaded.name, content_digest(data)


def name_to_save(label: str, filename: str, key: str, kind: str) -> tuple[str, str | None]:
    """The name to save an upload under (default: the file name) and why it cannot be used."""
    name = st.text_input(label, value=Path(filename).stem[:80], max_chars=80, key=key).strip()
    problem = name_conflict(name, kind)
    if problem:
        st.warning(inert(problem))
    return name, problem
