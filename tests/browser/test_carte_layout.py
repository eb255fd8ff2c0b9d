"""The Carte page at the three sizes of issue 15: the whole map on the first screen.

Desktop 1440×900, projection 1920×1080 and a phone (390×844, a phone's user agent):
the map is measured in the page, and a screenshot of each is saved.
"""

from __future__ import annotations

import pytest
from test_browser import assert_no_exception, wait_for_app

pytestmark = pytest.mark.browser

PHONE_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
def open_at(browser, app_url):
    contexts = []

    def open_page(url: str, width: int, height: int, **options):
        context = browser.new_context(
            viewport={"width": width, "height": height}, locale="fr-FR", base_url=app_url,
            **options,
        )  # fmt: skip
        context.set_default_timeout(30_000)
        contexts.append(context)
        page = context.new_page()
        page.goto(url, wait_until="domcontentloaded")
        wait_for_app(page)
        assert_no_exception(page, url)
        return page

    yield open_page
    for context in contexts:
        context.close()


def _map_box(page) -> dict:
    return page.locator(".js-plotly-plot").first.bounding_box()


def test_the_whole_map_is_on_the_first_screen_at_1440(open_at, screenshot_dir):
    page = open_at("/?niveau=departement", 1440, 900)
    box = _map_box(page)
    page.screenshot(path=screenshot_dir / "carte-1440x900.png")
    assert box["y"] < 300, f"the map starts {box['y']:.0f} px down"
    assert box["y"] + box["height"] <= 900, box
    search = page.get_by_label("Rechercher un territoire (nom ou code)")
    search.fill("saint etienne")
    search.press("Enter")
    page.get_by_text("Saint-Étienne (42) — Commune").wait_for()
    assert _map_box(page)["y"] == box["y"]  # the results push the legend down, not the map


def test_projection_map_fills_the_screen_and_pages_stay_in_projection(open_at, screenshot_dir):
    page = open_at("/?mode=projection&niveau=departement", 1920, 1080)
    box = _map_box(page)
    page.screenshot(path=screenshot_dir / "carte-projection-1920x1080.png")
    bar = page.locator(".st-key-dt-projection-bar").bounding_box()
    links = page.locator('.st-key-dt-projection-bar [data-testid="stPageLink"]')
    tops = {round(links.nth(i).bounding_box()["y"]) for i in range(links.count())}
    assert links.count() == 9 and len(tops) == 1, tops  # every page on one line
    assert bar["height"] < 70 and bar["x"] + bar["width"] <= 1920, bar
    below_bar = 1080 - (bar["y"] + bar["height"])
    assert box["width"] > 1300 and box["height"] >= 0.8 * below_bar, (box, bar)
    assert box["y"] + box["height"] <= 1080, box
    fiche = page.locator('[data-testid="stPageLink"] a[href*="fiche"]').first
    assert "mode=projection" in fiche.get_attribute("href")
    fiche.click()
    page.wait_for_url("**/fiche?*mode=projection*")
    wait_for_app(page)
    assert page.get_by_role("button", name="Quitter le mode projection").is_visible()


def test_on_a_phone_the_map_comes_first_and_fits_the_width(open_at, screenshot_dir):
    page = open_at("/?niveau=departement", 390, 844, user_agent=PHONE_AGENT, is_mobile=True)
    box = _map_box(page)
    page.screenshot(path=screenshot_dir / "carte-telephone-390x844.png")
    assert box["y"] < 300 and box["y"] + box["height"] <= 844, box
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    settings = page.get_by_text("Choisir le niveau, l'indicateur, chercher un territoire")
    assert settings.is_visible()
    assert not page.get_by_label("Rechercher un territoire (nom ou code)").is_visible()  # folded
    settings.click()
    page.get_by_label("Rechercher un territoire (nom ou code)").wait_for()


MAP_STATE = """(args) => {
    const plot = document.querySelector('.js-plotly-plot');
    const subplot = plot && plot._fullLayout && plot._fullLayout.map && plot._fullLayout.map._subplot;
    const map = subplot && subplot.map;
    if (!map || !map.loaded() || !map.areTilesLoaded()) return null;
    const x = (lon, lat) => map.project([lon, lat]).x;
    const found = args.points.map(([code, lon, lat]) => {
        const point = map.project([lon, lat]);
        const fills = map.queryRenderedFeatures(point).filter(
            f => f.layer.type === 'fill' && f.layer.id.startsWith('plotly-trace-layer'));
        return fills.length ? code : null;
    });
    const canvas = map.getCanvas().getBoundingClientRect();
    const frames = args.frames.map(([w, s, e, n]) => {
        const a = map.project([w, n]), b = map.project([e, s]);
        return [a.x + canvas.left, a.y + canvas.top, b.x + canvas.left, b.y + canvas.top];
    });
    return {metropole: x(9.56, 46) - x(-5.14, 46), found, frames,
            canvas: [canvas.left, canvas.top, canvas.right, canvas.bottom]};
}"""


def test_france_entiere_draws_the_overseas_in_insets(open_at, screenshot_dir):
    """« France entière » at 1440×900: a metropole far wider than 60 px, five framed insets."""
    from territorial import load_geography
    from territorial.geo import insets
    from territorial.geo.mapdata import display_shapes

    geo = load_geography()
    table = geo.table("departement", "france")
    moved = display_shapes(geo, "departement", "france", list(insets.DROM))
    points = [
        [code, point.x, point.y]
        for code, point in zip(
            table[table["code"].isin(list(insets.DROM))]["code"],
            [shape.representative_point() for shape in moved],
            strict=True,
        )
    ]
    page = open_at("/?niveau=departement&perimetre=france", 1440, 900)
    args = {"points": points, "frames": list(insets.BOXES.values())}
    page.wait_for_timeout(1000)
    state = page.wait_for_function(MAP_STATE, arg=args, timeout=45_000).json_value()
    page.screenshot(path=screenshot_dir / "carte-france-entiere-1440x900.png")
    assert state["metropole"] > 300, state
    assert state["found"] == list(insets.DROM), state  # a choropleth fill in each inset
    left, top, right, bottom = state["canvas"]
    for frame in state["frames"]:
        x0, y0, x1, y1 = frame
        assert left <= x0 < x1 <= right and top <= y0 < y1 <= min(bottom, 900), state
