"""Every page opens in a real browser, framed by app.py's navigation, including by deep link."""

import pytest

from tests.e2e.browser import assert_healthy, screenshot, start_server, wait_for_app

PAGES = {
    "": "Backprop Lab",
    "backprop_calculator": "Backprop Calculator",
    "jacobian_explorer": "Jacobian Explorer",
    "optimizer_race": "Optimizer Race",
    "optimization_geometry": "Optimisation Geometry",
    "weight_templates": "Weight Templates",
    "confusion_matrix": "Confusion Matrix",
}
NAV_LINKS = [
    "Home",
    "Backprop Calculator",
    "Jacobian Explorer",
    "Optimizer Race",
    "Optimisation Geometry",
    "Weight Templates",
    "Confusion Matrix",
]


def nav_text(pg) -> str:
    return pg.locator('[data-testid="stSidebarNav"]').inner_text()


def test_deep_link_on_a_fresh_server_gets_the_framed_page(browser):
    """Streamlit's legacy pages/ mode would run the page alone with an auto-generated menu."""
    fresh = start_server()
    try:
        context = browser.new_context()
        pg = context.new_page()
        pg.goto(f"{fresh.url}/optimizer_race")
        wait_for_app(pg)
        pg.wait_for_selector("h1:has-text('Optimizer Race')")
        nav = nav_text(pg)
        for link in NAV_LINKS:
            assert link in nav
        assert "app" not in nav.split()  # the legacy menu lists the entry script as "app"
        assert pg.url.endswith("/optimizer_race")
        context.close()
    finally:
        fresh.stop()


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_opens(page, server, path):
    page.goto(f"{server.url}/{path}")
    wait_for_app(page)
    page.wait_for_selector(f"h1:has-text('{PAGES[path]}')")
    for link in NAV_LINKS:
        assert link in nav_text(page)
    assert_healthy(page)
    screenshot(page, path or "home")
