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
import re
import sys
import unicodedata
import weakref
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from territorial.codes import clean_cell, normalise_commune_code, normalise_siren
from territorial.formatting import format_number
from territorial.jsonout import json_text
from territorial.search import fold
from territorial.tables import RawTable, TableError, check_row_limit, read_table

if TYPE_CHECKING:
    from territorial.geography import Geography

__all__ = [
    "CRTE_LAYOUTS",
    "CRTE_SOURCE",
    "DOUBLE_COUNT_RULE",
    "PerimeterSet",
    "REFERENCE_COUNTS",
    "ValidationReport",
    "cli_perimeters",
    "detect_crte_layout",
    "dissolve_perimeters",
    "load_crte",
    "load_user_perimeters",
]

MAX_PERIMETER_ROWS = 100_000
"""Rows of a perimeter file at most (one row per commune or per EPCI: 35 000 communes)."""

REFERENCE_COUNTS = {"total": 833, "mono_epci": 660, "multi_epci": 173}
_CACHE_DIR = Path(__file__).resolve().parent.parent / "data" / "cache" / "perimeters"

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
_MAX_LISTED = 10  # items quoted in a French sentence of the summary


@dataclass(frozen=True)
class CrteLayout:
    """One published layout of the ANCT CRTE file.

    Attributes
    ----------
    key : str
        ``"epci_crte"`` or ``"groupements"``.
    label : str
        French name of the table.
    columns : tuple of str
        Every column of the published table (normalised names).
    required : tuple of str
        Columns without which the file cannot be used.
    distinctive : tuple of str
        Columns that tell this layout from the other one.
    """

    key: str
    label: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    distinctive: tuple[str, ...]


CRTE_LAYOUTS = {
    "epci_crte": CrteLayout(
        key="epci_crte",
        label="table EPCI – CRTE de l'ANCT (un groupement par ligne, avec son groupement supra)",
        columns=(
            "insee_reg",
            "lib_reg",
            "dep_chef_file",
            "lib_dep",
            "id_crte",
            "lib_crte",
            "type_grp_crte",
            "crte_interreg",
            "crte_interdep",
            "siren_groupement",
            "lib_groupement",
            "nature_juridique",
            "siren_grp_supra",
            "lib_grp_supra",
            "nat_jur_grp_supra",
        ),
        required=("id_crte", "lib_crte", "siren_groupement", "nature_juridique"),
        distinctive=(
            "crte_interreg",
            "crte_interdep",
            "siren_grp_supra",
            "lib_grp_supra",
            "nat_jur_grp_supra",
        ),
    ),
    "groupements": CrteLayout(
        key="groupements",
        label="table des groupements signataires de l'ANCT (suivi du périmètre)",
        columns=(
            "insee_reg",
            "lib_reg",
            "dep_chef_file",
            "lib_dep",
            "id_crte",
            "lib_crte",
            "type_grp_crte",
            "siren_groupement",
            "lib_groupement",
            "nature_juridique",
            "siren_epci",
            "date_signature",
        ),
        required=("id_crte", "siren_epci"),
        distinctive=("siren_epci", "date_signature"),
    ),
}
_USER_LAYOUT_LABEL = "table à deux colonnes (code d'EPCI ou de commune → nom du périmètre)"


# --------------------------------------------------------------------------- the set


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


# --------------------------------------------------------------------------- dissolve

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


# --------------------------------------------------------------------------- report


@dataclass
class ValidationReport:
    """What a perimeter file gives, and what is wrong with it.

    Every list holds plain dicts (JSON-safe through :meth:`to_dict`); row numbers
    (``ligne``) are the line numbers in the file, as given by
    :func:`territorial.tables.read_table`.

    Attributes
    ----------
    source_name : str
        File name.
    kind : str
        ``"officiel"`` (CRTE file) or ``"utilisateur"`` (workshop set).
    layout : str
        ``"epci_crte"``, ``"groupements"`` or ``"deux_colonnes"``.
    layout_label : str
        French name of the detected layout.
    n_rows : int
        Data rows read (blank rows excluded).
    n_rows_used : int
        Rows that brought communes to a perimeter.
    n_perimetres, n_mono_epci, n_multi_epci : int
        Perimeters with at least one commune, carried by one unit or by two or more
        (France entière; see ``scopes`` for metropole / outre-mer).
    reference : dict or None
        :data:`REFERENCE_COUNTS` for an official file, ``None`` for a user set.
    reference_differences : dict or None
        Counts minus reference (``total``, ``mono_epci``, ``multi_epci``).
    scopes : dict
        ``{"metropole": {...}, "outre_mer": {...}, "france": {...}}``: perimeters,
        mono/multi, communes and population covered, covered share, EPCIs covered.
    missing_columns : list of str
        Columns of the published layout absent from the file (not fatal).
    duplicate_rows : list of dict
        Rows repeating a unit already given to the same perimeter (ignored).
    unknown_codes : list of dict
        Rows not used: ``ligne``, ``code``, ``nature``, ``perimetre``, ``motif``.
    nature_issues : list of dict
        Rows used although their ``nature_juridique`` is unknown or does not match what
        the SIREN designates.
    counted_twice : list of dict
        Units listed in two perimeters, with the perimeter kept and the one left.
    double_count_rule : str
        The rule applied to ``counted_twice`` (:data:`DOUBLE_COUNT_RULE`).
    detached_communes : list of dict
        Communes given to another perimeter than their EPCI's (commune signing alone,
        EPT, commune listed on its own in a user set).
    remapped_codes : list of dict
        Commune codes changed to a current code (lost leading zero, arrondissement...).
    former_epcis : list of dict
        SIRENs of EPCIs of 2022 merged or split since, resolved to their 2022 communes
        (today's codes): ``ligne``, ``code``, ``nom``, ``perimetre``, ``n_communes``,
        ``epci_actuels``.
    communes_in_two : list of dict
        Communes whose unit is cited in two perimeters (``counted_twice``): ``commune``,
        ``nom``, ``perimetre_retenu``, ``perimetre_ecarte``.
    empty_perimetres : list of dict
        Perimeters of the file left without any commune.
    uncovered : dict
        Per scope (``metropole``, ``outre_mer``): EPCIs with no commune covered
        (``epcis``, with population), communes not covered in partly covered EPCIs
        (``communes``), and totals.
    inter_regional, inter_departemental : list of dict
        Perimeters whose communes span two or more régions / départements, with the
        file's ``crte_interreg`` / ``crte_interdep`` flag when present.
    file_flag_mismatches : list of dict
        Perimeters where a flag of the file (``crte_interreg``, ``crte_interdep``,
        ``type_grp_crte``) disagrees with what the geography gives.
    perimeters : list of dict
        One entry per perimeter: code, nom, n_epci, portage, n_communes, population...
    notes : list of str
        French notes (reading, layout, renamed perimeter ids).
    """

    source_name: str
    kind: str
    layout: str
    layout_label: str
    n_rows: int = 0
    n_rows_used: int = 0
    n_perimetres: int = 0
    n_mono_epci: int = 0
    n_multi_epci: int = 0
    reference: dict | None = None
    reference_differences: dict | None = None
    scopes: dict = field(default_factory=dict)
    missing_columns: list[str] = field(default_factory=list)
    duplicate_rows: list[dict] = field(default_factory=list)
    unknown_codes: list[dict] = field(default_factory=list)
    nature_issues: list[dict] = field(default_factory=list)
    counted_twice: list[dict] = field(default_factory=list)
    double_count_rule: str = DOUBLE_COUNT_RULE
    detached_communes: list[dict] = field(default_factory=list)
    remapped_codes: list[dict] = field(default_factory=list)
    former_epcis: list[dict] = field(default_factory=list)
    communes_in_two: list[dict] = field(default_factory=list)
    empty_perimetres: list[dict] = field(default_factory=list)
    uncovered: dict = field(default_factory=dict)
    inter_regional: list[dict] = field(default_factory=list)
    inter_departemental: list[dict] = field(default_factory=list)
    file_flag_mismatches: list[dict] = field(default_factory=list)
    perimeters: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def covered_population_share(self) -> float | None:
        """Share of the population of France (metropole and outre-mer) covered."""
        return self.scopes.get("france", {}).get("part_population_couverte")

    def to_dict(self) -> dict:
        """JSON-safe dict (numpy numbers become Python numbers, missing values ``None``)."""
        payload = _json_safe(asdict(self))
        payload["covered_population_share"] = self.covered_population_share
        return payload

    def summary_fr(self) -> list[str]:
        """The report as plain French sentences, most important first."""
        return _summary_fr(self)


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else float(value)
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (str, int)):
        return value
    return str(value)


