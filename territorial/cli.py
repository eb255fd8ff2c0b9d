"""Command-line interface with ``--json`` output.

Examples
--------
``python -m territorial info --json``
``python -m territorial find "saint etienne" --json``
``python -m territorial perimeters crte.csv --json``
``python -m territorial sources --json``
``python -m territorial ateliers --json``
``python -m territorial peers 42218 --level commune --same-region --json``
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings

from territorial.geo.geography import LEVEL_LABELS, LEVELS, load_geography
from territorial.text.jsonout import json_text

__all__ = ["main", "info", "find", "sources"]


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
    return {
        "niveaux": levels,
        "cog": manifest["cog"],
        "population": manifest["population"],
        "sources": manifest["sources"],
        "build_date": manifest["build_date"],
        "perimetres_actifs": _active_perimeters(geo),
        "regle_de_rattachement": manifest["attachment_rule"],
        "epci_multi_departements": geo.spanning_epcis("departement").to_dict("records"),
        "epci_multi_regions": geo.spanning_epcis("region").to_dict("records"),
        "reparations": manifest["repairs"],
    }


def _active_perimeters(geo) -> dict:
    """The active perimeter set: name, vintage, counts and the communes in none or in two."""
    from territorial.perimeters.crte import active_set_label

    pset, report = geo.perimeters, geo.perimeters_report
    out = {
        "nom": pset.name,
        "type": pset.kind,
        "libelle": active_set_label(pset, report),
        "millesime": pset.source.get("millesime"),
        "source": pset.source,
    }
    if report is None:
        return out
    metro = report.scopes.get("metropole", {})
    uncovered = report.uncovered.get("metropole", {})
    out.update(
        {
            "perimetres": {
                "france": report.n_perimetres,
                "metropole": metro.get("n_perimetres"),
                "metropole_un_epci": metro.get("n_mono_epci"),
                "metropole_plusieurs_epci": metro.get("n_multi_epci"),
            },
            "reference": report.reference,
            "communes_sans_perimetre_metropole": {
                "nombre": metro.get("n_communes", 0) - metro.get("n_communes_couvertes", 0),
                "population": metro.get("population", 0) - metro.get("population_couverte", 0),
                "epci": [e["code"] for e in uncovered.get("epcis", [])],
                "communes": [c["code"] for c in uncovered.get("communes", [])],
            },
            "communes_dans_deux_perimetres": len(report.communes_in_two),
            "epci_2022_resolus": [
                {k: d[k] for k in ("code", "nom", "perimetre", "n_communes")}
                for d in report.former_epcis
            ],
            "communes_detachees_de_leur_epci": len(report.detached_communes),
            "lignes_non_rattachees": len(report.unknown_codes),
        }
    )
    return out


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


def sources() -> list[dict]:
    """Every source of what the dashboard shows, with vintage and licence."""
    from territorial.indicators.catalogue import load_catalogue
    from territorial.sources.manifest import FetchError, load_manifest
    from territorial.sources.provenance import sources_table
    from territorial.storage.workspace import Workspace

    try:
        official = load_manifest()
    except FetchError:
        official = {}
    table = sources_table(load_geography(), load_catalogue(), official, Workspace().tables())
    return table.to_dict("records")


def _source_lines(payload: list[dict]) -> list[str]:
    return [
        f"{s['Catégorie']} — {s['Source']} — {s['Millésime']} — {s['Licence']}" for s in payload
    ]


def indicators() -> list[dict]:
    """The indicator catalogue."""
    from territorial.indicators.catalogue import load_catalogue

    return load_catalogue().to_records()


def join(path: str, key: str | None, level: str | None, scope: str) -> dict:
    """Join report and per-level aggregated values of a user table's numeric columns."""
    from territorial.indicators.join import join_table, to_user_indicators
    from territorial.indicators.store import AGGREGATION_LEVELS, IndicatorStore
    from territorial.indicators.tables import read_table

    geo = load_geography()
    result = join_table(read_table(path), geo, key=key, level=level, scope=scope)
    store = IndicatorStore(geo)
    population = store.components(result.report.level)["population"]
    table = to_user_indicators(result, "fichier", population)
    store.add(table)
    ids = [i.id for i in table.indicators]
    levels = AGGREGATION_LEVELS[AGGREGATION_LEVELS.index(result.report.level) :]
    values = {}
    for lvl in levels:
        frame = store.values(lvl, scope if lvl != "france" else None)[ids]
        frame.columns = [i.label for i in table.indicators]
        values[lvl] = {
            code: {k: (None if v != v else v) for k, v in row.items()}
            for code, row in frame.round(6).iterrows()
        }
    return {
        "rapport": result.report.to_dict(),
        "resume": result.report.summary_fr(),
        "regles": {i.label: i.rule for i in table.indicators},
        "valeurs": values,
    }


