"""The Optimizer Race's pure helpers: reading racer settings, sharing a time budget, smoothing and thinning
curves for drawing, converting update numbers to the other x-axes, the learning-rate sweep and the
reference accuracy of a linear model.

Everything here is numpy and the standard library; the page (``ui.race``) only draws what it returns.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.costs import flops_per_update
from core.parsing import parse_vector
from core.softmax_regression import SoftmaxRegression
from core.training import Trainer, gradient_variance, training_threads

AXES: dict[str, str] = {
    "epochs": "Epochs (samples / N)",
    "updates": "Updates t",
    "samples": "Samples processed",
    "flops": "Floating-point operations",
    "time": "Training wall time (s)",
}
"""The x-axes a curve can be drawn against (History column -> axis title)."""


# ---------------------------------------------------------------- reading what the user typed


def parse_number(text: str, name: str) -> float:
    """One finite number typed in a box (``"0.1"``, ``"1e-3"``); ``ValueError`` naming ``name`` otherwise."""
    values = parse_vector(str(text), name)
    if values.size != 1:
        raise ValueError(f"{name}: type a single number; got {values.size} numbers")
    return float(values[0])


MAX_ETA = 1e3
"""Largest learning rate the page accepts: far past divergence already, so it is a typo guard."""


def check_eta(eta: float, name: str = "eta0") -> float:
    """A learning rate must be a finite number in (0, ``MAX_ETA``]; return it as a float."""
    eta = float(eta)
    if not 0 < eta <= MAX_ETA:  # also refuses NaN
        raise ValueError(f"{name} must be greater than 0 and at most {MAX_ETA:g}; got {eta:g}")
    return eta


def parse_eta(text: str, name: str = "eta0") -> float:
    """A learning rate typed in a box: a number in (0, ``MAX_ETA``]."""
    return check_eta(parse_number(text, name), name)


def parse_batch_size(text: str, n_train: int, name: str = "batch size B") -> int:
    """A batch size: a whole number from 1 to N, or ``N`` itself (batch gradient descent)."""
    if str(text).strip().upper() == "N":
        return int(n_train)
    B = parse_number(text, name)
    if B != int(B) or not 1 <= B <= n_train:
        raise ValueError(f"{name} must be a whole number from 1 to N = {n_train:,} (or N); got {B:g}")
    return int(B)


def parse_schedule_param(text: str, param: str) -> float:
    """A schedule parameter: ``decay`` in (0, 1], ``alpha`` or ``lam`` >= 0."""
    value = parse_number(text, param)
    if param == "decay" and not 0 < value <= 1:
        raise ValueError(f"decay must be in (0, 1]; got {value:g}")
    if param != "decay" and value < 0:
        raise ValueError(f"{param} must be >= 0; got {value:g}")
    return value


# ---------------------------------------------------------------- advancing the racers


def advance_racers(
    trainers: Sequence[Trainer], time_budget: float, max_updates: Sequence[int | None] | None = None
) -> list[int]:
    """Advance every trainer within one shared time budget; return the updates each did.

    The racers go in turn, each getting an equal share of the time still left, so time one racer does not
    use (it hit ``max_updates``, or it has finished) goes to the racers after it.
    """
    limits = list(max_updates) if max_updates is not None else [None] * len(trainers)
    deadline = time.perf_counter() + time_budget
    done = []
    for i, trainer in enumerate(trainers):
        share = max(deadline - time.perf_counter(), 0.0) / (len(trainers) - i)
        limit = limits[i]
        if trainer.finished or limit == 0:
            done.append(0)
            continue
        done.append(trainer.advance(max_updates=limit, time_budget=share))
    return done


def updates_until_epoch(trainer: Trainer, epochs: float) -> int:
    """Updates left before ``trainer`` has processed ``epochs`` epochs of samples (0 if it already has)."""
    n = len(trainer.X)
    left = math.ceil(epochs * n - trainer.samples - 1e-9)
    return max(0, math.ceil(left / trainer.batch_size))


# ---------------------------------------------------------------- curves for drawing


def ema(values: np.ndarray, span: float) -> np.ndarray:
    """Exponential moving average ``m_t = (1 - alpha) m_{t-1} + alpha x_t``, ``alpha = 2 / (span + 1)``.

    Starts at ``m_0 = x_0``. Vectorised in blocks (``m`` inside a block is a scaled cumulative sum), so a
    100,000-point trace smooths in a few milliseconds. Non-finite values are carried as NaN from there on.
    """
    x = np.asarray(values, dtype=np.float64)
    x = np.where(np.isfinite(x), x, np.nan)
    if span < 1:
        raise ValueError(f"span must be at least 1; got {span}")
    out = np.empty_like(x)
    if x.size == 0:
        return out
    alpha = 2.0 / (span + 1.0)
    if alpha >= 1.0:
        out[:] = x
        return out
    keep = 1.0 - alpha
    # A block is as long as keep^-L stays below 1e150, so the scaled sums cannot overflow.
    block = max(1, min(4096, int(150 * math.log(10) / -math.log(keep))))
    carry = x[0]
    for lo in range(0, x.size, block):
        chunk = x[lo : lo + block]
        powers = keep ** -np.arange(1, chunk.size + 1)
        out[lo : lo + chunk.size] = (carry + alpha * np.cumsum(chunk * powers)) / powers
        carry = out[lo + chunk.size - 1]
    return out


def thin(n: int, max_points: int) -> np.ndarray:
    """Indices of at most ``max_points`` evenly spread points out of ``n``, always keeping the first and last."""
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max(2, max_points)).round().astype(np.intp))


def samples_after(updates: np.ndarray, n_train: int, batch_size: int) -> np.ndarray:
    """Samples processed after ``updates`` updates: whole epochs of N, plus B per update into the current one."""
    per_epoch = math.ceil(n_train / batch_size)
    t = np.asarray(updates, dtype=np.int64)
    return (t // per_epoch) * n_train + np.minimum((t % per_epoch) * batch_size, n_train)


def trace_x(trainer: Trainer, updates: np.ndarray, axis: str) -> np.ndarray:
    """The x position, on ``axis`` (a key of ``AXES``), of the per-update trace point of update t.

    The loss of update t is measured at the weights before it, so it sits where t updates are done. Wall
    time is interpolated between the history's evaluation points.
    """
    t = np.asarray(updates, dtype=np.int64)
    n, (K, D) = len(trainer.X), trainer.model.W.shape
    if axis == "updates":
        return t.astype(float)
    if axis == "time":
        h = trainer.history
        return np.interp(t, h.updates, h.time)
    samples = samples_after(t, n, trainer.batch_size)
    if axis == "samples":
        return samples.astype(float)
    if axis == "epochs":
        return samples / n
    if axis == "flops":
        return samples * float(flops_per_update(D, K, 1))
    raise ValueError(f"axis must be one of {', '.join(AXES)}; got {axis!r}")


def smoothing_span(trainer: Trainer) -> float:
    """EMA span in kept trace points: about a twentieth of an epoch's updates (at least 1: no smoothing)."""
    return max(1.0, trainer.updates_per_epoch / 20 / trainer.history.trace_stride)


