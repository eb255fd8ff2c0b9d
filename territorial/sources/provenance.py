"""Where every figure shown comes from: one table of sources, vintages and licences.

The dashboard's "Sources et licences" view and ``python -m territorial sources`` print
this table. It lists the built geography's sources (from ``data/geo/manifest.json``), the
catalogue's indicator sources, the official sources that can be downloaded, the active
perimeter set, the fictional catalyst example and the user's own saved tables.

Examples
--------
>>> from territorial import load_geography
>>> from territorial.indicators.catalogue import load_catalogue
>>> table = sources_table(load_geography(), load_catalogue())
>>> list(table.columns)
['Catégorie', 'Source', 'Millésime', 'Licence', 'Contenu']
>>> bool(table["Licence"].str.contains("FICTIF").any())
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from territorial.geo.geography import Geography
from territorial.indicators.catalogue import Catalogue

__all__ = ["COLUMNS", "sources_table"]

COLUMNS = ["Catégorie", "Source", "Millésime", "Licence", "Contenu"]
FICTIONAL_CATALYSTS = {
    "Catégorie": "Catalyseurs",
    "Source": "Exemple FICTIF — catalyseurs inventés (data/catalysts/catalyseurs_fictifs.csv)",
    "Contenu": "Liste d'exemple générée par un script documenté ; aucun catalyseur réel",
    "Millésime": "sans objet",
    "Licence": "FICTIF — données inventées",
}


def _row(category: str, source: str, content: str, vintage: str, licence: str) -> dict:
    return {
        "Catégorie": category,
        "Source": source,
        "Contenu": content,
        "Millésime": vintage,
        "Licence": licence,
    }


def _geography_rows(manifest: Mapping) -> list[dict]:
    rows = [
        _row(
            "Géographie",
            f"{source['attribution']} — {source['name']} {source['version']}",
            source.get("content", ""),
            f"COG {manifest['cog']}",
            source["licence"],
        )
        for source in manifest["sources"]
    ]
    population = manifest.get("population", {})
    if population:
        rows.append(
            _row(
                "Géographie",
                population.get("source", ""),
                population.get("definition", ""),
                population.get("millesime", ""),
                "Licence Ouverte 2.0",
            )
        )
    return rows


def _catalogue_rows(catalogue: Catalogue) -> list[dict]:
    grouped: dict[tuple, list[str]] = {}
    for indicator in catalogue:
        key = (indicator.source, indicator.vintage, indicator.licence)
        grouped.setdefault(key, []).append(indicator.label)
    return [
        _row("Indicateurs du catalogue", source, "; ".join(labels), vintage, licence)
        for (source, vintage, licence), labels in grouped.items()
    ]


def _perimeter_rows(geo: Geography) -> list[dict]:
    from territorial.perimeters.crte import active_set_label

    pset = geo.perimeters
    if pset.kind == "par_epci":
        return []
    source = pset.source or {}
    licence = (
        source.get("licence", "Licence Ouverte 2.0")
        if pset.kind == "officiel"
        else "fourni par l'utilisateur"
    )
    shown = str(source.get("fichier", ""))
    if geo.perimeters_report is not None:
        shown = active_set_label(pset, geo.perimeters_report) + f" ; fichier « {shown} »"
    vintage = str(source.get("millesime", ""))
    return [_row("Périmètres (jeu actif)", pset.name, shown, vintage, licence)]


def _raw_rows() -> list[dict]:
    """The official files shipped in ``data/raw/``, attributed to their producers."""
    from territorial.sources.raw import raw_manifest

    return [
        _row(
            "Fichiers officiels livrés",
            f"{entry['producteur']} — {entry['jeu_de_donnees']}",
            f"data/raw/{name} (sha256 {entry['sha256'][:12]}…)",
            entry["millesime"],
            entry["licence"],
        )
        for name, entry in raw_manifest().items()
    ]


def _user_rows(tables: Iterable[Mapping]) -> list[dict]:
    rows = []
    for meta in tables:
        indicators = meta.get("type", "indicateurs") == "indicateurs"
        original = meta.get("source") or (meta.get("rapport") or {}).get("source_name", "")
        rows.append(
            _row(
                "Mes tableaux" if indicators else "Mes catalyseurs",
                meta["nom"] + (" (FICTIF)" if meta.get("fictif") else ""),
                f"fichier « {original} »",
                "non précisé",
                "fourni par l'utilisateur",
            )
        )
    return rows


def sources_table(
    geo: Geography,
    catalogue: Catalogue,
    official: Mapping[str, Mapping] | None = None,
    user_tables: Iterable[Mapping] = (),
) -> pd.DataFrame:
    """Every source of what the dashboard shows, with its vintage and licence.

    Parameters
    ----------
    geo : Geography
        The geography (its manifest lists the built data's sources; its active perimeter
        set is listed unless it is the one-per-EPCI fallback). The official files shipped
        in ``data/raw/`` are listed with their producer, vintage and licence.
    catalogue : Catalogue
        The shipped indicator catalogue (indicators grouped by source, vintage, licence).
    official : mapping, optional
        The official sources manifest (:func:`territorial.sources.manifest.load_manifest`).
    user_tables : iterable of mapping
        Metadata of the user's saved tables (:meth:`territorial.storage.workspace.Workspace.tables`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`, one row per source.
    """
    rows = _geography_rows(geo.manifest) + _raw_rows() + _catalogue_rows(catalogue)
    rows += [
        _row(
            "Données officielles à télécharger",
            f"{spec['publisher']} — {spec['label']}",
            spec.get("page_url", ""),
            str(spec.get("vintage", "")),
            spec["licence"],
        )
        for spec in (official or {}).values()
    ]
    rows += _perimeter_rows(geo) + [FICTIONAL_CATALYSTS] + _user_rows(user_tables)
    return pd.DataFrame(rows)[COLUMNS]
