"""The Weight Templates page in AppTest: no model, a live racer, an uploaded HDF5 file, bad uploads, the download."""

import io
import json

import h5py
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.data import load_digits
from core.models import model_data_from
from core.persistence import load_model, save_model
from core.training import Trainer
from tests.apptest import open_page
from tests.test_page_jacobian import decode
from ui.models import ShownModel, UploadedModel, model_file_bytes
from ui.race_state import Race, Racer

PAGE = "pages/weight_templates.py"


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def make_race(ds, updates=40, seed=0):
    """A race of one mini-batch racer (B = 10, eta 0.5) that has done ``updates`` updates."""
    t = Trainer(ds.X_train, ds.y_train, ds.X_val, ds.y_val, batch_size=10, eta=0.5, seed=seed, n_classes=10)
    t.advance(max_updates=updates)
    return Race(ds, [Racer("mini-batch B=10", t, {"batch_size": 10, "eta": 0.5, "schedule": "constant"})])


def model_file(W, b, ds, name="m.h5"):
    """(name, bytes, mime) of an HDF5 model with these weights, as the uploader takes it."""
    hp = {"learning_rate": 0.1, "batch_size": 1, "n_iterations": 7}
    return name, save_model(model_data_from(W, b, ds, hp)), "application/x-hdf5"


def mnist_shaped_file():
    """A valid model for 28x28 images (784 features), which does not fit the bundled 8x8 digits."""
    rng = np.random.default_rng(1)
    md = {
        "W": rng.normal(size=(10, 784)),
        "b": np.zeros(10),
        "n_features": 784,
        "n_classes": 10,
        "hyperparameters": {"learning_rate": 0.5, "batch_size": 100, "n_iterations": 216},
        "performance": {"train_accuracy": 0.9, "test_accuracy": 0.88, "train_loss": 0.3, "test_loss": 0.36},
        "image_shape": (28, 28),
    }
    return "mnist.h5", save_model(md), "application/x-hdf5"


def wrong_layout_file():
    """A real HDF5 file without the homework's layout (no W)."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.create_dataset("weights", data=np.zeros((10, 64)))
    return "other.h5", buffer.getvalue(), "application/x-hdf5"


@pytest.fixture
def at() -> AppTest:
    return open_page(PAGE)


def charts(at):
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def templates(at):
    """The z of every template heatmap of the grid (not the mean images), and the grid's figure."""
    spec = charts(at)[0]
    return [decode(t["z"]) for t in spec["data"] if t.get("coloraxis") != "coloraxis2"], spec


def upload(at, file):
    at.file_uploader(key="model_file").upload(*file).run()
    assert not at.exception


def test_without_race_or_model_the_page_says_what_to_do(at):
    assert not at.error
    assert any("Start a race" in i.value and "upload a model" in i.value for i in at.info)
    assert not at.get("plotly_chart")


def test_a_racer_is_drawn_live_with_class_means_and_differences(at, digits):
    race = make_race(digits)
    at.session_state["race"] = race
    at.run()
    assert not at.exception and not at.error
    W = race.racers[0].trainer.model.W.copy()  # the trainer updates its W in place
    zs, spec = templates(at)
    assert len(zs) == 10
    for k in range(10):
        np.testing.assert_allclose(zs[k], W[k].reshape(8, 8), rtol=1e-6)
    # One diverging scale for all classes, centred on zero: +-max|W|, red for positive (RdBu reversed).
    axis = spec["layout"]["coloraxis"]
    assert axis["cmin"] == pytest.approx(-np.abs(W).max()) and axis["cmax"] == pytest.approx(np.abs(W).max())
    assert axis["colorscale"][0][1] == "rgb(5,48,97)" and axis["colorscale"][-1][1] == "rgb(103,0,31)"
    assert "weight %{z" in spec["data"][0]["hovertemplate"]
    # Beside each template: the class's mean training image, by a plain loop.
    means = [decode(t["z"]) for t in spec["data"] if t.get("coloraxis") == "coloraxis2"]
    for k in (0, 7):
        rows = [x for x, label in zip(digits.X_train, digits.y_train, strict=True) if label == k]
        np.testing.assert_allclose(means[k], np.mean(rows, axis=0).reshape(8, 8), rtol=1e-5)

    # Training goes on (the race page advances it): the next run draws the new weights.
    race.racers[0].trainer.advance(max_updates=20)
    at.run()
    zs, _ = templates(at)
    np.testing.assert_allclose(zs[3], race.racers[0].trainer.model.W[3].reshape(8, 8), rtol=1e-6)
    assert not np.allclose(zs[3], W[3].reshape(8, 8))

    # Per-class scale: each template on its own +-max|w_k|.
    at.radio(key="wt_scale").set_value("per_class").run()
    _, spec = templates(at)
    W = race.racers[0].trainer.model.W
    heat = [t for t in spec["data"] if t.get("coloraxis") != "coloraxis2"]
    for k in (0, 5):
        assert heat[k]["zmax"] == pytest.approx(np.abs(W[k]).max()) and heat[k]["zmin"] == -heat[k]["zmax"]

    # The difference of a chosen pair.
    at.selectbox(key="wt_i").set_value(2).run()
    at.selectbox(key="wt_j").set_value(7).run()
    diff = decode(charts(at)[1]["data"][0]["z"])
    np.testing.assert_allclose(diff, (W[2].astype(float) - W[7]).reshape(8, 8), rtol=1e-6)


