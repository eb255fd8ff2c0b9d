"""Catalyst lists: placement, report, counts, densities, gaps, fictional example, CLI."""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from territorial.analysis import catalysts_example
from territorial.analysis.catalyst_cli import cli_catalysts
from territorial.analysis.catalyst_density import catalyst_counts, densities, gaps, nearest
from territorial.analysis.catalyst_places import lookup_postcodes
from territorial.analysis.catalysts import KINDS, load_catalysts, match_kind
from territorial.geo.postcodes import load_postcode_table
from territorial.indicators.store import IndicatorStore
from territorial.indicators.table_base import TableError

EXAMPLE = catalysts_example.EXAMPLE_PATH


@pytest.fixture(scope="module")
def store(geo):
    return IndicatorStore(geo)


@pytest.fixture(scope="module")
def example(geo):
    return load_catalysts(EXAMPLE, geo)


def _csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def _comma(value: float) -> str:
    return f"{value:.6f}".replace(".", ",")


def _point(geo, code: str) -> tuple[float, float]:
    point = geo.detail_geometry[code].representative_point()
    return point.x, point.y


def _by_line(catalysts) -> pd.DataFrame:
    return catalysts.table.set_index("ligne")


# --------------------------------------------------------------------------- placement
@pytest.mark.parametrize("code", ["42218", "01001", "2A004", "97411"])
def test_coordinates_land_in_the_same_commune_as_the_code(geo, code):
    lon, lat = _point(geo, code)
    data = _csv(
        "nom;type;code_commune;latitude;longitude",
        f"Par code;Association;{code};;",
        f"Par point;Association;;{_comma(lat)};{_comma(lon)}",
    )
    catalysts, report = load_catalysts(data, geo, name="t.csv")
    table = _by_line(catalysts)
    assert table.at[2, "commune"] == table.at[3, "commune"] == code
    assert table.at[2, "placement"] == "code"
    assert table.at[3, "placement"] == "coordonnées"
    assert table.at[3, "point"] == "coordonnées"
    assert (table.at[3, "longitude"], table.at[3, "latitude"]) == pytest.approx((lon, lat))
    assert table.at[2, "point"] == "commune"  # the commune's own inner point
    assert report.placed == 2 and report.complete


def test_codes_are_normalised(geo):
    data = _csv("nom;code_commune", "Zéro perdu;1001", "Arrondissement;75108", "Inconnu;99999")
    catalysts, report = load_catalysts(data, geo, name="t.csv")
    table = _by_line(catalysts)
    assert table.at[2, "commune"] == "01001"
    assert table.at[3, "commune"] == "75056"
    assert table.at[3, "nom_commune"] == "Paris"
    assert {r["ligne"]: r["regle"] for r in report.remapped} == {2: "zero", 3: "arrondissement"}
    assert report.unknown_codes == [{"ligne": 4, "valeur": "99999"}]
    assert report.unplaced[0]["ligne"] == 4
    assert "code commune inconnu" in report.unplaced[0]["raison"]


def test_postcode_table_is_real_and_shipped():
    table = load_postcode_table()
    assert list(table.columns) == ["code_postal", "commune", "source"]
    assert table["code_postal"].str.fullmatch(r"\d{5}").all()
    assert not table.duplicated(["code_postal", "commune"]).any()
    assert table["commune"].nunique() > 34_000
    assert lookup_postcodes("42000") == ("42218",)
    assert lookup_postcodes("75 008 CEDEX") == ("75056",)  # arrondissement → commune
    assert len(lookup_postcodes("01400")) > 1
    assert lookup_postcodes("99999") == ()


