"""Bad input on every page, through app.py: a clear message where the user is looking, and nothing else lost.

One test per row of the README's "Bad input" table that the page suites do not already cover. Each asserts
the message, no exception, and that the rest of the session (a running race, live training, an uploaded
model, the other inputs) is untouched.
"""

import dataclasses
import math
import re
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import data
from core.data import load_digits
from core.persistence import HDF5_SIGNATURE, MAX_FILE_BYTES
from tests.apptest import open_page
from tests.mirror import MNIST_10K, SHA256, Server
from tests.test_page_geometry import chart, decode
from tests.test_page_templates import model_file

ROOT = Path(__file__).resolve().parents[1]
CALC, JACOBIAN, RACE = "pages/backprop_calculator.py", "pages/jacobian_explorer.py", "pages/optimizer_race.py"
GEOMETRY, TEMPLATES = "pages/optimization_geometry.py", "pages/weight_templates.py"

BAD = {  # kind: (what replaces a number in the box, what the message must say)
    "text": ("abc", "not a number"),
    "empty": ("", "empty"),
    "nan": ("nan", "only finite numbers"),
    "inf": ("inf", "only finite numbers"),
    "huge": ("1e999", "only finite numbers"),  # float("1e999") is inf
}


def errors(at: AppTest) -> str:
    return " ".join(e.value for e in at.error)


def spoil(text: str, bad: str) -> str:
    """``text`` with its first number replaced by ``bad``; an empty ``bad`` empties the whole box."""
    return re.sub(r"[-+]?[0-9][0-9.eE+-]*", bad, text, count=1) if bad else ""


def boxes(at: AppTest, keys: dict[str, str]) -> dict[str, str]:
    """The text in each box, by key (``keys`` maps a key to ``"text_input"`` or ``"text_area"``)."""
    return {key: getattr(at, widget)(key=key).value for key, widget in keys.items()}


def type_bad(at: AppTest, key: str, widget: str, kind: str) -> str:
    typed = spoil(getattr(at, widget)(key=key).value, BAD[kind][0])
    getattr(at, widget)(key=key).input(typed).run()
    assert not at.exception
    return typed


# ---------------------------------------------------------------- Backprop Calculator
CALC_BOXES = {"calc_x": "text_input", "calc_W1": "text_area", "calc_b1": "text_input", "calc_W2": "text_area",
              "calc_b2": "text_input", "calc_y": "text_input"}  # fmt: skip
CALC_NAMES = {"calc_x": "x = a", "calc_W1": "W^{(1)}", "calc_b1": "b^{(1)}", "calc_W2": "W^{(2)}",
              "calc_b2": "b^{(2)}", "calc_y": "Target y"}  # fmt: skip


def calculator_with_vector_target() -> AppTest:
    at = open_page(CALC)
    at.radio(key="calc_target_mode").set_value("vector y").run()
    at.text_input(key="calc_y").input("0, 0, 1").run()
    assert not at.error
    return at


@pytest.mark.parametrize("kind", BAD)
@pytest.mark.parametrize("key", CALC_BOXES)
def test_calculator_bad_number_in_any_box_keeps_the_last_good_result(key, kind):
    at = calculator_with_vector_target()
    good = at.session_state["calc_last_good"].result.delta[1].copy()
    before = boxes(at, CALC_BOXES)
    typed = type_bad(at, key, CALC_BOXES[key], kind)
    assert len(at.error) == 1 and BAD[kind][1] in errors(at) and CALC_NAMES[key] in errors(at)
    assert any("last good result" in w.value for w in at.warning)
    assert (at.session_state["calc_last_good"].result.delta[1] == good).all()
    assert boxes(at, CALC_BOXES) == before | {key: typed}  # the bad box keeps what was typed, the others theirs
    assert at.button(key="calc_step").disabled


