"""Benchmark « cartes rapides » : l'application contre la manière naïve, en une seule exécution.

Usage::

    python bench/run.py            # run everything, Markdown table on stdout
    python bench/run.py --json     # same, the JSON contract on stdout
    python bench/run.py --quick    # smoke mode (< 2 min): fewer repetitions, no 10-session
                                   # test, no commune-level map of all France

Every figure compares this app ("ours") with a naive baseline written for the purpose
(``bench/naive_app.py``: ``plotly.express.choropleth_map`` with the level's whole GeoJSON
embedded in the figure, rebuilt on every rerun). The output is a list of objects
``{name, unit, ours, baseline, ratio, budget, met}`` where ``ratio = baseline / ours``
(``null`` without a baseline) and ``met`` tells whether ``ours <= budget`` (``null``
without a budget). It is also written to ``bench/results/latest.json``; details (number of
samples, byte breakdown per message type, machine load, skipped parts) go to
``bench/results/latest-meta.json``. See ``bench/README.md`` for what each figure means.

Progress is logged on stderr. The browser parts need Debian's Chromium
(``/usr/bin/chromium``) and the playwright Python package; without them they are skipped
with a note, unless ``REQUIRE_BROWSER=1``, which makes their absence an error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlparse

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

APP = ROOT / "app.py"
NAIVE = ROOT / "bench" / "naive_app.py"
RESULTS = ROOT / "bench" / "results"
APPS = {"ours": APP, "baseline": NAIVE}

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
    "start_to_first_map_s": 6,
    "server_rss_mb.all_levels": 600,
    "sessions10.click_to_map_ms.p95": 2000,
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


# --------------------------------------------------------------------------- 5. core
def synthetic_csv(geo, n_rows: int = 35_000, n_columns: int = 20, seed: int = 20251124) -> bytes:
    """A 35,000-row commune table with 20 numeric columns, French CSV (``;`` and ``,``).

    Every commune of the geography (34,875) plus rows with foreign INSEE codes (99xxx, which
    do not join and are reported), values drawn from a seeded generator: half counts
    (summed), half rates (population-weighted means), a few secret cells.
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    codes = list(geo.communes["code"])
    codes += [f"99{i:03d}" for i in range(1, n_rows - len(codes) + 1)]
    codes = codes[:n_rows]
    frame = pd.DataFrame({"code_insee": codes})
    half = n_columns // 2
    for i in range(half):
        frame[f"Nombre d'équipements {i + 1}"] = rng.poisson(20 + 5 * i, len(codes))
    for i in range(n_columns - half):
        rates = rng.normal(40 + i, 12, len(codes)).clip(0, 100).round(2)
        frame[f"Taux de couverture {i + 1} (%)"] = rates
    text = frame.to_csv(sep=";", decimal=",", index=False)
    lines = text.splitlines()
    for j in range(5, len(lines), 997):  # a few secret cells, as in INSEE files
        cells = lines[j].split(";")
        cells[-1] = "s"
        lines[j] = ";".join(cells)
    return ("\n".join(lines) + "\n").encode("utf-8")


LOAD_SCRIPT = """
import json, time
import territorial
t0 = time.perf_counter()
geo = territorial.load_geography()
for scope in ("metropole", "france"):
    for level in ("region", "departement", "perimetre", "epci", "commune"):
        geo.table(level, scope)
print(json.dumps({"ms": (time.perf_counter() - t0) * 1000}))
"""


