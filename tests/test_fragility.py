"""Priority territorial fragilities: hand-checked tiny cases, then the real store."""

import json

import numpy as np
import pandas as pd
import pytest

from territorial.analysis.fragility import fragility
from territorial.analysis.fragility_cli import cli_fragility
from territorial.analysis.presets import (
    DEFAULT_MAX_MISSING,
    NO_PRIORITY_TEXT,
    PRESETS,
    FragilityError,
    available_presets,
    find_preset,
)
from territorial.analysis.scoring import percentile_ranks
from territorial.geo.geography import load_geography, parse_scope
from territorial.indicators.catalogue import Catalogue, Indicator, load_catalogue
from territorial.indicators.store import IndicatorStore


# ---------------------------------------------------------------------------- fake store
def _indicator(id_, label, polarity, unit="km"):
    return Indicator(id=id_, label=label, unit=unit, theme="Test", polarity=polarity, rule="somme")


CATALOGUE = Catalogue(
    {
        i.id: i
        for i in [
            _indicator("haut", "Indicateur haut", "fragile_si_haut"),
            _indicator("bas", "Indicateur bas", "fragile_si_bas", unit="%"),
            _indicator("trois", "Indicateur trois", "fragile_si_haut"),
            _indicator("quatre", "Indicateur quatre", "fragile_si_haut"),
            _indicator("neutre", "Indicateur neutre", "neutre"),
            _indicator("u_mes__neutre", "Ma colonne", "neutre"),
            _indicator("u_mes__col", "Ma colonne orientée", "fragile_si_haut"),
        ]
    }
)
REGIONS = pd.DataFrame({"code": ["R1", "R2"], "nom": ["Nord", "Sud"]})


class FakeGeo:
    def __init__(self, units: pd.DataFrame):
        self.units = units

    def table(self, level, scope="metropole"):
        if level == "region":
            return REGIONS
        kind, code = parse_scope(scope)
        if kind == "region":
            return self.units[self.units["region"] == code]
        return self.units


class FakeStore:
    """Units A, B, C, D... in régions R1 (first half) and R2; France and région values."""

    def __init__(self, data: dict, regions=None, catalogue=CATALOGUE):
        frame = pd.DataFrame(data, dtype=float)
        codes = list(frame.index)
        regions = regions or ["R1" if k < len(codes) / 2 else "R2" for k in range(len(codes))]
        self.geo = FakeGeo(
            pd.DataFrame({"code": codes, "nom": [f"Unité {c}" for c in codes], "region": regions})
        )
        self.data = frame
        self.catalogue = catalogue
        self.regions = frame.groupby(regions).mean()
        self.france = frame.mean().to_frame("FR").T

    def values(self, level, scope="metropole"):
        if level == "france":
            return self.france
        if level == "region":
            return self.regions
        return self.data.reindex(self.geo.table(level, scope)["code"].to_numpy())

    def is_estimate(self, indicator_id, level):
        return False  # every value of the fake store is given, none estimated

    def reference(self, indicator_id, level, code):
        region = self.geo.units.set_index("code").at[code, "region"]
        return {
            level: float(self.data.at[code, indicator_id]),
            "region": float(self.regions.at[region, indicator_id]),
            "france": float(self.france.at["FR", indicator_id]),
        }


ABCD = list("ABCD")


def _abcd(values):
    return dict(zip(ABCD, values, strict=True))


@pytest.fixture
def two():
    # haut: A 87.5, B 62.5, C 37.5, D 12.5; bas (oriented): A 87.5, B 12.5, C 37.5, D 62.5
    return FakeStore({"haut": _abcd([4, 3, 2, 1]), "bas": _abcd([10, 40, 30, 20])})


def _col(result, name):
    return result.table[name].to_dict()


