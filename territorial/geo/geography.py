"""France's territorial units, how they nest, and lookups between them.

Examples
--------
>>> geo = load_geography()
>>> geo.parents("commune", "42218")["departement"]
('42', 'Loire')
>>> geo.resolve_commune("75108").code
'75056'
"""

from __future__ import annotations

import copy
import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from territorial.geo.codes import (
    code_positions,
    normalise_commune_code,
    normalise_departement_code,
    normalise_series,
    normalise_siren,
)
from territorial.geo.postcodes import lookup_postcodes
from territorial.geo.search import SearchIndex
from territorial.paths import DATA_DIR
from territorial.perimeters.crte import FORMER_EPCI_FILE, load_shipped_crte
from territorial.perimeters.model import PerimeterSet, dissolve_perimeters
from territorial.perimeters.report import ValidationReport

__all__ = [
    "GEO_DIR",
    "LEVELS",
    "LEVEL_LABELS",
    "Geography",
    "Resolution",
    "load_geography",
    "parse_scope",
]

GEO_DIR = DATA_DIR / "geo"
LEVELS = ("region", "departement", "perimetre", "epci", "commune")
LEVEL_LABELS = {
    "region": "Région",
    "departement": "Département",
    "perimetre": "Projet de territoire",
    "epci": "EPCI (intercommunalité)",
    "commune": "Commune",
}
# Cached attributes that depend on the perimeter set (dropped by ``with_perimeters``).
_PERIMETER_CACHES = ("_perimetre_table", "_hierarchy", "_indexed", "_search_index", "_tables")
PARENT_LEVELS = {
    "commune": ("epci", "perimetre", "departement", "region"),
    "epci": ("perimetre", "departement", "region"),
    "perimetre": ("departement", "region"),
    "departement": ("region",),
    "region": (),
}
_POSTCODE = re.compile(r"\d{5}")
_RESOLUTION_LABELS = {
    "exact": "code actuel",
    "zero": "zéro initial rétabli",
    "arrondissement": "arrondissement municipal → commune",
    "deleguee": "commune déléguée → commune nouvelle",
    "associee": "commune associée → commune de rattachement",
    "ancien_code": "ancien code → code actuel",
}


def resolution_label(how: str | None) -> str:
    """What was done to a code, in French: ``"zero"`` → ``"zéro initial rétabli"``.

    >>> resolution_label("zero"), resolution_label("arrondissement")
    ('zéro initial rétabli', 'arrondissement municipal → commune')
    """
    return _RESOLUTION_LABELS.get(how, "")


@dataclass(frozen=True)
class Resolution:
    """How a commune code given by a user maps to a current commune."""

    given: str
    code: str | None
    how: str | None

    @property
    def label(self) -> str:
        """French description of the remapping (empty when the code is unknown)."""
        return resolution_label(self.how)


def parse_scope(scope: str | None) -> tuple[str, str | None]:
    """Split a scope string: ``"metropole"``, ``"france"``, ``"region:84"``, ``"departement:01"``.

    >>> parse_scope("region:84")
    ('region', '84')
    """
    if not scope or scope == "metropole":
        return "metropole", None
    if scope == "france":
        return "france", None
    kind, _, code = scope.partition(":")
    if kind not in {"region", "departement"} or not code:
        raise ValueError(f"Périmètre d'étude inconnu : « {scope} »")
    return kind, code


