"""Indicator values at every level: shipped real indicators plus the user's joined tables.

Examples
--------
>>> from territorial import load_geography
>>> store = IndicatorStore(load_geography())
>>> values = store.values("region")
>>> len(values)
13
>>> round(float(store.values("france").loc["FR", "part_femmes_conseil_municipal"]), 1)
48.1
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from territorial.geo.codes import code_positions
from territorial.geo.geography import Geography
from territorial.indicators.aggregate import Grouping, Prepared
from territorial.indicators.catalogue import (
    INDICATOR_DIR,
    Catalogue,
    Indicator,
    aggregate_components,
    indicator_values,
    load_catalogue,
    parent_mapping,
)

__all__ = ["AGGREGATION_LEVELS", "IndicatorStore", "OfficialIndicators", "UserIndicators"]

AGGREGATION_LEVELS = ("commune", "epci", "perimetre", "departement", "region", "france")
SHIPPED_LEVELS = ("commune", "epci", "departement", "region", "france")


@dataclass
class UserIndicators:
    """Indicators of one joined user table: components at the table's level."""

    name: str
    level: str
    indicators: list[Indicator]
    components: pd.DataFrame  # indexed by unit code at ``level``
    report: dict = field(default_factory=dict)


@dataclass
class OfficialIndicators:
    """Indicators of one official source, with what the source publishes at each level.

    Built by :mod:`territorial.sources.official` from a downloaded source; registered with
    :meth:`IndicatorStore.add_official`.

    Attributes
    ----------
    name : str
        Key in the store, e.g. ``"officiel:filosofi"``.
    indicators : list of Indicator
        The indicators the source provides.
    components : dict of str to DataFrame
        Additive components given by the source, per level (``commune``, ``epci``,
        ``departement``, ``region``), indexed by the geography's unit codes. A level the
        source gives is used as is (never recomputed from communes).
    values : dict of str to DataFrame
        Official indicator values per level (rates, medians), which replace the values
        computed from components at that level. Missing means secret or not published.
    combine : str
        How a level the source does not give is obtained: ``"somme"`` (communes'
        components summed, exact for counts and ratios of counts) or ``"unites_entieres"``
        (components of the largest official units lying wholly inside each target unit,
        e.g. the whole EPCI of a perimeter, else its communes).
    estimates : dict of str to str
        Indicator id → French description of the estimate used at the levels where the
        source gives no official value; :meth:`IndicatorStore.is_estimate` flags them.
    report : dict
        Join reports, secret counts and warnings.
    source : dict
        Provenance: publisher, vintage, file, date fetched, sha256.
    """

    name: str
    indicators: list[Indicator]
    components: dict[str, pd.DataFrame]
    values: dict[str, pd.DataFrame] = field(default_factory=dict)
    combine: str = "somme"
    estimates: dict[str, str] = field(default_factory=dict)
    report: dict = field(default_factory=dict)
    source: dict = field(default_factory=dict)


