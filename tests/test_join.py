"""Join of user indicator tables: key detection, code normalisation, report, aggregation.

Every fixture is a small table built here with real codes of the built geography
(``load_geography()``), read through :func:`read_table` so that row numbers are the line
numbers of the file.
"""

import numpy as np
import pandas as pd
import pytest

from territorial.geo.geography import Geography
from territorial.indicators.join import default_rule, detect_key, join_table, to_user_indicators
from territorial.indicators.store import IndicatorStore
from territorial.indicators.table_base import RawTable, TableError
from territorial.indicators.tables import read_table

SAINT_ETIENNE = "42218"
AMBIGUOUS = "nom ambigu (plusieurs territoires)"
CONFLICT = "clé en double avec des valeurs différentes"


def raw(text: str, name: str = "mes_donnees.csv") -> RawTable:
    return read_table(text.encode("utf-8"), name)


def join(text: str, geo, **kwargs):
    return join_table(raw(text), geo, **kwargs)


def csv(header: str, rows) -> str:
    return header + "\n" + "".join(";".join(map(str, row)) + "\n" for row in rows)


def population(geo, level: str) -> pd.Series:
    return geo.table(level, "france").set_index("code")["population"].astype(float)


def metro_epcis(geo, n: int, communes=(2, 40)) -> list[str]:
    epcis = geo.epcis[
        ~geo.epcis["outre_mer"]
        & (geo.epcis["n_departements"] == 1)
        & geo.epcis["n_communes"].between(*communes)
    ]
    return sorted(epcis["code"])[:n]


@pytest.fixture(scope="module")
def geo(geo_par_epci):
    """These tests name perimeters by their EPCI's SIREN: the one-per-EPCI fallback set."""
    return geo_par_epci


@pytest.fixture
def store(geo):
    return IndicatorStore(geo)


# --------------------------------------------------------------------------- key detection
def test_commune_codes_under_codgeo(geo):
    text = csv("CODGEO;Nombre d'écoles", [("01001", 3), (SAINT_ETIENNE, 40), ("2A004", 25)])
    guess = detect_key(raw(text), geo)[0]
    assert (guess.column, guess.level, guess.kind, guess.share) == ("CODGEO", "commune", "code", 1)
    result = join(text, geo)
    report = result.report
    assert (report.key_column, report.level, report.key_kind) == ("CODGEO", "commune", "code")
    assert report.rows_read == report.matched == 3
    assert report.unmatched == [] and report.remapped == [] and report.complete
    assert result.values["Nombre d'écoles"].to_dict() == {
        "01001": 3.0,
        SAINT_ETIENNE: 40.0,
        "2A004": 25.0,
    }


def test_epci_sirens(geo):
    sirens = metro_epcis(geo, 3)
    result = join(csv("SIREN;Nombre", [(s, i) for i, s in enumerate(sirens, 1)]), geo)
    assert (result.report.level, result.report.key_kind) == ("epci", "code")
    assert result.report.matched == 3 and result.report.complete
    assert sorted(result.values.index) == sirens


def test_departement_codes_with_corsica_and_lost_zero(geo):
    text = csv("dep;Nombre", [("1", 10), ("2A", 20), ("2b", 30), ("75", 40), ("974", 50)])
    result = join(text, geo, scope="france")
    report = result.report
    assert (report.key_column, report.level, report.key_kind) == ("dep", "departement", "code")
    assert result.values["Nombre"].to_dict() == {
        "01": 10.0,
        "2A": 20.0,
        "2B": 30.0,
        "75": 40.0,
        "974": 50.0,
    }
    assert {(r["ligne"], r["valeur"], r["code"]) for r in report.remapped} == {
        (2, "1", "01"),
        (4, "2b", "2B"),
    }
    assert report.complete and report.out_of_scope == []


