"""Drive one Chromium page of the app: count the bytes it receives, wait for its map, switch indicators."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

from bench.common import CYCLE, FIRST_INDICATOR, VIEWPORT, BenchError, log

__all__ = ["Meter", "indicator_labels", "new_page", "switch_indicator", "wait_drawn"]


# --------------------------------------------------------------------------- browser
# Injected in every page: is the map painted, a signature of the values it shows, and a
# watcher of an indicator switch (time to blank, time to painted, from the click).
#
# Two renderers: plotly's map (MapLibre; painted = the trace holds the new values, then
# MapLibre has drawn a frame with every source loaded and polygons rendered), and the canvas map of ui/fastmap.js (painted = its
# element's ``data-sig``, written in the animation frame after drawing, holds the new
# values' signature).
PAGE_JS = """
window.__bench = {
  clickAt: 0,
  fastmapElement: null,
  fastmap() {
    const cached = this.fastmapElement;
    if (cached && cached.isConnected) return cached;
    for (const host of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {
      const found = host.shadowRoot && host.shadowRoot.querySelector('.dt-fastmap');
      if (found) return (this.fastmapElement = found);
    }
    return null;
  },
  gd() { return document.querySelector('.js-plotly-plot'); },
  map() {
    const gd = this.gd();
    const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
    const m = sub && sub.map;
    if (m && !m.__bench) {  // once per map: frame and idle times
      m.__bench = {render: 0};
      m.on('render', () => { m.__bench.render = performance.now(); });
    }
    return m;
  },
  features() {
    const m = this.map();
    if (!m || !m.getStyle()) return 0;
    const fills = m.getStyle().layers.filter(l => l.type === 'fill').map(l => l.id);
    return fills.length ? m.queryRenderedFeatures({layers: fills}).length : 0;
  },
  drawn() {
    const fast = this.fastmap();
    if (fast) return Number(fast.dataset.paints || 0) > 0;
    const gd = this.gd();
    if (!gd || !gd._fullData || !gd._fullData.length) return false;
    const z = gd._fullData[0].z;
    if (!z || !z.length) return false;
    if (!gd.querySelector('canvas')) return false;
    const m = this.map();
    return Boolean(m && m.loaded() && this.features() > 0);
  },
  sig() {
    const fast = this.fastmap();
    if (fast) return fast.dataset.sig || '';
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
  // The watcher of one switch: started before the click, polled until painted.
  watch(before) {
    const w = this.watching = {before, blankAt: null, dataAt: null, paintedAt: null};
    document.addEventListener('pointerup', () => { this.clickAt = performance.now(); },
      {capture: true, once: true});
    const tick = () => {
      if (this.watching !== w || w.paintedAt !== null) return;
      this.poll(w);
      setTimeout(tick, 50);
    };
    setTimeout(tick, 50);
  },
  poll(w) {
    const now = performance.now();
    const fast = this.fastmap();
    if (fast) {
      if ((fast.dataset.sig || '') !== w.before) w.paintedAt = Number(fast.dataset.paintedAt);
      return;
    }
    const m = this.map();
    const changed = this.sig() !== w.before;
    if (changed && w.dataAt === null) w.dataAt = now;
    const features = m ? this.features() : 0;
    if (w.blankAt === null && this.clickAt && features === 0) w.blankAt = now;
    if (changed && m && m.__bench.render > w.dataAt && m.loaded() && features > 0) {
      w.paintedAt = now;
    }
  },
  result() {
    const w = this.watching;
    if (!w || w.paintedAt === null || !this.clickAt) return null;
    return {
      painted_ms: w.paintedAt - this.clickAt,
      blank_ms: w.blankAt === null ? null : w.blankAt - this.clickAt,
      data_ms: w.dataAt === null ? null : w.dataAt - this.clickAt,
    };
  },
};
"""


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
    """Pick ``label`` in the « Indicateur » selectbox, in the UI, and wait for the new map
    painted.

    Times are taken in the page from the click on the option (``pointerup``): to the map
    painted with the new values (``ms``), to the map seen blank meanwhile (``blank_ms``,
    ``None`` if it never was), to plotly holding the new values (``data_ms``, plotly maps
    only), and, from the Python side, to the first websocket message of the rerun.
    """
    before = await page.evaluate("() => window.__bench.sig()")
    box = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text("Indicateur", exact=True))
    await box.click(timeout=timeout_s * 1000)
    await page.keyboard.type(label.split(" · ", 1)[-1])  # the list is virtualised: filter it
    option = page.get_by_role("option", name=label, exact=True)
    await option.wait_for(timeout=timeout_s * 1000)
    await page.evaluate("(before) => window.__bench.watch(before)", before)
    meter.first_frame_at = None
    t0 = time.perf_counter()
    await option.click()
    await _wait(page, "window.__bench.result()", timeout_s, None, 50)
    result = await page.evaluate("() => window.__bench.result()")
    first = meter.first_frame_at
    return {
        "ms": result["painted_ms"],
        "blank_ms": result["blank_ms"],
        "data_ms": result["data_ms"],
        "first_message_ms": (first - t0) * 1000 if first is not None else None,
    }


def indicator_labels() -> dict[str, str]:
    """Option text of each indicator in the picker (``theme · label``)."""
    from territorial.indicators.store import IndicatorStore
    from ui.state import geography
    from ui.widgets import indicator_label

    catalogue = IndicatorStore(geography()).catalogue
    return {i: indicator_label(catalogue[i]) for i in (FIRST_INDICATOR, *CYCLE)}
