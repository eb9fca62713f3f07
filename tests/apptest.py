"""Open a page of the app in Streamlit's AppTest, framed by app.py as a browser would see it."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def open_page(page: str, timeout: float = 60) -> AppTest:
    """Run app.py, switch to ``page`` (e.g. ``"pages/optimizer_race.py"``) and check it rendered cleanly."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    return at
