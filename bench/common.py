"""What every measure of the benchmark shares: paths, levels, budgets, the results, a Streamlit server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import numpy as np

__all__ = [
    "APP",
    "APPS",
    "SERVED",
    "BUDGETS",
    "BenchError",
    "CHROMIUM_ARGS",
    "CYCLE",
    "FIRST_INDICATOR",
    "KB",
    "LEVELS",
    "MB",
    "NAIVE",
    "Plan",
    "RESULTS",
    "ROOT",
    "Results",
    "SESSION_ATTEMPTS",
    "SESSION_LEVEL",
    "Server",
    "VIEWPORT",
    "chromium_path",
    "free_port",
    "log",
    "machine_cpu",
    "median",
    "p95",
]


ROOT = Path(__file__).resolve().parent.parent

APP = ROOT / "main.py"  # the pages (AppTest)
SERVED_APP = ROOT / "app.py"  # what `streamlit run` serves

NAIVE = ROOT / "bench" / "naive_app.py"

RESULTS = ROOT / "bench" / "results"

APPS = {"ours": APP, "baseline": NAIVE}  # scripts run by AppTest
SERVED = {"ours": SERVED_APP, "baseline": NAIVE}  # scripts served by `streamlit run`

# Levels measured: key -> (niveau, perimetre d'étude). "France" means the app's national
# default, metropolitan France (34,746 communes).
LEVELS = {
    "region": ("region", "metropole"),
    "departement": ("departement", "metropole"),
    "perimetre": ("perimetre", "metropole"),
    "epci": ("epci", "metropole"),
    "commune_region84": ("commune", "region:84"),
    "commune_france": ("commune", "metropole"),
}

FIRST_INDICATOR = "population"

# Switches go round this cycle. It is longer than Streamlit's client message cache
# (global.maxCachedMessageAge = 2 runs): going back and forth between TWO indicators would
# let Streamlit send a 40-byte reference instead of the figure, for us and the baseline.
CYCLE = (
    "densite",
    "part_maires_70_ans_plus",
    "superficie_km2",
    "age_moyen_maires",
    "part_pop_communes_moins_2000",
    "part_femmes_conseil_municipal",
    "distance_pole_10000_km",
    "heures_mairie_pour_1000_hab",
    "distance_pole_10000_max_km",
)

SESSION_LEVEL = "epci"

SESSION_ATTEMPTS = 3  # tries of the server-only 10-session test

KB, MB = 1_000, 1_000_000  # decimal units throughout (1 kB = 1,000 bytes)

BUDGETS = {
    "rerun_ms.median.epci": 150,
    "switch_bytes.epci": 60 * KB,
    "switch_bytes.commune_france": 1 * MB,
    "first_load_bytes.epci": 2 * MB,
    "first_load_bytes.commune_france": 12 * MB,
    "first_load_bytes.commune_region84": 2 * MB,
    "first_map_s.commune_france": 5,  # issue 16: the first national commune map painted
    "switch_click_to_map_ms.commune_france": 3000,  # issue 16: click to the new map painted
    "start_to_first_map_s": 4,
    "server_rss_mb.all_levels": 600,
    "sessions10.click_to_map_ms.p95": 2000,
    "sessions10.server_rerun_ms.p95": 1000,
    "core.load_display_levels_ms": 1000,  # issue 2: "well under a second"
    "core.join_aggregate_35k_ms": 300,
    "core.dissolve_833_cached_disk_ms": 50,
    "core.dissolve_833_cached_memory_ms": 50,
}

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
]

VIEWPORT = {"width": 1400, "height": 900}


@dataclass
class Plan:
    """Repetitions and limits of one run (full or quick)."""

    quick: bool
    levels: list[str]  # levels measured for our app
    baseline_levels: list[str]  # levels where the baseline's reruns are measured too
    baseline_browser_levels: list[str]  # levels where the baseline is measured in Chromium
    rerun_n: int  # AppTest switches for our app (>= 20 in the full run)
    rerun_min_baseline: int  # the baseline does at least this many...
    rerun_cap_baseline_s: float  # ...then stops after this many seconds per level
    browser_switches: int
    browser_switches_baseline: int  # 1 at commune level for all France
    sessions: bool
    sessions_n: int
    session_switches: int
    session_switches_baseline: int
    session_cap_s: float  # no new switch starts after this (each session)
    core_warmup: int
    core_reps: int
    load_reps: int  # fresh processes that load every display level
    dissolve_cold_reps: int
    dissolve_cached_reps: int
    dissolve_baseline: bool
    deadline_s: float  # optional baseline parts do not start after this (seconds of run)
    hard_limit_s: float  # and their waits are cut so as to end before this

    @classmethod
    def make(cls, quick: bool) -> Plan:
        if quick:
            return cls(
                quick=True,
                levels=[k for k in LEVELS if k != "commune_france"],
                baseline_levels=["region", "epci"],
                baseline_browser_levels=["region"],
                rerun_n=5,
                rerun_min_baseline=2,
                rerun_cap_baseline_s=3,
                browser_switches=2,
                browser_switches_baseline=1,
                sessions=False,
                sessions_n=0,
                session_switches=0,
                session_switches_baseline=0,
                session_cap_s=0,
                core_warmup=0,
                core_reps=1,
                load_reps=1,
                dissolve_cold_reps=1,
                dissolve_cached_reps=5,
                dissolve_baseline=False,
                deadline_s=float("inf"),  # nothing is skipped in the smoke mode
                hard_limit_s=float("inf"),
            )
        return cls(
            quick=False,
            levels=list(LEVELS),
            baseline_levels=list(LEVELS),
            baseline_browser_levels=list(LEVELS),
            rerun_n=20,
            rerun_min_baseline=3,
            rerun_cap_baseline_s=10,
            browser_switches=4,
            browser_switches_baseline=2,
            sessions=True,
            sessions_n=10,
            session_switches=5,
            session_switches_baseline=1,
            session_cap_s=45,
            core_warmup=1,
            core_reps=5,
            load_reps=5,
            dissolve_cold_reps=3,
            dissolve_cached_reps=20,
            dissolve_baseline=True,
            deadline_s=500,
            hard_limit_s=585,
        )


class BenchError(RuntimeError):
    """A measurement could not be made (an app raised, a page never drew its map...)."""


# --------------------------------------------------------------------------- results
@dataclass
class Results:
    figures: list[dict] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def add(self, name: str, unit: str, ours, baseline=None, digits: int = 1) -> None:
        budget = BUDGETS.get(name)
        ours = _round(ours, digits)
        baseline = _round(baseline, digits)
        ratio = None
        if ours is not None and baseline is not None and ours > 0:
            ratio = round(baseline / ours, 2)
        met = None if budget is None or ours is None else bool(ours <= budget)
        self.figures.append(
            {
                "name": name,
                "unit": unit,
                "ours": ours,
                "baseline": baseline,
                "ratio": ratio,
                "budget": budget,
                "met": met,
            }
        )
        log(f"  {name}: ours={ours} baseline={baseline} ratio={ratio} budget={budget} met={met}")

    def note(self, text: str) -> None:
        self.meta.setdefault("notes", []).append(text)
        log(f"NOTE: {text}")


def _round(value, digits: int):
    if value is None:
        return None
    value = float(value)
    if not np.isfinite(value):
        return None
    return int(round(value)) if digits == 0 else round(value, digits)


def median(values) -> float | None:
    return float(np.median(values)) if len(values) else None


def p95(values) -> float | None:
    return float(np.percentile(values, 95)) if len(values) else None


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def chromium_path() -> str | None:
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A ``streamlit run`` process of one app, its start time and its memory."""

    def __init__(self, name: str, script: Path, log_dir: Path):
        self.name, self.script = name, script
        self.port = free_port()
        self.log_path = log_dir / f"server-{name}.log"
        self.proc: subprocess.Popen | None = None
        self.t0 = 0.0
        self.wall0 = 0.0  # the same instant in wall-clock time (the app's own marks)

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(self.script),
            "--server.port",
            str(self.port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--server.fileWatcherType",
            "none",
            "--browser.gatherUsageStats",
            "false",
        ]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log_file = self.log_path.open("w")
        env = {**os.environ, "TERRITORIAL_STARTUP_LOG": "1"}  # the app's start-up marks
        self.t0, self.wall0 = time.perf_counter(), time.time()
        self.proc = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        log_file.close()

    async def wait_healthy(self, timeout: float = 120) -> float:
        url = f"http://127.0.0.1:{self.port}/_stcore/health"
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name} server exited; see {self.log_path}")
            try:
                ok = await asyncio.to_thread(_get_ok, url)
            except (urllib.error.URLError, ConnectionError, OSError):
                ok = False
            if ok:
                return time.perf_counter() - self.t0
            await asyncio.sleep(0.05)
        raise BenchError(f"{self.name} server not healthy after {timeout} s; see {self.log_path}")

    def url(
        self, level: str | None = None, scope: str | None = None, indicator: str | None = None
    ) -> str:
        params = {}
        if level:
            params = {"niveau": level, "perimetre": scope, "indicateur": indicator}
        query = f"?{urlencode(params)}" if params else ""
        return f"http://127.0.0.1:{self.port}/{query}"

    def rss_mb(self) -> float:
        """Resident memory (VmRSS) of the server process, in MB (10^6 bytes)."""
        with open(f"/proc/{self.proc.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024 / MB
        raise BenchError("no VmRSS in /proc status")

    def cpu_s(self) -> float:
        """CPU time (user + system) used so far by the server process, in seconds."""
        with open(f"/proc/{self.proc.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=15)


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


def _get_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as response:
        return response.status == 200


def _timeout(plan: Plan, results: Results, baseline: bool, waits: int) -> float:
    """Seconds allowed to each of ``waits`` waits: generous, but a slow baseline must not
    push the full run past ``plan.hard_limit_s``."""
    if not baseline:
        return 180.0
    left = (plan.hard_limit_s - results.elapsed()) / max(waits, 1)
    return max(20.0, min(300.0, left))


def _loadavg() -> list[float] | None:
    with contextlib.suppress(OSError):
        return [round(x, 2) for x in os.getloadavg()]
    return None