def test_region_codes(geo):
    result = join(csv("reg;Nombre", [("84", 1), ("11", 2), ("94", 3), ("6", 4)]), geo)
    assert (result.report.level, result.report.key_kind) == ("region", "code")
    assert sorted(result.values.index) == ["06", "11", "84", "94"]
    assert result.report.remapped == [{"ligne": 5, "valeur": "6", "code": "06", "regle": "zero"}]


def test_perimeter_ids_of_the_active_set():
    # the default perimeter set is the CRTE list, identified by the ANCT's id_crte
    geo = Geography()  # its own instance: page tests change the shared one's active set
    sirens = ["crte-84-42-1", "crte-84-01-1"]
    assert set(sirens) <= set(geo.table("perimetre", "france")["code"])
    result = join(csv("perimetre;Nombre", [(sirens[0], 1), (sirens[1], 2)]), geo)
    assert (result.report.level, result.report.key_column) == ("perimetre", "perimetre")
    assert result.values["Nombre"].to_dict() == {sirens[0]: 1.0, sirens[1]: 2.0}


def test_measure_first_code_second(geo):
    decimals = csv("Taux de chômage;code", [("12,5", "01001"), ("8,25", SAINT_ETIENNE)])
    result = join(decimals, geo)
    assert (result.report.key_column, result.report.level) == ("code", "commune")
    assert result.values["Taux de chômage"].to_dict() == {"01001": 12.5, SAINT_ETIENNE: 8.25}
    integers = csv("Nombre;code", [(12, "01001"), (3, SAINT_ETIENNE), (7, "2A004")])
    result = join(integers, geo)
    assert (result.report.key_column, result.report.level) == ("code", "commune")
    assert result.values["Nombre"].to_dict() == {"01001": 12.0, SAINT_ETIENNE: 3.0, "2A004": 7.0}


def test_small_integer_measure_is_not_taken_for_departement_codes(geo):
    text = csv("CODGEO;Nombre", [("01001", 1), ("01002", 2), (SAINT_ETIENNE, 42)])
    guesses = detect_key(raw(text), geo)
    assert [(g.column, g.level) for g in guesses] == [("CODGEO", "commune")]
    assert join(text, geo).values["Nombre"].to_dict() == {
        "01001": 1.0,
        "01002": 2.0,
        SAINT_ETIENNE: 42.0,
    }


def test_key_and_level_override(geo):
    communes = geo.communes.set_index("code")
    codes = ["01001", SAINT_ETIENNE]
    sirens = [communes.at[c, "epci"] for c in codes]
    rows = [(c, s, i) for i, (c, s) in enumerate(zip(codes, sirens, strict=True))]
    text = csv("CODGEO;groupement;Nombre", rows)
    default = join(text, geo)
    assert (default.report.key_column, default.report.level) == ("CODGEO", "commune")
    assert list(default.values.columns) == ["Nombre"]  # SIRENs are not summed as a measure
    assert default.report.ignored_columns == ["groupement"]
    by_epci = join(text, geo, key="groupement")
    assert (by_epci.report.key_column, by_epci.report.level) == ("groupement", "epci")
    assert sorted(by_epci.values.index) == sorted(sirens)
    assert list(by_epci.values.columns) == ["Nombre"]  # the other key is not a measure
    assert by_epci.report.ignored_columns == ["CODGEO"]
    by_level = join(text, geo, level="perimetre")
    assert (by_level.report.key_column, by_level.report.level) == ("groupement", "perimetre")
    both = join(text, geo, key="groupement", level="perimetre")
    assert (both.report.key_column, both.report.level, both.report.key_kind) == (
        "groupement",
        "perimetre",
        "code",
    )
    assert sorted(both.values.index) == sorted(sirens)


def test_override_of_a_departement_column_without_header_hint(geo):
    text = csv("x;Nombre", [("1", 5), ("42", 7)])
    result = join(text, geo, key="x", level="departement")
    assert (result.report.level, result.report.key_kind) == ("departement", "code")
    assert result.values["Nombre"].to_dict() == {"01": 5.0, "42": 7.0}


