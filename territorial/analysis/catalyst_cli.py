"""``python -m territorial catalyseurs``: the command line over the catalyst analyses."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from territorial.analysis.catalyst_density import densities, gaps
from territorial.analysis.catalysts import FRAGILITY_PRESET, load_catalysts
from territorial.geo.geography import LEVEL_LABELS
from territorial.indicators.table_base import TableError
from territorial.text.formatting import format_number
from territorial.text.jsonout import json_text

__all__ = ["cli_catalysts"]


# --------------------------------------------------------------------------- CLI
def _records(frame: pd.DataFrame) -> list[dict]:
    """JSON-ready rows (NaN → None, numpy scalars → Python)."""
    out = []
    for code, row in frame.iterrows():
        record = {"code": code}
        for key, value in row.items():
            if isinstance(value, (float, np.floating)):
                record[key] = None if np.isnan(value) else round(float(value), 4)
            elif isinstance(value, (np.integer,)):
                record[key] = int(value)
            elif isinstance(value, np.bool_):
                record[key] = bool(value)
            else:
                record[key] = None if value is None or value is pd.NA else value
        out.append(record)
    return out


def _fragile_codes(store, level: str, scope: str) -> tuple[list[str] | None, str]:
    """Codes of the most fragile quintile, or ``None`` and why they are not available."""
    try:
        from territorial.analysis.fragility import fragility
    except ImportError:
        return None, (
            "Zones blanches non calculées : le module d'analyse des fragilités "
            "(territorial.analysis.fragility) n'est pas disponible."
        )
    try:
        result = fragility(store, level, scope, preset=FRAGILITY_PRESET)
        table = result.table
        codes = (
            table["code"] if "code" in table.columns else pd.Series(table.index, index=table.index)
        )
        most_fragile = (table["classe"] == 5).fillna(False).to_numpy(dtype=bool)
        return sorted(codes[most_fragile].astype(str)), (
            f"Zones blanches parmi le quintile le plus fragile (classe 5) selon le jeu "
            f"d'indicateurs « {FRAGILITY_PRESET} »."
        )
    except Exception as err:  # the CLI still reports placement and densities
        return None, f"Zones blanches non calculées : l'analyse des fragilités a échoué ({err})."


def cli_catalysts(path: str, level: str, scope: str, as_json: bool) -> int:
    """Print the placement report, counts, densities and gaps of a catalyst file.

    Parameters
    ----------
    path : str
        The catalyst file (CSV, Excel or Parquet).
    level : str
        Level of the counts and densities.
    scope : str
        Study scope (``"metropole"``, ``"france"``, ``"region:84"``...).
    as_json : bool
        Print JSON instead of French text.

    Returns
    -------
    int
        0 when the file was read (unplaced rows are listed in the report), 2 when it could
        not be used (French message on stderr).
    """
    from territorial.geo.geography import load_geography
    from territorial.indicators.store import IndicatorStore

    try:
        geo = load_geography()
        catalysts, report = load_catalysts(path, geo)
        store = IndicatorStore(geo)
        table = densities(catalysts, store, level, scope)
    except TableError as err:
        print(err.message, file=sys.stderr)
        return 2
    except Exception as err:  # the CLI never shows a traceback
        print(f"« {Path(str(path)).name} » n'a pas pu être traité : {err}", file=sys.stderr)
        return 2
    codes, gap_note = _fragile_codes(store, level, scope)
    gap_table = gaps(catalysts, geo, level, scope, codes) if codes is not None else None
    warning = (
        "FICTIF : cette liste de catalyseurs est fictive, elle ne décrit aucun acteur réel."
        if catalysts.fictional
        else None
    )
    payload = {
        "fictif": catalysts.fictional,
        "avertissement": warning,
        "liste": catalysts.name,
        "niveau": level,
        "perimetre_etude": scope,
        "rapport": report.to_dict(),
        "resume": report.summary_fr(),
        "densites": _records(table),
        "zones_blanches": None if gap_table is None else _records(gap_table),
        "zones_blanches_note": gap_note,
    }
    if as_json:
        print(json_text(payload))
    else:
        print("\n".join(_text_lines(payload, table, gap_table)))
    return 0


def _text_lines(payload: dict, table: pd.DataFrame, gap_table: pd.DataFrame | None) -> list[str]:
    lines = []
    if payload["fictif"]:
        lines += [f"*** {payload['avertissement']} ***", ""]
    lines += payload["resume"]
    level = LEVEL_LABELS.get(payload["niveau"], payload["niveau"])
    shown = table.sort_values(["n_catalyseurs", "pour_100k_hab"], ascending=False).head(20)
    lines += ["", f"Densité par {level.lower()} ({len(table)} territoires, 20 premiers) :"]
    for code, row in shown.iterrows():
        lines.append(
            f"  {code:<10} {str(row['nom'])[:34]:<34} {int(row['n_catalyseurs']):>4} catalyseurs"
            f"  {format_number(row['pour_100k_hab'], 2):>8} / 100 000 hab."
            f"  {format_number(row['pour_1000_km2'], 2):>8} / 1 000 km²"
        )
    lines += ["", payload["zones_blanches_note"]]
    if gap_table is not None:
        n = len(gap_table)
        lines.append(
            f"{n} territoire{'s' if n > 1 else ''} parmi les plus fragiles sans aucun "
            "catalyseur, du plus éloigné au plus proche d'un catalyseur :"
        )
        for code, row in gap_table.head(20).iterrows():
            lines.append(
                f"  {code:<10} {str(row['nom'])[:34]:<34} "
                f"{format_number(row['distance_km'], 1):>7} km de « {row['catalyseur_proche']} »"
            )
    if payload["fictif"]:
        lines += ["", "FICTIF — données d'exemple."]
    return lines
