"""Mini-batch SGD for softmax regression: one optimiser from pure SGD (B = 1) to batch GD (B = N).

``train`` trains headless and returns the model. ``Trainer`` is the stateful version the Optimizer Race
drives: ``advance`` does a bounded amount of work (n updates or a time budget) and ``history`` records the
curves. ``learning_rate`` is the one definition of the schedules, used by the trainer, the page and the CLI.

Conventions (the guide's): W has shape (K, D), b shape (K,); ``t`` is the number of updates done before the
current one (0 for the first); ``epoch`` is the number of completed epochs (0 during the first).
Each epoch visits the N training samples in ``epoch_order(N, epoch, seed, shuffle)`` in batches of B
(the last batch of an epoch holds the N mod B leftover samples when B does not divide N).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from threadpoolctl import ThreadpoolController

from core import compiled as numba_kernels
from core.costs import flops_per_update, update_costs
from core.softmax_regression import (
    DTYPE,
    SGD_BLOCK,
    MinibatchBuffers,
    SoftmaxRegression,
    init_model,
    minibatch_step,
    sgd_block,
)
from core.validation import as_labels

# ---------------------------------------------------------------- learning-rate schedules

SCHEDULES: dict[str, dict[str, float]] = {
    "constant": {},
    "exponential": {"decay": 0.95},
    "inverse_sqrt": {"alpha": 1e-3},
    "inverse": {"lam": 1e-3},
}
"""Schedule name -> its parameters with their defaults (the guide's decay 0.95 for the exponential one)."""

SCHEDULE_FORMULAS: dict[str, str] = {
    "constant": r"\eta_t = \eta_0",
    "exponential": r"\eta_t = \eta_0 \cdot \mathrm{decay}^{\,\mathrm{epoch}}",
    "inverse_sqrt": r"\eta_t = \eta_0 / \sqrt{1 + \alpha t}",
    "inverse": r"\eta_t = \eta_0 / (1 + \lambda t)",
}
"""Each schedule's formula in LaTeX, for pages to print beside it."""


def check_schedule(schedule: str, eta0: float, **params: float) -> dict[str, float]:
    """Validate a schedule and return its full parameters (defaults filled in); raise ``ValueError`` if bad."""
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}; got {schedule!r}")
    unknown = set(params) - set(SCHEDULES[schedule])
    if unknown:
        expected = ", ".join(SCHEDULES[schedule]) or "no parameters"
        raise ValueError(f"schedule {schedule!r} takes {expected}; got {', '.join(sorted(unknown))}")
    if not (isinstance(eta0, int | float | np.floating) and math.isfinite(eta0) and eta0 > 0):
        raise ValueError(f"the learning rate eta must be a positive number; got {eta0!r}")
    full = {**SCHEDULES[schedule], **params}
    for name, value in full.items():
        if not (isinstance(value, int | float | np.floating) and math.isfinite(value)):
            raise ValueError(f"{name} must be a number; got {value!r}")
    if "decay" in full and not 0 < full["decay"] <= 1:
        raise ValueError(f"decay must be in (0, 1]; got {full['decay']}")
    for name in ("alpha", "lam"):
        if name in full and full[name] < 0:
            raise ValueError(f"{name} must be >= 0; got {full[name]}")
    return {name: float(value) for name, value in full.items()}


