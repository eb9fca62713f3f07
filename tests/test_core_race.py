"""core.race: typed settings, the shared time budget, EMA smoothing, thinning, x-axes, gradient noise, LR sweep."""

import math

import numpy as np
import pytest

from core.data import load_digits
from core.race import (
    AXES,
    SweepRun,
    advance_racers,
    check_eta,
    ema,
    gradient_noise,
    lr_sweep,
    parse_batch_size,
    parse_eta,
    parse_number,
    parse_schedule_param,
    reference_accuracy,
    samples_after,
    smoothing_span,
    sweep_etas,
    sweep_verdicts,
    thin,
    trace_x,
    updates_until_epoch,
)
from core.softmax_regression import init_model
from core.training import Trainer, gradient_variance


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def trainer(ds, B, eta=0.05, **kw):
    return Trainer(ds.X_train, ds.y_train, ds.X_val, ds.y_val, batch_size=B, eta=eta, n_classes=ds.n_classes, **kw)


# ---------------------------------------------------------------- typed settings


@pytest.mark.parametrize("text", ["abc", "", "1, 2", "nan", "inf", "0", "-0.1", "1e6", "1001"])
def test_bad_learning_rates_are_refused_with_a_message(text):
    with pytest.raises(ValueError, match="eta0"):
        parse_eta(text)


@pytest.mark.parametrize(("text", "value"), [("0.1", 0.1), (" 1e-3 ", 0.001), ("1000", 1000.0)])
def test_good_learning_rates(text, value):
    assert parse_eta(text) == value


def test_check_eta_refuses_nan():
    with pytest.raises(ValueError):
        check_eta(math.nan)


@pytest.mark.parametrize("text", ["0", "-5", "1.5", "1294", "abc", "", "nan"])
def test_bad_batch_sizes(text):
    with pytest.raises(ValueError, match="batch size"):
        parse_batch_size(text, 1293)


@pytest.mark.parametrize(("text", "B"), [("N", 1293), (" n ", 1293), ("1", 1), ("100", 100), ("1293", 1293)])
def test_good_batch_sizes(text, B):
    assert parse_batch_size(text, 1293) == B


def test_schedule_parameters():
    assert parse_schedule_param("0.95", "decay") == 0.95
    assert parse_schedule_param("0", "alpha") == 0.0
    for text, param in (("0", "decay"), ("1.5", "decay"), ("-1", "lam"), ("x", "alpha")):
        with pytest.raises(ValueError, match=param):
            parse_schedule_param(text, param)
    with pytest.raises(ValueError, match="single number"):
        parse_number("1 2", "x")


# ---------------------------------------------------------------- smoothing and thinning


def reference_ema(x, span):
    """The textbook recursion, one value at a time."""
    alpha = 2 / (span + 1)
    out, m = [], x[0]
    for v in x:
        m = (1 - alpha) * m + alpha * v
        out.append(m)
    return np.array(out)


@pytest.mark.parametrize("span", [1.0, 1.5, 7.0, 200.0, 50_000.0])
def test_ema_matches_the_recursion(span):
    x = np.random.default_rng(1).exponential(size=20_000)
    np.testing.assert_allclose(ema(x, span), reference_ema(x, span), rtol=1e-9, atol=1e-12)


def test_ema_of_a_constant_is_the_constant_and_nan_is_carried():
    np.testing.assert_allclose(ema(np.full(100, 2.5), 10), 2.5)
    smoothed = ema(np.array([1.0, 2.0, np.inf, 1.0]), 3)
    assert np.isfinite(smoothed[:2]).all() and np.isnan(smoothed[2:]).all()
    with pytest.raises(ValueError, match="span"):
        ema(np.ones(3), 0.5)


def test_thin_keeps_the_ends_and_the_limit():
    assert list(thin(5, 10)) == [0, 1, 2, 3, 4]
    idx = thin(100_000, 1500)
    assert idx[0] == 0 and idx[-1] == 99_999 and len(idx) <= 1500
    assert np.all(np.diff(idx) > 0)


# ---------------------------------------------------------------- x-axes


def test_samples_after_against_a_loop():
    N, B = 10, 4  # batches of 4, 4, 2
    expected, samples = [], 0
    for _ in range(12):
        expected.append(samples)
        samples += min(B, N - samples % N) if samples % N else B
    assert list(samples_after(np.arange(12), N, B)) == expected


def test_trace_x_on_every_axis(digits):
    tr = trainer(digits, 100)
    tr.advance(max_updates=30)
    t = tr.history.trace_updates
    N, (K, D) = len(digits.y_train), tr.model.W.shape
    assert np.array_equal(trace_x(tr, t, "updates"), t)
    samples = trace_x(tr, t, "samples")
    np.testing.assert_allclose(trace_x(tr, t, "epochs"), samples / N)
    np.testing.assert_allclose(trace_x(tr, t, "flops"), 4 * K * D * samples)
    # At an evaluation point the samples agree with the trainer's own count.
    assert samples_after(np.array([tr.update]), N, 100)[0] == tr.samples
    times = trace_x(tr, t, "time")
    assert np.all(np.diff(times) >= 0) and times[-1] <= tr.train_time
    assert set(AXES) == {"epochs", "updates", "samples", "flops", "time"}
    with pytest.raises(ValueError, match="axis"):
        trace_x(tr, t, "weeks")


