"""Two real Streamlit servers on one PostgreSQL: what one saves, the other shows (no restart).

An atelier is created through server 1; server 2 opens it by its code (read-only), then
with its edit link adds a view to the parcours; server 1 lists that view.
"""

from __future__ import annotations

import pytest
from test_browser import RUN_TIMEOUT, wait_for_app

pytestmark = pytest.mark.browser


@pytest.fixture
def two_servers(postgres_cluster, start_server, tmp_path):
    url = postgres_cluster.new_database()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with (
        start_server(tmp_path / "a", url) as first,
        start_server(tmp_path / "b", url) as second,
    ):
        yield first, second


def _open(page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    wait_for_app(page)


def test_two_servers_share_the_ateliers(browser, two_servers, screenshot_dir):
    first, second = two_servers
    assert first != second
    context = browser.new_context(locale="fr-FR", viewport={"width": 1400, "height": 2000})
    context.set_default_timeout(RUN_TIMEOUT)
    page = context.new_page()
    try:
        _open(page, f"{first}/atelier")
        page.get_by_label("Nom de l'atelier").fill("Deux serveurs")
        page.get_by_label("Nom de l'atelier").press("Enter")
        wait_for_app(page)
        page.get_by_role("button", name="Créer l'atelier").click()
        wait_for_app(page)
        codes = page.locator("[data-testid='stCode'] code").all_inner_texts()
        edit_link = next(c for c in codes if "&cle=" in c)
        query = edit_link.split("?", 1)[1]
        code = query.split("atelier=")[1].split("&")[0]

        _open(page, f"{second}/atelier?atelier={code}")
        main = page.locator("[data-testid='stMain']")
        assert main.get_by_text("Atelier en cours : Deux serveurs").is_visible()
        assert main.get_by_text("lecture seule").first.is_visible()

        _open(page, f"{second}/regions?{query}")
        sidebar = page.locator("section[data-testid='stSidebar']")
        sidebar.get_by_text("Ajouter cette vue au parcours").click()
        sidebar.get_by_label("Titre de la vue").fill("Vue du serveur 2")
        sidebar.get_by_label("Titre de la vue").press("Enter")
        wait_for_app(page)
        sidebar.get_by_role("button", name="Ajouter au parcours").click()
        wait_for_app(page)
        sidebar.get_by_text("Vue ajoutée au parcours").wait_for()

        _open(page, f"{first}/atelier?atelier={code}")
        main.get_by_text("1. Vue du serveur 2").wait_for()
        assert f"{first}/?atelier={code}&etape=" in " ".join(
            page.locator("[data-testid='stCode'] code").all_inner_texts()
        )
        page.screenshot(path=str(screenshot_dir / "deux-serveurs.png"))
    finally:
        context.close()