def test_postcode_unique_ambiguous_and_unknown(geo):
    ambiguous = lookup_postcodes("01400")
    lon, lat = _point(geo, ambiguous[1])
    data = _csv(
        "nom;cp;code_commune;lat;lon",
        "Unique;42000;;;",
        "Ambigu;01400;;;",
        f"Ambigu avec point;01400;;{_comma(lat)};{_comma(lon)}",
        f"Ambigu avec code;01400;{ambiguous[0]};;",
        "Inconnu;99999;;;",
    )
    catalysts, report = load_catalysts(data, geo, name="t.csv")
    table = _by_line(catalysts)
    assert table.at[2, "commune"] == "42218"
    assert table.at[2, "placement"] == "code postal"
    assert table.at[3, "commune"] is None
    assert table.at[4, "commune"] == ambiguous[1]
    assert table.at[4, "placement"] == "coordonnées"
    assert table.at[5, "commune"] == ambiguous[0]
    assert [a["ligne"] for a in report.ambiguous_postcodes] == [3]
    assert report.ambiguous_postcodes[0]["communes"] == list(ambiguous)
    assert report.unknown_postcodes == [{"ligne": 6, "valeur": "99999"}]
    reasons = {u["ligne"]: u["raison"] for u in report.unplaced}
    assert set(reasons) == {3, 6}
    assert "ambigu" in reasons[3] and "inconnu" in reasons[6]
    assert report.by_method == {"code": 1, "coordonnées": 1, "code postal": 1}
    assert not report.disagreements


def test_points_outside_france_are_reported_never_dropped(geo):
    data = _csv(
        "nom;code_commune;latitude;longitude",
        "Golfe de Gascogne;;46,0;-3,0",
        "Berlin;;52.52;13.405",
        "En mer mais avec code;29019;48,0;-6,0",
    )
    catalysts, report = load_catalysts(data, geo, name="t.csv")
    assert len(catalysts.table) == 3
    outside = {o["ligne"]: o for o in report.outside_france}
    assert set(outside) == {2, 3, 4}
    assert outside[3]["latitude"] == pytest.approx(52.52)
    assert outside[2]["localise_par"] is None and outside[4]["localise_par"] == "code"
    assert {u["ligne"] for u in report.unplaced} == {2, 3}
    assert all("hors de toute commune" in u["raison"] for u in report.unplaced)
    assert _by_line(catalysts).at[4, "commune"] == "29019"
    assert any("hors de toute commune" in line for line in report.summary_fr())


def test_swapped_and_lambert93_coordinates(geo):
    lon, lat = _point(geo, "42218")
    x, y = Transformer.from_crs(4326, 2154, always_xy=True).transform(lon, lat)
    data = _csv(
        "nom;latitude;longitude",
        f"Inversé;{_comma(lon)};{_comma(lat)}",
        f"Lambert;{y:.1f};{x:.1f}",
    )
    catalysts, report = load_catalysts(data, geo, name="t.csv")
    table = _by_line(catalysts)
    assert table["commune"].tolist() == ["42218", "42218"]
    assert [s["ligne"] for s in report.swapped] == [2]
    assert table.at[2, "latitude"] == pytest.approx(lat)  # stored the right way round
    assert report.lambert93 == 1
    assert table.at[3, "longitude"] == pytest.approx(lon, abs=1e-5)


def test_code_and_coordinates_disagree_keeps_the_code(geo):
    lon, lat = _point(geo, "75056")
    data = _csv(
        "nom;code_commune;latitude;longitude;code_postal",
        f"Désaccord;42218;{_comma(lat)};{_comma(lon)};",
        "Code postal contraire;42218;;;75008",
    )
    catalysts, report = load_catalysts(data, geo, name="t.csv")
    table = _by_line(catalysts)
    assert table["commune"].tolist() == ["42218", "42218"]
    assert table.at[2, "point"] == "commune"  # the given point is not in the kept commune
    assert [(d["ligne"], d["selon"], d["autre_commune"]) for d in report.disagreements] == [
        (2, "coordonnées", "75056"),
        (3, "code postal", "75056"),
    ]