def test_calculator_learning_rate_zero_says_nothing_moves():
    at = open_page(CALC)
    W1 = at.text_area(key="calc_W1").value
    at.number_input(key="calc_eta").set_value(0.0).run()
    assert not at.exception and not at.error
    assert any("η = 0" in w.value and "unchanged" in w.value for w in at.warning)
    result = at.session_state["calc_last_good"].result
    assert all((result.W_new[l] == at.session_state["calc_last_good"].network.weights[l - 1]).all() for l in (1, 2))
    at.button(key="calc_step").click().run()
    assert at.text_area(key="calc_W1").value == W1


# ---------------------------------------------------------------- number widgets: refused by Streamlit itself
@pytest.mark.parametrize(
    ("page", "key", "value", "bounds"),
    [
        (CALC, "calc_eta", math.nan, (0, math.inf)),
        (CALC, "calc_eta", math.inf, (0, math.inf)),
        (CALC, "calc_eta", -1.0, (0, math.inf)),
        (CALC, "calc_class", 99, (1, 3)),
        (GEOMETRY, "geo_live_eta", math.nan, (1e-4, 1e4)),
        (GEOMETRY, "geo_live_eta", math.inf, (1e-4, 1e4)),
        (GEOMETRY, "geo_live_eta", 1e6, (1e-4, 1e4)),
        (GEOMETRY, "geo_live_B", 10**9, (1, 5000)),
        (RACE, "race_epochs", 10**6, (1, 1000)),
        (GEOMETRY, "geo_mb_eta", math.nan, (0, math.inf)),
        (GEOMETRY, "geo_sgd_eta", math.inf, (0, math.inf)),
    ],
)
def test_a_number_widget_never_takes_a_non_finite_or_out_of_range_value(page, key, value, bounds):
    """A browser's number box accepts digits only and enforces its bounds; a value sent anyway (AppTest can)
    is reset by Streamlit to the widget's default, so the page never sees it."""
    at = open_page(page)
    if key in ("geo_mb_eta", "geo_sgd_eta"):
        at.segmented_control(key="geo_view").set_value("BGD vs SGD paths").run()
    at.number_input(key=key).set_value(value).run()
    assert not at.exception
    shown = at.number_input(key=key).value
    assert math.isfinite(shown) and shown != value and bounds[0] <= shown <= bounds[1]


# ---------------------------------------------------------------- Jacobian Explorer
JAC_BOXES = {"jac_s": "text_input", "jac_W": "text_area", "jac_grad_s": "text_input"}
JAC_NAMES = {"jac_s": "Scores s", "jac_W": "W (m × n", "jac_grad_s": "∂C/∂s"}


@pytest.mark.parametrize("kind", BAD)
@pytest.mark.parametrize("key", JAC_BOXES)
def test_jacobian_bad_number_in_any_box_keeps_the_other_inputs(key, kind):
    at = open_page(JACOBIAN)
    at.number_input(key="jac_class").set_value(2).run()
    at.select_slider(key="jac_T").set_value(2.0).run()
    before = boxes(at, JAC_BOXES)
    typed = type_bad(at, key, JAC_BOXES[key], kind)
    assert len(at.error) == 1 and BAD[kind][1] in errors(at) and JAC_NAMES[key] in errors(at)
    assert boxes(at, JAC_BOXES) == before | {key: typed}
    assert at.number_input(key="jac_class").value == 2 and at.select_slider(key="jac_T").value == 2.0
    assert len(at.get("plotly_chart")) == (0 if key == "jac_s" else 2)  # softmax needs s, not the layout panel


def test_jacobian_huge_class_number_is_out_of_range_not_a_crash():
    at = open_page(JACOBIAN)
    at.number_input(key="jac_class").set_value(10**30).run()
    assert not at.exception and "out of range" in errors(at) and "1..3" in errors(at)
    assert len(at.get("plotly_chart")) == 2


# ---------------------------------------------------------------- Optimizer Race
RACE_BOXES = {  # key: (schedule to pick first, the name in the message)
    "race_eta_0": (None, "eta0"),
    "race_B_1": (None, "batch size B"),
    "race_decay_0": (("race_schedule_0", "exponential"), "decay"),
    "race_alpha_1": (("race_schedule_1", "inverse_sqrt"), "alpha"),
    "race_lam_2": (("race_schedule_2", "inverse"), "lam"),
}


