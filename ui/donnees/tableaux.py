"""Données, tabs « Charger un tableau » and « Mes tableaux »: import, join report, saved tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from territorial import LEVEL_LABELS
from territorial.indicators.catalogue import POLARITIES
from territorial.indicators.join import (
    KEY_LEVELS,
    JoinReport,
    default_rule,
    detect_key,
    join_table,
    to_user_indicators,
)
from territorial.indicators.sheet_reader import sheet_names
from territorial.indicators.table_base import TableError
from territorial.indicators.tables import read_table
from territorial.outputs.export import to_csv_bytes
from territorial.storage.workspace import slugify
from territorial.text.formatting import count_text, format_number
from territorial.text.safetext import inert
from ui.donnees.common import (
    LIMITS,
    TYPE_LABELS,
    UNMATCHED,
    UNPLACED,
    attempt,
    bullets,
    date_text,
    failure_reason,
    flash,
    fr_value,
    listing,
    name_to_save,
    page_link,
    read_only,
    show_error,
    show_flash,
    uploaded_file,
)
from ui.state import geography, store, workspace

RULE_LABELS = {
    "somme": "Somme (effectifs, montants)",
    "moyenne_ponderee": "Moyenne pondérée par la population",
    "min": "Minimum",
    "max": "Maximum",
}
POLARITY_LABELS = {key: text[0].upper() + text[1:] for key, text in POLARITIES.items()}


@st.cache_resource(show_spinner="Lecture du fichier…", max_entries=6)
def _read(digest: str, _data: bytes, filename: str, sheet: str | None, header_row: int | None):
    return read_table(_data, filename, sheet=sheet, header_row=header_row)


@st.cache_resource(show_spinner="Recherche de la colonne des codes…", max_entries=6)
def _guesses(read_key: tuple, _raw, perimeters_hash: str):
    return detect_key(_raw, geography())


@st.cache_resource(show_spinner="Rattachement aux territoires…", max_entries=6)
def _join(read_key: tuple, _raw, key: str, level: str, kind: str | None, perimeters_hash: str):
    return join_table(_raw, geography(), key=key, level=level, kind=kind)


def _reading_caption(raw) -> str:
    parts = [
        {"csv": "Fichier CSV", "xlsx": "Classeur Excel", "parquet": "Fichier Parquet"}.get(
            raw.format, raw.format
        )
    ]
    if raw.encoding:
        from territorial.indicators.csv_reader import SEPARATOR_NAMES
        from territorial.indicators.decoding import ENCODING_NAMES

        parts.append(f"encodage {ENCODING_NAMES.get(raw.encoding, raw.encoding)}")
        parts.append(f"séparateur {SEPARATOR_NAMES.get(raw.separator, repr(raw.separator))}")
    if raw.sheet:
        parts.append(f"feuille « {raw.sheet} »")
    if raw.format != "parquet":
        parts.append(f"en-tête ligne {raw.header_row}")
    return (
        ", ".join(parts)
        + f" : {format_number(len(raw.frame))} lignes de données, "
        + f"{len(raw.frame.columns)} colonnes."
    )


@st.cache_resource(show_spinner=False, max_entries=6)
def _sheet_names(digest: str, _data: bytes, filename: str) -> list[str]:
    """Sheets of an Excel workbook (empty for other files or an unreadable workbook)."""
    if not _data.startswith(b"PK") or Path(filename).suffix.lower() not in {".xlsx", ".xlsm"}:
        return []
    try:
        return sheet_names(_data, filename)
    except TableError:  # the reading itself will say why, in French
        return []


def _try_read(digest, data, filename, sheet, header_row):
    """``(raw, None)`` or ``(None, TableError)``."""
    try:
        return _read(digest, data, filename, sheet, header_row), None
    except TableError as err:
        return None, err


def _read_with_options(data: bytes, filename: str, digest: str):
    """Read the file, with sheet choice and header row override; returns (raw, read key).

    The options stay available when the automatic reading fails (e.g. a first sheet
    holding only a notice), so that the user can point to the right sheet or header line.
    """
    sheets = _sheet_names(digest, data, filename)
    detected, error = _try_read(digest, data, filename, None, None)
    skipped = []
    if detected is None and len(sheets) > 1:  # e.g. a first sheet holding only a notice
        for candidate in sheets[:10]:
            found, _ = _try_read(digest, data, filename, candidate, None)
            if found is not None:
                detected = found
                break
            skipped.append(candidate)
    sheet, header_row, raw = None, None, detected
    with st.expander(
        "Options de lecture : feuille du classeur, ligne d'en-tête",
        expanded=len(sheets) > 1 or detected is None,
    ):
        if len(sheets) > 1:
            default = detected.sheet if detected is not None else None
            sheet = st.selectbox(
                "Feuille du classeur",
                sheets,
                index=sheets.index(default) if default in sheets else 0,
                key=f"feuille-{digest}",
            )
            if detected is None or sheet != detected.sheet:
                detected, error = _try_read(digest, data, filename, sheet, None)
                raw = detected
        parquet = Path(filename).suffix.lower() == ".parquet" or (
            detected is not None and detected.format == "parquet"
        )
        if not parquet:
            chosen = int(
                st.number_input(
                    "Ligne d'en-tête (numéro de la ligne des noms de colonnes dans le fichier)",
                    min_value=1,
                    value=int(detected.header_row) if detected is not None else 1,
                    step=1,
                    key=f"entete-{digest}-{sheet}",
                    help="Détectée automatiquement (les lignes de titre au-dessus du tableau "
                    "sont sautées) ; changez-la si les noms de colonnes lus ne sont pas les bons.",
                )
            )
            if detected is None or chosen != detected.header_row:
                header_row = chosen
                raw, error = _try_read(digest, data, filename, sheet, header_row)
        if skipped and raw is not None and raw.sheet != skipped[0]:
            st.caption(
                inert(
                    "Feuilles sans tableau lisible, passées : "
                    + ", ".join(f"« {name} »" for name in skipped)
                    + "."
                )
            )
        for note in raw.notes if raw is not None else []:
            st.caption(inert(note))
    if raw is None:
        raise error
    st.caption(inert(_reading_caption(raw)))
    return raw, (digest, filename, sheet, header_row)


def _choose_key(raw, read_key: tuple):
    """Key column and level: detected, then left to the user."""
    geo = geography()
    guesses = _guesses(read_key, raw, geo.perimeters_hash)
    columns = list(raw.frame.columns)
    best = guesses[0] if guesses else None
    suffix = "-".join(str(p) for p in read_key)
    left, right = st.columns(2)
    key = left.selectbox(
        "Colonne des codes de territoire (clé)",
        columns,
        index=columns.index(best.column) if best else 0,
        key=f"cle-{suffix}",
        help="La colonne qui identifie les territoires : code commune INSEE, SIREN d'EPCI, "
        "code de département ou de région, identifiant de périmètre (ou, à défaut, leurs noms).",
    )
    column_guess = next((g for g in guesses if g.column == key), None)
    levels = list(KEY_LEVELS)
    level = right.selectbox(
        "Niveau des territoires",
        levels,
        index=levels.index(column_guess.level) if column_guess else 0,
        format_func=LEVEL_LABELS.get,
        key=f"niveau-{suffix}-{key}",
    )
    guess = next((g for g in guesses if g.column == key and g.level == level), None)
    if best is None:
        st.warning(
            "Aucune colonne de codes de territoire n'a été reconnue automatiquement : "
            "choisissez la colonne clé et le niveau."
        )
    else:
        what = "codes" if best.kind == "code" else "noms"
        st.caption(
            inert(
                f"Détection automatique : colonne « {best.column} », {what} de "
                f"{LEVEL_LABELS[best.level].lower()} ({format_number(100 * best.share)} % des "
                "valeurs examinées reconnues)."
            )
        )
    if level == "perimetre":
        st.info(
            inert(
                "Les identifiants de périmètre dépendent du jeu de périmètres actif : "
                f"« {geo.perimeters.name} » (onglet « Périmètres »)."
            )
        )
    return key, level, guess.kind if guess else None


def _show_join_report(report: JoinReport, digest: str) -> None:
    n_unmatched = len(report.unmatched)
    if report.complete:
        st.success(
            f"Tableau complet : les {format_number(report.matched)} lignes sont rattachées "
            "à un territoire.",
            icon=":material/check_circle:",
        )
    else:
        st.warning(
            f"**Tableau incomplet : {count_text(n_unmatched, *UNMATCHED)}** sur "
            f"{format_number(report.rows_read)}. Les lignes non rattachées ne seront ni "
            "cartographiées ni comptées : corrigez le fichier, ou enregistrez-le en "
            "connaissance de cause.",
            icon=":material/warning:",
        )
    bullets(report.summary_fr() + report.notes)
    listing(
        "Lignes non rattachées",
        report.unmatched,
        {"ligne": "Ligne", "valeur": "Valeur", "raison": "Raison"},
        f"non_rattachees_{digest}",
    )
    listing(
        "Codes remplacés par le code actuel",
        report.remapped,
        {
            "ligne": "Ligne",
            "valeur": "Valeur du fichier",
            "code": "Code retenu",
            "regle": "Correction",
        },
        f"codes_remplaces_{digest}",
    )
    listing(
        "Territoires en double avec des valeurs différentes (écartés)",
        report.duplicates_conflicting,
        {"code": "Code", "lignes": "Lignes"},
        f"doublons_{digest}",
    )
    listing(
        "Territoires hors de France métropolitaine (gardés)",
        report.out_of_scope,
        {"code": "Code", "raison": "Raison"},
        f"hors_metropole_{digest}",
    )
    if report.ignored_columns:
        st.caption(
            inert(
                "Colonnes ignorées (non numériques) : "
                + ", ".join(f"« {c} »" for c in report.ignored_columns)
            )
        )


def _column_settings(columns: list[str], suffix: str) -> tuple[dict, dict, dict]:
    """Aggregation rule, unit and polarity of each numeric column."""
    st.markdown("**Réglage des colonnes à cartographier**")
    st.caption(
        "L'agrégation dit comment passer des territoires du fichier aux niveaux plus larges "
        "(ex. des communes aux départements) : somme pour des effectifs, moyenne pondérée par "
        "la population pour des taux ou des moyennes. La polarité sert au repérage des fragilités."
    )
    rule_names = {label: key for key, label in RULE_LABELS.items()}
    polarity_names = {label: key for key, label in POLARITY_LABELS.items()}
    defaults = pd.DataFrame(
        {
            "Colonne": columns,
            "Agrégation": [RULE_LABELS[default_rule(c)] for c in columns],
            "Unité": [""] * len(columns),
            "Polarité": [POLARITY_LABELS["neutre"]] * len(columns),
        }
    )
    # one table-shaped widget, whatever the number of columns (a wide file has hundreds);
    # the grid shows cells as plain text, never as Markdown or HTML
    edited = st.data_editor(
        defaults,
        key=f"reglages-{suffix}",
        hide_index=True,
        width="stretch",
        num_rows="fixed",
        disabled=["Colonne"],
        column_config={
            "Colonne": st.column_config.TextColumn("Colonne", width="large"),
            "Agrégation": st.column_config.SelectboxColumn(
                "Agrégation", options=list(RULE_LABELS.values()), required=True
            ),
            "Unité": st.column_config.TextColumn("Unité", max_chars=20, help="%, €, hab.…"),
            "Polarité": st.column_config.SelectboxColumn(
                "Polarité", options=list(POLARITY_LABELS.values()), required=True
            ),
        },
    )
    rules = dict(zip(columns, edited["Agrégation"].map(rule_names), strict=True))
    units = {c: str(u or "").strip() for c, u in zip(columns, edited["Unité"], strict=True)}
    polarities = dict(zip(columns, edited["Polarité"].map(polarity_names), strict=True))
    return rules, units, polarities


def save_indicator_table(result, name: str, rules: dict, units: dict, polarities: dict, source):
    """Save a joined table in the workspace; returns the ids of its new indicators.

    The indicators are built once before saving (a table that cannot become indicators is
    never saved), and the store is rebuilt right after (new workspace version).
    """
    level = result.report.level
    population = store().components(level)["population"]
    to_user_indicators(result, name, population, rules, units, polarities)  # dry run
    meta = {
        "rapport": result.report.to_dict(),
        "regles": rules,
        "unites": units,
        "polarites": polarities,
        "source": source,
    }
    ws = workspace()
    slug = ws.save_table(name, level, result.values, meta, expected=ws.table_version(slugify(name)))
    try:
        rebuilt = store()
    except Exception:
        ws.delete(slug)
        raise
    return [i.id for i in rebuilt.catalogue if i.origin == name]


def section_upload() -> None:
    st.subheader("Charger un tableau d'indicateurs")
    st.markdown(
        "Un tableau avec **une colonne de codes de territoire** (commune, EPCI, département, "
        "région ou périmètre) et **des colonnes de nombres**. Les nombres à la française "
        "(virgule décimale, espaces entre milliers) et les valeurs secrètes (« s », « nd ») "
        "sont reconnus."
    )
    st.caption(LIMITS)
    show_flash("upload")
    if read_only():
        return
    picked = uploaded_file("Fichier d'indicateurs", "fichier-indicateurs")
    if picked is None:
        return
    data, filename, digest = picked
    try:
        raw, read_key = _read_with_options(data, filename, digest)
        key, level, kind = _choose_key(raw, read_key)
        result = _join(read_key, raw, key, level, kind, geography().perimeters_hash)
    except Exception as err:  # shown to the user, never a traceback
        show_error(err, filename)
        return
    report = result.report
    suffix = f"{digest}-{key}-{level}"
    st.markdown("#### Rapport de rattachement")
    _show_join_report(report, digest)

    st.markdown("#### Aperçu des valeurs lues")
    names = geography().names(level).reindex(result.values.index)
    preview = result.values.head(200).map(fr_value)
    preview.insert(0, "Territoire", names.head(200).to_numpy())
    st.dataframe(
        preview.reset_index().rename(columns={"code": "Code"}),
        hide_index=True,
        column_config={c: st.column_config.TextColumn(c) for c in result.values.columns},
    )
    st.caption("Valeurs manquantes (secret statistique, cellule vide ou non numérique) : « – ».")
    if len(result.values) > 200:
        st.caption(f"200 premiers territoires sur {format_number(len(result.values))}.")

    rules, units, polarities = _column_settings(list(result.values.columns), suffix)

    st.markdown("#### Enregistrer")
    name, problem = name_to_save(
        "Nom du tableau (il devient le thème « Mes données : … » dans les listes d'indicateurs)",
        filename,
        f"nom-{digest}",
        "indicateurs",
    )
    if not problem and any(m["slug"] == slugify(name) for m in workspace().tables("indicateurs")):
        st.info(inert(f"Un tableau « {name} » existe déjà : il sera remplacé."))
    confirmed = True
    if not report.complete:
        st.warning(
            f"Tableau incomplet : {count_text(len(report.unmatched), *UNMATCHED)}. "
            "Il sera enregistré et signalé comme incomplet.",
            icon=":material/warning:",
        )
        confirmed = st.checkbox(
            "J'ai compris : enregistrer ce tableau incomplet",
            key=f"incomplet-ok-{suffix}",
        )
    if st.button(
        "Enregistrer",
        type="primary",
        disabled=bool(problem) or not confirmed,
        key=f"enregistrer-{suffix}",
        icon=":material/save:",
    ):
        try:
            with st.spinner("Enregistrement et calcul des indicateurs à tous les niveaux…"):
                ids = save_indicator_table(result, name, rules, units, polarities, filename)
        except Exception as err:
            st.error(inert(f"Le tableau n'a pas été enregistré : {failure_reason(err)}."))
            return
        state = "complet" if report.complete else "INCOMPLET"
        st.success(
            inert(
                f"Tableau « {name} » enregistré ({state}) : {len(ids)} indicateur(s), "
                "disponibles dans les listes d'indicateurs de toutes les pages "
                f"(thème « Mes données : {name} »)."
            ),
            icon=":material/check_circle:",
        )
        if ids:
            page_link(
                "views/carte.py",
                "Voir sur la carte",
                icon=":material/map:",
                query_params={"indicateur": ids[0], "niveau": level},
            )


def _state_text(meta: dict) -> str:
    report = meta.get("rapport") or {}
    if meta.get("type") == "catalyseurs":
        unplaced = len(report.get("unplaced", []))
        return "complet" if not unplaced else f"incomplet : {count_text(unplaced, *UNPLACED)}"
    unmatched = len(report.get("unmatched", []))
    return (
        "complet"
        if report.get("complete", not unmatched)
        else f"incomplet : {count_text(unmatched, *UNMATCHED)}"
    )


def _matched_text(meta: dict) -> str:
    report = meta.get("rapport") or {}
    done = report.get("placed") if meta.get("type") == "catalyseurs" else report.get("matched")
    total = report.get("rows_read")
    if done is None or total is None:
        return ""
    return f"{format_number(done)} / {format_number(total)}"


def _saved_summary(meta: dict) -> list[str]:
    report = meta.get("rapport") or {}
    try:
        if meta.get("type") == "catalyseurs":
            from territorial.analysis.catalysts import CatalystReport

            fields = CatalystReport.__dataclass_fields__
            return CatalystReport(**{k: v for k, v in report.items() if k in fields}).summary_fr()
        fields = JoinReport.__dataclass_fields__
        return JoinReport(**{k: v for k, v in report.items() if k in fields}).summary_fr()
    except Exception:  # an old or foreign report: show nothing
        return []


def section_tables() -> None:
    st.subheader("Mes tableaux")
    show_flash("tables")
    ws = workspace()
    tables = ws.tables()
    if not tables:
        st.info(
            "Aucun tableau enregistré pour l'instant : chargez-en un dans l'onglet "
            "« Charger un tableau » (indicateurs) ou « Catalyseurs »."
        )
        return
    frame = pd.DataFrame(
        {
            "Nom": [m["nom"] for m in tables],
            "Type": [TYPE_LABELS.get(m.get("type", "indicateurs"), m.get("type")) for m in tables],
            "Niveau": [LEVEL_LABELS.get(m.get("niveau"), m.get("niveau")) for m in tables],
            "Enregistré le": [date_text(m.get("enregistre_le")) for m in tables],
            "Lignes rattachées / lues": [_matched_text(m) for m in tables],
            "État": [_state_text(m) for m in tables],
            "Fichier source": [
                m.get("source") or (m.get("rapport") or {}).get("source_name", "") for m in tables
            ],
        }
    )
    st.dataframe(frame, hide_index=True, width="stretch")
    if read_only():
        return

    slugs = [m["slug"] for m in tables]
    by_slug = {m["slug"]: m for m in tables}
    pending = st.session_state.pop("donnees-choix-suivant", None)
    if pending in slugs:
        st.session_state["tableau-choisi"] = pending
    slug = st.selectbox(
        "Tableau à gérer",
        slugs,
        format_func=lambda s: (
            f"{by_slug[s]['nom']} ({TYPE_LABELS.get(by_slug[s].get('type'), '')})"
        ),
        key="tableau-choisi",
    )
    meta = by_slug[slug]
    summary = _saved_summary(meta)
    if summary:
        with st.expander("Rapport d'import de ce tableau"):
            bullets(summary)

    row = st.columns([3, 1, 1.2, 1], vertical_alignment="bottom")
    new_name = (
        row[0]
        .text_input("Nouveau nom", value=meta["nom"], max_chars=80, key=f"renommer-nom-{slug}")
        .strip()
    )
    rename = row[1].button("Renommer", key="renommer", icon=":material/edit:", width="stretch")
    if row[3].button("Supprimer…", key="supprimer", icon=":material/delete:", width="stretch"):
        st.session_state["donnees-suppression"] = slug
    download = row[2].empty()
    if meta.get("type", "indicateurs") == "indicateurs":
        st.caption(
            "Renommer change aussi le thème « Mes données : … » des indicateurs dans les listes."
        )
    if rename:
        new_slug = slugify(new_name)
        if not new_name:
            st.error("Donnez un nom non vide.")
        elif new_slug != slug and new_slug in slugs:
            st.error(inert(f"Un tableau « {by_slug[new_slug]['nom']} » existe déjà."))
        elif new_name == meta["nom"]:
            st.info("Le nom est inchangé.")
        else:
            renamed, new_slug = attempt("renommer le tableau", ws.rename, slug, new_name)
            if not renamed:
                return
            flash("tables", "success", inert(f"« {meta['nom']} » renommé en « {new_name} »."))
            st.session_state["donnees-choix-suivant"] = new_slug
            st.rerun()
    if st.session_state.get("donnees-suppression") == slug:
        st.warning(
            inert(f"Supprimer définitivement « {meta['nom']} » ?")
            + " Ses données disparaîtront de toutes les pages.",
            icon=":material/warning:",
        )
        yes, no, _ = st.columns([1, 1, 3])
        if yes.button("Oui, supprimer", type="primary", key="supprimer-oui"):
            st.session_state.pop("donnees-suppression", None)
            if not attempt("supprimer le tableau", ws.delete, slug)[0]:
                return
            flash("tables", "success", inert(f"« {meta['nom']} » supprimé."))
            st.rerun()
        if no.button("Annuler", key="supprimer-non"):
            st.session_state.pop("donnees-suppression", None)
            st.rerun()
    loaded, values = attempt("lire le tableau enregistré", ws.load_values, slug)
    if not loaded:
        return
    download.download_button(
        "Télécharger (CSV)",
        to_csv_bytes(values.reset_index()),
        file_name=f"{slug}.csv",
        mime="text/csv",
        key="telecharger-tableau",
        icon=":material/download:",
        width="stretch",
        help="Les valeurs enregistrées, par code de territoire.",
    )
