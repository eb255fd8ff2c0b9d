"""End-to-end tests of the official-data download layer (``territorial.sources.fetch``).

Everything is served by a local ``ThreadingHTTPServer`` on 127.0.0.1 from the
synthetic fixtures of ``tests/fixtures_official.py``; no test reaches the
internet.
"""

from __future__ import annotations

import hashlib
import io
import json
import socket
import ssl
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fixtures_official as fx  # noqa: E402

from territorial.sources import cache as cache_mod  # noqa: E402
from territorial.sources import download, transfer  # noqa: E402
from territorial.sources import fetch as fetch_mod  # noqa: E402
from territorial.sources.cache import cache_dir
from territorial.sources.cli import cli_fetch
from territorial.sources.fetch import fetch
from territorial.sources.manifest import FetchError, load_manifest
from territorial.sources.parse import parse
from territorial.sources.status import load_cached, status, statuses

SOURCES = ("crte", "filosofi", "census", "density")
MANIFEST = load_manifest()


# --------------------------------------------------------------------------- local server


@dataclass
class Route:
    body: bytes
    status: int = 200
    content_type: str = "application/octet-stream"
    declared_length: int | None = None
    location: str | None = None


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self.server.requests.append(self.path)  # type: ignore[attr-defined]
        route = self.server.routes.get(self.path.split("?", 1)[0])  # type: ignore[attr-defined]
        if route is None:
            route = Route(fx.HTML_ERROR_PAGE, status=404, content_type="text/html")
        self.send_response(route.status)
        if route.location:
            self.send_header("Location", route.location)
        self.send_header("Content-Type", route.content_type)
        length = route.declared_length if route.declared_length is not None else len(route.body)
        if length >= 0:  # -1: no Content-Length, the body ends with the connection
            self.send_header("Content-Length", str(length))
        else:
            self.close_connection = True
        self.end_headers()
        self.wfile.write(route.body)

    def log_message(self, *args: object) -> None:  # silence the test output
        pass


@dataclass
class Server:
    httpd: ThreadingHTTPServer
    routes: dict[str, Route] = field(default_factory=dict)
    scheme: str = "http"
    host: str | None = None
    requests: list[str] = field(default_factory=list)

    def url(self, path: str = "/") -> str:
        host, port = self.httpd.server_address[:2]
        return f"{self.scheme}://{self.host or host}:{port}{path}"

    def publish(self, path: str, body: bytes, **options: object) -> None:
        self.routes[path] = Route(body, **options)  # type: ignore[arg-type]


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv = Server(httpd)
    httpd.routes = srv.routes  # type: ignore[attr-defined]
    httpd.requests = srv.requests  # type: ignore[attr-defined]
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield srv
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory) -> tuple[Path, Path]:
    """A local certificate authority and a certificate for ``localhost`` (trustme)."""
    trustme = pytest.importorskip("trustme")
    folder = tmp_path_factory.mktemp("tls")
    authority = trustme.CA()
    authority.cert_pem.write_to_path(str(folder / "ca.pem"))
    authority.issue_cert("localhost").private_key_and_cert_chain_pem.write_to_path(
        str(folder / "server.pem")
    )
    return folder / "ca.pem", folder / "server.pem"


@pytest.fixture
def https_server(tls_files, monkeypatch):
    """The same local server over https as ``https://localhost:PORT`` (CA trusted)."""
    ca_file, server_file = tls_files
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(server_file))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    srv = Server(httpd, scheme="https", host="localhost")
    httpd.routes = srv.routes  # type: ignore[attr-defined]
    httpd.requests = srv.requests  # type: ignore[attr-defined]
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield srv
    httpd.shutdown()
    httpd.server_close()


def use_manifest(monkeypatch, tmp_path: Path, source_id: str, **urls: str) -> dict:
    """Point the manifest's resources of ``source_id`` to ``urls``; the new manifest."""
    manifest = json.loads(json.dumps(MANIFEST))
    manifest[source_id]["resources"] = urls
    manifest[source_id].pop("allowed_hosts", None)
    manifest_path = tmp_path / "official.json"
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    monkeypatch.setenv("TERRITORIAL_MANIFEST", str(manifest_path))
    return manifest


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("TERRITORIAL_CACHE_DIR", str(directory))
    monkeypatch.delenv("TERRITORIAL_MANIFEST", raising=False)
    monkeypatch.delenv("TERRITORIAL_OFFICIAL_FROM", raising=False)
    return directory


