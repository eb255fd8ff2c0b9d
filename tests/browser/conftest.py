"""Real-browser harness: a Streamlit server and a headless Debian Chromium driven by Playwright.

Chromium is the Debian package (``apt-get install -y chromium``, done by ``.ci/run``), launched
through Playwright's ``executable_path``: no browser download is ever needed. Without it the
browser tests are skipped on a developer machine, and fail when ``REQUIRE_BROWSER=1`` (CI).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
]
SERVER_TIMEOUT = 60  # seconds for /_stcore/health to answer
# Tall, so that most pages fit and the full-page screenshots need no resize (and no map repaint).
VIEWPORT = {"width": 1400, "height": 2000}


def _unavailable(reason: str):
    """Skip on a developer machine; fail in CI (``REQUIRE_BROWSER=1``)."""
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(
            f"REQUIRE_BROWSER=1 but the browser tests cannot run: {reason}. "
            "Install Debian's chromium (`apt-get install -y chromium`, as .ci/run does) "
            "and the playwright Python package (requirements-dev.txt).",
            pytrace=False,
        )
    pytest.skip(f"browser tests skipped: {reason} (set REQUIRE_BROWSER=1 to make this an error)")


def chromium_path() -> str | None:
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium launched by Playwright (skips or fails when unavailable)."""
    executable = chromium_path()
    if executable is None:
        _unavailable("no `chromium` executable on PATH nor at /usr/bin/chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        _unavailable(f"the playwright Python package is not installed ({error})")
    manager = sync_playwright().start()
    try:
        try:
            chromium = manager.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except Exception as error:  # noqa: BLE001 - any launch failure means "no browser"
            _unavailable(f"Chromium at {executable} failed to start: {error}")
        yield chromium
        chromium.close()
    finally:
        manager.stop()


def _free_port() -> int:
    """A free port, from 8800-8899 when one is (the range kept for this project's servers)."""
    for port in [*range(8800, 8900), 0]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError("no free port")


def _stop(process: subprocess.Popen) -> None:
    """Terminate the server's whole process group, then kill it if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextlib.contextmanager
def streamlit_server(tmp: Path, database_url: str, port: int | None = None):
    """``streamlit run app.py`` on a free port with its own database; yields its base URL."""
    workspace = tmp / "workspace"
    workspace.mkdir(exist_ok=True)
    log_path = tmp / f"server-{port or 'auto'}.log"
    port = port or _free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["TERRITORIAL_WORKSPACE"] = str(workspace)
    env["TERRITORIAL_DATABASE_URL"] = database_url
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.headless", "true",
        # Other people may edit the sources while the suite runs: never rerun on file change.
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"streamlit exited with code {process.returncode} before answering:\n"
                    + log_path.read_text(errors="replace")[-3000:],
                    pytrace=False,
                )
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"streamlit did not answer {base}/_stcore/health within {SERVER_TIMEOUT} s:\n"
                    + log_path.read_text(errors="replace")[-3000:],
                    pytrace=False,
                )
            time.sleep(0.3)
        yield base
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def start_server():
    """:func:`streamlit_server`, for tests that start their own servers."""
    return streamlit_server


@pytest.fixture(scope="session")
def server_tmp(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("streamlit")


@pytest.fixture(scope="session")
def app_database_url(server_tmp) -> str:
    """The (SQLite) database of the :func:`app_url` server, for tests that prepare data."""
    return f"sqlite:///{server_tmp / 'territorial.sqlite3'}"


@pytest.fixture(scope="session")
def app_url(server_tmp, app_database_url):
    """Base URL of ``streamlit run app.py`` on a free port, with a temporary database."""
    with streamlit_server(server_tmp, app_database_url) as base:
        yield base


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """``test-artifacts/screenshots/`` (gitignored), emptied of the previous run's images."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    return SCREENSHOTS


@pytest.fixture
def page(browser, app_url):
    """A fresh French-locale browser page (own context, so no state leaks between tests)."""
    context = browser.new_context(viewport=VIEWPORT, locale="fr-FR", base_url=app_url)
    context.set_default_timeout(30_000)
    tab = context.new_page()
    yield tab
    context.close()