# --------------------------------------------------------------------------- resolution


class _Resolver:
    """SIREN / code lookups against a geography (built once per geography)."""

    def __init__(self, geo: Geography):
        self.geo = geo
        communes = geo.communes
        self.epci_members = communes.groupby("epci")["code"].agg(list).to_dict()
        epcis = geo.epcis.set_index("code")
        self.epci_names = epcis["nom"].to_dict()
        self.islands = set(epcis.index[epcis["sans_epci"].astype(bool)])
        self.ept_members = geo.ept.groupby("code")["commune"].agg(list).to_dict()
        self.ept_names = geo.ept.drop_duplicates("code").set_index("code")["nom"].to_dict()
        self.commune_ept = geo.ept.set_index("commune")["code"].to_dict()
        indexed = communes.set_index("code")
        self.commune_names = indexed["nom"].to_dict()
        self.commune_epci = indexed["epci"].to_dict()
        self.region_names = geo.regions.set_index("code")["nom"].to_dict()
        self.departement_names = geo.departements.set_index("code")["nom"].to_dict()
        # EPCIs whose member communes include EPTs (the Métropole du Grand Paris)
        self.epci_of_ept = {
            ept: self.commune_epci.get(members[0]) for ept, members in self.ept_members.items()
        }
        # EPCIs of 2022 merged or split since: their 2022 communes, in today's codes
        former = geo.former_epcis.dropna(subset=["commune"])
        self.former_members = (
            former.groupby("siren")["commune"].agg(lambda codes: sorted(set(codes))).to_dict()
        )
        self.former_names = former.drop_duplicates("siren").set_index("siren")["nom"].to_dict()

    def by_siren(self, siren: str, nature: str | None) -> tuple[str, str] | None:
        """``(level, unit)`` designated by a SIREN, trying the declared nature first."""
        order = {
            "COM": ("commune", "epci", "ept"),
            "EPT": ("ept", "epci", "commune"),
        }.get(nature or "", ("epci", "ept", "commune"))
        for level in order:
            if level == "epci" and siren in self.epci_members:
                if siren in self.islands:  # island commune without EPCI: a commune alone
                    return "commune", self.epci_members[siren][0]
                return "epci", siren
            if level == "ept" and siren in self.ept_members:
                return "ept", siren
            if level == "commune":
                code = self.geo.commune_from_siren(siren)
                if code:
                    return "commune", code
        if siren in self.former_members and nature not in {"COM", "EPT"}:
            return "ancien_epci", siren
        return None

    def name(self, level: str, unit: str) -> str:
        """Name of a unit."""
        names = {
            "epci": self.epci_names,
            "ept": self.ept_names,
            "commune": self.commune_names,
            "ancien_epci": self.former_names,
        }
        return str(names[level].get(unit, unit))


_RESOLVERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _resolver(geo: Geography) -> _Resolver:
    with contextlib.suppress(KeyError, TypeError):
        return _RESOLVERS[geo]
    resolver = _Resolver(geo)
    with contextlib.suppress(TypeError):  # an object without weak references: no memo
        _RESOLVERS[geo] = resolver
    return resolver


# --------------------------------------------------------------------------- assembly


