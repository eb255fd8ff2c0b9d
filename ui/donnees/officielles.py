"""Données, tab « Données officielles »: status and update of the official sources."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from territorial.sources.download import admin_origin, may_update_official
from territorial.sources.manifest import ROW_LABELS
from territorial.text.formatting import format_bytes, format_number
from territorial.text.safetext import inert
from ui.donnees.common import (
    date_text,
    flash,
    official_module,
    show_flash,
)
from ui.state import store


def _rows_text(rows: dict | None) -> str:
    if not rows:
        return ""
    return " ; ".join(
        f"{format_number(n)} {ROW_LABELS.get(level, level)}" for level, n in rows.items()
    )


def _status_entries(manifest: dict) -> dict[str, dict]:
    """Per source id: French state (``etat``, ``message``), date, rows, sha256, size."""
    if official_module() is not None:
        from territorial.sources.official_status import status_fr

        try:
            return {e["id"]: e for e in status_fr(store())}
        except Exception:
            pass
    from territorial.sources.status import statuses

    out = {}
    for source_id, status in statuses().items():
        status = status or {}
        error = status.get("error")
        if not status.get("fetched_at"):
            etat, message = "absent", "Jamais téléchargée."
        elif status.get("ok"):
            etat = "à jour"
            message = f"Données téléchargées le {date_text(status['fetched_at'])}."
        else:
            etat = "échec de la dernière mise à jour"
            message = (
                f"La dernière mise à jour a échoué ({error}) ; la version en cache reste utilisée."
            )
        out[source_id] = {
            "id": source_id,
            "libelle": manifest[source_id]["label"],
            "millesime": str(status.get("vintage") or manifest[source_id].get("vintage", "")),
            "etat": etat,
            "message": message,
            "telecharge_le": date_text(status.get("fetched_at")),
            "lignes_texte": _rows_text(status.get("rows")),
            "sha256": status.get("sha256"),
            "taille": format_bytes(status["size"]) if status.get("size") else "",
        }
    return out


def _status_frame(entries: dict[str, dict]) -> pd.DataFrame:
    """One row per official source: vintage, date, rows, sha256, state."""
    rows = list(entries.values())
    return pd.DataFrame(
        {
            "Source": [e["libelle"] for e in rows],
            "Millésime": [e["millesime"] for e in rows],
            "État": [e["etat"] for e in rows],
            "Téléchargée le": [e.get("telecharge_le") or "" for e in rows],
            "Lignes": [e.get("lignes_texte") or "" for e in rows],
            "Empreinte (sha256)": [(e.get("sha256") or "")[:12] for e in rows],
            "Taille": [e.get("taille") or "" for e in rows],
            "Détail": [e["message"] for e in rows],
        }
    )


STATE_BADGES = {"à jour": "green", "absent": "gray"}
STATE_LABELS = {"absent": "non téléchargée"}


def _after_fetch(source_id: str) -> str | None:
    """Rebuild the store so the new official data are used; the French status of the source."""
    from ui.state import refresh_store

    refresh_store()
    official = official_module()
    if official is None:
        return None
    return official.register_official(store(), [source_id]).get(source_id)


def _run_fetch(source_id: str, spec: dict) -> None:
    """Update one source from the official addresses (or the administrator's mirror)."""
    from territorial.sources.fetch import fetch
    from territorial.sources.manifest import FetchError

    label = spec.get("short_label") or spec["label"]
    bar = st.progress(0.0, text=f"{label} : connexion…")
    state = {"resource": "", "last": 0.0}

    def on_resource(resource: str, _where: str) -> None:
        state["resource"] = resource
        bar.progress(0.0, text=f"{label} — {resource} : connexion…")

    def progress(done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - state["last"] < 0.2 and not (total and done >= total):
            return
        state["last"] = now
        if total:
            bar.progress(
                min(done / total, 1.0),
                text=f"{label} — {state['resource']} : {format_bytes(done)} sur {format_bytes(total)}",
            )
        else:
            bar.progress(0.0, text=f"{label} — {state['resource']} : {format_bytes(done)} reçus")

    try:
        result = fetch(source_id, progress=progress, on_resource=on_resource)
    except FetchError as err:
        bar.empty()
        st.error(inert(err.message), icon=":material/cloud_off:")
        return
    except Exception as err:
        bar.empty()
        st.error(
            inert(f"Mise à jour de « {label} » impossible ({type(err).__name__} : {err}).")
            + " Les données déjà en cache restent utilisées.",
            icon=":material/error:",
        )
        return
    bar.progress(1.0, text=f"{label} : téléchargé et contrôlé")
    loaded = None
    with st.spinner("Prise en compte des nouvelles données…"):
        try:
            loaded = _after_fetch(source_id)
        except Exception as err:
            st.warning(inert(f"Données téléchargées, mais non intégrées aux indicateurs : {err}"))
    text = inert(f"« {label} » mis à jour : {_rows_text(result.parsed.rows)}.")
    if loaded:
        text += "\n\n" + inert(f"Indicateurs : {loaded}")
    if source_id == "crte":
        text += (
            "\n\nPour utiliser ces périmètres, ouvrez l'onglet « Périmètres » et choisissez "
            "« CRTE officiels téléchargés »."
        )
    if result.warnings:
        text += "\n\n" + "\n".join(f"- {inert(w)}" for w in result.warnings)
    flash("official", "success", text)
    st.rerun()


def _may_update() -> bool:
    """The deployment lets this visitor update the data every visitor sees."""
    user = st.user.to_dict()
    return may_update_official(user.get("email"), bool(user.get("is_logged_in")))


def section_official() -> None:
    from territorial.sources.manifest import load_manifest

    st.subheader("Mettre à jour les données officielles")
    st.markdown(
        "Les sources ouvertes (ANCT, Insee) sont téléchargées depuis data.gouv.fr et insee.fr, "
        "contrôlées, puis gardées en cache sur ce poste. En cas d'échec (pas de connexion, "
        "fichier modifié…), **la version déjà en cache reste utilisée**."
    )
    show_flash("official")
    manifest = load_manifest()
    entries = _status_entries(manifest)
    allowed = _may_update()
    if not allowed:
        st.info(
            "Une mise à jour remplace les données que voient tous les visiteurs : elle est "
            "faite par l'administrateur du serveur (commande `python -m territorial fetch`, "
            "ou réglage `TERRITORIAL_OFFICIAL_UPDATES`). Voici l'état des données en place.",
            icon=":material/lock:",
        )
    elif admin_origin():
        st.caption(
            "Les fichiers sont pris sur le miroir (ou le dossier) choisi par l'administrateur "
            "du serveur, puis contrôlés de la même façon."
        )
    for source_id, spec in manifest.items():
        entry = entries.get(source_id, {})
        etat = entry.get("etat", "absent")
        message = entry.get("message", "")
        if etat == "absent" and not entry.get("erreur"):
            message = "Jamais téléchargée : ses indicateurs ne sont pas encore disponibles."
        details = [
            entry.get("lignes_texte"),
            f"sha256 {entry['sha256'][:12]}" if entry.get("sha256") else "",
            entry.get("taille"),
        ]
        with st.container(border=True):
            text, button = st.columns([4, 1], vertical_alignment="center")
            text.markdown(
                f"**{inert(spec['label'])}**  \n{inert(spec['publisher'])} — millésime "
                f"{inert(spec.get('vintage', ''))} — {inert(spec['licence'])}  \n"
                f":{STATE_BADGES.get(etat, 'orange')}-badge[{inert(STATE_LABELS.get(etat, etat))}] "
                + inert(message)
            )
            shown = " · ".join(d for d in details if d)
            if shown:
                text.caption(inert(shown))
            if allowed and button.button(
                "Mettre à jour", key=f"maj-{source_id}", icon=":material/sync:", width="stretch"
            ):
                with text:
                    _run_fetch(source_id, spec)
    with st.expander("Tableau récapitulatif des sources officielles"):
        st.dataframe(
            _status_frame(entries),
            hide_index=True,
            width="stretch",
            column_config={"Détail": st.column_config.TextColumn(width="large")},
        )
