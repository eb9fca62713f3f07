"""The Confusion Matrix page in AppTest, every number checked against plain loops written here."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.data import load_digits
from tests.apptest import open_page
from tests.test_page_jacobian import decode
from tests.test_page_templates import make_race, mnist_shaped_file, model_file, wrong_layout_file

PAGE = "pages/confusion_matrix.py"
MNIST_10K = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mnist-10k"


@pytest.fixture(scope="module")
def digits():
    return load_digits()


@pytest.fixture
def at() -> AppTest:
    return open_page(PAGE)


def loop_predictions(W, b, X):
    """argmax_k (w_k . x + b_k) and softmax, one sample at a time."""
    preds, probs = [], []
    for x in X.astype(float):
        s = [float(np.dot(W[k], x) + b[k]) for k in range(len(b))]
        top = max(s)
        e = [math.exp(v - top) for v in s]
        preds.append(s.index(top))
        probs.append([v / sum(e) for v in e])
    return np.array(preds), np.array(probs)


def loop_confusion(y, pred, K):
    cm = np.zeros((K, K), dtype=int)
    for t, p in zip(y, pred, strict=True):
        cm[t, p] += 1
    return cm


def heatmaps(at):
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return specs[0]["data"][0], specs[1]["data"][0], specs


def test_without_race_or_model_the_page_says_what_to_do(at):
    assert any("Start a race" in i.value for i in at.info)
    assert not at.get("plotly_chart") and not at.error


def test_a_racer_on_test_and_training_images(at, digits):
    race = make_race(digits, updates=30)
    at.session_state["race"] = race
    at.run()
    assert not at.exception and not at.error
    t = race.racers[0].trainer
    pred, _ = loop_predictions(t.model.W, t.model.b, digits.X_test)
    cm = loop_confusion(digits.y_test, pred, 10)
    counts, shares, _ = heatmaps(at)
    np.testing.assert_array_equal(decode(counts["z"]), cm)
    assert counts["text"][3][5] == str(cm[3, 5])
    np.testing.assert_allclose(decode(shares["z"]), cm / cm.sum(axis=1, keepdims=True))

    table = at.dataframe[0].value
    for k in (0, 9):
        precision, recall = cm[k, k] / cm[:, k].sum(), cm[k, k] / cm[k].sum()
        n = cm.sum()
        accuracy = (n - cm[k].sum() - cm[:, k].sum() + 2 * cm[k, k]) / n
        row = table.iloc[k]
        assert row["images"] == cm[k].sum()
        assert row["precision"] == f"{100 * precision:.1f}%"
        assert row["recall"] == f"{100 * recall:.1f}%"
        assert row["accuracy"] == f"{100 * accuracy:.1f}%"

    off = cm.copy()
    np.fill_diagonal(off, 0)
    i, j = np.unravel_index(off.argmax(), off.shape)
    assert at.button(key="cm_pair_0").label == f"{i} taken for {j}: {off[i, j]} images"

    train_pred, _ = loop_predictions(t.model.W, t.model.b, digits.X_train)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Test accuracy"] == f"{np.mean(pred == digits.y_test):.2%}"
    assert metrics["Training accuracy"] == f"{np.mean(train_pred == digits.y_train):.2%}"

    at.radio(key="cm_split").set_value("train").run()
    counts, _, _ = heatmaps(at)
    np.testing.assert_array_equal(decode(counts["z"]), loop_confusion(digits.y_train, train_pred, 10))


def test_a_cell_shows_its_images_probabilities_and_template_difference(at, digits):
    race = make_race(digits, updates=30)
    at.session_state["race"] = race
    at.run()
    t = race.racers[0].trainer
    W, b = t.model.W, t.model.b
    pred, probs = loop_predictions(W, b, digits.X_test)
    # The most confused pair is shown first; a button picks the second one.
    at.button(key="cm_pair_1").click().run()
    i, j = at.selectbox(key="cm_true").value, at.selectbox(key="cm_pred").value
    behind = [n for n in range(len(pred)) if digits.y_test[n] == i and pred[n] == j]
    assert i != j and len(behind) >= 1
    assert any(f"{len(behind):,} images" in m.value for m in at.markdown)
    _, _, specs = heatmaps(at)
    images = [decode(tr["z"]) for tr in specs[2]["data"]]
    order = sorted(behind, key=lambda n: -probs[n, j])  # most confident mistakes first
    assert len(images) == min(len(behind), 18)
    np.testing.assert_allclose(images[0], digits.X_test[order[0]].reshape(8, 8), rtol=1e-6)
    titles = [a["text"] for a in specs[2]["layout"]["annotations"]]
    assert titles[0] == f"a({i})={probs[order[0], i]:.2f}<br>a({j})={probs[order[0], j]:.2f}"
    np.testing.assert_allclose(decode(specs[3]["data"][0]["z"]), (W[i].astype(float) - W[j]).reshape(8, 8))

    # A cell picked by hand; a diagonal cell shows the images recognised, without a difference figure.
    at.selectbox(key="cm_true").set_value(4).run()
    at.selectbox(key="cm_pred").set_value(4).run()
    correct = sum(1 for n in range(len(pred)) if digits.y_test[n] == 4 and pred[n] == 4)
    assert any(f"{correct:,} images** of 4 recognised correctly" in m.value for m in at.markdown)
    assert len(at.get("plotly_chart")) == 3


def test_an_uploaded_model_and_a_model_for_other_images(at, digits):
    rng = np.random.default_rng(3)
    W, b = rng.normal(size=(10, 64)), rng.normal(size=10)
    at.file_uploader(key="model_file").upload(*model_file(W, b, digits)).run()
    assert not at.exception and not at.error
    pred, _ = loop_predictions(W, b, digits.X_test)
    np.testing.assert_array_equal(decode(heatmaps(at)[0]["z"]), loop_confusion(digits.y_test, pred, 10))

    # A bad upload: an error, and the matrix of the model shown before stays.
    at.file_uploader(key="model_file").upload(*wrong_layout_file()).run()
    assert len(at.error) == 1 and "other.h5" in at.error[0].value
    np.testing.assert_array_equal(decode(heatmaps(at)[0]["z"]), loop_confusion(digits.y_test, pred, 10))

    # A 28x28 model on the 8x8 digits: both sizes named, nothing drawn, nothing lost.
    at.file_uploader(key="model_file").upload(*mnist_shaped_file()).run()
    assert len(at.error) == 1 and "n_features = 784" in at.error[0].value and "64 pixels" in at.error[0].value
    assert not at.get("plotly_chart")
    # Picking 28x28 images in the sidebar evaluates the same uploaded model there.
    at.selectbox(key="dataset_source").set_value("folder").run()
    at.text_input(key="dataset_folder").set_value(str(MNIST_10K)).run()
    assert not at.exception and not at.error
    counts = decode(heatmaps(at)[0]["z"])
    assert counts.shape == (10, 10) and counts.sum() == 2000
