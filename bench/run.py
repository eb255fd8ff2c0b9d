"""Benchmark « cartes rapides » : l'application contre la manière naïve, en une seule exécution.

Usage::

    python bench/run.py            # run everything, Markdown table on stdout
    python bench/run.py --json     # same, the JSON contract on stdout
    python bench/run.py --quick    # smoke mode (< 2 min): fewer repetitions, no 10-session
                                   # test, no commune-level map of all France
    python bench/run.py --only startup --repeat 3   # one measure alone (startup, sessions)
    python bench/run.py --only core-join --json   # only the join of a 35,000-row table

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
import gc
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # ``python bench/run.py`` puts bench/, not the repository, first
    sys.path.insert(0, str(ROOT))

from bench.browser import bench_browser  # noqa: E402
from bench.common import (  # noqa: E402
    CYCLE,
    FIRST_INDICATOR,
    LEVELS,
    RESULTS,
    Plan,
    Results,
    _loadavg,
    chromium_path,
    log,
)
from bench.core import bench_core_dissolve, bench_core_join, bench_core_load  # noqa: E402
from bench.reruns import bench_reruns  # noqa: E402
from bench.sessions import bench_sessions_server  # noqa: E402
from bench.startup import bench_startup  # noqa: E402


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the JSON list on stdout")
    parser.add_argument("--quick", action="store_true", help="smoke mode, under 2 minutes")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to write the JSON list (bench/results/latest.json; only-NAME.json with --only)",
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
    parser.add_argument(
        "--only",
        choices=["startup", "sessions", "core", "core-join"],
        help="run one measure alone: start_to_first_map_s (both apps), the server side of "
        "the 10-session test (full-run settings), the core measures (no Streamlit, no "
        "browser), or the join of the 35,000-row table; nothing else",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="with --only startup: fresh servers per app (median)"
    )
    args = parser.parse_args(argv)

    if args.out is None:
        args.out = RESULTS / (f"only-{args.only}.json" if args.only else "latest.json")
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
    if args.only in {"core", "core-join"}:
        browser_ok, reason = False, f"--only {args.only}"
    elif args.no_browser:
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

    if args.only == "startup":
        if not browser_ok:
            log(f"--only startup needs the browser: {reason}")
            return 2
        section("startup", lambda: asyncio.run(bench_startup(plan, results, args.repeat)))
    elif args.only == "sessions":
        section("sessions (server only)", bench_sessions_server, Plan.make(False), results)
    else:
        from territorial import load_geography

        geo = load_geography()
        if args.only != "core-join":
            section("core load", bench_core_load, plan, results)
        section("core join", bench_core_join, geo, plan, results)
        if args.only != "core-join":
            section("core dissolve", bench_core_dissolve, geo, plan, results)
        del geo
        gc.collect()
        if args.only:
            results.note(f"--only {args.only}: the other measures are absent")
        else:
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
