"""What a student does in a real browser, asserting what they see."""

import h5py
import numpy as np

from tests.e2e.browser import CHART_SIGNATURE, assert_healthy, screenshot, wait_for_app

# Points drawn in every Plotly chart of the page (Plotly keeps each trace's computed points in .calcdata):
# above 0 once the charts are drawn. Progress is read from CHART_SIGNATURE (long curves are thinned).
PLOTTED_POINTS = """() => [...document.querySelectorAll('.js-plotly-plot')]
    .reduce((n, div) => n + (div.calcdata || []).reduce((m, trace) => m + trace.length, 0), 0)"""


def main_text(pg) -> str:
    return pg.locator('[data-testid="stMainBlockContainer"]').inner_text()


def between(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end, text.index(start))]


def go_to(pg, title: str) -> None:
    """Follow a sidebar link (a new URL would start a new session and lose the race)."""
    pg.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
    pg.wait_for_selector(f"h1:has-text('{title}')")
    wait_for_app(pg)


def test_calculator_editing_a_weight_changes_delta(page, server):
    page.goto(f"{server.url}/backprop_calculator")
    page.get_by_role("heading", name="Gradient check").wait_for()
    wait_for_app(page)
    before = between(main_text(page), "Backward pass", "Update with")
    box = page.locator('textarea[aria-label*="W^{(2)}"]')
    box.fill("1, 0, 0\n0, 1, 0\n0, 0, 1")
    box.press("Control+Enter")
    page.wait_for_timeout(500)
    wait_for_app(page)
    page.get_by_role("heading", name="Gradient check").wait_for()
    after = between(main_text(page), "Backward pass", "Update with")
    assert after != before
    # With W^(2) = I, delta^(1) = delta^(2) masked by ReLU: unit 2 (s = -0.5) is off.
    assert "off" in after.lower() or "0" in after
    assert_healthy(page)
    screenshot(page, "backprop_calculator_edited")


def test_calculator_bad_cell_shows_a_message_not_a_traceback(page, server):
    page.goto(f"{server.url}/backprop_calculator")
    wait_for_app(page)
    box = page.locator('textarea[aria-label*="W^{(1)}"]')
    box.fill("0.3, abc, 0.1\n0.4, 0.1, 0.2\n0.1, 0.5, 0.3")
    box.press("Control+Enter")
    page.wait_for_selector('[data-testid="stAlertContentError"]:has-text("not a number")')
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "Backward pass" in main_text(page)  # the last good result is still shown


def test_jacobian_huge_scores_show_overflow_and_the_fix(page, server):
    page.goto(f"{server.url}/jacobian_explorer")
    wait_for_app(page)
    page.get_by_label("Preset").click()
    page.get_by_role("option", name="Huge [1000, 999, 998]").click()
    page.get_by_role("button", name="Load preset").click()
    wait_for_app(page)
    text = main_text(page)
    assert "overflow" in text.lower()
    assert "nan" in text and "inf" in text
    assert "0.665" in text  # softmax of [1000, 999, 998] = softmax of [2, 1, 0], first entry 0.6652
    assert_healthy(page)
    screenshot(page, "jacobian_explorer_huge")


def test_race_templates_confusion_download_and_upload(page, server, tmp_path):
    page.goto(f"{server.url}/optimizer_race")
    wait_for_app(page)
    page.get_by_role("button", name="Start").click()
    page.wait_for_selector("button:has-text('Pause')")
    page.wait_for_function(f"({PLOTTED_POINTS})() > 0", timeout=20_000)
    first = page.evaluate(CHART_SIGNATURE)
    page.wait_for_timeout(3000)
    assert page.evaluate(CHART_SIGNATURE) != first  # the curves moved on
    screenshot(page, "optimizer_race_running")
    page.get_by_role("button", name="Pause").click()
    page.wait_for_selector("button:has-text('Resume')")
    page.wait_for_timeout(1000)
    paused = page.evaluate(CHART_SIGNATURE)
    page.wait_for_timeout(2000)
    assert page.evaluate(CHART_SIGNATURE) == paused
    assert_healthy(page)

    go_to(page, "Weight Templates")
    assert page.locator(".js-plotly-plot").count() > 0
    assert_healthy(page)
    screenshot(page, "weight_templates_racer")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download this model (.h5)").click()
    path = tmp_path / "model.h5"
    download.value.save_as(path)
    with h5py.File(path, "r") as f:
        W, b = f["W"][()], f["b"][()]
        assert W.shape == (int(f["n_classes"][()]), int(f["n_features"][()])) == (10, 64)
        assert b.shape == (10,) and np.isfinite(W).all()
        assert 0 <= f["performance"]["test_accuracy"][()] <= 1

    page.locator('input[type="file"]').set_input_files(str(path))
    page.wait_for_timeout(1000)
    wait_for_app(page)
    assert "model.h5" in main_text(page)
    assert_healthy(page)

    go_to(page, "Confusion Matrix")
    assert page.locator(".js-plotly-plot").count() > 0
    assert "precision" in main_text(page).lower()
    assert_healthy(page)
    screenshot(page, "confusion_matrix_uploaded")


def test_two_students_racing_at_once_do_not_share_state(browser, server):
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(2)]
    try:
        alice, bob = (c.new_page() for c in contexts)
        for pg in (alice, bob):
            pg.goto(f"{server.url}/optimizer_race")
            wait_for_app(pg)
        alice.get_by_role("button", name="Start").click()
        alice.wait_for_selector("button:has-text('Pause')")
        alice.wait_for_timeout(2000)
        bob.reload()
        wait_for_app(bob)
        bob.get_by_role("button", name="Start").wait_for(timeout=20_000)  # Bob has no race
        assert bob.get_by_role("button", name="Pause").count() == 0
        bob.get_by_role("button", name="Start").click()
        bob.wait_for_selector("button:has-text('Pause')")
        bob.wait_for_function(f"({PLOTTED_POINTS})() > 0", timeout=20_000)
        alice.get_by_role("button", name="Pause").click()
        alice.wait_for_selector("button:has-text('Resume')")
        bob.wait_for_timeout(1500)
        before = bob.evaluate(CHART_SIGNATURE)
        bob.wait_for_timeout(2500)
        assert bob.evaluate(CHART_SIGNATURE) != before  # Alice's pause did not stop Bob
        assert alice.get_by_role("button", name="Resume").count() == 1
        for pg in (alice, bob):
            assert_healthy(pg)
    finally:
        for c in contexts:
            c.close()
