"""Command-line interface with ``--json`` output.

Examples
--------
``python -m territorial info --json``
``python -m territorial find "saint etienne" --json``
``python -m territorial perimeters crte.csv --json``
"""

from __future__ import annotations

import argparse
import json
import sys

from territorial.geography import LEVEL_LABELS, LEVELS, load_geography

__all__ = ["main", "info", "find"]


def info() -> dict:
    """Counts and population totals per level, vintages and the active perimeter set."""
    geo = load_geography()
    levels = {}
    for level in LEVELS:
        metro, everything = geo.table(level, "metropole"), geo.table(level, "france")
        levels[level] = {
            "libelle": LEVEL_LABELS[level],
            "metropole": {"nombre": len(metro), "population": int(metro["population"].sum())},
            "france": {
                "nombre": len(everything),
                "population": int(everything["population"].sum()),
            },
        }
    metro_epcis = geo.table("epci", "metropole")
    levels["epci"]["metropole"]["dont_communes_hors_epci"] = int(metro_epcis["sans_epci"].sum())
    manifest = geo.manifest
    pset = geo.perimeters
    return {
        "niveaux": levels,
        "cog": manifest["cog"],
        "population": manifest["population"],
        "sources": manifest["sources"],
        "build_date": manifest["build_date"],
        "perimetres_actifs": {"nom": pset.name, "type": pset.kind, "source": pset.source},
        "epci_multi_departements": int((geo.epcis["n_departements"] > 1).sum()),
        "epci_multi_regions": int((geo.epcis["n_regions"] > 1).sum()),
        "reparations": manifest["repairs"],
    }


def find(text: str, limit: int = 10) -> list[dict]:
    """Search results with codes and parents."""
    geo = load_geography()
    results = []
    for row in geo.search(text, limit=limit).itertuples():
        parents = {
            lvl: {"code": c, "nom": n} for lvl, (c, n) in geo.parents(row.level, row.code).items()
        }
        results.append(
            {
                "niveau": row.level,
                "code": row.code,
                "nom": row.nom,
                "libelle": row.label,
                "population": None if row.population != row.population else int(row.population),
                "parents": parents,
            }
        )
    return results


def _print(payload, as_json: bool, text_lines) -> None:
    if as_json:
        print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    else:
        print("\n".join(text_lines(payload)))


def _info_lines(payload: dict) -> list[str]:
    lines = [f"COG {payload['cog']} — {payload['population']['definition']}"]
    for level in payload["niveaux"].values():
        metro = level["metropole"]
        lines.append(
            f"{level['libelle']:<26} {metro['nombre']:>6} en métropole, "
            f"population {metro['population']:,}".replace(",", " ")
        )
    lines.append(f"Périmètres actifs : {payload['perimetres_actifs']['nom']}")
    return lines


def _find_lines(payload: list[dict]) -> list[str]:
    if not payload:
        return ["Aucun territoire trouvé."]
    return [
        f"{r['libelle']:<40} {LEVEL_LABELS[r['niveau']]:<26} {r['code']}  "
        + " · ".join(p["nom"] for p in r["parents"].values())
        for r in payload
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m territorial", description="Dynamiques territoriales"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    p_info = commands.add_parser("info", help="niveaux, effectifs, populations, millésimes")
    p_info.add_argument("--json", action="store_true")
    p_find = commands.add_parser("find", help="chercher un territoire par nom ou code")
    p_find.add_argument("text")
    p_find.add_argument("--limit", type=int, default=10)
    p_find.add_argument("--json", action="store_true")
    p_per = commands.add_parser(
        "perimeters", help="rapport de validation d'un fichier de périmètres"
    )
    p_per.add_argument("file")
    p_per.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "info":
        _print(info(), args.json, _info_lines)
    elif args.command == "find":
        _print(find(args.text, args.limit), args.json, _find_lines)
    elif args.command == "perimeters":
        from territorial.perimeters import cli_perimeters

        return cli_perimeters(args.file, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
