"""Browser bytes and times: what Chromium receives and draws for each level and indicator switch."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from bench.common import (
    APPS,
    CHROMIUM_ARGS,
    CYCLE,
    FIRST_INDICATOR,
    LEVELS,
    RESULTS,
    SERVED,
    SESSION_LEVEL,
    Server,
    _round,
    _timeout,
    chromium_path,
    log,
    median,
    p95,
)
from bench.page import Meter, indicator_labels, new_page, switch_indicator, wait_drawn
from bench.sessions import _sessions
from bench.startup import _start_to_first_map

if TYPE_CHECKING:
    from bench.common import Plan, Results

__all__ = ["bench_browser"]


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
    servers = {app: Server(app, script, RESULTS) for app, script in SERVED.items()}

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
        "switch_blank_ms": [_round(s.get("blank_ms"), 1) for s in switches],
        "switch_data_ms": [_round(s.get("data_ms"), 1) for s in switches],
        "switch_first_message_ms": [_round(s["first_message_ms"], 1) for s in switches],
        "switch_kinds_first": switches[0]["kinds"] if switches else None,
        "switch_urls_first": switches[0]["urls"] if switches else None,
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
