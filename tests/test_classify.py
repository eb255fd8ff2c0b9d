"""Map classes: few-valued indicators, whole numbers, the reason for fewer classes than asked."""

import pandas as pd

from territorial.analysis.classify import classify, difference_unit, display_decimals


def test_a_two_valued_indicator_gets_one_class_per_value_and_says_why():
    values = pd.Series([0.0] * 30 + [100.0] * 12 + [None])
    result = classify(values, "quantiles", k=5)
    assert result.ranges() == [(0.0, 0.0), (100.0, 100.0)]
    assert result.counts == [30, 12]
    assert result.classes.tolist()[-1] == -1
    assert result.shortfall.startswith("5 classes demandées, 2 possibles : ")
    assert "ne prend que 2 valeurs distinctes" in result.shortfall
    for method in ("jenks", "egal"):
        assert classify(values, method, k=5).ranges() == [(0.0, 0.0), (100.0, 100.0)]


def test_ties_that_merge_quantile_breaks_are_explained():
    values = pd.Series([0.0] * 70 + [float(i) + 0.5 for i in range(30)])
    result = classify(values, "quantiles", k=5)
    assert result.k < 5
    assert "même valeur" in result.shortfall
    assert classify(pd.Series(range(100), dtype=float), k=5).shortfall is None
    assert classify(values, "manuel", k=5, breaks=[10]).shortfall is None  # the user's own


def test_whole_numbers_get_whole_class_bounds():
    counts = pd.Series([1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 20, 30], dtype=float)
    result = classify(counts, "quantiles", k=3)
    lows, highs = zip(*result.ranges(), strict=True)
    assert all(v == int(v) for v in lows + highs)
    assert lows[0] == 1 and highs[-1] == 30
    assert all(high < low for high, low in zip(highs, lows[1:], strict=False))  # no overlap
    for low, high, i in zip(lows, highs, range(result.k), strict=True):
        members = counts[result.classes == i]
        assert members.min() == low and members.max() == high
    assert display_decimals(counts, 2) == 0
    assert display_decimals(counts / 3, 2) == 2


def test_a_gap_between_percentages_is_in_points():
    assert difference_unit("%") == "pts"
    assert difference_unit("hab.") == "hab."