def running_race(schedule=None) -> AppTest:
    at = open_page(RACE)
    if schedule:
        at.selectbox(key=schedule[0]).set_value(schedule[1]).run()
    at.button(key="race_start").click().run()
    at.run()
    assert not at.exception and not at.error
    return at


def assert_race_untouched(at: AppTest, race, settings: list[dict], sgd_updates: int, histories: list[int]) -> None:
    """The same race object, still running, every racer's settings as they were, and pure SGD still racing."""
    assert at.session_state["race"] is race and race.running
    assert [r.settings for r in race.racers] == settings
    at.run()
    assert not at.exception
    assert race.racers[2].trainer.update > sgd_updates
    assert all(len(r.trainer.history) >= n > 0 for r, n in zip(race.racers, histories, strict=True))


def snapshot(at: AppTest):
    race = at.session_state["race"]
    return (
        race,
        [dict(r.settings) for r in race.racers],
        race.racers[2].trainer.update,
        [len(r.trainer.history) for r in race.racers],
    )


@pytest.mark.parametrize(
    ("key", "typed", "message"),
    [(key, BAD[kind][0], BAD[kind][1]) for key in RACE_BOXES for kind in BAD]
    + [
        ("race_eta_0", "0", "greater than 0 and at most 1000"),
        ("race_eta_0", "-0.5", "greater than 0 and at most 1000"),
        ("race_eta_0", "1e6", "greater than 0 and at most 1000"),
        ("race_B_1", "0", "whole number from 1 to N = 1,293"),
        ("race_B_1", "1294", "whole number from 1 to N = 1,293"),
    ],
)
def test_race_bad_setting_keeps_the_running_race(key, typed, message):
    schedule, name = RACE_BOXES[key]
    at = running_race(schedule)
    race, settings, sgd_updates, histories = snapshot(at)
    others = {k: at.text_input(key=k).value for k in ("race_eta_1", "race_B_0", "race_eta_2", "race_B_2")}
    at.text_input(key=key).input(typed).run()
    assert not at.exception
    assert len(at.error) == 1 and message in errors(at) and name in errors(at)
    assert at.text_input(key=key).value == typed
    assert {k: at.text_input(key=k).value for k in others} == others
    assert_race_untouched(at, race, settings, sgd_updates, histories)


SWEEP_KEY = "race_sweep_etas_Racer 2"  # the sweep's rates for the racer it starts on (racer 2, mini-batch)


@pytest.mark.parametrize(
    ("bad", "message"),
    [(kind, BAD[kind][1]) for kind in BAD] + [(v, "each η must be greater than 0") for v in ("0", "-0.1", "1e6")],
)
def test_race_bad_sweep_rate_keeps_the_running_race(bad, message):
    at = running_race()
    state = snapshot(at)
    if bad in BAD:
        type_bad(at, SWEEP_KEY, "text_input", bad)
        assert "Learning rates η to try" in errors(at)
    else:
        at.text_input(key=SWEEP_KEY).input(f"0.1, {bad}, 0.3").run()
    assert not at.exception and len(at.error) == 1 and message in errors(at)
    assert at.button(key="race_sweep_run").disabled
    assert_race_untouched(at, *state)


def test_calculator_huge_learning_rate_steps_stay_finite():
    """eta = 1e6 on the default network: the step is huge but finite, and the loss is recorded as computed."""
    at = open_page(CALC)
    at.number_input(key="calc_eta").set_value(1e6).run()
    at.button(key="calc_step10").click().run()
    assert not at.exception
    history = at.session_state["calc_history"]
    assert len(history) == 11 and all(math.isfinite(c) and c >= 0 for c in history)
    W1 = at.text_area(key="calc_W1").value
    assert W1 != "0.3, 0.2, 0.1\n0.4, 0.1, 0.2\n0.1, 0.5, 0.3" and all(
        math.isfinite(float(v)) for v in re.split(r"[,\n]", W1)
    )