# --------------------------------------------------------------------------- names
def test_names_as_last_resort_with_homonyms(geo):
    homonyms = geo.communes[geo.communes["nom"] == "Saint-Denis"]
    assert len(homonyms) > 1
    assert (geo.communes["nom"] == "Saint-Étienne").sum() == 1
    text = csv(
        "Commune;Nombre d'écoles",
        [("Saint-Étienne", 45), ("Saint-Denis", 12), ("ABERGEMENT-CLEMENCIAT", 1), ("Xyzzy", 2)],
    )
    result = join(text, geo)
    report = result.report
    assert (report.key_column, report.level, report.key_kind) == ("Commune", "commune", "nom")
    assert result.values["Nombre d'écoles"].to_dict() == {SAINT_ETIENNE: 45.0, "01001": 1.0}
    assert report.matched == 2
    assert {(u["ligne"], u["valeur"], u["raison"]) for u in report.unmatched} == {
        (3, "Saint-Denis", AMBIGUOUS),
        (5, "Xyzzy", "nom inconnu"),
    }
    assert not report.complete
    assert any("NOMS" in note for note in report.notes)
    summary = "\n".join(report.summary_fr())
    assert "NOMS (dernier recours, à vérifier) de commune" in summary
    assert f"1 : {AMBIGUOUS}" in summary and "1 : nom inconnu" in summary


def test_codes_beat_names(geo):
    text = csv("nom;code;Nombre", [("Saint-Étienne", SAINT_ETIENNE, 1), ("Paris", "75056", 2)])
    result = join(text, geo)
    assert (result.report.key_column, result.report.key_kind) == ("code", "code")
    assert result.report.notes == []


def test_explicit_name_key(geo):
    text = csv("code;Commune;Nombre", [("99999", "Saint-Étienne", 1), ("99998", "Paris", 2)])
    result = join(text, geo, key="Commune", level="commune")
    assert result.report.key_kind == "nom"
    assert result.values["Nombre"].to_dict() == {SAINT_ETIENNE: 1.0, "75056": 2.0}


# --------------------------------------------------------------------------- remaps
def test_codes_remapped_to_current_ones(geo):
    aliases = geo.aliases[~geo.aliases["code"].isin(["01001", "75056"])]
    delegated = aliases[aliases["nature"] == "deleguee"].iloc[0]
    old = aliases[
        (aliases["nature"] == "ancien_code") & (aliases["code"] != delegated["code"])
    ].iloc[0]
    current = set(geo.communes["code"])
    assert delegated["alias"] not in current and old["alias"] not in current
    text = csv(
        "code;Nombre",
        [("1001", 1), ("75108", 2), (delegated["alias"], 3), (old["alias"], 4), ("2A004", 5)],
    )
    result = join(text, geo)
    report = result.report
    assert report.remapped == [
        {"ligne": 2, "valeur": "1001", "code": "01001", "regle": "zero"},
        {"ligne": 3, "valeur": "75108", "code": "75056", "regle": "arrondissement"},
        {"ligne": 4, "valeur": delegated["alias"], "code": delegated["code"], "regle": "deleguee"},
        {"ligne": 5, "valeur": old["alias"], "code": old["code"], "regle": "ancien_code"},
    ]
    assert result.values["Nombre"].to_dict() == {
        "01001": 1.0,
        "75056": 2.0,
        delegated["code"]: 3.0,
        old["code"]: 4.0,
        "2A004": 5.0,
    }
    assert report.matched == 5 and report.complete
    assert "4 codes remplacés par le code actuel" in "\n".join(report.summary_fr())