class _Assembler:
    """Collects ``(perimeter, unit)`` pairs row by row, then builds the set and report."""

    def __init__(self, geo: Geography, kind: str):
        self.geo = geo
        self.kind = kind
        self.resolver = _resolver(geo)
        self.perimeters: dict[str, dict] = {}
        self.first: dict[tuple[str, str], tuple[str, int]] = {}
        self.seen: dict[tuple[str, str, str], int] = {}
        self.rows_used: set[int] = set()
        self.duplicate_rows: list[dict] = []
        self.counted_twice: list[dict] = []
        self.unknown_codes: list[dict] = []
        self.nature_issues: list[dict] = []
        self.remapped_codes: list[dict] = []
        self.former_epcis: list[dict] = []

    def declare(self, pid: str, nom: str, ligne: int, extras: dict | None = None) -> None:
        """Register a perimeter (first name and file values win)."""
        entry = self.perimeters.setdefault(pid, {"nom": nom or pid, "ligne": ligne, "rows": []})
        entry["rows"].append(ligne)
        for key, value in (extras or {}).items():
            if value not in (None, "") and entry.get(key) in (None, ""):
                entry[key] = value

    def unknown(self, ligne: int, code: str, motif: str, perimetre: str = "", **extra) -> None:
        """Report a row that cannot be used."""
        self.unknown_codes.append(
            {"ligne": int(ligne), "code": code, "perimetre": perimetre, "motif": motif, **extra}
        )

    def add(self, pid: str, level: str, unit: str, ligne: int, given: str) -> None:
        """Give ``unit`` to perimeter ``pid`` unless it is a duplicate or already elsewhere."""
        key = (pid, level, unit)
        if key in self.seen:
            self.duplicate_rows.append(
                {
                    "ligne": int(ligne),
                    "ligne_premiere": int(self.seen[key]),
                    "perimetre": pid,
                    "niveau": level,
                    "code": given,
                    "nom": self.resolver.name(level, unit),
                }
            )
            return
        self.seen[key] = ligne
        previous = self.first.get((level, unit))
        if previous is not None and previous[0] != pid:
            self.counted_twice.append(
                {
                    "niveau": level,
                    "code": unit,
                    "nom": self.resolver.name(level, unit),
                    "perimetre_retenu": previous[0],
                    "ligne_retenue": int(previous[1]),
                    "perimetre_ecarte": pid,
                    "ligne_ecartee": int(ligne),
                    "regle": "première occurrence conservée",
                }
            )
            return
        self.first[(level, unit)] = (pid, ligne)
        self.rows_used.add(int(ligne))
        if level == "ancien_epci":
            members = self.resolver.former_members[unit]
            today = sorted({self.resolver.commune_epci.get(c) for c in members} - {None})
            self.former_epcis.append(
                {
                    "ligne": int(ligne),
                    "code": unit,
                    "nom": self.resolver.name(level, unit),
                    "perimetre": pid,
                    "n_communes": len(members),
                    "epci_actuels": today,
                    "epci_actuels_noms": [self.resolver.name("epci", e) for e in today],
                }
            )

    # ------------------------------------------------------------------ build
    def build(self) -> tuple[pd.Series, pd.DataFrame, list[dict]]:
        """Membership, per-perimeter table (with file extras) and detached communes."""
        communes = self.geo.communes
        codes = communes["code"].tolist()
        epcis = communes["epci"].tolist()
        assigned: dict[str, dict[str, str]] = {
            "epci": {},
            "ept": {},
            "commune": {},
            "ancien_epci": {},
        }
        for (level, unit), (pid, _) in self.first.items():
            assigned[level][unit] = pid
        former_of = {
            commune: siren
            for siren in assigned["ancien_epci"]
            for commune in self.resolver.former_members[siren]
        }
        ept_of = [self.resolver.commune_ept.get(c) for c in codes]
        # a 2022 EPCI merged since stands for its 2022 communes, before today's EPCI
        via_epci = [
            assigned["ancien_epci"].get(former_of.get(c, "")) or assigned["epci"].get(e)
            for c, e in zip(codes, epcis, strict=True)
        ]
        via_unit = [
            f"ancien_epci:{former_of[c]}" if c in former_of else f"epci:{e}"
            for c, e in zip(codes, epcis, strict=True)
        ]
        via_ept = [assigned["ept"].get(t) if t else None for t in ept_of]
        via_com = [assigned["commune"].get(c) for c in codes]
        perimetre: list[str | None] = []
        units: list[str | None] = []
        detached: list[dict] = []
        for i, code in enumerate(codes):
            lower = via_ept[i] or via_epci[i]
            if via_com[i] and via_com[i] != lower:
                chosen, via = via_com[i], "commune"
                unit = f"commune:{code}" if self.kind == "officiel" else f"epci:{epcis[i]}"
            elif via_ept[i]:
                chosen, via, unit = via_ept[i], "ept", f"ept:{ept_of[i]}"
            elif via_epci[i]:
                chosen, via, unit = via_epci[i], "epci", via_unit[i]
            else:
                chosen, via, unit = None, None, None
            perimetre.append(chosen)
            units.append(unit)
            if chosen and via_epci[i] and chosen != via_epci[i]:
                detached.append(
                    {
                        "commune": code,
                        "nom": self.resolver.commune_names.get(code, code),
                        "par": via,
                        "perimetre": chosen,
                        "epci": epcis[i],
                        "epci_nom": self.resolver.epci_names.get(epcis[i], epcis[i]),
                        "perimetre_epci": via_epci[i],
                    }
                )
        frame = pd.DataFrame(
            {
                "code": codes,
                "epci": epcis,
                "perimetre": perimetre,
                "unit": units,
                "population": communes["population"].fillna(0).astype("int64").to_numpy(),
                "departement": communes["departement"].to_numpy(),
                "region": communes["region"].to_numpy(),
                "outre_mer": communes["outre_mer"].astype(bool).to_numpy(),
            }
        )
        self.commune_frame = frame
        covered = frame.dropna(subset=["perimetre"])
        membership = pd.Series(
            covered["perimetre"].to_numpy(),
            index=pd.Index(covered["code"].to_numpy(), name="code"),
            name="perimetre",
            dtype="str",
        )
        table = self._perimeter_table(covered)
        return membership, table, detached

    def _perimeter_table(self, covered: pd.DataFrame) -> pd.DataFrame:
        grouped = covered.groupby("perimetre", sort=False)

        def joined(column: str) -> pd.Series:
            pairs = covered[["perimetre", column]].drop_duplicates().sort_values(column)
            return pairs.groupby("perimetre", sort=False)[column].agg(",".join)

        stats = pd.DataFrame(
            {
                "n_epci": grouped["unit"].nunique(),
                "n_communes": grouped.size(),
                "population": grouped["population"].sum(),
                "departements": joined("departement"),
                "n_departements": grouped["departement"].nunique(),
                "regions": joined("region"),
                "n_regions": grouped["region"].nunique(),
                "outre_mer": grouped["outre_mer"].any(),
                "membres": joined("unit"),
            }
        )
        columns = ["code", "nom", "n_epci", "portage", *stats.columns.drop("n_epci")]
        order = [pid for pid in self.perimeters if pid in stats.index]
        if not order:
            return pd.DataFrame(columns=columns)
        table = stats.loc[order].rename_axis("code").reset_index()
        table.insert(1, "nom", [self.perimeters[pid]["nom"] for pid in order])
        extra_keys = sorted(
            {k for pid in order for k in self.perimeters[pid]} - {"nom", "ligne", "rows"}
        )
        for key in extra_keys:
            table[key] = [self.perimeters[pid].get(key) for pid in order]
        table["n_epci"] = table["n_epci"].astype("int64")
        table["portage"] = np.where(table["n_epci"] >= 2, "plusieurs EPCI", "un EPCI")
        table["interregional"] = table["n_regions"] >= 2
        table["interdepartemental"] = table["n_departements"] >= 2
        extras = [c for c in table.columns if c not in columns]
        return table[columns + extras].reset_index(drop=True)

    # ------------------------------------------------------------------ report
    def report(
        self,
        report: ValidationReport,
        table: pd.DataFrame,
        detached: list[dict],
        n_rows: int,
    ) -> ValidationReport:
        """Fill ``report`` from the built set."""
        frame = self.commune_frame
        report.n_rows = int(n_rows)
        report.n_rows_used = len(self.rows_used)
        report.n_perimetres = len(table)
        multi = table["n_epci"] >= 2 if len(table) else pd.Series(dtype=bool)
        report.n_multi_epci = int(multi.sum())
        report.n_mono_epci = report.n_perimetres - report.n_multi_epci
        if self.kind == "officiel":
            report.reference = dict(REFERENCE_COUNTS)
            report.reference_differences = {
                "total": report.n_perimetres - REFERENCE_COUNTS["total"],
                "mono_epci": report.n_mono_epci - REFERENCE_COUNTS["mono_epci"],
                "multi_epci": report.n_multi_epci - REFERENCE_COUNTS["multi_epci"],
            }
        report.scopes = self._scopes(frame, table)
        report.uncovered = self._uncovered(frame)
        report.duplicate_rows = self.duplicate_rows
        report.unknown_codes = sorted(self.unknown_codes, key=lambda d: d["ligne"])
        report.nature_issues = self.nature_issues
        report.counted_twice = self.counted_twice
        report.communes_in_two = self._communes_in_two()
        report.detached_communes = detached
        report.remapped_codes = self.remapped_codes
        report.former_epcis = self.former_epcis
        kept = set(table["code"])
        report.empty_perimetres = [
            {"code": pid, "nom": info["nom"], "lignes": [int(x) for x in info["rows"]]}
            for pid, info in self.perimeters.items()
            if pid not in kept
        ]
        spanning = _spanning(table, self.resolver)
        report.inter_regional, report.inter_departemental, report.file_flag_mismatches = spanning
        keep = ["code", "nom", "n_epci", "portage", "n_communes", "population"]
        keep += ["n_departements", "n_regions", "outre_mer"]
        report.perimeters = table[keep].to_dict("records") if len(table) else []
        return report

    def _communes_in_two(self) -> list[dict]:
        members = {
            "epci": self.resolver.epci_members,
            "ept": self.resolver.ept_members,
            "ancien_epci": self.resolver.former_members,
        }
        out = []
        for d in self.counted_twice:
            codes = members.get(d["niveau"], {}).get(d["code"], [d["code"]])
            out += [
                {
                    "commune": code,
                    "nom": self.resolver.commune_names.get(code, code),
                    "perimetre_retenu": d["perimetre_retenu"],
                    "perimetre_ecarte": d["perimetre_ecarte"],
                }
                for code in codes
            ]
        return out

    def _scopes(self, frame: pd.DataFrame, table: pd.DataFrame) -> dict:
        epci_cover = (
            frame.assign(covered=frame["perimetre"].notna())
            .groupby("epci")
            .agg(all=("covered", "all"), any=("covered", "any"), outre_mer=("outre_mer", "any"))
        )
        perimeter_scope = table["outre_mer"].astype(bool) if len(table) else pd.Series(dtype=bool)
        scopes = {}
        for scope in ("metropole", "outre_mer", "france"):
            if scope == "france":
                part, perims, epci_part = frame, table, epci_cover
            else:
                overseas = scope == "outre_mer"
                part = frame[frame["outre_mer"] == overseas]
                perims = table[perimeter_scope == overseas] if len(table) else table
                epci_part = epci_cover[epci_cover["outre_mer"] == overseas]
            covered = part["perimetre"].notna()
            population = int(part["population"].sum())
            covered_population = int(part.loc[covered, "population"].sum())
            n_multi = int((perims["n_epci"] >= 2).sum()) if len(perims) else 0
            scopes[scope] = {
                "n_perimetres": int(len(perims)),
                "n_mono_epci": int(len(perims)) - n_multi,
                "n_multi_epci": n_multi,
                "n_communes": int(len(part)),
                "n_communes_couvertes": int(covered.sum()),
                "population": population,
                "population_couverte": covered_population,
                "part_population_couverte": (
                    round(covered_population / population, 4) if population else None
                ),
                "n_epci": int(len(epci_part)),
                "n_epci_couverts": int(epci_part["all"].sum()),
                "n_epci_partiellement_couverts": int((epci_part["any"] & ~epci_part["all"]).sum()),
            }
        return scopes

    def _uncovered(self, frame: pd.DataFrame) -> dict:
        communes = self.geo.communes
        epcis = self.geo.epcis.set_index("code")
        data = frame.assign(nom=communes["nom"].to_numpy())
        covered_epcis = set(data.loc[data["perimetre"].notna(), "epci"])
        out = {}
        for scope, flag in (("metropole", False), ("outre_mer", True)):
            part = data[(data["outre_mer"] == flag) & data["perimetre"].isna()]
            whole = sorted(set(part["epci"]) - covered_epcis)
            epci_list = [
                {
                    "code": code,
                    "nom": epcis.at[code, "nom"],
                    "nature": epcis.at[code, "nature"],
                    "population": _int(epcis.at[code, "population"]),
                    "departement": epcis.at[code, "departement"],
                    "n_communes": int(epcis.at[code, "n_communes"]),
                }
                for code in whole
            ]
            epci_list.sort(key=lambda d: (-(d["population"] or 0), d["code"]))
            loose = part[part["epci"].isin(covered_epcis)]
            commune_list = [
                {
                    "code": row.code,
                    "nom": row.nom,
                    "population": int(row.population),
                    "epci": row.epci,
                    "epci_nom": epcis.at[row.epci, "nom"] if row.epci in epcis.index else "",
                }
                for row in loose.sort_values("population", ascending=False).itertuples()
            ]
            out[scope] = {
                "n_communes": int(len(part)),
                "population": int(part["population"].sum()),
                "epcis": epci_list,
                "communes": commune_list,
            }
        return out