@dataclass
class GradientNoise:
    """Gradient noise of one racer (see ``gradient_noise``)."""

    sigma2: float
    variance: float
    gradient_norm2: float
    ratio: float


def gradient_noise(
    model: SoftmaxRegression, X: np.ndarray, y: np.ndarray, n_train: int, batch_size: int
) -> GradientNoise:
    """The guide's ``Var ~ sigma^2 / B`` for one racer: ``sigma^2`` measured on (X, y) at the current weights.

    ``variance = sigma2 (N - B) / (B (N - 1))`` is the expected ``||g_B - g||^2`` of a batch of B drawn
    without replacement from N samples (0 for batch GD); ``ratio`` compares it with ``||g||^2``.
    """
    with training_threads():  # one BLAS thread, like training: no oversubscription beside other sessions
        measured = gradient_variance(model, X, y, [1], n_draws=1)
    N, B = int(n_train), int(batch_size)
    variance = measured.sigma2 * (N - B) / (B * max(N - 1, 1))
    ratio = variance / measured.gradient_norm2 if measured.gradient_norm2 > 0 else math.inf
    return GradientNoise(measured.sigma2, variance, measured.gradient_norm2, ratio)


# ---------------------------------------------------------------- learning-rate sweep


@dataclass
class SweepRun:
    """One learning rate of a sweep: its history arrays and how it ended."""

    eta: float
    epochs: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    val_accuracy: np.ndarray
    diverged: bool
    diverged_at: int | None
    complete: bool  # False when the time limit cut it short
    verdict: str = ""