def test_remapped_and_current_code_of_the_same_commune(geo):
    identical = join(csv("code;Nombre", [("1001", 7), ("01001", 7)]), geo)
    assert identical.report.duplicates_identical == 1 and identical.report.complete
    assert identical.values["Nombre"].to_dict() == {"01001": 7.0}
    clash = join(csv("code;Nombre", [("75101", 1), ("75102", 2), ("01001", 3)]), geo)
    assert clash.report.duplicates_conflicting == [{"code": "75056", "lignes": [2, 3]}]
    assert "75056" not in clash.values.index and not clash.report.complete


# --------------------------------------------------------------------------- secrecy
def test_secret_markers_are_missing_and_counted(geo):
    text = csv(
        "code;Nombre;Taux de pauvreté",
        [
            ("01001", "s", "12,5"),
            ("01002", "nd", "ns"),
            ("01004", "secret", ""),
            ("01005", "4", "S"),
            ("01006", "", "10"),
        ],
    )
    result = join(text, geo)
    columns = result.report.columns
    assert {k: columns["Nombre"][k] for k in ("numeriques", "secret", "vide", "invalide")} == {
        "numeriques": 1,
        "secret": 3,
        "vide": 1,
        "invalide": 0,
    }
    assert (columns["Taux de pauvreté"]["secret"], columns["Taux de pauvreté"]["vide"]) == (2, 1)
    values = result.values
    assert values["Nombre"].isna().sum() == 4 and values.at["01005", "Nombre"] == 4.0
    assert np.isnan(values.at["01001", "Nombre"])  # missing, not zero
    assert values["Taux de pauvreté"].dropna().to_dict() == {"01001": 12.5, "01006": 10.0}
    assert result.report.matched == 5 and result.report.complete  # secrecy loses no row
    summary = result.report.summary_fr()
    assert (
        "Colonne « Nombre » : 3 valeurs secrètes, 1 vide et 0 non numérique, "
        "traitées comme manquantes." in summary
    )
    assert any("Taux de pauvreté » : 2 valeurs secrètes, 1 vide " in line for line in summary)


# --------------------------------------------------------------------------- unmatched rows
def test_unknown_codes_with_reason_and_line_numbers(geo):
    text = "Source : enquête 2024\n\ncode;Nombre\n01001;1\n99999;2\n01002;3\n00000;4\n;5\n"
    result = join(text, geo)
    report = result.report
    assert report.rows_read == 5 and report.matched == 2
    assert report.unmatched == [
        {"ligne": 5, "valeur": "99999", "raison": "code inconnu"},
        {"ligne": 7, "valeur": "00000", "raison": "code inconnu"},
        {"ligne": 8, "valeur": "", "raison": "clé vide"},
    ]
    assert not report.complete
    summary = report.summary_fr()
    assert summary[0].startswith("5 lignes lues dans « mes_donnees.csv » ; clé : colonne « code »")
    assert summary[1] == "2 lignes rattachées à un territoire."
    assert "3 lignes non rattachées — 2 : code inconnu ; 1 : clé vide." in summary
    assert summary[-1].startswith("Le tableau n'est PAS complet")


def test_duplicates_identical_once_differing_dropped(geo):
    text = csv(
        "code;Nombre;Taux de chômage",
        [
            ("01001", 1, "5,5"),
            ("01001", 1, "5,5"),
            ("01002", 2, "6"),
            ("01002", 3, "6"),
            ("01004", 4, "s"),
            ("01004", 4, "nd"),  # both secret: identical values
        ],
    )
    result = join(text, geo)
    report = result.report
    assert report.duplicates_identical == 2
    assert report.duplicates_conflicting == [{"code": "01002", "lignes": [4, 5]}]
    assert [(u["ligne"], u["raison"]) for u in report.unmatched] == [(4, CONFLICT), (5, CONFLICT)]
    assert sorted(result.values.index) == ["01001", "01004"]
    assert result.values.at["01001", "Nombre"] == 1.0
    assert report.matched == 4
    assert report.matched + len(report.unmatched) == report.rows_read
    assert not report.complete
    summary = "\n".join(report.summary_fr())
    assert "2 lignes en double identiques, comptées une fois." in summary
    assert "1 territoire en double avec des valeurs différentes : écartés" in summary
    assert f"2 : {CONFLICT}" in summary


