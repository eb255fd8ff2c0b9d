"""The "fiche territoire": everything known about one unit, as data, CSV and printable HTML.

Examples
--------
>>> from territorial import load_geography
>>> from territorial.store import IndicatorStore
>>> data = fiche_data(IndicatorStore(load_geography()), "commune", "42218")
>>> data["identite"]["nom"]
'Saint-Étienne'
>>> "<html" in render_html(data)
True
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import jinja2
import pandas as pd

from territorial.formatting import format_number, format_rank
from territorial.geography import LEVEL_LABELS
from territorial.store import IndicatorStore

__all__ = ["fiche_data", "fiche_table", "render_html"]

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
)


def _ranks(store: IndicatorStore, level: str, indicator_id: str, code: str) -> tuple[str, str]:
    """Rank within its région and within France (metropolitan units, or all for overseas)."""
    geo = store.geo
    table = geo.table(level, "france")
    values = store.values(level, "france")[indicator_id].reindex(table["code"].to_numpy())
    outre_mer = bool(table.set_index("code").at[code, "outre_mer"])
    pool = values if outre_mer else values[~table["outre_mer"].to_numpy()]
    value = values.get(code)
    if value is None or pd.isna(value):
        return "–", "–"
    france = format_rank(int((pool > value).sum()) + 1, int(pool.notna().sum()))
    if level == "region":
        return "–", france
    regions = table.set_index("code")["region"]
    same = values[(regions == regions[code]).to_numpy()]
    region = format_rank(int((same > value).sum()) + 1, int(same.notna().sum()))
    return region, france


def fiche_table(store: IndicatorStore, level: str, code: str) -> pd.DataFrame:
    """One row per indicator: value, ranks (région, France), and the parents' values."""
    rows = []
    for indicator in store.catalogue:
        reference = store.reference(indicator.id, level, code)
        rank_region, rank_france = _ranks(store, level, indicator.id, code)
        rows.append(
            {
                "theme": indicator.theme,
                "indicateur": indicator.label,
                "unite": indicator.unit,
                "valeur": reference.get(level),
                "rang_region": rank_region,
                "rang_france": rank_france,
                "departement": reference.get("departement"),
                "region": reference.get("region"),
                "france": reference.get("france"),
                "decimales": indicator.decimals,
                "source": f"{indicator.source} — {indicator.vintage} — {indicator.licence}",
                "id": indicator.id,
                "categories": indicator.categories,
                "estimation": [
                    lvl
                    for lvl in (level, "departement", "region", "france")
                    if store.is_estimate(indicator.id, lvl)
                ],
            }
        )
    return pd.DataFrame(rows)


def fiche_data(
    store: IndicatorStore,
    level: str,
    code: str,
    priorities: list[dict] | None = None,
    catalysts: dict | None = None,
) -> dict:
    """Identity, indicators, fragilités prioritaires and catalysts of one unit."""
    geo = store.geo
    unit = geo.table(level, "france").set_index("code").loc[code]
    parents = geo.parents(level, code)
    values = store.values(level, "france").loc[code]
    identity = {
        "niveau": LEVEL_LABELS[level],
        "code": code,
        "nom": unit["nom"],
        "parents": [
            {"niveau": LEVEL_LABELS[p], "code": c, "nom": n} for p, (c, n) in parents.items()
        ],
        "population": format_number(values.get("population")),
        "superficie_km2": format_number(values.get("superficie_km2"), 1),
        "n_communes": format_number(values.get("n_communes")),
    }
    perimeter_code = parents.get("perimetre", (code, None))[0] if level != "perimetre" else code
    if level in {"commune", "epci", "perimetre"} and perimeter_code:
        perimeters = geo.table("perimetre", "france").set_index("code")
        if perimeter_code in perimeters.index:
            row = perimeters.loc[perimeter_code]
            identity["perimetre"] = {
                "nom": row["nom"],
                "portage": row.get("portage") or "",
                "n_epci": int(row.get("n_epci_membres", 0) or 0),
                "jeu": geo.perimeters.name,
            }
    table = fiche_table(store, level, code)
    return {
        "identite": identity,
        "indicateurs": table,
        "priorites": priorities or [],
        "catalyseurs": catalysts,
        "date": dt.date.today().isoformat(),
        "sources": geo.manifest["sources"],
    }


def render_html(data: dict) -> str:
    """A standalone, printable HTML fiche (every value escaped by Jinja2's autoescape)."""
    table = data["indicateurs"]
    rows = [
        {
            **row,
            "valeur_texte": format_number(row["valeur"], row["decimales"]),
            "departement_texte": format_number(row["departement"], row["decimales"]),
            "region_texte": format_number(row["region"], row["decimales"]),
            "france_texte": format_number(row["france"], row["decimales"]),
        }
        for row in table.to_dict("records")
    ]
    return _TEMPLATES.get_template("fiche.html").render(**data, lignes=rows)
