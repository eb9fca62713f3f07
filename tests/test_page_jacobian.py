"""The Jacobian Explorer page in AppTest: presets, live heatmap and error vectors, overflow panel, bad input."""

import base64
import json
import math

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest import open_page
from ui.jacobian import PRESETS

PAGE = "pages/jacobian_explorer.py"


@pytest.fixture
def at() -> AppTest:
    return open_page(PAGE)


def reference_softmax(s):
    """Plain loop, independent of core: exp(s_i - max s) / sum_j exp(s_j - max s)."""
    top = max(s)
    e = [math.exp(v - top) for v in s]
    return np.array([v / sum(e) for v in e])


def decode(values):
    """Plotly 7 sends numpy arrays as typed arrays ``{"dtype", "bdata", "shape"}``; lists stay lists."""
    if isinstance(values, dict):
        flat = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
        shape = [int(n) for n in str(values.get("shape", flat.size)).split(",")]
        return flat.reshape(shape).astype(float)
    return np.array(values, dtype=float)


def heatmap_z(at):
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        if spec["data"][0]["type"] == "heatmap":
            return decode(spec["data"][0]["z"])
    raise AssertionError("no heatmap on the page")


def table_with(at, column):
    """The first table holding ``column``, as a DataFrame of strings."""
    for table in at.table:
        if column in table.value.columns:
            return table.value
    raise AssertionError(f"no table with a column {column!r}")


def error_vectors(at):
    df = table_with(at, "(3) a − y")
    return [df[c].astype(float).to_numpy() for c in ("(1) ∂a/∂s · ∇_a C", "(2) term by term", "(3) a − y")]


def set_scores(at, text):
    at.text_input(key="jac_s").input(text).run()


def load_preset(at, name):
    at.selectbox(key="jac_preset").set_value(name)
    at.button[0].click().run()


@pytest.mark.parametrize("name", list(PRESETS))
def test_each_preset_renders(at, name):
    load_preset(at, name)
    assert not at.exception
    assert not at.error
    text, class_number = PRESETS[name]
    assert at.text_input(key="jac_s").value == text
    assert at.number_input(key="jac_class").value == class_number
    s = [float(v) for v in text.split(",")]
    a = reference_softmax(s)
    np.testing.assert_allclose(heatmap_z(at), np.diag(a) - np.outer(a, a), atol=1e-12)


def test_guide_preset_shows_the_guides_numbers(at):
    z = heatmap_z(at)
    guide = [[0.159, -0.029, -0.13], [-0.029, 0.035, -0.006], [-0.13, -0.006, 0.136]]
    np.testing.assert_allclose(z, guide, atol=1.5e-3)
    assert any(m.label.startswith("Cross-entropy") and m.value == "3.321" for m in at.metric)
    for v in error_vectors(at):
        np.testing.assert_allclose(v, reference_softmax([2.1, -1.0, 0.5]) - [0, 1, 0], atol=1e-6)


def test_changing_scores_and_class_updates_heatmap_and_error_vectors(at):
    z_before, vectors_before = heatmap_z(at), error_vectors(at)
    s = [0.3, 1.7, -2.2, 0.9]
    set_scores(at, ", ".join(map(str, s)))
    assert not at.exception and not at.error
    z_after = heatmap_z(at)
    assert z_after.shape == (4, 4) and z_before.shape == (3, 3)
    a = reference_softmax(s)
    np.testing.assert_allclose(z_after, np.diag(a) - np.outer(a, a), atol=1e-12)
    after = error_vectors(at)
    assert after[0].shape != vectors_before[0].shape
    y = np.eye(4)[1]  # class 2 (1-based) is still selected
    for v in after:
        np.testing.assert_allclose(v, a - y, atol=1e-6)  # the table prints 6 significant figures

    at.number_input(key="jac_class").set_value(4).run()
    assert not at.exception and not at.error
    np.testing.assert_array_equal(heatmap_z(at), z_after)  # the Jacobian does not depend on y
    changed = error_vectors(at)
    for v in changed:
        np.testing.assert_allclose(v, a - np.eye(4)[3], atol=1e-6)
    assert not np.allclose(changed[2], after[2])


def test_huge_scores_show_the_overflow_and_the_shifted_fix(at):
    load_preset(at, "Huge [1000, 999, 998]")
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "overflow encountered in exp" in warnings
    df = table_with(at, "naive ratio")
    assert list(df["naive e^s_i"]) == ["inf"] * 3
    assert list(df["naive ratio"]) == ["nan"] * 3
    shifted = df["shifted (core softmax)"].astype(float).to_numpy()
    np.testing.assert_allclose(shifted, reference_softmax([2.0, 1.0, 0.0]), rtol=1e-5)
    np.testing.assert_allclose(df["log-sum-exp"].astype(float), np.log(reference_softmax([2.0, 1.0, 0.0])), rtol=1e-5)


