"""Server reruns: seconds per rerun of the map page in Streamlit's AppTest, ours against the naive app."""

from __future__ import annotations

import gc
import time
from typing import TYPE_CHECKING

from bench.common import APPS, CYCLE, FIRST_INDICATOR, LEVELS, BenchError, log, median, p95

if TYPE_CHECKING:
    from bench.common import Plan, Results

__all__ = ["bench_reruns"]


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
            samples[app] = times
            meta.setdefault(key, {})[app] = {
                "n": len(times),
                "first_run_ms": round(first * 1000, 1),
                "map_message_bytes": _map_bytes(at),
            }
            del at
            gc.collect()
        results.add(
            f"rerun_ms.median.{key}", "ms", median(samples["ours"]), median(samples["baseline"])
        )
        results.add(f"rerun_ms.p95.{key}", "ms", p95(samples["ours"]), p95(samples["baseline"]))


def _map_bytes(at) -> int | None:
    """Bytes of the map's element: the canvas map's payload, or the baseline's plotly figure."""
    maps = at.get("bidi_component")
    if maps:
        return len(maps[0].proto.bytes)
    figures = at.get("plotly_chart")
    return len(figures[0].proto.spec) if figures else None


def _check_apptest(at, app: str, key: str) -> None:
    if at.exception:
        raise BenchError(f"{app} raised at level {key}: {at.exception[0].value}")
    if _map_bytes(at) is None:
        raise BenchError(f"{app} drew no map at level {key}")
