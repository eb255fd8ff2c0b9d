"""The "fiche territoire": everything known about one unit, as data, CSV and printable HTML.

Examples
--------
>>> from territorial import load_geography
>>> from territorial.indicators.store import IndicatorStore
>>> data = fiche_data(IndicatorStore(load_geography()), "commune", "42218")
>>> data["identite"]["nom"]
'Saint-Étienne'
>>> "<html" in render_html(data)
True
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import jinja2
import pandas as pd

from territorial.analysis.portrait import portrait, rules_text
from territorial.geo.geography import LEVEL_LABELS
from territorial.indicators.catalogue import INDICATOR_DIR
from territorial.indicators.store import IndicatorStore
from territorial.sources.raw import raw_manifest
from territorial.text.formatting import format_number, format_rank

__all__ = [
    "cell_text",
    "date_fr",
    "fiche_data",
    "fiche_table",
    "programmes",
    "rank_text",
    "render_html",
    "typology_shares",
]

MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
_MAX_NAMED = 12  # members named per programme; the others are counted

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
)


def _rank(pool: pd.Series, value: float) -> tuple[int | None, int]:
    """Rank of ``value`` in ``pool`` (1 = highest) and the number ranked.

    No rank (None) when it carries no information: every unit of the pool has the same value
    (the number of communes of a commune is 1 for all 34 746).

    >>> _rank(pd.Series([3.0, 1.0, 2.0]), 2.0), _rank(pd.Series([1.0, 1.0]), 1.0)
    ((2, 3), (None, 2))
    """
    known = pool.dropna()
    if known.nunique() < 2:
        return None, len(known)
    return int((known > value).sum()) + 1, len(known)


def _ranks(store: IndicatorStore, level: str, indicator_id: str, code: str) -> dict:
    """Rank within its région and within France (metropolitan units, or all for overseas)."""
    geo = store.geo
    table = geo.table(level, "france")
    values = store.values(level, "france")[indicator_id].reindex(table["code"].to_numpy())
    outre_mer = bool(table.set_index("code").at[code, "outre_mer"])
    pool = values if outre_mer else values[~table["outre_mer"].to_numpy()]
    value = values.get(code)
    ranks = dict.fromkeys(("rang_region", "rang_region_sur", "rang_france", "rang_france_sur"))
    if value is None or pd.isna(value):
        return ranks
    ranks["rang_france"], ranks["rang_france_sur"] = _rank(pool, value)
    if level != "region":
        regions = table.set_index("code")["region"]
        same = values[(regions == regions[code]).to_numpy()]
        ranks["rang_region"], ranks["rang_region_sur"] = _rank(same, value)
    return ranks


def rank_text(rank: int | None, total: int | None) -> str:
    """``1er / 13``; ``–`` where there is no rank.

    >>> rank_text(1, 13), rank_text(None, 5)
    ('1er / 13', '–')
    """
    return "–" if pd.isna(rank) else format_rank(int(rank), int(total))


def fiche_table(store: IndicatorStore, level: str, code: str) -> pd.DataFrame:
    """One row per indicator: value, ranks (région, France), and the parents' values."""
    rows = []
    for indicator in store.catalogue:
        reference = store.reference(indicator.id, level, code)
        rows.append(
            {
                "theme": indicator.theme,
                "indicateur": indicator.label,
                "unite": indicator.unit,
                "valeur": reference.get(level),
                **_ranks(store, level, indicator.id, code),
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


@functools.cache
def _programme_members() -> pd.DataFrame:
    return pd.read_parquet(INDICATOR_DIR / "programmes.parquet")


def programmes(geo, level: str, code: str) -> list[dict]:
    """The ANCT programmes present in a territory (ANCT, September 2024; QPV 2024).

    One entry per programme: ``programme`` (French name), ``n`` (members in the territory)
    and ``membres`` (the first names, then how many more).

    >>> from territorial import load_geography
    >>> found = {p["programme"]: p["n"] for p in programmes(load_geography(), "commune", "42218")}
    >>> found["France services"], found["Quartiers prioritaires de la politique de la ville"]
    (3, 9)
    """
    members = _programme_members()
    inside = members[members["commune"].isin(geo.members(level, code))]
    out = []
    for name, group in inside.groupby("programme_nom", sort=True):
        labels = group["lib"].dropna().drop_duplicates().tolist()  # some have no name
        shown = ", ".join(labels[:_MAX_NAMED])
        if len(labels) > _MAX_NAMED:
            shown += f" et {len(labels) - _MAX_NAMED} autres"
        unnamed = int(group.loc[group["lib"].isna(), "id"].nunique())
        if unnamed:
            shown += f"{' et ' if shown else ''}{unnamed} sans nom publié"
        out.append({"programme": name, "n": int(group["id"].nunique()), "membres": shown})
    return out


def typology_shares(store: IndicatorStore, level: str, code: str) -> list[dict]:
    """Share of the population in each class of every typology, above commune level.

    One entry per typology: ``typologie`` (label) and ``classes``, the non-empty classes
    with their share of the population, largest first, as French text.

    >>> from territorial import load_geography
    >>> shares = typology_shares(IndicatorStore(load_geography()), "departement", "42")
    >>> shares[1]["typologie"], shares[1]["classes"].split(" ; ")[0]
    ('Grille communale de densité (7 niveaux)', 'Grands centres urbains : 31\u202f%')
    """
    if level == "commune":
        return []
    components = store.components(level)
    out = []
    for indicator in store.catalogue:
        if not indicator.is_categorical or code not in components.index:
            continue
        shares = indicator.shares(components.loc[[code]]).iloc[0].dropna()
        shares = shares[shares > 0].sort_values(ascending=False, kind="stable")
        text = " ; ".join(f"{label} : {format_number(v, 0)}\u202f%" for label, v in shares.items())
        out.append({"typologie": indicator.label, "classes": text})
    return out


def _producers() -> list[dict]:
    """Producer, dataset, vintage and licence of each shipped official file."""
    return [
        {k: entry[k] for k in ("producteur", "jeu_de_donnees", "millesime", "licence")}
        for entry in raw_manifest().values()
    ]


def date_fr(day: dt.date) -> str:
    """``1er décembre 2026`` style date.

    >>> date_fr(dt.date(2026, 12, 1)), date_fr(dt.date(2026, 3, 15))
    ('1er décembre 2026', '15 mars 2026')
    """
    first = "1er" if day.day == 1 else str(day.day)
    return f"{first} {MONTHS[day.month - 1]} {day.year}"


def fiche_data(
    store: IndicatorStore,
    level: str,
    code: str,
    priorities: list[dict] | None = None,
    catalysts: dict | None = None,
) -> dict:
    """Identity, portrait, indicators, fragilités prioritaires and catalysts of one unit.

    ``priorities`` None means not computed: the portrait then says nothing about them.
    """
    geo = store.geo
    unit = geo.table(level, "france").set_index("code").loc[code]
    parents = geo.parents(level, code)
    values = store.values(level, "france").loc[code]
    identity = {
        "niveau": LEVEL_LABELS[level],
        "niveau_code": level,
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
    found = programmes(geo, level, code)
    return {
        "identite": identity,
        "indicateurs": table,
        "priorites": priorities or [],
        "catalyseurs": catalysts,
        "date": date_fr(dt.date.today()),
        "sources": geo.manifest["sources"],
        "producteurs": _producers(),
        "programmes": found,
        "typologies": typology_shares(store, level, code),
        "portrait": portrait(store, level, code, priorities, identity, found),
        "regles_portrait": rules_text().splitlines(),
    }


def cell_text(row: dict, column: str, level: str) -> str:
    """A value of the fiche: class label for a typology, « (estimation) » where estimated."""
    value = row[column]
    if row["categories"]:
        missing = value is None or value != value
        text = "–" if missing else row["categories"][int(value) - 1]
    else:
        text = format_number(value, row["decimales"])
    return f"{text} (estimation)" if level in row["estimation"] and text != "–" else text


def render_html(data: dict) -> str:
    """A standalone, printable HTML fiche (every value escaped by Jinja2's autoescape)."""
    table = data["indicateurs"]
    rows = [
        {
            **row,
            "valeur_texte": cell_text(row, "valeur", data["identite"]["niveau_code"]),
            "departement_texte": cell_text(row, "departement", "departement"),
            "region_texte": cell_text(row, "region", "region"),
            "france_texte": cell_text(row, "france", "france"),
            "rang_region_texte": rank_text(row["rang_region"], row["rang_region_sur"]),
            "rang_france_texte": rank_text(row["rang_france"], row["rang_france_sur"]),
        }
        for row in table.to_dict("records")
    ]
    return _TEMPLATES.get_template("fiche.html").render(**data, lignes=rows)
