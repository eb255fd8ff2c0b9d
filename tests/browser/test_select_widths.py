"""Select boxes wide enough for their longest choice at 1440×900 (issue 15: « EPCI (intercommunalit… »)."""

from __future__ import annotations

import pytest
from test_browser import assert_no_exception, wait_for_app

pytestmark = pytest.mark.browser

PAGES = [
    "/?niveau=epci",
    "/fragilites?niveau=epci",
    "/catalyseurs?niveau=epci",
]

# the text of each select box's current value, and whether it is cut (wider than its box)
CUT_SELECTS = """
() => [...document.querySelectorAll("[data-testid='stSelectbox'] input[role='combobox']")]
  .map((el) => ({text: el.value, cut: el.scrollWidth > el.clientWidth + 1}))
"""


@pytest.mark.parametrize("url", PAGES)
def test_level_and_scope_choices_are_not_cut(browser, app_url, url):
    context = browser.new_context(
        viewport={"width": 1440, "height": 900}, locale="fr-FR", base_url=app_url
    )
    try:
        page = context.new_page()
        page.goto(url, wait_until="domcontentloaded")
        wait_for_app(page)
        assert_no_exception(page, url)
        page.locator(
            "[data-testid='stSelectbox'] input[value='EPCI (intercommunalité)']"
        ).first.wait_for()
        values = page.evaluate(CUT_SELECTS)
        assert any(v["text"] == "EPCI (intercommunalité)" for v in values), values
        cut = [v["text"] for v in values if v["cut"]]
        assert "EPCI (intercommunalité)" not in cut, cut
    finally:
        context.close()
