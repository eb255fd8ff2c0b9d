"""Parse the downloaded files of one source into a :class:`ParsedSource` (one parser per source)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from territorial.sources.anct_crte import _parse_crte
from territorial.sources.cache import _mirror_name, _resource_kind
from territorial.sources.census import _parse_census
from territorial.sources.density import _parse_density
from territorial.sources.filosofi import _parse_filosofi
from territorial.sources.manifest import LEVELS, _ctx, _spec
from territorial.sources.parsing import ParsedSource, _Part
from territorial.sources.transfer import _check_container, _resolve_locations

__all__ = ["parse"]


_PARSERS: dict[str, Callable[[Mapping[str, Any], str, Path], _Part]] = {
    "crte": _parse_crte,
    "filosofi": _parse_filosofi,
    "census": _parse_census,
    "density": _parse_density,
}


def _parse_resource(spec: Mapping[str, Any], resource: str, path: Path) -> _Part:
    parser = _PARSERS.get(spec["id"])
    if parser is None:
        raise _ctx(spec).error("interne", "aucun lecteur n'est défini pour cette source.")
    return parser(spec, resource, path)


def _combine(spec: Mapping[str, Any], parts: Mapping[str, _Part]) -> ParsedSource:
    tables: dict[str, pd.DataFrame] = {}
    secret_counts: dict[str, dict[str, int]] = {}
    years: dict[str, str] = {}
    source_columns: dict[str, dict[str, str]] = {}
    warnings: list[str] = []
    for part in parts.values():
        for level, frame in part.tables.items():
            if level in tables and level in LEVELS:
                tables[level] = tables[level].join(frame, how="outer")
                tables[level].index.name = "code"
            else:
                tables[level] = frame
        for level, counts in part.secret_counts.items():
            secret_counts.setdefault(level, {}).update(counts)
        for level, mapping in part.source_columns.items():
            source_columns.setdefault(level, {}).update(mapping)
        years.update(part.years)
        warnings.extend(part.warnings)
    # Stable schema: every declared column exists at every statistical level.
    declared = list(spec.get("columns", {}))
    for level in spec["levels"]:
        if level not in LEVELS or level not in tables:
            continue
        frame = tables[level]
        for stable in declared:
            if stable not in frame.columns:
                frame[stable] = float("nan")
        tables[level] = frame[declared + [c for c in frame.columns if c not in declared]]
        tables[level] = tables[level].astype({stable: "float64" for stable in declared})
        tables[level].index.name = "code"
    ordered = {level: tables[level] for level in spec["levels"] if level in tables}
    rows = {level: int(len(frame)) for level, frame in ordered.items()}
    return ParsedSource(
        source_id=spec["id"],
        vintage=str(spec["vintage"]),
        tables=ordered,
        rows=rows,
        secret_counts=secret_counts,
        years=years,
        source_columns=source_columns,
        warnings=warnings,
    )


def _parse_files(spec: Mapping[str, Any], files: Mapping[str, Path]) -> ParsedSource:
    ctx = _ctx(spec)
    parts: dict[str, _Part] = {}
    for resource in spec["resources"]:
        if resource not in files:
            continue
        what = _mirror_name(spec, resource)
        _check_container(Path(files[resource]), _resource_kind(spec, resource), what, ctx)
        parts[resource] = _parse_resource(spec, resource, Path(files[resource]))
    return _combine(spec, parts)


def parse(source_id: str, path: str | Path | Mapping[str, str | Path]) -> ParsedSource:
    """Parse local files of a source without touching the cache.

    Parameters
    ----------
    source_id : str
        Identifier of the source in the manifest.
    path : str, Path or mapping
        Either a mapping resource name -> file, or one file. A single file is
        assigned to the resource whose mirror name or cache name matches its
        name (else to the first resource); the other resources are looked up
        beside it under their mirror or cache names. A directory works too.

    Returns
    -------
    ParsedSource

    Raises
    ------
    FetchError
        If a required file is missing or a file does not validate.
    """
    spec = _spec(source_id)
    if isinstance(path, Mapping):
        files = {name: Path(value) for name, value in path.items()}
        unknown = set(files) - set(spec["resources"])
        if unknown:
            raise _ctx(spec).error(
                "local", f"ressource(s) inconnue(s) : {', '.join(sorted(unknown))}."
            )
        for name, details in spec["resource_details"].items():
            if details.get("required", True) and name not in files:
                raise _ctx(spec).error("local", f"fichier manquant pour la ressource « {name} ».")
    else:
        files = {}
        for location in _resolve_locations(spec, str(path)):
            candidate = Path(location.value)
            if candidate.is_file():
                files[location.resource] = candidate
            elif location.required:
                raise _ctx(spec).error(
                    "local",
                    f"fichier local introuvable : {candidate} (ressource « {location.resource} »).",
                    url=str(candidate),
                )
    return _parse_files(spec, files)
