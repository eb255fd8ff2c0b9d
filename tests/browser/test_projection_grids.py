"""Projection mode's grids (st.dataframe, st.data_editor) at 1920×1080: larger text, and
every grid inside the page's main block (a CSS zoom made them overflow on the right)."""

from __future__ import annotations

import re

import pytest
from test_browser import RUN_TIMEOUT, assert_no_exception, wait_for_app

pytestmark = pytest.mark.browser

# Each visible grid: its right edge, and the font size glide-data-grid draws its cells with
# (its theme, written by the grid into the CSS variables of its wrapper).
GRIDS = """() => {
    const main = document.querySelector('[data-testid="stMainBlockContainer"]');
    const box = main.getBoundingClientRect();
    const right = box.right - parseFloat(getComputedStyle(main).paddingRight);
    const grids = [...document.querySelectorAll('[data-testid="stDataFrame"]')]
        .filter(grid => grid.getBoundingClientRect().width > 0)
        .map(grid => {
            const styled = grid.querySelector('[style*="--gdg-base-font-style"]');
            const font = styled && styled.style.getPropertyValue('--gdg-base-font-style');
            return {right: grid.getBoundingClientRect().right, font: font || ''};
        });
    return {right, grids};
}"""


def _grids(page) -> dict:
    page.locator('[data-testid="stDataFrame"] canvas').first.wait_for(timeout=RUN_TIMEOUT)
    page.wait_for_timeout(500)
    state = page.evaluate(GRIDS)
    for grid in state["grids"]:
        match = re.search(r"([\d.]+)px", grid["font"])
        grid["font"] = float(match.group(1)) if match else 0.0
    return state


def _open(browser, app_url, url: str, width: int, height: int, upload=None):
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="fr-FR", base_url=app_url
    )
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto(url, wait_until="domcontentloaded")
    wait_for_app(page)
    if upload is not None:
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(upload)
        page.get_by_text("Réglage des colonnes à cartographier").wait_for(timeout=RUN_TIMEOUT)
        wait_for_app(page)
    assert_no_exception(page, url)
    return context, page


@pytest.mark.parametrize(
    "name, url",
    [
        ("fragilites", "/fragilites?niveau=departement"),
        ("fiche", "/fiche?niveau=commune&territoire=42218"),
        ("donnees", "/donnees"),
    ],
)
def test_projection_grids_stay_inside_and_read_larger(
    browser, app_url, screenshot_dir, tmp_path, name, url
):
    upload = None
    if name == "donnees":  # the column settings of an uploaded table: a data_editor
        upload = tmp_path / "chomage.csv"
        upload.write_text("code;Taux de chômage;Polarité du vote\n01001;12,5;3\n42218;9,1;4\n")
    normal_context, normal = _open(browser, app_url, url, 1440, 900, upload)
    normal_font = max(grid["font"] for grid in _grids(normal)["grids"])
    normal_context.close()

    joiner = "&" if "?" in url else "?"
    context, page = _open(browser, app_url, f"{url}{joiner}mode=projection", 1920, 1080, upload)
    state = _grids(page)
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.evaluate("e => e.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(500)
    page.screenshot(path=screenshot_dir / f"grille-{name}-projection-1920x1080.png")
    context.close()
    assert state["grids"], state
    for shown in state["grids"]:
        assert shown["right"] <= state["right"] + 1, state  # inside the main block
        assert shown["font"] >= 1.3 * normal_font > 0, (state, normal_font)
