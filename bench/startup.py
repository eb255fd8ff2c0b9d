"""Start-up: seconds from ``streamlit run`` to the default page's map drawn in Chromium.

The timeline in the metadata joins the browser's events (page HTML, first websocket
message, map files, map painted) and the server's own marks (imports, data
loaded, map files written, first script run done), which the app prints on its log when
``TERRITORIAL_STARTUP_LOG=1`` (see ``ui/startup.py``).
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from bench.common import APPS, CHROMIUM_ARGS, RESULTS, SERVED, Server, chromium_path, log, median
from bench.page import Meter, new_page, wait_drawn

if TYPE_CHECKING:
    from bench.common import Plan, Results

__all__ = ["bench_startup"]

_MARK = re.compile(r"^\[startup\] (\d+\.\d+) (.+)$")


def server_marks(server: Server) -> dict[str, float]:
    """Seconds since the process start of each mark the app printed on its log."""
    marks: dict[str, float] = {}
    try:
        text = server.log_path.read_text(errors="replace")
    except OSError:
        return marks
    for line in text.splitlines():
        found = _MARK.match(line.strip())
        if found:
            marks.setdefault(f"server: {found[2]}", float(found[1]) - server.wall0)
    return marks


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
    timeline = {
        "server healthy": health,
        "browser navigates": opened,
        **meter.timeline,
        **server_marks(server),
        "map drawn": out["start_to_first_map_s"],
    }
    meta.setdefault(server.name, {})["start"] = {
        "health_s": round(health, 2),
        "navigation_s": round(opened, 2),
        "map_drawn_s": round(out["start_to_first_map_s"], 2),
        "timeline_s": {k: round(v, 2) for k, v in sorted(timeline.items(), key=lambda i: i[1])},
    }


async def bench_startup(plan: Plan, results: Results, repeat: int = 1) -> None:
    """``start_to_first_map_s`` alone (``run.py --only startup``): ``repeat`` fresh servers
    of each app, alternated; the median is reported, every timeline goes to the metadata."""
    from playwright.async_api import async_playwright

    samples: dict[str, list[float]] = {app: [] for app in APPS}
    runs = results.meta.setdefault("startup_runs", {app: [] for app in APPS})
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            for _ in range(repeat):
                for app, script in SERVED.items():
                    server = Server(app, script, RESULTS)
                    out, meta = {}, {}
                    try:
                        await _start_to_first_map(browser, server, out, meta)
                    finally:
                        server.stop()
                    samples[app].append(out["start_to_first_map_s"])
                    runs[app].append(meta[app]["start"])
        finally:
            await browser.close()
    results.meta.setdefault("browser", {}).update(
        {app: {"start": runs[app][-1]} for app in APPS if runs[app]}
    )
    results.add(
        "start_to_first_map_s", "s", median(samples["ours"]), median(samples["baseline"]), 2
    )
