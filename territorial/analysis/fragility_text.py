"""The French sentences of a fragility result: scope, population, gaps to the reference, method."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from territorial.analysis.presets import N_PRIORITIES, NO_PRIORITY_TEXT
from territorial.geo.geography import parse_scope
from territorial.indicators.catalogue import Catalogue, load_catalogue  # noqa: F401 (doctests)
from territorial.text.formatting import format_number

_REFERENCE_LABELS = {"france": "ensemble du périmètre", "region": "région de chaque territoire"}

_LEVEL_PLURALS = {
    "commune": "communes",
    "epci": "EPCI",
    "perimetre": "projets de territoire",
    "departement": "départements",
    "region": "régions",
}


def _name(geo, level: str, code: str) -> str:
    try:
        table = geo.table(level, "france")
        names = dict(zip(table["code"].astype(str), table["nom"], strict=True))
    except (KeyError, ValueError):
        return code
    return str(names.get(code, code))


def _scope_label(geo, scope: str) -> str:
    kind, code = parse_scope(scope)
    if kind == "metropole":
        return "France métropolitaine"
    if kind == "france":
        return "France entière"
    if kind == "region":
        return f"région {_name(geo, 'region', code)}"
    return f"département {_name(geo, 'departement', code)} ({code})"


def _population_phrase(level: str, scope: str, reference: str) -> str:
    """Who a unit is compared with: ``"des EPCI"``, ``"des communes de sa région"``..."""
    plural = _LEVEL_PLURALS[level]
    kind, _ = parse_scope(scope)
    if kind == "departement":
        return f"des {plural} du département"
    if kind == "region":
        return f"des {plural} de la région"
    return f"des {plural} de sa région" if reference == "region" else f"des {plural}"


# ---------------------------------------------------------------------------- priorities
@dataclass
class _Context:
    """What the priority sentences need, as plain arrays (fast for 35 000 communes)."""

    catalogue: Catalogue
    position: dict[str, int]  # unit code -> row of the arrays below
    values: dict[str, np.ndarray]
    pct: dict[str, np.ndarray]
    region_refs: dict[str, np.ndarray]  # value of each unit's région
    france_refs: dict[str, float | None]
    region_labels: np.ndarray  # name of each unit's région
    reference: str
    phrase: str
    estimated: dict[str, set[str]]  # indicator -> reference levels whose value is estimated


def _float(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _with_unit(value: float | None, indicator) -> str:
    text = format_number(value, indicator.decimals)
    return f"{text} {indicator.unit}".strip() if value is not None else text


def _gap_text(ctx: _Context, row: int, entry: dict) -> str:
    """``"Libellé : 23,4 km contre 7,0 km en France (plus fragile que 85 % des EPCI)"``."""
    indicator = ctx.catalogue[entry["indicator"]]
    text = f"{indicator.label} : {_with_unit(entry['valeur'], indicator)}"
    region = entry["reference_region"]
    if ctx.reference == "region" and region is not None:
        name = ctx.region_labels[row]
        text += f" contre {_with_unit(region, indicator)} dans la région {name}".rstrip()
        text += _estimate_mark(ctx, indicator.id, "region")
    elif entry["reference_france"] is not None:
        text += f" contre {_with_unit(entry['reference_france'], indicator)} en France"
        text += _estimate_mark(ctx, indicator.id, "france")
    share = math.floor(entry["percentile"])
    return f"{text} (plus fragile que {share} % {ctx.phrase})"


def _estimate_mark(ctx: _Context, indicator_id: str, level: str) -> str:
    return " (estimation)" if level in ctx.estimated.get(indicator_id, ()) else ""


def _priority_entry(ctx: _Context, row: int, indicator_id: str) -> dict:
    indicator = ctx.catalogue[indicator_id]
    entry = {
        "indicator": indicator_id,
        "libelle": indicator.label,
        "unite": indicator.unit,
        "valeur": _float(ctx.values[indicator_id][row]),
        "percentile": round(float(ctx.pct[indicator_id][row]), 1),
        "reference_region": _float(ctx.region_refs[indicator_id][row]),
        "reference_france": ctx.france_refs[indicator_id],
    }
    entry["ecart_texte"] = _gap_text(ctx, row, entry)
    return entry


def _reference_values(store, level: str, units: pd.DataFrame, ids: list[str]):
    """Values of each unit's région and of France (as ``store.reference`` gives them).

    Read level-wide once instead of calling ``store.reference`` unit by unit, which
    would take minutes for the 1 234 EPCI. A région has no région reference.
    """
    if level == "region":
        region_refs = {i: np.full(len(units), np.nan) for i in ids}
    else:
        regions = store.values("region", "france").reindex(columns=ids)
        aligned = regions.reindex(units["region"].to_numpy())
        region_refs = {i: aligned[i].to_numpy(dtype=float) for i in ids}
    france = store.values("france", None).reindex(columns=ids)
    france_refs = {i: _float(france[i].iloc[0]) if len(france) else None for i in ids}
    return region_refs, france_refs


def _priorities(ctx: _Context, ids_table: pd.DataFrame) -> dict[str, list[dict]]:
    columns = [f"priorite_{k + 1}" for k in range(N_PRIORITIES)]
    out = {}
    for code, *picked in ids_table[columns].itertuples(name=None):
        row = ctx.position[code]
        out[code] = [_priority_entry(ctx, row, i) for i in picked if i]
    return out


def _priority_labels(ids_table: pd.DataFrame, pct: pd.DataFrame, catalogue) -> pd.Series:
    """Readable list of the priorities, or why there is none."""
    columns = [f"priorite_{k + 1}" for k in range(N_PRIORITIES)]
    has_data = pct.notna().any(axis=1).to_numpy()
    texts = []
    for picked, data in zip(ids_table[columns].itertuples(index=False), has_data, strict=True):
        labels = [catalogue[i].label for i in picked if i]
        texts.append(" ; ".join(labels) if labels else (NO_PRIORITY_TEXT if data else ""))
    return pd.Series(texts, index=ids_table.index)


def _pct_text(value: float) -> str:
    return f"{format_number(value * 100, 0)} %"


def _method_note(
    level, scope_label, reference, ids, weights, max_missing, catalogue, notes, n_units
) -> str:
    plural = _LEVEL_PLURALS[level]
    polarity = {"fragile_si_haut": "fragile si haut", "fragile_si_bas": "fragile si bas"}
    parts = [
        f"{catalogue[i].label} (poids {_pct_text(weights[i])}, {polarity[catalogue[i].polarity]})"
        for i in ids
    ]
    within = (
        f"parmi les {plural} de sa région"
        if reference == "region"
        else f"parmi les {format_number(n_units)} {plural} du périmètre ({scope_label})"
    )
    lines = [
        f"Score de fragilité des {plural} — {scope_label}.",
        "Indicateurs : " + " ; ".join(parts) + ".",
        f"Pour chaque indicateur, chaque territoire reçoit un rang centile {within} : "
        "(rang moyen − 0,5) / nombre de territoires ayant la donnée × 100, les ex æquo "
        "partageant leur rang moyen. Il est inversé (100 − centile) quand une valeur basse "
        "signale une fragilité : 100 = le plus fragile.",
        "Le score (0 à 100) est la moyenne pondérée des centiles disponibles, les poids "
        "étant répartis sur les indicateurs présents ; un territoire auquel il manque plus "
        f"de {_pct_text(max_missing)} du poids n'a pas de score.",
        "Rang : score décroissant arrondi au dixième, à égalité le plus petit code d'abord. "
        "Classes : quintiles des scores (5 « Très fragile » = les 20 % de scores les plus "
        "élevés, 1 « Peu fragile » = les 20 % les plus bas).",
        "Fragilités prioritaires : les trois indicateurs au centile le plus élevé, s'il "
        "dépasse 50 (à égalité, l'ordre du catalogue).",
        "Le score est relatif : il situe les territoires les uns par rapport aux autres, "
        "ce n'est pas une mesure absolue.",
    ]
    return "\n".join(lines + notes)