# ---------------------------------------------------------------------------- percentiles
def test_percentile_ranks_are_average_ranks():
    s = pd.Series([1.0, 2.0, 2.0, 4.0, np.nan], index=list("abcde"))
    assert percentile_ranks(s).round(6).tolist()[:4] == [12.5, 50.0, 50.0, 87.5]
    assert np.isnan(percentile_ranks(s)["e"])


def test_polarity_flip(two):
    result = fragility(two, "epci", indicators=["haut", "bas"])
    assert _col(result, "pct__haut") == {"A": 87.5, "B": 62.5, "C": 37.5, "D": 12.5}
    assert _col(result, "pct__bas") == {"A": 87.5, "B": 12.5, "C": 37.5, "D": 62.5}


def test_equal_scores_are_ranked_by_code(two):
    result = fragility(two, "epci", indicators=["haut", "bas"])
    assert _col(result, "score") == {"A": 87.5, "B": 37.5, "C": 37.5, "D": 37.5}
    assert list(result.table.index) == ["A", "B", "C", "D"]
    assert result.table["rang"].tolist() == [1, 2, 3, 4]
    assert result.table["rang_texte"].tolist() == ["1er / 4", "2e / 4", "3e / 4", "4e / 4"]


def test_input_order_does_not_change_the_result(two):
    shuffled = FakeStore(
        two.data.loc[["D", "B", "A", "C"]].to_dict(), regions=["R2", "R1", "R1", "R2"]
    )
    first = fragility(two, "epci", indicators=["haut", "bas"]).table
    second = fragility(shuffled, "epci", indicators=["haut", "bas"]).table
    pd.testing.assert_frame_equal(first, second)


@pytest.mark.parametrize(
    ("weights", "expected", "order"),
    [
        ([3, 1], {"A": 87.5, "B": 50.0, "C": 37.5, "D": 25.0}, "ABCD"),
        ({"haut": 1, "bas": 3}, {"A": 87.5, "B": 25.0, "C": 37.5, "D": 50.0}, "ADCB"),
    ],
)
def test_weights(two, weights, expected, order):
    result = fragility(two, "epci", indicators=["haut", "bas"], weights=weights)
    assert _col(result, "score") == expected
    assert "".join(result.table.index) == order
    assert sum(result.weights.values()) == pytest.approx(1)


def test_missing_data_renormalises_then_removes_the_score():
    store = FakeStore(
        {
            "haut": _abcd([4, 3, 2, 1]),
            "bas": _abcd([10, 40, 30, 20]),
            "trois": _abcd([1, 2, 3, np.nan]),
        }
    )
    ids = ["haut", "bas", "trois"]
    result = fragility(store, "epci", indicators=ids)
    assert pytest.approx(1 / 3) == DEFAULT_MAX_MISSING
    d = result.table.loc["D"]
    assert d["score"] == 37.5  # mean of 12.5 and 62.5: weights spread over the two present
    assert d["couverture"] == pytest.approx(2 / 3)
    assert d["sans_score_raison"] == ""
    stricter = fragility(store, "epci", indicators=ids, max_missing=0.2).table.loc["D"]
    assert np.isnan(stricter["score"]) and pd.isna(stricter["rang"])
    assert stricter["sans_score_raison"] == "Données manquantes : Indicateur trois"
    assert stricter["rang_texte"] == "–"
    heavy = fragility(store, "epci", indicators=ids, weights=[1, 1, 2])
    assert heavy.table.index[-1] == "D"  # units without a score come last
    assert heavy.coverage["n_sans_score"] == 1 and heavy.coverage["n_scores"] == 3
    assert heavy.coverage["par_indicateur"]["trois"] == 0.75
    assert heavy.table["rang_texte"].iloc[0] == "1er / 3"


def test_reference_region_changes_percentiles(two):
    france = fragility(two, "epci", indicators=["haut"])
    region = fragility(two, "epci", indicators=["haut"], reference="region")
    assert _col(france, "pct__haut") == {"A": 87.5, "B": 62.5, "C": 37.5, "D": 12.5}
    assert _col(region, "pct__haut") == {"A": 75.0, "B": 25.0, "C": 75.0, "D": 25.0}
    assert "de sa région" in region.method_note