def test_overseas_out_of_scope_in_metropole(geo):
    text = csv("code;Nombre", [("01001", 1), ("97411", 2), ("97209", 3)])
    metro = join(text, geo)
    assert metro.report.out_of_scope == [
        {"code": "97411", "raison": "outre-mer"},
        {"code": "97209", "raison": "outre-mer"},
    ]
    assert {"97411", "97209"} <= set(metro.values.index)  # kept for « France entière »
    assert metro.report.unmatched == [] and metro.report.matched == 3
    assert "2 territoires hors de France métropolitaine" in "\n".join(metro.report.summary_fr())
    assert join(text, geo, scope="france").report.out_of_scope == []


def test_overseas_coverage_counts_with_scope_france(geo):
    text = csv("code;Nombre", [("97411", 2), ("97209", 3)])
    pop = population(geo, "commune")
    metro = join(text, geo).report.coverage["commune"]
    assert metro["territoires"] == 0 and metro["part_population"] == 0
    france = join(text, geo, scope="france").report.coverage["commune"]
    assert france["territoires"] == 2
    assert france["sur"] == len(geo.table("commune", "france"))
    assert france["part_population"] == pytest.approx(pop[["97411", "97209"]].sum() / pop.sum())


# --------------------------------------------------------------------------- coverage
def test_population_coverage_at_the_table_level(geo):
    result = join(csv("dep;Nombre", [("01", 1), ("2A", 2), ("971", 3)]), geo)
    coverage = result.report.coverage
    metro = geo.table("departement", "metropole").set_index("code")["population"]
    expected = (metro["01"] + metro["2A"]) / metro.sum()
    assert list(coverage) == ["departement"]
    assert coverage["departement"]["territoires"] == 2
    assert coverage["departement"]["sur"] == len(metro) == 96
    assert coverage["departement"]["part_population"] == pytest.approx(expected)
    shown = f"{100 * expected:.1f}".replace(".", ",")
    assert f"Couverture département : {shown} % de la population." in result.report.summary_fr()


def test_report_to_dict_carries_completeness(geo):
    ok = join(csv("code;Nombre", [("01001", 1)]), geo).report.to_dict()
    assert ok["complete"] is True and ok["rows_read"] == 1 and ok["matched"] == 1
    bad = join(csv("code;Nombre", [("01001", 1), ("99999", 2)]), geo).report.to_dict()
    assert bad["complete"] is False and bad["unmatched"][0]["raison"] == "code inconnu"


# --------------------------------------------------------------------------- aggregation
@pytest.mark.parametrize(
    ("column", "rule"),
    [
        ("Taux de chômage", "moyenne_ponderee"),
        ("Part des 75 ans et plus (%)", "moyenne_ponderee"),
        ("Âge moyen", "moyenne_ponderee"),
        ("Revenu médian", "moyenne_ponderee"),
        ("Densité", "moyenne_ponderee"),
        ("Nombre d'écoles", "somme"),
        ("Nombre de ménages", "somme"),
        ("Nombre d'appartements", "somme"),
        ("Population", "somme"),
    ],
)
def test_default_rule(column, rule):
    assert default_rule(column) == rule


def _commune_fixture(geo):
    """Communes of one EPCI but its last, plus one commune of another EPCI."""
    epci = metro_epcis(geo, 1, communes=(4, 8))[0]
    communes = geo.communes.drop(columns="geometry").set_index("code")
    members = sorted(communes.index[communes["epci"] == epci])
    departement = communes.at[members[0], "departement"]
    other = sorted(
        communes.index[
            (communes["departement"] == departement)
            & (communes["epci"] != epci)
            & communes["epci"].notna()
        ]
    )[0]
    kept = members[:-1] + [other]
    counts = {code: float(i + 1) for i, code in enumerate(kept)}
    rates = {code: 10.0 + i for i, code in enumerate(kept)}
    rates[kept[0]] = None  # secret
    rows = [(c, int(counts[c]), "s" if rates[c] is None else rates[c]) for c in kept]
    text = csv("code;Nombre d'équipements;Taux de chômage", rows)
    return text, epci, members, other, counts, rates, communes


