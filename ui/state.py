"""Shared, cached core objects for every page and session."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from territorial import load_geography
from territorial.join import JoinReport, JoinResult, to_user_indicators
from territorial.store import IndicatorStore
from territorial.workspace import Workspace


@st.cache_resource(show_spinner="Chargement de la géographie…")
def geography():
    """The shared Geography (one per server process)."""
    return load_geography()


def workspace() -> Workspace:
    return Workspace()


@st.cache_resource(show_spinner="Chargement des indicateurs…", max_entries=4)
def _store(workspace_version: str, perimeters_hash: str) -> IndicatorStore:
    geo = geography()
    store = IndicatorStore(geo)
    ws = workspace()
    for meta in ws.tables("indicateurs"):
        try:
            values = ws.load_values(meta["slug"])
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
    return store


def _register_official(store: IndicatorStore) -> None:
    try:
        from territorial.official import register_official
    except ImportError:
        return
    register_official(store)


def store() -> IndicatorStore:
    """The indicator store, rebuilt when the workspace or the perimeter set changes."""
    geo = geography()
    return _store(workspace().version(), geo.perimeters_hash)


@st.cache_data(show_spinner=False, max_entries=64)
def indicator_frame(
    level: str, scope: str, workspace_version: str, perimeters_hash: str
) -> pd.DataFrame:
    """Indicator values of a level and scope (cached per workspace and perimeter version)."""
    return store().values(level, scope)


def values(level: str, scope: str) -> pd.DataFrame:
    geo = geography()
    return indicator_frame(level, scope, workspace().version(), geo.perimeters_hash)


FICTIONAL_EXAMPLE = "exemple_fictif"


@st.cache_resource(show_spinner="Placement des catalyseurs…", max_entries=4)
def _catalysts(choice: str, workspace_version: str):
    from territorial.catalysts import Catalysts, load_catalysts
    from territorial.catalysts_example import EXAMPLE_PATH

    if choice == FICTIONAL_EXAMPLE:
        catalysts, _ = load_catalysts(EXAMPLE_PATH, geography())
        return catalysts
    meta = workspace().load_meta(choice)
    table = workspace().load_values(choice)
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
    return _catalysts(choice, workspace().version())


def fictional_banner(catalysts) -> None:
    """Shown wherever a fictional catalyst list is displayed."""
    if catalysts.fictional:
        st.warning(
            "**Catalyseurs FICTIFS** : cette liste d'exemple est inventée (générée par un script "
            "documenté) pour explorer la page. Chargez la vraie liste dans « Données ».",
            icon=":material/warning:",
        )


# --------------------------------------------------------------------------- perimeter sets
_PERIMETER_LOCK = __import__("threading").Lock()


def perimeters_from_workspace(slug: str):
    """Rebuild a perimeter set saved in the workspace: ``(PerimeterSet, ValidationReport)``."""
    from territorial.perimeters import load_crte, load_user_perimeters

    data, meta = workspace().perimeter_source(slug)
    loader = load_crte if meta.get("type") == "officiel" else load_user_perimeters
    return loader(data, geography(), meta["nom"], filename=meta.get("fichier"))


def activate_perimeters(
    pset, source_bytes: bytes | None = None, filename: str | None = None, report=None, slug=None
) -> None:
    """Make ``pset`` the active set for every page and record it in the workspace.

    The default set (the shipped CRTE list) is recorded as such; another set is saved with its
    source file (``source_bytes``) unless ``slug`` names a set already saved.
    """
    ws = workspace()
    with _PERIMETER_LOCK:
        if pset is geography().default_perimeters:
            ws.set_active_perimeters(None, pset.content_hash())
        elif slug is not None:
            ws.set_active_perimeters(slug, pset.content_hash())
        else:
            ws.save_perimeters(
                pset.name,
                source_bytes,
                filename or pset.name,
                pset.kind,
                content_hash=pset.content_hash(),
                report=report,
            )
        geography().set_perimeters(pset)


def restore_perimeters() -> None:
    """Re-apply the perimeter set recorded as active in the workspace (e.g. after a restart).

    Cheap when nothing changed (one small JSON file read); call it at the top of the app.
    When no set was ever chosen, the geography keeps its default.
    """
    record = workspace().active_perimeters()
    if record is None:
        return
    geo = geography()
    if record.get("hash") == geo.perimeters_hash:
        return
    with _PERIMETER_LOCK:
        if record.get("hash") == geo.perimeters_hash:
            return
        if record.get("slug") == "par_epci":  # the default set was chosen again
            if geo.perimeters is not geo.default_perimeters:
                geo.set_perimeters(geo.default_perimeters)
            return
        try:
            with st.spinner("Rechargement des périmètres enregistrés…"):
                pset, _ = perimeters_from_workspace(record["slug"])
        except Exception as err:  # a broken saved file must not stop the app
            st.warning(
                f"Les périmètres enregistrés « {record.get('nom', '')} » n'ont pas pu être "
                f"rechargés ({err}) : le jeu par défaut est utilisé."
            )
            return
        geo.set_perimeters(pset)
        if record.get("hash") != geo.perimeters_hash:  # e.g. rebuilt geography: remember it
            workspace().set_active_perimeters(record["slug"], geo.perimeters_hash)


def refresh_store() -> None:
    """Drop the cached indicator store and values (after official data were updated)."""
    _store.clear()
    indicator_frame.clear()
