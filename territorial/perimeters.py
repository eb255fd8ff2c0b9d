"""Perimeter sets: partitions of France into "Projets de territoire" (CRTE perimeters).

A perimeter set maps every commune to one perimeter. The reference in the source documents
is 833 perimeters, 660 carried by one EPCI and 173 by two or more.

Examples
--------
>>> from territorial import load_geography
>>> geo = load_geography()
>>> per_epci = PerimeterSet.one_per_epci(geo.communes)
>>> per_epci.kind
'par_epci'
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

__all__ = ["PerimeterSet", "REFERENCE_COUNTS", "dissolve_perimeters"]

REFERENCE_COUNTS = {"total": 833, "mono_epci": 660, "multi_epci": 173}
_CACHE_DIR = Path(__file__).resolve().parent.parent / "data" / "cache" / "perimeters"


@dataclass
class PerimeterSet:
    """A named partition of communes into perimeters.

    Attributes
    ----------
    name : str
        What the user sees, e.g. "CRTE (ANCT, fichier du 2023-05-10)".
    kind : str
        ``"officiel"`` (ANCT CRTE file), ``"par_epci"`` (one perimeter per EPCI, the
        fallback) or ``"utilisateur"`` (a workshop's own set).
    membership : Series
        Commune code → perimeter id, for every commune covered by the set.
    perimetres : DataFrame
        One row per perimeter: ``code``, ``nom``, ``n_epci`` and ``portage`` ("un EPCI" or
        "plusieurs EPCI"), plus any column the source gives.
    source : dict
        Provenance: file name, date, publisher, licence.
    """

    name: str
    kind: str
    membership: pd.Series
    perimetres: pd.DataFrame
    source: dict = field(default_factory=dict)

    @classmethod
    def one_per_epci(cls, communes: pd.DataFrame) -> PerimeterSet:
        """Fallback set used when no official file is loaded: one perimeter per EPCI."""
        membership = communes.set_index("code")["epci"].rename("perimetre")
        perimetres = pd.DataFrame({"code": sorted(membership.unique())})
        perimetres["n_epci"] = 1
        perimetres["portage"] = "un EPCI"
        return cls(
            name="Un périmètre par EPCI (aucun fichier CRTE chargé)",
            kind="par_epci",
            membership=membership,
            perimetres=perimetres,
            source={"description": "Repli : chaque EPCI forme son propre périmètre."},
        )

    def content_hash(self) -> str:
        """Hash of the membership, used to cache derived geometry."""
        payload = "\n".join(f"{c},{p}" for c, p in sorted(self.membership.items()))
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def dissolve_perimeters(
    pset: PerimeterSet, communes: gpd.GeoDataFrame, cache_dir: Path | None = _CACHE_DIR
) -> gpd.GeoSeries:
    """Geometry of each perimeter, the union of its communes, cached on disk by content hash."""
    cache = cache_dir / f"{pset.content_hash()}.parquet" if cache_dir else None
    if cache is not None and cache.exists():
        return gpd.read_parquet(cache).set_index("code").geometry
    joined = communes[["code", "geometry"]].dropna(subset=["geometry"])
    joined = joined.assign(perimetre=joined["code"].map(pset.membership)).dropna(
        subset=["perimetre"]
    )
    merged = {
        code: shapely.coverage_union_all(group.to_numpy())
        for code, group in joined.groupby("perimetre")["geometry"]
    }
    geometry = gpd.GeoSeries(merged, crs=communes.crs).rename_axis("code")
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        geometry.rename("geometry").reset_index().pipe(gpd.GeoDataFrame).to_parquet(tmp)
        tmp.replace(cache)
    return geometry