def test_a_running_race_goes_on_here_with_the_race_pages_own_step(at, digits):
    race = make_race(digits, updates=0)
    at.session_state["race"] = race
    at.run()
    t = race.racers[0].trainer
    assert t.update == 0  # a paused race stays where it is
    race.running = True
    at.session_state["race_pace"] = "0.25 epoch/s"  # the clock moves 0.25 x 0.5 s = 0.125 epoch per run
    for _ in range(3):  # AppTest runs the fragment's body on every run (its timer does not fire here)
        at.run()
    assert not at.exception and 0 < t.samples / len(t.X) < 0.4  # 3 x 0.125 epoch, in whole batches of 10
    zs, _ = templates(at)
    np.testing.assert_allclose(zs[6], t.model.W[6].reshape(8, 8), rtol=1e-6)
    assert any("race keeps running" in c.value for c in at.caption)
    # On the Confusion Matrix page the race waits.
    at.switch_page("pages/confusion_matrix.py").run()
    before = t.update
    at.run()
    assert t.update == before and any("race waits" in c.value for c in at.caption)


def test_an_uploaded_file_is_shown_and_bad_uploads_keep_it(at, digits):
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(10, 64)), rng.normal(size=10)
    upload(at, model_file(W, b, digits, "mine.h5"))
    assert not at.error
    assert at.selectbox(key="model_source").value == "upload"
    zs, _ = templates(at)
    np.testing.assert_allclose(zs[9], W[9].reshape(8, 8))

    for bad, message in ((("junk.h5", b"not a model at all", "application/x-hdf5"), "not an HDF5 file"),
                         (wrong_layout_file(), "no dataset 'n_features'")):  # fmt: skip
        upload(at, bad)
        assert len(at.error) == 1 and bad[0] in at.error[0].value and message in at.error[0].value
        assert "stays" in at.error[0].value
        assert at.session_state["model_upload"].name == "mine.h5"
        zs, _ = templates(at)
        np.testing.assert_allclose(zs[9], W[9].reshape(8, 8))  # what was shown before is still shown


def test_a_model_for_other_images_names_both_sizes_and_still_shows_its_templates(at, digits):
    at.session_state["race"] = make_race(digits)
    upload(at, mnist_shaped_file())
    assert len(at.error) == 1
    message = at.error[0].value
    assert "n_features = 784" in message and "64 pixels per image (8x8)" in message
    zs, _ = templates(at)
    assert len(zs) == 10 and zs[0].shape == (28, 28)  # drawn with its own 28x28 shape, without class means
    at.selectbox(key="model_source").set_value("racer:0").run()  # the racer is still there
    assert not at.error and templates(at)[0][0].shape == (8, 8)


def test_the_download_bytes_load_back_as_the_model(at, digits):
    race = make_race(digits, updates=60)
    racer = race.racers[0]
    at.session_state["race"] = race
    at.run()
    assert at.get("download_button") and not at.exception
    t = racer.trainer
    shown = ShownModel(t.model.W, t.model.b, digits.class_names, (8, 8), racer=racer, race=race)
    back = load_model(model_file_bytes(shown))
    np.testing.assert_array_equal(back["W"], t.model.W)
    np.testing.assert_array_equal(back["b"], t.model.b)
    assert back["hyperparameters"]["n_iterations"] == 60 and back["hyperparameters"]["batch_size"] == 10
    S = digits.X_test.astype(float) @ back["W"].T + back["b"]
    assert back["performance"]["test_accuracy"] == np.mean(S.argmax(axis=1) == digits.y_test)

    name, data, _ = model_file(t.model.W, t.model.b, digits)
    uploaded = UploadedModel(name, load_model(data))
    shown = ShownModel(uploaded.model["W"], uploaded.model["b"], digits.class_names, (8, 8), upload=uploaded)
    again = load_model(model_file_bytes(shown))
    assert again.keys() == uploaded.model.keys()
    np.testing.assert_array_equal(again["W"], uploaded.model["W"])
    assert again["performance"] == uploaded.model["performance"]