def _print(payload, as_json: bool, text_lines) -> None:
    if as_json:
        print(json_text(payload))
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
    for key, label in (
        ("epci_multi_departements", "départements"),
        ("epci_multi_regions", "régions"),
    ):
        lines.append(f"EPCI sur plusieurs {label} : {len(payload[key])} (liste : --json)")
    lines.append(f"Périmètres actifs : {payload['perimetres_actifs']['libelle']}")
    return lines


def _find_lines(payload: list[dict]) -> list[str]:
    if not payload:
        return ["Aucun territoire trouvé."]
    return [
        f"{r['libelle']:<40} {LEVEL_LABELS[r['niveau']]:<26} {r['code']}  " + _parents_text(r)
        for r in payload
    ]


def _parents_text(result: dict) -> str:
    """Parents' names, without a perimeter named as its EPCI (one perimeter per EPCI)."""
    parents = result["parents"]
    epci = parents.get("epci", {}).get("nom", result["nom"])
    names = [p["nom"] for level, p in parents.items() if level != "perimetre" or p["nom"] != epci]
    return " · ".join(names)


# argparse's own messages (usage, errors, help titles), in French.
_ARGPARSE_FR = {
    "usage: ": "utilisation : ",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "invalid choice: %(value)r (choose from %(choices)s)": (
        "choix invalide : %(value)r (choix possibles : %(choices)s)"
    ),
    "invalid %(type)s value: %(value)r": "valeur invalide (%(type)s attendu) : %(value)r",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "unrecognized arguments: %s": "arguments non reconnus : %s",
    "expected one argument": "une valeur est attendue",
    "ambiguous option: %(option)s could match %(matches)s": (
        "option ambiguë : %(option)s peut désigner %(matches)s"
    ),
    "show this help message and exit": "afficher cette aide et quitter",
    "positional arguments": "arguments",
    "options": "options",
}


@contextlib.contextmanager
def _french_argparse():
    """argparse looks its messages up through its module-level ``_`` at call time."""
    english = argparse._
    argparse._ = lambda message: _ARGPARSE_FR.get(message, english(message))
    try:
        yield
    finally:
        argparse._ = english


def main(argv: list[str] | None = None) -> int:
    """Run one command; 0 on success, 2 on a bad request (French message on stderr).

    No traceback ever reaches the user: bad input (an unknown scope, an unreadable file)
    ends with its French message and code 2, an unexpected failure with a French line
    naming the error and code 3.
    """
    try:
        with _french_argparse(), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # numpy's English overflow notes
            return _main(argv)
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except Exception as error:  # noqa: BLE001 - the CLI's last line of defence
        return _report_failure(error)


def _report_failure(error: Exception) -> int:
    from territorial.indicators.table_base import TableError
    from territorial.sources.manifest import FetchError

    message = (
        getattr(error, "message", None) if isinstance(error, TableError | FetchError) else None
    )
    if message is None and isinstance(error, ValueError | KeyError | OSError):
        text = error.args[0] if error.args and isinstance(error.args[0], str) else ""
        message = text if _is_french(text) else None
        if message is None and isinstance(error, OSError):
            message = f"Fichier illisible ou inaccessible ({error.strerror or 'erreur système'})."
    if message is not None:
        print(_safe(message), file=sys.stderr)
        return 2
    print(
        f"Erreur inattendue ({type(error).__name__}) : la commande n'a pas abouti.", file=sys.stderr
    )
    return 3


def _is_french(text: str) -> bool:
    """A message written by this project (accented French words), not a library's English."""
    return bool(text) and any(ch in text for ch in "éèàùâêîôûç«»")


