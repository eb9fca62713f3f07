"""The Backprop Calculator page, headless with Streamlit's AppTest."""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.presets import PRESETS
from tests.apptest import open_page

PAGE = "pages/backprop_calculator.py"


@pytest.fixture
def at() -> AppTest:
    return open_page(PAGE)


def page_text(app: AppTest) -> str:
    """Everything the page shows as text: Markdown, LaTeX, captions, tables and messages."""
    parts = [e.value for kind in ("markdown", "latex", "caption", "error", "warning", "info", "success") for e in
             getattr(app, kind)]  # fmt: skip
    parts += [table.value.to_string() for table in app.table]
    return "\n".join(str(p) for p in parts)


def latex_text(app: AppTest) -> str:
    """The formulas with their numbers: the forward pass, backward pass and update."""
    return "\n".join(e.value for e in app.latex)


def last_result(app: AppTest):
    return app.session_state["calc_last_good"].result


def test_default_page_shows_the_guides_chained_network(at):
    assert not at.error
    formulas = latex_text(at)
    assert "0.643" in formulas  # a^(2) = softmax([2.1, -3.0, 1.5])
    assert "-0.387" in formulas  # unrounded delta^(1)
    text = page_text(at)
    assert "-0.389" in text and "-0.391" in text  # the guide's printed delta^(1), in the comparison panels
    assert "ReLU mask" in text and "unit 2 of layer 1 is off" in text
    assert "calls this index 1" in text  # the guide's note counts units from 0
    np.testing.assert_allclose(last_result(at).s[1], [1.2, -0.5, 0.8], atol=1e-12)


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_renders(at, name):
    at.selectbox(key="calc_preset").set_value(name).run()
    at.button(key="calc_apply").click().run()
    assert not at.exception
    assert not at.error
    assert at.session_state["calc_active_preset"] == name
    net = PRESETS[name].network
    assert at.text_input(key="calc_x").value == ", ".join(f"{v:g}" for v in net.x)
    np.testing.assert_allclose(last_result(at).a[0], net.x)


def test_worked_examples_preset_shows_the_guides_numbers_beside_the_computed_ones(at):
    at.selectbox(key="calc_preset").set_value("Guide: worked examples, section by section").run()
    at.button(key="calc_apply").click().run()
    worked = next(t.value for t in at.table if "from the guide's given values" in t.value.columns)
    assert list(worked["agrees?"]) == ["yes"] * len(worked)
    text = worked.to_string()
    for guide_number in ("-0.389", "-0.391", "-0.1945", "0.441", "1.05", "3.321", "8.166"):
        assert guide_number in text


@pytest.mark.parametrize("hidden", ["relu", "leaky_relu", "sigmoid", "tanh"])
def test_every_hidden_activation_renders(at, hidden):
    at.selectbox(key="calc_hidden").set_value(hidden).run()
    assert not at.exception and not at.error
    result = last_result(at)
    s1 = result.s[1]
    a1 = {"relu": np.maximum(s1, 0), "leaky_relu": np.where(s1 > 0, s1, 0.01 * s1), "sigmoid": 1 / (1 + np.exp(-s1)),
          "tanh": np.tanh(s1)}[hidden]  # fmt: skip
    np.testing.assert_allclose(result.a[1], a1)
    assert ("ReLU mask" in page_text(at)) == (hidden == "relu")


def test_sigmoid_output_uses_squared_error(at):
    at.selectbox(key="calc_output").set_value("sigmoid").run()
    assert not at.exception and not at.error
    r = last_result(at)
    a2 = 1 / (1 + np.exp(-np.array([2.1, -3.0, 1.5])))
    assert r.loss == pytest.approx(0.5 * np.sum((a2 - [0, 0, 1]) ** 2))


