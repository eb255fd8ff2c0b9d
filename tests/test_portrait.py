"""The portrait's wording rules on hand-made cases, and on real territories."""

from __future__ import annotations

import pytest

from territorial.analysis.portrait import RULES, GapRule, compare_word, portrait, rules_text
from territorial.indicators.catalogue import load_catalogue

NBSP = "\u202f"


class HandStore:
    """A store with hand-made values: ``{indicator: {level: value}}``."""

    def __init__(self, values, estimates=(), level="commune"):
        self.catalogue = load_catalogue()
        self._values = values
        self._estimates = set(estimates)  # (indicator, level)
        self.level = level

    def reference(self, indicator_id, level, code):
        given = self._values.get(indicator_id, {})
        return {lvl: given.get(lvl) for lvl in (level, "departement", "region", "france")}

    def is_estimate(self, indicator_id, level):
        return (indicator_id, level) in self._estimates


def _texts(store, level="commune", **kwargs):
    return {
        s["indicateur"]: s["texte"].replace(NBSP, " ")
        for s in portrait(store, level, "X", **kwargs)
    }


@pytest.mark.parametrize(
    ("value", "word"),
    [
        (100.0, "proche"),
        (104.99, "proche"),
        (95.01, "proche"),
        (105.0, "supérieur"),  # exactly the near band: no longer « proche »
        (119.99, "supérieur"),
        (120.0, "nettement supérieur"),  # exactly the far band
        (94.0, "inférieur"),
        (80.0, "nettement inférieur"),
    ],
)
def test_relative_bands_of_the_poverty_rate(value, word):
    assert compare_word(value, 100.0, RULES["taux_pauvrete_2021"]) == word


def test_relative_gap_is_relative_to_the_reference():
    rule = RULES["taux_pauvrete_2021"]  # near 5 %, far 20 %
    assert compare_word(10.4, 10.0, rule) == "proche"  # 4 % of 10
    assert compare_word(30.4, 30.0, rule) == "proche"  # 1,3 % of 30
    assert compare_word(12.0, 10.0, rule) == "nettement supérieur"  # + 20 %
    assert compare_word(32.0, 30.0, rule) == "supérieur"  # + 6,7 %


def test_absolute_rules_for_changes_around_zero():
    rule = RULES["evolution_population_2015_2021"]  # near 0,1 point, far 0,5 point
    assert compare_word(0.05, -0.04, rule) == "proche"
    assert compare_word(-0.30, 0.10, rule, feminine=True) == "inférieure"
    assert compare_word(0.70, 0.10, rule, feminine=True) == "nettement supérieure"


def test_a_zero_reference_never_says_nettement():
    rule = GapRule("relatif", 0.05, 0.2)
    assert compare_word(0.0, 0.0, rule) == "proche"
    assert compare_word(5.0, 0.0, rule) == "supérieur"
    assert compare_word(-5.0, 0.0, rule) == "inférieur"


def test_sentence_carries_value_and_each_reference_grouped_by_word():
    store = HandStore(
        {
            "taux_pauvrete_2021": {
                "commune": 28.0,
                "departement": 18.8,
                "region": 27.5,
                "france": 17.3,
            }
        }
    )
    text = _texts(store)["taux_pauvrete_2021"]
    assert text == (
        "Le taux de pauvreté est de 28,0 %, nettement supérieur à celui du département (18,8 %) "
        "et de la France (17,3 %) ; proche de celui de la région (27,5 %)."
    )


def test_estimates_say_so_for_the_territory_and_for_a_reference():
    store = HandStore(
        {"revenu_median_2021": {"commune": 21000.0, "departement": 21500.0, "france": 23390.0}},
        estimates={("revenu_median_2021", "commune"), ("revenu_median_2021", "france")},
    )
    text = _texts(store)["revenu_median_2021"]
    assert text.startswith("Le niveau de vie médian est de 21 000 €/an (estimation), ")
    assert "proche de celui du département (21 500 €/an)" in text  # 2,3 % < 3 %
    assert "inférieur à celui de la France (23 390 €/an, estimation)" in text  # 10,2 % ≥ 10 %
    assert "nettement inférieur à celui de la France" in text


def test_missing_values_give_no_sentence_and_missing_references_no_comparison():
    store = HandStore(
        {
            "population": {"commune": 480.0},
            "taux_pauvrete_2021": {"departement": 18.0, "france": 17.0},  # commune: secret
            "taux_chomage_15_64_2021": {"commune": 8.0},  # no reference at all
        }
    )
    texts = _texts(store)
    assert "taux_pauvrete_2021" not in texts
    assert texts["taux_chomage_15_64_2021"] == "Le taux de chômage des 15-64 ans est de 8,0 %."
    assert set(texts) == {"population", "taux_chomage_15_64_2021"}
    assert texts["population"] == "La commune compte 480 habitants."