def learning_rate(
    schedule: str, eta0: float, update: int | np.ndarray, epoch: int, **params: float
) -> float | np.ndarray:
    """The learning rate ``eta_t`` of update ``t`` in epoch ``epoch`` under ``schedule`` (see SCHEDULE_FORMULAS).

    ``constant``: eta0. ``exponential``: ``eta0 * decay**epoch`` (decay 0.95 by default, per completed epoch).
    ``inverse_sqrt``: ``eta0 / sqrt(1 + alpha t)`` (alpha 1e-3). ``inverse``: ``eta0 / (1 + lam t)`` (lam 1e-3).
    ``t`` = ``update`` counts the updates done before this one, so the first update uses eta0; it may be an
    array of update numbers, giving an array of rates.
    """
    p = check_schedule(schedule, eta0, **params)
    t = np.asarray(update, dtype=float)
    if schedule == "constant":
        eta = np.full_like(t, eta0)
    elif schedule == "exponential":
        eta = np.full_like(t, eta0 * p["decay"] ** epoch)
    elif schedule == "inverse_sqrt":
        eta = eta0 / np.sqrt(1.0 + p["alpha"] * t)
    else:
        eta = eta0 / (1.0 + p["lam"] * t)
    return float(eta) if eta.ndim == 0 else eta


def epoch_order(n: int, epoch: int, seed: int, shuffle: bool = True) -> np.ndarray:
    """The order in which epoch ``epoch`` visits the n training samples.

    ``np.random.default_rng([seed, epoch]).permutation(n)`` when shuffling (a fresh order every epoch that
    depends only on the seed and the epoch), else ``0, 1, ..., n - 1``.
    """
    if not shuffle:
        return np.arange(n)
    return np.random.default_rng([seed, epoch]).permutation(n)


# ---------------------------------------------------------------- BLAS threads

TRAINING_BLAS_THREADS = 1
"""BLAS threads while training. Measured by ``python -m benchmarks``: with another process busy on this
2-core kind of machine, the default 2 OpenBLAS threads made a full-batch step many times slower
(oversubscription), while 1 thread costs little when the machine is idle. Several sessions train at once."""

_controller = None


@contextlib.contextmanager
def training_threads(n_threads: int | None = TRAINING_BLAS_THREADS) -> Iterator[None]:
    """Limit BLAS to ``n_threads`` threads inside the block (``None``: leave the default)."""
    global _controller
    if n_threads is None:
        yield
        return
    if _controller is None:  # scans the loaded BLAS libraries once, on first use
        _controller = ThreadpoolController()
    with _controller.limit(limits=n_threads, user_api="blas"):
        yield


# ---------------------------------------------------------------- history


class _Column:
    """A growable 1-D array: amortised O(1) append, ``view()`` without a copy."""

    def __init__(self, dtype: type = np.float64) -> None:
        self._data = np.empty(64, dtype=dtype)
        self._n = 0

    def extend(self, values: np.ndarray | float) -> None:
        values = np.atleast_1d(values)
        end = self._n + len(values)
        if end > len(self._data):
            grown = np.empty(max(end, 2 * len(self._data)), dtype=self._data.dtype)
            grown[: self._n] = self._data[: self._n]
            self._data = grown
        self._data[self._n : end] = values
        self._n = end

    def keep(self, mask: np.ndarray) -> None:
        kept = self._data[: self._n][mask]
        self._n = len(kept)
        self._data[: self._n] = kept

    def view(self) -> np.ndarray:
        return self._data[: self._n]


HISTORY_COLUMNS = (
    "updates",
    "epochs",
    "samples",
    "flops",
    "time",
    "eta",
    "batch_loss",
    "train_loss",
    "train_accuracy",
    "val_loss",
    "val_accuracy",
)