def test_unreadable_coordinates_and_no_location(geo):
    data = _csv("nom;code_commune;latitude;longitude", "Texte;;nord;est", "Rien;;;", "Ok;42218;;")
    catalysts, report = load_catalysts(data, geo, name="t.csv")
    reasons = {u["ligne"]: u["raison"] for u in report.unplaced}
    assert reasons[2] == "coordonnées illisibles"
    assert reasons[3].startswith("aucune localisation")
    assert report.placed == 1


# --------------------------------------------------------------------------- kinds
@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Association", "association"),
        ("associations", "association"),
        ("ASSO", "association"),
        ("Entreprises", "entreprise"),
        ("SCOP", "entreprise"),
        ("Collectivités locales", "collectivite"),
        ("collectivite", "collectivite"),
        ("Communauté de communes", "collectivite"),
        ("Université", "academique"),
        ("École d'ingénieurs", "academique"),
        ("Laboratoire de recherche", "academique"),
        ("Acteurs académiques", "academique"),
        ("Association des maires", "association"),
        ("Autre", "autre"),
        ("", "autre"),
        ("Coopérative", None),
        ("Fondation", None),
    ],
)
def test_match_kind(text, kind):
    assert match_kind(text) == kind


def test_unknown_kind_is_autre_and_reported(geo):
    data = _csv(
        "Nom de la structure;Catégorie;Code INSEE",
        "A;Coopérative;42218",
        "B;Collectivités locales;42218",
        "C;;42218",
    )
    catalysts, report = load_catalysts(data, geo, name="t.csv")
    assert report.columns == {
        "commune": "Code INSEE",
        "type": "Catégorie",
        "nom": "Nom de la structure",
    }
    assert catalysts.table["type"].tolist() == ["autre", "collectivite", "autre"]
    assert catalysts.table["type_libelle"].tolist() == ["Autre", "Collectivité", "Autre"]
    assert report.unknown_kinds == [{"ligne": 2, "valeur": "Coopérative"}]
    assert report.missing_kinds == 1
    assert report.kinds == {k: n for k, n in zip(KINDS, [0, 0, 1, 0, 2], strict=True)}
    summary = " ".join(report.summary_fr())
    assert "1 type non reconnu, classé « Autre » : « Coopérative »" in summary  # agreed
    assert "1 ligne sans type, classée « Autre »" in summary
    assert report.duplicates == []


# --------------------------------------------------------------------------- bad input
def test_bad_input_raises_french_table_errors(geo, tmp_path):
    with pytest.raises(TableError, match="aucune colonne pour localiser"):
        load_catalysts(_csv("nom;type", "A;Association"), geo, name="t.csv")
    with pytest.raises(TableError, match="est vide"):
        load_catalysts(b"", geo, name="vide.csv")
    with pytest.raises(TableError, match="introuvable"):
        load_catalysts(tmp_path / "absent.csv", geo)
    with pytest.raises(TableError, match="Aucune ligne .* n'a pu être localisée"):
        load_catalysts(_csv("nom;code_commune", "A;99999"), geo, name="t.csv")
    with pytest.raises(TableError, match="aucune ligne de données"):
        load_catalysts(catalysts_example.EXAMPLE_PATH.parent / "modele_catalyseurs.csv", geo)


def test_template_has_the_documented_header():
    template = (EXAMPLE.parent / "modele_catalyseurs.csv").read_text(encoding="utf-8")
    assert template == "nom;type;code_commune;code_postal;latitude;longitude\n"