def test_commune_table_aggregates_to_every_level(geo, store):
    text, epci, members, other, counts, rates, communes = _commune_fixture(geo)
    result = join(text, geo)
    assert result.report.complete
    pop = store.components("commune")["population"]
    table = to_user_indicators(result, "Mes équipements", pop)
    assert table.level == "commune"
    count, rate = table.indicators
    assert (count.rule, count.weight) == ("somme", None)
    assert (rate.rule, rate.weight) == ("moyenne_ponderee", "population")
    assert count.id == "u_mes_equipements__nombre_d_equipements"
    store.add(table)

    def weighted(codes):
        codes = [c for c in codes if rates[c] is not None]
        return sum(rates[c] * pop[c] for c in codes) / sum(pop[c] for c in codes)

    in_epci = [c for c in counts if c in members]
    departement = communes.at[other, "departement"]
    region = communes.at[other, "region"]
    other_epci = communes.at[other, "epci"]
    expected = {
        ("epci", epci): (in_epci, sum(counts[c] for c in in_epci)),
        ("epci", other_epci): ([other], counts[other]),
        ("perimetre", epci): (in_epci, sum(counts[c] for c in in_epci)),
        ("departement", departement): (list(counts), sum(counts.values())),
        ("region", region): (list(counts), sum(counts.values())),
        ("france", "FR"): (list(counts), sum(counts.values())),
    }
    for (level, code), (codes, total) in expected.items():
        values = store.values(level, "france" if level != "france" else None)
        assert values.at[code, count.id] == pytest.approx(total), (level, code)
        assert values.at[code, rate.id] == pytest.approx(weighted(codes)), (level, code)
    commune_values = store.values("commune")
    first = members[0]
    assert commune_values.at[first, count.id] == counts[first] == 1.0
    assert np.isnan(commune_values.at[first, rate.id])  # secret: missing, not zero
    assert np.isnan(commune_values.at[members[-1], count.id])  # absent: missing, not zero
    # a unit with no member in the table stays missing, never zero
    assert store.values("epci")[count.id].isna().sum() == len(store.values("epci")) - 2


def test_coverage_per_unit(geo, store):
    text, epci, members, other, counts, rates, communes = _commune_fixture(geo)
    result = join(text, geo)
    table = to_user_indicators(result, "Couverture", store.components("commune")["population"])
    store.add(table)
    count, rate = table.indicators
    n = len(members)
    coverage = store.coverage("epci", count)
    assert coverage[epci] == pytest.approx((n - 1) / n) and coverage[epci] < 1
    assert store.coverage("epci", rate)[epci] == pytest.approx((n - 2) / n)  # one secret
    departement = communes.at[other, "departement"]
    n_dep = int((communes["departement"] == departement).sum())
    assert store.coverage("departement", count)[departement] == pytest.approx(n / n_dep)


def test_user_rules_override_defaults(geo, store):
    text, epci, members, other, counts, rates, communes = _commune_fixture(geo)
    result = join(text, geo)
    table = to_user_indicators(
        result,
        "Règles",
        store.components("commune")["population"],
        rules={"Nombre d'équipements": "max", "Taux de chômage": "somme"},
        units={"Taux de chômage": "%"},
    )
    count, rate = table.indicators
    assert (count.rule, rate.rule, rate.unit) == ("max", "somme", "%")
    store.add(table)
    values = store.values("epci").loc[epci]
    in_epci = [c for c in counts if c in members]
    assert values[count.id] == max(counts[c] for c in in_epci)
    assert values[rate.id] == pytest.approx(sum(rates[c] or 0 for c in in_epci))


