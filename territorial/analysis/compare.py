"""Side-by-side comparison of the 13 metropolitan régions and their gap to France.

Pure computations for the « Régions » page (never imports Streamlit): values of chosen
indicators for every région, a reference (France entière or France métropolitaine, both
computed from summed components, never as an average of régions), absolute and relative
gaps, and a plain-French sentence that describes a ranking (the text alternative of a chart).

A sum (population, superficie…) is never compared to France by a gap: a région is a part of
France, so its share of the reference is given instead.

Examples
--------
>>> from territorial import load_geography
>>> from territorial.indicators.store import IndicatorStore
>>> store = IndicatorStore(load_geography())
>>> table = region_comparison(store, ["densite"])
>>> len(table), list(table.columns)
(13, ['code', 'nom', 'densite'])
>>> gaps = versus_france(store, ["densite"]).set_index("code")
>>> row = gaps.loc["94"]
>>> bool(round(row["ecart"], 6) == round(row["valeur"] - row["reference"], 6))
True
>>> print(describe(table.set_index("nom")["densite"], store.catalogue["densite"],
...                reference=reference_values(store).loc["densite"]).replace("\u202f", " "))
Valeur la plus haute : Île-de-France (1 021,2 hab./km²) ; la plus basse : Corse (39,7 hab./km²). 7 régions sur 13 au-dessus de la France entière (105,8 hab./km²).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from territorial.indicators.catalogue import Indicator, aggregate_components, indicator_values
from territorial.text.formatting import format_number

__all__ = [
    "REFERENCES",
    "describe",
    "format_gap",
    "gap_unit",
    "is_additive",
    "reading",
    "reference_values",
    "region_comparison",
    "regions_side_by_side",
    "versus_france",
]

REFERENCES = {"france": "France entière", "metropole": "France métropolitaine"}


def is_additive(indicator: Indicator) -> bool:
    """True for a sum (population, superficie…): a gap to France means nothing for it.

    >>> from territorial.indicators.catalogue import load_catalogue
    >>> is_additive(load_catalogue()["population"]), is_additive(load_catalogue()["densite"])
    (True, False)
    """
    return indicator.rule == "somme"


def format_gap(value: float | None, decimals: int = 1) -> str:
    """A gap with its sign, French style; a gap that rounds to zero has none.

    >>> format_gap(2.345, 1), format_gap(-0.04, 1), format_gap(-1250.0, 0).replace("\u202f", " ")
    ('+2,3', '0,0', '-1 250')
    """
    text = format_number(value, decimals)
    if text == "–":
        return text
    if not text.lstrip("-").replace("0", "").replace(",", "").replace("\u202f", ""):
        return format_number(0.0, decimals)
    return f"+{text}" if value > 0 else text


def gap_unit(indicator: Indicator) -> str:
    """Unit of an absolute gap: percentage points for a percentage.

    >>> from territorial.indicators.catalogue import load_catalogue
    >>> gap_unit(load_catalogue()["part_maires_70_ans_plus"])
    'pts'
    """
    return "pts" if indicator.unit == "%" else indicator.unit


def reading(indicator: Indicator, gap: float) -> str:
    """How a gap to the reference reads, from the indicator's polarity.

    >>> from territorial.indicators.catalogue import load_catalogue
    >>> reading(load_catalogue()["part_maires_70_ans_plus"], 2.5)
    'plus fragile'
    >>> reading(load_catalogue()["densite"], 2.5)
    'moins fragile'
    """
    if gap is None or pd.isna(gap) or gap == 0 or indicator.polarity == "neutre":
        return ""
    high_is_fragile = indicator.polarity == "fragile_si_haut"
    return "plus fragile" if (gap > 0) == high_is_fragile else "moins fragile"


def _regions(store) -> pd.DataFrame:
    table = store.geo.table("region", "metropole")
    return table[["code", "nom"]].reset_index(drop=True)


def region_comparison(store, indicator_ids: list[str]) -> pd.DataFrame:
    """Values of ``indicator_ids`` for the 13 metropolitan régions.

    Parameters
    ----------
    store : IndicatorStore
        The indicator store (shipped and user indicators).
    indicator_ids : list of str
        Catalogue ids, in the order wanted for the columns.

    Returns
    -------
    pandas.DataFrame
        One row per région (COG order) with ``code``, ``nom`` and one float column per id.
    """
    regions = _regions(store)
    values = store.values("region", "metropole").reindex(regions["code"])
    out = regions.copy()
    for indicator_id in indicator_ids:
        out[indicator_id] = values[indicator_id].astype(float).to_numpy()
    return out


def reference_values(store, reference: str = "france") -> pd.Series:
    """Every indicator for the reference: France entière or France métropolitaine.

    The métropole value is computed from the summed components of its 13 régions (a ratio
    of sums, never a mean of régions), like every other level.

    >>> from territorial import load_geography
    >>> from territorial.indicators.store import IndicatorStore
    >>> store = IndicatorStore(load_geography())
    >>> int(reference_values(store, "metropole")["population"])
    65503471
    """
    if reference not in REFERENCES:
        raise ValueError(f"Référence inconnue : « {reference} »")
    if reference == "france":
        return store.values("france").loc["FR"].astype(float)
    codes = _regions(store)["code"].to_numpy()
    components = store.components("region").reindex(codes)
    mapping = pd.Series("FRM", index=components.index)
    summed = aggregate_components(components, mapping, store.catalogue)
    return indicator_values(summed, store.catalogue).loc["FRM"].astype(float)


def versus_france(store, indicator_ids: list[str], reference: str = "france") -> pd.DataFrame:
    """Each région against the reference, one row per région and indicator.

    Parameters
    ----------
    store : IndicatorStore
        The indicator store.
    indicator_ids : list of str
        Catalogue ids.
    reference : {"france", "metropole"}
        France entière (the store's ``FR``) or France métropolitaine.

    Returns
    -------
    pandas.DataFrame
        Columns ``code``, ``nom``, ``indicateur`` (id), ``valeur``, ``reference``,
        ``ecart`` (valeur − référence), ``ecart_pct`` (écart in % of the reference),
        ``part_pct`` (share of the reference, for sums only), ``rang`` (1 = highest value)
        and ``lecture`` (« plus fragile » / « moins fragile » from the polarity). For a sum,
        ``ecart`` and ``ecart_pct`` are missing and ``part_pct`` is given.
    """
    catalogue = store.catalogue
    table = region_comparison(store, indicator_ids)
    references = reference_values(store, reference)
    parts = []
    for indicator_id in indicator_ids:
        indicator = catalogue[indicator_id]
        value = table[indicator_id]
        ref = float(references.get(indicator_id, np.nan))
        additive = is_additive(indicator)
        gap = value - ref if not additive else pd.Series(np.nan, index=value.index)
        denominator = abs(ref) if ref and not np.isnan(ref) else np.nan
        parts.append(
            pd.DataFrame(
                {
                    "code": table["code"],
                    "nom": table["nom"],
                    "indicateur": indicator_id,
                    "valeur": value,
                    "reference": ref,
                    "ecart": gap,
                    "ecart_pct": gap / denominator * 100,
                    "part_pct": value / ref * 100 if additive and ref else np.nan,
                    "rang": value.rank(ascending=False, method="min").astype("Int64"),
                    "lecture": [reading(indicator, g) for g in gap],
                }
            )
        )
    columns = [
        "code",
        "nom",
        "indicateur",
        "valeur",
        "reference",
        "ecart",
        "ecart_pct",
        "part_pct",
        "rang",
        "lecture",
    ]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]


def regions_side_by_side(
    store, codes: list[str], indicator_ids: list[str] | None = None, reference: str = "france"
) -> pd.DataFrame:
    """Every indicator for a few régions side by side, with the reference and the gap.

    Parameters
    ----------
    store : IndicatorStore
        The indicator store.
    codes : list of str
        Two or more région codes, in the order wanted for the columns.
    indicator_ids : list of str, optional
        Indicators (rows); the whole catalogue by default.
    reference : {"france", "metropole"}
        The reference column.

    Returns
    -------
    pandas.DataFrame
        One row per indicator: ``id``, ``theme``, ``indicateur``, ``unite``, ``decimales``,
        one column per région (named by its name), ``reference`` and ``ecart``: the second
        région minus the first when two are compared, the highest minus the lowest
        otherwise (``attrs["ecart"]`` says which, in French).

    Examples
    --------
    >>> from territorial import load_geography
    >>> from territorial.indicators.store import IndicatorStore
    >>> store = IndicatorStore(load_geography())
    >>> table = regions_side_by_side(store, ["84", "93"], ["population"])
    >>> table.attrs["ecart"]
    "Écart Provence-Alpes-Côte d'Azur − Auvergne-Rhône-Alpes"
    >>> int(table.loc[0, "ecart"])
    -2986521
    """
    catalogue = store.catalogue
    ids = list(indicator_ids) if indicator_ids is not None else [i.id for i in catalogue]
    names = _regions(store).set_index("code")["nom"]
    codes = [c for c in codes if c in names.index]
    values = store.values("region", "metropole").reindex(codes)
    references = reference_values(store, reference)
    out = pd.DataFrame(
        {
            "id": ids,
            "theme": [catalogue[i].theme for i in ids],
            "indicateur": [catalogue[i].label for i in ids],
            "unite": [catalogue[i].unit for i in ids],
            "decimales": [catalogue[i].decimals for i in ids],
        }
    )
    for code in codes:
        out[names[code]] = values.loc[code, ids].astype(float).to_numpy()
    out["reference"] = [float(references.get(i, np.nan)) for i in ids]
    columns = [names[c] for c in codes]
    if len(columns) == 2:
        out["ecart"] = out[columns[1]] - out[columns[0]]
        out.attrs["ecart"] = f"Écart {columns[1]} − {columns[0]}"
    else:
        out["ecart"] = out[columns].max(axis=1) - out[columns].min(axis=1) if columns else np.nan
        out.attrs["ecart"] = "Écart entre la plus haute et la plus basse"
    return out


def describe(
    values: pd.Series,
    indicator: Indicator,
    reference: float | None = None,
    reference_label: str = REFERENCES["france"],
) -> str:
    """Plain-French summary of a ranking: highest, lowest, how many above the reference.

    ``values`` is indexed by région name. The count above the reference is left out for a
    sum (a région is always below France).
    """
    present = values.dropna()
    if present.empty:
        return f"Aucune valeur disponible pour « {indicator.label} »."
    unit = f" {indicator.unit}" if indicator.unit else ""

    def fmt(value: float) -> str:
        return f"{format_number(value, indicator.decimals)}{unit}"

    top, bottom = present.idxmax(), present.idxmin()
    text = (
        f"Valeur la plus haute : {top} ({fmt(present[top])}) ; "
        f"la plus basse : {bottom} ({fmt(present[bottom])})."
    )
    if reference is not None and not pd.isna(reference) and not is_additive(indicator):
        above = int((present > reference).sum())
        count = "Aucune région" if above == 0 else f"{above} région{'s' if above > 1 else ''}"
        text += f" {count} sur {len(present)} au-dessus de la {reference_label} ({fmt(reference)})."
    return text
