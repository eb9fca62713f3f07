"""core.models: a trained model as the homework's dictionary, with performance checked against a plain loop."""

import math

import numpy as np
import pytest

from core.data import load_digits
from core.models import (
    cell_examples,
    check_compatible,
    model_data_from,
    template_difference,
    template_shape,
    trainer_hyperparameters,
    trainer_model_data,
)
from core.persistence import load_model, save_model
from core.training import Trainer


@pytest.fixture(scope="module")
def digits():
    return load_digits()


@pytest.fixture
def trainer(digits):
    t = Trainer(
        digits.X_train, digits.y_train, batch_size=10, eta=0.3, schedule="inverse", lam=0.01, seed=4, n_classes=10
    )
    t.advance(max_updates=50)
    return t


def loop_scores(W, b, X, y):
    """Mean cross-entropy and accuracy by a plain per-sample loop (math.exp, no core)."""
    total, correct = 0.0, 0
    for x, label in zip(X.astype(float), y, strict=True):
        s = [float(W[k] @ x + b[k]) for k in range(len(b))]
        top = max(s)
        log_sum = top + math.log(sum(math.exp(v - top) for v in s))
        total += log_sum - s[label]
        correct += s.index(top) == label
    return total / len(y), correct / len(y)


def test_model_data_records_the_trainer_and_measured_performance(trainer, digits):
    md = trainer_model_data(trainer, digits)
    np.testing.assert_array_equal(md["W"], trainer.model.W)
    np.testing.assert_array_equal(md["b"], trainer.model.b)
    assert (md["n_classes"], md["n_features"]) == (10, 64)
    hp = md["hyperparameters"]
    assert hp["learning_rate"] == 0.3 and hp["batch_size"] == 10 and hp["n_iterations"] == 50
    assert hp["schedule"] == "inverse" and hp["lam"] == 0.01 and hp["seed"] == 4 and hp["shuffle"] is True
    assert hp["epochs"] == pytest.approx(500 / len(digits.y_train))  # 50 updates of 10 samples, mid-epoch
    for split in ("train", "test", "val"):
        X, y = getattr(digits, f"X_{split}"), getattr(digits, f"y_{split}")
        loss, acc = loop_scores(md["W"], md["b"], X, y)
        assert md["performance"][f"{split}_loss"] == pytest.approx(loss, rel=1e-6)
        assert md["performance"][f"{split}_accuracy"] == acc
    assert 0.5 < md["performance"]["test_accuracy"] < 1  # trained, but not perfectly
    assert md["image_shape"] == (8, 8) and md["class_names"] == [str(k) for k in range(10)]
    assert md["dataset"] == digits.name and md["pixel_scale"] == 16.0


def test_the_dictionary_is_a_snapshot_that_round_trips(trainer, digits):
    md = trainer_model_data(trainer, digits)
    before = md["W"].copy()
    trainer.advance(max_updates=5)
    np.testing.assert_array_equal(md["W"], before)  # further training does not change the saved model
    assert not np.array_equal(trainer.model.W, before)
    back = load_model(save_model(md))
    assert back.keys() == md.keys()
    np.testing.assert_array_equal(back["W"], md["W"])
    assert back["hyperparameters"] == md["hyperparameters"] and back["performance"] == md["performance"]


def test_without_validation_split_only_train_and_test_are_measured():
    ds = load_digits(val_fraction=0.0)
    W, b = np.zeros((10, 64)), np.zeros(10)
    md = model_data_from(W, b, ds, {"learning_rate": 0.1, "batch_size": 1, "n_iterations": 0})
    assert set(md["performance"]) == {"train_loss", "train_accuracy", "test_loss", "test_accuracy"}
    assert md["performance"]["test_loss"] == pytest.approx(math.log(10))  # uniform a = 1/K


def test_a_model_that_does_not_fit_the_dataset_names_both_sizes(digits):
    with pytest.raises(ValueError, match=r"n_features = 784.*64 pixels per image \(8x8\)"):
        check_compatible(784, 10, digits)
    with pytest.raises(ValueError, match="n_classes = 3.*10 classes"):
        model_data_from(np.zeros((3, 64)), np.zeros(3), digits, {})
    check_compatible(64, 10, digits)  # fits: no error


def test_a_diverged_model_is_refused(digits):
    W = np.zeros((10, 64))
    W[2, 5] = np.nan
    with pytest.raises(ValueError, match="diverged"):
        model_data_from(W, np.zeros(10), digits, {"learning_rate": 1.0, "batch_size": 1, "n_iterations": 3})


def test_hyperparameters_count_whole_epochs(digits):
    t = Trainer(digits.X_train, digits.y_train, batch_size=len(digits.y_train), eta=0.5, seed=0)
    t.advance(max_updates=3)  # batch GD: one update per epoch
    hp = trainer_hyperparameters(t)
    assert hp["epochs"] == 3.0 and hp["n_iterations"] == 3 and hp["schedule"] == "constant"


def test_template_shape():
    assert template_shape(784) == (28, 28)
    assert template_shape(64, (8, 8)) == (8, 8)
    assert template_shape(6, (2, 3)) == (2, 3)
    assert template_shape(6, (4, 4)) == (1, 6)  # a recorded shape that does not hold D pixels is ignored
    assert template_shape(10) == (1, 10)


def test_template_difference():
    W = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_array_equal(template_difference(W, 2, 0), [8, 8, 8, 8])
    assert template_difference(W, 1, 1).tolist() == [0, 0, 0, 0]
    with pytest.raises(ValueError, match=r"0\.\.2"):
        template_difference(W, 3, 0)


def test_cell_examples_are_the_cell_most_confident_first():
    rng = np.random.default_rng(5)
    y_true, y_pred = rng.integers(0, 3, 200), rng.integers(0, 3, 200)
    probabilities = rng.dirichlet(np.ones(3), 200)
    got = cell_examples(y_true, y_pred, probabilities, 2, 0)
    behind = [n for n in range(200) if y_true[n] == 2 and y_pred[n] == 0]
    assert sorted(got.tolist()) == behind
    assert got.tolist() == sorted(behind, key=lambda n: (-probabilities[n, 0], n))
    assert cell_examples(y_true, y_pred, probabilities, 1, 1).tolist() == sorted(
        [n for n in range(200) if y_true[n] == 1 and y_pred[n] == 1], key=lambda n: (-probabilities[n, 1], n)
    )
