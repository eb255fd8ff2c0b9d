"""Cached core objects, and the space (atelier or private) each session works in.

The geography loaded once per process is never changed: each session sees a copy with its
space's active perimeter set (:func:`geography`), cached by the set's content. What a
session saves goes to its space in the database (:func:`workspace`): the atelier it opened
(writable only with the edit link) or, without an atelier, a private space of its own.
"""

from __future__ import annotations

import logging
import secrets

import pandas as pd
import streamlit as st

from territorial import load_geography
from territorial.indicators.join import JoinReport, JoinResult, to_user_indicators
from territorial.indicators.store import IndicatorStore
from territorial.storage import Database, Space, database_url, import_workspace
from territorial.storage.workspace import workspace_dir
from territorial.text.safetext import inert
from territorial.timeline import mark
from ui.preloaded import preloaded_geography

LOG = logging.getLogger("territorial")
SPACE_KEY = "espace"  # session_state: {"code", "kind", "nom", "edit"}
PERIMETERS_KEY = "perimetres-actifs"  # session_state: the space's active-set record
VERSION_KEY = "espace-version"  # session_state: ((kind, code, writes), the space's version)
RUN_KEY = "memo-du-run"  # session_state: what is computed once per run (see per_run)


@st.cache_resource(show_spinner=False)
def _database(url: str) -> Database:
    db = Database(url)
    db.purge_private()
    imported = import_workspace(db, workspace_dir())
    if imported:
        code, token = imported
        LOG.warning(
            "Ancien espace de travail %s importé dans l'atelier %s ; lien d'édition : "
            "?atelier=%s&cle=%s",
            workspace_dir(),
            code,
            code,
            token,
        )
    return db


def database() -> Database:
    """The database of ``$TERRITORIAL_DATABASE_URL`` (or the SQLite file), opened once."""
    return _database(database_url())


def current_space() -> dict:
    """This session's space: its atelier, or a private space created for the session."""
    if SPACE_KEY not in st.session_state:
        st.session_state[SPACE_KEY] = {
            "code": "prive-" + secrets.token_urlsafe(24),
            "kind": "prive",
            "nom": "",
            "edit": True,
        }
    return st.session_state[SPACE_KEY]


def workspace() -> Space:
    """The saved work of this session's space (read-only in an atelier without edit link)."""
    space = current_space()
    return database().space(space["code"], kind=space["kind"], editable=space["edit"])


def per_run(name: str, compute):
    """``compute()``, once per run of this session (forgotten by :func:`sync_space`)."""
    memo = st.session_state.setdefault(RUN_KEY, {})
    if name not in memo:
        memo[name] = compute()
    return memo[name]


def space_version() -> str:
    """The version of this session's space (the key of its caches), read from the database
    once per run (see :func:`sync_space`) and again after any write of this process."""
    space = current_space()
    key = (space["kind"], space["code"], database().writes)
    memo = st.session_state.get(VERSION_KEY)
    if memo is None or memo[0] != key:
        memo = (key, workspace().version())
        st.session_state[VERSION_KEY] = memo
    return memo[1]


def sync_space() -> None:
    """First thing of each run: read the space's version again (another session, or
    another server process, may have saved meanwhile), and its active perimeter set only
    when that version changed (every save changes it). What :func:`per_run` kept is
    forgotten."""
    st.session_state[RUN_KEY] = {}
    before = st.session_state.pop(VERSION_KEY, None)
    version = space_version()
    if before is None or before[1] != version or PERIMETERS_KEY not in st.session_state:
        refresh_perimeters()


@st.cache_resource(show_spinner="Chargement de la géographie…")
def base_geography():
    """The Geography loaded once per server process (never changed afterwards), by the
    server's warm-up when there was one (:mod:`ui.warmup`)."""
    geo = preloaded_geography() or load_geography()
    mark("geography loaded")
    return geo


@st.cache_resource(show_spinner="Reconstruction des périmètres…", max_entries=16)
def _geography_with(sha256: str, kind: str, name: str, filename: str, _space: Space, _slug: str):
    """The base geography with a saved perimeter set (cached by the set's content)."""
    data, meta = _space.perimeter_source(_slug)
    if meta["sha256"] != sha256:
        raise ValueError("jeu remplacé entre-temps")
    pset, report = _rebuild(kind, data, name, filename)
    return base_geography().with_perimeters(pset, report)


def _rebuild(kind: str, data: bytes, name: str, filename: str | None):
    """A saved perimeter set from its source: ANCT file, user file, or one per EPCI."""
    from territorial.perimeters.crte_layout import load_crte
    from territorial.perimeters.model import PerimeterSet
    from territorial.perimeters.userfiles import load_user_perimeters

    if kind == "par_epci":  # no file: rebuilt from the geography
        return PerimeterSet.one_per_epci(base_geography().communes), None
    loader = load_crte if kind == "officiel" else load_user_perimeters
    return loader(data, base_geography(), name, filename=filename)


def refresh_perimeters() -> None:
    """Read the space's active perimeter set again (once per run, and after a change)."""
    st.session_state[PERIMETERS_KEY] = workspace().active_perimeters()


def geography():
    """The geography of this session: the shared one with its space's perimeter set."""
    if PERIMETERS_KEY not in st.session_state:
        refresh_perimeters()
    record = st.session_state[PERIMETERS_KEY]
    if record is None:
        return base_geography()
    try:
        return _geography_with(
            record["sha256"], record["type"], record["nom"], record["fichier"],
            workspace(), record["slug"],
        )  # fmt: skip
    except Exception:  # a broken saved set must not stop the app
        LOG.warning("perimeter set %r could not be rebuilt", record.get("slug"), exc_info=True)
        st.warning(
            inert(
                f"Les périmètres enregistrés « {record.get('nom', '')} » n'ont pas pu être "
                "rechargés : le jeu par défaut est utilisé."
            )
        )
        st.session_state[PERIMETERS_KEY] = None
        return base_geography()


