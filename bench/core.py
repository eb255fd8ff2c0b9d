"""Core measures (no Streamlit): load the geography, join a table, dissolve perimeters."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from typing import TYPE_CHECKING

import numpy as np

from bench.common import ROOT, BenchError, log, median

if TYPE_CHECKING:
    from bench.common import Plan, Results

__all__ = [
    "bench_core_dissolve",
    "bench_core_join",
    "bench_core_load",
    "synthetic_csv",
    "synthetic_perimeters",
]


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
    totals, cpu = [], []
    report = None
    for rep in range(plan.core_warmup + plan.core_reps):  # warm-up: imports, regexes
        store.remove(name)
        c0 = time.process_time()
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
        c4 = time.process_time()
        report = result.report
        if rep < plan.core_warmup:
            continue
        totals.append((t4 - t0) * 1000)
        cpu.append((c4 - c0) * 1000)
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
        # CPU time of the process (every thread): less sensitive to a loaded machine
        "cpu_median_ms": round(median(cpu), 1),
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