def sweep_etas(eta0: float) -> list[float]:
    """Default sweep: eta0 times 0.1, 1, 10, 100 and 1000 (slow, good, then ever larger steps)."""
    return [float(f"{eta0 * f:.3g}") for f in (0.1, 1.0, 10.0, 100.0, 1000.0)]


def lr_sweep(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    *,
    batch_size: int,
    etas: Sequence[float],
    epochs: int,
    init: SoftmaxRegression,
    n_classes: int,
    seed: int = 0,
    time_limit: float = 1.0,
    **trainer_options: object,
) -> list[SweepRun]:
    """Train the same racer (same B, init and shuffles) at each eta for ``epochs`` epochs, each within
    ``time_limit`` seconds, and judge each run (see ``sweep_verdicts``)."""
    if int(epochs) < 1:
        raise ValueError(f"epochs must be at least 1; got {epochs}")
    runs = []
    for eta in etas:
        trainer = Trainer(
            X_train,
            y_train,
            X_val,
            y_val,
            batch_size=batch_size,
            eta=float(eta),
            seed=seed,
            init=init,
            n_classes=n_classes,
            **trainer_options,
        )
        target = int(epochs) * trainer.updates_per_epoch
        trainer.advance(max_updates=target, time_budget=time_limit)
        h = trainer.history
        runs.append(
            SweepRun(
                float(eta),
                h.epochs.copy(),
                h.train_loss.copy(),
                h.val_loss.copy(),
                h.val_accuracy.copy(),
                trainer.diverged,
                trainer.diverged_at,
                trainer.update >= target or trainer.diverged,
            )
        )
    return sweep_verdicts(runs)


def sweep_verdicts(runs: list[SweepRun], tolerance: float = 0.05) -> list[SweepRun]:
    """Label each run: ``diverged``; ``best`` (lowest final training loss); ``oscillates`` (its training loss
    rose by more than ``tolerance`` between two evaluations); else ``too small (slow)`` for an eta below the
    best one and ``too large`` above it."""
    finals = [r.train_loss[-1] if not r.diverged and r.train_loss.size else math.inf for r in runs]
    best = int(np.argmin(finals)) if runs and math.isfinite(min(finals)) else None
    for i, r in enumerate(runs):
        rises = np.diff(r.train_loss[np.isfinite(r.train_loss)])
        if r.diverged:
            r.verdict = "diverged"
        elif i == best:
            r.verdict = "best"
        elif rises.size and rises.max() > tolerance:
            r.verdict = "oscillates"
        elif best is not None and r.eta < runs[best].eta:
            r.verdict = "too small (slow)"
        else:
            r.verdict = "too large"
    return runs


# ---------------------------------------------------------------- the linear model's reference accuracy


@dataclass
class Reference:
    """Validation accuracy softmax regression reached in a long, careful run: a line for the race's chart."""

    accuracy: float
    epochs: int
    batch_size: int
    eta: float


def reference_accuracy(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    n_classes: int,
    *,
    epochs: int = 50,
    time_limit: float = 2.0,
    seed: int = 0,
) -> Reference:
    """Measure what a linear model reaches here: mini-batch SGD (B = 32, eta 0.05 / (1 + 1e-4 t)) for up to
    ``epochs`` epochs within ``time_limit`` seconds; the best validation accuracy seen."""
    B = min(32, len(X_train))
    trainer = Trainer(
        X_train,
        y_train,
        X_val,
        y_val,
        batch_size=B,
        eta=0.05,
        schedule="inverse",
        lam=1e-4,
        seed=seed,
        n_classes=n_classes,
    )
    trainer.advance(max_updates=epochs * trainer.updates_per_epoch, time_budget=time_limit)
    return Reference(float(np.nanmax(trainer.history.val_accuracy)), trainer.epoch, B, 0.05)
