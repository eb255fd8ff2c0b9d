"""Perimeter sets: partitions of France into "Projets de territoire" (CRTE perimeters).

A perimeter set maps communes to perimeters. The reference in the source documents is
833 perimeters, 660 carried by one EPCI and 173 by two or more (:data:`REFERENCE_COUNTS`).

Three kinds of sets exist:

- ``"officiel"``: read from the ANCT CRTE file (data.gouv.fr dataset
  ``60799532757dbdef335c00c5``, Licence Ouverte 2.0) by :func:`load_crte`;
- ``"par_epci"``: the fallback, one perimeter per EPCI (:meth:`PerimeterSet.one_per_epci`);
- ``"utilisateur"``: a workshop's own two-column table, read by
  :func:`load_user_perimeters`.

Each loader returns the set and a :class:`ValidationReport` (counts, reference
comparison, anomalies with row numbers, coverage, inter-region perimeters).

Building rules
--------------
- An EPCI row brings all the member communes of that EPCI.
- An ``EPT`` row brings the member communes of that établissement public territorial of
  the Métropole du Grand Paris; a ``COM`` row (the commune's SIREN, not its INSEE code)
  brings that commune alone. The finer unit wins: a commune signing alone, or an EPT, is
  taken out of the perimeter of its EPCI when that EPCI is listed elsewhere.
- A unit (EPCI, EPT or commune) listed in two perimeters stays in the first one (order
  of the rows in the file); the second occurrence is reported.
- A perimeter is "mono-EPCI" when it is made of one signing unit (one EPCI, one EPT or
  one commune alone) and "multi-EPCI" when it has two or more.

Examples
--------
>>> from territorial import load_geography
>>> geo = load_geography()
>>> per_epci = PerimeterSet.one_per_epci(geo.communes)
>>> per_epci.kind
'par_epci'
>>> from territorial.perimeters.userfiles import load_user_perimeters
>>> pset, report = load_user_perimeters(
...     b"code;perimetre\\n1001;Alliance fictive\\n", geo, "Atelier", filename="t.csv"
... )
>>> pset.membership.to_dict(), report.n_perimetres
({'01001': 'alliance-fictive'}, 1)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from territorial.paths import DATA_DIR

if TYPE_CHECKING:
    pass

__all__ = [
    "CRTE_SOURCE",
    "DOUBLE_COUNT_RULE",
    "PerimeterSet",
    "REFERENCE_COUNTS",
    "dissolve_perimeters",
]

MAX_PERIMETER_ROWS = 40_000
"""Rows of a perimeter file at most: one row per commune or per EPCI (34 875 communes)."""


REFERENCE_COUNTS = {"total": 833, "mono_epci": 660, "multi_epci": 173}

_CACHE_DIR = DATA_DIR / "cache" / "perimeters"

CRTE_SOURCE = {
    "editeur": "Agence nationale de la cohésion des territoires (ANCT)",
    "jeu_de_donnees": "https://www.data.gouv.fr/fr/datasets/60799532757dbdef335c00c5/",
    "licence": "Licence Ouverte 2.0",
    "licence_url": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
}

EPCI_NATURES = frozenset({"CC", "CA", "CU", "METRO", "MET69"})

KNOWN_NATURES = EPCI_NATURES | {"EPT", "COM"}

DOUBLE_COUNT_RULE = (
    "première occurrence conservée (un EPCI, un EPT ou une commune cité dans deux "
    "périmètres reste dans le premier, selon l'ordre des lignes du fichier)"
)

_LEVEL_LABELS = {
    "epci": "EPCI",
    "ept": "EPT",
    "commune": "commune",
    "ancien_epci": "EPCI de 2022",
}


@dataclass
class PerimeterSet:
    """A named partition of communes into perimeters.

    Attributes
    ----------
    name : str
        What the user sees, e.g. "CRTE (ANCT, fichier « crte.csv »)".
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
        """One perimeter per EPCI: an alternative set (and the fallback without a CRTE list)."""
        membership = communes.set_index("code")["epci"].rename("perimetre")
        perimetres = pd.DataFrame({"code": sorted(membership.unique())})
        perimetres["n_epci"] = 1
        perimetres["portage"] = "un EPCI"
        return cls(
            name="Un périmètre par EPCI",
            kind="par_epci",
            membership=membership,
            perimetres=perimetres,
            source={"description": "Repli : chaque EPCI forme son propre périmètre."},
        )

    def content_hash(self) -> str:
        """Hash of the membership (commune → perimeter), used to cache derived geometry.

        Computed once: a perimeter set is not modified after it is built.
        """
        if "_content_hash" not in self.__dict__:
            self.__dict__["_content_hash"] = self._hash_membership()
        return self.__dict__["_content_hash"]

    def _hash_membership(self) -> str:
        membership = self.membership.dropna().astype(str)
        frame = pd.DataFrame(
            {"commune": membership.index.astype(str), "perimetre": membership.to_numpy()}
        ).sort_values(["commune", "perimetre"], ignore_index=True)
        rows = pd.util.hash_pandas_object(frame, index=False).to_numpy()  # deterministic
        return hashlib.sha256(rows.tobytes()).hexdigest()[:16]