def test_smoothing_span_follows_the_epoch(digits):
    assert smoothing_span(trainer(digits, len(digits.y_train))) == 1.0
    assert smoothing_span(trainer(digits, 1)) == pytest.approx(len(digits.y_train) / 20)


# ---------------------------------------------------------------- advancing


def test_updates_until_epoch(digits):
    tr = trainer(digits, 100)  # 13 updates per epoch of 1,293 samples
    assert updates_until_epoch(tr, 1) == 13
    assert updates_until_epoch(tr, 0.5) == math.ceil(0.5 * 1293 / 100)
    tr.advance(max_updates=13)
    assert updates_until_epoch(tr, 1) == 0
    assert updates_until_epoch(tr, 2) == 13


def test_advance_racers_respects_limits_and_skips_finished(digits):
    racers = [trainer(digits, 1), trainer(digits, 100), trainer(digits, 10, eta=1e3)]
    racers[2].advance(max_updates=500)
    assert racers[2].diverged
    done = advance_racers(racers, time_budget=5.0, max_updates=[7, 3, 10])
    assert done == [7, 3, 0]
    assert [r.update for r in racers[:2]] == [7, 3]


def test_advance_racers_shares_a_time_budget(digits):
    # Without update limits every racer still gets a share of the budget and moves.
    racers = [trainer(digits, 1), trainer(digits, len(digits.y_train))]
    done = advance_racers(racers, time_budget=0.05)
    assert all(n > 0 for n in done)


# ---------------------------------------------------------------- gradient noise


def test_gradient_noise_is_zero_for_batch_gd_and_follows_sigma2_over_b(digits):
    model = init_model(digits.n_features, digits.n_classes, 0)
    X, y, N = digits.X_train, digits.y_train, len(digits.y_train)
    assert gradient_noise(model, X, y, N, N).variance == pytest.approx(0.0, abs=1e-12)
    full = gradient_variance(model, X, y, [1, 10])
    noise_1 = gradient_noise(model, X, y, N, 1)
    noise_10 = gradient_noise(model, X, y, N, 10)
    assert noise_1.sigma2 == pytest.approx(full.sigma2, rel=1e-4)
    assert noise_10.variance == pytest.approx(full.predicted[1], rel=1e-4)
    assert noise_1.variance / noise_10.variance == pytest.approx(10 * (N - 1) / (N - 10), rel=1e-6)
    assert noise_1.ratio == pytest.approx(noise_1.variance / noise_1.gradient_norm2)


# ---------------------------------------------------------------- learning-rate sweep


def test_sweep_etas_span_slow_to_divergent():
    assert sweep_etas(0.01) == [0.001, 0.01, 0.1, 1.0, 10.0]


def test_lr_sweep_shows_slow_good_and_diverged_without_raising(digits):
    init = init_model(digits.n_features, digits.n_classes, 0)
    runs = lr_sweep(
        digits.X_train,
        digits.y_train,
        digits.X_val,
        digits.y_val,
        batch_size=100,
        etas=[0.002, 2.0, 500.0],
        epochs=2,
        init=init,
        n_classes=digits.n_classes,
    )
    assert [r.verdict for r in runs] == ["too small (slow)", "best", "diverged"]
    assert runs[2].diverged and runs[2].diverged_at is not None
    assert runs[0].complete and runs[0].epochs[-1] == pytest.approx(2.0)
    assert runs[0].train_loss[-1] > runs[1].train_loss[-1]
    # Same init and seed: the same eta gives the same curve.
    again = lr_sweep(
        digits.X_train,
        digits.y_train,
        digits.X_val,
        digits.y_val,
        batch_size=100,
        etas=[2.0],
        epochs=2,
        init=init,
        n_classes=digits.n_classes,
    )
    np.testing.assert_array_equal(again[0].train_loss, runs[1].train_loss)
    with pytest.raises(ValueError, match="epochs"):
        lr_sweep(
            digits.X_train,
            digits.y_train,
            digits.X_val,
            digits.y_val,
            batch_size=1,
            etas=[0.1],
            epochs=0,
            init=init,
            n_classes=10,
        )


def run(eta, losses, diverged=False):
    losses = np.array(losses, dtype=float)
    return SweepRun(eta, np.arange(len(losses)), losses, losses, losses, diverged, 3 if diverged else None, True)


def test_sweep_verdicts_on_hand_made_runs():
    runs = sweep_verdicts(
        [
            run(0.01, [2.3, 2.2, 2.1]),  # slow
            run(0.1, [2.3, 1.0, 0.5]),  # best
            run(1.0, [2.3, 0.9, 1.2, 0.8]),  # rises by 0.4 between evaluations
            run(3.0, [2.3, 1.5, 1.0]),  # monotone but worse than the best, and larger
            run(10.0, [2.3, 50.0], diverged=True),
        ]
    )
    assert [r.verdict for r in runs] == ["too small (slow)", "best", "oscillates", "too large", "diverged"]


def test_reference_accuracy_on_digits_is_that_of_a_good_linear_model(digits):
    ref = reference_accuracy(digits.X_train, digits.y_train, digits.X_val, digits.y_val, digits.n_classes, epochs=20)
    assert 0.9 <= ref.accuracy <= 1.0
    assert ref.epochs == 20 and ref.batch_size == 32
