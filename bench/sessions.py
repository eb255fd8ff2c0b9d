"""Concurrent sessions: one server, several AppTest sessions, and several browser sessions switching together."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from bench.common import (
    APPS,
    CYCLE,
    FIRST_INDICATOR,
    LEVELS,
    SESSION_ATTEMPTS,
    SESSION_LEVEL,
    BenchError,
    _round,
    log,
    machine_cpu,
    median,
    p95,
)
from bench.page import Meter, new_page, switch_indicator, wait_drawn
from bench.reruns import _check_apptest

if TYPE_CHECKING:
    from bench.common import Plan, Results, Server

__all__ = ["bench_sessions_server"]


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
    # One runtime for every session, as in the server: each AppTest run installs its own
    # mock runtime and removes it when it ends, under the feet of the sessions still
    # running (``st.context`` then raises « Runtime hasn't been created »).
    runtime = _shared_runtime()
    with (
        mock.patch("streamlit.testing.v1.app_test.ScriptCache", return_value=shared),
        mock.patch("streamlit.testing.v1.local_script_runner.ScriptCache", return_value=shared),
        mock.patch("streamlit.testing.v1.app_test.Runtime", _RuntimeSink),
        mock.patch("streamlit.runtime.Runtime._instance", runtime),
    ):
        threads = [threading.Thread(target=session, args=(i,)) for i in range(n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return errors[0] if errors else times


class _RuntimeSink:
    """Takes AppTest's per-run ``Runtime._instance`` assignments (the shared one stays)."""

    _instance = None


def _shared_runtime():
    """A mock runtime like the one AppTest makes for each run, shared by every session."""
    from unittest.mock import MagicMock

    from streamlit.components.v2.component_manager import BidiComponentManager
    from streamlit.runtime import Runtime
    from streamlit.runtime.caching.storage.dummy_cache_storage import MemoryCacheStorageManager
    from streamlit.runtime.dataframe_source_manager import DataframeSourceManager
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    runtime = MagicMock(spec=Runtime)
    runtime.media_file_mgr = MediaFileManager(MemoryMediaFileStorage("/mock/media"))
    runtime.dataframe_source_mgr = DataframeSourceManager()
    runtime.cache_storage_manager = MemoryCacheStorageManager()
    # The registry of v2 components (the canvas map), as AppTest gives its own runtime.
    registry = BidiComponentManager()
    registry.discover_and_register_components(start_file_watching=False)
    runtime.bidi_component_registry = registry
    return runtime


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
