"""The Optimisation Geometry page in AppTest: the three views, live training, play/step, rates, bad input."""

import base64
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest import open_page

PAGE = "pages/optimization_geometry.py"


@pytest.fixture
def at() -> AppTest:
    return open_page(PAGE)


def show(at, view):
    at.segmented_control(key="geo_view").set_value(view).run()
    assert not at.exception
    return at


def decode(values):
    """Plotly 7 sends numpy arrays as typed arrays ``{"dtype", "bdata", "shape"}``; lists stay lists."""
    if isinstance(values, dict):
        flat = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
        shape = [int(n) for n in str(values.get("shape", flat.size)).split(",")]
        return flat.reshape(shape).astype(float)
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def chart(at, title_part):
    """The spec of the chart whose title contains ``title_part``."""
    for element in at.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        if title_part in spec["layout"]["title"]["text"]:
            return spec
    titles = [json.loads(e.proto.spec)["layout"]["title"]["text"] for e in at.get("plotly_chart")]
    raise AssertionError(f"no chart titled {title_part!r}; have {titles}")


def trace(spec, name_part):
    for t in spec["data"]:
        if name_part in t.get("name", ""):
            return t
    raise AssertionError(f"no trace named {name_part!r}")


def path_points(at, name):
    t = trace(chart(at, "The paths after"), name)
    return np.column_stack([decode(t["x"]), decode(t["y"])])


def errors(at):
    return " ".join(e.value for e in at.error)


# ---------------------------------------------------------------- view 1: decision regions


def test_regions_view_renders_the_plane_boundaries_and_weight_arrows(at):
    spec = chart(at, "Decision regions")
    assert spec["data"][0]["type"] == "heatmap"
    z = decode(spec["data"][0]["z"])
    assert z.min() >= 0 and z.max() < 3  # class + certainty, K = 3
    assert any(t.get("name") == "boundary s_i = s_j" for t in spec["data"])
    arrows = [a for a in spec["layout"]["annotations"] if a.get("showarrow")]
    labels = [a for a in spec["layout"]["annotations"] if not a.get("showarrow", True)]
    assert len(arrows) == 3 and all(a["ax"] == 0 and a["ay"] == 0 for a in arrows)  # drawn from the origin
    assert [a["text"] for a in labels] == ["<b>w<sub>1</sub></b>", "<b>w<sub>2</sub></b>", "<b>w<sub>3</sub></b>"]
    assert [(a["x"], a["y"]) for a in labels] == [(a["x"], a["y"]) for a in arrows]  # each label at its tip


def test_live_training_advances_on_each_run_and_pauses(at):
    at.button(key="geo_train_start").click().run()
    at.run()
    trainer = at.session_state["geo_live"]["trainer"]
    first = trainer.update
    assert first > 0
    at.run()
    assert trainer.update > first
    assert "after 0 updates" not in chart(at, "Decision regions")["layout"]["title"]["text"]
    at.button(key="geo_train_pause").click().run()
    paused = trainer.update
    at.run()
    assert trainer.update == paused and not at.exception


def test_typed_weights_move_the_regions(at):
    at.radio(key="geo_show").set_value("Typed").run()
    before = decode(chart(at, "typed weights")["data"][0]["z"])
    at.text_area(key="geo_W3").input("0, 2\n-1.73, -1\n3, 0").run()
    assert not at.exception and not at.error
    after = decode(chart(at, "typed weights")["data"][0]["z"])
    assert not np.array_equal(before, after)


@pytest.mark.parametrize(
    ("text", "message"),
    [("0, 2\n-1.73, x\n1.73, -1", "not a number"), ("0, 2\n-1.73, -1", "shape"), ("0, 2\nnan, 1\n1, 1", "finite")],
)
def test_bad_typed_weights_show_an_error_and_keep_the_training(at, text, message):
    at.button(key="geo_train_start").click().run()
    trainer = at.session_state["geo_live"]["trainer"]
    at.radio(key="geo_show").set_value("Typed").run()
    at.text_area(key="geo_W3").input(text).run()
    assert not at.exception
    assert message in errors(at)
    assert at.session_state["geo_live"]["trainer"] is trainer and trainer.update > 0


def test_placed_points_and_bad_points(at):
    at.radio(key="geo_source").set_value("Points I place").run()
    assert not at.exception and not at.error
    n_points = sum(len(decode(t["x"])) for t in chart(at, "Decision regions")["data"] if "class" in t.get("name", ""))
    assert n_points == len(at.text_area(key="geo_points").value.strip().splitlines())
    at.text_area(key="geo_points").input("0, 0, 1\n1, 1, two").run()
    assert not at.exception and "not a number" in errors(at)
    n_kept = sum(len(decode(t["x"])) for t in chart(at, "Decision regions")["data"] if "class" in t.get("name", ""))
    assert n_kept == n_points  # the last valid points stay


# ---------------------------------------------------------------- view 2: the loss surface


