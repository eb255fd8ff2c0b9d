"""Données, tab « Catalyseurs »: catalyst lists, their placement report."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from territorial.storage.workspace import slugify
from territorial.text.formatting import count_text, format_number
from territorial.text.safetext import inert
from ui.donnees.common import (
    UNPLACED,
    attempt,
    bullets,
    listing,
    name_to_save,
    page_link,
    read_only,
    show_error,
    show_flash,
    uploaded_file,
)
from ui.state import geography, workspace

CATALYST_DIR = Path(__file__).resolve().parents[2] / "data" / "catalysts"


@st.cache_resource(show_spinner="Placement des catalyseurs…", max_entries=4)
def _load_catalysts(digest: str, _data: bytes, filename: str):
    from territorial.analysis.catalysts import load_catalysts

    return load_catalysts(_data, geography(), name=filename)


CATALYST_LISTS = (
    ("unplaced", "Lignes non localisées", {"ligne": "Ligne", "nom": "Nom", "raison": "Raison"}),
    ("remapped", "Codes communes remplacés", None),
    ("unknown_codes", "Codes communes inconnus", None),
    ("ambiguous_postcodes", "Codes postaux communs à plusieurs communes", None),
    ("unknown_postcodes", "Codes postaux inconnus", None),
    ("outside_france", "Points hors de toute commune française", None),
    ("unreadable_coordinates", "Coordonnées illisibles", None),
    ("swapped", "Latitude et longitude inversées (corrigées)", None),
    ("disagreements", "Localisations contradictoires", None),
    ("unknown_kinds", "Types non reconnus (classés « Autre »)", None),
    ("duplicates", "Doublons (même nom, même commune)", None),
)


_COLUMN_NAMES = {"regle": "Correction", "code_retenu": "Code retenu"}


def _all_columns(rows: list[dict]) -> dict[str, str]:
    names = {}
    for row in rows[:50]:
        for key in row:
            names.setdefault(key, _COLUMN_NAMES.get(key, key.replace("_", " ").capitalize()))
    return names


def section_catalysts() -> None:
    st.subheader("Catalyseurs territoriaux")
    show_flash("catalysts")
    if read_only():
        return
    try:
        import territorial.analysis.catalysts  # noqa: F401 - the loader, used by _load_catalysts
    except ImportError:
        st.info("Le chargement des catalyseurs est en cours de préparation.")
        return
    folder = CATALYST_DIR
    try:
        from territorial.analysis.catalysts_example import EXAMPLE_PATH

        folder = Path(EXAMPLE_PATH).parent
    except ImportError:
        pass
    st.markdown(
        "Une ligne par catalyseur : **nom**, **type** (association, entreprise, collectivité, "
        "acteur académique) et une localisation : **code commune INSEE**, ou **latitude et "
        "longitude**, ou **code postal**. Aucune liste réelle n'est publique : chargez la vôtre."
    )
    template = folder / "modele_catalyseurs.csv"
    example = folder / "catalyseurs_fictifs.csv"  # FICTIONAL list (catalysts_example.py)
    left, right = st.columns(2)
    if template.exists():
        left.download_button(
            "Télécharger le modèle vide (CSV)",
            template.read_bytes(),
            file_name=template.name,
            mime="text/csv",
            icon=":material/download:",
            key="modele-catalyseurs",
        )
    if example.exists():
        right.download_button(
            "Télécharger l'exemple FICTIF (CSV)",
            example.read_bytes(),
            file_name=example.name,
            mime="text/csv",
            icon=":material/download:",
            key="exemple-catalyseurs",
        )
        right.caption(
            "**FICTIF** : catalyseurs inventés (générés par un script), pour essayer l'outil. "
            "Ne pas diffuser comme des données réelles."
        )
    picked = uploaded_file("Liste de catalyseurs", "catalyseurs-fichier")
    if picked is None:
        return
    data, filename, digest = picked
    try:
        catalysts, report = _load_catalysts(digest, data, filename)
    except Exception as err:
        show_error(err, filename)
        return
    if catalysts.fictional:
        st.warning(
            "**Liste FICTIVE** : ces catalyseurs n'existent pas. Elle sera enregistrée et "
            "affichée comme fictive.",
            icon=":material/warning:",
        )
    if report.unplaced:
        st.warning(
            f"**Liste incomplète : {count_text(len(report.unplaced), *UNPLACED)}** sur {format_number(report.rows_read)}.",
            icon=":material/warning:",
        )
    else:
        st.success(
            f"Les {format_number(report.placed)} catalyseurs sont localisés dans une commune.",
            icon=":material/check_circle:",
        )
    bullets(report.summary_fr())
    for attribute, title, columns in CATALYST_LISTS:
        rows = getattr(report, attribute, []) or []
        listing(title, rows, columns or _all_columns(rows), f"cat_{attribute}_{digest}")
    with st.expander("Aperçu des catalyseurs localisés"):
        shown = [
            c
            for c in ("ligne", "nom", "type_libelle", "commune", "nom_commune", "placement")
            if c in catalysts.table.columns
        ]
        st.dataframe(catalysts.table[shown].head(500), hide_index=True, width="stretch")
    name, problem = name_to_save(
        "Nom de la liste", filename, f"catalyseurs-nom-{digest}", "catalyseurs"
    )
    if st.button(
        "Enregistrer la liste",
        type="primary",
        disabled=bool(problem),
        key=f"catalyseurs-enregistrer-{digest}",
        icon=":material/save:",
    ):
        meta = {
            "rapport": report.to_dict(),
            "fictif": bool(catalysts.fictional),
            "source": filename,
        }
        ws = workspace()
        saved, slug = attempt(
            "enregistrer la liste",
            ws.save_table,
            name,
            "commune",
            catalysts.table,
            meta,
            kind="catalyseurs",
            expected=ws.table_version(slugify(name)),
        )
        if not saved:
            return
        st.success(
            inert(f"Liste « {name} » enregistrée")
            + " : elle est proposée dans le choix de la liste de catalyseurs.",
            icon=":material/check_circle:",
        )
        page_link(
            "views/catalyseurs.py",
            "Voir les catalyseurs",
            icon=":material/hub:",
            query_params={"catalyseurs": slug},
        )
