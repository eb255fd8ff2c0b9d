"""The pydeck map of the Catalyseurs page in a real browser: points and hexagons drawn,
offline (no request to another host), data fetched once as static files."""

from __future__ import annotations

import io
from urllib.parse import urlparse

import pytest
from PIL import Image
from test_browser import RUN_TIMEOUT, assert_no_exception, open_page

from territorial.analysis.places import LAYERS
from territorial.outputs.deckmap import HEX_COLOURS

pytestmark = pytest.mark.browser

# The favicon of app.py (page_icon=":material/map:") is the only other request Streamlit
# makes; it is not part of the map.
FAVICON = "fonts.gstatic.com/s/i/short-term/release/materialsymbolsrounded/"


def _deck_png(page) -> bytes:
    deck = page.locator("[data-testid='stDeckGlJsonChart']").first
    deck.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => !!document.querySelector(\"[data-testid='stDeckGlJsonChart'] canvas\")",
        timeout=RUN_TIMEOUT,
    )
    page.wait_for_timeout(3000)  # static files fetched, layers drawn
    return deck.screenshot()


def _near(png: bytes, colour: tuple[int, int, int], tolerance: int = 12) -> int:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return sum(
        count
        for count, pixel in image.getcolors(maxcolors=1 << 24)
        if all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))
    )


def _hexagon_pixels(png: bytes) -> int:
    """Pixels of the hexagons' greys (neutral, between the lightest and darkest class drawn
    over white); the outlines are blue-grey and the points coloured."""
    low = round(HEX_COLOURS[-1][0] * 200 / 255 + 255 * 55 / 255) - 6
    high = round(HEX_COLOURS[0][0] * 200 / 255 + 255 * 55 / 255) + 2
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return sum(
        count
        for count, (r, g, b) in image.getcolors(maxcolors=1 << 24)
        if max(r, g, b) - min(r, g, b) <= 3 and low <= r <= min(high, 246)
    )


def test_pydeck_map_draws_points_and_hexagons_offline(page, screenshot_dir):
    requests, static = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on(
        "response",
        lambda r: (
            static.append((r.status, urlparse(r.url).path)) if "/app/static/geo/" in r.url else None
        ),
    )
    open_page(page, "/catalyseurs?couches=fabriques,manufactures&vue=points")
    assert_no_exception(page, "Catalyseurs (points)")
    points = _deck_png(page)
    (screenshot_dir / "carte-lieux-points.png").write_bytes(points)
    for key in ("fabriques", "manufactures"):
        found = _near(points, LAYERS[key].colour, tolerance=20)
        assert found >= 30, f"{LAYERS[key].label}: only {found} pixels of its colour"
    assert _hexagon_pixels(points) < 500, "hexagons shown in the points view"

    page.get_by_role("radio", name="Densité (hexagones)").click()
    page.wait_for_function(
        "() => new URLSearchParams(location.search).get('vue') === 'densite'", timeout=RUN_TIMEOUT
    )
    hexagons = _deck_png(page)
    (screenshot_dir / "carte-lieux-hexagones.png").write_bytes(hexagons)
    drawn = _hexagon_pixels(hexagons)
    assert drawn >= 20 * _hexagon_pixels(points) and drawn >= 10_000, f"{drawn} hexagon pixels"
    assert _near(hexagons, LAYERS["fabriques"].colour, tolerance=20) < 10, "points in density view"

    external = [u for u in requests if urlparse(u).hostname not in {"127.0.0.1", "localhost"}]
    external = [u for u in external if not u.startswith(("data:", "blob:")) and FAVICON not in u]
    assert not external, f"requests to other hosts: {external}"
    fetched = [path for status, path in static if status in (200, 304)]
    assert any("/lieux-fabriques-" in p for p in fetched), static
    assert any("/lieux-hexagones-" in p for p in fetched), static
    assert any(p.endswith(".geojson") for p in fetched), static