def bench_core_load(plan: Plan, results: Results) -> None:
    """Cold load of every display level, in a fresh process (imports excluded)."""
    log(f"core: cold load of every display level ({plan.load_reps} fresh processes)")
    times = []
    for _ in range(plan.load_reps):
        proc = subprocess.run(
            [sys.executable, "-c", LOAD_SCRIPT],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        times.append(json.loads(proc.stdout.strip().splitlines()[-1])["ms"])
    results.meta["core_load"] = {"n": len(times), "ms": [round(t, 1) for t in times]}
    results.add("core.load_display_levels_ms", "ms", median(times))


def bench_core_join(geo, plan: Plan, results: Results) -> None:
    from territorial.indicators.join import join_table, to_user_indicators
    from territorial.indicators.store import AGGREGATION_LEVELS, IndicatorStore
    from territorial.indicators.tables import read_table

    log("core: join + aggregation of a 35,000-row commune table")
    data = synthetic_csv(geo)
    store = IndicatorStore(geo)
    population = geo.communes.set_index("code")["population"]
    name = "bench_35000"
    steps: dict[str, list[float]] = {"read": [], "join": [], "indicators": [], "store": []}
    totals = []
    report = None
    for rep in range(plan.core_warmup + plan.core_reps):  # warm-up: imports, regexes
        store.remove(name)
        t0 = time.perf_counter()
        raw = read_table(data, "bench_35000.csv")
        t1 = time.perf_counter()
        result = join_table(raw, geo)
        t2 = time.perf_counter()
        table = to_user_indicators(result, name, population)
        t3 = time.perf_counter()
        store.add(table)
        for level in AGGREGATION_LEVELS:
            store.values(level, "france")
        t4 = time.perf_counter()
        report = result.report
        if rep < plan.core_warmup:
            continue
        totals.append((t4 - t0) * 1000)
        for key, (a, b) in zip(steps, [(t0, t1), (t1, t2), (t2, t3), (t3, t4)], strict=True):
            steps[key].append((b - a) * 1000)
    if report is None or report.level != "commune" or len(table.indicators) != 20:
        raise BenchError(f"unexpected join of the synthetic table: {report}")
    results.meta["core_join"] = {
        "rows": 35_000,
        "numeric_columns": 20,
        "csv_bytes": len(data),
        "matched": report.matched,
        "unmatched": len(report.unmatched),
        "levels": list(AGGREGATION_LEVELS),
        "n": len(totals),
        "steps_median_ms": {k: round(median(v), 1) for k, v in steps.items()},
    }
    results.add("core.join_aggregate_35k_ms", "ms", median(totals))


def synthetic_perimeters(geo, target: int = 833):
    """SYNTHETIC set of ``target`` perimeters: EPCIs of each département grouped in pairs.

    Pairs are formed round-robin across départements (first two EPCIs of each département,
    then the next two...) until the set has ``target`` perimeters (833, like the ANCT's
    CRTE); the other EPCIs stay alone. It is NOT the official CRTE set.
    """
    import pandas as pd

    from territorial.perimeters.model import PerimeterSet

    epcis = geo.epcis[["code", "departement"]].sort_values(["departement", "code"])
    by_dep = {dep: list(group["code"]) for dep, group in epcis.groupby("departement", sort=True)}
    merges = max(len(epcis) - target, 0)
    pairs = dict.fromkeys(by_dep, 0)
    round_ = 0
    while merges > 0:
        progressed = False
        for dep, codes in by_dep.items():
            if merges and 2 * (round_ + 1) <= len(codes):
                pairs[dep] += 1
                merges -= 1
                progressed = True
        round_ += 1
        if not progressed:
            break
    epci_to_pid, rows = {}, []
    for dep, codes in by_dep.items():
        groups = [codes[2 * i : 2 * i + 2] for i in range(pairs[dep])]
        groups += [[c] for c in codes[2 * pairs[dep] :]]
        for members in groups:
            pid = f"SYNTH{len(rows) + 1:04d}"
            rows.append(
                {
                    "code": pid,
                    "nom": f"Périmètre SYNTHÉTIQUE {len(rows) + 1} ({dep})",
                    "n_epci": len(members),
                    "portage": "un EPCI" if len(members) == 1 else "plusieurs EPCI",
                }
            )
            for code in members:
                epci_to_pid[code] = pid
    membership = geo.communes.set_index("code")["epci"].map(epci_to_pid).dropna()
    return PerimeterSet(
        name="SYNTHÉTIQUE (benchmark) : EPCI regroupés par paires dans chaque département",
        kind="utilisateur",
        membership=membership.rename("perimetre"),
        perimetres=pd.DataFrame(rows),
        source={"description": "Jeu SYNTHÉTIQUE généré par bench/run.py, pas le jeu CRTE."},
    )


def bench_core_dissolve(geo, plan: Plan, results: Results) -> None:
    from territorial.perimeters import model as perimeters

    pset = synthetic_perimeters(geo)
    n = int(pset.perimetres.shape[0])
    log(f"core: dissolve of a synthetic {n}-perimeter set")
    communes = geo.communes
    cold = []
    for _ in range(plan.dissolve_cold_reps):
        perimeters._MEMO.clear()
        t0 = time.perf_counter()
        shapes = perimeters.dissolve_perimeters(pset, communes, cache_dir=None)
        cold.append((time.perf_counter() - t0) * 1000)
    if len(shapes) != n:
        raise BenchError(f"dissolve returned {len(shapes)} shapes for {n} perimeters")
    with tempfile.TemporaryDirectory(prefix="bench-dissolve-") as cache_dir:
        perimeters._MEMO.clear()
        perimeters.dissolve_perimeters(pset, communes, cache_dir=cache_dir)  # writes the cache
        disk, memory = [], []
        for _ in range(plan.dissolve_cached_reps):
            perimeters._MEMO.clear()
            t0 = time.perf_counter()
            perimeters.dissolve_perimeters(pset, communes, cache_dir=cache_dir)
            disk.append((time.perf_counter() - t0) * 1000)
        for _ in range(plan.dissolve_cached_reps):
            t0 = time.perf_counter()
            perimeters.dissolve_perimeters(pset, communes, cache_dir=cache_dir)
            memory.append((time.perf_counter() - t0) * 1000)
    perimeters._MEMO.clear()
    baseline = None
    if plan.dissolve_baseline:
        log("core: baseline dissolve (geopandas GeoDataFrame.dissolve)")
        frame = communes[["code", "geometry"]].assign(
            perimetre=communes["code"].map(pset.membership)
        )
        t0 = time.perf_counter()
        frame.dropna(subset=["perimetre"]).dissolve(by="perimetre")
        baseline = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    pset.content_hash()
    hash_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    perimeters._communes_fingerprint(communes)
    fingerprint_ms = (time.perf_counter() - t0) * 1000
    results.meta["core_dissolve"] = {
        "perimeters": n,
        "synthetic": True,
        "description": pset.name,
        "multi_epci": int((pset.perimetres["n_epci"] > 1).sum()),
        "n_cold": len(cold),
        "n_cached": plan.dissolve_cached_reps,
        "baseline": "geopandas GeoDataFrame.dissolve(by='perimetre'), one run"
        if baseline
        else None,
        "cache_key_ms": {
            "content_hash": round(hash_ms, 1),
            "fingerprint": round(fingerprint_ms, 1),
        },
    }
    results.add("core.dissolve_833_cold_ms", "ms", median(cold), baseline)
    results.add("core.dissolve_833_cached_disk_ms", "ms", median(disk))
    results.add("core.dissolve_833_cached_memory_ms", "ms", median(memory))


# --------------------------------------------------------------------------- 1. reruns
def bench_reruns(plan: Plan, results: Results) -> None:
    """Server time of a rerun when switching indicator, via Streamlit's AppTest."""
    import logging

    from streamlit.testing.v1 import AppTest

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    meta = results.meta.setdefault("reruns", {})
    for key in plan.levels:
        level, scope = LEVELS[key]
        samples = {"ours": [], "baseline": []}
        for app, script in APPS.items():
            if app == "baseline" and key not in plan.baseline_levels:
                continue
            log(f"reruns: {app} at level {key}")
            at = AppTest.from_file(str(script), default_timeout=900)
            at.query_params.update(
                {"niveau": level, "perimetre": scope, "indicateur": FIRST_INDICATOR}
            )
            t0 = time.perf_counter()
            at.run()
            first = time.perf_counter() - t0
            _check_apptest(at, app, key)
            times = []
            start = time.perf_counter()
            n = plan.rerun_n
            for i in range(n):
                indicator = CYCLE[i % len(CYCLE)]
                at.selectbox(key="pick-indicateur").set_value(indicator)
                t0 = time.perf_counter()
                at.run()
                times.append((time.perf_counter() - t0) * 1000)
                _check_apptest(at, app, key)
                if at.selectbox(key="pick-indicateur").value != indicator:
                    raise BenchError(f"{app}: the indicator picker did not switch to {indicator}")
                if (
                    app == "baseline"
                    and i + 1 >= plan.rerun_min_baseline
                    and time.perf_counter() - start > plan.rerun_cap_baseline_s
                ):
                    break
            spec = at.get("plotly_chart")
            samples[app] = times
            meta.setdefault(key, {})[app] = {
                "n": len(times),
                "first_run_ms": round(first * 1000, 1),
                "plotly_spec_bytes": len(spec[0].proto.spec) if spec else None,
            }
            del at, spec
            gc.collect()
        results.add(
            f"rerun_ms.median.{key}", "ms", median(samples["ours"]), median(samples["baseline"])
        )
        results.add(f"rerun_ms.p95.{key}", "ms", p95(samples["ours"]), p95(samples["baseline"]))


def bench_sessions_server(plan: Plan, results: Results) -> None:
    """Server side only of the 10-session test: concurrent reruns, no browser.

    ``plan.sessions_n`` AppTest sessions (each its own script thread, sharing the
    process's caches as real sessions do) open the EPCI map, then switch indicator
    together ``plan.session_switches`` times (a barrier starts each round). The time of
    each rerun is what the server spends before the browser could draw.
    """
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    level, scope = LEVELS[SESSION_LEVEL]
    n = plan.sessions_n
    log(f"sessions (server only): {n} AppTest sessions switch together")
    attempts = 0
    while True:  # AppTest is not made for threads: a rare widget-state race is retried
        attempts += 1
        times = _concurrent_sessions(plan, level, scope)
        if isinstance(times, list) or attempts == SESSION_ATTEMPTS:
            break
        log(f"sessions (server only): attempt {attempts} failed ({times}), retrying")
    if not isinstance(times, list):
        raise BenchError(f"concurrent AppTest sessions failed {attempts} times: {times}")
    flat = [t for session_times in times for t in session_times]
    results.meta["sessions_server"] = {
        "sessions": n,
        "switches": plan.session_switches,
        "attempts": attempts,
    }
    results.add(f"sessions{n}.server_rerun_ms.p50", "ms", median(flat))
    results.add(f"sessions{n}.server_rerun_ms.p95", "ms", p95(flat))


def _concurrent_sessions(plan: Plan, level: str, scope: str) -> list[list[float]] | str:
    """Rerun times of each session, or the first error met (as text)."""
    import threading
    from unittest import mock

    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import AppTest

    n = plan.sessions_n
    barrier = threading.Barrier(n)
    times: list[list[float]] = [[] for _ in range(n)]
    errors: list[str] = []

    def session(number: int) -> None:
        try:
            at = AppTest.from_file(str(APPS["ours"]), default_timeout=600)
            at.query_params.update(
                {"niveau": level, "perimetre": scope, "indicateur": FIRST_INDICATOR}
            )
            at.run()
            _check_apptest(at, "ours", SESSION_LEVEL)
            for i in range(plan.session_switches):
                indicator = CYCLE[i % len(CYCLE)]
                at.selectbox(key="pick-indicateur").set_value(indicator)
                barrier.wait(timeout=600)
                t0 = time.perf_counter()
                at.run()
                times[number].append((time.perf_counter() - t0) * 1000)
                _check_apptest(at, "ours", SESSION_LEVEL)
        except Exception as error:  # noqa: BLE001 - returned to the caller
            errors.append(repr(error))
            barrier.abort()

    # One script cache for every session, as in the server (AppTest makes one per run:
    # its threads would recompile the pages together, which CPython 3.11 does not bear).
    shared = ScriptCache()
    with (
        mock.patch("streamlit.testing.v1.app_test.ScriptCache", return_value=shared),
        mock.patch("streamlit.testing.v1.local_script_runner.ScriptCache", return_value=shared),
    ):
        threads = [threading.Thread(target=session, args=(i,)) for i in range(n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return errors[0] if errors else times


def _check_apptest(at, app: str, key: str) -> None:
    if at.exception:
        raise BenchError(f"{app} raised at level {key}: {at.exception[0].value}")
    if not at.get("plotly_chart"):
        raise BenchError(f"{app} drew no map at level {key}")


# --------------------------------------------------------------------------- browser
# Injected in every page: is the map drawn, and a signature of the trace shown.
PAGE_JS = """
window.__bench = {
  gd() { return document.querySelector('.js-plotly-plot'); },
  map() {
    const gd = this.gd();
    const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
    return sub && sub.map;
  },
  drawn() {
    const gd = this.gd();
    if (!gd || !gd._fullData || !gd._fullData.length) return false;
    const z = gd._fullData[0].z;
    if (!z || !z.length) return false;
    if (!gd.querySelector('canvas')) return false;
    const m = this.map();
    if (!m || !m.loaded()) return false;
    const fills = m.getStyle().layers.filter(l => l.type === 'fill').map(l => l.id);
    if (!fills.length) return false;
    return m.queryRenderedFeatures({layers: fills}).length > 0;
  },
  sig() {
    const gd = this.gd();
    if (!gd || !gd._fullData || !gd._fullData.length) return '';
    const t = gd._fullData[0];
    const z = t.z || [];
    let h = 0;
    for (let i = 0; i < z.length; i++) {
      const v = Math.round(+z[i] * 1000);
      if (v === v) h = (h * 31 + v) % 1000000007;
    }
    const first = a => (a && a.length ? JSON.stringify(a[0]) : '');
    return [z.length, h, first(t.hovertext), first(t.customdata), String(t.hovertemplate || '')].join('|');
  },
};
"""


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
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            command, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
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


def _message_kind(data: bytes) -> str:
    """Type of a Streamlit ForwardMsg (element type for new elements), for the breakdown."""
    try:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        msg = ForwardMsg.FromString(data)
    except Exception:  # noqa: BLE001 - not a ForwardMsg: count it apart
        return "other"
    kind = msg.WhichOneof("type") or "other"
    if kind == "delta":
        delta = msg.delta.WhichOneof("type") or "delta"
        if delta == "new_element":
            return f"element:{msg.delta.new_element.WhichOneof('type')}"
        return f"delta:{delta}"
    return kind


class Meter:
    """Bytes the browser receives: websocket frames and HTTP responses, by category.

    Websocket frames are counted as their payload (Streamlit's websocket compression is off
    by default, so it is what goes on the wire); HTTP responses as headers plus the encoded
    (possibly gzipped) body Chromium received (``request.sizes()``).
    """

    CATEGORIES = ("websocket", "app_static", "media", "stcore", "frontend")

    def __init__(self, origin: float | None = None, decode: bool = True) -> None:
        self.pending: set[asyncio.Task] = set()
        self.origin = origin  # when set, the times of key events are kept in ``timeline``
        self.decode = decode  # breakdown of the websocket bytes by message type
        self.first_frame_at: float | None = None
        self.inflight: set = set()  # HTTP requests started and not finished
        self.timeline: dict[str, float] = {}
        self.reset()

    def reset(self) -> None:
        self.finished = 0  # script_finished messages since the reset
        self.bytes = Counter()
        self.kinds = Counter()
        self.urls: dict[str, int] = {}
        self.last = time.perf_counter()

    def attach(self, page) -> None:
        page.on("websocket", self._on_websocket)
        page.on("request", self._on_start)
        page.on("requestfailed", self._on_failed)
        page.on("requestfinished", self._on_request)

    def _on_websocket(self, ws) -> None:
        ws.on("framereceived", self._on_frame)

    def _on_frame(self, payload) -> None:
        data = payload if isinstance(payload, bytes) else str(payload).encode()
        self.bytes["websocket"] += len(data)
        if self.decode or len(data) < 512:  # small frames: to spot script_finished
            kind = _message_kind(data)
            self.kinds[kind] += len(data)
            self.finished += kind == "script_finished"
        self.last = time.perf_counter()
        if self.first_frame_at is None:
            self.first_frame_at = self.last
        if self.origin is not None:
            self.timeline.setdefault("first websocket message", self.last - self.origin)
            self.timeline["last websocket message"] = self.last - self.origin

    def _on_start(self, request) -> None:
        self.inflight.add(request)

    def _on_failed(self, request) -> None:
        self.inflight.discard(request)

    def _on_request(self, request) -> None:
        self.inflight.discard(request)
        if self.origin is not None:
            path = urlparse(request.url).path
            label = None
            if path == "/":
                label = "page HTML"
            elif "PlotlyChart" in path:
                label = "plotly.js bundle"
            elif path.startswith("/app/static/"):
                label = Path(path).name
            if label:
                self.timeline.setdefault(f"{label} loaded", time.perf_counter() - self.origin)
        task = asyncio.ensure_future(self._count(request))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _count(self, request) -> None:
        url = request.url
        if not url.startswith("http"):
            return  # blob: and data: URLs do not travel
        try:
            sizes = await request.sizes()
        except Exception:  # noqa: BLE001 - page closed meanwhile
            return
        size = max(sizes.get("responseBodySize", 0), 0) + max(
            sizes.get("responseHeadersSize", 0), 0
        )
        path = urlparse(url).path
        if path.startswith("/app/static/"):
            category = "app_static"
        elif path.startswith("/media/"):
            category = "media"
        elif path.startswith("/_stcore/"):
            category = "stcore"
        else:
            category = "frontend"  # Streamlit's own page, JS, CSS and fonts
        self.bytes[category] += size
        if category != "frontend":
            self.urls[path] = self.urls.get(path, 0) + size
        self.last = time.perf_counter()

    def app_bytes(self) -> int:
        """What the app makes the browser download: all but Streamlit's constant frontend."""
        return sum(v for k, v in self.bytes.items() if k != "frontend")

    async def quiet(self, idle: float = 0.5, timeout: float = 60) -> None:
        """Wait for the end of the script run and of the requests, then ``idle`` s of calm."""
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            if self.pending:
                await asyncio.gather(*list(self.pending), return_exceptions=True)
            calm = time.perf_counter() - self.last >= idle
            if self.finished and calm and not self.pending and not self.inflight:
                return
            await asyncio.sleep(0.05)
        log("warning: the page did not go quiet (no script_finished?); bytes may be partial")

    def snapshot(self) -> dict:
        return {
            "bytes": dict(self.bytes),
            "app_bytes": self.app_bytes(),
            "kinds": dict(self.kinds.most_common()),
            "urls": dict(self.urls),
        }


# A Streamlit exception box on the page ends any wait (its text becomes the error).
EXCEPTION_JS = """(() => {
  const box = document.querySelector('[data-testid="stException"]');
  return box ? 'exception: ' + box.innerText.slice(0, 500) : null;
})()"""


async def _wait(page, condition: str, timeout_s: float, arg=None, polling=50) -> None:
    """Wait until ``condition`` (a JS expression, ``arg`` in scope) holds; fail fast if the
    app shows an exception."""
    handle = await page.wait_for_function(
        f"(arg) => {EXCEPTION_JS} || (({condition}) ? 'ok' : false)",
        arg=arg,
        polling=polling,
        timeout=timeout_s * 1000,
    )
    value = await handle.json_value()
    if value != "ok":
        raise BenchError(f"the app failed in the browser ({page.url}): {value}")


async def wait_drawn(page, timeout_s: float) -> None:
    await _wait(page, "window.__bench && window.__bench.drawn()", timeout_s)


async def new_page(browser, meter: Meter | None = None):
    context = await browser.new_context(viewport=VIEWPORT)
    await context.add_init_script(PAGE_JS)
    page = await context.new_page()
    if meter is not None:
        meter.attach(page)
    return context, page


async def switch_indicator(page, label: str, timeout_s: float, meter: Meter) -> dict:
    """Pick ``label`` in the « Indicateur » selectbox, in the UI, and wait for the new map.

    The map is "updated" when the plotly trace's data changed (``_fullData[0].z`` and the
    first hover label). Returns ms from the click on the option to the map updated, and
    to the first websocket message of the rerun (the server's answer).
    """
    before = await page.evaluate("() => window.__bench.sig()")
    box = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text("Indicateur", exact=True))
    await box.click(timeout=timeout_s * 1000)
    await page.keyboard.type(label.split(" · ", 1)[-1])  # the list is virtualised: filter it
    option = page.get_by_role("option", name=label, exact=True)
    await option.wait_for(timeout=timeout_s * 1000)
    meter.first_frame_at = None
    t0 = time.perf_counter()
    await option.click()
    await _wait(page, "window.__bench.sig() && window.__bench.sig() !== arg", timeout_s, before, 20)
    done = time.perf_counter()
    first = meter.first_frame_at
    return {
        "ms": (done - t0) * 1000,
        "first_message_ms": (first - t0) * 1000 if first is not None else None,
    }


def indicator_labels() -> dict[str, str]:
    """Option text of each indicator in the picker (``theme · label``)."""
    from territorial.indicators.store import IndicatorStore
    from ui.state import geography
    from ui.widgets import indicator_label

    catalogue = IndicatorStore(geography()).catalogue
    return {i: indicator_label(catalogue[i]) for i in (FIRST_INDICATOR, *CYCLE)}


async def bench_browser(plan: Plan, results: Results) -> None:
    """Figures 2, 3 and 4, both apps served by ``streamlit run`` and driven in Chromium.

    Order: both starts; then level by level, ours then the baseline; right after the EPCI
    level (before the commune levels, whose large arrays would raise the RSS high-water
    mark and hide the cost of a session), the 10-session test, ours then the baseline's.
    In the full run the baseline's parts are skipped, with a note, when they would make the
    run exceed its time limit (loaded machine).
    """
    from playwright.async_api import async_playwright

    labels = indicator_labels()
    meta = results.meta.setdefault("browser", {})
    collected: dict[str, dict] = {app: {"levels": {}} for app in APPS}
    servers = {app: Server(app, script, RESULTS) for app, script in APPS.items()}

    async def level(app: str, key: str) -> None:
        baseline = app == "baseline"
        if baseline and results.elapsed() > plan.deadline_s:
            results.note(f"browser: baseline level {key} skipped (time limit of the run)")
            return
        n_switch = plan.browser_switches_baseline if baseline else plan.browser_switches
        if key == "commune_france":  # each switch re-draws 34,746 polygons
            n_switch = 1 if baseline else min(n_switch, 3)
        timeout = _timeout(plan, results, baseline, waits=1 + n_switch)
        try:
            out = await _measure_level(browser, servers[app], key, n_switch, labels, timeout)
        except Exception as error:  # noqa: BLE001
            if not baseline:
                raise
            results.note(f"browser: baseline level {key} failed: {error!r:.300}")
            return
        collected[app]["levels"][key] = out
        meta.setdefault(app, {}).setdefault("levels", {})[key] = _level_meta(out)

    async def sessions(app: str) -> None:
        baseline = app == "baseline"
        if baseline and results.elapsed() > plan.deadline_s - 200:
            results.note("browser: baseline 10-session test skipped (time limit of the run)")
            return
        n_switch = plan.session_switches_baseline if baseline else plan.session_switches
        timeout = _timeout(plan, results, baseline, waits=3 + n_switch)
        try:
            out = await _sessions(
                browser,
                servers[app],
                plan.sessions_n,
                n_switch,
                plan.session_cap_s,
                labels,
                timeout,
            )
        except Exception as error:  # noqa: BLE001
            if not baseline:
                raise
            results.note(f"browser: baseline 10-session test failed: {error!r:.300}")
            return
        collected[app]["sessions"] = out
        meta.setdefault(app, {})["sessions"] = {k: v for k, v in out.items() if k != "times"} | {
            "times_ms": [round(t, 1) for t in out["times"]]
        }

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        meta["chromium"] = browser.version
        try:
            # 3. process start -> first map, one server at a time (both then stay up)
            for app, server in servers.items():
                await _start_to_first_map(browser, server, collected[app], meta)
            # 2. first load and switches, level by level, ours then the baseline
            for key in plan.levels:
                await level("ours", key)
                if key in plan.baseline_browser_levels:
                    await level("baseline", key)
                # 4. ten concurrent sessions switching indicators
                if key == SESSION_LEVEL and plan.sessions:
                    await sessions("ours")
                    await sessions("baseline")
            # 4. memory with every level loaded
            await asyncio.sleep(1.0)
            for app, server in servers.items():
                collected[app]["rss_all_levels_mb"] = server.rss_mb()
        finally:
            for server in servers.values():
                server.stop()
            await browser.close()
            _browser_figures(plan, results, collected)  # what was measured, even on failure


async def _start_to_first_map(browser, server: Server, out: dict, meta: dict) -> None:
    """Seconds from ``streamlit run`` to the default page's map drawn in Chromium."""
    log(f"browser: start the {server.name} server and wait for its first map")
    server.start()
    health = await server.wait_healthy()
    meter = Meter(origin=server.t0)
    context, page = await new_page(browser, meter)
    opened = time.perf_counter() - server.t0
    await page.goto(server.url(), wait_until="commit")
    await wait_drawn(page, 300)
    out["start_to_first_map_s"] = time.perf_counter() - server.t0
    await context.close()
    meta.setdefault(server.name, {})["start"] = {
        "health_s": round(health, 2),
        "navigation_s": round(opened, 2),
        "map_drawn_s": round(out["start_to_first_map_s"], 2),
        "timeline_s": {
            k: round(v, 2) for k, v in sorted(meter.timeline.items(), key=lambda i: i[1])
        },
    }


def _timeout(plan: Plan, results: Results, baseline: bool, waits: int) -> float:
    """Seconds allowed to each of ``waits`` waits: generous, but a slow baseline must not
    push the full run past ``plan.hard_limit_s``."""
    if not baseline:
        return 180.0
    left = (plan.hard_limit_s - results.elapsed()) / max(waits, 1)
    return max(20.0, min(300.0, left))


async def _measure_level(
    browser, server: Server, key: str, n_switch: int, labels, timeout: float
) -> dict:
    level, scope = LEVELS[key]
    log(f"browser: {server.name} first load and {n_switch} switches at level {key}")
    meter = Meter()
    context, page = await new_page(browser, meter)
    try:
        t0 = time.perf_counter()
        await page.goto(server.url(level, scope, FIRST_INDICATOR), wait_until="commit")
        await wait_drawn(page, timeout)
        first_map = time.perf_counter() - t0
        await meter.quiet()
        first = meter.snapshot()
        switches = []
        for i in range(n_switch):
            meter.reset()
            timing = await switch_indicator(page, labels[CYCLE[i % len(CYCLE)]], timeout, meter)
            await meter.quiet()
            switches.append({**timing, **meter.snapshot()})
    finally:
        await context.close()
    return {"first": first, "first_map_s": first_map, "switches": switches}


def _level_meta(level: dict) -> dict:
    switches = level["switches"]
    return {
        "first_load": level["first"],
        "first_map_s": round(level["first_map_s"], 2),
        "switch_n": len(switches),
        "switch_bytes": [s["app_bytes"] for s in switches],
        "switch_ms": [round(s["ms"], 1) for s in switches],
        "switch_first_message_ms": [_round(s["first_message_ms"], 1) for s in switches],
        "switch_kinds_first": switches[0]["kinds"] if switches else None,
        "switch_urls_first": switches[0]["urls"] if switches else None,
    }


async def _sessions(
    browser, server: Server, n: int, n_switch: int, cap_s: float, labels, timeout
) -> dict:
    """``n`` sessions load the map together, then switch indicators together.

    Each session makes ``n_switch`` switches, but starts no new one after ``cap_s`` seconds.
    """
    level, scope = LEVELS[SESSION_LEVEL]
    log(f"browser: {n} concurrent sessions at level {SESSION_LEVEL}, {n_switch} switches each")
    rss0 = server.rss_mb()
    peak = rss0
    stop = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, server.rss_mb())
            await asyncio.sleep(0.2)

    sampler = asyncio.ensure_future(sample())
    meters = [Meter(decode=False) for _ in range(n)]
    pages = [await new_page(browser, meter) for meter in meters]

    async def load(page) -> None:
        await page.goto(server.url(level, scope, FIRST_INDICATOR), wait_until="commit")
        await wait_drawn(page, timeout)

    times: list[float] = []
    first_messages: list[float] = []

    async def run(i: int, page, start: float) -> None:
        for j in range(n_switch):
            if j and time.perf_counter() - start > cap_s:
                break
            label = labels[CYCLE[(i + j) % len(CYCLE)]]
            timing = await switch_indicator(page, label, timeout, meters[i])
            times.append(timing["ms"])
            if timing["first_message_ms"] is not None:
                first_messages.append(timing["first_message_ms"])

    try:
        t0 = time.perf_counter()
        await asyncio.gather(*(load(page) for _, page in pages))
        load_s = time.perf_counter() - t0
        rss_loaded = server.rss_mb()
        start = time.perf_counter()
        cpu0, machine0 = server.cpu_s(), machine_cpu()
        await asyncio.gather(*(run(i, page, start) for i, (_, page) in enumerate(pages)))
        wall = time.perf_counter() - start
        cpu1, machine1 = server.cpu_s(), machine_cpu()
        rss_after = server.rss_mb()
    finally:
        stop.set()
        await sampler
        for context, _ in pages:
            await context.close()
    return {
        "level": SESSION_LEVEL,
        "sessions": n,
        "switches_per_session": n_switch,
        "concurrent_load_s": round(load_s, 2),
        "rss_before_mb": round(rss0, 1),
        "rss_loaded_mb": round(rss_loaded, 1),
        "rss_after_mb": round(rss_after, 1),
        "rss_peak_mb": round(peak, 1),
        "per_session_mb": (peak - rss0) / n,
        "switching_wall_s": round(wall, 1),
        "switching_server_cpu_s": round(cpu1 - cpu0, 1),
        "switching_machine_busy_share": round(
            (machine1[0] - machine0[0]) / max(machine1[1] - machine0[1], 1), 2
        ),
        "first_message_ms_p50": _round(median(first_messages), 1),
        "first_message_ms_p95": _round(p95(first_messages), 1),
        "times": times,
    }


def _browser_figures(plan: Plan, results: Results, collected: dict) -> None:
    ours, base = collected["ours"], collected.get("baseline", {})
    if "start_to_first_map_s" in ours:
        results.add(
            "start_to_first_map_s",
            "s",
            ours["start_to_first_map_s"],
            base.get("start_to_first_map_s"),
            2,
        )
    first_key = plan.levels[0]
    frontend = {
        app: c["levels"][first_key]["first"]["bytes"].get("frontend")
        for app, c in collected.items()
        if first_key in c.get("levels", {})
    }
    if frontend.get("ours") is not None:
        results.add("frontend_bundle_bytes", "B", frontend["ours"], frontend.get("baseline"), 0)
    for key in plan.levels:
        o = ours["levels"].get(key)
        b = base.get("levels", {}).get(key)
        if o is None:
            continue
        results.add(
            f"first_load_bytes.{key}",
            "B",
            o["first"]["app_bytes"],
            b and b["first"]["app_bytes"],
            0,
        )
        results.add(f"first_map_s.{key}", "s", o["first_map_s"], b and b["first_map_s"], 2)
        o_bytes = [s["app_bytes"] for s in o["switches"]]
        b_bytes = [s["app_bytes"] for s in b["switches"]] if b else []
        results.add(f"switch_bytes.{key}", "B", median(o_bytes), median(b_bytes), 0)
        o_ms = [s["ms"] for s in o["switches"]]
        b_ms = [s["ms"] for s in b["switches"]] if b else []
        results.add(f"switch_click_to_map_ms.{key}", "ms", median(o_ms), median(b_ms))
    # the baseline's RSS only compares when it has loaded the same levels as we have
    same_levels = set(base.get("levels", {})) == set(ours["levels"])
    if "rss_all_levels_mb" in ours:
        if not same_levels:
            results.note("server_rss_mb.all_levels: the baseline did not load every level")
        results.add(
            "server_rss_mb.all_levels",
            "MB",
            ours["rss_all_levels_mb"],
            base.get("rss_all_levels_mb") if same_levels else None,
        )
    if "sessions" in ours:
        o, b = ours["sessions"], base.get("sessions")
        results.add(
            "server_rss_mb.per_extra_session", "MB", o["per_session_mb"], b and b["per_session_mb"]
        )
        results.add(
            "sessions10.click_to_map_ms.p50", "ms", median(o["times"]), b and median(b["times"])
        )
        results.add("sessions10.click_to_map_ms.p95", "ms", p95(o["times"]), b and p95(b["times"]))


# --------------------------------------------------------------------------- output
def markdown(figures: list[dict], meta: dict) -> str:
    def fmt(value) -> str:
        if value is None:
            return "–"
        if isinstance(value, bool):
            return "oui" if value else "**NON**"
        if isinstance(value, int) or float(value).is_integer():
            return f"{int(value):,}".replace(",", "\u202f")
        return f"{value:,.2f}".replace(",", "\u202f")

    lines = [
        f"# Benchmark « cartes rapides » ({'quick' if meta.get('quick') else 'complet'})",
        "",
        f"{meta.get('date', '')} — {meta.get('machine', {}).get('cpus')} cœurs, charge "
        f"{meta.get('machine', {}).get('load_start')} → {meta.get('machine', {}).get('load_end')}, "
        f"durée {meta.get('duration_s')} s. ratio = baseline / nous.",
        "",
        "| Mesure | Unité | Nous | Baseline naïve | Ratio | Budget | Tenu |",
        "|---|---|---:|---:|---:|---:|:---:|",
    ]
    for f in figures:
        lines.append(
            f"| {f['name']} | {f['unit']} | {fmt(f['ours'])} | {fmt(f['baseline'])} | "
            f"{fmt(f['ratio'])} | {fmt(f['budget'])} | {fmt(f['met'])} |"
        )
    kinds = {
        key: level.get("switch_kinds_first")
        for key, level in meta.get("browser", {}).get("ours", {}).get("levels", {}).items()
    }
    if any(kinds.values()):
        lines += ["", "## Octets d'un changement d'indicateur (nous), par message", ""]
        for key, by_kind in kinds.items():
            if by_kind:
                top = ", ".join(
                    f"{k} {v:,}".replace(",", "\u202f") for k, v in list(by_kind.items())[:5]
                )
                lines.append(f"- {key} : {top}")
    for note in meta.get("notes", []):
        lines.append(f"\n> {note}")
    return "\n".join(lines) + "\n"


def _loadavg() -> list[float] | None:
    with contextlib.suppress(OSError):
        return [round(x, 2) for x in os.getloadavg()]
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the JSON list on stdout")
    parser.add_argument("--quick", action="store_true", help="smoke mode, under 2 minutes")
    parser.add_argument(
        "--out", type=Path, default=RESULTS / "latest.json", help="where to write the JSON list"
    )
    parser.add_argument("--no-browser", action="store_true", help="skip the browser parts")
    parser.add_argument(
        "--all-baseline",
        action="store_true",
        help="never skip a baseline part to stay under 10 minutes (the run may take longer)",
    )
    parser.add_argument(
        "--fail-on-budget", action="store_true", help="exit with 1 when a budget is not met"
    )
    args = parser.parse_args(argv)

    plan = Plan.make(args.quick)
    if args.all_baseline:
        plan.deadline_s = plan.hard_limit_s = float("inf")
    results = Results()
    import plotly
    import streamlit

    results.meta.update(
        {
            "quick": plan.quick,
            "date": time.strftime("%Y-%m-%d %H:%M:%S"),
            "machine": {
                "cpus": os.cpu_count(),
                "load_start": _loadavg(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "versions": {"streamlit": streamlit.__version__, "plotly": plotly.__version__},
            "levels": {k: LEVELS[k] for k in plan.levels},
            "indicators": {"first": FIRST_INDICATOR, "cycle": list(CYCLE)},
        }
    )
    log(f"{'quick' if plan.quick else 'full'} run, levels: {', '.join(plan.levels)}")

    browser_ok, reason = True, ""
    if args.no_browser:
        browser_ok, reason = False, "--no-browser"
    elif chromium_path() is None:
        browser_ok, reason = False, "no chromium executable"
    else:
        try:
            import playwright  # noqa: F401
        except ImportError:
            browser_ok, reason = False, "playwright is not installed"
    if not browser_ok and not args.no_browser and os.environ.get("REQUIRE_BROWSER") == "1":
        log(f"REQUIRE_BROWSER=1 but the browser parts cannot run: {reason}")
        return 2

    from territorial import load_geography

    geo = load_geography()
    failed = False

    def section(name: str, function, *arguments) -> None:
        """Run one part; a failure is reported, and the other parts still run."""
        nonlocal failed
        try:
            function(*arguments)
        except Exception as error:  # noqa: BLE001 - reported, then exit code 1
            failed = True
            traceback.print_exc()
            results.note(f"{name} FAILED: {error!r:.500}")

    section("core load", bench_core_load, plan, results)
    section("core join", bench_core_join, geo, plan, results)
    section("core dissolve", bench_core_dissolve, geo, plan, results)
    del geo
    gc.collect()
    section("reruns", bench_reruns, plan, results)
    if plan.sessions:
        section("sessions (server only)", bench_sessions_server, plan, results)
    if browser_ok:
        section("browser", lambda: asyncio.run(bench_browser(plan, results)))
    else:
        results.note(f"browser parts skipped ({reason}): figures 2, 3, 4 are absent")

    results.meta["machine"]["load_end"] = _loadavg()
    results.meta["duration_s"] = round(results.elapsed(), 1)
    order = {name: i for i, name in enumerate(_order_prefixes())}
    figures = sorted(results.figures, key=lambda f: order.get(f["name"].split(".")[0], len(order)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n")
    meta_path = args.out.with_name(args.out.stem + "-meta.json")
    meta_path.write_text(json.dumps(results.meta, ensure_ascii=False, indent=1, default=str) + "\n")
    log(f"done in {results.meta['duration_s']} s; wrote {args.out} and {meta_path}")
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=1))
    else:
        print(markdown(figures, results.meta))
    if failed:
        log("some parts FAILED (see the notes): exit code 1")
        return 1
    if args.fail_on_budget and any(f["met"] is False for f in figures):
        return 1
    return 0


def _order_prefixes() -> list[str]:
    return [
        "rerun_ms",
        "switch_bytes",
        "first_load_bytes",
        "frontend_bundle_bytes",
        "start_to_first_map_s",
        "first_map_s",
        "switch_click_to_map_ms",
        "server_rss_mb",
        "sessions10",
        "core",
    ]


if __name__ == "__main__":
    sys.exit(main())