def _int(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _spanning(
    table: pd.DataFrame, resolver: _Resolver
) -> tuple[list[dict], list[dict], list[dict]]:
    """Inter-region and inter-département perimeters, and disagreements with the file."""
    regional, departemental, mismatches = [], [], []
    if table.empty:
        return regional, departemental, mismatches
    for row in table.to_dict("records"):
        file_reg = row.get("crte_interreg")
        file_dep = row.get("crte_interdep")
        if row["n_regions"] >= 2:
            regional.append(
                {
                    "code": row["code"],
                    "nom": row["nom"],
                    "regions": row["regions"].split(","),
                    "regions_noms": [
                        resolver.region_names.get(c, c) for c in row["regions"].split(",")
                    ],
                    "drapeau_fichier": file_reg,
                }
            )
        if row["n_departements"] >= 2:
            departemental.append(
                {
                    "code": row["code"],
                    "nom": row["nom"],
                    "departements": row["departements"].split(","),
                    "departements_noms": [
                        resolver.departement_names.get(c, c) for c in row["departements"].split(",")
                    ],
                    "drapeau_fichier": file_dep,
                }
            )
        portage = _portage_flag(row.get("type_grp_crte"))
        checks = (
            ("crte_interreg", file_reg, bool(row["n_regions"] >= 2), file_reg),
            ("crte_interdep", file_dep, bool(row["n_departements"] >= 2), file_dep),
            ("type_grp_crte", portage, bool(row["n_epci"] >= 2), row.get("type_grp_crte")),
        )
        for champ, in_file, computed, shown in checks:
            if isinstance(in_file, bool) and in_file != computed:
                mismatches.append(
                    {
                        "code": row["code"],
                        "nom": row["nom"],
                        "champ": champ,
                        "fichier": shown,
                        "calcule": ("pluri" if computed else "mono")
                        if champ == "type_grp_crte"
                        else computed,
                    }
                )
    return regional, departemental, mismatches


_TRUE = {"oui", "o", "1", "true", "vrai", "x", "yes", "y"}
_FALSE = {"non", "n", "0", "false", "faux", "no"}


def _flag(value: str) -> bool | None:
    text = fold(value)
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def _portage_flag(value: Any) -> bool | None:
    """``type_grp_crte``: True for a multi-EPCI perimeter, False for mono, else None."""
    text = fold(value or "")
    if text.startswith(("pluri", "multi", "plusieurs")):
        return True
    if text.startswith(("mono", "un ")) or text == "un":
        return False
    return None


# --------------------------------------------------------------------------- CRTE


def _header_key(name: object) -> str:
    """Normalised column name: lower case, no accent, no BOM, ``_`` between words."""
    text = unicodedata.normalize("NFKD", str(name).replace("\ufeff", ""))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def _column_map(columns) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for column in columns:
        mapping.setdefault(_header_key(column), column)
    return mapping


def detect_crte_layout(columns, source_name: str = "fichier") -> tuple[CrteLayout, list[str]]:
    """Which published CRTE layout a table has.

    Parameters
    ----------
    columns : iterable of str
        Column names as read (case, spaces and BOM do not matter).
    source_name : str
        File name, for the error message.

    Returns
    -------
    (CrteLayout, list of str)
        The layout and the columns of that layout absent from the file.

    Raises
    ------
    TableError
        Neither layout fits; the French message names the missing columns.

    Examples
    --------
    >>> layout, missing = detect_crte_layout(["ID_CRTE", " siren_epci"])
    >>> layout.key, missing[:2]
    ('groupements', ['insee_reg', 'lib_reg'])
    """
    columns = list(columns)
    keys = set(_column_map(columns))
    candidates = [lay for lay in CRTE_LAYOUTS.values() if set(lay.required) <= keys]
    if not candidates:
        parts = [
            f"pour la {lay.label} : {', '.join(c for c in lay.required if c not in keys)}"
            for lay in CRTE_LAYOUTS.values()
        ]
        found = ", ".join(f"« {c} »" for c in columns[:15]) or "aucune"
        raise TableError(
            f"Le fichier « {source_name} » n'a pas la forme d'un fichier CRTE de l'ANCT. "
            f"Colonnes manquantes {' ; '.join(parts)}. Colonnes trouvées : {found}."
        )
    layout = max(
        candidates,
        key=lambda lay: (len(set(lay.distinctive) & keys), len(set(lay.columns) & keys)),
    )
    return layout, [c for c in layout.columns if c not in keys]


def _split_sirens(cell: str) -> list[str]:
    parts = [p.strip() for p in re.split(r"[;,|/\n]+", cell)]
    return [p for p in parts if p] or [""]


def _siren_ok(siren: str) -> bool:
    return bool(re.fullmatch(r"\d{9}", siren))


def load_crte(
    source,
    geo: Geography,
    name: str | None = None,
    *,
    filename: str | None = None,
    sheet: str | int | None = None,
) -> tuple[PerimeterSet, ValidationReport]:
    """Read the ANCT CRTE file into an official perimeter set.

    Both published layouts are accepted (see :data:`CRTE_LAYOUTS`): the EPCI – CRTE table
    (``siren_groupement`` + ``nature_juridique`` per row, with the supra groupement) and
    the table of signing groupements (``siren_epci`` per row). Column names are matched
    without regard to case, spaces or BOM. ``nature_juridique`` ``CC``, ``CA``, ``CU``,
    ``METRO``, ``MET69`` designate an EPCI (all its communes), ``EPT`` an établissement
    public territorial of the Grand Paris (its communes), ``COM`` a commune signing
    alone, given by its SIREN. Unknown natures and SIRENs are reported, not fatal.

    Parameters
    ----------
    source : str, Path, bytes or binary file-like
        The file (CSV, Excel or Parquet, read by :func:`territorial.tables.read_table`).
    geo : Geography
        The geography the SIRENs are matched against.
    name : str, optional
        Name of the set shown to the user (default: from the file name).
    filename : str, optional
        File name when ``source`` is bytes or a nameless file object.
    sheet : str or int, optional
        Excel sheet.

    Returns
    -------
    (PerimeterSet, ValidationReport)

    Raises
    ------
    TableError
        Unreadable file, or a table with neither layout (the French message names the
        missing columns).
    """
    raw = read_table(source, filename, sheet=sheet)
    return _crte_from_raw(raw, geo, name)


def _crte_from_raw(
    raw: RawTable, geo: Geography, name: str | None
) -> tuple[PerimeterSet, ValidationReport]:
    check_row_limit(raw, MAX_PERIMETER_ROWS, "un fichier de périmètres")
    layout, missing = detect_crte_layout(raw.frame.columns, raw.source_name)
    columns = _column_map(raw.frame.columns)
    frame = raw.frame

    def col(key: str) -> list[str]:
        if key in columns:
            return [clean_cell(v) for v in frame[columns[key]].tolist()]
        return [""] * len(frame)

    values = {key: col(key) for key in layout.columns}
    assembler = _Assembler(geo, "officiel")
    resolver = assembler.resolver
    for i, ligne in enumerate(frame.index.tolist()):
        row = {key: values[key][i] for key in layout.columns}
        pid = row["id_crte"]
        nature = row["nature_juridique"].upper().replace(" ", "")
        if not pid:
            assembler.unknown(
                ligne,
                row.get("siren_epci") or row["siren_groupement"],
                "identifiant du CRTE (id_crte) manquant : ligne ignorée",
                nature=nature,
            )
            continue
        assembler.declare(pid, " ".join(row["lib_crte"].split()), ligne, _crte_extras(row))
        if layout.key == "groupements":
            cell = row["siren_epci"] or row["siren_groupement"]
            member_is_groupement = not row["siren_epci"] or (
                normalise_siren(row["siren_epci"]) == normalise_siren(row["siren_groupement"])
            )
            hint = nature if member_is_groupement or nature in KNOWN_NATURES else ""
        else:
            cell, hint = row["siren_groupement"], nature
        for given in _split_sirens(cell):
            _add_crte_member(assembler, resolver, row, pid, ligne, given, hint, layout.key)
    membership, table, detached = assembler.build()
    source_name = raw.source_name
    pset = PerimeterSet(
        name=name or f"CRTE (ANCT, fichier « {source_name} »)",
        kind="officiel",
        membership=membership,
        perimetres=table,
        source={
            **CRTE_SOURCE,
            "fichier": source_name,
            "disposition": layout.key,
            "description": f"Périmètres des CRTE lus dans la {layout.label}.",
        },
    )
    report = ValidationReport(
        source_name=source_name, kind="officiel", layout=layout.key, layout_label=layout.label
    )
    report.missing_columns = missing
    report.notes = list(raw.notes)
    if missing:
        report.notes.append(
            "Colonnes de la table publiée absentes du fichier (non bloquant) : "
            + ", ".join(missing)
        )
    assembler.report(report, table, detached, len(frame))
    return pset, report


def _crte_extras(row: dict) -> dict:
    extras = {
        "type_grp_crte": row.get("type_grp_crte", ""),
        "dep_chef_file": row.get("dep_chef_file", ""),
        "insee_reg": row.get("insee_reg", ""),
    }
    for key in ("crte_interreg", "crte_interdep"):
        if row.get(key):
            extras[key] = _flag(row[key])
    if row.get("date_signature"):
        extras["date_signature"] = row["date_signature"]
    return extras


def _add_crte_member(
    assembler: _Assembler,
    resolver: _Resolver,
    row: dict,
    pid: str,
    ligne: int,
    given: str,
    hint: str,
    layout: str,
) -> None:
    siren = normalise_siren(given)
    # in the groupements layout the nature may describe the carrier, not this member
    declared = hint if layout == "groupements" else row["nature_juridique"].upper()
    if not siren:
        assembler.unknown(ligne, given, "SIREN manquant : ligne ignorée", pid, nature=declared)
        return
    if not _siren_ok(siren):
        assembler.unknown(
            ligne,
            given,
            "SIREN mal formé (9 chiffres attendus) : ligne ignorée",
            pid,
            nature=declared,
        )
        return
    hit = resolver.by_siren(siren, hint or None)
    if hit is None:
        assembler.unknown(ligne, siren, _unknown_reason(hint, declared), pid, nature=declared)
        return
    level, unit = hit
    if layout == "epci_crte" and level == "epci":
        level, unit = _supra_ept(resolver, row, level, unit)
    if hint and hint not in KNOWN_NATURES:
        assembler.nature_issues.append(
            {
                "ligne": int(ligne),
                "code": siren,
                "nature": hint,
                "perimetre": pid,
                "motif": f"nature juridique « {hint} » inconnue ; le SIREN désigne "
                f"{_describe(resolver, level, unit)}, retenu",
            }
        )
    elif hint and not _nature_matches(hint, level):
        assembler.nature_issues.append(
            {
                "ligne": int(ligne),
                "code": siren,
                "nature": hint,
                "perimetre": pid,
                "motif": f"nature juridique « {hint} » mais le SIREN désigne "
                f"{_describe(resolver, level, unit)}, retenu comme tel",
            }
        )
    assembler.add(pid, level, unit, ligne, siren)


def _supra_ept(resolver: _Resolver, row: dict, level: str, unit: str) -> tuple[str, str]:
    """A row of the Métropole du Grand Paris whose supra groupement is one of its EPTs."""
    supra = normalise_siren(row.get("siren_grp_supra", ""))
    if supra in resolver.ept_members and resolver.epci_of_ept.get(supra) == unit:
        return "ept", supra
    return level, unit


def _nature_matches(nature: str, level: str) -> bool:
    if level in {"epci", "ancien_epci"}:
        return nature in EPCI_NATURES
    if level == "ept":
        return nature == "EPT"
    return nature == "COM"


def _describe(resolver: _Resolver, level: str, unit: str) -> str:
    label = {
        "epci": "l'EPCI",
        "ept": "l'EPT",
        "commune": "la commune",
        "ancien_epci": "l'EPCI de 2022",
    }[level]
    return f"{label} {resolver.name(level, unit)} ({unit})"


def _unknown_reason(hint: str, declared: str) -> str:
    if hint in EPCI_NATURES:
        return (
            f"SIREN d'EPCI ({hint}) inconnu du référentiel : EPCI dissous, fusionné ou "
            "d'un autre millésime ? Ligne ignorée"
        )
    if hint == "EPT":
        return "SIREN d'EPT inconnu (aucun des 11 EPT du Grand Paris) : ligne ignorée"
    if hint == "COM":
        return (
            "SIREN de commune inconnu du référentiel (commune fusionnée ou d'un autre "
            "millésime ?) : ligne ignorée"
        )
    if declared:
        return (
            f"nature juridique « {declared} » non prise en charge et SIREN inconnu "
            "du référentiel (ni EPCI, ni EPT, ni commune) : ligne ignorée"
        )
    return "SIREN inconnu du référentiel (ni EPCI, ni EPT, ni commune) : ligne ignorée"


# --------------------------------------------------------------------------- user sets

_COMMUNE_RE = re.compile(r"\d{5}|2[AB]\d{3}")


def _looks_like_code(value: str) -> bool:
    if not value:
        return False
    if _siren_ok(normalise_siren(value)):
        return True
    return bool(_COMMUNE_RE.fullmatch(normalise_commune_code(value)))


def _code_share(values: list[str]) -> float:
    filled = [v for v in values if v]
    return sum(map(_looks_like_code, filled)) / len(filled) if filled else 0.0


def slugify(name: str) -> str:
    """Stable perimeter id from a name: ``"Alliance des Vallées"`` → ``"alliance-des-vallees"``.

    >>> slugify("  Pôle Sud-Est & Co ")
    'pole-sud-est-co'
    """
    words = re.sub(r"[^a-z0-9]+", " ", fold(name)).split()
    return "-".join(words) or "perimetre"


def load_user_perimeters(
    source,
    geo: Geography,
    name: str,
    *,
    filename: str | None = None,
    sheet: str | int | None = None,
) -> tuple[PerimeterSet, ValidationReport]:
    """Read a workshop's own perimeters: a table of code → perimeter name.

    The code column (detected: the column whose cells look most like codes) holds EPCI
    SIRENs (9 digits; an EPT or a commune SIREN is accepted too) or commune INSEE codes,
    normalised with ``geo.resolve_commune`` (lost leading zero, arrondissements, delegated
    communes, old codes). The other column holds the perimeter names; ids are made from
    the names (:func:`slugify`), names are kept. A set may cover only part of France:
    the communes not covered stay out of it, and the report gives the coverage.

    Parameters
    ----------
    source : str, Path, bytes or binary file-like
        The table (CSV, Excel or Parquet).
    geo : Geography
        The geography the codes are matched against.
    name : str
        Name of the set shown to the user.
    filename : str, optional
        File name when ``source`` is bytes or a nameless file object.
    sheet : str or int, optional
        Excel sheet.

    Returns
    -------
    (PerimeterSet, ValidationReport)

    Raises
    ------
    TableError
        Unreadable file, fewer than two columns, no code column or no name column.
    """
    raw = read_table(source, filename, sheet=sheet)
    return _user_from_raw(raw, geo, name)


def _user_columns(raw: RawTable) -> tuple[str, str, list[str]]:
    frame = raw.frame
    columns = list(frame.columns)
    if len(columns) < 2:
        raise TableError(
            f"Le fichier « {raw.source_name} » doit avoir deux colonnes : le code (SIREN "
            "d'EPCI ou code commune INSEE) et le nom du périmètre. Une seule colonne a été "
            f"trouvée : « {columns[0] if columns else ''} »."
        )
    shares = {c: _code_share([clean_cell(v) for v in frame[c].tolist()]) for c in columns}
    code_column = max(columns, key=lambda c: shares[c])
    if shares[code_column] < 0.5:
        raise TableError(
            f"Le fichier « {raw.source_name} » n'a pas de colonne de codes : il faut une "
            "colonne de SIREN d'EPCI (9 chiffres) ou de codes communes INSEE (5 caractères). "
            f"Colonnes trouvées : {', '.join(f'« {c} »' for c in columns)}."
        )
    others = [c for c in columns if c != code_column and shares[c] < 0.5]
    if not others:
        raise TableError(
            f"Le fichier « {raw.source_name} » n'a pas de colonne de noms de périmètres : "
            "à côté de la colonne des codes, il faut une colonne donnant le nom du périmètre "
            "de chaque code."
        )
    name_column = max(others, key=lambda c: ((frame[c] != "").sum(), -columns.index(c)))
    ignored = [c for c in columns if c not in (code_column, name_column)]
    return code_column, name_column, ignored


def _user_from_raw(
    raw: RawTable, geo: Geography, name: str
) -> tuple[PerimeterSet, ValidationReport]:
    check_row_limit(raw, MAX_PERIMETER_ROWS, "un fichier de périmètres")
    code_column, name_column, ignored = _user_columns(raw)
    frame = raw.frame
    rows = list(
        zip(
            frame.index.tolist(),
            [clean_cell(v) for v in frame[code_column].tolist()],
            [" ".join(clean_cell(v).split()) for v in frame[name_column].tolist()],
            strict=True,
        )
    )
    notes = list(raw.notes)
    if _looks_like_code(clean_cell(code_column)) and not _looks_like_code(name_column):
        rows.insert(0, (raw.header_row, clean_cell(code_column), " ".join(name_column.split())))
        notes.append(
            f"Pas de ligne d'en-tête : la ligne {raw.header_row} a été lue comme une donnée."
        )
    else:
        notes.append(
            f"Colonne des codes : « {code_column} » ; colonne des noms : « {name_column} »."
        )
    if ignored:
        notes.append("Colonnes ignorées : " + ", ".join(f"« {c} »" for c in ignored) + ".")
    assembler = _Assembler(geo, "utilisateur")
    resolver = assembler.resolver
    ids: dict[str, str] = {}
    used: set[str] = set()
    for ligne, code, label in rows:
        if not label:
            assembler.unknown(ligne, code, "nom de périmètre manquant : ligne ignorée")
            continue
        if label not in ids:
            base = slugify(label)
            pid, n = base, 2
            while pid in used:
                pid, n = f"{base}-{n}", n + 1
            if pid != base:
                notes.append(
                    f"Le périmètre « {label} » reçoit l'identifiant « {pid} » "
                    f"(« {base} » désigne déjà un autre nom)."
                )
            ids[label] = pid
            used.add(pid)
        pid = ids[label]
        assembler.declare(pid, label, ligne)
        if not code:
            assembler.unknown(ligne, code, "code manquant : ligne ignorée", pid)
            continue
        siren = normalise_siren(code)
        if _siren_ok(siren):
            hit = resolver.by_siren(siren, None)
            if hit is None:
                assembler.unknown(
                    ligne,
                    siren,
                    "SIREN inconnu du référentiel (ni EPCI, ni EPT, ni commune) : ligne ignorée",
                    pid,
                )
                continue
            assembler.add(pid, *hit, ligne, siren)
            continue
        resolution = geo.resolve_commune(code)
        if resolution.code is None:
            assembler.unknown(
                ligne,
                code,
                "code inconnu : ni SIREN d'EPCI (9 chiffres) ni code commune INSEE actuel "
                "ou ancien : ligne ignorée",
                pid,
            )
            continue
        if resolution.how != "exact" or resolution.code != code:
            assembler.remapped_codes.append(
                {
                    "ligne": int(ligne),
                    "code": code,
                    "code_retenu": resolution.code,
                    "nom": resolver.commune_names.get(resolution.code, ""),
                    "motif": resolution.label or "code normalisé",
                }
            )
        assembler.add(pid, "commune", resolution.code, ligne, code)
    membership, table, detached = assembler.build()
    pset = PerimeterSet(
        name=name,
        kind="utilisateur",
        membership=membership,
        perimetres=table,
        source={
            "fichier": raw.source_name,
            "disposition": "deux_colonnes",
            "description": "Périmètres définis par l'utilisateur (atelier).",
        },
    )
    report = ValidationReport(
        source_name=raw.source_name,
        kind="utilisateur",
        layout="deux_colonnes",
        layout_label=_USER_LAYOUT_LABEL,
    )
    report.notes = notes
    assembler.report(report, table, detached, len(frame))
    return pset, report


# --------------------------------------------------------------------------- summary


def _n(value: float | None) -> str:
    return format_number(value) if value is not None else "–"


def _plural(n: int, singular: str, plural: str | None = None) -> str:
    return f"{_n(n)} {singular if n <= 1 else (plural or singular + 's')}"


def _pct(share: float | None) -> str:
    return "–" if share is None else format_number(100 * share, 1) + " %"


def _listing(items: list[str], total: int) -> str:
    text = " ; ".join(items[:_MAX_LISTED])
    return text + (f" ; … et {_n(total - _MAX_LISTED)} autres" if total > _MAX_LISTED else "")


def _signed(n: int) -> str:
    return f"+{_n(n)}" if n > 0 else _n(n)


def _summary_fr(r: ValidationReport) -> list[str]:
    lines = [
        f"Fichier « {r.source_name} » lu comme {r.layout_label} : "
        f"{_plural(r.n_rows, 'ligne')} de données, {_n(r.n_rows_used)} utilisée"
        f"{'s' if r.n_rows_used > 1 else ''}."
    ]
    lines.append(
        f"{_plural(r.n_perimetres, 'périmètre')} : {_n(r.n_mono_epci)} porté"
        f"{'s' if r.n_mono_epci > 1 else ''} par un seul EPCI (ou une commune seule), "
        f"{_n(r.n_multi_epci)} par plusieurs EPCI."
    )
    if r.reference is not None and r.reference_differences is not None:
        ref, diff = r.reference, r.reference_differences
        head = (
            f"Référence : {_n(ref['total'])} périmètres ({_n(ref['mono_epci'])} mono-EPCI + "
            f"{_n(ref['multi_epci'])} multi-EPCI)"
        )
        if not any(diff.values()):
            lines.append(head + " : les effectifs sont identiques.")
        else:
            lines.append(
                f"{head} ; écarts : {_signed(diff['total'])} au total, "
                f"{_signed(diff['mono_epci'])} mono-EPCI, {_signed(diff['multi_epci'])} "
                "multi-EPCI."
            )
    for scope, label in (("metropole", "France métropolitaine"), ("outre_mer", "Outre-mer")):
        s = r.scopes.get(scope)
        if not s or not s["n_communes"]:
            continue
        lines.append(
            f"{label} : {_plural(s['n_perimetres'], 'périmètre')} "
            f"({_n(s['n_mono_epci'])} mono-EPCI, {_n(s['n_multi_epci'])} multi-EPCI), "
            f"{_n(s['n_communes_couvertes'])} communes sur {_n(s['n_communes'])} couvertes, "
            f"{_pct(s['part_population_couverte'])} de la population."
        )
    if r.kind == "utilisateur":
        lines.append(
            "Un jeu de périmètres d'atelier peut ne couvrir qu'une partie du territoire : "
            "les communes hors de ces périmètres n'y sont simplement pas rattachées."
        )
    lines += _anomaly_lines(r)
    lines += [f"Note : {note}" for note in r.notes]
    return lines


def _anomaly_lines(r: ValidationReport) -> list[str]:
    lines = []
    if r.duplicate_rows:
        items = [f"ligne {d['ligne']} (déjà ligne {d['ligne_premiere']})" for d in r.duplicate_rows]
        lines.append(
            f"{_plural(len(r.duplicate_rows), 'ligne')} en double, ignorée"
            f"{'s' if len(r.duplicate_rows) > 1 else ''} : " + _listing(items, len(items)) + "."
        )
    if r.unknown_codes:
        items = [
            f"ligne {d['ligne']} ({d['code'] or 'vide'} : {d['motif']})" for d in r.unknown_codes
        ]
        lines.append(
            f"{_plural(len(items), 'code non reconnu', 'codes non reconnus')} : "
            + _listing(items, len(items))
            + "."
        )
    if r.nature_issues:
        items = [f"ligne {d['ligne']} ({d['motif']})" for d in r.nature_issues]
        lines.append(
            f"{_plural(len(items), 'nature juridique', 'natures juridiques')} à vérifier : "
            + _listing(items, len(items))
            + "."
        )
    if r.counted_twice:
        items = [
            f"{_LEVEL_LABELS[d['niveau']]} {d['nom']} ({d['code']}) dans "
            f"{d['perimetre_retenu']} (ligne {d['ligne_retenue']}) et {d['perimetre_ecarte']} "
            f"(ligne {d['ligne_ecartee']})"
            for d in r.counted_twice
        ]
        lines.append(
            f"{_plural(len(items), 'unité citée', 'unités citées')} dans deux périmètres : "
            + _listing(items, len(items))
            + f". Règle appliquée : {r.double_count_rule}. "
            + f"{_plural(len(r.communes_in_two), 'commune concernée', 'communes concernées')}, "
            "comptées une seule fois."
        )
    if r.detached_communes:
        items = [
            f"{d['nom']} ({d['commune']}) → {d['perimetre']} au lieu de {d['perimetre_epci']}"
            for d in r.detached_communes
        ]
        lines.append(
            f"{_plural(len(items), 'commune rattachée', 'communes rattachées')} à un autre "
            "périmètre que celui de son EPCI (commune signataire seule ou EPT) : "
            + _listing(items, len(items))
            + "."
        )
    if r.former_epcis:
        items = [
            f"{d['nom']} ({d['code']}, ligne {d['ligne']}) → ses "
            f"{_plural(d['n_communes'], 'commune')} de 2022, aujourd'hui dans "
            + ", ".join(d["epci_actuels_noms"])
            for d in r.former_epcis
        ]
        lines.append(
            f"{_plural(len(items), 'EPCI de 2022 disparu', 'EPCI de 2022 disparus')} depuis "
            "(fusion ou scission) : résolu"
            + ("s" if len(items) > 1 else "")
            + " par leurs communes de 2022 (table des EPCI 2022 de "
            "@etalab/decoupage-administratif 2.3.1) : " + _listing(items, len(items)) + "."
        )
    if r.remapped_codes:
        items = [f"{d['code']} → {d['code_retenu']} ({d['motif']})" for d in r.remapped_codes]
        lines.append(
            f"{_plural(len(items), 'code commune corrigé', 'codes communes corrigés')} : "
            + _listing(items, len(items))
            + "."
        )
    if r.empty_perimetres:
        items = [f"{d['nom']} ({d['code']})" for d in r.empty_perimetres]
        lines.append(
            f"{_plural(len(items), 'périmètre')} du fichier sans aucune commune reconnue, "
            "écarté" + ("s" if len(items) > 1 else "") + " : " + _listing(items, len(items)) + "."
        )
    if r.kind == "officiel":
        lines += _uncovered_lines(r)
    lines += _spanning_lines(r)
    return lines


def _uncovered_lines(r: ValidationReport) -> list[str]:
    lines = []
    for scope, label in (("metropole", "de métropole"), ("outre_mer", "d'outre-mer")):
        u = r.uncovered.get(scope)
        if not u or not u["n_communes"]:
            continue
        epcis = u["epcis"]
        if epcis:
            population = sum(e["population"] or 0 for e in epcis)
            items = [f"{e['nom']} ({e['code']}, {_n(e['population'])} hab.)" for e in epcis]
            lines.append(
                f"{_plural(len(epcis), 'EPCI', 'EPCI')} {label} dans aucun périmètre "
                f"({_n(population)} habitants) : " + _listing(items, len(items)) + "."
            )
        communes = u["communes"]
        if communes:
            items = [f"{c['nom']} ({c['code']}, {_n(c['population'])} hab.)" for c in communes]
            lines.append(
                f"{_plural(len(communes), 'commune')} {label} hors de tout périmètre, "
                "dont l'EPCI est en partie couvert : " + _listing(items, len(items)) + "."
            )
    return lines


def _spanning_lines(r: ValidationReport) -> list[str]:
    lines = []
    if r.inter_regional:
        items = [f"{d['nom']} ({', '.join(d['regions_noms'])})" for d in r.inter_regional]
        lines.append(
            f"{_plural(len(items), 'périmètre')} à cheval sur plusieurs régions : "
            + _listing(items, len(items))
            + "."
        )
    if r.inter_departemental:
        items = [f"{d['nom']} ({', '.join(d['departements_noms'])})" for d in r.inter_departemental]
        lines.append(
            f"{_plural(len(items), 'périmètre')} à cheval sur plusieurs départements : "
            + _listing(items, len(items))
            + "."
        )
    if r.file_flag_mismatches:
        items = [
            f"{d['nom']} ({d['champ']} = {_yes_no(d['fichier'])} dans le fichier, "
            f"{_yes_no(d['calcule'])} d'après la géographie)"
            for d in r.file_flag_mismatches
        ]
        lines.append(
            "Indications du fichier contredites par la géographie : "
            + _listing(items, len(items))
            + "."
        )
    return lines


def _yes_no(value: Any) -> str:
    if isinstance(value, bool):
        return "oui" if value else "non"
    return f"« {value} »"


# --------------------------------------------------------------------------- CLI


def _load_any(raw: RawTable, geo: Geography) -> tuple[PerimeterSet, ValidationReport]:
    """A CRTE file if it has a CRTE layout, else a two-column user set."""
    try:
        return _crte_from_raw(raw, geo, None)
    except TableError:
        if len(raw.frame.columns) != 2:
            raise
    return _user_from_raw(raw, geo, Path(raw.source_name).stem)


def cli_perimeters(path: str, as_json: bool) -> int:
    """Print the validation report of a perimeter file; return the exit code.

    A file with a CRTE layout is read as the official CRTE file; a two-column table as a
    user set (named after the file).

    Parameters
    ----------
    path : str
        The file.
    as_json : bool
        Print :meth:`ValidationReport.to_dict` as JSON instead of French sentences.

    Returns
    -------
    int
        0 when the file was read (even with anomalies, which the report lists), 2 when
        it could not be used (French message on stderr).
    """
    try:
        from territorial.geography import load_geography

        raw = read_table(path)
        _, report = _load_any(raw, load_geography())
    except TableError as err:
        print(err.message, file=sys.stderr)
        return 2
    except Exception as err:  # the CLI never shows a traceback
        print(
            f"Le fichier « {Path(str(path)).name} » n'a pas pu être traité : {err}",
            file=sys.stderr,
        )
        return 2
    if as_json:
        print(json_text(report.to_dict()))
    else:
        print("\n".join(report.summary_fr()))
    return 0