def test_departement_table_never_invents_finer_levels(geo, store):
    rows = [("01", 10, "12,5"), ("42", 3, "8"), ("2A", 5, "20"), ("2B", 7, "s")]
    result = join(csv("dep;Nombre;Taux de pauvreté", rows), geo)
    assert result.report.level == "departement"
    pop = store.components("departement")["population"]
    table = to_user_indicators(result, "Départements", pop)
    count, rate = table.indicators
    store.add(table)
    for level in ("commune", "epci", "perimetre"):
        values = store.values(level, "france")
        for indicator in (count, rate):
            assert indicator.id not in values or values[indicator.id].isna().all(), level
    departements = store.values("departement")
    assert departements.at["2B", count.id] == 7.0 and np.isnan(departements.at["2B", rate.id])
    regions = store.values("region")
    assert regions.at["84", count.id] == 13.0  # Ain + Loire, Auvergne-Rhône-Alpes
    assert regions.at["94", count.id] == 12.0  # Corse-du-Sud + Haute-Corse
    assert regions.at["84", rate.id] == pytest.approx(
        (12.5 * pop["01"] + 8 * pop["42"]) / (pop["01"] + pop["42"])
    )
    assert regions.at["94", rate.id] == pytest.approx(20.0)  # 2B is secret
    assert np.isnan(regions.at["11", count.id])  # no member in the table: missing
    assert store.values("france").at["FR", count.id] == 25.0


def test_coverage_of_a_coarser_table_counts_its_own_units(geo, store):
    result = join(csv("dep;Nombre", [("2A", 5), ("2B", 7)]), geo)
    table = to_user_indicators(result, "Corse", store.components("departement")["population"])
    store.add(table)
    assert store.coverage("region", table.indicators[0])["94"] == pytest.approx(1.0)


def test_epci_table_aggregates_to_departement(geo, store):
    epcis = geo.epcis.set_index("code")
    corse = sorted(epcis.index[epcis["departement"] == "2A"])
    result = join(csv("siren;Nombre", [(s, i) for i, s in enumerate(corse, 1)]), geo)
    table = to_user_indicators(result, "EPCI", store.components("epci")["population"])
    store.add(table)
    assert store.values("departement").at["2A", table.indicators[0].id] == sum(
        range(1, len(corse) + 1)
    )
    assert store.values("commune")[table.indicators[0].id].isna().all()


def test_replacing_a_user_table_updates_every_level(geo):
    """Adding a table under an existing name drops only the results that depend on it."""
    store = IndicatorStore(geo)
    population = store.components("departement")["population"]
    before = store.values("region").copy()
    for value in (5, 9):
        result = join(csv("dep;Nombre", [("2A", value), ("2B", 1)]), geo)
        store.add(to_user_indicators(result, "Corse", population))
        indicator = store.user_tables["Corse"].indicators[0].id
        assert store.values("region").at["94", indicator] == value + 1
        assert store.values("france").at["FR", indicator] == value + 1
    store.remove("Corse")
    assert indicator not in store.values("region").columns
    pd.testing.assert_frame_equal(store.values("region"), before)


# --------------------------------------------------------------------------- malformed
def _error(callable_, *args, **kwargs) -> str:
    with pytest.raises(TableError) as info:
        callable_(*args, **kwargs)
    return info.value.message


def test_empty_files(geo):
    assert _error(read_table, b"", "vide.csv") == "Le fichier « vide.csv » est vide."
    assert "aucune ligne de données" in _error(read_table, b"code;Nombre\n", "entete.csv")
    empty = RawTable(pd.DataFrame({"code": [], "x": []}), "vide.csv", "csv")
    assert _error(join_table, empty, geo) == (
        "Le fichier « vide.csv » ne contient aucune ligne de données."
    )