def test_priorities_top_three_in_order_with_catalogue_tie_break():
    store = FakeStore(
        {
            "quatre": _abcd([4, 1, 2, 3]),  # A 87.5
            "bas": _abcd([1, 2, 3, 4]),  # A 87.5 (low = fragile)
            "haut": _abcd([4, 3, 2, 1]),  # A 87.5
            "trois": _abcd([3, 1, 2, 4]),  # A 62.5
        }
    )
    result = fragility(store, "epci", indicators=["quatre", "bas", "haut", "trois"])
    # three ties at 87.5 go in catalogue order (haut, bas, ..., quatre); trois is 4th
    assert [p["indicator"] for p in result.priorities["A"]] == ["haut", "bas", "quatre"]
    row = result.table.loc["A"]
    assert [row["priorite_1"], row["priorite_2"], row["priorite_3"]] == ["haut", "bas", "quatre"]
    # C: haut 37.5, bas 37.5, quatre 37.5, trois 37.5 -> nothing above the median
    assert result.priorities["C"] == []
    assert result.table.loc["C", "priorite_1"] == ""
    assert result.table.loc["C", "priorites_texte"] == NO_PRIORITY_TEXT
    # B: only quatre at 12.5, bas 62.5, haut 62.5, trois 12.5 -> two priorities
    assert [p["indicator"] for p in result.priorities["B"]] == ["haut", "bas"]


def test_priority_details_and_sentence(two):
    result = fragility(two, "epci", indicators=["haut", "bas"])
    first = result.priorities["A"][0]
    assert first["indicator"] == "haut" and first["percentile"] == 87.5
    assert first["valeur"] == 4.0 and first["reference_france"] == 2.5
    assert first["reference_region"] == 3.5  # mean of A and B, the fake région value
    assert first["reference_region"] == two.reference("haut", "epci", "A")["region"]
    assert first["ecart_texte"] == (
        "Indicateur haut : 4,0 km contre 2,5 km en France (plus fragile que 87 % des EPCI)"
    )
    regional = fragility(two, "epci", indicators=["haut"], reference="region")
    assert regional.priorities["C"][0]["ecart_texte"] == (
        "Indicateur haut : 2,0 km contre 1,5 km dans la région Sud "
        "(plus fragile que 75 % des EPCI de sa région)"
    )