def test_population_trend_and_natural_balance_words():
    store = HandStore(
        {
            "evolution_population_2015_2021": {"commune": -0.62, "france": 0.30},
            "solde_naturel_2022_1000_hab": {"commune": -4.1, "france": 0.6},
        }
    )
    texts = _texts(store)
    assert texts["evolution_population_2015_2021"] == (
        "Entre 2015 et 2021, la population a diminué : -0,62 %/an en moyenne, une évolution "
        "nettement inférieure à celle de la France (+0,30 %/an)."
    )
    assert texts["solde_naturel_2022_1000_hab"].startswith(
        "En 2022, les décès ont dépassé les naissances : solde naturel de -4,1 ‰, nettement"
    )
    stable = HandStore({"evolution_population_2015_2021": {"commune": 0.04}})
    assert "presque stable" in _texts(stable)["evolution_population_2015_2021"]


def test_services_sentences():
    none = HandStore({"n_france_services": {"commune": 0.0}})
    assert _texts(none)["n_france_services"] == "La commune n'a aucune France services sur son sol."
    pole = HandStore({"distance_pole_10000_km": {"commune": 0.0, "france": 6.7}})
    assert _texts(pole)["distance_pole_10000_km"] == (
        "La commune compte elle-même 10 000 habitants ou plus."
    )
    far = HandStore({"distance_pole_10000_km": {"epci": 12.0, "france": 6.7}})
    assert _texts(far, "epci")["distance_pole_10000_km"] == (
        "En moyenne, un habitant vit à 12,0 km d'une commune de 10 000 habitants ou plus, "
        "une distance nettement supérieure à celle de la France (6,7 km)."
    )


def test_fragilities_not_computed_say_nothing_none_found_says_so():
    store = HandStore({})
    assert "fragilites" not in _texts(store, priorities=None)
    assert _texts(store, priorities=[])["fragilites"] == (
        "Aucune fragilité au-dessus de la médiane (jeu « Vue d'ensemble »)."
    )
    found = _texts(store, priorities=[{"ecart_texte": "Taux de pauvreté : 28 %"}])
    assert found["fragilites"] == (
        "Fragilités prioritaires (jeu « Vue d'ensemble ») : Taux de pauvreté : 28 %."
    )


def test_every_sentence_has_a_source_with_its_vintage():
    store = HandStore({"revenu_median_2021": {"commune": 20000.0}})
    (sentence,) = portrait(store, "commune", "X")
    assert sentence["source"] == "INSEE, Filosofi 2021 (base communale) — 2021"
    assert sentence["theme"] == "Revenus, pauvreté et emploi"


def test_rules_are_stated_for_every_rule():
    text = rules_text()
    catalogue = load_catalogue()
    for indicator_id in RULES:
        assert catalogue[indicator_id].label in text
    assert "« proche » en dessous de 5 %" in text.replace(NBSP, " ")


def test_saint_etienne_portrait_matches_its_figures(geo):
    from territorial.indicators.store import IndicatorStore

    store = IndicatorStore(geo)
    texts = {
        s["indicateur"]: s["texte"].replace(NBSP, " ") for s in portrait(store, "commune", "42218")
    }
    assert texts["population"] == "La commune compte 172 718 habitants."
    # 28,0 % against 18,8 / 15,6 / 17,3 %: every gap above 20 %
    assert texts["taux_pauvrete_2021"] == (
        "Le taux de pauvreté est de 28,0 %, nettement supérieur à celui du département "
        "(18,8 %, estimation), de la région (15,6 %, estimation) et de la France "
        "(17,3 %, estimation)."
    )
    assert (
        texts["distance_pole_10000_km"] == "La commune compte elle-même 10 000 habitants ou plus."
    )


def test_printable_fiche_carries_the_portrait_its_rules_and_the_peers(geo):
    from territorial.analysis.peers import find_peers
    from territorial.indicators.store import IndicatorStore
    from territorial.outputs.fiche import fiche_data, render_html

    store = IndicatorStore(geo)
    data = fiche_data(store, "perimetre", "crte-84-42-1", priorities=[])
    data["comparables"] = find_peers(store, "perimetre", "crte-84-42-1").to_dict()
    page = render_html(data).replace(NBSP, " ")
    assert "<h2>Portrait du territoire</h2>" in page
    assert "Le taux de pauvreté est de 21,4 % (estimation)" in page  # estimated above EPCI
    assert "Comment ce portrait est écrit" in page and "« proche » en dessous de 3 %" in page
    assert "<h2>Territoires comparables</h2>" in page
    assert data["comparables"]["comparables"][0]["nom"] in page