def closed_port_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/mirror/"


def mirror_names(source_id: str) -> dict[str, str]:
    spec = MANIFEST[source_id]
    return {name: cache_mod._mirror_name(spec, name) for name in spec["resources"]}


def publish_source(
    server: Server, source_id: str, folder: Path, **options: object
) -> dict[str, Path]:
    files = fx.write_source_files(source_id, folder, mirror_names(source_id), **options)
    for path in files.values():
        server.publish(f"/mirror/{path.name}", path.read_bytes())
    return files


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cache_snapshot(directory: Path) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes()
        for p in directory.iterdir()
        if p.is_file() and not p.name.endswith(".status.json")
    }


def assert_same_tables(left, right) -> None:
    assert left.tables.keys() == right.tables.keys()
    for level in left.tables:
        pd.testing.assert_frame_equal(left.tables[level], right.tables[level])


# --------------------------------------------------------------------------- manifest


def test_manifest_describes_the_four_sources():
    assert list(MANIFEST) == ["crte", "filosofi", "census", "density"]
    for source_id, spec in MANIFEST.items():
        assert spec["id"] == source_id
        assert spec["licence"] in ("Licence Ouverte 2.0", "Licence Ouverte / Etalab")
        assert spec["kind"] in ("csv", "zip", "xlsx")
        assert spec["page_url"].startswith("https://")
        assert set(spec["method"]) == set(spec["levels"])
        assert set(spec["expected_columns"]) <= set(spec["levels"])
        assert spec["assumptions"]
        for name, url in spec["resources"].items():
            assert url.startswith("https://"), url
            assert spec["resource_details"][name]["mirror_name"]
    emploi = MANIFEST["census"]["resource_details"]["emploi_pop_active"]
    assert emploi["a_verifier"] is True and emploi["statut"] == "à vérifier"
    assert emploi["required"] is False


def test_urls_live_only_in_the_manifest():
    modules = Path(fetch_mod.__file__).parent.glob("*.py")
    for module in (m for m in modules if m.name != "download.py"):  # its doctests name hosts
        code = module.read_text(encoding="utf-8")
        for host in ("insee.fr", "data.gouv.fr"):
            assert host not in code, module.name


def test_cache_dir_follows_environment(cache):
    assert cache_dir() == cache


# --------------------------------------------------------------------------- end to end


@pytest.mark.parametrize("source_id", SOURCES)
def test_fetch_end_to_end(source_id, server, cache, tmp_path):
    files = publish_source(server, source_id, tmp_path / "published")
    calls: list[tuple[int, int | None]] = []
    result = fetch(
        source_id,
        origin=server.url("/mirror/"),
        progress=lambda done, total: calls.append((done, total)),
        timeout=5,
    )
    spec = MANIFEST[source_id]
    assert result.ok and result.source_id == source_id

    # cache files: exact copies, named <id>.<ext> or <id>.<resource>.<ext>
    for name, path in files.items():
        cached = cache_mod._current_path(cache, spec, name)
        assert cached.read_bytes() == path.read_bytes()
        assert result.resources[name]["sha256"] == sha256(path)
        assert result.resources[name]["size"] == path.stat().st_size
    expected_names = {
        "crte": {"crte.epci_crte.csv", "crte.groupements.csv"},
        "filosofi": {"filosofi.zip"},
        "census": {"census.evol_struct_pop.zip", "census.emploi_pop_active.zip"},
        "density": {"density.xlsx"},
    }[source_id]
    assert set(cache_snapshot(cache)) == expected_names
    assert not list(cache.glob("*.part")) and not list(cache.glob(".*.part"))

    # status file
    record = status(source_id)
    assert record is not None
    assert record["ok"] is True and record["error"] is None
    assert record["source_id"] == source_id and record["vintage"] == spec["vintage"]
    primary = next(iter(spec["resources"]))
    assert record["sha256"] == sha256(files[primary])
    assert record["url"] == server.url(f"/mirror/{files[primary].name}")
    assert record["size"] == sum(p.stat().st_size for p in files.values())
    assert record["rows"] == result.parsed.rows and all(n > 0 for n in record["rows"].values())
    datetime.fromisoformat(record["fetched_at"])
    assert json.loads((cache / f"{source_id}.status.json").read_text("utf-8")) == record

    # progress: called for every resource, monotonic, ends on the full size
    assert calls[0] == (0, files[primary].stat().st_size)
    assert calls[-1][0] == calls[-1][1] == list(files.values())[-1].stat().st_size
    ends = [done for done, total in calls if done == total and done > 0]
    assert len(ends) == len(files)

    # the cached version reads back identically
    assert_same_tables(load_cached(source_id), result.parsed)


