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

import pandas as pd

from territorial.geography import Geography
from territorial.indicators import (
    INDICATOR_DIR,
    Catalogue,
    Indicator,
    aggregate_components,
    indicator_values,
    load_catalogue,
    parent_mapping,
)

__all__ = ["AGGREGATION_LEVELS", "IndicatorStore", "UserIndicators"]

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
        self._cache: dict = {}

    # ------------------------------------------------------------------ catalogue
    @property
    def catalogue(self) -> Catalogue:
        """The shipped catalogue plus every user indicator."""
        extra = [i for table in self.user_tables.values() for i in table.indicators]
        return self.base_catalogue.with_indicators(extra)

    def add(self, table: UserIndicators) -> None:
        """Register (or replace) a user table's indicators."""
        self.user_tables[table.name] = table
        self._cache.clear()

    def remove(self, name: str) -> None:
        self.user_tables.pop(name, None)
        self._cache.clear()

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
            mapping = self._mapping(table.level, level)["parent"]
            self._cache[key] = aggregate_components(table.components, mapping, self.catalogue)
        return self._cache[key]

    def components(self, level: str) -> pd.DataFrame:
        """All components at a level (every unit of France), user tables included."""
        frames = [self._base_components(level)]
        for table in self.user_tables.values():
            user = self._user_components(table, level)
            if user is not None:
                frames.append(user.drop(columns=["n_membres"], errors="ignore"))
        return pd.concat(frames, axis=1) if len(frames) > 1 else frames[0]

    # ------------------------------------------------------------------ values
    def values(self, level: str, scope: str | None = "metropole") -> pd.DataFrame:
        """Indicator values for the units of ``level`` within ``scope``."""
        key = ("values", level, self.geo.perimeters_hash, tuple(self.user_tables))
        if key not in self._cache:
            self._cache[key] = indicator_values(self.components(level), self.catalogue)
        values = self._cache[key]
        if level == "france":
            return values
        codes = self.geo.table(level, scope)["code"]
        return values.reindex(codes.to_numpy())

    def coverage(self, level: str, indicator: Indicator) -> pd.Series:
        """Share (0–1) of each unit's members that have the indicator's data."""
        components = self.components(level)
        first = indicator.components[-1]
        counted = components.get(f"{first}__n")
        if counted is None:
            return pd.Series(1.0, index=components.index)
        return (counted / components["n_membres"]).clip(upper=1.0)

    def reference(self, indicator_id: str, level: str, code: str) -> dict[str, float | None]:
        """Value of the unit, of its département, its région and France side by side."""
        out = {level: _value(self.values(level, "france"), code, indicator_id)}
        for parent, (parent_code, _) in self.geo.parents(level, code).items():
            if parent in {"departement", "region"}:
                out[parent] = _value(self.values(parent, "france"), parent_code, indicator_id)
        out["france"] = _value(self.values("france"), "FR", indicator_id)
        return out


def _value(frame: pd.DataFrame, code: str, column: str) -> float | None:
    try:
        value = frame.at[code, column]
    except KeyError:
        return None
    return None if pd.isna(value) else float(value)