def test_quintile_classes():
    codes = [f"U{k:02d}" for k in range(10)]
    store = FakeStore({"haut": dict(zip(codes, range(1, 11), strict=True))})
    result = fragility(store, "commune", indicators=["haut"])
    assert result.table["score"].tolist() == [
        95.0,
        85.0,
        75.0,
        65.0,
        55.0,
        45.0,
        35.0,
        25.0,
        15.0,
        5.0,
    ]
    assert result.table["classe"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert result.table["classe_libelle"].iloc[0] == "Très fragile"
    assert result.table["classe_libelle"].iloc[-1] == "Peu fragile"
    assert (
        str(result.table["classe"].dtype) == "Int64" and str(result.table["rang"].dtype) == "Int64"
    )


def test_user_indicators_and_refusals(two):
    two.data["u_mes__col"] = [1.0, 2.0, 3.0, 4.0]
    assert fragility(two, "epci", indicators=["u_mes__col"]).table.index[0] == "D"
    with pytest.raises(FragilityError, match="neutre"):
        fragility(two, "epci", indicators=["haut", "neutre"])
    with pytest.raises(FragilityError, match="polarité"):
        fragility(two, "epci", indicators=["u_mes__neutre"])
    with pytest.raises(FragilityError, match="Indicateur inconnu : « nope »"):
        fragility(two, "epci", indicators=["nope"])
    with pytest.raises(FragilityError, match="2 poids pour 1"):
        fragility(two, "epci", indicators=["haut"], weights=[1, 2])
    with pytest.raises(FragilityError, match="positifs"):
        fragility(two, "epci", indicators=["haut", "bas"], weights=[1, -1])
    with pytest.raises(FragilityError, match="régions"):
        fragility(two, "region", indicators=["haut"], reference="region")


def test_to_dict_is_json_safe(two):
    two.data.loc["D", "haut"] = np.nan
    payload = fragility(two, "epci", indicators=["haut", "bas"], max_missing=0.1).to_dict()
    text = json.dumps(payload, allow_nan=False)
    assert json.loads(text)["table"][-1]["score"] is None


def test_available_presets_drop_missing_indicators():
    shipped = available_presets(load_catalogue())
    assert "Pauvreté et emploi (données téléchargées)" not in shipped
    assert shipped["Dynamique démographique"].missing == ("part_75_ans_plus",)
    assert "écartés" in shipped["Dynamique démographique"].description_fr
    overview = shipped["Vue d'ensemble"].indicators
    assert {"taux_pauvrete_2021", "revenu_median_2021", "taux_chomage_15_64_2021"} <= set(overview)
    governance = {"heures_mairie_pour_1000_hab", "age_moyen_maires", "part_maires_70_ans_plus"}
    assert not governance & set(overview)  # governance is not fragility by default
    for name in ("Pauvreté et revenus", "Emploi", "Dynamique démographique"):
        assert shipped[name].indicators and not shipped[name].description_fr.count("écartés") > 1
    official = load_catalogue().with_indicators(
        [
            _indicator("taux_pauvrete", "Taux de pauvreté", "fragile_si_haut", "%"),
            _indicator("revenu_median", "Niveau de vie médian", "fragile_si_bas", "€"),
        ]
    )
    presets = available_presets(official)
    downloaded = presets["Pauvreté et emploi (données téléchargées)"]
    assert downloaded.indicators == ("taux_pauvrete", "revenu_median")
    assert set(PRESETS["Isolement et accès aux services"].indicators) == {
        "distance_pole_10000_km",
        "part_pop_communes_moins_2000",
        "densite",
    }
    assert find_preset("GOUVERNANCE locale", official).name == "Gouvernance locale"
    with pytest.raises(FragilityError, match="télécharger"):
        find_preset("Pauvreté et emploi (données téléchargées)", load_catalogue())


def test_saint_etienne_priorities_come_from_income_poverty_employment_or_demography():
    store = IndicatorStore(load_geography())
    result = fragility(store, "commune", "departement:42")
    themes = {store.catalogue[p["indicator"]].theme for p in result.priorities["42218"]}
    assert themes and themes <= {"Revenus et pauvreté", "Emploi", "Démographie"}


def test_crte_perimeters_are_ranked(cli_json):
    payload = cli_json("fragility", "--level", "perimetre")
    assert payload["jeu"] == "Vue d'ensemble"
    assert len(payload["table"]) == 832 and payload["table"][0]["rang_texte"] == "1er / 832"
    assert all(row["code"].startswith("crte-") for row in payload["table"])


# ---------------------------------------------------------------------------- real store
@pytest.fixture(scope="module")
def store(geo):
    return IndicatorStore(geo)


@pytest.fixture(scope="module")
def isolement(store):
    return fragility(store, "epci", preset="Isolement et accès aux services")


def test_epci_isolement_ranks_every_metropolitan_epci(store, isolement):
    table = isolement.table
    assert len(table) == 1234 and isolement.coverage["n_scores"] == 1234
    assert table["rang"].tolist() == list(range(1, 1235))
    assert table["rang_texte"].iloc[0] == "1er / 1\u202f234"
    assert table["score"].is_monotonic_decreasing
    assert table["classe"].value_counts().between(240, 255).all()
    again = fragility(store, "epci", preset="Isolement et accès aux services")
    pd.testing.assert_frame_equal(table, again.table)
    assert again.priorities == isolement.priorities


def test_real_priorities_match_store_reference(store, isolement):
    code = isolement.table.index[0]
    entry = isolement.priorities[code][0]
    reference = store.reference(entry["indicator"], "epci", code)
    assert entry["valeur"] == pytest.approx(reference["epci"])
    assert entry["reference_region"] == pytest.approx(reference["region"])
    assert entry["reference_france"] == pytest.approx(reference["france"])
    assert "en France (plus fragile que" in entry["ecart_texte"]


def test_method_note_names_indicators_and_rules(isolement, store):
    note = isolement.method_note.replace("\u202f", " ")
    for indicator_id in isolement.indicators:
        assert store.catalogue[indicator_id].label in note
        assert indicator_id not in note  # « en clair »: labels, never identifiers
    assert "(rang moyen − 0,5)" in note and "quintiles" in note and "1 234 EPCI" in note


def test_communes_of_loire(store, geo):
    result = fragility(store, "commune", "departement:42", reference="region")
    assert len(result.table) == len(geo.table("commune", "departement:42"))
    assert result.table.index.str.startswith("42").all()
    n = result.coverage["n_scores"]
    assert result.table["rang_texte"].iloc[0] == f"1er / {n}"
    first = result.priorities[result.table.index[0]][0]
    assert first["ecart_texte"].endswith("des communes du département)")


def test_cli_json(capsys):
    code = cli_fragility(
        "departement", "metropole", None, "1,2,1,1", "Gouvernance locale", "france", True
    )
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert len(payload["table"]) == 96
    assert payload["poids"]["age_moyen_maires"] == pytest.approx(0.4)  # 2 / (1 + 2 + 1 + 1)


def test_cli_text_and_errors(capsys):
    assert cli_fragility("region", "metropole", "densite", None, None, "france", False, 3) == 0
    out = capsys.readouterr().out
    assert "1er / 13" in out and "10 autres territoires" in out and "rang moyen" in out
    assert cli_fragility("epci", "metropole", "inconnu", None, None, "france", True) == 2
    captured = capsys.readouterr()
    assert "Indicateur inconnu" in captured.err and "Traceback" not in captured.err
    assert captured.out == ""
    assert cli_fragility("epci", "monde", "densite", None, None, "france", True) == 2
    assert "Périmètre" in capsys.readouterr().err


def test_commune_level_does_not_count_a_maximum_and_its_base_twice(store):
    ids = ["distance_pole_10000_km", "distance_pole_10000_max_km", "densite"]
    communes = fragility(store, "commune", "departement:15", indicators=ids)
    assert set(communes.weights) == {"distance_pole_10000_km", "densite"}
    assert communes.weights["densite"] == pytest.approx(0.5)
    assert "Distance maximale" in communes.method_note and "déjà comptée" in communes.method_note
    # above the commune level the maximum is its own fact and keeps its weight
    epcis = fragility(store, "epci", "departement:15", indicators=ids)
    assert epcis.weights["distance_pole_10000_max_km"] == pytest.approx(1 / 3)
    # alone, the maximum is kept at commune level: it is then the only distance
    alone = fragility(store, "commune", "departement:15", indicators=ids[1:])
    assert "distance_pole_10000_max_km" in alone.weights


def test_a_priority_quoting_an_estimated_reference_says_so():
    store = IndicatorStore(load_geography())
    result = fragility(store, "commune", "departement:42", reference="france")
    texts = [p["ecart_texte"] for p in result.priorities["42218"]]
    poverty = next(t for t in texts if t.startswith("Taux de pauvreté"))
    assert "en France (estimation)" in poverty  # not published by INSEE for France here
    unemployment = next(t for t in texts if t.startswith("Taux de chômage"))
    assert "(estimation)" not in unemployment  # a ratio of summed counts is exact