def test_changing_a_weight_changes_delta(at):
    before = latex_text(at)
    at.text_area(key="calc_W2").set_value("1, 0, 0\n0, 1, 0\n0, 0, 1").run()
    assert not at.exception and not at.error
    # With W^(2) = I: s^(2) = a^(1) + b^(2) and delta^(1) = delta^(2) * relu'(s^(1)), by hand.
    s2 = np.array([1.2, 0.0, 0.8]) + [1.74, -3.96, -0.06]
    a2 = np.exp(s2) / np.exp(s2).sum()
    expected = [a2[0], 0.0, a2[2] - 1]
    np.testing.assert_allclose(last_result(at).delta[1], expected)
    after = latex_text(at)
    assert f"{expected[0]:.3f}" in after and f"{expected[2]:.3f}" in after
    assert after != before


@pytest.mark.parametrize(
    ("key", "kind", "bad", "message"),
    [
        ("calc_W1", "text_area", "0.3, abc, 0.1\n0.4, 0.1, 0.2\n0.1, 0.5, 0.3", "not a number"),
        ("calc_W2", "text_area", "0.1, 0.2\n0.4, 0.5\n0.7, 0.8", "expected (3, 3)"),
        ("calc_b1", "text_input", "1.09, nan, 0.84", "only finite numbers"),
        ("calc_x", "text_input", "0.5, -0.3", "expected (3,)"),
        ("calc_W2", "text_area", "1e308, 1e308, 1e308\n0.4, 0.5, 0.6\n0.7, 0.8, 0.9", "too large"),
    ],
)
def test_bad_input_shows_an_error_and_keeps_the_last_good_result(at, key, kind, bad, message):
    good_delta = last_result(at).delta[1].copy()
    getattr(at, kind)(key=key).set_value(bad).run()
    assert not at.exception
    assert any(message in e.value for e in at.error)
    assert any("last good result" in w.value for w in at.warning)
    np.testing.assert_allclose(last_result(at).delta[1], good_delta)
    assert "-0.387" in latex_text(at)  # the last good backward pass is still drawn
    assert at.button(key="calc_step").disabled


def test_wrong_shape_error_names_the_layer(at):
    at.text_area(key="calc_W2").set_value("0.1, 0.2\n0.4, 0.5\n0.7, 0.8").run()
    (error,) = at.error
    assert "W^{(2)}" in error.value and "(3, 2)" in error.value and "(3, 3)" in error.value


def test_taking_steps_lowers_the_recorded_loss_and_writes_the_boxes(at):
    at.button(key="calc_step").click().run()
    assert not at.exception and not at.error
    history = at.session_state["calc_history"]
    assert len(history) == 2 and history[1] < history[0]
    assert history[0] == pytest.approx(-np.log(np.exp(1.5) / np.exp([2.1, -3.0, 1.5]).sum()))
    # The box now holds W^(1) - eta dW^(1), the update the page showed before the step.
    W1 = np.array([[float(v) for v in row.split(",")] for row in at.text_area(key="calc_W1").value.splitlines()])
    np.testing.assert_allclose(W1[0], [0.3968, 0.1419, 0.1387], atol=1e-4)
    assert at.get("plotly_chart")
    at.button(key="calc_step10").click().run()
    history = at.session_state["calc_history"]
    assert len(history) == 12 and all(b < a for a, b in zip(history, history[1:], strict=False))
    at.button(key="calc_reset").click().run()
    assert at.session_state["calc_history"] == []


def test_gradient_check_passes_for_the_default_network(at):
    checks = at.session_state["calc_last_good"].checks
    assert len(checks) == 2
    for c in checks:
        assert c["dW_error"] < 1e-6 and c["db_error"] < 1e-6
    table = next(t.value for t in at.table if "rel. error dW" in t.value.columns)
    assert list(table["result"]) == ["pass", "pass"]
    assert at.success


