"""A facilitator's parcours in a real browser: three views in projection mode, QR codes read back.

The atelier and its three views are saved in the server's database; the browser opens the
first view's short link in projection mode, steps with « suivante » / « précédente », and
each view's QR code is decoded from the screenshot (zxing-cpp) and must be its short link.
"""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image
from test_browser import RUN_TIMEOUT, wait_for_app

from territorial.storage import Database

pytestmark = pytest.mark.browser

VIEWS = [
    ("Chômage par département", "Point de départ", "", {"niveau": "departement"}),
    (
        "Saint-Étienne",
        "La fiche de la ville",
        "fiche",
        {"niveau": "commune", "territoire": "42218"},
    ),
    ("Les régions", "", "regions", {}),
]


def _decoded_qr(page) -> str:
    image = page.locator("[data-testid='stImage'] img").first
    image.wait_for()
    shot = Image.open(io.BytesIO(image.screenshot())).convert("L")
    found = zxingcpp.read_barcodes(shot)
    assert found, "no QR code could be read on the page"
    return found[0].text


def test_parcours_of_three_views_in_projection_mode(
    page, app_url, app_database_url, screenshot_dir
):
    db = Database(app_database_url)
    code, _ = db.create_atelier("Atelier parcours")
    space = db.space(code, editable=True)
    ids = [space.add_view(title, note, path, query) for title, note, path, query in VIEWS]

    page.goto(f"/?atelier={code}&etape={ids[0]}&mode=projection", wait_until="domcontentloaded")
    wait_for_app(page)
    for number, (title, note, path, _) in enumerate(VIEWS, start=1):
        main = page.locator("[data-testid='stMain']")
        main.get_by_text(f"vue {number} / 3").wait_for(timeout=RUN_TIMEOUT)
        assert main.get_by_text(title, exact=True).first.is_visible()
        if note:
            assert main.get_by_text(note).first.is_visible()
        link = f"{app_url}/?atelier={code}&etape={ids[number - 1]}"
        assert _decoded_qr(page) == link
        assert main.get_by_text(link).first.is_visible()  # the short link, written out
        assert "mode=projection" in page.url and f"/{path}" in page.url
        assert not page.locator("section[data-testid='stSidebar']").is_visible()
        page.screenshot(path=str(screenshot_dir / f"parcours-{number}.png"))
        if number < len(VIEWS):
            page.get_by_role("button", name="suivante »").click()
            wait_for_app(page)
    assert page.get_by_role("button", name="suivante »").is_disabled()
    page.get_by_role("button", name="« précédente").click()
    wait_for_app(page)
    try:
        page.locator("[data-testid='stMain']").get_by_text("vue 2 / 3").wait_for(
            timeout=RUN_TIMEOUT
        )
    finally:
        page.screenshot(path=str(screenshot_dir / "parcours-retour.png"))
    assert _decoded_qr(page) == f"{app_url}/?atelier={code}&etape={ids[1]}"