def test_filosofi_long_layout_tables(server, cache, tmp_path):
    publish_source(server, "filosofi", tmp_path / "pub")
    parsed = fetch("filosofi", origin=server.url("/mirror/"), timeout=5).parsed
    assert parsed.rows == {"commune": 4, "epci": 2, "departement": 3, "region": 3}
    commune = parsed.tables["commune"]
    assert list(commune.index) == ["01001", "01004", "2A004", "75056"]
    assert commune.index.name == "code"
    assert list(commune.columns) == [
        "menages_fiscaux",
        "personnes_menages_fiscaux",
        "revenu_median",
        "taux_pauvrete",
    ]
    assert all(dtype == "float64" for dtype in commune.dtypes)
    assert commune.loc["01001", "revenu_median"] == 24520.0
    assert pd.isna(commune.loc["01001", "taux_pauvrete"])  # CONF_STATUS = C
    assert parsed.secret_counts["commune"]["taux_pauvrete"] == 1
    assert "75101" not in commune.index  # ARM rows are another GEO_OBJECT
    assert list(parsed.tables["epci"].index) == ["200000172", "200054781"]
    assert list(parsed.tables["departement"].index) == ["01", "2A", "75"]
    assert "84" in parsed.tables["region"].index
    assert parsed.tables["region"].loc["84", "taux_pauvrete"] == 12.6
    assert parsed.years["revenu_median"] == "2021"
    assert parsed.source_columns["commune"]["taux_pauvrete"] == "PR_MD60"


def test_filosofi_wide_layout_and_secret_markers(tmp_path, cache):
    path = fx.write_filosofi_zip(tmp_path / "wide.zip", layout="wide")
    parsed = parse("filosofi", path)
    commune = parsed.tables["commune"]
    assert pd.isna(commune.loc["2A004", "revenu_median"])  # "nd"
    assert pd.isna(commune.loc["2A004", "taux_pauvrete"])  # "ns"
    assert pd.isna(commune.loc["01001", "taux_pauvrete"])  # "s"
    assert commune.loc["75056", "taux_pauvrete"] == 15.1
    assert parsed.secret_counts["commune"] == {
        "menages_fiscaux": 0,
        "personnes_menages_fiscaux": 0,
        "revenu_median": 1,
        "taux_pauvrete": 2,
    }
    assert list(parsed.tables["epci"].index) == ["200000172", "200054781"]
    assert any("ZZZZZZZZZ" in warning for warning in parsed.warnings)
    assert parsed.source_columns["commune"]["revenu_median"] == "MED21"
    assert parsed.years["taux_pauvrete"] == "2021"


def test_filosofi_other_year_gives_a_warning(tmp_path, cache):
    path = tmp_path / "f.zip"
    fx._write_zip(path, {"DS_FILOSOFI_CC_data.csv": fx.filosofi_long_csv(period="2022")})
    parsed = parse("filosofi", path)
    assert parsed.years["revenu_median"] == "2022"
    assert any("millésime 2022" in warning for warning in parsed.warnings)


def test_census_tables(server, cache, tmp_path):
    publish_source(server, "census", tmp_path / "pub")
    parsed = fetch("census", origin=server.url("/mirror/"), timeout=5).parsed
    commune = parsed.tables["commune"]
    assert list(commune.index) == ["01001", "01004", "2A004", "75056"]  # 75101 dropped
    assert commune.loc["01001", "population_rp"] == 832.0
    assert commune.loc["01001", "pop_75_plus"] == 70 + 12  # P22_POP7589 + P22_POP90P
    assert commune.loc["01004", "actifs_15_64"] == 7900.25
    assert commune.loc["01004", "chomeurs_15_64"] == 900.75
    assert parsed.source_columns["commune"]["pop_75_plus"] == "P22_POP7589 + P22_POP90P"
    assert parsed.source_columns["commune"]["population_rp"] == "P22_POP"  # not P16_POP
    assert parsed.years == {
        "population_rp": "2022",
        "pop_75_plus": "2022",
        "actifs_15_64": "2022",
        "chomeurs_15_64": "2022",
    }
    assert any("arrondissement" in warning for warning in parsed.warnings)


