"""Softmax regression and its trainer: gradients, real-digit accuracy, schedules, divergence, determinism, history."""

import math
import warnings

import numpy as np
import pytest

from core import backprop
from core.softmax_regression import SoftmaxRegression, init_model
from core.training import (
    DIVERGENCE_FACTOR,
    History,
    Trainer,
    gradient_variance,
    learning_rate,
    train,
)


@pytest.fixture(scope="module")
def small(mnist_10k):
    X, y, Xv, yv = mnist_10k
    return X[:1000], y[:1000], Xv, yv


KERNELS = pytest.mark.parametrize("compiled", [False, True], ids=["numpy kernels", "compiled kernels"])


def random_model(rng, K=3, D=4):
    return SoftmaxRegression(rng.standard_normal((K, D)), rng.standard_normal(K))


# ---------------------------------------------------------------- the model


def test_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    model = random_model(rng)
    X, y = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)
    dW, db = model.gradient(X, y)
    h = 1e-6
    for params, grad in ((model.W, dW), (model.b, db)):
        numeric = np.zeros_like(params)
        for idx in np.ndindex(params.shape):
            old = params[idx]
            params[idx] = old + h
            up = model.loss(X, y)
            params[idx] = old - h
            down = model.loss(X, y)
            params[idx] = old
            numeric[idx] = (up - down) / (2 * h)
        np.testing.assert_allclose(grad, numeric, atol=1e-8)


def test_gradient_is_the_mean_of_backprops_per_sample_gradients():
    rng = np.random.default_rng(1)
    model = random_model(rng, K=4, D=5)
    X, y = rng.standard_normal((7, 5)), rng.integers(0, 4, 7)
    dW, db = model.gradient(X, y)
    per_sample = [backprop([model.W], [model.b], x, int(t)) for x, t in zip(X, y, strict=True)]
    np.testing.assert_allclose(dW, np.mean([r.dW[1] for r in per_sample], axis=0), atol=1e-12)
    np.testing.assert_allclose(db, np.mean([r.db[1] for r in per_sample], axis=0), atol=1e-12)
    assert model.loss(X, y) == pytest.approx(np.mean([r.loss for r in per_sample]))


def test_predictions_and_probabilities():
    model = SoftmaxRegression(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]), np.zeros(3))
    X = np.array([[2.0, 0.0], [0.0, 3.0], [-1.0, -1.0]])
    np.testing.assert_array_equal(model.predict(X), [0, 1, 2])
    a = model.predict_proba(X)
    np.testing.assert_allclose(a.sum(axis=1), 1.0)
    np.testing.assert_allclose(a[0], np.exp([2, 0, 0]) / np.exp([2, 0, 0]).sum())
    assert model.accuracy(X, [0, 1, 0]) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="shape"):
        model.predict(np.ones((2, 3)))
    with pytest.raises(ValueError, match="class label out of range"):
        model.loss(X, [0, 1, 3])


def test_initial_model_is_the_guides():
    model = train(np.ones((50, 784), np.float32), np.arange(50) % 10, batch_size=10, eta=0.1, epochs=0, seed=3)
    assert model.W.shape == (10, 784) and model.b.shape == (10,)
    assert np.all(model.b == 0)
    assert model.W.std() == pytest.approx(0.01, rel=0.05)
    assert abs(model.W.mean()) < 0.001
    np.testing.assert_array_equal(model.W, init_model(784, 10, seed=3).W)
    assert not np.array_equal(model.W, init_model(784, 10, seed=4).W)


# ---------------------------------------------------------------- training on real digits


def test_batch_gd_reaches_85_percent_on_real_digits(mnist_10k):
    X, y, Xv, yv = mnist_10k
    # Batch GD makes one update per epoch: 20 epochs are 20 full-batch steps at eta = 0.5.
    model = train(X, y, batch_size=len(X), eta=0.5, epochs=20, seed=0)
    assert model.accuracy(Xv, yv) >= 0.85


def test_minibatch_and_sgd_learn_in_one_epoch(mnist_10k):
    X, y, Xv, yv = mnist_10k
    for batch_size, eta in ((100, 0.3), (1, 0.01)):
        trainer = Trainer(X, y, Xv, yv, batch_size=batch_size, eta=eta, seed=0)
        trainer.advance(max_updates=trainer.updates_per_epoch)
        assert trainer.epoch == 1
        assert trainer.history.val_accuracy[-1] >= 0.85
        assert trainer.history.val_loss[-1] < trainer.history.val_loss[0] / 3  # from ln 10 ~ 2.3