def test_binary_file(geo):
    message = _error(read_table, bytes(range(256)) * 4, "donnees.csv")
    assert "« donnees.csv »" in message and "binaire" in message
    assert "PDF" in _error(read_table, b"%PDF-1.4\n...", "rapport.csv")


def test_no_key_column_lists_the_columns(geo):
    message = _error(join, csv("libellé;Nombre", [("xyzzy", 1), ("plugh", 2)]), geo)
    assert message.startswith("Aucune colonne de « mes_donnees.csv » ne contient des codes")
    assert "Colonnes lues : « libellé », « Nombre »." in message


def test_all_keys_unknown(geo):
    text = csv("CODGEO;Nombre", [("99998", 1), ("99999", 2)])
    message = _error(join, text, geo)
    assert "Aucune colonne" in message and "« CODGEO »" in message
    forced = _error(join, text, geo, key="CODGEO", level="commune")
    assert forced.startswith("Aucune ligne de « mes_donnees.csv » ne correspond")
    assert "colonne « CODGEO », commune" in forced


def test_unknown_key_column_name(geo):
    message = _error(join, csv("code;Nombre", [("01001", 1)]), geo, key="CODE_INSEE")
    assert message == (
        "La colonne « CODE_INSEE » n'existe pas. Colonnes du fichier : « code », « Nombre »"
    )


def test_no_measure_column(geo):
    message = _error(
        join, csv("code;Libellé", [("01001", "Abergement"), ("01002", "Abergement")]), geo
    )
    assert "aucune colonne numérique" in message and "« code »" in message


def test_excel_file_with_numeric_codes_and_wrong_sheet(geo, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Données"
    sheet.append(["Titre du tableau"])
    sheet.append([])
    sheet.append(["CODGEO", "Nombre"])
    sheet.append([1001, 4])  # lost leading zero, stored as a number
    sheet.append(["99999", 5])
    path = tmp_path / "classeur.xlsx"
    book.save(path)
    result = join_table(read_table(path), geo)
    assert result.values["Nombre"].to_dict() == {"01001": 4.0}
    assert result.report.remapped[0]["code"] == "01001"
    assert result.report.unmatched == [{"ligne": 5, "valeur": "99999", "raison": "code inconnu"}]
    message = _error(read_table, path, sheet="Feuil2")
    assert "Feuil2" in message and "Données" in message


def test_errors_are_never_tracebacks(geo):
    inputs = [b"", b"\x00\x01\x02\x03" * 50, b"a;b\n", b'{"a": 1}']
    for data in inputs:
        with pytest.raises(TableError):
            join_table(read_table(data, "f.csv"), geo)


@pytest.mark.parametrize("level", ["commune", "epci", "departement", "region"])
def test_code_shape_filter_never_rejects_a_code_that_normalises(geo, level):
    """The cheap shape filter of key detection keeps every cell the full rules accept."""
    from territorial.indicators.join import _key_sample, _share, normalise_codes

    codes = list(geo.table(level, "france")["code"].sample(frac=1, random_state=3).head(150))
    variants = [c.lstrip("0") for c in codes] + [c.lower() for c in codes]
    variants += [f'="{c}"' for c in codes[:20]] + [f"{c}.0" for c in codes[:20] if c.isdigit()]
    if level == "commune":
        variants += list(geo.communes["siren"].head(50))
        variants += list(geo.aliases["alias"].head(50)) + ["75108", "2a004", "2B033"]
    if level == "epci":
        variants += [f"{c[:3]} {c[3:6]} {c[6:]}" for c in codes[:20]]
    cells = pd.Series(codes + variants + ["abc", "99999", "1,5"]).drop_duplicates()
    sample = _key_sample(cells.reset_index(drop=True))
    expected = normalise_codes(geo, level, sample["raw"])["code"].notna().mean()
    assert 0.5 < expected < 1
    assert _share(geo, level, sample) == pytest.approx(expected)
