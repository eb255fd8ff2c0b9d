"""Données, tab « Périmètres »: CRTE files, workshop perimeter sets, the active set."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from territorial.perimeters.model import REFERENCE_COUNTS, PerimeterSet
from territorial.text.formatting import format_number
from territorial.text.safetext import inert
from ui.donnees.common import (
    attempt,
    bullets,
    content_digest,
    date_text,
    flash,
    listing,
    official_module,
    read_only,
    show_error,
    show_flash,
    uploaded_file,
)
from ui.state import geography, workspace

PERIMETER_KINDS = {
    "officiel": "officiel (fichier CRTE de l'ANCT)",
    "utilisateur": "jeu d'atelier (fourni par l'utilisateur)",
    "par_epci": "repli : un périmètre par EPCI",
}


@st.cache_resource(show_spinner="Lecture et contrôle des périmètres…", max_entries=4)
def _load_perimeters(digest: str, _data: bytes, filename: str, kind: str, name: str):
    from territorial.perimeters.crte_layout import load_crte
    from territorial.perimeters.userfiles import load_user_perimeters

    if kind == "officiel":
        return load_crte(_data, geography(), name or None, filename=filename)
    return load_user_perimeters(_data, geography(), name, filename=filename)


SOURCE_LABELS = {
    "fichier": "Fichier",
    "editeur": "Éditeur",
    "jeu_de_donnees": "Jeu de données",
    "licence": "Licence",
    "millesime": "Millésime",
    "telecharge_le": "Téléchargé le",
    "sha256": "Empreinte sha256",
    "version": "Version",
}


def _source_caption(source: dict) -> None:
    """Provenance of the active perimeter set, in French."""
    parts = []
    if source.get("description"):
        parts.append(str(source["description"]))
    for key, label in SOURCE_LABELS.items():
        value = source.get(key)
        if not value:
            continue
        if key == "telecharge_le":
            value = date_text(value)
        elif key == "sha256":
            value = str(value)[:12]
        parts.append(f"{label} : {value}")
    if parts:
        st.caption(" · ".join(inert(p) for p in parts))


def _counts(pset: PerimeterSet) -> dict[str, int]:
    table = pset.perimetres
    if "code" in table.columns:
        used = set(pset.membership.dropna().unique())
        table = table[table["code"].isin(used)]
    mono = int((table["portage"] == "un EPCI").sum()) if "portage" in table.columns else len(table)
    return {"total": len(table), "mono_epci": mono, "multi_epci": len(table) - mono}


def _reference_table(counts: dict[str, int]) -> pd.DataFrame:
    labels = {
        "total": "Périmètres",
        "mono_epci": "portés par un seul EPCI",
        "multi_epci": "portés par plusieurs EPCI",
    }
    return pd.DataFrame(
        {
            "": list(labels.values()),
            "Jeu actif": [counts[k] for k in labels],
            "Référence CRTE": [REFERENCE_COUNTS[k] for k in labels],
            "Écart": [counts[k] - REFERENCE_COUNTS[k] for k in labels],
        }
    )


REPORT_LISTS = (
    (
        "unknown_codes",
        "Codes non reconnus (lignes non utilisées)",
        {
            "ligne": "Ligne",
            "code": "Code",
            "nature": "Nature",
            "perimetre": "Périmètre",
            "motif": "Motif",
        },
    ),
    (
        "duplicate_rows",
        "Lignes en double (ignorées)",
        {"ligne": "Ligne", "ligne_premiere": "Première occurrence", "code": "Code"},
    ),
    (
        "nature_issues",
        "Natures juridiques à vérifier",
        {"ligne": "Ligne", "code": "Code", "nature": "Nature", "motif": "Motif"},
    ),
    (
        "counted_twice",
        "Unités citées dans deux périmètres",
        {
            "niveau": "Niveau",
            "code": "Code",
            "nom": "Nom",
            "perimetre_retenu": "Gardé dans",
            "ligne_retenue": "Ligne",
            "perimetre_ecarte": "Écarté de",
            "ligne_ecartee": "Ligne écartée",
        },
    ),
    (
        "detached_communes",
        "Communes rattachées à un autre périmètre que leur EPCI",
        {
            "commune": "Commune",
            "nom": "Nom",
            "perimetre": "Périmètre",
            "perimetre_epci": "Périmètre de l'EPCI",
        },
    ),
    (
        "remapped_codes",
        "Codes communes corrigés",
        {
            "ligne": "Ligne",
            "code": "Code du fichier",
            "code_retenu": "Code retenu",
            "motif": "Motif",
        },
    ),
    (
        "empty_perimetres",
        "Périmètres sans commune reconnue (écartés)",
        {"code": "Code", "nom": "Nom"},
    ),
    (
        "inter_regional",
        "Périmètres sur plusieurs régions",
        {"code": "Code", "nom": "Nom", "regions_noms": "Régions"},
    ),
    (
        "inter_departemental",
        "Périmètres sur plusieurs départements",
        {"code": "Code", "nom": "Nom", "departements_noms": "Départements"},
    ),
    (
        "file_flag_mismatches",
        "Indications du fichier contredites par la géographie",
        {
            "code": "Code",
            "nom": "Nom",
            "champ": "Champ",
            "fichier": "Fichier",
            "calcule": "D'après la géographie",
        },
    ),
)


def _show_validation(report, digest: str) -> None:
    bullets(report.summary_fr())
    for attribute, title, columns in REPORT_LISTS:
        listing(title, getattr(report, attribute, []) or [], columns, f"{attribute}_{digest}")
    for scope, label in (("metropole", "métropole"), ("outre_mer", "outre-mer")):
        if report.kind != "officiel":
            break  # a workshop set may cover only part of France: no list of what is left out
        uncovered = (report.uncovered or {}).get(scope) or {}
        listing(
            f"EPCI de {label} dans aucun périmètre",
            uncovered.get("epcis", []),
            {"code": "SIREN", "nom": "Nom", "population": "Population"},
            f"epci_non_couverts_{scope}_{digest}",
        )
        listing(
            f"Communes de {label} hors de tout périmètre",
            uncovered.get("communes", []),
            {"code": "Code", "nom": "Nom", "population": "Population"},
            f"communes_non_couvertes_{scope}_{digest}",
        )
    if report.missing_columns:
        st.caption(
            inert(
                "Colonnes du modèle officiel absentes (non bloquant) : "
                + ", ".join(report.missing_columns)
            )
        )
    if report.perimeters:
        with st.expander(f"Liste des périmètres ({format_number(len(report.perimeters))})"):
            st.dataframe(pd.DataFrame(report.perimeters), hide_index=True, width="stretch")


def section_perimeters() -> None:
    from ui.state import activate_perimeters, perimeters_from_workspace

    st.subheader("Périmètres des Projets de territoire")
    show_flash("perimeters")
    geo = geography()
    pset = geo.perimeters
    st.markdown(
        f"**Jeu actif : {inert(pset.name)}** — {inert(PERIMETER_KINDS.get(pset.kind, pset.kind))}"
    )
    _source_caption(pset.source or {})
    counts = _counts(pset)
    cols = st.columns(3)
    for col, key, label in zip(
        cols,
        ("total", "mono_epci", "multi_epci"),
        ("Périmètres", "Portés par un seul EPCI", "Portés par plusieurs EPCI"),
        strict=True,
    ):
        col.metric(
            f"{label} (référence : {REFERENCE_COUNTS[key]})",
            format_number(counts[key]),
            delta=f"{counts[key] - REFERENCE_COUNTS[key]:+d} par rapport à la référence",
            delta_color="off",
        )
    st.caption(
        "Référence des documents sources : 833 Projets de territoire = 660 portés par un seul "
        "EPCI + 173 portés par plusieurs EPCI."
        + (
            " Le repli « un périmètre par EPCI » ne peut pas correspondre à cette référence : "
            "chargez le fichier CRTE officiel."
            if pset.kind == "par_epci"
            else ""
        )
    )
    if read_only():
        return
    if pset is not geo.default_perimeters and st.button(
        f"Revenir au jeu par défaut : {geo.default_perimeters.name}",
        key="perimetres-repli",
        icon=":material/undo:",
    ):
        activate_perimeters(geo.default_perimeters)
        flash("perimeters", "success", f"Jeu par défaut activé : {geo.default_perimeters.name}.")
        st.rerun()
    if pset.kind != "par_epci" and st.button(
        "Utiliser un périmètre par EPCI (sans fichier)",
        key="perimetres-par-epci",
        icon=":material/grid_view:",
        help="Chaque EPCI forme son propre périmètre : utile pour comparer à l'échelle des "
        "intercommunalités, sans lien avec les contrats signés.",
    ):
        fallback = PerimeterSet.one_per_epci(geo.communes)
        activate_perimeters(fallback, source_bytes=b"", filename="")
        flash("perimeters", "success", f"Jeu activé : {fallback.name}.")
        st.rerun()

    ws = workspace()
    saved = [s for s in ws.perimeter_sets() if s.get("hash") != geo.perimeters_hash]
    if saved:
        with st.expander("Jeux de périmètres déjà chargés"):
            by_slug = {s["slug"]: s for s in saved}
            chosen = st.selectbox(
                "Jeu enregistré",
                list(by_slug),
                format_func=lambda s: (
                    f"{by_slug[s]['nom']} ({by_slug[s]['fichier']}, "
                    f"{date_text(by_slug[s].get('enregistre_le'))})"
                ),
                key="perimetres-enregistres",
            )
            if st.button("Utiliser ce jeu", key="perimetres-reactiver"):
                try:
                    with st.spinner("Reconstruction des périmètres…"):
                        again, report = perimeters_from_workspace(chosen)
                        activate_perimeters(again, report=report.to_dict(), slug=chosen)
                except Exception as err:
                    show_error(err, by_slug[chosen]["fichier"])
                else:
                    flash("perimeters", "success", inert(f"Jeu « {again.name} » activé."))
                    st.rerun()

    st.markdown("#### Charger un jeu de périmètres")
    kind = st.radio(
        "Source des périmètres",
        ["telecharges", "officiel", "utilisateur"],
        format_func={
            "telecharges": "CRTE officiels téléchargés (onglet « Données officielles »)",
            "officiel": "Fichier CRTE de l'ANCT (data.gouv.fr) que vous avez sur ce poste",
            "utilisateur": "Jeu d'atelier : deux colonnes (code d'EPCI ou de commune → nom du "
            "périmètre)",
        }.get,
        key="perimetres-type",
    )
    if kind == "telecharges":
        loaded = _downloaded_crte()
        if loaded is None:
            return
        new_set, report, data, filename = loaded
        digest = content_digest(data)
    else:
        name = st.text_input(
            "Nom du jeu de périmètres",
            key="perimetres-nom",
            max_chars=80,
            placeholder="ex. CRTE ANCT septembre 2025, Alliances Loire 2026",
        ).strip()
        picked = uploaded_file("Fichier de périmètres", "perimetres-fichier")
        if picked is None:
            return
        data, filename, digest = picked
        name = name or Path(filename).stem
        try:
            new_set, report = _load_perimeters(digest, data, filename, kind, name)
        except Exception as err:
            show_error(err, filename)
            return
    st.markdown("#### Rapport de contrôle")
    if report.reference is not None:
        counts = {
            "total": report.n_perimetres,
            "mono_epci": report.n_mono_epci,
            "multi_epci": report.n_multi_epci,
        }
        st.dataframe(_reference_table(counts), hide_index=True)
    _show_validation(report, digest)
    if new_set.content_hash() == geography().perimeters_hash:
        st.info("Ces périmètres sont déjà ceux du jeu actif.")
        return
    if st.button(
        "Utiliser ces périmètres",
        type="primary",
        key=f"perimetres-activer-{digest}",
        icon=":material/check:",
    ):
        with st.spinner("Activation des périmètres…"):
            done, _ = attempt(
                "enregistrer et activer ces périmètres",
                activate_perimeters,
                new_set,
                source_bytes=data,
                filename=filename,
                report=report.to_dict(),
            )
        if not done:
            return
        flash(
            "perimeters",
            "success",
            inert(f"Périmètres « {new_set.name} » activés") + " : toutes les pages les utilisent, "
            "et ils seront rechargés au prochain démarrage.",
        )
        st.rerun()


@st.cache_resource(show_spinner="Lecture des CRTE téléchargés…", max_entries=2)
def _official_crte(signature: str):
    official = official_module()
    loaded = official.load_official_crte(geography())
    if loaded is None:
        return None
    pset, report = loaded
    path = Path(pset.source.get("fichier_cache", ""))
    data = path.read_bytes() if path.is_file() else b""
    return pset, report, data, path.name or "crte.csv"


def _downloaded_crte():
    """The CRTE set from the official-data cache (None, with a French note, when absent)."""
    from territorial.sources.status import status

    official = official_module()
    if official is None or not hasattr(official, "load_official_crte"):
        st.info("La lecture des CRTE téléchargés n'est pas encore disponible.")
        return None
    record = status("crte") or {}
    if not record.get("fetched_at"):
        st.info(
            "Les CRTE officiels n'ont pas encore été téléchargés : onglet « Données "
            "officielles », bouton « Mettre à jour » de la source CRTE. Sans connexion, "
            "chargez le fichier de l'ANCT (deuxième choix ci-dessus)."
        )
        return None
    try:
        loaded = _official_crte(f"{record.get('sha256')}-{record.get('fetched_at')}")
    except Exception as err:
        show_error(err, "crte")
        return None
    if loaded is None or not loaded[2]:
        st.info("Les CRTE téléchargés ne sont plus dans le cache : mettez-les à jour.")
        return None
    return loaded