def test_changing_depth_and_widths_reshapes_the_boxes(at):
    at.slider(key="calc_depth").set_value(3).run()
    assert not at.exception and not at.error
    assert at.text_area(key="calc_W3").value.count("\n") == 2  # 3 x 3 output layer
    at.number_input(key="calc_n1").set_value(5).run()
    assert not at.exception and not at.error
    W1 = at.text_area(key="calc_W1").value.splitlines()
    assert len(W1) == 5 and W1[0] == "0.3, 0.2, 0.1"  # kept entries survive the reshape
    assert all(len(row.split(",")) == 5 for row in at.text_area(key="calc_W2").value.splitlines())
    at.number_input(key="calc_n_out").set_value(2).run()
    assert not at.exception and not at.error
    assert at.number_input(key="calc_class").value <= 2
    at.slider(key="calc_depth").set_value(1).run()
    assert not at.exception and not at.error
    assert len(last_result(at).s) == 2  # s[0] is None, s[1] the output


def test_randomise_fills_every_box_from_the_seed(at):
    at.number_input(key="calc_seed").set_value(3).run()
    at.button(key="calc_randomise").click().run()
    assert not at.exception and not at.error
    first = at.text_area(key="calc_W1").value
    assert first != "0.3, 0.2, 0.1\n0.4, 0.1, 0.2\n0.1, 0.5, 0.3"
    at.button(key="calc_randomise").click().run()
    assert at.text_area(key="calc_W1").value == first


def test_target_vector_is_used_for_delta(at):
    at.radio(key="calc_target_mode").set_value("vector y").run()
    at.text_input(key="calc_y").set_value("0, 1, 0").run()
    assert not at.exception and not at.error
    e = np.exp([2.1, -3.0, 1.5])
    np.testing.assert_allclose(last_result(at).delta[2], e / e.sum() - [0, 1, 0])


def test_a_deep_wide_network_renders_and_passes_the_gradient_check(at):
    at.selectbox(key="calc_hidden").set_value("tanh").run()
    at.slider(key="calc_depth").set_value(4).run()
    for key in ("calc_n_in", "calc_n1", "calc_n2", "calc_n3", "calc_n_out"):
        at.number_input(key=key).set_value(8).run()
    assert not at.exception and not at.error
    ev = at.session_state["calc_last_good"]
    assert ev.network.widths == [8] * 5
    assert max(max(c["dW_error"], c["db_error"]) for c in ev.checks) < 1e-6


def test_the_network_survives_a_visit_to_another_page(at):
    at.text_area(key="calc_W2").set_value("1, 0, 0\n0, 1, 0\n0, 0, 1").run()
    at.text_input(key="calc_b1").set_value("1, 2, 3").run()
    at.switch_page("pages/home.py").run()
    at.switch_page(PAGE).run()
    assert not at.exception and not at.error
    assert at.text_area(key="calc_W2").value == "1, 0, 0\n0, 1, 0\n0, 0, 1"
    assert at.text_input(key="calc_b1").value == "1, 2, 3"


def test_a_bad_box_stays_as_typed_across_reruns(at):
    at.radio(key="calc_target_mode").set_value("vector y").run()
    at.radio(key="calc_target_mode").set_value("class k").run()
    at.text_input(key="calc_x").set_value("0.5, oops, 0.2").run()
    at.run()
    assert not at.exception
    assert at.text_input(key="calc_x").value == "0.5, oops, 0.2"
    assert any("not a number" in e.value for e in at.error)


def test_a_huge_learning_rate_is_reported_not_raised(at):
    W1 = at.text_area(key="calc_W1").value
    at.number_input(key="calc_eta").set_value(1e200).run()
    at.button(key="calc_step10").click().run()
    assert not at.exception
    # Step 1 gives weights near 1e200, whose scores s^(2) overflow: nothing is written, and the page says why.
    assert any("Stopped after 0 step(s)" in e.value for e in at.error)
    assert at.text_area(key="calc_W1").value == W1
    assert len(at.session_state["calc_history"]) == 1