@st.cache_resource(show_spinner="Chargement des indicateurs…", max_entries=8)
def _store(workspace_version: str, perimeters_hash: str) -> IndicatorStore:
    geo = geography()
    store = IndicatorStore(geo)
    ws = workspace()
    for listed in ws.tables("indicateurs"):
        try:
            meta, values = ws.load_table(listed["slug"])
            report = JoinReport(**{k: v for k, v in meta["rapport"].items() if k != "complete"})
        except (KeyError, TypeError, OSError, ValueError):
            continue  # an unreadable saved table is listed in "Données", never fatal here
        level_population = store.components(meta["niveau"])["population"]
        table = to_user_indicators(
            JoinResult(values, report),
            meta["nom"],
            level_population,
            rules=meta.get("regles"),
            units=meta.get("unites"),
            polarities=meta.get("polarites"),
        )
        store.add(table)
    _register_official(store)
    mark("indicator store built")
    return store


def _register_official(store: IndicatorStore) -> None:
    try:
        from territorial.sources.official import register_official
    except ImportError:
        return
    register_official(store)


def store() -> IndicatorStore:
    """The indicator store of this session's space and perimeter set (shared when equal)."""
    geo = geography()
    return _store(space_version(), geo.perimeters_hash)


@st.cache_resource(show_spinner=False, max_entries=64)
def indicator_frame(
    level: str, scope: str, workspace_version: str, perimeters_hash: str
) -> pd.DataFrame:
    """Indicator values of a level and scope (cached per workspace and perimeter version).

    Shared, not copied (``cache_resource``: a copy for each rerun of each session cost more
    than the rest of the data access): read it, never change it.
    """
    frame = store().values(level, scope)
    mark(f"indicator values {level} {scope}")
    return frame


def values(level: str, scope: str) -> pd.DataFrame:
    geo = geography()
    return indicator_frame(level, scope, space_version(), geo.perimeters_hash)


FICTIONAL_EXAMPLE = "exemple_fictif"


@st.cache_resource(show_spinner="Placement des catalyseurs…", max_entries=4)
def _catalysts(choice: str, workspace_version: str):
    from territorial.analysis.catalysts import Catalysts, load_catalysts
    from territorial.analysis.catalysts_example import EXAMPLE_PATH

    if choice == FICTIONAL_EXAMPLE:
        catalysts, _ = load_catalysts(EXAMPLE_PATH, geography())
        return catalysts
    meta, table = workspace().load_table(choice)
    return Catalysts(table=table, name=meta["nom"], fictional=bool(meta.get("fictif")))


def catalyst_lists() -> dict[str, str]:
    """Available catalyst lists: slug → label (the fictional example always first)."""
    lists = {FICTIONAL_EXAMPLE: "Exemple FICTIF (350 catalyseurs inventés)"}
    for meta in workspace().tables("catalyseurs"):
        lists[meta["slug"]] = meta["nom"] + (" (FICTIF)" if meta.get("fictif") else "")
    return lists


def active_catalysts():
    """The catalyst list chosen in the URL (``?catalyseurs=``), the fictional example by default."""
    lists = catalyst_lists()
    choice = st.query_params.get("catalyseurs", FICTIONAL_EXAMPLE)
    if choice not in lists:
        choice = FICTIONAL_EXAMPLE
    return _catalysts(choice, space_version())


def fictional_banner(catalysts) -> None:
    """Shown wherever a fictional catalyst list is displayed."""
    if catalysts.fictional:
        st.warning(
            "**Catalyseurs FICTIFS** : cette liste d'exemple est inventée (générée par un script "
            "documenté) pour explorer la page. Chargez la vraie liste dans « Données ».",
            icon=":material/warning:",
        )


# --------------------------------------------------------------------------- perimeter sets
def perimeters_from_workspace(slug: str):
    """Rebuild a perimeter set saved in the space: ``(PerimeterSet, ValidationReport)``."""
    data, meta = workspace().perimeter_source(slug)
    return _rebuild(meta.get("type"), data, meta["nom"], meta.get("fichier"))


def activate_perimeters(
    pset, source_bytes: bytes | None = None, filename: str | None = None, report=None, slug=None
) -> None:
    """Make ``pset`` the active set of this session's space (one transaction).

    The default set (the shipped CRTE list) is recorded as no choice; another set is saved
    with its source file (``source_bytes``) unless ``slug`` names a set already saved. Other spaces,
    and the process-wide geography, are not changed.
    """
    ws = workspace()
    if pset is base_geography().default_perimeters:
        ws.set_active_perimeters(None)
    elif slug is not None:
        ws.set_active_perimeters(slug)
    else:
        from territorial.storage.workspace import slugify

        seen = {s["slug"]: s["version"] for s in ws.perimeter_sets()}
        ws.save_perimeters(
            pset.name,
            source_bytes,
            filename or pset.name,
            pset.kind,
            content_hash=pset.content_hash(),
            report=report,
            expected=seen.get(slugify(pset.name)),
        )
    refresh_perimeters()


def refresh_store() -> None:
    """Drop the cached indicator store and values (after official data were updated)."""
    _store.clear()
    indicator_frame.clear()
