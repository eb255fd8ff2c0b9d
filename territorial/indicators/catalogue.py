"""The indicator catalogue and the aggregation of indicators from one level to coarser ones.

Every indicator is computed from additive *components* (counts, numerators, denominators,
weighted sums) kept at each level, so a rate is always the ratio of summed quantities and
never an average of rates.

Examples
--------
>>> catalogue = load_catalogue()
>>> catalogue["densite"].rule
'ratio'
>>> import pandas as pd
>>> components = pd.DataFrame(
...     {"population": [100.0, 300.0], "superficie_km2": [10.0, 10.0]}, index=["a", "b"]
... )
>>> float(catalogue["densite"].compute(components.sum().to_frame().T).iloc[0])
20.0
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from territorial.indicators.aggregate import Grouping, aggregate
from territorial.paths import DATA_DIR

__all__ = [
    "CATALOGUE_PATH",
    "INDICATOR_DIR",
    "POLARITIES",
    "RULES",
    "Catalogue",
    "Indicator",
    "aggregate_components",
    "indicator_values",
    "load_catalogue",
    "parent_mapping",
]

INDICATOR_DIR = DATA_DIR / "indicators"
CATALOGUE_PATH = INDICATOR_DIR / "catalogue.toml"
RULES = {
    "somme": "somme",
    "ratio": "ratio de deux sommes",
    "part": "part (ratio de deux sommes, en %)",
    "moyenne_ponderee": "moyenne pondérée",
    "min": "minimum",
    "max": "maximum",
    "evolution_annuelle": "taux d'évolution annuel moyen entre deux sommes",
    "categorie": "classe majoritaire (part de la population de chaque classe)",
}
POLARITIES = {
    "fragile_si_haut": "une valeur haute signale une fragilité",
    "fragile_si_bas": "une valeur basse signale une fragilité",
    "neutre": "ni haut ni bas n'est une fragilité",
}
_ATTRIBUTES = {
    "libelle": "label",
    "definition": "definition",
    "unite": "unit",
    "theme": "theme",
    "polarite": "polarity",
    "regle": "rule",
    "numerateur": "numerator",
    "denominateur": "denominator",
    "poids": "weight",
    "composante": "component",
    "echelle": "scale",
    "decimales": "decimals",
    "source": "source",
    "millesime": "vintage",
    "licence": "licence",
    "methode": "method",
    "periode": "period",
    "categories": "categories",
    "estimation": "estimate",
    "niveaux_exacts": "exact_levels",
}


@dataclass(frozen=True)
class Indicator:
    """One indicator of the catalogue (see ``data/indicators/catalogue.toml``)."""

    id: str
    label: str
    unit: str
    theme: str
    polarity: str
    rule: str
    definition: str = ""
    numerator: str | None = None
    denominator: str | None = None
    weight: str | None = None
    component: str | None = None
    scale: float = 1.0
    decimals: int = 1
    source: str = ""
    vintage: str = ""
    licence: str = ""
    method: str = ""
    period: float | None = None  # years, for ``evolution_annuelle``
    categories: tuple[str, ...] = ()  # class labels, for ``categorie`` (value = position)
    estimate: str = ""  # how the value is estimated above ``exact_levels`` (French)
    exact_levels: tuple[str, ...] = ("commune",)
    origin: str = "catalogue"  # or the name of a user table

    def __post_init__(self):
        if self.rule not in RULES:
            raise ValueError(f"Règle d'agrégation inconnue pour {self.id} : « {self.rule} »")
        if self.polarity not in POLARITIES:
            raise ValueError(f"Polarité inconnue pour {self.id} : « {self.polarity} »")
        if self.rule in {"ratio", "part"} and not (self.numerator and self.denominator):
            raise ValueError(
                f"{self.id} : une règle {self.rule} demande numérateur et dénominateur"
            )
        if self.rule == "moyenne_ponderee" and not self.weight:
            raise ValueError(f"{self.id} : une moyenne pondérée demande un poids")
        if self.rule == "evolution_annuelle" and not (
            self.numerator and self.denominator and self.period
        ):
            raise ValueError(
                f"{self.id} : une évolution annuelle demande deux sommes et une période"
            )
        if self.rule == "categorie" and not self.categories:
            raise ValueError(f"{self.id} : une typologie demande la liste de ses classes")
        object.__setattr__(self, "categories", tuple(self.categories))
        object.__setattr__(self, "exact_levels", tuple(self.exact_levels))

    @property
    def is_categorical(self) -> bool:
        """True for a typology (its value is the position of a class in ``categories``)."""
        return self.rule == "categorie"

    def category_label(self, value: float) -> str | None:
        """Label of a class position (1-based), None when missing.

        >>> Indicator("t", "T", "", "x", "neutre", "categorie", categories=("a", "b"),
        ...           ).category_label(2.0)
        'b'
        """
        if value != value or not self.categories:
            return None
        return self.categories[int(value) - 1]

    def shares(self, components: pd.DataFrame) -> pd.DataFrame:
        """Share (0–100) of the population in each class, one column per label."""
        columns = self.components
        total = components[columns].sum(axis=1, min_count=1)
        shares = components[columns].div(total.where(total > 0), axis=0) * 100
        shares.columns = list(self.categories)
        return shares

    @property
    def components(self) -> list[str]:
        """Additive columns this indicator needs at every level."""
        if self.rule in {"ratio", "part", "evolution_annuelle"}:
            return [self.numerator, self.denominator]
        if self.rule == "categorie":
            return [f"{self.id}__{k}" for k in range(1, len(self.categories) + 1)]
        if self.rule == "moyenne_ponderee":
            return [f"{self.id}__somme_ponderee", f"{self.id}__poids"]
        if self.rule in {"min", "max"}:
            return [f"{self.id}__{self.rule}"]
        return [self.id]

    def commune_components(
        self, values: pd.Series, weights: pd.Series | None = None
    ) -> pd.DataFrame:
        """Components at the finest level from the indicator's own values.

        Only for rules whose components are derived from the value itself (sum, weighted
        mean, min, max); ratio components are given directly by the source.
        """
        if self.rule == "moyenne_ponderee" and weights.index.equals(values.index):
            given = values.to_numpy(dtype=np.float64, na_value=np.nan)
            weight = weights.to_numpy(dtype=np.float64, na_value=np.nan)
            present = ~np.isnan(given) & ~np.isnan(weight)
            return pd.DataFrame(
                {
                    f"{self.id}__somme_ponderee": np.where(present, given * weight, np.nan),
                    f"{self.id}__poids": np.where(present, weight, np.nan),
                },
                index=values.index,
            )
        if self.rule == "moyenne_ponderee":  # pandas aligns the two indexes
            present = values.notna() & weights.notna()
            return pd.DataFrame(
                {
                    f"{self.id}__somme_ponderee": (values * weights).where(present),
                    f"{self.id}__poids": weights.where(present),
                }
            )
        if self.rule in {"min", "max"}:
            return pd.DataFrame({f"{self.id}__{self.rule}": values})
        if self.rule == "categorie":  # values: class positions; weights: population
            known = values.notna() & weights.notna()
            return pd.DataFrame(
                {
                    column: weights.where(values == k, 0.0).where(known)
                    for k, column in enumerate(self.components, start=1)
                }
            )
        return pd.DataFrame({self.id: values})

    def compute(self, components: pd.DataFrame) -> pd.Series:
        """Indicator values from components at any level."""
        if self.rule in {"ratio", "part"}:
            value = _divide(components, self.numerator, self.denominator) * self.scale
            return pd.Series(value, index=components.index, name=self.id)
        if self.rule == "moyenne_ponderee":
            value = _divide(components, f"{self.id}__somme_ponderee", f"{self.id}__poids")
            return pd.Series(value, index=components.index, name=self.id)
        if self.rule == "evolution_annuelle":
            start = components[self.denominator].astype(float)
            ratio = components[self.numerator] / start.where(start > 0)
            return ((ratio ** (1 / self.period) - 1) * 100).rename(self.id)
        if self.rule == "categorie":
            counts = components[self.components].astype(float)
            known = counts.sum(axis=1, min_count=1) > 0
            position = counts.fillna(-1).to_numpy().argmax(axis=1) + 1.0
            return pd.Series(position, index=components.index).where(known).rename(self.id)
        return pd.Series(_floats(components, self.components[0]), components.index, name=self.id)

    @property
    def rule_label(self) -> str:
        label = RULES[self.rule]
        if self.rule == "moyenne_ponderee":
            return f"{label} par {self.weight}"
        return label


def _floats(components: pd.DataFrame, column: str) -> np.ndarray:
    return components[column].to_numpy(dtype=np.float64, na_value=np.nan)


def _divide(components: pd.DataFrame, numerator: str, denominator: str) -> np.ndarray:
    """``numerator / denominator`` of two columns, missing where the denominator is 0."""
    total = _floats(components, denominator)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _floats(components, numerator) / np.where(total != 0, total, np.nan)


@dataclass
class Catalogue:
    """Indicators by id, in catalogue order."""

    indicators: dict[str, Indicator] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Indicator:
        return self.indicators[key]

    def __contains__(self, key: str) -> bool:
        return key in self.indicators

    def __iter__(self):
        return iter(self.indicators.values())

    def __len__(self) -> int:
        return len(self.indicators)

    def with_indicators(self, extra: list[Indicator]) -> Catalogue:
        """A new catalogue with user indicators appended (ids must not clash)."""
        merged = dict(self.indicators)
        for indicator in extra:
            merged[indicator.id] = indicator
        return Catalogue(merged)

    def themes(self) -> dict[str, list[Indicator]]:
        """Indicators grouped by theme, for pickers."""
        grouped: dict[str, list[Indicator]] = {}
        for indicator in self:
            grouped.setdefault(indicator.theme, []).append(indicator)
        return grouped

    def components(self) -> list[str]:
        """Every additive component needed by the catalogue, without duplicates."""
        return list(dict.fromkeys(c for i in self for c in i.components))

    def to_records(self) -> list[dict]:
        """JSON-ready description of every indicator (French keys, as in the TOML file)."""
        reverse = {v: k for k, v in _ATTRIBUTES.items()}
        return [
            {
                "id": i.id,
                **{
                    reverse[k]: getattr(i, k)
                    for k in reverse
                    if getattr(i, k) not in (None, "", ())
                },
            }
            for i in self
        ]


def load_catalogue(path: Path = CATALOGUE_PATH) -> Catalogue:
    """Read the catalogue file."""
    entries = tomllib.loads(Path(path).read_text(encoding="utf-8"))["indicateur"]
    indicators = {}
    for entry in entries:
        kwargs = {_ATTRIBUTES[k]: v for k, v in entry.items() if k in _ATTRIBUTES}
        for key in ("categories", "exact_levels"):
            if key in kwargs:
                kwargs[key] = tuple(kwargs[key])
        indicators[entry["id"]] = Indicator(id=entry["id"], **kwargs)
    return Catalogue(indicators)


def parent_mapping(
    hierarchy: pd.DataFrame, child: str, parent: str, weights: pd.Series
) -> pd.DataFrame:
    """Map each ``child`` unit to one ``parent`` unit.

    Communes map exactly. A coarser unit whose communes span several parents (an EPCI on
    two départements, say) goes to the parent holding most of its population, and is
    listed with ``a_cheval=True``: its values are never split.

    Returns a frame indexed by child code with columns ``parent`` and ``a_cheval``.
    """
    if child == "commune":
        frame = pd.DataFrame({"parent": hierarchy[parent]})
        frame["a_cheval"] = False
        return frame
    pairs = hierarchy[[child, parent]].assign(w=weights.reindex(hierarchy.index).fillna(0))
    grouped = pairs.groupby([child, parent])["w"].sum().reset_index()
    grouped = grouped.sort_values([child, "w", parent], ascending=[True, False, True])
    chosen = grouped.drop_duplicates(child).set_index(child)[parent]
    spread = grouped.groupby(child)[parent].nunique()
    return pd.DataFrame({"parent": chosen, "a_cheval": spread.reindex(chosen.index) > 1})


def aggregate_components(
    components: pd.DataFrame, mapping: pd.Series, catalogue: Catalogue | None = None
) -> pd.DataFrame:
    """Aggregate component columns from child units to parents (``mapping``: child → parent).

    Additive components are summed (a parent with no member value stays missing, never
    zero); ``__min`` / ``__max`` components take the min / max. Two bookkeeping columns are
    added: ``n_membres`` and, per component, the number of members with a value
    (``<component>__n``). See :func:`territorial.indicators.aggregate.aggregate`.
    """
    return aggregate(components, Grouping.from_mapping(components.index, mapping))


def indicator_values(components: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """Every catalogue indicator computed from components (missing where a component is)."""
    values = []
    for indicator in catalogue:
        try:
            values.append(indicator.compute(components).to_numpy(dtype=np.float64))
        except KeyError:
            values.append(np.full(len(components), np.nan))
    table = np.column_stack(values) if values else np.zeros((len(components), 0))
    ids = [indicator.id for indicator in catalogue]
    return pd.DataFrame(table, index=components.index, columns=ids)