def test_surface_view_shows_contours_gradient_arrows_and_the_minimum(at):
    show(at, "Loss surface")
    spec = chart(at, "Loss C(w")
    assert spec["data"][0]["type"] == "contour"
    assert any(t.get("name") == "minimum" for t in spec["data"])
    arrows = [a for a in spec["layout"]["annotations"] if a.get("showarrow")]
    assert len(arrows) > 50
    # Each arrow points downhill: from its tail (ax, ay) the head (x, y) has a lower loss.
    surface = spec["data"][0]
    u, v, C = decode(surface["x"]), decode(surface["y"]), decode(surface["z"])
    lower = 0
    for a in arrows[::10]:
        tail = C[np.abs(v - a["ay"]).argmin(), np.abs(u - a["ax"]).argmin()]
        head = C[np.abs(v - a["y"]).argmin(), np.abs(u - a["x"]).argmin()]
        lower += head <= tail
    assert lower >= 0.8 * len(arrows[::10])
    assert "Which loss?" in " ".join(m.value for m in at.markdown)


def test_surface_3d_and_bad_start(at):
    show(at, "Loss surface")
    at.checkbox(key="geo_3d").check().run()
    assert chart(at, "as a surface")["data"][0]["type"] == "surface"
    at.text_input(key="geo_start").input("1, 2, 3").run()
    assert not at.exception and "exactly 2 numbers" in errors(at)
    at.text_input(key="geo_start").input("one, 2").run()
    assert not at.exception and "not a number" in errors(at)
    assert chart(at, "Loss C(w")  # still drawn from the last valid start


# ---------------------------------------------------------------- view 3: the paths


def test_paths_view_renders_and_step_advances(at):
    show(at, "BGD vs SGD paths")
    for title in ("The paths after 0", "Loss against updates", "Loss against samples", "Convergence"):
        assert chart(at, title)
    assert len(path_points(at, "Batch GD")) == 1
    for _ in range(3):
        at.button(key="geo_step_btn").click().run()
    assert chart(at, "The paths after 3 updates")
    for name in ("Batch GD", "Mini-batch SGD", "Pure SGD"):
        points = path_points(at, name)
        assert len(points) == 4 and np.array_equal(points[0], [0.0, 0.0])  # the same start
    conv = chart(at, "Convergence")
    assert conv["layout"]["xaxis"]["type"] == "log" and conv["layout"]["yaxis"]["type"] == "log"
    slopes = {t["name"]: t for t in conv["data"] if "slope" in t["name"]}
    for name, slope in (("slope −1: O(1/t)", -1.0), ("slope −½: O(1/√t)", -0.5)):
        x, y = decode(slopes[name]["x"]), decode(slopes[name]["y"])
        assert np.log(y[1] / y[0]) / np.log(x[1] / x[0]) == pytest.approx(slope)


def test_play_advances_the_paths_and_pause_stops(at):
    show(at, "BGD vs SGD paths")
    at.button(key="geo_play_btn").click().run()
    first = at.session_state["geo_play"]["step"]
    assert first > 0
    at.run()
    assert at.session_state["geo_play"]["step"] > first
    at.button(key="geo_pause_btn").click().run()
    paused = at.session_state["geo_play"]["step"]
    at.run()
    assert at.session_state["geo_play"]["step"] == paused
    assert chart(at, f"The paths after {paused} updates")
    at.button(key="geo_rewind_btn").click().run()
    assert chart(at, "The paths after 0 updates")


def test_changing_the_learning_rate_changes_the_path(at):
    show(at, "BGD vs SGD paths")
    for _ in range(5):
        at.button(key="geo_step_btn").click().run()
    before = path_points(at, "Batch GD")
    others = path_points(at, "Pure SGD")
    at.number_input(key="geo_bgd_eta").set_value(0.1).run()
    after = path_points(at, "Batch GD")
    assert len(after) == len(before) == 6
    assert np.array_equal(after[0], before[0]) and not np.allclose(after[1:], before[1:])
    # A smaller rate takes a shorter first step, in the same (steepest-descent) direction.
    assert np.linalg.norm(after[1] - after[0]) == pytest.approx(0.2 * np.linalg.norm(before[1] - before[0]))
    assert np.array_equal(path_points(at, "Pure SGD"), others)


def test_a_divergent_rate_is_shown_as_diverged(at):
    show(at, "BGD vs SGD paths")
    at.number_input(key="geo_sgd_eta").set_value(1e6).run()
    for _ in range(2):
        at.button(key="geo_step_btn").click().run()
    assert not at.exception
    assert "Pure SGD diverged at update 1" in errors(at)
    assert trace(chart(at, "The paths after"), "Pure SGD — diverged at update 1")
    assert len(path_points(at, "Batch GD")) == 3  # the others go on


def test_bad_path_settings_show_errors_beside_them(at):
    show(at, "BGD vs SGD paths")
    at.number_input(key="geo_mb_B").set_value(100_000).run()
    assert not at.exception and "batch size must be a whole number from 1 to N = 150" in errors(at)
    at.number_input(key="geo_bgd_eta").set_value(0.0).run()
    assert "learning rate" in errors(at)
    assert chart(at, "The paths after")  # the valid path is still drawn


def test_separable_data_warn_that_there_is_no_minimum(at):
    show(at, "Loss surface")
    assert not at.warning
    at.slider(key="geo_spread").set_value(0.2).run()
    assert not at.exception and "no minimum" in " ".join(w.value for w in at.warning)
    show(at, "BGD vs SGD paths")
    assert "no minimum" in " ".join(w.value for w in at.warning) and chart(at, "The paths after")