_DISSOLVE_VERSION = "2"

_MEMO: dict[str, gpd.GeoSeries] = {}

_MEMO_SIZE = 8

_FINGERPRINTS: dict[int, tuple[weakref.ref, str]] = {}


def _communes_fingerprint(communes: gpd.GeoDataFrame) -> str:
    """Fingerprint of the commune layer, computed once per layer object."""
    known = _FINGERPRINTS.get(id(communes))
    if known is not None and known[0]() is communes:
        return known[1]
    fingerprint = _compute_fingerprint(communes)
    _FINGERPRINTS[id(communes)] = (weakref.ref(communes), fingerprint)
    return fingerprint


def _compute_fingerprint(communes: gpd.GeoDataFrame) -> str:
    """Cheap fingerprint of the commune layer: codes, vertex counts, bounds and CRS."""
    geometry = communes.geometry.to_numpy()
    digest = hashlib.sha256()
    digest.update("\n".join(communes["code"].astype(str)).encode())
    digest.update(shapely.get_num_coordinates(geometry).astype(np.int64).tobytes())
    digest.update(np.nan_to_num(shapely.bounds(geometry)).round(7).tobytes())
    digest.update(str(communes.crs.to_string() if communes.crs else None).encode())
    return digest.hexdigest()[:16]


def dissolve_perimeters(
    pset: PerimeterSet, communes: gpd.GeoDataFrame, cache_dir: Path | None = _CACHE_DIR
) -> gpd.GeoSeries:
    """Geometry of each perimeter: the union of its communes.

    The union uses :func:`shapely.coverage_union_all`, valid because the display geometry
    of the communes is a valid coverage. Results are kept in memory and on disk, under
    ``cache_dir``, in a file named by a hash of the membership and of the commune layer:
    a second call with the same set is fast and returns the same geometry.

    Parameters
    ----------
    pset : PerimeterSet
        The perimeters.
    communes : GeoDataFrame
        Commune layer with ``code`` and ``geometry`` (``Geography.communes``).
    cache_dir : Path or None
        Folder of the disk cache; ``None`` disables the disk cache.

    Returns
    -------
    GeoSeries
        Named ``geometry``, indexed by perimeter code (``code``), sorted by code. Perimeters
        whose communes have no geometry are absent.
    """
    key_text = f"{_DISSOLVE_VERSION}|{pset.content_hash()}|{_communes_fingerprint(communes)}"
    key = hashlib.sha256(key_text.encode()).hexdigest()[:16]
    if key in _MEMO:
        return _MEMO[key].copy()
    cache = Path(cache_dir) / f"{key}.parquet" if cache_dir is not None else None
    frame = None
    if cache is not None and cache.exists():
        try:
            frame = gpd.read_parquet(cache)
        except Exception:  # a broken cache file is rebuilt, never fatal
            frame = None
    if frame is None:
        frame = _dissolve(pset, communes)
        if cache is not None:
            _write_cache(frame, cache)
    geometry = frame.set_index("code").geometry
    if len(_MEMO) >= _MEMO_SIZE:
        with contextlib.suppress(KeyError, RuntimeError, StopIteration):  # other threads
            _MEMO.pop(next(iter(_MEMO)))
    _MEMO[key] = geometry
    return geometry.copy()


def _dissolve(pset: PerimeterSet, communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    joined = communes[["code", "geometry"]].dropna(subset=["geometry"])
    perimetre = joined["code"].map(pset.membership)
    joined = joined.assign(perimetre=perimetre).dropna(subset=["perimetre"])
    codes, shapes = [], []
    for code, group in joined.groupby("perimetre", sort=True)["geometry"]:
        codes.append(str(code))
        shapes.append(shapely.coverage_union_all(group.to_numpy()))
    return gpd.GeoDataFrame(
        {"code": pd.Series(codes, dtype="str")}, geometry=shapes, crs=communes.crs
    )


def _write_cache(frame: gpd.GeoDataFrame, cache: Path) -> None:
    """Atomic write; a read-only or full disk only costs the cache."""
    tmp = cache.with_name(f"{cache.stem}.{os.getpid()}.tmp")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(tmp)
        tmp.replace(cache)
    except OSError:
        tmp.unlink(missing_ok=True)
