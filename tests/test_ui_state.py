"""Typed inputs survive a visit to another page (Streamlit alone would forget them)."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

S_KEY = "jac_s"  # the Jacobian Explorer's score box

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def test_an_edited_input_survives_leaving_the_page():
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    at.switch_page("pages/jacobian_explorer.py").run()
    at.text_input(key=S_KEY).set_value("1, 2, 3, 4").run()
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/jacobian_explorer.py").run()
    assert not at.exception
    assert at.text_input(key=S_KEY).value == "1, 2, 3, 4"