def test_census_uses_pop75p_when_published(tmp_path, cache):
    files = fx.write_source_files("census", tmp_path, mirror_names("census"), with_pop75p=True)
    parsed = parse("census", files)
    assert parsed.source_columns["commune"]["pop_75_plus"] == "P22_POP75P"
    assert parsed.tables["commune"].loc["2A004", "pop_75_plus"] == 8000.0


def test_density_table(server, cache, tmp_path):
    publish_source(server, "density", tmp_path / "pub")
    parsed = fetch("density", origin=server.url("/mirror/"), timeout=5).parsed
    commune = parsed.tables["commune"]
    assert list(commune.index) == ["01001", "01004", "2A004", "75056"]  # 1004 -> 01004
    assert commune["densite_classe"].tolist() == [6.0, 3.0, 2.0, 1.0]
    assert commune.loc["75056", "population_densite"] == 2.1e6
    assert parsed.source_columns["commune"] == {
        "densite_classe": "DENS",
        "population_densite": "PMUN22",
    }


def test_crte_raw_rows(server, cache, tmp_path):
    publish_source(server, "crte", tmp_path / "pub")
    parsed = fetch("crte", origin=server.url("/mirror/"), timeout=5).parsed
    rows = parsed.tables["perimetre_rows"]
    assert list(rows.columns) == MANIFEST["crte"]["expected_columns"]["perimetre_rows"]
    assert rows["siren_groupement"].tolist() == ["200000172", "200054781", "242000354"]
    assert rows["dep_chef_file"].tolist() == ["01", "75", "2A"]
    assert all(pd.api.types.is_string_dtype(rows[c]) for c in rows.columns)
    groupements = parsed.tables["groupements_rows"]  # comma-separated file
    assert groupements["date_signature"].tolist() == ["2022-03-15", "2021-12-20"]
    assert parsed.rows == {"perimetre_rows": 3, "groupements_rows": 2}


def test_crte_file_as_the_anct_publishes_it_is_enough(cache):
    """The real ANCT table alone (no « groupements » table) is accepted and becomes a set."""
    from territorial import load_geography
    from territorial.sources.official import load_official_crte

    result = fetch("crte", origin="data/raw/anct_crte_groupements_2022_epci-and-crte.csv")
    assert result.ok, result
    assert set(result.parsed.tables) == {"perimetre_rows"}
    pset, report = load_official_crte(load_geography())
    assert report.scopes["metropole"]["n_perimetres"] == 832 and report.unknown_codes == []
    assert "date_signature" not in pset.perimetres.columns


# --------------------------------------------------------------------------- origins


def test_manifest_urls_with_redirect(https_server, cache, tmp_path, monkeypatch):
    server = https_server
    files = fx.write_source_files("crte", tmp_path / "pub", mirror_names("crte"))
    server.publish("/static/crte_epci.csv", files["epci_crte"].read_bytes())
    server.publish(
        "/datasets/r/epci", b"", status=302, location=server.url("/static/crte_epci.csv")
    )
    server.publish("/api/r/groupements", files["groupements"].read_bytes())
    use_manifest(
        monkeypatch,
        tmp_path,
        "crte",
        epci_crte=server.url("/datasets/r/epci"),
        groupements=server.url("/api/r/groupements"),
    )

    result = fetch("crte", timeout=5)  # origin None: URLs of the manifest
    epci = result.resources["epci_crte"]
    assert epci["url"] == server.url("/datasets/r/epci")
    assert epci["final_url"] == server.url("/static/crte_epci.csv")
    assert status("crte")["origin"] == "manifeste"


def test_mirror_accepts_a_full_file_url(server, cache, tmp_path):
    publish_source(server, "density", tmp_path / "pub")
    result = fetch(
        "density", origin=server.url("/mirror/grille_densite_7_niveaux_2025.xlsx"), timeout=5
    )
    assert result.parsed.rows == {"commune": 4}


def test_local_file_origin(cache, tmp_path):
    files = fx.write_source_files("density", tmp_path / "downloads", mirror_names("density"))
    calls: list[tuple[int, int | None]] = []
    result = fetch(
        "density", origin=str(files["grille"]), progress=lambda d, t: calls.append((d, t))
    )
    assert result.resources["grille"]["url"] == str(files["grille"])
    assert status("density")["origin"] == str(files["grille"])
    assert calls[-1] == (files["grille"].stat().st_size,) * 2
    assert (cache / "density.xlsx").read_bytes() == files["grille"].read_bytes()


