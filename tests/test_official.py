"""Official open data end to end: download → validate → cache → store → values.

The files are SYNTHETIC (invented values, labelled as such) in the real layouts of the
sources, built with the helpers of ``tests/fixtures_official.py``; only the territorial
codes are real: the seven communes of the CC Faucigny-Glières (EPCI 200000172) and the
four of the CC de la Vallée de Chamonix-Mont-Blanc (200023372), Haute-Savoie (74),
Auvergne-Rhône-Alpes (84), two Paris arrondissements, and one unknown code (99999).
Everything is served by a local HTTP server on 127.0.0.1; no test reaches the internet.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fixtures_official as fx  # noqa: E402

from territorial.indicators.store import IndicatorStore  # noqa: E402
from territorial.perimeters.model import PerimeterSet  # noqa: E402
from territorial.sources import official_catalogue, parsing  # noqa: E402
from territorial.sources import parse as parse_mod  # noqa: E402
from territorial.sources import status as source_status  # noqa: E402
from territorial.sources.fetch import fetch  # noqa: E402
from territorial.sources.manifest import FetchError, load_manifest  # noqa: E402
from territorial.sources.official import (  # noqa: E402
    join_reports,
    load_official_crte,
    register_official,
)
from territorial.sources.official_build import build_official  # noqa: E402
from territorial.sources.official_catalogue import ABSENT_FR  # noqa: E402
from territorial.sources.official_status import status_fr  # noqa: E402

MANIFEST = load_manifest()
EPCI_A = "200000172"  # CC Faucigny-Glières
EPCI_B = "200023372"  # CC de la Vallée de Chamonix-Mont-Blanc
COMMUNES_A = ["74024", "74042", "74049", "74087", "74164", "74212", "74312"]
COMMUNES_B = ["74056", "74143", "74266", "74290"]
OFFICIAL_IDS = {
    "taux_pauvrete",
    "revenu_median",
    "menages_fiscaux",
    "taux_chomage_15_64",
    "part_75_ans_plus",
    "part_pop_urbain_dense",
    "part_pop_urbain_intermediaire",
    "part_pop_rural",
}

# --------------------------------------------------------------------------- fixture data
# Filosofi: (GEO, GEO_OBJECT) -> NUM_HH, NUM_PER, MED_SL, PR_MD60 ("" = secret, CONF_STATUS C)
FILOSOFI = {
    ("74024", "COM"): ("900", "2100", "26000", "9.0"),
    ("74042", "COM"): ("5600", "12300", "23500", "14.0"),
    ("74049", "COM"): ("200", "480", "24000", ""),
    ("74087", "COM"): ("850", "2050", "27000", "7.5"),
    ("74164", "COM"): ("2800", "6300", "25000", "10.5"),
    ("74212", "COM"): ("750", "1750", "24500", ""),
    ("74312", "COM"): ("650", "1540", "26500", "8.0"),
    ("74056", "COM"): ("4200", "8500", "27500", "11.0"),
    ("74143", "COM"): ("1400", "2900", "26000", "9.5"),
    ("74266", "COM"): ("450", "990", "25500", ""),
    ("74290", "COM"): ("", "", "", ""),
    ("99999", "COM"): ("10", "20", "20000", "5.0"),
    ("75101", "ARM"): ("9012", "15012", "36010", "12.0"),
    (EPCI_A, "EPCI"): ("11750", "26520", "24900", "11.3"),
    (EPCI_B, "EPCI"): ("6250", "12790", "26900", "10.2"),
    ("74", "DEP"): ("350000", "800000", "27800", "9.8"),
    ("84", "REG"): ("3456789", "7890123", "23890", "12.6"),
}
# Census: code -> (P22_POP, P22_POP7589, P22_POP90P, P22_ACT1564, P22_CHOM1564)
CENSUS = {
    "74024": (2150, 150, 20, 1050, 80),
    "74042": (12700, 900, 150, 6100, 700),
    "74049": (490, 40, 5, 230, 12),
    "74087": (2090, 130, 15, 1000, 60),
    "74164": (6460, 480, 60, 3100, 250),
    "74212": (1800, 160, 25, 850, 40),
    "74312": (1570, 100, 10, 760, 45),
    "74056": (8600, 700, 120, 4600, 300),
    "74143": (2950, 230, 30, 1500, 90),
    "74266": (1000, 80, 10, 480, 25),
    "74290": (400, 25, 5, 200, 10),
    "75101": (16000, 900, 100, 8500, 600),
    "75102": (21000, 1100, 150, 11000, 800),
    "99999": (100, 10, 1, 50, 5),
}
# Density grid: code -> (DENS, PMUN; None = empty cell)
DENSITY = {
    "74024": (4, 2140),
    "74042": (2, 12600),
    "74049": (6, 480),
    "74087": (4, 2080),
    "74164": (3, 6440),
    "74212": (7, 1790),
    "74312": (5, None),
    "74056": (3, 8610),
    "74143": (5, 2940),
    "74266": (6, 1000),
    "74290": (7, 400),
    "75056": (1, 2100000),
}


def filosofi_zip(path: Path, values=None, *, rename_columns=None, drop_per=False) -> Path:
    """DS_FILOSOFI_CC_data.csv (long layout) with the rows of ``values``."""
    header = ["GEO", "GEO_OBJECT", "FILOSOFI_MEASURE", "UNIT_MEASURE", "UNIT_MULT"]
    header += ["CONF_STATUS", "OBS_STATUS", "TIME_PERIOD", "OBS_VALUE", "COMMENTAIRE"]
    measures = ["NUM_HH", "NUM_PER", "MED_SL", "PR_MD60"]
    rows = []
    for (geo, obj), numbers in (values or FILOSOFI).items():
        for measure, value in zip(measures, numbers, strict=True):
            if drop_per and measure == "NUM_PER":
                continue
            secret = value == ""
            rows.append(
                [geo, obj, measure, fx._UNITS[measure], "0", "C" if secret else "F"]
                + ["O" if secret else "A", "2021", value, fx.SYNTH]
            )
    header = [(rename_columns or {}).get(h, h) for h in header]
    return fx._write_zip(path, {"DS_FILOSOFI_CC_data.csv": fx._csv_text(header, rows)})


def census_zips(folder: Path, values=None, *, rename=None) -> dict[str, Path]:
    """The two base-cc archives (évolution/structure, emploi/population active)."""
    values = values or CENSUS
    evol_header = ["CODGEO", "LIBGEO", "P22_POP", "P22_POP7589", "P22_POP90P", "P16_POP"]
    evol_header = [(rename or {}).get(h, h) for h in evol_header]
    evol = [[c, fx.SYNTH, p, a, b, p - 10] for c, (p, a, b, _, _) in values.items()]
    emploi = [[c, fx.SYNTH, act, chom] for c, (_, _, _, act, chom) in values.items()]
    emploi_header = ["CODGEO", "LIBGEO", "P22_ACT1564", "P22_CHOM1564"]
    evol_name = "base-cc-evol-struct-pop-2022.CSV"
    emploi_name = "base-cc-emploi-pop-active-2022.CSV"
    return {
        "evol_struct_pop": fx._write_zip(
            folder / "base-cc-evol-struct-pop-2022_csv.zip",
            {evol_name: fx._csv_text(evol_header, evol)},
        ),
        "emploi_pop_active": fx._write_zip(
            folder / "base-cc-emploi-pop-active-2022_csv.zip",
            {emploi_name: fx._csv_text(emploi_header, emploi)},
        ),
    }


def density_xlsx(path: Path, values=None) -> Path:
    """Density grid workbook: documentation sheet, then title rows above the header."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["Grille communale de densité — classeur SYNTHÉTIQUE de test"])
    sheet = workbook.create_sheet("Grille_Densite_2025")
    sheet.append(["Grille communale de densité à 7 niveaux (synthétique)"])
    sheet.append([])
    sheet.append(["CODGEO", "LIBGEO", "DENS", "LIBDENS", "PMUN22"])
    for code, (dens, pmun) in (values or DENSITY).items():
        sheet.append([code, fx.SYNTH, dens, official_catalogue.DENSITY_CLASSES[dens], pmun])
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def crte_files(folder: Path) -> dict[str, Path]:
    """ANCT EPCI – CRTE table (one CRTE of two EPCI, one of the Grand Paris) and groupements."""
    header = list(MANIFEST["crte"]["expected_columns"]["perimetre_rows"])
    head = ["84", fx.SYNTH, "74", fx.SYNTH]
    rows = [
        head
        + ["crte_synth_74", "CRTE fictif Arve (synthétique)", "pluri", "non", "non"]
        + [EPCI_A, fx.SYNTH, "CC", "", "", ""],
        head
        + ["crte_synth_74", "CRTE fictif Arve (synthétique)", "pluri", "non", "non"]
        + [EPCI_B, fx.SYNTH, "CC", "", "", ""],
        ["11", fx.SYNTH, "75", fx.SYNTH, "crte_synth_75", "CRTE fictif Paris (synthétique)"]
        + ["mono", "non", "non", "200054781", fx.SYNTH, "METRO", "", "", ""],
    ]
    groupements = list(MANIFEST["crte"]["expected_columns"]["groupements_rows"])
    signed = [
        head + ["crte_synth_74", fx.SYNTH, "pluri", EPCI_A, fx.SYNTH, "CC", EPCI_A, "2022-03-15"],
        head + ["crte_synth_74", fx.SYNTH, "pluri", EPCI_B, fx.SYNTH, "CC", EPCI_B, "2022-01-10"],
    ]
    folder.mkdir(parents=True, exist_ok=True)
    epci = folder / "crte_epci.csv"
    epci.write_text(fx._csv_text(header, rows), encoding="utf-8")
    grp = folder / "crte_groupements.csv"
    grp.write_text(fx._csv_text(groupements, signed, sep=","), encoding="utf-8")
    return {"epci_crte": epci, "groupements": grp}


