"""The Carte page at the three sizes of issue 15: the whole map on the first screen.

Desktop 1440×900, projection 1920×1080 and a phone (390×844, a phone's user agent):
the map is measured in the page, and a screenshot of each is saved.
"""

from __future__ import annotations

import json
import math

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
    return page.locator(".dt-fastmap").first.bounding_box()


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


def _to_page(view: list[float], box: dict, lon: float, lat: float) -> tuple[float, float]:
    """Page pixels of a point of the canvas map, from its ``data-view`` (scale and shift)."""
    k, tx, ty = view
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    return box["x"] + tx + k * math.radians(lon), box["y"] + ty - k * y


def test_france_entiere_draws_the_overseas_in_insets(open_at, screenshot_dir):
    """« France entière » at 1440×900: a metropole far wider than 60 px, five framed insets,
    each overseas département drawn (and hovered) inside its frame."""
    from territorial import load_geography
    from territorial.geo import insets
    from territorial.geo.mapdata import display_shapes

    geo = load_geography()
    moved = display_shapes(geo, "departement", "france", list(insets.DROM))
    page = open_at("/?niveau=departement&perimetre=france", 1440, 900)
    figure = page.locator(".dt-fastmap[data-view]").first
    figure.wait_for()
    box = figure.bounding_box()
    view = json.loads(figure.get_attribute("data-view"))
    page.screenshot(path=screenshot_dir / "carte-france-entiere-1440x900.png")
    west, _ = _to_page(view, box, -5.14, 46)
    east, _ = _to_page(view, box, 9.56, 46)
    assert east - west > 300, (west, east)
    tip = page.locator(".dt-fastmap-tip")
    for shape, name in zip(moved, insets.DROM.values(), strict=True):
        point = shape.representative_point()
        page.mouse.move(*_to_page(view, box, point.x, point.y))
        page.wait_for_timeout(200)
        assert tip.is_visible() and tip.inner_text().splitlines()[0] == name
    for w, s, e, n in insets.BOXES.values():
        x0, y0 = _to_page(view, box, w, n)
        x1, y1 = _to_page(view, box, e, s)
        assert box["x"] <= x0 < x1 <= box["x"] + box["width"], (x0, x1, box)
        assert box["y"] <= y0 < y1 <= min(box["y"] + box["height"], 900), (y0, y1, box)