def test_local_folder_and_file_origin_for_multi_resource_source(cache, tmp_path):
    folder = tmp_path / "downloads"
    files = fx.write_source_files("census", folder, mirror_names("census"))
    by_folder = fetch("census", origin=str(folder))
    # a single file: the other resources are looked up beside it
    by_file = fetch("census", origin=str(files["emploi_pop_active"]))
    assert_same_tables(by_folder.parsed, by_file.parsed)
    assert by_file.resources["emploi_pop_active"]["url"] == str(files["emploi_pop_active"])


def test_missing_local_file(cache, tmp_path):
    with pytest.raises(FetchError) as info:
        fetch("density", origin=str(tmp_path / "absent.xlsx"))
    assert info.value.kind == "local"
    assert "introuvable" in info.value.message


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "address",
    ["file:///etc/passwd", "/etc/passwd", "/proc/self/environ", "http://{host}/x.csv"],
    ids=["file-url", "chemin-local", "proc", "http-sans-tls"],
)
def test_manifest_address_kinds_refused(address, https_server, cache, tmp_path, monkeypatch):
    host = https_server.url("/")[len("https://") :].rstrip("/")
    use_manifest(
        monkeypatch,
        tmp_path,
        "crte",
        epci_crte=address.format(host=host),
        groupements=https_server.url("/g.csv"),
    )
    with pytest.raises(FetchError) as info:
        fetch("crte", timeout=5)
    assert info.value.kind == "refus"
    assert "adresse refusée" in info.value.message
    assert "root:" not in info.value.message
    assert not list(cache.glob("crte.*.csv"))


def test_other_host_refused_before_any_request(https_server):
    spec = {
        "resources": {"a": https_server.url("/a.csv")},
        "resource_details": {"a": {}},
    }
    policy = download.policy_for(spec)
    other = https_server.url("/a.csv").replace("localhost", "127.0.0.1")
    with pytest.raises(download.Refused) as info:
        download.open_url(other, policy, timeout=5, headers={})
    assert "l'hôte 127.0.0.1 n'est pas un hôte autorisé (localhost)" in info.value.reason
    assert not https_server.requests


@pytest.mark.parametrize(
    "target",
    [
        "https://127.0.0.1:{port}/files/e.csv",
        "http://localhost:{port}/files/e.csv",
        "file:///etc/passwd",
    ],
    ids=["autre-hote", "vers-http", "vers-fichier"],
)
def test_redirect_outside_the_manifest_hosts_refused(
    target, https_server, cache, tmp_path, monkeypatch
):
    port = https_server.httpd.server_address[1]
    files = fx.write_source_files("crte", tmp_path / "pub", mirror_names("crte"))
    https_server.publish("/files/e.csv", files["epci_crte"].read_bytes())
    https_server.publish("/r/e", b"", status=302, location=target.format(port=port))
    https_server.publish("/g.csv", files["groupements"].read_bytes())
    use_manifest(
        monkeypatch,
        tmp_path,
        "crte",
        epci_crte=https_server.url("/r/e"),
        groupements=https_server.url("/g.csv"),
    )
    with pytest.raises(FetchError) as info:
        fetch("crte", timeout=5)
    assert info.value.kind == "refus"
    assert "redirection vers" in info.value.message and "refusée" in info.value.message
    assert https_server.requests == ["/r/e"]  # the target was never requested


def test_redirect_from_mirror_to_another_host_keeps_previous_data(server, cache, tmp_path):
    publish_source(server, "density", tmp_path / "v1")
    fetch("density", origin=server.url("/mirror/"), timeout=5)
    snapshot = cache_snapshot(cache)
    port = server.httpd.server_address[1]
    server.publish(
        "/mirror/grille_densite_7_niveaux_2025.xlsx",
        b"",
        status=302,
        location=f"http://localhost:{port}/mirror/grille_densite_7_niveaux_2025.xlsx",
    )
    with pytest.raises(FetchError) as info:
        fetch("density", origin=server.url("/mirror/"), timeout=5)
    assert info.value.kind == "refus"
    assert cache_snapshot(cache) == snapshot
    assert status("density")["ok"] is False and status("density")["has_data"] is True
    assert load_cached("density").rows == {"commune": 4}