@KERNELS
def test_same_seed_same_weights(small, compiled):
    X, y, _, _ = small
    a = train(X, y, batch_size=10, eta=0.1, epochs=2, seed=11, compiled=compiled)
    b = train(X, y, batch_size=10, eta=0.1, epochs=2, seed=11, compiled=compiled)
    c = train(X, y, batch_size=10, eta=0.1, epochs=2, seed=12, compiled=compiled)
    np.testing.assert_array_equal(a.W, b.W)
    np.testing.assert_array_equal(a.b, b.b)
    assert not np.allclose(a.W, c.W)


@KERNELS
def test_time_budgets_do_not_change_the_weights(small, compiled):
    X, y, Xv, yv = small
    whole = Trainer(X, y, Xv, yv, batch_size=1, eta=0.02, seed=2, compiled=compiled)
    whole.advance(max_updates=2500)
    chunked = Trainer(X, y, Xv, yv, batch_size=1, eta=0.02, seed=2, compiled=compiled)
    calls = 0
    while chunked.update < 2500:  # stops wherever the clock says; the result must not depend on it
        chunked.advance(max_updates=2500 - chunked.update, time_budget=0.0005)
        calls += 1
    assert calls > 1
    np.testing.assert_array_equal(whole.model.W, chunked.model.W)
    np.testing.assert_array_equal(whole.history.updates, chunked.history.updates)
    np.testing.assert_array_equal(whole.history.val_loss, chunked.history.val_loss)


@KERNELS
def test_minibatch_chunks_do_not_change_the_weights(small, compiled):
    X, y, _, _ = small
    whole = Trainer(X, y, batch_size=30, eta=0.1, seed=4, compiled=compiled)
    whole.advance(max_updates=100)
    chunked = Trainer(X, y, batch_size=30, eta=0.1, seed=4, compiled=compiled)
    for n in (1, 33, 66):
        assert chunked.advance(max_updates=n) == n
    np.testing.assert_array_equal(whole.model.W, chunked.model.W)


def test_shared_initial_model(small):
    X, y, _, _ = small
    init = init_model(X.shape[1], 10, seed=99)
    before = init.W.copy()
    racers = [Trainer(X, y, batch_size=B, eta=0.1, seed=1, init=init) for B in (1, 100, len(X))]
    for racer in racers:
        np.testing.assert_array_equal(racer.model.W, before)
        racer.advance(max_updates=3)
    np.testing.assert_array_equal(init.W, before)  # the shared init is copied, not trained


# ---------------------------------------------------------------- schedules


def test_schedules_give_documented_values():
    assert learning_rate("constant", 0.3, 500, 7) == 0.3
    assert learning_rate("exponential", 0.1, 0, 0) == pytest.approx(0.1)
    assert learning_rate("exponential", 0.1, 123, 3) == pytest.approx(0.1 * 0.95**3)  # the guide's 0.95
    assert learning_rate("exponential", 0.1, 5, 2, decay=0.5) == pytest.approx(0.025)
    assert learning_rate("inverse_sqrt", 0.2, 0, 0, alpha=0.5) == pytest.approx(0.2)
    assert learning_rate("inverse_sqrt", 0.2, 6, 0, alpha=0.5) == pytest.approx(0.1)  # 0.2 / sqrt(4)
    assert learning_rate("inverse_sqrt", 1.0, 3000, 0) == pytest.approx(0.5)  # default alpha 1e-3
    assert learning_rate("inverse", 0.3, 4, 9, lam=0.5) == pytest.approx(0.1)  # 0.3 / 3
    assert learning_rate("inverse", 1.0, 1000, 0) == pytest.approx(0.5)  # default lambda 1e-3
    rates = learning_rate("inverse", 1.0, np.array([0, 1, 3]), 0, lam=1.0)
    np.testing.assert_allclose(rates, [1.0, 0.5, 0.25])


@pytest.mark.parametrize(
    ("schedule", "eta", "params", "message"),
    [
        ("cosine", 0.1, {}, "schedule must be one of"),
        ("constant", 0.0, {}, "positive"),
        ("constant", float("nan"), {}, "positive"),
        ("exponential", 0.1, {"decay": 1.5}, "decay"),
        ("inverse", 0.1, {"lam": -1.0}, "lam"),
        ("inverse_sqrt", 0.1, {"lam": 1.0}, "takes alpha"),
    ],
)
def test_bad_schedules_raise(schedule, eta, params, message):
    with pytest.raises(ValueError, match=message):
        learning_rate(schedule, eta, 0, 0, **params)