class History:
    """A training run's curves, as numpy arrays (read-only views; they grow as training goes on).

    One entry per evaluation point, aligned:

    - ``updates``: updates done; ``epochs``: epochs done, fractional (samples / N); ``samples``: samples
      processed; ``flops``: floating-point operations (``core.costs.flops_per_update`` per update);
      ``time``: training wall time in seconds (evaluation excluded); ``eta``: learning rate of the next update.
    - ``batch_loss``: mean mini-batch loss of the updates since the previous point (NaN at the first point);
      ``train_loss``, ``train_accuracy``: on the fixed training evaluation subset; ``val_loss``,
      ``val_accuracy``: on the validation subset (NaN without validation data).

    The noisy per-update trace: ``trace_updates`` (the update number t, from 0) and ``trace_loss`` (that
    update's mini-batch loss, at the weights before it). It keeps every ``trace_stride``-th update:
    the stride starts at 1 and doubles (dropping every other point) whenever the trace reaches
    ``trace_capacity`` points, so memory stays bounded on long runs of pure SGD.
    """

    def __init__(self, trace_capacity: int = 100_000) -> None:
        self._columns = {
            name: _Column(np.int64 if name in ("updates", "samples", "flops") else np.float64)
            for name in HISTORY_COLUMNS
        }
        self._trace_updates = _Column(np.int64)
        self._trace_loss = _Column(np.float32)
        self.trace_stride = 1
        self.trace_capacity = int(trace_capacity)

    def __len__(self) -> int:
        return len(self._columns["updates"].view())

    def __getattr__(self, name: str) -> np.ndarray:
        columns = self.__dict__.get("_columns", {})
        if name in columns:
            return columns[name].view()
        raise AttributeError(name)

    @property
    def trace_updates(self) -> np.ndarray:
        """Update numbers t of the kept per-update losses."""
        return self._trace_updates.view()

    @property
    def trace_loss(self) -> np.ndarray:
        """Mini-batch loss of update t (before it), for the kept t."""
        return self._trace_loss.view()

    def append(self, **point: float) -> None:
        """Add one evaluation point (every column of ``HISTORY_COLUMNS``)."""
        for name in HISTORY_COLUMNS:
            self._columns[name].extend(point[name])

    def extend_trace(self, first_update: int, losses: np.ndarray) -> None:
        """Record the losses of updates ``first_update, first_update + 1, ...`` (every trace_stride-th kept)."""
        t = first_update + np.arange(len(losses))
        keep = t % self.trace_stride == 0
        self._trace_updates.extend(t[keep])
        self._trace_loss.extend(np.asarray(losses)[keep])
        while len(self._trace_updates.view()) >= self.trace_capacity:
            self.trace_stride *= 2
            mask = self._trace_updates.view() % self.trace_stride == 0
            self._trace_updates.keep(mask)
            self._trace_loss.keep(mask)

    def to_dict(self) -> dict[str, list]:
        """Every column and the trace as plain lists (JSON-ready); NaN stays NaN."""
        out = {name: self._columns[name].view().tolist() for name in HISTORY_COLUMNS}
        out["trace_updates"] = self.trace_updates.tolist()
        out["trace_loss"] = self.trace_loss.astype(float).tolist()
        return out


# ---------------------------------------------------------------- the trainer

DIVERGENCE_FACTOR = 10.0
"""A racer has diverged when a loss or weight is not finite, or when the evaluated training loss exceeds
``DIVERGENCE_FACTOR * ln K`` (ten times the loss of the uniform guess a = 1/K)."""

COMPILED_SAMPLES = 4096
"""Samples per call of a compiled kernel (~4 ms of pure SGD): how often the trainer checks its time budget."""

EVAL_SUBSET = 2000
"""Default size of the fixed evaluation subsets (training and validation)."""


def _as_samples(X: object, name: str) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (samples x features); got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.number):
        raise ValueError(f"{name} must hold numbers; got dtype {X.dtype}")
    X = np.ascontiguousarray(X, dtype=DTYPE)  # no copy for the datasets' float32 arrays
    if not (np.isfinite(X.min()) and np.isfinite(X.max())):
        raise ValueError(f"{name} contains NaN or infinite values")
    return X


def _subset(n: int, size: int) -> np.ndarray:
    """Evenly spaced indices: a fixed subset that is the same for every seed and racer."""
    return np.unique(np.linspace(0, n - 1, min(n, size)).astype(np.intp))


