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
        values = ws.load_values(meta["slug"])
        report = JoinReport(**{k: v for k, v in meta["rapport"].items() if k != "complete"})
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