def _cap_manifest(monkeypatch, tmp_path, source_id: str, cap: int) -> None:
    manifest = json.loads(json.dumps(MANIFEST))
    for details in manifest[source_id]["resource_details"].values():
        details["max_bytes"] = cap
    path = tmp_path / "capped.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    monkeypatch.setenv("TERRITORIAL_MANIFEST", str(path))


@pytest.mark.parametrize("declared", [None, -1], ids=["taille-annoncee", "taille-non-annoncee"])
def test_oversize_download_refused(declared, server, cache, tmp_path, monkeypatch):
    files = publish_source(server, "density", tmp_path / "v1")
    fetch("density", origin=server.url("/mirror/"), timeout=5)
    snapshot = cache_snapshot(cache)
    body = files["grille"].read_bytes()
    _cap_manifest(monkeypatch, tmp_path, "density", len(body) - 1)
    server.publish(f"/mirror/{files['grille'].name}", body, declared_length=declared)
    with pytest.raises(FetchError) as info:
        fetch("density", origin=server.url("/mirror/"), timeout=5)
    assert info.value.kind == "taille"
    assert "dépasse la taille maximale" in info.value.message
    assert cache_snapshot(cache) == snapshot
    assert not list(cache.glob(".*.part"))


def test_oversize_or_special_local_files_refused(cache, tmp_path, monkeypatch):
    files = fx.write_source_files("density", tmp_path / "downloads", mirror_names("density"))
    _cap_manifest(monkeypatch, tmp_path, "density", 100)
    with pytest.raises(FetchError) as info:
        fetch("density", origin=str(files["grille"]))
    assert info.value.kind == "taille"
    with pytest.raises(FetchError) as info:
        fetch("density", origin="/dev/zero")
    assert info.value.kind == "local" and "pas un fichier ordinaire" in info.value.message


def test_archive_too_large_once_decompressed_refused(server, cache, tmp_path, monkeypatch):
    publish_source(server, "filosofi", tmp_path / "v1")
    monkeypatch.setattr(transfer, "MAX_UNCOMPRESSED_BYTES", 1000)
    with pytest.raises(FetchError) as info:
        fetch("filosofi", origin=server.url("/mirror/"), timeout=5)
    assert info.value.kind == "taille"
    assert "une fois décompressé" in info.value.message


def test_administrator_mirror_from_environment(server, cache, tmp_path, monkeypatch):
    publish_source(server, "density", tmp_path / "v1")
    monkeypatch.setenv("TERRITORIAL_OFFICIAL_FROM", server.url("/mirror/"))
    result = fetch("density", timeout=5)
    assert result.status["origin"] == server.url("/mirror/")
    assert result.parsed.rows == {"commune": 4}


# --------------------------------------------------------------------------- failures


@dataclass
class Failure:
    source: str
    setup: Callable[[Server, Path], str | None]
    expected: tuple[str, ...]
    kind: str


def _republish(source: str, **options: object) -> Callable[[Server, Path], None]:
    def setup(server: Server, folder: Path) -> None:
        publish_source(server, source, folder, **options)

    return setup


def _serve(name: str, body: bytes | Callable[[Path], bytes], **route: object):
    def setup(server: Server, folder: Path) -> None:
        data = body(folder) if callable(body) else body
        server.publish(f"/mirror/{name}", data, **route)

    return setup


def _truncated(folder: Path) -> bytes:
    path = fx.write_filosofi_zip(folder / "full.zip")
    return fx.truncated_copy(path, folder / "cut.zip").read_bytes()


def _crc(folder: Path) -> bytes:
    folder.mkdir(parents=True, exist_ok=True)
    return fx.corrupted_member_zip(folder / "crc.zip").read_bytes()