# --------------------------------------------------------------------------- counts
def test_densities_add_up_across_levels(geo, store, example):
    catalysts, report = example
    communes = densities(catalysts, store, "commune", "metropole")
    assert communes["n_catalyseurs"].sum() == report.placed - report.overseas
    hierarchy = geo.hierarchy()
    for level in ("epci", "perimetre", "departement", "region"):
        table = densities(catalysts, store, level, "metropole")
        from_communes = (
            communes["n_catalyseurs"].groupby(hierarchy[level].reindex(communes.index)).sum()
        )
        pd.testing.assert_series_equal(
            table["n_catalyseurs"],
            from_communes.reindex(table.index, fill_value=0).astype("int64"),
            check_names=False,
        )
        inside = hierarchy[level].reindex(communes.index).notna()  # a commune may be in no CRTE
        assert table["population"].sum() == pytest.approx(communes.loc[inside, "population"].sum())
        expected = table["n_catalyseurs"] / table["population"] * 100_000
        pd.testing.assert_series_equal(table["pour_100k_hab"], expected, check_names=False)
        expected = table["n_catalyseurs"] / table["superficie_km2"] * 1_000
        pd.testing.assert_series_equal(table["pour_1000_km2"], expected, check_names=False)
        assert table["nom"].notna().all()
    france = densities(catalysts, store, "france")
    assert france.at["FR", "n_catalyseurs"] == report.placed
    assert list(france.columns) == [
        "nom",
        "n_catalyseurs",
        "population",
        "superficie_km2",
        "pour_100k_hab",
        "pour_1000_km2",
    ]


def test_counts_cover_every_unit_with_zeros(geo):
    catalysts, _ = load_catalysts(_csv("nom;code_commune", "A;42218", "B;97411"), geo, "t.csv")
    counts = catalyst_counts(catalysts, geo, "departement")
    assert len(counts) == len(geo.table("departement", "france"))
    assert counts[["42", "974", "01"]].tolist() == [1, 1, 0]
    metro = densities(catalysts, IndicatorStore(geo), "departement")
    assert "974" not in metro.index and metro["n_catalyseurs"].sum() == 1


# --------------------------------------------------------------------------- gaps
def _l93(lon, lat):
    return Transformer.from_crs(4326, 2154, always_xy=True).transform(lon, lat)


def test_gaps_on_a_hand_made_case(geo):
    data = _csv("nom;code_commune", "Marseille;13055", "Lille;59350", "Réunion;97411")
    catalysts, _ = load_catalysts(data, geo, name="t.csv")
    table = gaps(catalysts, geo, "departement", "metropole", ["13", "59", "29", "2A", "974"])
    assert table.index.tolist() == ["29", "2A"]  # farthest first; 974 is out of scope
    assert table["catalyseur_proche"].tolist() == ["Lille", "Marseille"]
    assert table["commune_catalyseur"].tolist() == ["59350", "13055"]
    assert table.at["29", "nom_commune_catalyseur"] == "Lille"
    unit = geo.table("departement", "metropole").set_index("code").geometry["2A"]
    point = unit.representative_point()
    ux, uy = _l93(point.x, point.y)
    cx, cy = _l93(*_point(geo, "13055"))
    assert table.at["2A", "distance_km"] == pytest.approx(np.hypot(ux - cx, uy - cy) / 1000)
    assert 200 < table.at["2A", "distance_km"] < 400
    assert table["distance_km"].is_monotonic_decreasing


def test_gaps_overseas_only_use_catalysts_of_the_same_zone(geo):
    catalysts, _ = load_catalysts(_csv("nom;code_commune", "Marseille;13055"), geo, "t.csv")
    table = gaps(catalysts, geo, "departement", "france", ["974", "2A"])
    assert table.index.tolist() == ["974", "2A"]  # no catalyst in La Réunion: first, no distance
    assert np.isnan(table.at["974", "distance_km"])
    assert table.at["974", "catalyseur_proche"] != table.at["974", "catalyseur_proche"]


