"""Perimeter sets: ANCT CRTE files (both layouts), user sets, validation report, dissolve.

Every fixture file here is SYNTHETIC: perimeter names say « CRTE fictif (synthétique) »
and the ids ``synth_…``; only the SIRENs and commune codes are real (taken from the
built geography) so that rows join.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

import pandas as pd
import pytest
import shapely

from territorial.cli import main as cli_main
from territorial.indicators.table_base import TableError
from territorial.perimeters import model as per
from territorial.perimeters.cli import cli_perimeters
from territorial.perimeters.crte_layout import CRTE_LAYOUTS, detect_crte_layout, load_crte
from territorial.perimeters.model import REFERENCE_COUNTS, PerimeterSet, dissolve_perimeters
from territorial.perimeters.userfiles import load_user_perimeters, slugify

MGP = "200054781"
UNKNOWN_SIREN = "209999999"
UNKNOWN_PETR = "209999998"
SYNTH = "(synthétique)"


@dataclass
class Units:
    """Real units picked from the geography for the synthetic files."""

    e1: str
    e2: str
    e3: str
    e4: str
    e5: str
    e6: str
    e7: str
    e8: str
    commune: str  # INSEE code of a commune of e4, signing alone
    commune_siren: str
    ept: str
    natures: dict


@pytest.fixture(scope="module")
def units(geo) -> Units:
    epcis = geo.epcis
    simple = epcis[
        ~epcis["outre_mer"]
        & ~epcis["sans_epci"]
        & (epcis["n_departements"] == 1)
        & (epcis["code"] != MGP)
        & (epcis["n_communes"] >= 2)
    ].sort_values("code")
    counts = simple.groupby("departement").size()
    dep = sorted(counts[counts >= 7].index)[0]
    in_dep = simple[simple["departement"] == dep]["code"].tolist()
    region = simple.loc[simple["departement"] == dep, "region"].iat[0]
    elsewhere = simple[simple["region"] != region]["code"].iat[0]
    e4 = in_dep[3]
    members = geo.communes[geo.communes["epci"] == e4].sort_values("code")
    commune = members.iloc[0]
    for siren in (UNKNOWN_SIREN, UNKNOWN_PETR):
        assert siren not in set(epcis["code"]) | set(geo.ept["code"])
        assert geo.commune_from_siren(siren) is None
    return Units(
        *in_dep[:7],
        elsewhere,
        commune=commune["code"],
        commune_siren=commune["siren"],
        ept=sorted(geo.ept["code"].unique())[0],
        natures=epcis.set_index("code")["nature"].to_dict(),
    )


EPCI_HEADER = list(CRTE_LAYOUTS["epci_crte"].columns)
GROUPEMENTS_HEADER = list(CRTE_LAYOUTS["groupements"].columns)


def _csv(header: list[str], rows: list[list[str]], sep: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _plan(u: Units) -> list[tuple]:
    """(id, type, interreg, siren, nature, supra siren, supra nature), file order.

    Lines in the file are the position here + 2.
    """
    n = u.natures
    return [
        ("synth_01", "pluri", "oui", u.e1, n[u.e1], "", ""),  # line 2, interreg flag wrong
        ("synth_01", "pluri", "oui", u.e2, n[u.e2], "", ""),  # 3
        ("synth_03", "mono", "non", u.e3, n[u.e3], "", ""),  # 4
        ("synth_03", "mono", "non", u.e3, n[u.e3], "", ""),  # 5 duplicated row
        ("synth_04", "mono", "non", u.commune_siren, "COM", "", ""),  # 6 commune alone
        ("synth_05", "mono", "non", u.e4, n[u.e4], "", ""),  # 7
        ("synth_06", "mono", "non", u.ept, "EPT", MGP, "METRO"),  # 8
        ("synth_07", "mono", "non", u.e5, n[u.e5], "", ""),  # 9
        ("synth_08", "pluri", "non", u.e6, n[u.e6], "", ""),  # 10
        ("synth_08", "pluri", "non", u.e5, n[u.e5], "", ""),  # 11 e5 already in synth_07
        ("synth_09", "pluri", "oui", u.e7, n[u.e7], "", ""),  # 12
        ("synth_09", "pluri", "oui", u.e8, n[u.e8], "", ""),  # 13 other région
        ("synth_10", "mono", "non", UNKNOWN_SIREN, "CC", "", ""),  # 14 unknown SIREN
        ("synth_01", "pluri", "oui", UNKNOWN_PETR, "PETR", "", ""),  # 15 unknown nature
    ]


def crte_epci_bytes(u: Units) -> bytes:
    rows = [
        ["84", f"Région fictive {SYNTH}", "01", f"Département fictif {SYNTH}"]
        + [pid, f"CRTE fictif {SYNTH} {pid}", kind, interreg, "non", siren]
        + [f"Groupement fictif {SYNTH}", nature, supra, f"Supra fictif {SYNTH}" if supra else ""]
        + [supra_nature]
        for pid, kind, interreg, siren, nature, supra, supra_nature in _plan(u)
    ]
    return _csv(EPCI_HEADER, rows, ";")


def crte_groupements_bytes(u: Units, header: list[str] | None = None) -> bytes:
    rows = []
    for pid, kind, _, siren, nature, _, _ in _plan(u):
        groupement, group_nature = siren, nature
        if pid == "synth_01" and nature != "PETR":  # carried by a (fictitious) PETR
            groupement, group_nature = UNKNOWN_PETR, "PETR"
        rows.append(
            ["84", f"Région fictive {SYNTH}", "01", f"Département fictif {SYNTH}"]
            + [pid, f"CRTE fictif {SYNTH} {pid}", kind, groupement]
            + [f"Groupement fictif {SYNTH}", group_nature if nature != "PETR" else "PETR"]
            + [siren, "2022-03-15"]
        )
    return _csv(header or GROUPEMENTS_HEADER, rows, ",")


def members(geo, epci: str) -> set[str]:
    return set(geo.communes.loc[geo.communes["epci"] == epci, "code"])


@pytest.fixture(scope="module")
def crte(geo, units):
    return load_crte(crte_epci_bytes(units), geo, filename="crte_synthetique.csv")


# --------------------------------------------------------------------------- CRTE, layout (a)


def test_epci_layout_counts(crte):
    pset, report = crte
    assert report.layout == "epci_crte"
    assert pset.kind == "officiel"
    assert report.n_rows == 14
    assert report.n_perimetres == 8
    assert (report.n_mono_epci, report.n_multi_epci) == (6, 2)
    table = pset.perimetres.set_index("code")
    assert set(table.index) == {f"synth_{i:02d}" for i in (1, 3, 4, 5, 6, 7, 8, 9)}
    assert table.loc["synth_01", "portage"] == "plusieurs EPCI"
    assert table.loc["synth_09", "n_epci"] == 2
    assert table.loc["synth_08", "portage"] == "un EPCI"
    assert table.loc["synth_03", "nom"] == "CRTE fictif (synthétique) synth_03"
    assert report.reference == REFERENCE_COUNTS
    assert report.reference_differences == {
        "total": 8 - 833,
        "mono_epci": 6 - 660,
        "multi_epci": 2 - 173,
    }
    assert report.missing_columns == []


def test_membership_is_complete(geo, units, crte):
    pset, _ = crte
    m = pset.membership
    expected = {
        "synth_01": members(geo, units.e1) | members(geo, units.e2),
        "synth_03": members(geo, units.e3),
        "synth_04": {units.commune},
        "synth_05": members(geo, units.e4) - {units.commune},
        "synth_06": set(geo.ept.loc[geo.ept["code"] == units.ept, "commune"]),
        "synth_07": members(geo, units.e5),
        "synth_08": members(geo, units.e6),
        "synth_09": members(geo, units.e7) | members(geo, units.e8),
    }
    for pid, communes in expected.items():
        assert set(m.index[m == pid]) == communes, pid
    assert len(m) == sum(map(len, expected.values()))
    assert m.index.is_unique
    counts = pset.perimetres.set_index("code")["n_communes"]
    assert all(counts[pid] == len(c) for pid, c in expected.items())


def test_commune_signing_alone_is_found_by_its_siren(geo, units, crte):
    pset, report = crte
    assert units.commune_siren != units.commune
    assert pset.membership[units.commune] == "synth_04"
    detached = {d["commune"]: d for d in report.detached_communes}
    assert detached[units.commune]["perimetre_epci"] == "synth_05"
    assert detached[units.commune]["par"] == "commune"
    assert len(detached) == 1


def test_ept_row_brings_its_member_communes(geo, units, crte):
    pset, _ = crte
    ept_communes = set(geo.ept.loc[geo.ept["code"] == units.ept, "commune"])
    assert len(ept_communes) >= 5
    assert set(pset.membership.index[pset.membership == "synth_06"]) == ept_communes
    assert (geo.communes.set_index("code").loc[list(ept_communes), "epci"] == MGP).all()
    row = pset.perimetres.set_index("code").loc["synth_06"]
    assert row["n_epci"] == 1 and row["membres"] == f"ept:{units.ept}"


def test_anomalies_are_reported_with_their_reason(units, crte):
    _, report = crte
    assert report.duplicate_rows == [
        {
            "ligne": 5,
            "ligne_premiere": 4,
            "perimetre": "synth_03",
            "niveau": "epci",
            "code": units.e3,
            "nom": report.duplicate_rows[0]["nom"],
        }
    ]
    unknown = {d["ligne"]: d for d in report.unknown_codes}
    assert set(unknown) == {14, 15}
    assert unknown[14]["code"] == UNKNOWN_SIREN and "inconnu" in unknown[14]["motif"]
    assert "EPCI" in unknown[14]["motif"]
    assert "PETR" in unknown[15]["motif"] and "non prise en charge" in unknown[15]["motif"]
    (twice,) = report.counted_twice
    assert twice["code"] == units.e5 and twice["niveau"] == "epci"
    assert (twice["perimetre_retenu"], twice["ligne_retenue"]) == ("synth_07", 9)
    assert (twice["perimetre_ecarte"], twice["ligne_ecartee"]) == ("synth_08", 11)
    assert "première occurrence" in report.double_count_rule
    assert [d["code"] for d in report.empty_perimetres] == ["synth_10"]
    assert report.n_rows_used == 14 - 4  # duplicate, two unknown, one counted twice


def test_inter_region_perimeters_and_file_flags(crte):
    _, report = crte
    assert [d["code"] for d in report.inter_regional] == ["synth_09"]
    assert report.inter_regional[0]["drapeau_fichier"] is True
    assert len(report.inter_regional[0]["regions"]) == 2
    assert "synth_09" in {d["code"] for d in report.inter_departemental}
    mismatches = {(d["code"], d["champ"]) for d in report.file_flag_mismatches}
    # synth_01 says inter-region (wrong); synth_08 says "pluri" but keeps one EPCI
    assert ("synth_01", "crte_interreg") in mismatches
    assert ("synth_08", "type_grp_crte") in mismatches
    assert ("synth_09", "crte_interreg") not in mismatches


def test_coverage_by_scope(geo, crte):
    pset, report = crte
    metro = report.scopes["metropole"]
    overseas = report.scopes["outre_mer"]
    assert metro["n_perimetres"] == 8 and overseas["n_perimetres"] == 0
    assert metro["n_communes_couvertes"] == len(pset.membership)
    assert overseas["n_communes_couvertes"] == 0 and overseas["n_communes"] > 0
    assert 0 < metro["part_population_couverte"] < 0.2
    uncovered = report.uncovered["metropole"]
    assert uncovered["n_communes"] == metro["n_communes"] - metro["n_communes_couvertes"]
    assert len(uncovered["epcis"]) > 1000
    assert uncovered["epcis"][0]["population"] >= uncovered["epcis"][-1]["population"]
    # Paris is outside the perimeters while its EPCI (the MGP) is partly covered by the EPT
    loose = {c["code"] for c in uncovered["communes"]}
    assert "75056" in loose
    assert report.uncovered["outre_mer"]["epcis"]


def test_report_to_dict_and_summary(crte):
    _, report = crte
    payload = report.to_dict()
    assert json.loads(json.dumps(payload)) == payload
    assert payload["n_perimetres"] == 8 and payload["layout"] == "epci_crte"
    assert (
        payload["covered_population_share"] == report.scopes["france"]["part_population_couverte"]
    )
    text = "\n".join(report.summary_fr())
    assert "8 périmètres" in text and "2 par plusieurs EPCI" in text
    assert "Référence : 833" in text
    assert "ligne 5 (déjà ligne 4)" in text
    assert UNKNOWN_SIREN in text and "PETR" in text
    assert "Règle appliquée : première occurrence conservée" in text
    assert "à cheval sur plusieurs régions" in text
    assert "France métropolitaine" in text


# --------------------------------------------------------------------------- CRTE, layout (b)


def test_groupements_layout_with_messy_headers(geo, units, crte):
    header = [f" {name.upper()} " for name in GROUPEMENTS_HEADER]
    header[0] = "\ufeff" + header[0]
    header[GROUPEMENTS_HEADER.index("siren_epci")] = "Siren EPCI"
    pset, report = load_crte(crte_groupements_bytes(units, header), geo, filename="g.csv")
    assert report.layout == "groupements"
    assert (report.n_perimetres, report.n_mono_epci, report.n_multi_epci) == (8, 6, 2)
    reference, _ = crte
    assert pset.membership.sort_index().equals(reference.membership.sort_index())
    assert pset.perimetres.set_index("code").loc["synth_01", "date_signature"] == "2022-03-15"
    # the PETR carrying synth_01 describes the groupement, not the member EPCI
    assert report.nature_issues == []
    assert {d["ligne"] for d in report.unknown_codes} == {14, 15}


def test_layout_detection():
    layout, missing = detect_crte_layout(EPCI_HEADER)
    assert layout.key == "epci_crte" and missing == []
    layout, missing = detect_crte_layout(
        ["id_crte", "lib_crte", "siren_groupement", "NATURE_JURIDIQUE"]
    )
    assert layout.key == "epci_crte" and "siren_grp_supra" in missing
    with pytest.raises(TableError) as err:
        detect_crte_layout(["id_crte", "nom"], "x.csv")
    message = err.value.message
    assert "x.csv" in message and "siren_groupement" in message and "siren_epci" in message
    assert "Colonnes manquantes" in message


def test_nature_mislabel_is_reported_but_used(geo, units):
    rows = [
        ["84", "R", "01", "D", "synth_x", f"CRTE fictif {SYNTH}", "mono", "non", "non"]
        + [units.e1, "G", "COM", "", "", ""],
    ]
    pset, report = load_crte(_csv(EPCI_HEADER, rows, ";"), geo, filename="n.csv")
    assert set(pset.membership.index) == members(geo, units.e1)
    (issue,) = report.nature_issues
    assert issue["ligne"] == 2 and "COM" in issue["motif"] and "EPCI" in issue["motif"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "vide"),
        (b"id_crte;lib_crte\n", "aucune ligne de donn"),
        (b"code;nom\n01001;x (synth\xc3\xa9tique)\n", "Colonnes manquantes"),
    ],
)
def test_malformed_crte_file_gives_a_french_message(geo, content, expected):
    with pytest.raises(TableError) as err:
        load_crte(content, geo, filename="mauvais.csv")
    assert expected in err.value.message
    assert "mauvais.csv" in err.value.message


# --------------------------------------------------------------------------- user sets


def test_user_set_with_sirens_and_commune_codes(geo, units):
    rows = [
        ("Alliance des Vallées (synthétique)", units.e1),
        ("Alliance des Vallées (synthétique)", units.e2),
        ("Bresse fictive (synthétique)", "1001"),  # leading zero lost
        ("Bresse fictive (synthétique)", "75108"),  # arrondissement → Paris
        ("Bresse fictive (synthétique)", "99999"),  # unknown
        ("", "01004"),  # no perimeter name
    ]
    text = "Périmètre;Code\n" + "".join(f"{n};{c}\n" for n, c in rows)
    pset, report = load_user_perimeters(text.encode(), geo, "Atelier test", filename="u.csv")
    assert pset.kind == "utilisateur" and pset.name == "Atelier test"
    ids = pset.perimetres.set_index("code")
    assert list(ids.index) == ["alliance-des-vallees-synthetique", "bresse-fictive-synthetique"]
    assert ids.loc["bresse-fictive-synthetique", "nom"] == "Bresse fictive (synthétique)"
    m = pset.membership
    assert set(m.index[m == "alliance-des-vallees-synthetique"]) == members(
        geo, units.e1
    ) | members(geo, units.e2)
    assert set(m.index[m == "bresse-fictive-synthetique"]) == {"01001", "75056"}
    assert ids.loc["bresse-fictive-synthetique", "n_epci"] == 2  # 01001's EPCI and the MGP
    remapped = {d["code"]: d["code_retenu"] for d in report.remapped_codes}
    assert remapped == {"1001": "01001", "75108": "75056"}
    unknown = {d["ligne"]: d["motif"] for d in report.unknown_codes}
    assert set(unknown) == {6, 7}
    assert "inconnu" in unknown[6] and "nom de périmètre manquant" in unknown[7]
    assert report.reference is None
    assert 0 < report.scopes["metropole"]["part_population_couverte"] < 0.2
    assert any("partie du territoire" in line for line in report.summary_fr())


def test_user_set_without_header_and_with_a_siren_of_an_ept(geo, units):
    text = f"{units.ept},Atelier Est (synthétique)\n{units.e3},Atelier Ouest (synthétique)\n"
    pset, report = load_user_perimeters(text.encode(), geo, "Sans en-tête", filename="s.csv")
    assert report.n_perimetres == 2
    ept_communes = set(geo.ept.loc[geo.ept["code"] == units.ept, "commune"])
    assert set(pset.membership.index[pset.membership == "atelier-est-synthetique"]) == ept_communes
    assert any("Pas de ligne d'en-tête" in note for note in report.notes)


def test_user_set_errors(geo):
    with pytest.raises(TableError) as err:
        load_user_perimeters(b"code\n01001\n", geo, "x", filename="une.csv")
    assert "deux colonnes" in err.value.message
    with pytest.raises(TableError) as err:
        load_user_perimeters(b"a;b\nx;y\nz;t\n", geo, "x", filename="sans.csv")
    assert "colonne de codes" in err.value.message


def test_slugify_is_stable():
    assert slugify("Alliance des Vallées") == "alliance-des-vallees"
    assert slugify("ALLIANCE  des vallees!") == "alliance-des-vallees"
    assert slugify("***") == "perimetre"


# --------------------------------------------------------------------------- dissolve


def test_dissolve_cache_hit_returns_the_same_geometry(geo, crte, tmp_path, monkeypatch):
    pset, _ = crte
    per._MEMO.clear()
    first = dissolve_perimeters(pset, geo.communes, cache_dir=tmp_path)
    assert sorted(first.index) == sorted(pset.perimetres["code"])
    assert list(tmp_path.glob("*.parquet"))
    commune_area = geo.communes.set_index("code").loc[pset.membership.index].to_crs(2154).area
    assert first.to_crs(2154).area.sum() == pytest.approx(commune_area.sum(), rel=1e-6)

    def no_union(*args, **kwargs):
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(shapely, "coverage_union_all", no_union)
    per._MEMO.clear()
    from_disk = dissolve_perimeters(pset, geo.communes, cache_dir=tmp_path)
    from_memory = dissolve_perimeters(pset, geo.communes, cache_dir=tmp_path)
    for again in (from_disk, from_memory):
        assert list(again.index) == list(first.index)
        assert again.geom_equals_exact(first, tolerance=0).all()
        assert again.crs == first.crs


def test_geography_uses_a_loaded_set(geo, crte):
    pset, _ = crte
    previous = geo.perimeters
    try:
        geo.set_perimeters(pset)
        table = geo.table("perimetre").set_index("code")
        assert len(table) == 8
        assert table.loc["synth_01", "portage"] == "plusieurs EPCI"
        assert table.loc["synth_09", "n_regions"] == 2
        assert table.geometry.notna().all()
    finally:
        geo.set_perimeters(previous)


def test_one_per_epci_is_unchanged(geo):
    pset = PerimeterSet.one_per_epci(geo.communes)
    assert pset.kind == "par_epci" and len(pset.membership) == len(geo.communes)
    assert set(pset.perimetres.columns) >= {"code", "n_epci", "portage"}
    assert len(pset.content_hash()) == 16


# --------------------------------------------------------------------------- CLI


def test_cli_json_and_text(units, tmp_path, capsys):
    path = tmp_path / "crte_synthetique.csv"
    path.write_bytes(crte_epci_bytes(units))
    assert cli_perimeters(str(path), True) == 0
    out = capsys.readouterr()
    payload = json.loads(out.out)
    assert payload["n_perimetres"] == 8 and payload["n_multi_epci"] == 2
    assert payload["source_name"] == "crte_synthetique.csv" and out.err == ""
    assert cli_perimeters(str(path), False) == 0
    text = capsys.readouterr().out
    assert "8 périmètres" in text and "Référence : 833" in text
    assert cli_main(["perimeters", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["layout"] == "epci_crte"


def test_cli_reads_a_user_set(tmp_path, capsys):
    path = tmp_path / "atelier.csv"
    path.write_text("code;perimetre\n01001;Atelier fictif (synthétique)\n")
    assert cli_perimeters(str(path), True) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["kind"] == "utilisateur" and payload["n_perimetres"] == 1


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "introuvable"),
        (b"", "vide"),
        (b"a;b;c\n1;2;3\n", "Colonnes manquantes"),
    ],
)
def test_cli_bad_input_exit_code_2(tmp_path, capsys, content, expected):
    path = tmp_path / "mauvais.csv"
    if content is not None:
        path.write_bytes(content)
    assert cli_perimeters(str(path), True) == 2
    out = capsys.readouterr()
    assert out.out == "" and expected in out.err and "Traceback" not in out.err


def test_perimetres_table_columns(crte):
    pset, _ = crte
    columns = list(pset.perimetres.columns)
    assert columns[:4] == ["code", "nom", "n_epci", "portage"]
    assert {"n_communes", "population", "n_regions", "interregional", "crte_interreg"} <= set(
        columns
    )
    assert pset.source["licence"] == "Licence Ouverte 2.0"
    assert isinstance(pset.membership, pd.Series) and pset.membership.name == "perimetre"


def test_grand_paris_rows_carried_by_their_ept_in_the_supra_columns(geo):
    """MGP listed once per EPT-based CRTE, the EPT in the supra columns; Paris alone."""
    epts = sorted(geo.ept["code"].unique())
    paris_siren = geo.communes.set_index("code").at["75056", "siren"]

    def row(pid, siren, nature, supra="", supra_nature=""):
        return ["11", "R", "75", "D", pid, f"CRTE fictif {SYNTH} {pid}", "mono", "non", "oui"] + [
            siren,
            f"Groupement fictif {SYNTH}",
            nature,
            supra,
            "",
            supra_nature,
        ]

    rows = [
        row("synth_a", MGP, "METRO", epts[0], "EPT"),
        row("synth_b", MGP, "METRO", epts[1], "EPT"),
        row("synth_p", paris_siren, "COM"),
        row("synth_m", MGP, "METRO"),  # the rest of the Métropole du Grand Paris
    ]
    pset, report = load_crte(_csv(EPCI_HEADER, rows, ";"), geo, filename="mgp.csv")
    m = pset.membership

    def ept_members(code):
        return set(geo.ept.loc[geo.ept["code"] == code, "commune"])

    assert set(m.index[m == "synth_a"]) == ept_members(epts[0])
    assert set(m.index[m == "synth_b"]) == ept_members(epts[1])
    assert set(m.index[m == "synth_p"]) == {"75056"}
    rest = members(geo, MGP) - ept_members(epts[0]) - ept_members(epts[1]) - {"75056"}
    assert set(m.index[m == "synth_m"]) == rest
    assert report.counted_twice == [] and report.unknown_codes == []
    # synth_m is signed by one unit, the MGP itself (its remaining communes): mono
    assert (report.n_mono_epci, report.n_multi_epci) == (4, 0)
    assert {d["par"] for d in report.detached_communes} == {"ept", "commune"}


# --------------------------------------------------------------------------- 2022 list rules


def _crte_rows(rows: list[tuple[str, str, str]]) -> bytes:
    """A small file in the ANCT layout: (id_crte, siren_groupement, nature_juridique)."""
    body = [
        ["53", "Région fictive", "29", "Département fictif", pid, f"CRTE fictif {pid}", "mono"]
        + ["0", "0", siren, f"Groupement fictif {siren}", nature, siren, "", nature]
        for pid, siren, nature in rows
    ]
    return _csv(EPCI_HEADER, body, ",")


def test_commune_nouvelle_found_by_its_own_siren_not_by_digits(geo):
    # Milizac-Guipronvel (29076), created in 2017: its SIREN 200062974 holds no INSEE code
    data = _crte_rows([("c1", "200062974", "COM"), ("c2", "242900074", "CC")])
    pset, report = load_crte(data, geo, filename="nouvelle.csv")
    assert pset.membership["29076"] == "c1"  # the commune signing alone wins over its EPCI
    others = members(geo, "242900074") - {"29076"}
    assert set(pset.membership[list(others)]) == {"c2"}
    assert [d["commune"] for d in report.detached_communes] == ["29076"]
    assert report.unknown_codes == []


def test_merged_epci_is_resolved_to_its_2022_communes(geo):
    # Thionville Fensch Agglomération (2025) = CA Portes de France-Thionville + CA du Val
    # de Fensch, each signing its own CRTE in 2022
    data = _crte_rows([("thionville", "245701362", "CA"), ("fensch", "245701222", "CA")])
    pset, report = load_crte(data, geo, filename="fusion.csv")
    former = geo.former_epcis.set_index("commune")["siren"]
    today = members(geo, "992367730")
    assert today == set(pset.membership.index)  # every commune of the new EPCI, once
    for commune in today:
        expected = "thionville" if former[commune] == "245701362" else "fensch"
        assert pset.membership[commune] == expected
    assert pset.membership["57672"] == "thionville" and pset.membership["57306"] == "fensch"
    assert {d["code"] for d in report.former_epcis} == {"245701362", "245701222"}
    assert report.unknown_codes == [] and report.empty_perimetres == []
    assert "EPCI de 2022" in " ".join(report.summary_fr())


def test_unit_in_two_crte_is_counted_once_and_its_communes_listed(geo):
    data = _crte_rows([("a", "242900074", "CC"), ("b", "242900074", "CC")])
    pset, report = load_crte(data, geo, filename="double.csv")
    assert set(pset.membership) == {"a"}
    assert {d["commune"] for d in report.communes_in_two} == members(geo, "242900074")
    assert all(d["perimetre_ecarte"] == "b" for d in report.communes_in_two)
    assert report.empty_perimetres == [{"code": "b", "nom": "CRTE fictif b", "lignes": [3]}]


def test_shipped_crte_list_is_the_default_set(geo):
    pset, report = geo.default_perimeters, geo.default_report
    assert pset.kind == "officiel" and pset.source["millesime"].startswith("décembre 2022")
    assert report.n_perimetres == 854
    metro = report.scopes["metropole"]
    assert (metro["n_perimetres"], metro["n_mono_epci"], metro["n_multi_epci"]) == (832, 663, 169)
    assert len(report.former_epcis) == 4 and report.unknown_codes == []
    assert len(report.communes_in_two) == 39  # Pays de Gex and Terre Valserhône, in two CRTE
    assert metro["n_communes"] - metro["n_communes_couvertes"] == 1  # Île-de-Bréhat
    assert pset.membership.index.is_unique  # never a commune in two perimeters


def test_cli_validates_the_shipped_file(cli_json):
    payload = cli_json("perimeters", "data/raw/anct_crte_groupements_2022_epci-and-crte.csv")
    assert payload["scopes"]["metropole"]["n_perimetres"] == 832
    assert len(payload["former_epcis"]) == 4 and len(payload["communes_in_two"]) == 39
