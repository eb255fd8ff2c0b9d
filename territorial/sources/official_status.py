"""The French status line of each official source (loaded, vintage, rows, failures)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np

from territorial.indicators.store import IndicatorStore, OfficialIndicators
from territorial.sources.manifest import FetchError, load_manifest
from territorial.sources.official_build import _Loaded
from territorial.sources.official_catalogue import (
    _LEVEL_PLURALS,
    ABSENT_FR,
    TABLE_PREFIX,
    indicators_for,
)
from territorial.sources.status import cached_files, status
from territorial.text.formatting import count_text, format_bytes, format_number

__all__ = ["status_fr"]


def _date_fr(iso: str | None) -> str | None:
    """``2025-03-12T09:03:00+00:00`` → ``12/03/2025 à 10:03`` (heure de Paris)."""
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    try:
        from zoneinfo import ZoneInfo

        moment = moment.astimezone(ZoneInfo("Europe/Paris"))
        suffix = ""
    except Exception:  # no time-zone database: keep UTC and say so
        suffix = " UTC"
    return moment.strftime("%d/%m/%Y à %H:%M") + suffix


def _count(n: int, level: str) -> str:
    singular, plural = _LEVEL_PLURALS.get(level, (level, level))
    return count_text(n, singular, plural)


def _rows_text(rows: Mapping[str, int]) -> str:
    parts = []
    for level, n in rows.items():
        if level in _LEVEL_PLURALS:
            parts.append(_count(int(n), level))
        elif level == "perimetre_rows":
            parts.append(f"{format_number(int(n), 0)} lignes EPCI–CRTE")
        elif level == "groupements_rows":
            parts.append(f"{format_number(int(n), 0)} lignes groupements")
    return ", ".join(parts)


def _loaded_message(source_id: str, loaded: _Loaded, table: OfficialIndicators | None) -> str:
    parsed = loaded.parsed
    record = status(source_id) or {}
    date = _date_fr(record.get("fetched_at"))
    if source_id == "crte":
        rows = parsed.tables.get("perimetre_rows")
        n_crte = int(rows["id_crte"].replace("", np.nan).nunique()) if rows is not None else 0
        details = f"millésime {parsed.vintage}, {format_number(n_crte, 0)} CRTE"
        if date:
            details += f", téléchargé le {date}"
        text = f"disponible ({details}) : à activer comme jeu de périmètres"
    else:
        details = f"millésime {parsed.vintage}, {_rows_text(parsed.rows)}"
        if date:
            details += f" ; téléchargé le {date}"
        text = f"chargé ({details})"
        if table is not None:
            unmatched = table.report.get("non_rattaches", 0)
            if unmatched:
                text += f" ; {format_number(unmatched, 0)} code(s) non rattaché(s)"
            for note in table.report.get("notes", []):
                if "indisponible" in note:
                    text += f" ; {note.rstrip('.')}"
    if loaded.previous_note:
        text += f" — {loaded.previous_note}"
    return text


def _size_text(size: float | None) -> str | None:
    return format_bytes(size) if size else None


def status_fr(store: IndicatorStore | None = None) -> list[dict[str, Any]]:
    """State of every official source, for the Données page.

    Parameters
    ----------
    store : IndicatorStore, optional
        When given, ``charge`` tells whether the source's indicators are in the store.

    Returns
    -------
    list of dict
        One dict per source of the manifest, with French keys: ``id``, ``libelle``,
        ``editeur``, ``millesime``, ``licence``, ``page``, ``present`` (data in the
        cache), ``ok`` (last attempt succeeded; None if never tried), ``etat``
        (``"à jour"``, ``"échec de la dernière mise à jour"`` or ``"absent"``),
        ``message`` (one French sentence), ``telecharge_le``, ``derniere_tentative``,
        ``lignes`` (per level), ``lignes_texte``, ``sha256``, ``taille``, ``erreur``,
        ``avertissements``, ``indicateurs`` (ids), ``a_verifier`` (resources whose
        address is unconfirmed), ``charge`` and ``rattachement`` (French join report
        lines of the loaded source).

    Examples
    --------
    >>> import tempfile
    >>> from unittest import mock
    >>> with mock.patch.dict("os.environ", {"TERRITORIAL_CACHE_DIR": tempfile.mkdtemp()}):
    ...     [(s["id"], s["etat"]) for s in status_fr()][:2]
    [('crte', 'absent'), ('filosofi', 'absent')]
    """
    manifest = load_manifest()
    out = []
    for source_id, spec in manifest.items():
        record = status(source_id) or {}
        try:
            present = cached_files(source_id) is not None
        except FetchError:
            present = False
        ok = record.get("ok") if record else None
        date = _date_fr(record.get("fetched_at"))
        rows = {k: int(v) for k, v in (record.get("rows") or {}).items()} if present else {}
        error = record.get("error")
        if not present:
            etat = "absent"
            message = ABSENT_FR[0].upper() + ABSENT_FR[1:] + "."
            if error:
                message += f" Dernière tentative en échec : {error}"
        elif ok is False:
            etat = "échec de la dernière mise à jour"
            message = (
                f"La dernière mise à jour a échoué ({error}) ; les données téléchargées le "
                f"{date or '?'} restent utilisées."
            )
        else:
            etat = "à jour"
            when = f"téléchargées le {date}" if date else "présentes dans le cache"
            message = f"Données {when} ({_rows_text(rows) or 'détail inconnu'})."
        checks = [
            f"{details.get('label', name)} : {details.get('note', 'adresse à vérifier')}"
            for name, details in spec["resource_details"].items()
            if details.get("a_verifier")
        ]
        entry = {
            "id": source_id,
            "libelle": spec["label"],
            "editeur": spec["publisher"],
            "millesime": str(spec["vintage"]),
            "licence": spec["licence"],
            "licence_url": spec.get("licence_url"),
            "page": spec.get("page_url"),
            "present": present,
            "ok": ok,
            "etat": etat,
            "message": message,
            "telecharge_le": date if present else None,
            "telecharge_le_iso": record.get("fetched_at") if present else None,
            "derniere_tentative": _date_fr(record.get("attempted_at")),
            "lignes": rows,
            "lignes_texte": _rows_text(rows),
            "sha256": record.get("sha256") if present else None,
            "taille": _size_text(record.get("size")) if present else None,
            "erreur": error,
            "avertissements": list(record.get("warnings") or []) if present else [],
            "indicateurs": [i.id for i in indicators_for(source_id, manifest=manifest)],
            "a_verifier": checks,
            "charge": None,
            "rattachement": [],
        }
        if store is not None:
            table = store.official_tables.get(TABLE_PREFIX + source_id)
            entry["charge"] = table is not None
            if table is not None:
                entry["rattachement"] = [
                    line
                    for report in table.report.get("jointures", {}).values()
                    for line in report.summary_fr()
                ] + list(table.report.get("notes", []))
        out.append(entry)
    return out
