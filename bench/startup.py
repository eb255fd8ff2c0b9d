"""Start-up: seconds from ``streamlit run`` to the default page's map drawn in Chromium."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from bench.common import log
from bench.page import Meter, new_page, wait_drawn

if TYPE_CHECKING:
    from bench.common import Server


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
