"""Typed inputs survive a visit to another page (Streamlit alone would forget them)."""

from tests.apptest import open_page

S_KEY = "jac_s"  # the Jacobian Explorer's score box


def test_an_edited_input_survives_leaving_the_page():
    at = open_page("pages/jacobian_explorer.py")
    at.text_input(key=S_KEY).set_value("1, 2, 3, 4").run()
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/jacobian_explorer.py").run()
    assert not at.exception
    assert at.text_input(key=S_KEY).value == "1, 2, 3, 4"


def test_the_dataset_choice_survives_moving_between_training_pages():
    """Both pages draw the picker; its validation fraction once reset to 0 on the way."""
    at = open_page("pages/home.py")
    for page in ("pages/weight_templates.py", "pages/confusion_matrix.py", "pages/optimizer_race.py"):
        at.switch_page(page).run()
        assert not at.exception
        assert at.session_state["dataset_choice"].val_fraction == 0.1