# ---------------------------------------------------------------- Optimisation Geometry
@pytest.mark.parametrize("kind", BAD)
@pytest.mark.parametrize(("key", "widget", "name"), [("geo_W3", "text_area", "W (3 × 2)"),
                                                     ("geo_b3", "text_input", "b (3 numbers)")])  # fmt: skip
def test_geometry_bad_typed_weight_keeps_the_live_training(key, widget, name, kind):
    at = open_page(GEOMETRY)
    at.button(key="geo_train_start").click().run()
    at.radio(key="geo_show").set_value("Typed").run()
    trainer = at.session_state["geo_live"]["trainer"]
    other = "geo_b3" if key == "geo_W3" else "geo_W3"
    kept = boxes(at, {other: "text_input" if other == "geo_b3" else "text_area"})
    type_bad(at, key, widget, kind)
    assert len(at.error) == 1 and BAD[kind][1] in errors(at) and name in errors(at)
    assert boxes(at, {other: "text_input" if other == "geo_b3" else "text_area"}) == kept
    live = at.session_state["geo_live"]
    assert live["trainer"] is trainer and live["running"]
    updates = trainer.update
    at.run()
    assert not at.exception and trainer.update > updates


def test_geometry_live_batch_larger_than_n_says_it_is_batch_gd():
    at = open_page(GEOMETRY)
    at.number_input(key="geo_live_B").set_value(1000).run()
    at.button(key="geo_train_start").click().run()
    at.run()
    assert not at.exception and not at.error
    assert any("B = 1000 is more than the N = 150 points" in w.value for w in at.warning)
    trainer = at.session_state["geo_live"]["trainer"]
    assert trainer.batch_size == 150 and trainer.update > 0


def placed_points(at: AppTest) -> int:
    """How many points the decision-regions chart draws."""
    return sum(len(decode(t["x"])) for t in chart(at, "Decision regions")["data"] if "class" in t.get("name", ""))


@pytest.mark.parametrize(
    ("bad", "message"),
    [(kind, BAD[kind][1]) for kind in BAD] + [("class", "whole number from 1 to K = 3")],
)
def test_geometry_bad_points_keep_the_last_valid_points(bad, message):
    at = open_page(GEOMETRY)
    at.radio(key="geo_source").set_value("Points I place").run()
    points = at.session_state["geo_points_ok"] if "geo_points_ok" in at.session_state else None
    before = placed_points(at)
    if bad == "class":  # a class index out of range: K = 3, class 4
        at.text_area(key="geo_points").input("0, 0, 1\n1, 1, 4").run()
    else:
        type_bad(at, "geo_points", "text_area", bad)
    assert not at.exception
    assert len(at.error) == 1 and message in errors(at) and "Points" in errors(at) or bad == "class"
    assert message in errors(at)
    assert placed_points(at) == before
    if points is not None:
        assert at.session_state["geo_points_ok"] is points


@pytest.mark.parametrize("kind", BAD)
def test_geometry_bad_start_keeps_the_surface(kind):
    at = open_page(GEOMETRY)
    at.segmented_control(key="geo_view").set_value("Loss surface").run()
    type_bad(at, "geo_start", "text_input", kind)
    assert len(at.error) == 1 and BAD[kind][1] in errors(at) and "Start θ₀" in errors(at)
    assert any("Loss C(w" in c.proto.spec for c in at.get("plotly_chart"))


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [("geo_mb_eta", 0.0, "learning rate"), ("geo_sgd_eta", 0.0, "learning rate"), ("geo_mb_B", 151, "N = 150")],
)
def test_geometry_bad_path_setting_keeps_the_other_paths(key, value, message):
    at = open_page(GEOMETRY)
    at.segmented_control(key="geo_view").set_value("BGD vs SGD paths").run()
    at.button(key="geo_step_btn").click().run()
    at.number_input(key=key).set_value(value).run()
    assert not at.exception and message in errors(at)
    assert any("The paths after" in c.proto.spec for c in at.get("plotly_chart"))
    assert at.number_input(key="geo_bgd_eta").value > 0  # the other settings keep their values