def test_tiny_scores_show_the_underflow(at):
    load_preset(at, "Tiny [-1000, -1001, -1002]")
    assert "underflow encountered in exp" in " ".join(w.value for w in at.warning)
    df = table_with(at, "naive ratio")
    assert list(df["naive Σ e^s_j"]) == ["0"] * 3
    assert list(df["naive ratio"]) == ["nan"] * 3


def test_underflowed_true_class_still_gets_a_minus_y(at):
    load_preset(at, "Wide spread [800, 0, -800]")
    at.number_input(key="jac_class").set_value(3).run()
    assert not at.exception and not at.error
    assert any("underflowed to 0" in w.value for w in at.warning)
    np.testing.assert_allclose(table_with(at, "(3) a − y")["(3) a − y"].astype(float), [1.0, 0.0, -1.0])


def test_temperature_adds_the_scaled_softmax(at):
    def bar_traces():
        for chart in at.get("plotly_chart"):
            spec = json.loads(chart.proto.spec)
            if spec["data"][0]["type"] == "bar":
                return spec["data"]
        raise AssertionError("no bar chart")

    assert len(bar_traces()) == 1
    at.select_slider(key="jac_T").set_value(0.1).run()
    traces = bar_traces()
    assert len(traces) == 2
    np.testing.assert_allclose(decode(traces[1]["y"]), reference_softmax([21.0, -10.0, 5.0]), atol=1e-12)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2.1, two, 0.5", "not a number"),
        ("2.1, nan, 0.5", "finite"),
        ("", "empty"),
        ("3.0", "M = 2 to 10"),
        (", ".join(["1"] * 11), "11 entries"),
    ],
)
def test_bad_scores_show_an_error_and_keep_other_inputs(at, text, message):
    at.text_area(key="jac_W").input("1, 0, 2\n0, 2, 1").run()
    at.number_input(key="jac_class").set_value(3).run()
    set_scores(at, text)
    assert not at.exception
    assert any(message in e.value for e in at.error)
    assert not at.get("plotly_chart")
    assert at.number_input(key="jac_class").value == 3
    assert at.text_area(key="jac_W").value == "1, 0, 2\n0, 2, 1"
    set_scores(at, "1, 2, 3")
    assert not at.error and len(at.get("plotly_chart")) == 2


@pytest.mark.parametrize(("class_number", "message"), [(0, "1..3"), (4, "1..3"), (-2, "1..3")])
def test_class_out_of_range_shows_an_error_next_to_it(at, class_number, message):
    at.number_input(key="jac_class").set_value(class_number).run()
    assert not at.exception
    assert any(message in e.value for e in at.error)
    assert heatmap_z(at).shape == (3, 3)  # softmax and its Jacobian do not need y


def test_layout_panel_shapes(at):
    latex = " ".join(e.value for e in at.latex)
    assert r"W^T = \begin{bmatrix}1 & 4 \\ 2 & 5 \\ 3 & 6\end{bmatrix}" in latex
    # W^T dC/ds for W = [[1,2,3],[4,5,6]], dC/ds = [0.5, -1.5], by hand: [-5.5, -6.5, -7.5].
    assert r"\begin{bmatrix}-5.5 \\ -6.5 \\ -7.5\end{bmatrix}" in latex
    assert any("do not line up" in m.value for m in at.markdown)
    at.text_input(key="jac_grad_s").input("1, 2, 3").run()
    assert not at.exception
    assert any("m = 2" in e.value for e in at.error)


def test_heatmap_cells_name_their_formula_with_the_numbers(at):
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        if spec["data"][0]["type"] == "heatmap":
            trace, annotations = spec["data"][0], spec["layout"]["annotations"]
    a = reference_softmax([2.1, -1.0, 0.5])
    assert "diag a<sub>1</sub>(1−a<sub>1</sub>)" in trace["text"][0][0]
    assert "off −a<sub>1</sub>a<sub>2</sub>" in trace["text"][0][1]
    assert f"{a[0]:.4g} × (1 − {a[0]:.4g})" in trace["customdata"][0][0]
    assert f"−{a[1]:.4g} × {a[2]:.4g}" in trace["customdata"][1][2]
    # Three row sums and three column sums, each zero.
    sums = [float(note["hovertext"]) for note in annotations if note["text"].startswith("Σ")]
    assert len(sums) == 6
    np.testing.assert_allclose(sums, 0.0, atol=1e-15)


def test_derivation_substitutes_the_users_numbers(at):
    a = reference_softmax([2.1, -1.0, 0.5])
    latex = " ".join(e.value for e in at.latex)
    assert f"= {a[1]:.4g} - 1 = {a[1] - 1:.4g}" in latex  # i = k = 2: a_2 - 1
    assert f"= a_{{1}} - y_{{1}} = {a[0]:.4g}" in latex  # i = 1: a_1 - 0
