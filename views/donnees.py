"""Données: load indicator tables, manage them, perimeter sets, catalysts, official data, sources.

Every user-provided string shown here goes through :func:`_md` (Markdown and HTML neutralised)
or into ``st.dataframe``; every problem with a file is shown as a French sentence
(``TableError.message``, ``FetchError.message``), never as a traceback.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
from pathlib import Path

import pandas as pd
import streamlit as st

from territorial import LEVEL_LABELS
from territorial.export import to_csv_bytes
from territorial.formatting import format_number
from territorial.indicators import POLARITIES
from territorial.join import (
    KEY_LEVELS,
    JoinReport,
    default_rule,
    detect_key,
    join_table,
    to_user_indicators,
)
from territorial.perimeters import REFERENCE_COUNTS, PerimeterSet
from territorial.tables import ACCEPTED_FORMATS, MAX_BYTES, MAX_ROWS, TableError, read_table
from territorial.workspace import slugify
from ui.common import page_header
from ui.state import geography, store, workspace

CATALYST_DIR = Path(__file__).resolve().parent.parent / "data" / "catalysts"
TABLE_TYPES = ["csv", "txt", "tsv", "xlsx", "xlsm", "parquet"]
MAX_MB = MAX_BYTES // (1024 * 1024)
LIMITS = (
    f"Formats acceptés : {ACCEPTED_FORMATS}. Au plus {MAX_MB} Mo et "
    f"{format_number(MAX_ROWS)} de lignes par fichier."
).replace("1\u202f000\u202f000 de", "1 million de")
RULE_LABELS = {
    "somme": "Somme (effectifs, montants)",
    "moyenne_ponderee": "Moyenne pondérée par la population",
    "min": "Minimum",
    "max": "Maximum",
}
POLARITY_LABELS = {key: text[0].upper() + text[1:] for key, text in POLARITIES.items()}
PERIMETER_KINDS = {
    "officiel": "officiel (fichier CRTE de l'ANCT)",
    "utilisateur": "jeu d'atelier (fourni par l'utilisateur)",
    "par_epci": "repli : un périmètre par EPCI",
}
TYPE_LABELS = {"indicateurs": "Indicateurs", "catalyseurs": "Catalyseurs"}
OFFICIAL_LEVELS = {
    "commune": "communes",
    "epci": "EPCI",
    "departement": "départements",
    "region": "régions",
    "perimetre_rows": "lignes EPCI–CRTE",
    "groupements_rows": "lignes groupements",
}
TABS = [
    "Charger un tableau",
    "Mes tableaux",
    "Périmètres",
    "Catalyseurs",
    "Données officielles",
    "Sources et licences",
]
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=^\"'])")


# --------------------------------------------------------------------------- helpers
def _md(text: object) -> str:
    """Any text (file names, column names, messages quoting them) made inert for Markdown."""
    return _MD_SPECIAL.sub(r"\\\1", "" if text is None else str(text))


def _bullets(lines: list[str]) -> None:
    if lines:
        st.markdown("\n".join(f"- {_md(line)}" for line in lines))


def _count(n: int, singular: str, plural: str) -> str:
    """« 1 ligne non rattachée », « 3 lignes non rattachées »."""
    return f"{format_number(n)} {singular if n <= 1 else plural}"


UNMATCHED = ("ligne non rattachée", "lignes non rattachées")
UNPLACED = ("ligne non localisée", "lignes non localisées")


def _fr(value: object) -> str:
    """A parsed value written the French way (``7,5``; missing → ``–``)."""
    if value is None or pd.isna(value):
        return "–"
    number = float(value)
    for decimals in range(4):
        if abs(number - round(number, decimals)) < 1e-9:
            return format_number(number, decimals)
    return format_number(number, 4)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def _date(value: object) -> str:
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


def _size(n_bytes: float) -> str:
    for unit in ("octets", "ko", "Mo", "Go"):
        if n_bytes < 1024 or unit == "Go":
            return f"{format_number(n_bytes, 0 if unit == 'octets' else 1)} {unit}"
        n_bytes /= 1024
    return ""


def _flash(section: str, kind: str, text: str) -> None:
    """A message shown once, after the rerun that follows an action."""
    st.session_state.setdefault("donnees-messages", {})[section] = (kind, text)


def _show_flash(section: str) -> None:
    message = st.session_state.get("donnees-messages", {}).pop(section, None)
    if message:
        kind, text = message
        getattr(st, kind)(text)


def _listing(title: str, rows: list[dict], columns: dict[str, str], key: str) -> None:
    """An expander with a table of report rows (and its CSV), when there are rows."""
    if not rows:
        return
    frame = pd.DataFrame(rows)
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


def _page_link(page: str, label: str, **kwargs) -> None:
    """A link to another page, skipped when that page is not (yet) in the navigation."""
    try:
        st.page_link(page, label=label, **kwargs)
    except Exception:  # page not registered in app.py
        return


def _error(err: Exception, filename: str) -> None:
    """Bad input as a French sentence; anything unexpected without a traceback."""
    if isinstance(err, TableError):
        st.error(_md(err.message), icon=":material/error:")
    else:
        st.error(
            _md(f"Le fichier « {filename} » n'a pas pu être traité ({type(err).__name__} : {err}).")
            + " Vérifiez son contenu ou enregistrez-le au format CSV.",
            icon=":material/error:",
        )


# --------------------------------------------------------------------------- cached steps
@st.cache_resource(show_spinner="Lecture du fichier…", max_entries=6)
def _read(digest: str, _data: bytes, filename: str, sheet: str | None, header_row: int | None):
    return read_table(_data, filename, sheet=sheet, header_row=header_row)


@st.cache_resource(show_spinner="Recherche de la colonne des codes…", max_entries=6)
def _guesses(read_key: tuple, _raw, perimeters_hash: str):
    return detect_key(_raw, geography())


@st.cache_resource(show_spinner="Rattachement aux territoires…", max_entries=6)
def _join(read_key: tuple, _raw, key: str, level: str, kind: str | None, perimeters_hash: str):
    return join_table(_raw, geography(), key=key, level=level, kind=kind)


@st.cache_resource(show_spinner="Lecture et contrôle des périmètres…", max_entries=4)
def _load_perimeters(digest: str, _data: bytes, filename: str, kind: str, name: str):
    from territorial.perimeters import load_crte, load_user_perimeters

    if kind == "officiel":
        return load_crte(_data, geography(), name or None, filename=filename)
    return load_user_perimeters(_data, geography(), name, filename=filename)


@st.cache_resource(show_spinner="Placement des catalyseurs…", max_entries=4)
def _load_catalysts(digest: str, _data: bytes, filename: str):
    from territorial.catalysts import load_catalysts

    return load_catalysts(_data, geography(), name=filename)


# --------------------------------------------------------------------------- 1. upload
def _reading_caption(raw) -> str:
    parts = [
        {"csv": "Fichier CSV", "xlsx": "Classeur Excel", "parquet": "Fichier Parquet"}.get(
            raw.format, raw.format
        )
    ]
    if raw.encoding:
        from territorial.tables import ENCODING_NAMES, SEPARATOR_NAMES

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
        import io

        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(_data), read_only=True)
        try:
            return list(book.sheetnames)
        finally:
            book.close()
    except Exception:
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
                _md(
                    "Feuilles sans tableau lisible, passées : "
                    + ", ".join(f"« {name} »" for name in skipped)
                    + "."
                )
            )
        for note in raw.notes if raw is not None else []:
            st.caption(_md(note))
    if raw is None:
        raise error
    st.caption(_md(_reading_caption(raw)))
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
            _md(
                f"Détection automatique : colonne « {best.column} », {what} de "
                f"{LEVEL_LABELS[best.level].lower()} ({format_number(100 * best.share)} % des "
                "valeurs examinées reconnues)."
            )
        )
    if level == "perimetre":
        st.info(
            _md(
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
            f"**Tableau incomplet : {_count(n_unmatched, *UNMATCHED)}** sur "
            f"{format_number(report.rows_read)}. Les lignes non rattachées ne seront ni "
            "cartographiées ni comptées : corrigez le fichier, ou enregistrez-le en "
            "connaissance de cause.",
            icon=":material/warning:",
        )
    _bullets(report.summary_fr() + report.notes)
    _listing(
        "Lignes non rattachées",
        report.unmatched,
        {"ligne": "Ligne", "valeur": "Valeur", "raison": "Raison"},
        f"non_rattachees_{digest}",
    )
    _listing(
        "Codes remplacés par le code actuel",
        report.remapped,
        {"ligne": "Ligne", "valeur": "Valeur du fichier", "code": "Code retenu", "regle": "Règle"},
        f"codes_remplaces_{digest}",
    )
    _listing(
        "Territoires en double avec des valeurs différentes (écartés)",
        report.duplicates_conflicting,
        {"code": "Code", "lignes": "Lignes"},
        f"doublons_{digest}",
    )
    _listing(
        "Territoires hors de France métropolitaine (gardés)",
        report.out_of_scope,
        {"code": "Code", "raison": "Raison"},
        f"hors_metropole_{digest}",
    )
    if report.ignored_columns:
        st.caption(
            _md(
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
    widths = [1.3, 1.7, 0.6, 1.6]
    head = st.columns(widths)
    for cell, text in zip(head, ["Colonne", "Agrégation", "Unité", "Polarité"], strict=True):
        cell.markdown(f"**{text}**")
    rules, units, polarities = {}, {}, {}
    rule_keys = list(RULE_LABELS)
    polarity_keys = list(POLARITY_LABELS)
    for position, column in enumerate(columns):
        row = st.columns(widths, vertical_alignment="center")
        row[0].markdown(_md(column))
        rules[column] = row[1].selectbox(
            f"Agrégation de « {column} »",
            rule_keys,
            index=rule_keys.index(default_rule(column)),
            format_func=RULE_LABELS.get,
            key=f"regle-{suffix}-{position}",
            label_visibility="collapsed",
        )
        units[column] = (
            row[2]
            .text_input(
                f"Unité de « {column} »",
                key=f"unite-{suffix}-{position}",
                placeholder="%, €, hab.…",
                max_chars=20,
                label_visibility="collapsed",
            )
            .strip()
        )
        polarities[column] = row[3].selectbox(
            f"Polarité de « {column} »",
            polarity_keys,
            index=polarity_keys.index("neutre"),
            format_func=POLARITY_LABELS.get,
            key=f"polarite-{suffix}-{position}",
            label_visibility="collapsed",
        )
    return rules, units, polarities


def _name_conflict(name: str, kind: str) -> str | None:
    """Why ``name`` cannot be used for a new table of ``kind`` (None when it can)."""
    if not name.strip():
        return "Donnez un nom au tableau."
    slug = slugify(name)
    for meta in workspace().tables():
        if meta["slug"] == slug and meta.get("type", "indicateurs") != kind:
            other = TYPE_LABELS.get(meta.get("type"), meta.get("type")).lower()
            return f"Le nom « {meta['nom']} » est déjà pris par un tableau de type {other}."
    return None


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
    slug = ws.save_table(name, level, result.values, meta)
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
    _show_flash("upload")
    uploaded = st.file_uploader(
        "Fichier d'indicateurs",
        type=TABLE_TYPES,
        key="fichier-indicateurs",
        max_upload_size=MAX_MB,
        help=LIMITS,
    )
    if uploaded is None:
        return
    data, filename = uploaded.getvalue(), uploaded.name
    digest = _digest(data)
    try:
        raw, read_key = _read_with_options(data, filename, digest)
        key, level, kind = _choose_key(raw, read_key)
        result = _join(read_key, raw, key, level, kind, geography().perimeters_hash)
    except Exception as err:  # shown to the user, never a traceback
        _error(err, filename)
        return
    report = result.report
    suffix = f"{digest}-{key}-{level}"
    st.markdown("#### Rapport de rattachement")
    _show_join_report(report, digest)

    st.markdown("#### Aperçu des valeurs lues")
    names = geography().names(level).reindex(result.values.index)
    preview = result.values.head(200).map(_fr)
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
    name = st.text_input(
        "Nom du tableau (il devient le thème « Mes données : … » dans les listes d'indicateurs)",
        value=Path(filename).stem[:80],
        max_chars=80,
        key=f"nom-{digest}",
    ).strip()
    problem = _name_conflict(name, "indicateurs")
    if problem:
        st.warning(_md(problem))
    elif any(m["slug"] == slugify(name) for m in workspace().tables("indicateurs")):
        st.info(_md(f"Un tableau « {name} » existe déjà : il sera remplacé."))
    confirmed = True
    if not report.complete:
        st.warning(
            f"Tableau incomplet : {_count(len(report.unmatched), *UNMATCHED)}. "
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
            st.error(_md(f"Le tableau n'a pas été enregistré : {err}"))
            return
        state = "complet" if report.complete else "INCOMPLET"
        st.success(
            _md(
                f"Tableau « {name} » enregistré ({state}) : {len(ids)} indicateur(s), "
                "disponibles dans les listes d'indicateurs de toutes les pages "
                f"(thème « Mes données : {name} »)."
            ),
            icon=":material/check_circle:",
        )
        if ids:
            _page_link(
                "views/carte.py",
                "Voir sur la carte",
                icon=":material/map:",
                query_params={"indicateur": ids[0], "niveau": level},
            )


# --------------------------------------------------------------------------- 2. my tables
def _state_text(meta: dict) -> str:
    report = meta.get("rapport") or {}
    if meta.get("type") == "catalyseurs":
        unplaced = len(report.get("unplaced", []))
        return "complet" if not unplaced else f"incomplet : {_count(unplaced, *UNPLACED)}"
    unmatched = len(report.get("unmatched", []))
    return (
        "complet"
        if report.get("complete", not unmatched)
        else f"incomplet : {_count(unmatched, *UNMATCHED)}"
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
            from territorial.catalysts import CatalystReport

            fields = CatalystReport.__dataclass_fields__
            return CatalystReport(**{k: v for k, v in report.items() if k in fields}).summary_fr()
        fields = JoinReport.__dataclass_fields__
        return JoinReport(**{k: v for k, v in report.items() if k in fields}).summary_fr()
    except Exception:  # an old or foreign report: show nothing
        return []


def section_tables() -> None:
    st.subheader("Mes tableaux")
    _show_flash("tables")
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
            "Enregistré le": [_date(m.get("enregistre_le")) for m in tables],
            "Lignes rattachées / lues": [_matched_text(m) for m in tables],
            "État": [_state_text(m) for m in tables],
            "Fichier source": [
                m.get("source") or (m.get("rapport") or {}).get("source_name", "") for m in tables
            ],
        }
    )
    st.dataframe(frame, hide_index=True, width="stretch")

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
            _bullets(summary)

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
            st.error(_md(f"Un tableau « {by_slug[new_slug]['nom']} » existe déjà."))
        elif new_name == meta["nom"]:
            st.info("Le nom est inchangé.")
        else:
            new_slug = ws.rename(slug, new_name)
            _flash("tables", "success", _md(f"« {meta['nom']} » renommé en « {new_name} »."))
            st.session_state["donnees-choix-suivant"] = new_slug
            st.rerun()
    if st.session_state.get("donnees-suppression") == slug:
        st.warning(
            _md(f"Supprimer définitivement « {meta['nom']} » ?")
            + " Ses données disparaîtront de toutes les pages.",
            icon=":material/warning:",
        )
        yes, no, _ = st.columns([1, 1, 3])
        if yes.button("Oui, supprimer", type="primary", key="supprimer-oui"):
            ws.delete(slug)
            st.session_state.pop("donnees-suppression", None)
            _flash("tables", "success", _md(f"« {meta['nom']} » supprimé."))
            st.rerun()
        if no.button("Annuler", key="supprimer-non"):
            st.session_state.pop("donnees-suppression", None)
            st.rerun()
    values = ws.load_values(slug)
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


# --------------------------------------------------------------------------- 3. perimeters
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
            value = _date(value)
        elif key == "sha256":
            value = str(value)[:12]
        parts.append(f"{label} : {value}")
    if parts:
        st.caption(" · ".join(_md(p) for p in parts))


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
    _bullets(report.summary_fr())
    for attribute, title, columns in REPORT_LISTS:
        _listing(title, getattr(report, attribute, []) or [], columns, f"{attribute}_{digest}")
    for scope, label in (("metropole", "métropole"), ("outre_mer", "outre-mer")):
        if report.kind != "officiel":
            break  # a workshop set may cover only part of France: no list of what is left out
        uncovered = (report.uncovered or {}).get(scope) or {}
        _listing(
            f"EPCI de {label} dans aucun périmètre",
            uncovered.get("epcis", []),
            {"code": "SIREN", "nom": "Nom", "population": "Population"},
            f"epci_non_couverts_{scope}_{digest}",
        )
        _listing(
            f"Communes de {label} hors de tout périmètre",
            uncovered.get("communes", []),
            {"code": "Code", "nom": "Nom", "population": "Population"},
            f"communes_non_couvertes_{scope}_{digest}",
        )
    if report.missing_columns:
        st.caption(
            _md(
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
    _show_flash("perimeters")
    geo = geography()
    pset = geo.perimeters
    st.markdown(
        f"**Jeu actif : {_md(pset.name)}** — {_md(PERIMETER_KINDS.get(pset.kind, pset.kind))}"
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
    if pset.kind != "par_epci" and st.button(
        "Revenir à « Un périmètre par EPCI »", key="perimetres-repli", icon=":material/undo:"
    ):
        activate_perimeters(PerimeterSet.one_per_epci(geo.communes))
        _flash("perimeters", "success", "Repli activé : un périmètre par EPCI.")
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
                    f"{_date(by_slug[s].get('enregistre_le'))})"
                ),
                key="perimetres-enregistres",
            )
            if st.button("Utiliser ce jeu", key="perimetres-reactiver"):
                try:
                    with st.spinner("Reconstruction des périmètres…"):
                        again, report = perimeters_from_workspace(chosen)
                        activate_perimeters(again, report=report.to_dict(), slug=chosen)
                except Exception as err:
                    _error(err, by_slug[chosen]["fichier"])
                else:
                    _flash("perimeters", "success", _md(f"Jeu « {again.name} » activé."))
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
        digest = _digest(data)
    else:
        name = st.text_input(
            "Nom du jeu de périmètres",
            key="perimetres-nom",
            max_chars=80,
            placeholder="ex. CRTE ANCT septembre 2025, Alliances Loire 2026",
        ).strip()
        uploaded = st.file_uploader(
            "Fichier de périmètres",
            type=TABLE_TYPES,
            key="perimetres-fichier",
            help=LIMITS,
            max_upload_size=MAX_MB,
        )
        if uploaded is None:
            return
        data, filename = uploaded.getvalue(), uploaded.name
        name = name or Path(filename).stem
        digest = _digest(data)
        try:
            new_set, report = _load_perimeters(digest, data, filename, kind, name)
        except Exception as err:
            _error(err, filename)
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
            activate_perimeters(
                new_set, source_bytes=data, filename=filename, report=report.to_dict()
            )
        _flash(
            "perimeters",
            "success",
            _md(f"Périmètres « {new_set.name} » activés") + " : toutes les pages les utilisent, "
            "et ils seront rechargés au prochain démarrage.",
        )
        st.rerun()


@st.cache_resource(show_spinner="Lecture des CRTE téléchargés…", max_entries=2)
def _official_crte(signature: str):
    official = _official_module()
    loaded = official.load_official_crte(geography())
    if loaded is None:
        return None
    pset, report = loaded
    path = Path(pset.source.get("fichier_cache", ""))
    data = path.read_bytes() if path.is_file() else b""
    return pset, report, data, path.name or "crte.csv"


def _downloaded_crte():
    """The CRTE set from the official-data cache (None, with a French note, when absent)."""
    from territorial.fetch import status

    official = _official_module()
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
        _error(err, "crte")
        return None
    if loaded is None or not loaded[2]:
        st.info("Les CRTE téléchargés ne sont plus dans le cache : mettez-les à jour.")
        return None
    return loaded


# --------------------------------------------------------------------------- 4. catalysts
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


def _all_columns(rows: list[dict]) -> dict[str, str]:
    names = {}
    for row in rows[:50]:
        for key in row:
            names.setdefault(key, key.replace("_", " ").capitalize())
    return names


def section_catalysts() -> None:
    st.subheader("Catalyseurs territoriaux")
    _show_flash("catalysts")
    try:
        import territorial.catalysts  # noqa: F401 - the loader, used by _load_catalysts
    except ImportError:
        st.info("Le chargement des catalyseurs est en cours de préparation.")
        return
    folder = CATALYST_DIR
    try:
        from territorial.catalysts_example import EXAMPLE_PATH

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
    uploaded = st.file_uploader(
        "Liste de catalyseurs",
        type=TABLE_TYPES,
        key="catalyseurs-fichier",
        help=LIMITS,
        max_upload_size=MAX_MB,
    )
    if uploaded is None:
        return
    data, filename = uploaded.getvalue(), uploaded.name
    digest = _digest(data)
    try:
        catalysts, report = _load_catalysts(digest, data, filename)
    except Exception as err:
        _error(err, filename)
        return
    if catalysts.fictional:
        st.warning(
            "**Liste FICTIVE** : ces catalyseurs n'existent pas. Elle sera enregistrée et "
            "affichée comme fictive.",
            icon=":material/warning:",
        )
    if report.unplaced:
        st.warning(
            f"**Liste incomplète : {_count(len(report.unplaced), *UNPLACED)}** sur {format_number(report.rows_read)}.",
            icon=":material/warning:",
        )
    else:
        st.success(
            f"Les {format_number(report.placed)} catalyseurs sont localisés dans une commune.",
            icon=":material/check_circle:",
        )
    _bullets(report.summary_fr())
    for attribute, title, columns in CATALYST_LISTS:
        rows = getattr(report, attribute, []) or []
        _listing(title, rows, columns or _all_columns(rows), f"cat_{attribute}_{digest}")
    with st.expander("Aperçu des catalyseurs localisés"):
        shown = [
            c
            for c in ("ligne", "nom", "type_libelle", "commune", "nom_commune", "placement")
            if c in catalysts.table.columns
        ]
        st.dataframe(catalysts.table[shown].head(500), hide_index=True, width="stretch")
    name = st.text_input(
        "Nom de la liste",
        value=Path(filename).stem[:80],
        max_chars=80,
        key=f"catalyseurs-nom-{digest}",
    ).strip()
    problem = _name_conflict(name, "catalyseurs")
    if problem:
        st.warning(_md(problem))
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
        slug = workspace().save_table(name, "commune", catalysts.table, meta, kind="catalyseurs")
        st.success(
            _md(f"Liste « {name} » enregistrée")
            + " : elle est proposée dans le choix de la liste de catalyseurs.",
            icon=":material/check_circle:",
        )
        _page_link(
            "views/catalyseurs.py",
            "Voir les catalyseurs",
            icon=":material/hub:",
            query_params={"catalyseurs": slug},
        )


# --------------------------------------------------------------------------- 5. official data
def _official_module():
    try:
        from territorial import official
    except ImportError:
        return None
    return official


def _rows_text(rows: dict | None) -> str:
    if not rows:
        return ""
    return " ; ".join(
        f"{format_number(n)} {OFFICIAL_LEVELS.get(level, level)}" for level, n in rows.items()
    )


def _status_entries(manifest: dict) -> dict[str, dict]:
    """Per source id: French state (``etat``, ``message``), date, rows, sha256, size."""
    official = _official_module()
    if official is not None and hasattr(official, "status_fr"):
        try:
            return {e["id"]: e for e in official.status_fr(store())}
        except Exception:
            pass
    from territorial.fetch import statuses

    out = {}
    for source_id, status in statuses().items():
        status = status or {}
        error = status.get("error")
        if not status.get("fetched_at"):
            etat, message = "absent", "Jamais téléchargée."
        elif status.get("ok"):
            etat = "à jour"
            message = f"Données téléchargées le {_date(status['fetched_at'])}."
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
            "telecharge_le": _date(status.get("fetched_at")),
            "lignes_texte": _rows_text(status.get("rows")),
            "sha256": status.get("sha256"),
            "taille": _size(status["size"]) if status.get("size") else "",
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
    official = _official_module()
    if official is None:
        return None
    return official.register_official(store(), [source_id]).get(source_id)


def _run_fetch(source_id: str, spec: dict, origin: str | None) -> None:
    from territorial.fetch import FetchError, fetch

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
                text=f"{label} — {state['resource']} : {_size(done)} sur {_size(total)}",
            )
        else:
            bar.progress(0.0, text=f"{label} — {state['resource']} : {_size(done)} reçus")

    try:
        result = fetch(source_id, origin=origin or None, progress=progress, on_resource=on_resource)
    except FetchError as err:
        bar.empty()
        st.error(_md(err.message), icon=":material/cloud_off:")
        return
    except Exception as err:
        bar.empty()
        st.error(
            _md(f"Mise à jour de « {label} » impossible ({type(err).__name__} : {err}).")
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
            st.warning(_md(f"Données téléchargées, mais non intégrées aux indicateurs : {err}"))
    text = _md(f"« {label} » mis à jour : {_rows_text(result.parsed.rows)}.")
    if loaded:
        text += "\n\n" + _md(f"Indicateurs : {loaded}")
    if source_id == "crte":
        text += (
            "\n\nPour utiliser ces périmètres, ouvrez l'onglet « Périmètres » et choisissez "
            "« CRTE officiels téléchargés »."
        )
    if result.warnings:
        text += "\n\n" + "\n".join(f"- {_md(w)}" for w in result.warnings)
    _flash("official", "success", text)
    st.rerun()


def section_official() -> None:
    from territorial.fetch import load_manifest

    st.subheader("Mettre à jour les données officielles")
    st.markdown(
        "Les sources ouvertes (ANCT, Insee) sont téléchargées depuis data.gouv.fr et insee.fr, "
        "contrôlées, puis gardées en cache sur ce poste. En cas d'échec (pas de connexion, "
        "fichier modifié…), **la version déjà en cache reste utilisée**."
    )
    _show_flash("official")
    manifest = load_manifest()
    entries = _status_entries(manifest)
    origin = st.text_input(
        "Miroir ou fichier local (facultatif)",
        key="origine-officielle",
        placeholder="https://miroir.exemple.fr/donnees/ ou /chemin/vers/le/dossier",
        help="Pour un poste derrière un proxy : adresse d'un miroir des fichiers, ou dossier / "
        "fichier téléchargé à la main. Laissez vide pour les adresses officielles.",
    ).strip()
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
                f"**{_md(spec['label'])}**  \n{_md(spec['publisher'])} — millésime "
                f"{_md(spec.get('vintage', ''))} — {_md(spec['licence'])}  \n"
                f":{STATE_BADGES.get(etat, 'orange')}-badge[{_md(STATE_LABELS.get(etat, etat))}] "
                + _md(message)
            )
            shown = " · ".join(d for d in details if d)
            if shown:
                text.caption(_md(shown))
            if button.button(
                "Mettre à jour", key=f"maj-{source_id}", icon=":material/sync:", width="stretch"
            ):
                with text:
                    _run_fetch(source_id, spec, origin)
    with st.expander("Tableau récapitulatif des sources officielles"):
        st.dataframe(
            _status_frame(entries),
            hide_index=True,
            width="stretch",
            column_config={"Détail": st.column_config.TextColumn(width="large")},
        )


# --------------------------------------------------------------------------- 6. sources
def sources_table() -> pd.DataFrame:
    """Every source shown in the dashboard, with vintage and licence."""
    from territorial.fetch import FetchError, load_manifest
    from territorial.provenance import sources_table as provenance

    try:
        official = load_manifest()
    except FetchError:
        official = {}  # an unreadable manifest is reported in "Données officielles"
    return provenance(geography(), store().base_catalogue, official, workspace().tables())


def section_sources() -> None:
    st.subheader("Sources et licences")
    st.markdown(
        "Toutes les données affichées, avec leur millésime et leur licence. Les tableaux et "
        "périmètres que vous chargez restent sur ce poste (dossier de travail)."
    )
    table = sources_table()
    # st.table wraps long texts and renders Markdown: every cell is made inert first
    st.table(table.map(_md), hide_index=True, border="horizontal")
    st.download_button(
        "Télécharger la liste des sources (CSV)",
        to_csv_bytes(table),
        file_name="sources_et_licences.csv",
        mime="text/csv",
        key="sources-csv",
    )


# --------------------------------------------------------------------------- page
def main() -> None:
    from ui.state import restore_perimeters

    page_header(
        "Données",
        "Chargez vos tableaux d'indicateurs, vos périmètres et vos catalyseurs, mettez à jour "
        "les données officielles et retrouvez les sources et licences de tout ce qui est affiché.",
    )
    restore_perimeters()
    tabs = st.tabs(TABS, key="onglet", bind="query-params")
    sections = (
        section_upload,
        section_tables,
        section_perimeters,
        section_catalysts,
        section_official,
        section_sources,
    )
    for tab, section in zip(tabs, sections, strict=True):
        if tab.open is False:
            continue
        with tab:
            section()


main()
