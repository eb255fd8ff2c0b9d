"""Pickers shared by the pages; each reads its default from the URL and writes it back."""

from __future__ import annotations

import streamlit as st

from territorial import LEVEL_LABELS
from territorial.indicators.catalogue import Catalogue, Indicator
from territorial.text.formatting import format_number
from territorial.text.glossary import help_text
from territorial.text.safetext import inert
from ui.common import query_value
from ui.state import geography

SCOPE_LABELS = {"metropole": "France métropolitaine", "france": "France entière (avec l'outre-mer)"}


def level_picker(
    levels=("region", "departement", "perimetre", "epci", "commune"),
    default="departement",
    key="niveau",
) -> str:
    level = query_value("niveau", default, levels)
    return st.selectbox(
        "Niveau", levels, index=levels.index(level), format_func=LEVEL_LABELS.get, key=key,
        help=help_text("epci", "ept", "crte"),
    )  # fmt: skip


def scope_picker(level: str, key="perimetre_etude") -> str:
    """Scope: France métropolitaine, France entière, or one région / département."""
    geo = geography()
    regions = geo.table("region", "france").sort_values("nom")
    departements = geo.table("departement", "france").sort_values("code")
    options = ["metropole", "france"]
    labels = dict(SCOPE_LABELS)
    if level != "region":
        for row in regions.itertuples():
            options.append(f"region:{row.code}")
            labels[f"region:{row.code}"] = f"Région : {row.nom}"
    if level in {"commune", "epci", "perimetre"}:
        for row in departements.itertuples():
            options.append(f"departement:{row.code}")
            labels[f"departement:{row.code}"] = f"Département : {row.nom} ({row.code})"
    default = "region:84" if level == "commune" else "metropole"
    scope = query_value("perimetre", default, options)
    return st.selectbox(
        "Périmètre d'étude", options, index=options.index(scope), format_func=labels.get, key=key,
        help=help_text("perimetre"),
    )  # fmt: skip


def indicator_label(indicator: Indicator) -> str:
    return f"{indicator.theme} · {indicator.label}"


def indicator_picker(
    catalogue: Catalogue, default: str = "population", key="indicateur", label="Indicateur"
) -> Indicator:
    """Indicators grouped by theme (the theme leads each label)."""
    grouped = catalogue.themes()
    ordered = [i.id for theme in grouped for i in grouped[theme]]
    current = query_value(key, default, ordered)
    chosen = st.selectbox(
        label,
        ordered,
        index=ordered.index(current),
        format_func=lambda i: indicator_label(catalogue[i]),
        key=f"pick-{key}",
    )
    return catalogue[chosen]


def formatter(indicator: Indicator):
    """Number formatter for an indicator (its decimals)."""
    return lambda value: format_number(value, indicator.decimals)


def search_box(key="recherche") -> tuple[str, str] | None:
    """Search a territory by name or code; returns (level, code) of the chosen result."""
    geo = geography()
    text = st.text_input(
        "Rechercher un territoire (nom ou code)",
        placeholder="ex. saint etienne, 42218, 42000 (code postal), Loire",
        key=key,
    )
    if not text:
        return None
    found = geo.search(text, limit=8)
    if found.empty:
        st.info("Aucun territoire ne correspond à cette recherche.")
        return None
    options = list(zip(found["level"], found["code"], strict=True))
    # radio options are Markdown: the names (a perimeter's may be a user's) are made inert
    labels = {
        (r.level, r.code): inert(f"{r.label} — {LEVEL_LABELS[r.level]}") for r in found.itertuples()
    }
    return st.radio("Résultats", options, format_func=labels.get, index=None, key=f"{key}-choix")