def write_sources(folder: Path) -> dict[str, dict[str, Path]]:
    return {
        "filosofi": {"base_cc": filosofi_zip(folder / "base-cc-filosofi-2021-geo2025_csv.zip")},
        "census": census_zips(folder),
        "density": {"grille": density_xlsx(folder / "grille_densite_7_niveaux_2025.xlsx")},
        "crte": crte_files(folder),
    }


# --------------------------------------------------------------------------- local server


@dataclass
class Route:
    body: bytes
    status: int = 200
    content_type: str = "application/octet-stream"


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server API
        route = self.server.routes.get(self.path.split("?", 1)[0])  # type: ignore[attr-defined]
        if route is None:
            route = Route(fx.HTML_ERROR_PAGE, status=404, content_type="text/html")
        self.send_response(route.status)
        self.send_header("Content-Type", route.content_type)
        self.send_header("Content-Length", str(len(route.body)))
        self.end_headers()
        self.wfile.write(route.body)

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class Server:
    httpd: ThreadingHTTPServer
    routes: dict[str, Route] = field(default_factory=dict)

    @property
    def mirror(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/mirror/"

    def publish(self, path: Path, body: bytes | None = None, **options) -> None:
        data = path.read_bytes() if body is None else body
        self.routes[f"/mirror/{path.name}"] = Route(data, **options)


@pytest.fixture(scope="module")
def geo(geo_par_epci):
    """These tests name perimeters by their EPCI's SIREN: the one-per-EPCI fallback set."""
    return geo_par_epci


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv = Server(httpd)
    httpd.routes = srv.routes  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield srv
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("TERRITORIAL_CACHE_DIR", str(directory))
    monkeypatch.delenv("TERRITORIAL_MANIFEST", raising=False)
    return directory


@pytest.fixture
def published(server, tmp_path) -> dict[str, dict[str, Path]]:
    files = write_sources(tmp_path / "published")
    for resources in files.values():
        for path in resources.values():
            server.publish(path)
    return files


@pytest.fixture
def fetched(server, cache, published):
    for source_id in ("crte", "filosofi", "census", "density"):
        fetch(source_id, origin=server.mirror, timeout=5)
    return published


@pytest.fixture
def restore_perimeters(geo):
    before = geo.perimeters
    yield geo
    geo.set_perimeters(before)


def store_for(geo) -> tuple[IndicatorStore, dict[str, str]]:
    store = IndicatorStore(geo)
    return store, register_official(store)


def weighted(values: dict[str, float], weights: dict[str, float]) -> float:
    total = sum(weights[k] for k in values)
    return sum(values[k] * weights[k] for k in values) / total


def filosofi_value(key: tuple[str, str], column: int) -> float:
    return float(FILOSOFI[key][column])


# --------------------------------------------------------------------------- Filosofi


def test_filosofi_rates_are_official_at_every_insee_level(geo, fetched):
    store, messages = store_for(geo)
    assert messages["filosofi"].startswith("chargé (millésime 2021, 12 communes, 2 EPCI,")
    assert "1 département, 1 région" in messages["filosofi"]
    assert "1 code(s) non rattaché(s)" in messages["filosofi"]  # 99999
    assert {i.id for i in store.catalogue} >= OFFICIAL_IDS

    commune = store.values("commune", "france")
    assert commune.at["74042", "taux_pauvrete"] == 14.0
    assert commune.at["74042", "revenu_median"] == 23500.0
    assert commune.at["74042", "menages_fiscaux"] == 5600.0
    # secret: missing, never zero
    assert np.isnan(commune.at["74049", "taux_pauvrete"])
    assert commune.at["74049", "revenu_median"] == 24000.0
    assert np.isnan(commune.loc["74290", ["taux_pauvrete", "revenu_median"]]).all()

    epci = store.values("epci", "france")
    # the EPCI's own published value, not an average of its communes
    known = {c: filosofi_value((c, "COM"), 3) for c in COMMUNES_A if FILOSOFI[(c, "COM")][3]}
    persons = {c: filosofi_value((c, "COM"), 1) for c in COMMUNES_A}
    average = weighted(known, persons)
    assert epci.at[EPCI_A, "taux_pauvrete"] == 11.3 != pytest.approx(average, abs=0.05)
    assert epci.at[EPCI_A, "revenu_median"] == 24900.0
    assert epci.at[EPCI_A, "menages_fiscaux"] == 11750.0
    assert np.isnan(epci.at["200054781", "taux_pauvrete"])  # not in the file: missing
    assert store.values("departement", "france").at["74", "taux_pauvrete"] == 9.8
    assert store.values("region", "france").at["84", "revenu_median"] == 23890.0
    assert np.isnan(store.values("region", "france").at["11", "revenu_median"])

    for level in ("commune", "epci", "departement", "region"):
        assert store.is_estimate("taux_pauvrete", level) is False
        assert store.estimate_method("revenu_median", level) is None
    for level in ("perimetre", "france"):
        assert store.is_estimate("taux_pauvrete", level) is True
        assert "Estimation" in store.estimate_method("revenu_median", level)
    assert store.is_estimate("menages_fiscaux", "perimetre") is False
    assert store.is_estimate("taux_chomage_15_64", "perimetre") is False
    assert store.is_estimate("densite", "perimetre") is False  # shipped indicator

    # reference() side by side: commune, its département, its région, France (estimate)
    reference = store.reference("taux_pauvrete", "commune", "74042")
    assert reference == {
        "commune": 14.0,
        "departement": 9.8,
        "region": 12.6,
        "france": pytest.approx(12.6),
    }

    indicator = store.catalogue["taux_pauvrete"]
    assert indicator.theme == "Pauvreté et emploi" and indicator.unit == "%"
    assert indicator.source == "Insee, Revenus, pauvreté et niveau de vie (Filosofi 2021)"
    assert indicator.vintage == "2021 (géographie COG 2025)"
    assert indicator.licence == "Licence Ouverte / Etalab"
    assert "PR_MD60" in indicator.method and "jamais" in indicator.method
    assert store.catalogue["revenu_median"].polarity == "fragile_si_bas"


def test_filosofi_perimeter_is_a_flagged_weighted_estimate(geo, fetched, restore_perimeters):
    store, _ = store_for(geo)
    # default set: one perimeter per EPCI -> the estimate equals the EPCI's official value
    perimetre = store.values("perimetre", "france")
    assert perimetre.at[EPCI_A, "taux_pauvrete"] == pytest.approx(11.3)
    assert store.coverage("perimetre", store.catalogue["taux_pauvrete"])[EPCI_A] == 1.0

    # perimeter = whole EPCI A + two communes of EPCI B; the rest of B on its own
    membership = pd.Series(
        {**dict.fromkeys(COMMUNES_A, "p1"), "74056": "p1", "74143": "p1"}
        | {"74266": "p2", "74290": "p2"},
        name="perimetre",
    )
    pset = PerimeterSet(
        "Découpage de test",
        "utilisateur",
        membership,
        pd.DataFrame({"code": ["p1", "p2"], "nom": ["P1", "P2"], "portage": ["", ""]}),
    )
    geo.set_perimeters(pset)
    store.values("commune")  # the store follows the geography's active set
    values = store.values("perimetre", "france")
    persons = {
        EPCI_A: 26520.0,
        "74056": filosofi_value(("74056", "COM"), 1),
        "74143": filosofi_value(("74143", "COM"), 1),
    }
    rates = {EPCI_A: 11.3, "74056": 11.0, "74143": 9.5}
    assert values.at["p1", "taux_pauvrete"] == pytest.approx(weighted(rates, persons))
    medians = {EPCI_A: 24900.0, "74056": 27500.0, "74143": 26000.0}
    assert values.at["p1", "revenu_median"] == pytest.approx(weighted(medians, persons))
    assert values.at["p1", "menages_fiscaux"] == 11750 + 4200 + 1400
    # both communes of p2 are secret for the poverty rate: missing, not zero
    assert np.isnan(values.at["p2", "taux_pauvrete"])
    assert values.at["p2", "revenu_median"] == 25500.0  # 74266 only (74290 secret)
    coverage = store.coverage("perimetre", store.catalogue["revenu_median"])
    assert coverage["p1"] == 1.0 and coverage["p2"] == 0.5
    assert store.is_estimate("revenu_median", "perimetre")


def test_filosofi_without_persons_uses_population_as_weight(geo, cache, tmp_path):
    path = filosofi_zip(tmp_path / "f.zip", drop_per=True)
    table = build_official("filosofi", parse_mod.parse("filosofi", path), geo)
    assert "population municipale" in table.estimates["taux_pauvrete"]
    assert any("population municipale utilisée" in note for note in table.report["notes"])
    store = IndicatorStore(geo)
    store.add_official(table)
    assert store.values("epci", "france").at[EPCI_A, "taux_pauvrete"] == 11.3
    population = geo.epcis.set_index("code")["population"]
    assert store.components("perimetre").at[EPCI_A, "taux_pauvrete__poids"] == population[EPCI_A]


# --------------------------------------------------------------------------- census


def census_rate(codes, numerator: int, denominator: int) -> float:
    return (
        100 * sum(CENSUS[c][numerator] for c in codes) / sum(CENSUS[c][denominator] for c in codes)
    )


def test_census_parts_are_ratios_of_summed_counts(geo, fetched):
    store, messages = store_for(geo)
    assert messages["census"].startswith("chargé (millésime 2022, ")
    commune = store.values("commune", "france")
    assert commune.at["74042", "taux_chomage_15_64"] == pytest.approx(100 * 700 / 6100)
    assert commune.at["74042", "part_75_ans_plus"] == pytest.approx(100 * 1050 / 12700)
    # Paris arrondissements (no 75056 row in the file) summed into the commune
    assert commune.at["75056", "taux_chomage_15_64"] == pytest.approx(
        census_rate(["75101", "75102"], 4, 3)
    )
    old = sum(CENSUS[c][1] + CENSUS[c][2] for c in COMMUNES_A)
    expected_old = 100 * old / sum(CENSUS[c][0] for c in COMMUNES_A)
    epci = store.values("epci", "france")
    expected = census_rate(COMMUNES_A, 4, 3)
    mean_of_rates = np.mean([100 * CENSUS[c][4] / CENSUS[c][3] for c in COMMUNES_A])
    assert epci.at[EPCI_A, "taux_chomage_15_64"] == pytest.approx(expected)
    assert expected != pytest.approx(mean_of_rates, abs=0.01)
    assert epci.at[EPCI_A, "part_75_ans_plus"] == pytest.approx(expected_old)
    both = COMMUNES_A + COMMUNES_B
    for level, code in (("departement", "74"), ("region", "84")):
        values = store.values(level, "france")
        assert values.at[code, "taux_chomage_15_64"] == pytest.approx(census_rate(both, 4, 3))
    france = store.values("france")
    assert france.at["FR", "taux_chomage_15_64"] == pytest.approx(
        census_rate(both + ["75101", "75102"], 4, 3)
    )
    assert store.coverage("epci", store.catalogue["taux_chomage_15_64"])[EPCI_A] == 1.0
    assert store.coverage("departement", store.catalogue["part_75_ans_plus"])["74"] < 0.1

    # perimeters (one per EPCI by default): sums over the perimeter's communes
    perimetre = store.values("perimetre", "france")
    assert perimetre.at[EPCI_B, "taux_chomage_15_64"] == pytest.approx(
        census_rate(COMMUNES_B, 4, 3)
    )
    assert not store.is_estimate("part_75_ans_plus", "perimetre")

    # join report: the unknown code is counted, the arrondissements remapped
    reports = join_reports(store)["census"]["commune"]
    assert [u["valeur"] for u in reports.unmatched] == ["99999"]
    assert {r["valeur"] for r in reports.remapped} == {"75101", "75102"}
    assert any("plusieurs lignes" in note for note in reports.notes)
    assert any("1 ligne non rattachée" in line for line in reports.summary_fr())


def test_census_coarser_level_given_by_the_file_is_used_as_published(geo):
    columns = ["population_rp", "pop_75_plus", "actifs_15_64", "chomeurs_15_64"]
    commune = pd.DataFrame(
        [[1000.0, 100.0, 500.0, 50.0]] * 7, index=pd.Index(COMMUNES_A, name="code")
    )
    commune.columns = columns
    epci = pd.DataFrame(
        [[7100.0, 720.0, 3520.0, 300.0]], index=pd.Index([EPCI_A], name="code"), columns=columns
    )
    parsed = parsing.ParsedSource(
        "census", "2022", {"commune": commune, "epci": epci}, {"commune": 7, "epci": 1}
    )
    store = IndicatorStore(geo)
    store.add_official(build_official("census", parsed, geo))
    assert store.values("epci", "france").at[EPCI_A, "taux_chomage_15_64"] == pytest.approx(
        100 * 300 / 3520  # as published for the EPCI, not 100 * 350 / 3500 from the communes
    )
    assert store.values("departement", "france").at["74", "taux_chomage_15_64"] == 10.0


def test_missing_optional_employment_file_leaves_out_unemployment(geo, server, cache, tmp_path):
    files = census_zips(tmp_path / "pub")
    server.publish(files["evol_struct_pop"])  # the employment archive is not published
    fetch("census", origin=server.mirror, timeout=5)
    store, messages = store_for(geo)
    assert "taux_chomage_15_64" not in store.catalogue
    assert "part_75_ans_plus" in store.catalogue
    assert "Taux de chômage des 15-64 ans » indisponible" in messages["census"]


# --------------------------------------------------------------------------- density


def test_density_shares_by_insee_group(geo, fetched):
    store, messages = store_for(geo)
    assert messages["density"].startswith("chargé (millésime 2025, 12 communes")
    commune = store.values("commune", "france")
    assert commune.at["74042", "part_pop_urbain_intermediaire"] == 100.0
    assert commune.at["74042", "part_pop_rural"] == 0.0
    assert commune.at["75056", "part_pop_urbain_dense"] == 100.0
    assert np.isnan(commune.at["01001", "part_pop_rural"])  # not in the file
    population = {code: pmun for code, (_, pmun) in DENSITY.items()}
    population["74312"] = float(geo.communes.set_index("code").at["74312", "population"])
    rural = [c for c in COMMUNES_A if DENSITY[c][0] >= 5]
    expected = 100 * sum(population[c] for c in rural) / sum(population[c] for c in COMMUNES_A)
    epci = store.values("epci", "france")
    assert epci.at[EPCI_A, "part_pop_rural"] == pytest.approx(expected)
    shares = epci.loc[EPCI_A, ["part_pop_urbain_dense", "part_pop_urbain_intermediaire"]]
    assert shares.sum() + epci.at[EPCI_A, "part_pop_rural"] == pytest.approx(100)
    indicator = store.catalogue["part_pop_rural"]
    assert indicator.polarity == "neutre" and indicator.theme == "Démographie"
    assert "5 à 7" in indicator.method and "PMUN22" in indicator.method


# --------------------------------------------------------------------------- CRTE


def test_official_crte_becomes_the_active_perimeter_set(geo, fetched, restore_perimeters):
    store, messages = store_for(geo)
    assert messages["crte"].startswith("disponible (millésime 2025, 2 CRTE, téléchargé le ")
    pset, report = load_official_crte(geo)
    assert pset.kind == "officiel"
    assert pset.name.startswith("CRTE officiels (ANCT, fichier « crte_epci.csv », téléchargé le")
    assert pset.source["sha256"] == source_status.status("crte")["sha256"]
    assert set(pset.membership[pset.membership == "crte_synth_74"].index) == set(
        COMMUNES_A + COMMUNES_B
    )
    table = pset.perimetres.set_index("code")
    assert table.at["crte_synth_74", "date_signature"] == "2022-01-10"
    assert report.n_perimetres == 2
    geo.set_perimeters(pset)
    values = store.values("perimetre", "france")
    persons = {EPCI_A: 26520.0, EPCI_B: 12790.0}
    assert values.at["crte_synth_74", "taux_pauvrete"] == pytest.approx(
        weighted({EPCI_A: 11.3, EPCI_B: 10.2}, persons)
    )
    assert store.is_estimate("taux_pauvrete", "perimetre")
    # census parts: ratios of the counts summed over the CRTE's communes
    both = COMMUNES_A + COMMUNES_B
    assert values.at["crte_synth_74", "taux_chomage_15_64"] == pytest.approx(
        census_rate(both, 4, 3)
    )
    assert not store.is_estimate("taux_chomage_15_64", "perimetre")


# --------------------------------------------------------------------------- failures


def _rename_census(server: Server, folder: Path) -> None:
    for path in census_zips(folder, rename={"P22_POP": "P22_POPULATION"}).values():
        server.publish(path)


def _truncated_filosofi(server: Server, folder: Path) -> None:
    full = filosofi_zip(folder / "full.zip")
    cut = fx.truncated_copy(full, folder / "base-cc-filosofi-2021-geo2025_csv.zip")
    server.publish(cut)


def _html_density(server: Server, folder: Path) -> None:
    page = folder / "grille_densite_7_niveaux_2025.xlsx"
    server.publish(page, fx.HTML_ERROR_PAGE, content_type="text/html; charset=utf-8")


FAILURES = {
    "colonne-renommee": ("census", _rename_census, "colonne", "taux_chomage_15_64"),
    "zip-tronque": ("filosofi", _truncated_filosofi, "zip", "taux_pauvrete"),
    "page-html": ("density", _html_density, "html", "part_pop_rural"),
}


@pytest.mark.parametrize("case", list(FAILURES))
def test_failed_update_keeps_the_previous_data_loaded(case, geo, fetched, server, tmp_path):
    source_id, break_it, kind, indicator = FAILURES[case]
    store, _ = store_for(geo)
    before = store.values("epci", "france")[indicator].copy()
    (tmp_path / "v2").mkdir()
    break_it(server, tmp_path / "v2")
    with pytest.raises(FetchError) as info:
        fetch(source_id, origin=server.mirror, timeout=5)
    assert info.value.kind == kind

    fresh, messages = store_for(geo)
    assert messages[source_id].startswith("chargé (")
    pd.testing.assert_series_equal(fresh.values("epci", "france")[indicator], before)
    entry = {s["id"]: s for s in status_fr(fresh)}[source_id]
    assert entry["present"] is True and entry["ok"] is False and entry["charge"] is True
    assert entry["etat"] == "échec de la dernière mise à jour"
    assert "restent utilisées" in entry["message"] and info.value.message in entry["message"]


def test_unreadable_cache_falls_back_to_the_previous_version(geo, fetched, server, cache, tmp_path):
    changed = dict(FILOSOFI)
    changed[(EPCI_A, "EPCI")] = ("11750", "26520", "25100", "11.9")
    server.publish(filosofi_zip(tmp_path / "v2" / "base-cc-filosofi-2021-geo2025_csv.zip", changed))
    fetch("filosofi", origin=server.mirror, timeout=5)
    store, messages = store_for(geo)
    assert store.values("epci", "france").at[EPCI_A, "taux_pauvrete"] == 11.9
    (cache / "filosofi.zip").write_bytes(b"PK\x03\x04 damaged on disk")
    fresh, messages = store_for(geo)
    assert "version précédente utilisée" in messages["filosofi"]
    assert fresh.values("epci", "france").at[EPCI_A, "taux_pauvrete"] == 11.3

    # the CRTE loader falls back the same way
    fetch("crte", origin=server.mirror, timeout=5)  # second download: a previous copy
    (cache / "crte.epci_crte.csv").write_bytes(b"\x00\x01\x02")
    pset, _ = load_official_crte(geo)
    assert "version précédente" in pset.name and pset.source["version"] == "précédente"


def test_register_official_is_idempotent(geo, fetched):
    store, first = store_for(geo)
    tables = dict(store.official_tables)
    store.values("epci", "france")
    computed = set(store._cache)
    again = register_official(store)
    assert again == first
    assert all(store.official_tables[name] is table for name, table in tables.items())
    assert set(store._cache) == computed  # nothing dropped, nothing rebuilt
    assert len([i for i in store.catalogue if i.id == "taux_pauvrete"]) == 1


# --------------------------------------------------------------------------- no cache


def test_without_cache_the_store_runs_on_embedded_data(geo, cache):
    store, messages = store_for(geo)
    assert messages == dict.fromkeys(("crte", "filosofi", "census", "density"), ABSENT_FR)
    assert store.official_tables == {}
    assert not OFFICIAL_IDS & {i.id for i in store.catalogue}
    assert store.values("region").shape[0] == 13
    assert not store.is_estimate("taux_pauvrete", "perimetre")
    assert load_official_crte(geo) is None
    entries = status_fr(store)
    assert [e["id"] for e in entries] == ["crte", "filosofi", "census", "density"]
    for entry in entries:
        assert entry["present"] is False and entry["etat"] == "absent"
        assert "Mettre à jour les données officielles" in entry["message"]
        assert entry["charge"] is False and entry["telecharge_le"] is None
    census = entries[2]
    assert census["indicateurs"] == ["taux_chomage_15_64", "part_75_ans_plus"]
    assert census["a_verifier"] and "à vérifier" in census["a_verifier"][0]


def test_status_after_download(geo, fetched):
    store, _ = store_for(geo)
    entries = {e["id"]: e for e in status_fr(store)}
    filosofi = entries["filosofi"]
    assert filosofi["ok"] is True and filosofi["etat"] == "à jour" and filosofi["charge"]
    assert filosofi["lignes"] == {"commune": 12, "epci": 2, "departement": 1, "region": 1}
    assert filosofi["lignes_texte"] == "12 communes, 2 EPCI, 1 département, 1 région"
    assert filosofi["sha256"] == source_status.status("filosofi")["sha256"]
    assert filosofi["millesime"] == "2021" and filosofi["editeur"] == "Insee"
    assert filosofi["telecharge_le"] and " à " in filosofi["telecharge_le"]
    assert any("1 ligne non rattachée" in line for line in filosofi["rattachement"])
    assert entries["crte"]["charge"] is False  # perimeters: activated separately


def test_cli_fragility_uses_the_cached_official_indicators(geo, fetched, capsys):
    import json

    from territorial.analysis.fragility_cli import cli_fragility

    code = cli_fragility("epci", "france", "taux_pauvrete", None, None, "france", True)
    payload = json.loads(capsys.readouterr().out)
    assert code == 0
    ranked = {row["code"] for row in payload["table"] if row["score"] is not None}
    assert EPCI_A in ranked
