"""The numpy aggregation gives what the pandas groupby gave, on the real communes."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from territorial.indicators.aggregate import Grouping, aggregate, aggregate_with_groupby
from territorial.indicators.join import join_table, to_user_indicators
from territorial.indicators.store import AGGREGATION_LEVELS, IndicatorStore
from territorial.indicators.tables import read_table

RTOL = 1e-12  # float sums may differ from pandas' compensated sums in the last bits


@pytest.fixture(scope="module")
def store(geo):
    return IndicatorStore(geo)


def test_shipped_components_to_every_level_as_with_groupby(store):
    components = store._shipped["commune"]
    for level in AGGREGATION_LEVELS[1:]:
        mapping = store._mapping("commune", level)["parent"]
        grouping = Grouping.from_mapping(components.index, mapping)
        new, old = aggregate(components, grouping), aggregate_with_groupby(components, grouping)
        pd.testing.assert_frame_equal(new, old, check_exact=False, rtol=RTOL, atol=0)
        counts = [c for c in new.columns if c.endswith("__n") or c == "n_membres"]
        pd.testing.assert_frame_equal(new[counts], old[counts], check_exact=True)


def test_min_max_integers_and_rows_without_parent():
    components = pd.DataFrame(
        {
            "a": [1.5, np.nan, 3.0, 4.0, np.nan],
            "b__min": [2.0, 5.0, np.nan, 1.0, 7.0],
            "c__max": [2.0, np.nan, np.nan, 1.0, 7.0],
            "d": np.array([1, 2, 3, 4, 5], dtype=np.int64),
            "d__n": np.array([1, 1, 0, 1, 1], dtype=np.int64),
        },
        index=["c1", "c2", "c3", "c4", "c5"],
    )
    mapping = pd.Series(["Q", "P", "Q", None, "P"], index=components.index)
    grouping = Grouping.from_mapping(components.index, mapping)
    new = aggregate(components, grouping)
    pd.testing.assert_frame_equal(new, aggregate_with_groupby(components, grouping))
    assert new.loc["P", "a__n"] == 0 and np.isnan(new.loc["P", "a"])  # missing, not zero
    assert new.loc["P", "b__min"] == 5.0 and new.loc["Q", "n_membres"] == 2
    empty = Grouping.from_mapping(components.index, pd.Series(dtype=object))
    assert aggregate(components, empty).empty


def _user_csv(geo, seed: int = 7) -> bytes:
    """Every commune, a count and a rate (a few missing, one secret), French CSV."""
    rng = np.random.default_rng(seed)
    codes = geo.communes["code"].to_numpy()
    counts = rng.poisson(30, len(codes)).astype(str)
    rates = np.char.replace(rng.normal(40, 12, len(codes)).round(2).astype(str), ".", ",")
    rates[::97] = ""
    counts[5] = "s"
    lines = ["code_insee;Nombre d'équipements;Taux de couverture (%)"]
    lines += [f"{c};{n};{r}" for c, n, r in zip(codes, counts, rates, strict=True)]
    return ("\n".join(lines) + "\n").encode()


def test_user_table_sums_and_weighted_means_at_every_level(geo, store):
    raw = read_table(_user_csv(geo), "equipements.csv")
    result = join_table(raw, geo)
    population = geo.communes.set_index("code")["population"]
    table = to_user_indicators(result, "equipements", population)
    store.add(table)
    try:
        count_id, rate_id = (i.id for i in table.indicators)
        values = result.values.astype(float)
        weights = population.reindex(values.index).astype(float)
        frame = pd.DataFrame(
            {
                "n": values.iloc[:, 0],
                "wx": (values.iloc[:, 1] * weights).where(values.iloc[:, 1].notna()),
                "w": weights.where(values.iloc[:, 1].notna() & weights.notna()),
            }
        )
        hierarchy = geo.hierarchy().assign(france="FR")
        for level in AGGREGATION_LEVELS:
            got = store.values(level, "france")
            if level == "commune":
                expected = frame
            else:
                parents = hierarchy[level].reindex(frame.index).to_numpy()
                expected = frame.groupby(parents).sum(min_count=1)
            rate = expected["wx"] / expected["w"].where(expected["w"] != 0)
            np.testing.assert_allclose(
                got[count_id].reindex(expected.index), expected["n"], rtol=RTOL
            )
            np.testing.assert_allclose(got[rate_id].reindex(expected.index), rate, rtol=RTOL)
            assert got[count_id].notna().sum() == expected["n"].notna().sum(), level
    finally:
        store.remove("equipements")


def test_benchmark_table_report_is_unchanged(geo):
    """The join report of the benchmark's table, as the careful readers gave it."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.core import synthetic_csv

    raw = read_table(synthetic_csv(geo), "bench_35000.csv")
    report = join_table(raw, geo).report
    assert report.unmatched == [
        {"ligne": 34876 + i, "valeur": f"99{i:03d}", "raison": "code inconnu"}
        for i in range(1, 126)
    ]
    secret = {c: info["secret"] for c, info in report.columns.items() if info["secret"]}
    assert secret == {"Taux de couverture 10 (%)": 36}
    assert all(info["numeriques"] + info["secret"] == 35_000 for info in report.columns.values())
    assert report.summary_fr() == [
        "35\u202f000 lignes lues dans « bench_35000.csv » ; clé : colonne « code_insee » "
        "(codes de commune).",
        "34\u202f875 lignes rattachées à un territoire.",
        "125 lignes non rattachées — 125 : code inconnu.",
        "129 territoires hors de France métropolitaine : gardés, visibles avec le périmètre "
        "d'étude « France entière ».",
        "Colonne « Taux de couverture 10 (%) » : 36 valeurs secrètes, 0 vide et 0 non "
        "numérique, traitées comme manquantes.",
        "Couverture commune : 100,0 % de la population.",
        "Le tableau n'est PAS complet : voir les lignes non rattachées ci-dessus.",
    ]