def _interrupted(server: Server, folder: Path) -> None:
    body = fx.write_filosofi_zip(folder / "f.zip").read_bytes()
    server.publish(
        "/mirror/base-cc-filosofi-2021-geo2025_csv.zip",
        body[: len(body) // 2],
        declared_length=len(body),
    )


def _remove(name: str):
    def setup(server: Server, folder: Path) -> None:
        server.routes.pop(f"/mirror/{name}")

    return setup


FILOSOFI_ZIP = "base-cc-filosofi-2021-geo2025_csv.zip"
CENSUS_ZIP = "base-cc-evol-struct-pop-2022_csv.zip"

FAILURES = {
    "colonne-recensement-renommee": Failure(
        "census",
        _republish("census", rename_columns={"P22_POP": "P22_POPULATION"}),
        ("colonne attendue absente", "« P22_POP »"),
        "colonne",
    ),
    "colonne-filosofi-renommee": Failure(
        "filosofi",
        _republish("filosofi", rename_columns={"OBS_VALUE": "VALEUR"}),
        ("colonne attendue absente", "OBS_VALUE"),
        "colonne",
    ),
    "mesure-filosofi-renommee": Failure(
        "filosofi",
        _republish("filosofi", rename_measures={"MED_SL": "MEDIAN_SL"}),
        ("mesure attendue absente", "MED_SL"),
        "colonne",
    ),
    "colonne-densite-renommee": Failure(
        "density",
        _republish("density", rename_columns={"DENS": "CLASSE_X"}),
        ("colonne attendue absente", "DENS"),
        "colonne",
    ),
    "colonne-crte-renommee": Failure(
        "crte",
        _republish("crte", rename_columns={"id_crte": "identifiant"}),
        ("colonne attendue absente", "id_crte"),
        "colonne",
    ),
    "zip-tronque": Failure("filosofi", _serve(FILOSOFI_ZIP, _truncated), ("tronqué",), "zip"),
    "zip-corrompu": Failure("filosofi", _serve(FILOSOFI_ZIP, _crc), ("corrompu",), "zip"),
    "html-statut-200": Failure(
        "census",
        _serve(CENSUS_ZIP, fx.HTML_ERROR_PAGE, content_type="text/html; charset=utf-8"),
        ("page HTML",),
        "html",
    ),
    "html-statut-500": Failure(
        "filosofi",
        _serve(FILOSOFI_ZIP, fx.HTML_ERROR_PAGE, status=500, content_type="text/html"),
        ("HTTP 500",),
        "http",
    ),
    "http-404": Failure(
        "density", _remove("grille_densite_7_niveaux_2025.xlsx"), ("HTTP 404",), "http"
    ),
    "connexion-refusee": Failure(
        "crte",
        lambda server, folder: closed_port_url(),
        ("Impossible de joindre 127.0.0.1", "pas de connexion"),
        "reseau",
    ),
    "transfert-interrompu": Failure("filosofi", _interrupted, ("interrompu",), "reseau"),
    "fichier-vide": Failure("crte", _serve("crte_epci.csv", b""), ("vide",), "vide"),
}


@pytest.mark.parametrize("case", list(FAILURES), ids=list(FAILURES))
def test_failure_leaves_previous_version_in_place(case, server, cache, tmp_path):
    failure = FAILURES[case]
    source_id = failure.source
    publish_source(server, source_id, tmp_path / "v1")
    origin = server.url("/mirror/")
    first = fetch(source_id, origin=origin, timeout=5)
    snapshot = cache_snapshot(cache)
    before = status(source_id)

    bad_origin = failure.setup(server, tmp_path / "v2") or origin
    with pytest.raises(FetchError) as info:
        fetch(source_id, origin=bad_origin, timeout=5)
    error = info.value
    for text in failure.expected:
        assert text in error.message, error.message
    assert error.kind == failure.kind
    assert error.source_id == source_id
    assert f"({source_id})" in error.message  # the source is named
    assert str(error) == error.message

    assert cache_snapshot(cache) == snapshot  # no new, removed or changed file
    assert not list(cache.glob(".*.part"))
    assert_same_tables(load_cached(source_id), first.parsed)
    record = status(source_id)
    assert record["ok"] is False and record["error"] == error.message
    assert record["error_kind"] == failure.kind
    assert record["fetched_at"] == before["fetched_at"]
    assert record["sha256"] == before["sha256"]
    assert record["has_data"] is True


def test_failure_without_cached_data(cache):
    with pytest.raises(FetchError):
        fetch("crte", origin=closed_port_url(), timeout=5)
    record = status("crte")
    assert record["ok"] is False and record["has_data"] is False
    assert record["fetched_at"] is None
    assert load_cached("crte") is None
    assert status("density") is None
    assert statuses() == {"crte": record, "filosofi": None, "census": None, "density": None}


def test_previous_version_is_kept_after_an_update(server, cache, tmp_path):
    v1 = publish_source(server, "filosofi", tmp_path / "v1")
    fetch("filosofi", origin=server.url("/mirror/"), timeout=5)
    v2 = publish_source(
        server, "filosofi", tmp_path / "v2", overrides={("01001", "COM", "MED_SL"): "25000"}
    )
    result = fetch("filosofi", origin=server.url("/mirror/"), timeout=5)
    assert (cache / "filosofi.previous.zip").read_bytes() == v1["base_cc"].read_bytes()
    assert (cache / "filosofi.zip").read_bytes() == v2["base_cc"].read_bytes()
    assert result.status["previous"]["sha256"] == sha256(v1["base_cc"])
    assert load_cached("filosofi").tables["commune"].loc["01001", "revenu_median"] == 25000.0


def test_optional_resource_failure_keeps_cached_copy(server, cache, tmp_path):
    publish_source(server, "census", tmp_path / "v1")
    fetch("census", origin=server.url("/mirror/"), timeout=5)
    server.routes.pop("/mirror/base-cc-emploi-pop-active-2022_csv.zip")
    result = fetch("census", origin=server.url("/mirror/"), timeout=5)
    assert any("emploi_pop_active" in w and "HTTP 404" in w for w in result.warnings)
    assert result.resources["emploi_pop_active"]["updated"] is False
    assert result.resources["evol_struct_pop"]["updated"] is True
    assert result.parsed.tables["commune"].loc["01001", "actifs_15_64"] == 400.0


def test_optional_resource_missing_without_cache_leaves_empty_columns(server, cache, tmp_path):
    publish_source(server, "census", tmp_path / "v1")
    server.routes.pop("/mirror/base-cc-emploi-pop-active-2022_csv.zip")
    result = fetch("census", origin=server.url("/mirror/"), timeout=5)
    commune = result.parsed.tables["commune"]
    assert commune["actifs_15_64"].isna().all()
    assert commune["population_rp"].notna().all()
    assert "census.emploi_pop_active.zip" not in cache_snapshot(cache)


def test_unknown_source(cache):
    with pytest.raises(FetchError) as info:
        fetch("inconnue")
    assert info.value.kind == "source_inconnue"
    assert "crte, filosofi, census, density" in info.value.message


# --------------------------------------------------------------------------- command line


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_cli_fetch_text_summary(server, cache, tmp_path):
    publish_source(server, "density", tmp_path / "pub")
    out, err = io.StringIO(), _Tty()
    code = cli_fetch("density", server.url("/mirror/"), False, stdout=out, stderr=err, timeout=5)
    assert code == 0
    assert "✓ Grille communale de densité" in out.getvalue()
    assert "4 communes" in out.getvalue()
    assert "Bilan : 1 source(s) à jour, 0 en échec." in out.getvalue()
    assert "Téléchargement density/grille" in err.getvalue()
    assert "100 %" in err.getvalue() and "[####" in err.getvalue()


def test_cli_fetch_all_as_json(server, cache, tmp_path):
    for source_id in SOURCES:
        publish_source(server, source_id, tmp_path / source_id)
    out, err = io.StringIO(), io.StringIO()
    code = cli_fetch("all", server.url("/mirror/"), True, stdout=out, stderr=err, timeout=5)
    assert code == 0
    report = json.loads(out.getvalue())
    assert report["ok"] is True
    assert list(report["sources"]) == list(SOURCES)
    assert report["sources"]["census"]["status"]["rows"] == {"commune": 4}


def test_cli_fetch_offline(server, cache, tmp_path):
    publish_source(server, "crte", tmp_path / "pub")
    cli_fetch("crte", server.url("/mirror/"), False, stdout=io.StringIO(), stderr=io.StringIO())
    out = io.StringIO()
    code = cli_fetch("crte", closed_port_url(), False, stdout=out, stderr=io.StringIO(), timeout=5)
    text = out.getvalue()
    assert code == 1
    assert "Impossible de joindre 127.0.0.1 : pas de connexion ?" in text
    assert "Les données déjà en cache restent utilisées." in text
    assert "Données en cache conservées" in text
    assert "Bilan : 0 source(s) à jour, 1 en échec." in text


def test_cli_fetch_failure_as_json_and_unknown_source(cache):
    out = io.StringIO()
    code = cli_fetch("crte", closed_port_url(), True, stdout=out, stderr=io.StringIO(), timeout=5)
    report = json.loads(out.getvalue())
    assert code == 1 and report["ok"] is False
    assert report["sources"]["crte"]["error_kind"] == "reseau"
    err = io.StringIO()
    assert cli_fetch("nope", None, False, stdout=io.StringIO(), stderr=err) == 1
    assert "Source inconnue" in err.getvalue()