class Trainer:
    """Mini-batch SGD on softmax regression that advances in bounded chunks and records its history.

    Parameters
    ----------
    X_train, y_train : ndarray
        Training samples (N, D) (float32 is used without a copy) and integer labels (N,).
    X_val, y_val : ndarray, optional
        Validation samples and labels, for the validation curves and early stopping.
    batch_size : int
        B, from 1 (pure SGD) to N (batch gradient descent).
    eta : float
        eta0, the learning rate the schedule starts from.
    schedule : str
        A key of ``SCHEDULES``; its parameters (``decay``, ``alpha``, ``lam``) as keyword arguments.
    shuffle : bool
        Visit the samples in a fresh ``epoch_order`` each epoch (a no-op for B = N, which is skipped).
    seed : int
        Seeds the initial weights (unless ``init`` is given) and the shuffling. Same settings, same weights.
    init : SoftmaxRegression, optional
        The initial model (copied), so several racers can start from the same weights.
    n_classes : int, optional
        K; by default ``max(y) + 1`` over the training and validation labels.
    early_stopping_patience : int, optional
        Stop (``stopped_early``) after this many evaluations without a new best validation loss.
    eval_every : int, optional
        Evaluate every this many updates (and at the end of every epoch). By default
        ``min(ceil(2.5 * n_eval / B), ceil(updates_per_epoch / 4))`` (at least 1), where n_eval is the number
        of samples evaluated: the evaluation's forward passes then cost at most about a fifth of the
        training's flops, and there are at least 4 points per epoch.
    eval_subset : int
        Size of the fixed, evenly spaced evaluation subsets of the training and validation sets
        (0: no evaluation; ``train`` uses that).
    compiled : bool, optional
        Run the compiled kernels of ``core.compiled`` (needs numba) rather than the numpy kernels of
        ``core.softmax_regression`` (``minibatch_step``, and the exact block method ``sgd_block`` for B = 1).
        By default: compiled when numba is installed. Both compute the same updates to float32 rounding.

    Attributes
    ----------
    model : SoftmaxRegression
        The current weights (``model.W`` (K, D), ``model.b`` (K,)), updated in place.
    history : History
        The curves; see ``History``.
    update : int
        Updates done. ``epoch``: completed epochs. ``samples``: samples processed. ``flops``: their operations.
    train_time : float
        Seconds spent in updates (evaluation excluded).
    diverged : bool
        A loss or weight became non-finite or the loss exploded (``DIVERGENCE_FACTOR``); training stopped.
        ``diverged_at`` is the update number then.
    stopped_early : bool
        Early stopping fired; ``best_val_loss`` and ``best_update`` say where the best was.
    blas_threads : int or None
        BLAS threads while advancing (``TRAINING_BLAS_THREADS``; None: the library's default).
    """

    def __init__(
        self,
        X_train: np.ndarray,
        y_train: np.ndarray,
        X_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None,
        *,
        batch_size: int,
        eta: float,
        schedule: str = "constant",
        shuffle: bool = True,
        seed: int = 0,
        init: SoftmaxRegression | None = None,
        n_classes: int | None = None,
        early_stopping_patience: int | None = None,
        eval_every: int | None = None,
        eval_subset: int = EVAL_SUBSET,
        compiled: bool | None = None,
        **schedule_params: float,
    ) -> None:
        self.X = _as_samples(X_train, "X_train")
        self.y = as_labels(y_train, "y_train", n=len(self.X))
        if (X_val is None) != (y_val is None):
            raise ValueError("give both X_val and y_val, or neither")
        if X_val is not None:
            self.X_val = _as_samples(X_val, "X_val")
            self.y_val = as_labels(y_val, "y_val", n=len(self.X_val))
            if self.X_val.shape[1] != self.X.shape[1]:
                raise ValueError(f"X_val has {self.X_val.shape[1]} features; X_train has {self.X.shape[1]}")
        else:
            self.X_val = self.y_val = None
        n_train, n_features = self.X.shape
        seen = max(int(self.y.max()), -1 if self.y_val is None else int(self.y_val.max())) + 1
        K = seen if n_classes is None else int(n_classes)
        if K < 2 or K < seen:
            raise ValueError(f"n_classes = {K} is too small: the labels go up to {seen - 1} (need K >= 2)")
        if isinstance(batch_size, bool) or int(batch_size) != batch_size or not 1 <= batch_size <= n_train:
            raise ValueError(f"batch size must be a whole number from 1 to N = {n_train}; got {batch_size!r}")
        self.batch_size = int(batch_size)
        self.schedule_params = check_schedule(schedule, eta, **schedule_params)
        self.eta0, self.schedule = float(eta), schedule
        if isinstance(seed, bool) or int(seed) != seed or seed < 0:
            raise ValueError(f"seed must be a whole number >= 0; got {seed!r}")
        self.shuffle, self.seed = bool(shuffle), int(seed)
        if init is not None:
            if init.W.shape != (K, n_features) or init.b.shape != (K,):
                raise ValueError(f"init has W {init.W.shape}, b {init.b.shape}; expected ({K}, {n_features}), ({K},)")
            self.model = SoftmaxRegression(init.W.astype(DTYPE, copy=True), init.b.astype(DTYPE, copy=True))
        else:
            self.model = init_model(n_features, K, seed)
        if early_stopping_patience is not None:
            if self.X_val is None:
                raise ValueError("early stopping needs validation data (X_val, y_val)")
            if int(early_stopping_patience) < 1:
                raise ValueError(f"early-stopping patience must be at least 1; got {early_stopping_patience}")
        self.patience = None if early_stopping_patience is None else int(early_stopping_patience)
        self.blas_threads: int | None = TRAINING_BLAS_THREADS
        if compiled and not numba_kernels.AVAILABLE:
            raise ValueError("compiled kernels need numba, which is not installed (pip install numba)")
        self.compiled = numba_kernels.AVAILABLE if compiled is None else bool(compiled)

        costs = update_costs(n_train, n_features, K, self.batch_size)
        self.updates_per_epoch = costs["updates_per_epoch"]
        # Fixed evaluation subsets, gathered once: (X, y) or None.
        self._eval_train = self._eval_val = None
        if eval_subset > 0:
            idx = _subset(n_train, eval_subset)
            self._eval_train = (self.X[idx], self.y[idx])
            if self.X_val is not None:
                idx = _subset(len(self.X_val), eval_subset)
                self._eval_val = (self.X_val[idx], self.y_val[idx])
        n_eval = sum(len(s[1]) for s in (self._eval_train, self._eval_val) if s is not None)
        if eval_every is None:
            cheap = math.ceil(2.5 * n_eval / self.batch_size) if n_eval else self.updates_per_epoch
            eval_every = max(1, min(cheap, math.ceil(self.updates_per_epoch / 4)))
        if int(eval_every) < 1:
            raise ValueError(f"eval_every must be at least 1; got {eval_every}")
        self.eval_every = int(eval_every)

        self.update = self.epoch = self.samples = self.flops = 0
        self.train_time = 0.0
        self.diverged = self.stopped_early = False
        self.diverged_at: int | None = None
        self.best_val_loss, self.best_update, self._since_best = math.inf, 0, 0
        self.history = History()
        self._pos = 0  # position within the current epoch's order
        self._order: np.ndarray | None = None
        self._buffers = None
        if self.batch_size > 1 and not self.compiled:
            self._buffers = MinibatchBuffers(n_features, K, self.batch_size)
        self._loss_sum, self._loss_count = 0.0, 0
        self._evaluate()

    # -- public controls

    @property
    def finished(self) -> bool:
        """True once the racer has diverged or stopped early: ``advance`` then does nothing."""
        return self.diverged or self.stopped_early

    @property
    def eta(self) -> float:
        """The learning rate the next update will use."""
        return learning_rate(self.schedule, self.eta0, self.update, self.epoch, **self.schedule_params)

    @property
    def seconds_per_update(self) -> float:
        """Measured training time per update so far (NaN before the first)."""
        return self.train_time / self.update if self.update else math.nan

    def set_learning_rate(
        self, eta: float | None = None, schedule: str | None = None, **schedule_params: float
    ) -> None:
        """Change eta0 and/or the schedule (and its parameters) from the next update on.

        The schedule keeps counting ``t`` and ``epoch`` from the start of the run.
        """
        schedule = self.schedule if schedule is None else schedule
        eta = self.eta0 if eta is None else eta
        self.schedule_params = check_schedule(schedule, eta, **schedule_params)
        self.eta0, self.schedule = float(eta), schedule

    def advance(self, max_updates: int | None = None, time_budget: float | None = None) -> int:
        """Do at most ``max_updates`` updates and/or spend about ``time_budget`` seconds; return updates done.

        With only a time budget it stops at the first update (or SGD block) boundary past the budget, so it
        returns after about the budget plus one update. Never raises on divergence: it sets ``diverged``.
        """
        if max_updates is None and time_budget is None:
            raise ValueError("advance needs max_updates or time_budget")
        if max_updates is not None and int(max_updates) < 0:
            raise ValueError(f"max_updates must be >= 0; got {max_updates}")
        remaining = math.inf if max_updates is None else int(max_updates)
        deadline = math.inf if time_budget is None else time.perf_counter() + float(time_budget)
        done = 0
        with training_threads(self.blas_threads), np.errstate(all="ignore"):
            while remaining > 0 and not self.finished:
                to_eval = self.eval_every - self.update % self.eval_every
                to_epoch_end = self.updates_per_epoch - self._pos_updates()
                n = self._run(int(min(remaining, to_eval, to_epoch_end)), deadline)
                done += n
                remaining -= n
                if not self.diverged and (self.update % self.eval_every == 0 or self._pos == 0):
                    self._evaluate()
                if time.perf_counter() >= deadline:
                    break
        return done

    # -- internals

    def _pos_updates(self) -> int:
        return math.ceil(self._pos / self.batch_size)

    def _epoch_indices(self) -> np.ndarray | None:
        """This epoch's visiting order, or None when it is 0..N-1 (then batches are slices, no gather)."""
        if self._order is None and self.shuffle and self.batch_size < len(self.X):
            self._order = epoch_order(len(self.X), self.epoch, self.seed)
        return self._order

    def _run(self, n_updates: int, deadline: float) -> int:
        """Up to ``n_updates`` updates within the current epoch, stopping at the deadline; returns the count.

        Per-update bookkeeping is batched per call (learning rates, losses, counters) so that pure SGD's
        tens of thousands of updates cost the kernel's time, not ours.
        """
        start = time.perf_counter()
        W, b, X, y, B = self.model.W, self.model.b, self.X, self.y, self.batch_size
        order = self._epoch_indices()
        t0, pos = self.update, self._pos
        etas = learning_rate(self.schedule, self.eta0, t0 + np.arange(n_updates), self.epoch, **self.schedule_params)
        etas = etas.astype(DTYPE)
        losses = np.empty(n_updates, dtype=np.float64)
        # Updates per kernel call. Calls end at multiples of it, so where a time budget stops does not change
        # the partition, and hence not the float32 rounding: same settings, same weights.
        if self.compiled:
            per_call = max(1, COMPILED_SAMPLES // B)
        else:
            per_call = SGD_BLOCK if B == 1 else 1
        done = 0
        while done < n_updates:
            k = min(per_call - (t0 + done) % per_call, n_updates - done)
            hi = min(pos + k * B, len(X))
            now = slice(done, done + k)
            if self.compiled:  # reads the rows in place: no gathered copy of the batch
                rows = np.arange(pos, hi) if order is None else order[pos:hi]
                if B == 1:
                    numba_kernels.sgd_steps(W, b, X, y, rows, etas[now], losses[now])
                else:
                    numba_kernels.minibatch_steps(W, b, X, y, rows, B, etas[now], losses[now])
            else:
                if order is None:
                    Xb, yb = X[pos:hi], y[pos:hi]
                else:
                    idx = order[pos:hi]
                    Xb, yb = X[idx], y[idx]  # fancy indexing copies whole rows faster than np.take(..., out=)
                if B == 1:
                    losses[now] = sgd_block(W, b, Xb, yb, etas[now])
                else:
                    losses[done] = minibatch_step(W, b, Xb, yb, float(etas[done]), self._buffers)
            done += k
            pos = hi
            if not math.isfinite(losses[done - 1]) or time.perf_counter() >= deadline:
                break
        losses = losses[:done]
        self.history.extend_trace(t0, losses)
        self._loss_sum += float(losses.sum())
        self._loss_count += done
        K, D = W.shape
        self.flops += flops_per_update(D, K, pos - self._pos)  # 4 K D per sample, whatever the batching
        self.samples += pos - self._pos
        self.update += done
        self._pos = pos
        if pos >= len(X):
            self._pos = 0
            self.epoch += 1
            self._order = None
        if not (np.isfinite(losses).all() and np.isfinite(W).all() and np.isfinite(b).all()):
            self._diverge()
        self.train_time += time.perf_counter() - start
        return done

    def _diverge(self) -> None:
        self.diverged = True
        self.diverged_at = self.update

    def _evaluate(self) -> None:
        """Record a history point: losses and accuracies on the fixed evaluation subsets."""
        train_loss = train_acc = val_loss = val_acc = math.nan
        if self._eval_train is not None:
            train_loss, train_acc = self.model.evaluate(*self._eval_train)
        if self._eval_val is not None:
            val_loss, val_acc = self.model.evaluate(*self._eval_val)
        batch_loss = self._loss_sum / self._loss_count if self._loss_count else math.nan
        self._loss_sum, self._loss_count = 0.0, 0
        self.history.append(
            updates=self.update,
            epochs=self.samples / len(self.X),
            samples=self.samples,
            flops=self.flops,
            time=self.train_time,
            eta=self.eta,
            batch_loss=batch_loss,
            train_loss=train_loss,
            train_accuracy=train_acc,
            val_loss=val_loss,
            val_accuracy=val_acc,
        )
        limit = DIVERGENCE_FACTOR * math.log(self.model.n_classes)
        if not math.isnan(train_loss) and not train_loss <= limit:
            self._diverge()
            return
        if self.patience is not None and not math.isnan(val_loss):
            if val_loss < self.best_val_loss:
                self.best_val_loss, self.best_update, self._since_best = val_loss, self.update, 0
            else:
                self._since_best += 1
                if self._since_best >= self.patience:
                    self.stopped_early = True


def train(
    X: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int,
    eta: float,
    epochs: int,
    seed: int = 0,
    schedule: str = "constant",
    shuffle: bool = True,
    n_classes: int | None = None,
    compiled: bool | None = None,
    **schedule_params: float,
) -> SoftmaxRegression:
    """Train softmax regression by mini-batch SGD for ``epochs`` epochs; return the model (W (K, D), b (K,)).

    ``epochs=0`` returns the initial model for ``seed`` (W ~ N(0, 0.01^2), b = 0). K is ``max(y) + 1``
    unless ``n_classes`` is given. A diverging run stops early and returns its last (non-finite) weights;
    use ``Trainer`` to be told (``Trainer.diverged``). See ``Trainer`` for the other arguments.
    """
    if isinstance(epochs, bool) or int(epochs) != epochs or epochs < 0:
        raise ValueError(f"epochs must be a whole number >= 0; got {epochs!r}")
    trainer = Trainer(
        X, y, batch_size=batch_size, eta=eta, schedule=schedule, shuffle=shuffle, seed=seed,
        n_classes=n_classes, eval_subset=0, compiled=compiled, **schedule_params,
    )  # fmt: skip
    trainer.advance(max_updates=int(epochs) * trainer.updates_per_epoch)
    return trainer.model


# ---------------------------------------------------------------- gradient noise


@dataclass
class GradientVariance:
    """Mini-batch gradient noise ``E ||g_B - g||^2`` against batch size B (over all of W and b).

    ``variance[i]`` is measured over ``n_draws`` batches of ``batch_sizes[i]`` samples drawn without
    replacement; ``predicted[i] = sigma2 (N - B) / (B (N - 1))``, the guide's ``sigma^2 / B`` with the
    finite-population factor, from the exact per-sample variance ``sigma2 = (1/N) sum_i ||g_i - g||^2``.
    """

    batch_sizes: np.ndarray
    variance: np.ndarray
    predicted: np.ndarray
    sigma2: float
    gradient_norm2: float
    n_draws: int


def gradient_variance(
    model: SoftmaxRegression,
    X: np.ndarray,
    y: np.ndarray,
    batch_sizes: Sequence[int],
    n_draws: int = 20,
    seed: int = 0,
) -> GradientVariance:
    """Variance of the mini-batch gradient around the full gradient at the model's weights, per batch size.

    Measures ``E ||g_B - g||^2`` (the guide's ``Var ~ sigma^2 / B``) with ``n_draws`` random batches per B.
    """
    X = _as_samples(X, "X")
    y = as_labels(y, "y", n=len(X))
    n = len(X)
    sizes = np.asarray(batch_sizes, dtype=np.int64)
    if sizes.ndim != 1 or sizes.size == 0 or sizes.min() < 1 or sizes.max() > n:
        raise ValueError(f"batch sizes must be whole numbers from 1 to N = {n}; got {list(batch_sizes)}")
    if int(n_draws) < 1:
        raise ValueError(f"n_draws must be at least 1; got {n_draws}")
    delta = model.predict_proba(X)  # a_i - y_i, one row per sample
    delta[np.arange(n), y] -= 1.0
    delta = delta.astype(DTYPE)
    dW, db = delta.T @ X / n, delta.mean(axis=0)
    # Per-sample gradients g_i = (delta_i x_i^T, delta_i): ||g_i||^2 = ||delta_i||^2 (||x_i||^2 + 1) and
    # g_i . g = delta_i^T dW x_i + delta_i . db, so sigma^2 needs no N x K x D array.
    x_norm2 = np.einsum("ij,ij->i", X, X, dtype=np.float64)
    gi_norm2 = (delta.astype(np.float64) ** 2).sum(axis=1) * (x_norm2 + 1.0)
    gi_dot_g = np.einsum("ij,ij->i", delta, X @ dW.T + db, dtype=np.float64)
    g_norm2 = float((dW.astype(np.float64) ** 2).sum() + (db.astype(np.float64) ** 2).sum())
    sigma2 = float(np.mean(gi_norm2 - 2 * gi_dot_g) + g_norm2)
    rng = np.random.default_rng(seed)
    variance = np.empty(len(sizes))
    for i, B in enumerate(sizes):
        draws = []
        for _ in range(int(n_draws)):
            idx = rng.choice(n, size=int(B), replace=False)
            d = delta[idx]
            diff_W, diff_b = d.T @ X[idx] / B - dW, d.mean(axis=0) - db
            draws.append(float((diff_W.astype(np.float64) ** 2).sum() + (diff_b.astype(np.float64) ** 2).sum()))
        variance[i] = np.mean(draws)
    predicted = sigma2 * (n - sizes) / (sizes * max(n - 1, 1))
    return GradientVariance(sizes, variance, predicted, sigma2, g_norm2, int(n_draws))
