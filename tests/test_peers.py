"""Territoires comparables: hand-checked small cases, options, stability, CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from territorial.analysis.peers import (
    CLOSE_Z,
    FAR_Z,
    PeersError,
    distances,
    find_peers,
    nearest,
    neighbours,
    standardise,
)
from territorial.cli import main
from territorial.indicators.store import IndicatorStore


# ---------------------------------------------------------------------------- hand-made
def test_standardisation_is_z_scores_over_the_pool():
    values = pd.DataFrame({"a": [2.0, 4.0, 6.0], "b": [10.0, 10.0, 40.0]}, index=list("xyz"))
    z, dropped = standardise(values)
    # a: mean 4, population sd sqrt(8/3)
    assert z["a"].tolist() == pytest.approx([-2 / math.sqrt(8 / 3), 0.0, 2 / math.sqrt(8 / 3)])
    # b: mean 20, sd sqrt(200)
    assert z["b"].tolist() == pytest.approx([-10 / math.sqrt(200)] * 2 + [20 / math.sqrt(200)])
    assert dropped == []
    assert z.mean().abs().max() < 1e-12 and z.std(ddof=0).tolist() == pytest.approx([1, 1])


def test_units_do_not_matter_after_standardisation():
    values = pd.DataFrame(
        {"a": [1.0, 2.0, 4.0, 8.0], "b": [3.0, 1.0, 2.0, 5.0]}, index=list("tuvw")
    )
    scaled = values.assign(a=values["a"] * 1000 + 7)  # euros instead of thousands, shifted
    assert distances(standardise(values)[0], "t").tolist() == pytest.approx(
        distances(standardise(scaled)[0], "t").tolist()
    )


def test_identical_profiles_are_nearest_at_distance_zero():
    values = pd.DataFrame(
        {"a": [1.0, 5.0, 1.0, 3.0], "b": [7.0, 2.0, 7.0, 4.0]}, index=["t", "u", "twin", "v"]
    )
    z, _ = standardise(values)
    dist = distances(z, "t")
    assert dist["twin"] == 0.0
    assert nearest(dist, 1) == ["twin"]
    assert "t" not in dist.index  # never its own peer


def test_distance_is_root_mean_square_of_z_gaps():
    z = pd.DataFrame({"a": [0.0, 1.0], "b": [0.0, 2.0], "c": [0.0, 2.0]}, index=["t", "u"])
    assert distances(z, "t")["u"] == pytest.approx(math.sqrt((1 + 4 + 4) / 3))


def test_missing_values_compare_on_shared_indicators_and_need_half_of_them():
    z = pd.DataFrame(
        {
            "a": [0.0, 1.0, np.nan, np.nan],
            "b": [0.0, 1.0, 3.0, np.nan],
            "c": [0.0, np.nan, np.nan, np.nan],
            "d": [np.nan, 9.0, 9.0, 9.0],  # the territory lacks it: not compared
        },
        index=["t", "u", "v", "w"],
    )
    dist = distances(z, "t")
    assert dist["u"] == pytest.approx(1.0)  # a and b shared (2 of 3 ≥ half)
    assert math.isnan(dist["v"])  # only b: 1 of 3 < half
    assert math.isnan(dist["w"])  # nothing shared


def test_ties_are_broken_by_code_whatever_the_row_order():
    dist = pd.Series({"69": 0.5, "01": 0.5, "42": 0.5, "07": 0.2})
    assert nearest(dist, 3) == ["07", "01", "42"]
    assert nearest(dist.iloc[::-1], 3) == ["07", "01", "42"]
    # float noise below 1e-9 is a tie
    assert nearest(pd.Series({"b": 0.3, "a": 0.1 + 0.2}), 2) == ["a", "b"]


def test_flat_or_empty_indicators_are_dropped_and_named():
    values = pd.DataFrame({"a": [1.0, 2.0, 3.0], "flat": [5.0] * 3, "empty": [np.nan] * 3})
    z, dropped = standardise(values)
    assert list(z.columns) == ["a"] and dropped == ["flat", "empty"]


# ---------------------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def store(geo):
    return IndicatorStore(geo)


class HandValues:
    """The real store with hand-made values for the régions."""

    def __init__(self, real, frame):
        self.geo, self.catalogue, self._frame = real.geo, real.catalogue, frame
        self.is_estimate = real.is_estimate

    def values(self, level, scope=None):
        return self._frame


def test_hand_made_regions_identical_profile_is_nearest_then_by_code(store, geo):
    codes = geo.indexed("region").index
    frame = pd.DataFrame(index=codes, columns=["densite", "taux_pauvrete_2021"], dtype=float)
    metro = [c for c in codes if not geo.indexed("region").at[c, "outre_mer"]]
    for rank, code in enumerate(sorted(metro)):
        frame.loc[code] = [100.0 + 10 * rank, 10.0 + rank]
    frame.loc["84"] = frame.loc["11"]  # Auvergne-Rhône-Alpes gets Île-de-France's profile
    frame.loc["53"] = frame.loc["11"]  # ... and so does Bretagne: a tie, broken by code
    result = find_peers(
        HandValues(store, frame),
        "region",
        "84",
        indicators=["densite", "taux_pauvrete_2021"],
        n=5,
    )
    assert [p["code"] for p in result.peers][:2] == ["11", "53"]
    assert result.peers[0]["distance"] == 0.0
    assert {e["indicateur"] for e in result.peers[0]["proches"]} == {
        "densite",
        "taux_pauvrete_2021",
    }
    assert result.peers[0]["differences"] == []


def test_peers_of_a_commune_in_its_region_with_every_option(store, geo):
    result = find_peers(
        store,
        "commune",
        "42218",
        same_region=True,
        exclude_neighbours=True,
        similar_size=True,
        n=5,
    )
    touching = neighbours(geo, "commune", "42218")
    assert "42095" not in touching and "42279" in touching  # Firminy is not, Saint-Chamond is
    for peer in result.peers:
        unit = geo.indexed("commune").loc[peer["code"]]
        assert unit["region"] == "84"
        assert peer["code"] not in touching
        assert 172718 / 2 <= unit["population"] <= 172718 * 2
    assert result.pool == "région Auvergne-Rhône-Alpes"
    assert "voisins" in result.method_note and "moitié et le double" in result.method_note


def test_peers_explain_close_and_different_indicators_by_z_gap(store):
    result = find_peers(store, "departement", "42")
    assert 5 <= len(result.peers) <= 10
    distances_ = [p["distance"] for p in result.peers]
    assert distances_ == sorted(distances_)
    for peer in result.peers:
        assert all(abs(e["ecart_z"]) < CLOSE_Z for e in peer["proches"])
        assert all(abs(e["ecart_z"]) >= FAR_Z for e in peer["differences"])
        assert peer["code"] != "42"


def test_neighbours_can_be_excluded(store, geo):
    plain = [p["code"] for p in find_peers(store, "departement", "42").peers]
    touching = neighbours(geo, "departement", "42")
    assert touching == {"03", "43", "63", "69", "71", "07", "38"}
    without = [
        p["code"] for p in find_peers(store, "departement", "42", exclude_neighbours=True).peers
    ]
    assert not set(without) & touching
    # the filter removes peers, it never reorders the others (z-scores over the same pool)
    kept = [c for c in plain if c not in touching]
    assert without[: len(kept)] == kept


def test_results_are_stable(store):
    first = find_peers(store, "epci", "244200770", same_region=True).to_dict()
    again = find_peers(store, "epci", "244200770", same_region=True).to_dict()
    assert first == again


def test_leads_name_programmes_peers_have_and_the_territory_has_not(store, geo):
    from territorial.outputs.fiche import programmes

    result = find_peers(store, "commune", "42218")
    own = {p["programme"] for p in programmes(geo, "commune", "42218")}
    assert result.leads, "Saint-Étienne's peers have programmes it has not"
    for lead in result.leads:
        assert lead["programme"] not in own
        names = {p["nom"] for p in result.peers}
        assert set(lead["territoires"]) <= names and lead["n"] == len(lead["territoires"])
    listed = [lead["programme"] for lead in result.leads]
    assert listed == sorted(listed)  # by name: leads, not a ranking


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"level": "region", "code": "84", "same_region": True}, "même région"),
        ({"level": "commune", "code": "00000"}, "Territoire inconnu"),
        ({"level": "canton", "code": "42"}, "Niveau inconnu"),
        ({"level": "region", "code": "84", "preset": "nope"}, "Jeu d'indicateurs inconnu"),
        ({"level": "region", "code": "84", "indicators": ["typologie_densite"]}, "typologie"),
        ({"level": "region", "code": "84", "n": 20}, "de 5 à 10"),
    ],
)
def test_bad_requests_are_french_messages(store, kwargs, message):
    with pytest.raises(PeersError, match=message):
        find_peers(store, **kwargs)


def test_cli_json_and_errors(capsys):
    assert main(["peers", "84", "--level", "region", "--n", "5", "--json"]) == 0
    out, _ = capsys.readouterr()
    payload = json.loads(out)
    assert payload["code"] == "84" and len(payload["comparables"]) == 5
    assert payload["profil"] == "jeu « Vue d'ensemble »"
    assert main(["peers", "84", "--level", "region", "--same-region", "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    assert err.strip() == "L'option « même région » n'a pas de sens pour une région."
    assert main(["peers", "42", "--level", "departement", "--preset", "Emploi"]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith("Territoires comparables à Loire (42) — France métropolitaine :")


def test_programmes_with_an_unnamed_member_are_listed(geo):
    from territorial.outputs.fiche import programmes

    found = {p["programme"]: p for p in programmes(geo, "commune", "29019")}  # Brest
    assert "sans nom publié" in found["Fabriques de territoire"]["membres"]
    assert programmes(geo, "region", "53")  # Bretagne: no crash on the unnamed members