def test_history_records_the_schedule_and_changes_apply_next_update(small):
    X, y, _, _ = small
    trainer = Trainer(X, y, batch_size=100, eta=0.4, schedule="exponential", decay=0.5, eval_every=10)
    trainer.advance(max_updates=30)  # 3 epochs of 10 updates
    np.testing.assert_allclose(trainer.history.eta, [0.4, 0.2, 0.1, 0.05])  # the rate of the next update
    trainer.set_learning_rate(0.01, "constant")
    assert trainer.eta == 0.01
    gd = Trainer(X, y, batch_size=len(X), eta=0.4, seed=0)  # batch GD: the batch is all of X, in any epoch
    gd.advance(max_updates=2)
    gd.set_learning_rate(0.01)
    before = gd.model.copy()
    gd.advance(max_updates=1)
    dW, db = before.gradient(X, y)
    np.testing.assert_allclose(gd.model.W, before.W - 0.01 * dW, atol=1e-7)
    np.testing.assert_allclose(gd.model.b, before.b - 0.01 * db, atol=1e-7)
    with pytest.raises(ValueError, match="schedule"):
        trainer.set_learning_rate(schedule="bogus")
    assert trainer.schedule == "constant"


# ---------------------------------------------------------------- divergence, budgets, early stopping


@KERNELS
@pytest.mark.parametrize(("batch_size", "eta"), [(1000, 1e4), (100, 1e38), (1, 1e30), (1, 50.0)])
def test_huge_eta_is_reported_as_diverged(small, batch_size, eta, compiled):
    X, y, Xv, yv = small
    trainer = Trainer(X, y, Xv, yv, batch_size=batch_size, eta=eta, seed=0, compiled=compiled)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning (overflow, invalid) may leak
        trainer.advance(max_updates=3 * trainer.updates_per_epoch)
        assert trainer.diverged
        assert 0 < trainer.diverged_at <= 3 * trainer.updates_per_epoch
        assert trainer.advance(max_updates=10) == 0  # a diverged racer stays stopped
    assert trainer.update == trainer.diverged_at


def test_a_good_eta_does_not_diverge(small):
    X, y, Xv, yv = small
    trainer = Trainer(X, y, Xv, yv, batch_size=len(X), eta=0.5)
    trainer.advance(max_updates=10)
    assert not trainer.diverged and trainer.update == 10
    assert np.nanmax(trainer.history.train_loss) < DIVERGENCE_FACTOR * math.log(10)


@pytest.mark.parametrize("batch_size", [1, 7, 100])
def test_advance_max_updates_does_exactly_n(small, batch_size):
    X, y, _, _ = small
    trainer = Trainer(X, y, batch_size=batch_size, eta=0.01)
    per_epoch = math.ceil(len(X) / batch_size)
    n = per_epoch + 3  # crosses an epoch boundary
    assert trainer.advance(max_updates=n) == n
    assert trainer.update == n and trainer.epoch == 1
    samples = len(X) + 3 * batch_size
    assert trainer.samples == samples
    assert trainer.flops == 4 * 10 * 784 * samples
    assert trainer.advance(max_updates=0) == 0


def test_advance_with_a_time_budget_returns(small):
    X, y, _, _ = small
    trainer = Trainer(X, y, batch_size=1, eta=0.01)
    done = trainer.advance(time_budget=0.02)
    assert done > 0 and trainer.update == done
    assert trainer.train_time > 0
    with pytest.raises(ValueError, match="max_updates or time_budget"):
        trainer.advance()


def test_early_stopping_on_validation_loss(small):
    X, y, _, _ = small
    # Validation labels that contradict the training labels: the validation loss rises as training goes on.
    Xv, yv = X[:300], (y[:300] + 1) % 10
    trainer = Trainer(X, y, Xv, yv, batch_size=50, eta=0.2, early_stopping_patience=2, eval_every=2)
    trainer.advance(max_updates=500)
    assert trainer.stopped_early and not trainer.diverged
    assert trainer.update < 500
    h = trainer.history
    assert trainer.best_val_loss == pytest.approx(np.min(h.val_loss))
    assert h.val_loss[-1] > trainer.best_val_loss
    assert trainer.advance(max_updates=5) == 0


# ---------------------------------------------------------------- history


def test_history_columns_are_consistent(small):
    X, y, Xv, yv = small
    trainer = Trainer(X, y, Xv, yv, batch_size=100, eta=0.1, eval_every=4)
    trainer.advance(max_updates=25)
    h = trainer.history
    # Points at update 0, every 4 updates, and at each epoch end (10 updates per epoch).
    np.testing.assert_array_equal(h.updates, [0, 4, 8, 10, 12, 16, 20, 24])
    np.testing.assert_allclose(h.epochs, h.samples / len(X))
    np.testing.assert_array_equal(h.samples, h.updates * 100)
    np.testing.assert_array_equal(h.flops, 4 * 10 * 784 * h.samples)
    assert np.all(np.diff(h.time) >= 0)
    assert math.isnan(h.batch_loss[0]) and np.all(np.isfinite(h.batch_loss[1:]))
    assert np.all((h.val_accuracy >= 0) & (h.val_accuracy <= 1))
    assert h.train_loss[0] == pytest.approx(math.log(10), abs=0.05)  # W ~ 0 at the start: a ~ 1/K
    # The mean mini-batch loss of updates 1..4 is the mean of the per-update trace over them.
    assert h.batch_loss[1] == pytest.approx(np.mean(h.trace_loss[:4]), rel=1e-6)
    np.testing.assert_array_equal(h.trace_updates, np.arange(25))
    as_dict = h.to_dict()
    assert as_dict["updates"] == h.updates.tolist() and len(as_dict["trace_loss"]) == 25