class IndicatorStore:
    """Components and indicator values for every level and scope."""

    def __init__(
        self,
        geo: Geography,
        catalogue: Catalogue | None = None,
        directory: Path = INDICATOR_DIR,
    ):
        self.geo = geo
        self.base_catalogue = catalogue or load_catalogue(directory / "catalogue.toml")
        self.directory = Path(directory)
        self.manifest = json.loads((self.directory / "manifest.json").read_text())
        self._shipped = {
            level: pd.read_parquet(self.directory / f"{level}.parquet").set_index("code")
            for level in SHIPPED_LEVELS
        }
        self.user_tables: dict[str, UserIndicators] = {}
        self.official_tables: dict[str, OfficialIndicators] = {}
        self._cache: dict = {}

    # ------------------------------------------------------------------ catalogue
    @property
    def catalogue(self) -> Catalogue:
        """The shipped catalogue plus every official and user indicator."""
        official = [i for table in self.official_tables.values() for i in table.indicators]
        extra = [i for table in self.user_tables.values() for i in table.indicators]
        return self.base_catalogue.with_indicators(official + extra)

    def add(self, table: UserIndicators) -> None:
        """Register (or replace) a user table's indicators."""
        self.user_tables[table.name] = table
        self._forget_user_table(table.name)

    def remove(self, name: str) -> None:
        self.user_tables.pop(name, None)
        self._forget_user_table(name)

    def _forget_user_table(self, name: str) -> None:
        """Drop the cached results that depend on a user table; keep the rest.

        Mappings between levels, shipped and official components do not depend on user
        tables; indicator values (all tables together) and the table's own aggregated
        components do.
        """
        stale = [k for k in self._cache if k[0] == "values" or k[:2] == ("user", name)]
        for key in stale:
            del self._cache[key]

    # ------------------------------------------------------------------ components
    def _mapping(self, child: str, parent: str) -> pd.DataFrame:
        key = ("mapping", child, parent, self.geo.perimeters_hash)
        if key not in self._cache:
            hierarchy = self.geo.hierarchy().assign(france="FR")
            population = self.geo.communes.set_index("code")["population"]
            hierarchy = hierarchy.reset_index().rename(columns={"code": "commune"})
            hierarchy = hierarchy.set_index("commune", drop=False)
            self._cache[key] = parent_mapping(hierarchy, child, parent, population)
        return self._cache[key]

    def _base_components(self, level: str) -> pd.DataFrame:
        if level in self._shipped:
            return self._shipped[level]
        key = ("perimetre", self.geo.perimeters_hash)
        if key not in self._cache:
            mapping = self._mapping("commune", "perimetre")["parent"]
            self._cache[key] = aggregate_components(
                self._shipped["commune"], mapping, self.base_catalogue
            )
        return self._cache[key]

    def _user_components(self, table: UserIndicators, level: str) -> pd.DataFrame | None:
        order = AGGREGATION_LEVELS
        if order.index(level) < order.index(table.level):
            return None  # finer levels are never invented from coarser data
        if level == table.level:
            return table.components
        key = ("user", table.name, level, self.geo.perimeters_hash)
        if key not in self._cache:
            prepared_key = ("user", table.name, "prepared")
            if prepared_key not in self._cache:  # once per table, whatever the level
                self._cache[prepared_key] = Prepared(table.components)
            grouping = self._user_grouping(table, level)
            self._cache[key] = self._cache[prepared_key].aggregate(grouping)
        return self._cache[key]

    def _labels(self, child: str, parent: str) -> tuple[pd.Index, np.ndarray, pd.Index]:
        """Every ``child`` unit (of the geography), the position of its parent among the
        sorted ``parent`` codes (-1: none), and those codes; cached (no user data)."""
        key = ("labels", child, parent, self.geo.perimeters_hash)
        if key not in self._cache:
            units = (
                self.geo.hierarchy().index if child == "commune" else self.geo.indexed(child).index
            )
            mapping = self._mapping(child, parent)["parent"]
            labels, codes = pd.factorize(mapping.reindex(units), sort=True)
            self._cache[key] = (units, labels, pd.Index(codes))
        return self._cache[key]

    def _user_grouping(self, table: UserIndicators, level: str) -> Grouping:
        """A user table's rows grouped by their unit at ``level``, on cached labels."""
        units, labels, codes = self._labels(table.level, level)
        key = ("user", table.name, "rows", self.geo.perimeters_hash)
        if key not in self._cache:  # the row of each table row among ``units``, once
            self._cache[key] = code_positions(units, table.components.index)
        rows = self._cache[key]
        return Grouping.from_labels(np.where(rows >= 0, labels[rows], -1), codes)

    def components(self, level: str) -> pd.DataFrame:
        """All components at a level (every unit of France), user tables included."""
        frames = [self._base_components(level)]
        for table in self.official_tables.values():
            official = self._official_components(table, level)
            if official is not None:
                frames.append(official.reindex(frames[0].index))
        for table in self.user_tables.values():
            user = self._user_components(table, level)
            if user is not None:
                frames.append(user.drop(columns=["n_membres"], errors="ignore"))
        return pd.concat(frames, axis=1) if len(frames) > 1 else frames[0]

    # ------------------------------------------------------------------ values
    def values(self, level: str, scope: str | None = "metropole") -> pd.DataFrame:
        """Indicator values for the units of ``level`` within ``scope``."""
        key = (
            "values",
            level,
            self.geo.perimeters_hash,
            tuple(self.user_tables),
            tuple(self.official_tables),
        )
        if key not in self._cache:
            base = self._base_values(level)
            user = self._user_values(level, base.index)
            self._cache[key] = pd.concat([base, user], axis=1) if user is not None else base
        values = self._cache[key]
        if level == "france":
            return values
        codes = self.geo.table(level, scope)["code"]
        return values.reindex(codes.to_numpy())

    def _base_values(self, level: str) -> pd.DataFrame:
        """Shipped and official indicator values (kept when a user table comes or goes)."""
        key = ("base_values", level, self.geo.perimeters_hash, tuple(self.official_tables))
        if key not in self._cache:
            official = [i for table in self.official_tables.values() for i in table.indicators]
            catalogue = self.base_catalogue.with_indicators(official)
            frames = [self._base_components(level)]
            for table in self.official_tables.values():
                components = self._official_components(table, level)
                if components is not None:
                    frames.append(components.reindex(frames[0].index))
            components = pd.concat(frames, axis=1) if len(frames) > 1 else frames[0]
            computed = indicator_values(components, catalogue)
            self._cache[key] = self._with_official_values(computed, level)
        return self._cache[key]

    def _user_values(self, level: str, index: pd.Index) -> pd.DataFrame | None:
        """Values of the user tables' indicators, each from its own table's components
        (missing at a level finer than the table's)."""
        if not self.user_tables:
            return None
        parts = []
        for table in self.user_tables.values():
            ids = [i.id for i in table.indicators]
            frame = self._user_components(table, level)
            if frame is None:
                parts.append(pd.DataFrame(np.nan, index=index, columns=ids))
                continue
            catalogue = Catalogue({i.id: i for i in table.indicators})
            # computed on the table's own units, then placed: a missing unit gives NaN
            # either way, and the values have fewer columns than the components
            parts.append(indicator_values(frame, catalogue).reindex(index))
        return pd.concat(parts, axis=1)

    def coverage(self, level: str, indicator: Indicator) -> pd.Series:
        """Share (0–1) of each unit's members that have the indicator's data.

        Members are units of the indicator's own level (communes for the shipped
        indicators, the table's level for a user table).
        """
        components = self.components(level)
        first = indicator.components[-1]
        counted = components.get(f"{first}__n")
        table = self.user_tables.get(indicator.origin)
        source_level = table.level if table is not None else "commune"
        if counted is None:
            present = components[first].notna() if first in components else True
            return pd.Series(1.0, index=components.index).where(present, 0.0)
        totals = self._mapping(source_level, level)["parent"].value_counts()
        return (counted / totals.reindex(counted.index)).clip(upper=1.0)

    def reference(self, indicator_id: str, level: str, code: str) -> dict[str, float | None]:
        """Value of the unit, of its département, its région and France side by side."""
        out = {level: _value(self.values(level, "france"), code, indicator_id)}
        for parent, (parent_code, _) in self.geo.parents(level, code).items():
            if parent in {"departement", "region"}:
                out[parent] = _value(self.values(parent, "france"), parent_code, indicator_id)
        out["france"] = _value(self.values("france"), "FR", indicator_id)
        return out

    # ------------------------------------------------------------------ official data
    def add_official(self, table: OfficialIndicators) -> None:
        """Register (or replace) an official source's indicators; no-op if already there.

        Examples
        --------
        >>> from territorial import load_geography
        >>> from territorial.indicators.catalogue import Indicator
        >>> store = IndicatorStore(load_geography())
        >>> rate = Indicator(id="t", label="t", unit="%", theme="x", polarity="neutre",
        ...                  rule="moyenne_ponderee", weight="w")
        >>> given = pd.DataFrame({"t__somme_ponderee": [10.0 * 800], "t__poids": [800.0]},
        ...                      index=["01001"])
        >>> official = pd.DataFrame({"t": [8.9]}, index=["200000172"])
        >>> store.add_official(OfficialIndicators("officiel:t", [rate], {"commune": given},
        ...     values={"epci": official}, combine="unites_entieres", estimates={"t": "…"}))
        >>> float(store.values("epci", "france").at["200000172", "t"])
        8.9
        >>> store.is_estimate("t", "epci"), store.is_estimate("t", "perimetre")
        (False, True)
        """
        if self.official_tables.get(table.name) is table:
            return
        self.official_tables[table.name] = table
        self._cache.clear()

    def remove_official(self, name: str) -> None:
        """Forget an official source's indicators (no error if absent)."""
        if self.official_tables.pop(name, None) is not None:
            self._cache.clear()

    def _official_table(self, indicator_id: str) -> OfficialIndicators | None:
        for table in self.official_tables.values():
            if any(i.id == indicator_id for i in table.indicators):
                return table
        return None

    def is_estimate(self, indicator_id: str, level: str) -> bool:
        """True when an indicator's values at ``level`` are an estimate, not official.

        Official rates and medians (poverty rate, median standard of living) are published
        by INSEE for communes, EPCI, départements and régions only; elsewhere (perimeters,
        France) the store computes a weighted estimate, which the interface must show as
        such, with :meth:`estimate_method`.
        """
        table = self._official_table(indicator_id)
        if table is None:
            indicator = self.base_catalogue.indicators.get(indicator_id)
            return bool(indicator and indicator.estimate and level not in indicator.exact_levels)
        if indicator_id not in table.estimates:
            return False
        given = table.values.get(level)
        return given is None or indicator_id not in given.columns

    def estimate_method(self, indicator_id: str, level: str) -> str | None:
        """French description of the estimate used at ``level`` (None when official)."""
        if not self.is_estimate(indicator_id, level):
            return None
        table = self._official_table(indicator_id)
        if table is None:
            return self.base_catalogue[indicator_id].estimate
        return table.estimates[indicator_id]

    def population_coverage(self, level: str, indicator: Indicator) -> pd.Series:
        """Share (0–1) of each unit's population living in communes with the indicator's data.

        Only for indicators built from communes (the shipped catalogue and the official
        sources); the population is the geography's (census 2021).

        Examples
        --------
        >>> from territorial import load_geography
        >>> store = IndicatorStore(load_geography())
        >>> rate = store.catalogue["taux_pauvrete_2021"]
        >>> 0.5 < float(store.population_coverage("france", rate)["FR"]) < 1
        True
        """
        key = ("population_coverage", level, indicator.id, self.geo.perimeters_hash)
        if key not in self._cache:
            communes = self.components("commune")
            present = communes[indicator.components].notna().all(axis=1)
            population = self.geo.communes.set_index("code")["population"].astype(float)
            population = population.reindex(communes.index)
            frame = pd.DataFrame({"couverte": population.where(present, 0.0), "totale": population})
            if level == "commune":
                summed = frame
            else:
                mapping = self._mapping("commune", level)["parent"]
                summed = frame.groupby(mapping.reindex(frame.index).to_numpy()).sum()
            self._cache[key] = summed["couverte"] / summed["totale"].where(summed["totale"] > 0)
        return self._cache[key]

    def _with_official_values(self, values: pd.DataFrame, level: str) -> pd.DataFrame:
        for table in self.official_tables.values():
            given = table.values.get(level)
            if given is None:
                continue
            for column in given.columns:
                if column in values.columns:
                    values[column] = given[column].reindex(values.index).astype(float)
        return values

    def _communes_per_unit(self, level: str) -> pd.Series:
        hierarchy = self.geo.hierarchy()
        if level == "france":
            return pd.Series({"FR": len(hierarchy)})
        return hierarchy.groupby(level).size()

    def _official_components(self, table: OfficialIndicators, level: str) -> pd.DataFrame | None:
        key = ("official", table.name, level, self.geo.perimeters_hash)
        if key in self._cache:
            return self._cache[key]
        order = AGGREGATION_LEVELS
        finer = [lvl for lvl in order[: order.index(level)] if lvl in table.components]
        if level in table.components:
            frame = table.components[level].drop(columns=["n_membres"], errors="ignore")
            if level != "commune":  # coverage: the whole unit when the source gives a value
                counts = self._communes_per_unit(level).reindex(frame.index).fillna(0)
                frame = frame.assign(
                    **{f"{c}__n": counts.where(frame[c].notna(), 0) for c in frame.columns}
                )
        elif not finer:
            frame = None
        elif table.combine == "unites_entieres":
            frame = self._whole_units(table, level, finer[::-1])
        else:
            mapping = self._mapping(finer[0], level)["parent"]
            frame = aggregate_components(table.components[finer[0]], mapping, self.catalogue)
            frame = frame.drop(columns=["n_membres"])
        self._cache[key] = frame
        return frame

    def _whole_units(
        self, table: OfficialIndicators, level: str, sources: list[str]
    ) -> pd.DataFrame:
        """Components of each ``level`` unit from the largest official units inside it.

        For each indicator, every target unit takes the components of the official units
        (``sources``, coarsest first) that lie wholly inside it, have the indicator's
        data and share no commune with a unit already taken; the communes left are taken
        one by one. ``<component>__n`` counts the communes covered.
        """
        hierarchy = self.geo.hierarchy()
        if level == "france":
            target = pd.Series("FR", index=hierarchy.index, dtype=object)
        else:
            target = hierarchy[level]
        orphan = target.isna()
        # Per source level: each commune's unit, and the units wholly inside one target.
        layers = []
        for source in sources:
            if source == "commune":
                units = pd.Series(hierarchy.index, index=hierarchy.index)
            else:
                units = hierarchy[source]
            pairs = pd.DataFrame({"unit": units, "target": target}).dropna(subset=["unit"])
            pairs = pairs.drop_duplicates()
            single = pairs["unit"].value_counts()
            pure = pairs.loc[pairs["unit"].map(single).eq(1) & pairs["target"].notna()]
            layers.append((source, units, pure.set_index("unit")["target"]))
        groups: list[list[str]] = []
        seen: set[str] = set()
        for indicator in table.indicators:
            columns = [c for c in indicator.components if c not in seen]
            seen.update(columns)
            if columns:
                groups.append(columns)
        frames = []
        for columns in groups:
            free = pd.Series(True, index=hierarchy.index)
            pieces = []
            for source, units, pure in layers:
                data = table.components[source].reindex(columns=columns)
                known = data.index[data.notna().all(axis=1).to_numpy()]
                busy = units[~free].dropna().unique()
                usable = _member(pure.index, known) & ~_member(pure.index, busy)
                chosen = pure.index[usable]
                if len(chosen):
                    pieces.append(data.loc[chosen].assign(_target=pure[chosen].to_numpy()))
                    free &= ~_member(units, chosen)
            covered = (~free[~orphan]).groupby(target[~orphan]).sum()
            if pieces:
                summed = pd.concat(pieces).groupby("_target")[columns].sum(min_count=1)
            else:
                summed = pd.DataFrame(columns=columns, dtype=float)
            summed = summed.reindex(covered.index)
            for column in columns:
                summed[f"{column}__n"] = covered
            frames.append(summed)
        out = pd.concat(frames, axis=1)
        out.index.name = "code"
        return out


def _member(values, pool) -> np.ndarray:
    """Vectorised ``values.isin(pool)`` through a hash index (fast on string codes)."""
    return pd.Index(pool).unique().get_indexer(pd.Index(values)) >= 0


def _value(frame: pd.DataFrame, code: str, column: str) -> float | None:
    try:
        value = frame.at[code, column]
    except KeyError:
        return None
    return None if pd.isna(value) else float(value)