def test_nearest_on_a_hand_made_case(geo):
    data = _csv("nom;code_commune", "Marseille;13055", "Saint-Étienne;42218", "Lyon;69123")
    catalysts, _ = load_catalysts(data, geo, name="t.csv")
    table = nearest(catalysts, geo, "departement", "42", k=2)
    assert table["nom"].tolist() == ["Saint-Étienne", "Lyon"]
    assert table["distance_km"].iat[0] == 0.0
    assert table["dans_le_territoire"].tolist() == [True, False]
    assert 20 < table["distance_km"].iat[1] < 80
    everything = nearest(catalysts, geo, "commune", "13055", k=10)
    assert everything["nom"].tolist() == ["Marseille", "Saint-Étienne", "Lyon"]
    with pytest.raises(ValueError, match="Territoire inconnu"):
        nearest(catalysts, geo, "departement", "00")


# --------------------------------------------------------------------------- example
def test_fictional_example_is_reproducible(geo, tmp_path):
    path = catalysts_example.write_example(tmp_path / "catalyseurs_fictifs.csv", geo)
    assert path.read_bytes() == EXAMPLE.read_bytes()


def test_fictional_example_is_flagged_and_fully_placed(example):
    catalysts, report = example
    assert "fictif" in EXAMPLE.name
    raw = pd.read_csv(EXAMPLE, sep=";", dtype=str, keep_default_na=False)
    assert len(raw) == 350
    assert list(raw.columns) == catalysts_example.COLUMNS
    assert (raw["fictif"] == "oui").all()
    assert raw["nom"].str.startswith("Catalyseur fictif n° ").all()
    assert catalysts.fictional and report.fictional
    assert catalysts.table["fictif"].all()
    assert report.placed == 350 and report.complete
    assert all(report.by_method[m] > 0 for m in ("code", "coordonnées", "code postal"))
    assert not (report.disagreements or report.swapped or report.outside_france)
    assert set(catalysts.table["type"]) == {
        "association",
        "entreprise",
        "collectivite",
        "academique",
    }
    assert report.overseas == 0
    assert report.summary_fr()[0].startswith("LISTE FICTIVE")


def test_fictional_flag_from_column_or_file_name(geo):
    column = _csv("nom;code_commune;fictif", "A;42218;oui")
    catalysts, _ = load_catalysts(column, geo, name="liste.csv")
    assert catalysts.fictional and catalysts.table["fictif"].all()
    catalysts, _ = load_catalysts(_csv("nom;code_commune", "A;42218"), geo, name="liste.csv")
    assert not catalysts.fictional and not catalysts.table["fictif"].any()
    catalysts, _ = load_catalysts(_csv("nom;code_commune", "A;42218"), geo, name="Fictifs.csv")
    assert catalysts.fictional and catalysts.table["fictif"].all()


# --------------------------------------------------------------------------- CLI
def test_cli_json(capsys):
    assert cli_catalysts(str(EXAMPLE), "region", "metropole", True) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["fictif"] is True and "FICTIF" in payload["avertissement"]
    assert payload["rapport"]["placed"] == 350
    assert len(payload["densites"]) == 13
    assert sum(r["n_catalyseurs"] for r in payload["densites"]) == 350
    assert payload["zones_blanches_note"]
    if payload["zones_blanches"] is not None:
        assert all(r["distance_km"] is not None for r in payload["zones_blanches"])


def test_cli_without_fragility_module_omits_gaps(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "territorial.analysis.fragility", None)  # import → ImportError
    assert cli_catalysts(str(EXAMPLE), "departement", "metropole", False) == 0
    out = capsys.readouterr().out
    assert "FICTIF" in out
    assert "Zones blanches non calculées" in out


def test_cli_bad_input(capsys, tmp_path):
    assert cli_catalysts(str(tmp_path / "absent.csv"), "region", "metropole", True) == 2
    assert "introuvable" in capsys.readouterr().err
    path = tmp_path / "liste.csv"
    path.write_bytes(_csv("nom;type", "A;Association"))
    assert cli_catalysts(str(path), "region", "metropole", True) == 2
    assert "aucune colonne pour localiser" in capsys.readouterr().err
    assert cli_catalysts(str(EXAMPLE), "region", "lune", True) == 2
    assert "Périmètre d'étude inconnu" in capsys.readouterr().err