def test_trace_stays_bounded_by_thinning():
    h = History(trace_capacity=8)
    h.extend_trace(0, np.arange(5.0))
    h.extend_trace(5, np.arange(5.0, 20.0))
    assert h.trace_stride == 4
    np.testing.assert_array_equal(h.trace_updates, [0, 4, 8, 12, 16])
    np.testing.assert_array_equal(h.trace_loss, [0, 4, 8, 12, 16])  # raw values, not averages
    h.extend_trace(20, np.arange(20.0, 30.0))  # 0, 4, ..., 28 would be 8 points: the capacity, so thin again
    assert h.trace_stride == 8
    np.testing.assert_array_equal(h.trace_updates, [0, 8, 16, 24])


def test_default_evaluation_schedule_is_cheap(mnist_10k):
    X, y, Xv, yv = mnist_10k
    for batch_size in (1, 100, len(X)):
        trainer = Trainer(X, y, Xv, yv, batch_size=batch_size, eta=0.01)
        n_eval = min(2000, len(X)) + len(Xv)
        eval_flops = 2 * n_eval  # per K D: one forward pass per evaluated sample
        train_flops = 4 * batch_size * trainer.eval_every  # per K D: forward and gradient per sample
        at_least_4_per_epoch = math.ceil(trainer.updates_per_epoch / 4)
        assert trainer.eval_every <= at_least_4_per_epoch
        assert eval_flops <= 0.2 * train_flops * 1.01 or trainer.eval_every == at_least_4_per_epoch


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "batch size"),
        ({"batch_size": 1001}, "batch size"),
        ({"batch_size": 2.5}, "batch size"),
        ({"eta": -1.0}, "positive"),
        ({"schedule": "step"}, "schedule"),
        ({"n_classes": 5}, "n_classes"),
        ({"early_stopping_patience": 3}, "validation data"),
        ({"eval_every": 0}, "eval_every"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_settings_raise_value_error(small, kwargs, message):
    X, y, _, _ = small
    settings = {"batch_size": 10, "eta": 0.1} | kwargs
    with pytest.raises(ValueError, match=message):
        Trainer(X, y, **settings)


def test_bad_data_raise_value_error(small):
    X, y, _, _ = small
    bad = X.copy()
    bad[3, 4] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        Trainer(bad, y, batch_size=10, eta=0.1)
    with pytest.raises(ValueError, match="labels"):
        Trainer(X, y[:-1], batch_size=10, eta=0.1)
    with pytest.raises(ValueError, match="labels"):
        Trainer(X, y.astype(float), batch_size=10, eta=0.1)
    with pytest.raises(ValueError, match="both"):
        Trainer(X, y, X, batch_size=10, eta=0.1)
    with pytest.raises(ValueError, match="epochs"):
        train(X, y, batch_size=10, eta=0.1, epochs=-1)


# ---------------------------------------------------------------- gradient noise


def test_gradient_variance_follows_one_over_b(mnist_10k):
    X, y, _, _ = mnist_10k
    model = train(X, y, batch_size=100, eta=0.1, epochs=1)
    sizes = [1, 10, 100, 1000, len(X)]
    result = gradient_variance(model, X, y, sizes, n_draws=60, seed=0)
    # sigma^2 against the per-sample gradients computed one by one (a subset, to keep it quick).
    delta = model.predict_proba(X[:500])
    delta[np.arange(500), y[:500]] -= 1
    dW, db = model.gradient(X, y)
    direct = np.mean(
        [np.sum((np.outer(d, x) - dW) ** 2) + np.sum((d - db) ** 2) for d, x in zip(delta, X[:500], strict=True)]
    )
    assert result.sigma2 == pytest.approx(direct, rel=0.15)  # 500 of 7,200 samples
    np.testing.assert_allclose(result.variance[:-1], result.predicted[:-1], rtol=0.35)
    assert result.variance[-1] == pytest.approx(0.0, abs=1e-8)  # B = N is the full gradient
    assert np.all(np.diff(result.variance) < 0)
    with pytest.raises(ValueError, match="batch sizes"):
        gradient_variance(model, X, y, [0, 10])
