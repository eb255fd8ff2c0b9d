"""What Streamlit writes in English and the app replaces: its menu, « No results », file sizes.

Only a browser shows these: they are Streamlit's own front-end texts, out of reach of AppTest.
"""

from __future__ import annotations

from tests.browser.test_browser import RUN_TIMEOUT, open_page


def test_no_streamlit_menu_with_english_items(page):
    """``toolbarMode = "minimal"`` and no ``menu_items``: no « Print », « Record screen »."""
    open_page(page, "/fragilites?niveau=departement")
    assert page.locator('[data-testid="stMainMenu"]').count() == 0
    assert page.get_by_text("Record a screencast").count() == 0


def test_empty_select_list_says_aucun_resultat(page):
    open_page(page, "/fragilites?niveau=departement")
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text="Jeu d'indicateurs")
    box.locator("input").click()
    box.locator("input").fill("zzzz")
    empty = page.locator(
        "[data-testid='stSelectboxVirtualDropdown'] [role='listbox'][data-empty] [role='option'] > span"
    )
    empty.wait_for(timeout=RUN_TIMEOUT)
    assert empty.evaluate("e => getComputedStyle(e, '::after').content") == '"Aucun résultat"'
    assert empty.evaluate("e => parseFloat(getComputedStyle(e).fontSize)") == 0  # "No results"


def test_uploaded_file_size_is_written_in_french(page, tmp_path):
    data = b"code;Nombre\n01001;12\n42218;3\n"
    upload = tmp_path / "petit.csv"
    upload.write_bytes(data)
    open_page(page, "/donnees")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(upload)
    name = page.locator('[data-testid="stFileChipName"]').first
    name.wait_for(timeout=RUN_TIMEOUT)
    size = name.locator("xpath=following-sibling::*[1]")
    assert not size.is_visible()  # Streamlit's « 31.0B »
    caption = page.get_by_text(f"Fichier reçu : « petit.csv », {len(data)} octets.")
    caption.wait_for(timeout=RUN_TIMEOUT)