class Geography:
    """All territorial levels, loaded from the built files of ``data/geo``.

    Use :func:`load_geography` to get the shared instance.
    """

    def __init__(self, geo_dir: Path = GEO_DIR):
        self.geo_dir = Path(geo_dir)
        self.manifest = json.loads((self.geo_dir / "manifest.json").read_text())
        self.communes = gpd.read_parquet(self.geo_dir / "commune.parquet")
        self.epcis = gpd.read_parquet(self.geo_dir / "epci.parquet")
        self.departements = gpd.read_parquet(self.geo_dir / "departement.parquet")
        self.regions = gpd.read_parquet(self.geo_dir / "region.parquet")
        self.aliases = pd.read_parquet(self.geo_dir / "commune_alias.parquet")
        self.ept = pd.read_parquet(self.geo_dir / "ept.parquet")
        self._alias = self.aliases.set_index("alias")
        self._commune_codes = pd.Index(self.communes["code"])
        self._siren_to_commune = self.communes.dropna(subset=["siren"]).set_index("siren")["code"]
        shipped = load_shipped_crte(self.geo_dir)
        if shipped is None:
            self.set_perimeters(PerimeterSet.one_per_epci(self.communes))
        else:
            self.set_perimeters(*shipped)
        self.default_perimeters = self.perimeters
        self.default_report = self.perimeters_report

    @functools.cached_property
    def former_epcis(self) -> pd.DataFrame:
        """EPCIs of 2022 merged or split since, with their 2022 communes in today's codes.

        Columns ``siren``, ``nom``, ``commune_2022`` (code then) and ``commune`` (today's
        commune, missing if none). Used to read the CRTE list of December 2022.
        """
        path = self.geo_dir / FORMER_EPCI_FILE
        if not path.exists():
            return pd.DataFrame(columns=["siren", "nom", "commune_2022", "commune"])
        return pd.read_parquet(path)

    # ------------------------------------------------------------------ perimeters
    def with_perimeters(
        self, pset: PerimeterSet, report: ValidationReport | None = None
    ) -> Geography:
        """A copy with ``pset`` as its perimeter set, sharing every loaded table (issue 14).

        The instance itself is left unchanged, so each atelier or session can have its own
        perimeter set without changing what the others see.

        >>> geo = load_geography()
        >>> other = geo.with_perimeters(PerimeterSet.one_per_epci(geo.communes.head(3)))
        >>> len(other.table("perimetre", "france")) <= 3 < len(geo.table("perimetre", "france"))
        True
        """
        other = copy.copy(self)
        other.__dict__ = {k: v for k, v in self.__dict__.items() if k not in _PERIMETER_CACHES}
        other.perimeters = pset
        other.perimeters_report = report
        other.perimeters_hash = pset.content_hash()
        return other

    def set_perimeters(self, pset: PerimeterSet, report: ValidationReport | None = None) -> None:
        """Make ``pset`` the active perimeter set (it drops cached perimeter tables).

        ``report`` is its validation report, kept as :attr:`perimeters_report` (the
        shipped set's own report when ``pset`` is :attr:`default_perimeters`).
        """
        if report is None and pset is getattr(self, "default_perimeters", None):
            report = self.default_report
        self.perimeters = pset
        self.perimeters_report = report
        self.perimeters_hash = pset.content_hash()
        for cached in ("_perimetre_table", "_hierarchy", "_tables"):
            self.__dict__.pop(cached, None)

    @functools.cached_property
    def _perimetre_table(self) -> gpd.GeoDataFrame:
        pset = self.perimeters
        frame = self.communes.drop(columns="geometry").assign(
            perimetre=self.communes["code"].map(pset.membership)
        )
        frame = frame.dropna(subset=["perimetre"])
        stats = frame.groupby("perimetre").agg(
            population=("population", "sum"),
            n_communes=("code", "size"),
            n_epci_membres=("epci", "nunique"),
            outre_mer=("outre_mer", "any"),
        )
        weights = (
            frame.groupby(["perimetre", "departement", "region"])["population"]
            .sum()
            .reset_index()
            .sort_values(["perimetre", "population", "departement"], ascending=[True, False, True])
            .drop_duplicates("perimetre")
            .set_index("perimetre")
        )
        stats["departement"] = weights["departement"]
        stats["region"] = weights["region"]
        stats["n_regions"] = frame.groupby("perimetre")["region"].nunique()
        info = pset.perimetres.set_index("code")
        epci_names = self.epcis.set_index("code")["nom"]
        stats["nom"] = info.get("nom")
        stats["nom"] = stats["nom"].fillna(
            pd.Series(stats.index, index=stats.index).map(epci_names)
        )
        stats["portage"] = info["portage"].reindex(stats.index)
        stats.index.name = "code"
        geometry = dissolve_perimeters(pset, self.communes)
        table = stats.reset_index()
        table["geometry"] = geometry.reindex(table["code"]).to_numpy()
        return gpd.GeoDataFrame(table, geometry="geometry", crs=4326)

    # ------------------------------------------------------------------ tables
    def table(self, level: str, scope: str | None = "metropole") -> gpd.GeoDataFrame:
        """Units of ``level`` within ``scope`` (see :func:`parse_scope`), display geometry."""
        tables = {
            "commune": "communes",
            "epci": "epcis",
            "perimetre": "_perimetre_table",  # built on first use: it dissolves perimeters
            "departement": "departements",
            "region": "regions",
        }
        if level not in tables:
            raise ValueError(f"Niveau inconnu : « {level} »")
        table = getattr(self, tables[level])
        kind, code = parse_scope(scope)
        if kind == "france":
            return table
        # Cached (every rerun of a map asks for it again): the caller must not change it.
        cache = self.__dict__.setdefault("_tables", {})
        key = (level, kind, code)
        if key not in cache:
            if kind == "metropole":
                cache[key] = table[~table["outre_mer"]]
            elif level == "region" or (level == "departement" and kind == "departement"):
                cache[key] = table[table["code"] == code]
            else:
                cache[key] = table[table[kind] == code]
        return cache[key]

    @functools.cached_property
    def _hierarchy(self) -> pd.DataFrame:
        frame = self.communes[["code", "nom", "epci", "departement", "region"]].copy()
        frame["perimetre"] = frame["code"].map(self.perimeters.membership)
        return frame.set_index("code")

    def hierarchy(self) -> pd.DataFrame:
        """One row per commune: its EPCI, perimeter, département and région codes."""
        return self._hierarchy

    def indexed(self, level: str) -> pd.DataFrame:
        """Attributes of every unit of a level (no geometry), indexed by code; cached."""
        key = (level, self.perimeters_hash)
        cache = self.__dict__.setdefault("_indexed", {})
        if key not in cache:
            cache[key] = self.table(level, "france").drop(columns="geometry").set_index("code")
        return cache[key]

    def names(self, level: str) -> pd.Series:
        """Code → name for a level."""
        return self.indexed(level)["nom"]

    @functools.cached_property
    def detail_geometry(self) -> gpd.GeoSeries:
        """Detailed commune contours (for point-in-polygon), indexed by commune code."""
        detail = gpd.read_parquet(self.geo_dir / "commune_detail.parquet")
        return detail.set_index("code").geometry

    # ------------------------------------------------------------------ lookups
    def resolve_commune(self, value: object) -> Resolution:
        """Map a user's commune code to a current commune.

        Handles lost leading zeros, Corsica, Paris/Lyon/Marseille arrondissements, delegated
        and associated communes, and old codes of merged communes.
        """
        given = str(value)
        code = normalise_commune_code(value)
        if code in self._commune_codes:
            how = "exact" if code == given.strip() else "zero"
            return Resolution(given, code, how)
        if code in self._alias.index:
            row = self._alias.loc[code]
            return Resolution(given, row["code"], row["nature"])
        siren = normalise_siren(value)
        if siren in self._siren_to_commune.index:
            return Resolution(given, self._siren_to_commune[siren], "exact")
        return Resolution(given, None, None)

    def resolve_communes(self, values: pd.Series) -> pd.DataFrame:
        """Vectorised :meth:`resolve_commune`: columns ``code`` (None if unknown) and ``how``."""
        given = values.astype(str).str.strip()
        code = normalise_series(values, "commune")
        exact = code_positions(self._commune_codes, code) >= 0
        resolved = code.where(exact)
        how = pd.Series(np.where(code == given, "exact", "zero"), index=values.index)
        how = how.where(exact)
        if not exact.all():  # old codes, delegated communes, SIREN: only where not exact
            other = code[~exact]
            alias = other.map(self._alias["code"])
            siren = other.map(self._siren_to_commune)
            resolved[~exact] = alias.where(alias.notna(), siren).to_numpy()
            how[~exact] = other.map(self._alias["nature"]).where(alias.notna(), "exact").to_numpy()
        return pd.DataFrame({"code": resolved, "how": how.where(resolved.notna())})

    def commune_from_siren(self, siren: object) -> str | None:
        """Commune INSEE code from its SIREN (as used in the CRTE files for ``COM`` rows)."""
        return self._siren_to_commune.get(normalise_siren(siren))

    def parents(self, level: str, code: str) -> dict[str, tuple[str, str]]:
        """Codes and names of the units that contain a unit: ``{level: (code, nom)}``."""
        row = self.indexed(level).loc[code]
        out = {}
        for parent in PARENT_LEVELS[level]:
            if level == "commune":
                parent_code = self._hierarchy.at[code, parent]
            elif parent == "perimetre":
                members = self.members(level, code)
                parent_code = self._hierarchy.loc[members, "perimetre"].mode().iat[0]
            else:
                parent_code = row[parent]
            if pd.notna(parent_code):
                out[parent] = (parent_code, self.names(parent).get(parent_code, parent_code))
        return out

    def spanning_epcis(self, across: str = "departement") -> pd.DataFrame:
        """EPCIs whose communes lie in several départements (or régions), with their rule.

        Each is attached to the ``across`` unit holding most of its municipal population
        (ties: lowest code); ``part_population`` is that unit's share of the EPCI.

        Examples
        --------
        >>> spanning = load_geography().spanning_epcis("region")
        >>> bool((spanning["n_regions"] > 1).all()), list(spanning.columns)[:3]
        (True, ['code', 'nom', 'region'])
        """
        if across not in {"departement", "region"}:
            raise ValueError(f"Niveau inconnu : « {across} »")
        epcis = self.epcis[self.epcis[f"n_{across}s"] > 1]
        members = self.communes[self.communes["epci"].isin(epcis["code"])]
        population = members.groupby(["epci", across])["population"].sum()
        kept = pd.MultiIndex.from_arrays([epcis["code"], epcis[across]])
        share = population.reindex(kept).to_numpy() / epcis["population"].to_numpy()
        columns = ["code", "nom", across, f"{across}s", f"n_{across}s", "population"]
        table = epcis[columns].assign(part_population=np.round(share, 4))
        return pd.DataFrame(table).sort_values("code").reset_index(drop=True)

    def members(self, level: str, code: str, of: str = "commune") -> list[str]:
        """Codes of the ``of`` units inside a unit (communes by default)."""
        code = normalise_departement_code(code) if level == "departement" else code
        hierarchy = self._hierarchy
        communes = hierarchy.index[hierarchy[level] == code] if level != "commune" else [code]
        if of == "commune":
            return sorted(communes)
        return sorted(hierarchy.loc[communes, of].dropna().unique())

    @functools.cached_property
    def _search_index(self) -> SearchIndex:
        frames = []
        dep_names = self.departements.set_index("code")["nom"]
        for level in LEVELS:
            table = self.table(level, "france")
            frame = table[["code", "nom", "population"]].assign(level=level)
            if level == "commune":
                frame["label"] = frame["nom"] + " (" + table["departement"] + ")"
                frame["contexte"] = table["departement"].map(dep_names)
            elif level == "departement":
                frame["label"] = frame["nom"] + " (" + frame["code"] + ")"
                frame["contexte"] = "Département"
            else:
                frame["label"] = frame["nom"]
                frame["contexte"] = LEVEL_LABELS[level]
            frames.append(frame)
        return SearchIndex(pd.concat(frames, ignore_index=True))

    def search(
        self, text: str, limit: int = 10, levels: tuple[str, ...] | None = None
    ) -> pd.DataFrame:
        """Search by name or code, ignoring case, accents and hyphens.

        Homonyms are told apart by their département in ``label``
        (e.g. ``"Saint-Étienne (42)"``).

        A five-digit postcode finds the communes it serves (« 42000 » → Saint-Étienne), after
        an exact code match (a commune code can also be a postcode elsewhere).
        """
        found = self._search_index.search(text, limit=limit, levels=levels)
        postcode = str(text).strip()
        if not _POSTCODE.fullmatch(postcode) or (levels is not None and "commune" not in levels):
            return found
        served = lookup_postcodes(postcode, self.geo_dir)
        entries = self._search_index.entries
        by_postcode = entries[(entries["level"] == "commune") & entries["code"].isin(served)]
        by_postcode = by_postcode.sort_values("population", ascending=False, kind="stable")
        by_postcode = by_postcode.assign(label=by_postcode["label"] + f", code postal {postcode}")
        exact = found[found["code"].str.upper() == postcode]
        rest = found.drop(exact.index)
        rest = rest[~((rest["level"] == "commune") & rest["code"].isin(served))]
        merged = pd.concat([exact, by_postcode, rest])
        return merged[~merged.index.duplicated()].head(limit)


@functools.lru_cache(maxsize=2)
def load_geography(geo_dir: str | None = None) -> Geography:
    """The shared :class:`Geography` (loaded once per process)."""
    return Geography(Path(geo_dir) if geo_dir else GEO_DIR)