# ---------------------------------------------------------------- the dataset picker, during a race
def assert_dataset_kept(at: AppTest, state, message_parts: tuple[str, ...]) -> None:
    assert not at.exception
    assert len(at.error) == 1, errors(at)
    for part in (*message_parts, "The previous dataset stays in use"):
        assert part in errors(at)
    assert at.session_state["dataset_choice"].source == "digits"
    race, settings, sgd_updates, histories = state
    assert race.dataset.name == "Bundled digits (8x8)"
    assert_race_untouched(at, race, settings, sgd_updates, histories)


@pytest.mark.parametrize(
    ("damage", "message"),
    [("missing", ("missing", "t10k-labels-idx1-ubyte")), ("truncated", ("train-images-idx3-ubyte.gz", "truncated"))],
)
def test_dataset_folder_with_a_missing_or_truncated_file_keeps_the_race(tmp_path, monkeypatch, damage, message):
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "cache"))
    folder = tmp_path / f"mnist-{damage}"
    shutil.copytree(MNIST_10K, folder)
    if damage == "missing":
        (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    else:
        images = folder / "train-images-idx3-ubyte.gz"
        images.write_bytes(images.read_bytes()[: images.stat().st_size // 2])
    at = running_race()
    state = snapshot(at)
    at.selectbox(key="dataset_source").set_value("folder").run()
    at.text_input(key="dataset_folder").input(str(folder)).run()
    assert_dataset_kept(at, state, message)
    assert at.text_input(key="dataset_folder").value == str(folder)


def test_a_download_dropped_half_way_keeps_the_race_and_no_partial_file(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv(data.CACHE_ENV, str(cache))
    mirror = Server(MNIST_10K)  # /drop/ promises the whole file and closes the connection half-way
    try:
        files = tuple(data.RemoteFile(n, SHA256[n], (MNIST_10K / n).stat().st_size) for n in SHA256)
        remote = dataclasses.replace(data.REMOTE_SOURCES["mnist"], mirrors=(f"{mirror.url}/drop/",), files=files)
        monkeypatch.setitem(data.REMOTE_SOURCES, "mnist", remote)
        at = running_race()
        state = snapshot(at)
        at.selectbox(key="dataset_source").set_value("mnist").run()
        assert mirror.log and all(path.startswith("/drop/") for path in mirror.log)
        assert_dataset_kept(at, state, ("Could not load MNIST", "dropped"))
        assert not [p for p in cache.rglob("*") if p.is_file()]  # nothing partial kept
    finally:
        mirror.stop()


# ---------------------------------------------------------------- model uploads
def test_a_model_file_over_the_size_limit_keeps_the_model_shown():
    """In a browser the uploader stops files over server.maxUploadSize (50 MB) before sending them; any other
    way in (AppTest here) meets core.persistence's own limit, checked before the file is read."""
    digits = load_digits()
    at = open_page(TEMPLATES)
    W, b = digits.X_train[:10].astype(float), digits.y_train[:10].astype(float)
    at.file_uploader(key="model_file").upload(*model_file(W, b, digits, "mine.h5")).run()
    assert not at.exception and not at.error
    charts = len(at.get("plotly_chart"))
    huge = HDF5_SIGNATURE + bytes(MAX_FILE_BYTES + 1 - len(HDF5_SIGNATURE))
    at.file_uploader(key="model_file").upload("huge.h5", huge, "application/x-hdf5").run()
    assert not at.exception
    assert len(at.error) == 1 and "huge.h5" in errors(at) and "too large" in errors(at) and "64 MiB" in errors(at)
    assert "The model shown before stays" in errors(at)
    assert at.session_state["model_upload"].name == "mine.h5" and at.selectbox(key="model_source").value == "upload"
    assert len(at.get("plotly_chart")) == charts