def _safe(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m territorial", description="Dynamiques territoriales"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="commande")
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
    p_ind = commands.add_parser("indicators", help="le catalogue des indicateurs")
    p_ind.add_argument("--json", action="store_true")
    p_src = commands.add_parser("sources", help="sources, millésimes et licences")
    p_src.add_argument("--json", action="store_true")
    p_join = commands.add_parser("join", help="rattacher un tableau d'indicateurs aux territoires")
    p_join.add_argument("file")
    p_join.add_argument("--key", help="colonne clé (détectée sinon)")
    p_join.add_argument("--level", choices=LEVELS, help="niveau de la clé (détecté sinon)")
    p_join.add_argument("--scope", default="metropole")
    p_join.add_argument("--json", action="store_true")
    p_fetch = commands.add_parser("fetch", help="télécharger les données officielles")
    p_fetch.add_argument("source", choices=["crte", "filosofi", "census", "density", "all"])
    p_fetch.add_argument("--from", dest="origin", help="fichier local ou URL d'un miroir")
    p_fetch.add_argument("--json", action="store_true")
    p_frag = commands.add_parser("fragility", help="fragilités territoriales prioritaires")
    p_frag.add_argument("--level", required=True, choices=[lvl for lvl in LEVELS])
    p_frag.add_argument("--scope", default="metropole")
    p_frag.add_argument("--indicators", help="identifiants séparés par des virgules")
    p_frag.add_argument("--weights", help="poids séparés par des virgules")
    p_frag.add_argument("--preset", help="jeu d'indicateurs nommé")
    p_frag.add_argument("--reference", default="france", choices=["france", "region"])
    p_frag.add_argument("--limit", type=int, default=20)
    p_frag.add_argument("--json", action="store_true")
    p_cat = commands.add_parser("catalysts", help="densité de catalyseurs et zones blanches")
    p_cat.add_argument("file")
    p_cat.add_argument("--level", required=True, choices=[lvl for lvl in LEVELS])
    p_cat.add_argument("--scope", default="metropole")
    p_cat.add_argument("--json", action="store_true")
    p_peer = commands.add_parser("peers", help="territoires comparables à un territoire")
    p_peer.add_argument("code")
    p_peer.add_argument("--level", required=True, choices=list(LEVELS))
    p_peer.add_argument("--preset", help="jeu d'indicateurs nommé (défaut : Vue d'ensemble)")
    p_peer.add_argument("--indicators", help="identifiants séparés par des virgules")
    p_peer.add_argument("--same-region", action="store_true", help="dans sa région seulement")
    p_peer.add_argument("--exclude-neighbours", action="store_true", help="sans les voisins")
    p_peer.add_argument("--similar-size", action="store_true", help="population de ½ à 2 fois")
    p_peer.add_argument("--n", type=int, default=8, help="nombre de territoires (5 à 10)")
    p_peer.add_argument("--json", action="store_true")
    p_ate = commands.add_parser("ateliers", help="les ateliers de la base, nouveau lien d'édition")
    p_ate.add_argument("--nouveau-lien", metavar="CODE", help="remplacer le lien d'édition")
    p_ate.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "ateliers":
        from territorial.storage.cli import cli_ateliers

        return cli_ateliers(args.nouveau_lien, args.json)
    if args.command == "info":
        _print(info(), args.json, _info_lines)
    elif args.command == "find":
        _print(find(args.text, args.limit), args.json, _find_lines)
    elif args.command == "perimeters":
        from territorial.perimeters.cli import cli_perimeters

        return cli_perimeters(args.file, args.json)
    elif args.command == "indicators":
        _print(indicators(), args.json, _indicator_lines)
    elif args.command == "sources":
        _print(sources(), args.json, _source_lines)
    elif args.command == "join":
        return _run_join(args)
    elif args.command == "fetch":
        from territorial.sources.cli import cli_fetch

        return cli_fetch(args.source, args.origin, args.json)
    elif args.command == "fragility":
        from territorial.analysis.fragility_cli import cli_fragility

        return cli_fragility(
            args.level,
            args.scope,
            args.indicators,
            args.weights,
            args.preset,
            args.reference,
            args.json,
            args.limit,
        )
    elif args.command == "peers":
        from territorial.analysis.peers import cli_peers

        return cli_peers(
            args.code,
            args.level,
            args.preset,
            args.indicators,
            args.same_region,
            args.exclude_neighbours,
            args.similar_size,
            args.n,
            args.json,
        )
    elif args.command == "catalysts":
        from territorial.analysis.catalyst_cli import cli_catalysts

        return cli_catalysts(args.file, args.level, args.scope, args.json)
    return 0


def _indicator_lines(payload: list[dict]) -> list[str]:
    return [f"{i['id']:<34} {i['libelle']} ({i['unite']}) — {i['regle']}" for i in payload]


def _run_join(args) -> int:
    from territorial.indicators.table_base import TableError

    try:
        payload = join(args.file, args.key, args.level, args.scope)
    except TableError as error:
        print(error.message, file=sys.stderr)
        return 2
    _print(payload, args.json, lambda p: p["resume"])
    return 0 if payload["rapport"]["complete"] else 1


if __name__ == "__main__":
    sys.exit(main())
