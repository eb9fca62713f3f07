"""Softmax regression in a 2-D feature space, and a loss with exactly two free parameters.

Three pictures of the guide: (1) the decision regions of ``a = softmax(W x + b)`` for x in the plane, with
the boundaries ``s_i(x) = s_j(x)`` and each class's weight vector w_k (row k of W); (2) the loss surface of a
two-parameter slice of softmax regression; (3) batch GD, mini-batch SGD and pure SGD walking on it.

The two-parameter loss is softmax regression itself, restricted to a 2-D slice of weight space: every
weight and bias is held at the optimum (W*, b*) found by batch GD except the weight vector
``w_k = (W_k1, W_k2)`` of one class k, so the two free parameters are ``theta = w_k`` and
``C(theta) = -(1/N) sum_i ln a_{y_i}(x_i)`` with ``W = W*`` but row k replaced by theta. Its gradient is
row k of the guide's ``dC/dW = (1/N) sum_i (a_i - y_i) x_i^T``. Both come from ``SoftmaxRegression``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.softmax_regression import SoftmaxRegression
from core.training import DIVERGENCE_FACTOR, Trainer, epoch_order, learning_rate
from core.validation import as_finite_array

CLASS_COUNTS = (3, 4)
"""K, the number of classes the 2-D views offer."""

BLOB_RADIUS = 2.0
"""Blob centres sit on a circle of this radius around the origin, one every 360/K degrees."""

# ---------------------------------------------------------------- 2-D data


def make_blobs(
    n_classes: int = 3, n_per_class: int = 50, spread: float = 1.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs ``x ~ N(c_k, spread^2 I)``, centres ``c_k`` on a circle of radius ``BLOB_RADIUS``.

    Returns
    -------
    X : ndarray, shape (K n_per_class, 2)
        The points, class by class.
    y : ndarray, shape (K n_per_class,)
        Their classes 0..K-1.
    """
    if n_classes not in CLASS_COUNTS:
        raise ValueError(f"the number of classes K must be one of {CLASS_COUNTS}; got {n_classes!r}")
    if isinstance(n_per_class, bool) or int(n_per_class) != n_per_class or not 2 <= n_per_class <= 2000:
        raise ValueError(f"points per class must be a whole number from 2 to 2000; got {n_per_class!r}")
    if not (isinstance(spread, int | float) and math.isfinite(spread) and spread > 0):
        raise ValueError(f"the spread must be a positive number; got {spread!r}")
    angles = 2 * np.pi * np.arange(n_classes) / n_classes + np.pi / 2
    centres = BLOB_RADIUS * np.column_stack([np.cos(angles), np.sin(angles)])
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(n_classes), int(n_per_class))
    X = centres[y] + spread * rng.standard_normal((len(y), 2))
    return X, y


def points_from_rows(rows: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Points the user typed, one row ``x1, x2, class`` each (classes numbered 1..K as in the page).

    Raises ``ValueError`` unless there are 3 columns, the classes are whole numbers 1..K, and at least
    two classes have points (softmax regression needs two to separate).
    """
    rows = as_finite_array(rows, "points", ndim=(2,))
    if rows.shape[1] != 3:
        raise ValueError(f"points need 3 numbers per row (x1, x2, class); got {rows.shape[1]}")
    labels = rows[:, 2]
    if np.any(labels != np.round(labels)) or labels.min() < 1 or labels.max() > n_classes:
        raise ValueError(f"the class of every point must be a whole number from 1 to K = {n_classes}")
    y = labels.astype(np.intp) - 1
    if len(np.unique(y)) < 2:
        raise ValueError("place points of at least two classes")
    return rows[:, :2].copy(), y


def check_weights(W: np.ndarray, b: np.ndarray, n_classes: int) -> SoftmaxRegression:
    """A float64 model from typed weights: W of shape (K, 2) (row k is w_k) and b of shape (K,)."""
    W = as_finite_array(W, "W", shape=(n_classes, 2))
    b = as_finite_array(np.ravel(b), "b", shape=(n_classes,))
    return SoftmaxRegression(W, b)


def plane_extent(X: np.ndarray, margin: float = 1.0) -> float:
    """Half-width of the square ``[-e, e]^2`` around the origin that holds every point with a margin."""
    return float(np.abs(X).max()) + margin


# ---------------------------------------------------------------- decision regions


@dataclass
class Regions:
    """The plane on a grid: ``label[r, c]`` = argmax class and ``prob[r, c]`` = its probability at
    ``(x1[c], x2[r])``."""

    x1: np.ndarray
    x2: np.ndarray
    label: np.ndarray
    prob: np.ndarray


def grid_points(extent: float, resolution: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``x1``, ``x2`` (each ``resolution`` values in [-extent, extent]) and the grid as rows (x1, x2), x1 fastest."""
    axis = np.linspace(-extent, extent, int(resolution))
    g1, g2 = np.meshgrid(axis, axis)
    return axis, axis.copy(), np.column_stack([g1.ravel(), g2.ravel()])


def decision_regions(model: SoftmaxRegression, extent: float, resolution: int = 120) -> Regions:
    """The arg-max class ``predict`` and its probability ``max_k a_k`` (``predict_proba``) on a grid."""
    if model.n_features != 2:
        raise ValueError(f"decision regions need a model of 2 features; this one has {model.n_features}")
    x1, x2, P = grid_points(extent, resolution)
    shape = (len(x2), len(x1))
    a = model.predict_proba(P)
    return Regions(x1, x2, model.predict(P).reshape(shape), a.max(axis=1).reshape(shape))


@dataclass
class Boundary:
    """The part of the line ``s_i(x) = s_j(x)`` where classes i and j tie for the largest score."""

    i: int
    j: int
    start: np.ndarray
    end: np.ndarray


def boundaries(model: SoftmaxRegression, extent: float) -> list[Boundary]:
    """Every decision boundary inside ``[-extent, extent]^2``: segments of ``s_i = s_j >= s_k`` for all k.

    On the line ``(w_i - w_j) . x + (b_i - b_j) = 0``, written ``x = p + t u``, each condition
    ``s_i - s_k >= 0`` and each side of the box is linear in t, so the segment is an interval of t.
    """
    W, b = np.asarray(model.W, dtype=float), np.asarray(model.b, dtype=float)
    K = len(b)
    found = []
    for i in range(K):
        for j in range(i + 1, K):
            d, c = W[i] - W[j], b[i] - b[j]
            norm2 = float(d @ d)
            if norm2 < 1e-24:  # equal weight vectors: s_i - s_j is constant, no line
                continue
            p = -c * d / norm2
            u = np.array([-d[1], d[0]]) / math.sqrt(norm2)
            # Conditions alpha + beta t >= 0: s_i - s_k for every other class, then the four box sides.
            alphas = [(W[i] - W[k]) @ p + b[i] - b[k] for k in range(K) if k not in (i, j)]
            betas = [(W[i] - W[k]) @ u for k in range(K) if k not in (i, j)]
            for m in range(2):
                alphas += [extent - p[m], extent + p[m]]
                betas += [-u[m], u[m]]
            lo, hi = -math.inf, math.inf
            for alpha, beta in zip(alphas, betas, strict=True):
                if abs(beta) < 1e-15:
                    if alpha < 0:
                        lo, hi = 1.0, 0.0
                elif beta > 0:
                    lo = max(lo, -alpha / beta)
                else:
                    hi = min(hi, -alpha / beta)
            if lo < hi:
                found.append(Boundary(i, j, p + lo * u, p + hi * u))
    return found


def train_live(
    X: np.ndarray, y: np.ndarray, n_classes: int, batch_size: int, eta: float, seed: int = 0, **kwargs: object
) -> Trainer:
    """The core optimiser (``core.training.Trainer``) on 2-D points, evaluated on all of them."""
    return Trainer(
        X, y, batch_size=min(int(batch_size), len(X)), eta=eta, seed=seed, n_classes=n_classes,
        eval_subset=len(X), **kwargs,
    )  # fmt: skip


# ---------------------------------------------------------------- the two-parameter loss


def fit_optimum(X: np.ndarray, y: np.ndarray, n_classes: int, updates: int = 3000) -> SoftmaxRegression:
    """(W*, b*): batch GD (B = N, eta = 1) from the guide's initial weights, as a float64 model."""
    trainer = Trainer(X, y, batch_size=len(X), eta=1.0, n_classes=n_classes, eval_subset=0)
    trainer.advance(max_updates=updates)
    return SoftmaxRegression(trainer.model.W.astype(float), trainer.model.b.astype(float))


class WeightSlice:
    """``C(theta)``: softmax regression's loss with ``w_k = theta`` and every other weight and bias at the anchor.

    Parameters
    ----------
    X, y : ndarray
        The 2-D points (N, 2) and their classes (N,).
    anchor : SoftmaxRegression
        The model the slice goes through (the optimum (W*, b*)); its row k of W is replaced by theta.
    k : int
        The class whose weight vector ``w_k = (W_k1, W_k2)`` is free.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, anchor: SoftmaxRegression, k: int) -> None:
        self.X = as_finite_array(X, "X", ndim=(2,))
        self.y = np.asarray(y)
        if not 0 <= int(k) < anchor.n_classes:
            raise ValueError(f"the free class k must be from 1 to K = {anchor.n_classes}; got {int(k) + 1}")
        self.k = int(k)
        self.W = np.asarray(anchor.W, dtype=float).copy()
        self.b = np.asarray(anchor.b, dtype=float).copy()
        self.theta_anchor = self.W[self.k].copy()
        # Every sample's Hessian a_k (1 - a_k) x x^T is at most x x^T / 4, so the mean's largest eigenvalue
        # bounds the curvature everywhere: a step 1 / L never overshoots (used by ``bgd_minimum``).
        self.lipschitz = float(np.linalg.eigvalsh(self.X.T @ self.X / (4 * len(self.X)))[-1])

    @property
    def n(self) -> int:
        """N, the number of samples."""
        return len(self.X)

    @property
    def n_classes(self) -> int:
        """K, the number of classes."""
        return len(self.b)

    def model(self, theta: np.ndarray) -> SoftmaxRegression:
        """The softmax-regression model at ``theta``: W* with row k replaced by theta, b*."""
        W = self.W.copy()
        W[self.k] = theta
        return SoftmaxRegression(W, self.b)

    def loss(self, theta: np.ndarray, idx: np.ndarray | None = None) -> float:
        """``C(theta) = -(1/n) sum_i ln a_{y_i}`` over all samples, or over the batch ``idx``."""
        X, y = (self.X, self.y) if idx is None else (self.X[idx], self.y[idx])
        return self.model(theta).loss(X, y)

    def gradient(self, theta: np.ndarray, idx: np.ndarray | None = None) -> np.ndarray:
        """``dC/dtheta``: row k of ``dC/dW = (1/B) sum_i (a_i - y_i) x_i^T`` over all samples or the batch."""
        X, y = (self.X, self.y) if idx is None else (self.X[idx], self.y[idx])
        return self.model(theta).gradient(X, y)[0][self.k]


@dataclass
class Minimum:
    """Where batch GD stopped: ``theta``, ``loss`` C(theta), its gradient norm, and whether it went below tol."""

    theta: np.ndarray
    loss: float
    gradient_norm: float
    converged: bool
    updates: int


def bgd_minimum(
    problem: WeightSlice, start: np.ndarray | None = None, tol: float = 1e-7, max_updates: int = 20_000
) -> Minimum:
    """The minimum of ``C(theta)`` by batch GD ``theta <- theta - (1/L) dC/dtheta`` until ``||dC/dtheta|| < tol``.

    L bounds the curvature (``WeightSlice.lipschitz``), so every step lowers C. Without a minimum (class k
    separable from the others by a line through the origin) it stops after ``max_updates``, unconverged.
    """
    theta = problem.theta_anchor.copy() if start is None else as_finite_array(start, "start", shape=(2,))
    step = 1.0 / problem.lipschitz
    g = problem.gradient(theta)
    updates = 0
    while float(np.linalg.norm(g)) >= tol and updates < max_updates:
        theta = theta - step * g
        g = problem.gradient(theta)
        updates += 1
    norm = float(np.linalg.norm(g))
    return Minimum(theta, problem.loss(theta), norm, norm < tol, updates)


def _grid_axes(centre: np.ndarray, half_width: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The n grid values of each parameter over ``centre +- half_width``."""
    offsets = np.linspace(-half_width, half_width, int(n))
    return centre[0] + offsets, centre[1] + offsets


@dataclass
class Surface:
    """``loss[r, c] = C(u[c], v[r])`` on a grid around a centre (u: first parameter W_k1, v: second W_k2)."""

    u: np.ndarray
    v: np.ndarray
    loss: np.ndarray


def loss_surface(problem: WeightSlice, centre: np.ndarray, half_width: float, resolution: int = 60) -> Surface:
    """``C(theta)`` on a ``resolution`` x ``resolution`` grid over ``centre +- half_width``."""
    u, v = _grid_axes(centre, half_width, resolution)
    loss = np.array([[problem.loss(np.array([ui, vi])) for ui in u] for vi in v])
    return Surface(u, v, loss)


@dataclass
class GradientField:
    """``dC/dtheta`` at the grid points ``(u[c], v[r])``: ``du[r, c]``, ``dv[r, c]``."""

    u: np.ndarray
    v: np.ndarray
    du: np.ndarray
    dv: np.ndarray


def gradient_field(problem: WeightSlice, centre: np.ndarray, half_width: float, n: int = 13) -> GradientField:
    """The gradient on an n x n grid over ``centre +- half_width`` (the page draws ``-gradient`` as arrows)."""
    u, v = _grid_axes(centre, half_width, n)
    g = np.array([[problem.gradient(np.array([ui, vi])) for ui in u] for vi in v])
    return GradientField(u, v, g[..., 0], g[..., 1])


# ---------------------------------------------------------------- descent paths


@dataclass
class DescentPath:
    """One optimiser's walk on ``C(theta)``.

    ``theta[t]`` is the point after t updates (``theta[0]`` the start), ``loss[t] = C(theta[t])`` on all N
    samples, ``samples[t]`` the samples processed by then, ``eta[t]`` the rate of update t. A diverged path
    stops at ``diverged_at`` (its last point is the first whose loss exceeded the limit or was not finite).
    """

    batch_size: int
    theta: np.ndarray
    loss: np.ndarray
    samples: np.ndarray
    eta: np.ndarray
    diverged: bool
    diverged_at: int | None


def divergence_limit(n_classes: int) -> float:
    """The loss above which a path counts as diverged: the trainer's ``DIVERGENCE_FACTOR * ln K``."""
    return DIVERGENCE_FACTOR * math.log(n_classes)


def descent_path(
    problem: WeightSlice,
    start: np.ndarray,
    batch_size: int,
    eta: float,
    schedule: str = "constant",
    n_updates: int = 200,
    seed: int = 0,
    **schedule_params: float,
) -> DescentPath:
    """Mini-batch SGD on ``C(theta)``: ``theta <- theta - eta_t dC_B/dtheta``, B = N batch GD, B = 1 pure SGD.

    The trainer's conventions: each epoch visits the samples in ``epoch_order(N, epoch, seed)`` in batches
    of B (the last one holds the N mod B leftovers), and ``eta_t = learning_rate(schedule, eta, t, epoch)``.
    Never raises on divergence: the path stops and is marked diverged.
    """
    start = as_finite_array(start, "start", shape=(2,))
    n = problem.n
    if isinstance(batch_size, bool) or int(batch_size) != batch_size or not 1 <= batch_size <= n:
        raise ValueError(f"batch size must be a whole number from 1 to N = {n}; got {batch_size!r}")
    if isinstance(n_updates, bool) or int(n_updates) != n_updates or n_updates < 1:
        raise ValueError(f"the number of updates must be a whole number >= 1; got {n_updates!r}")
    B = int(batch_size)
    learning_rate(schedule, eta, 0, 0, **schedule_params)  # validates eta and the schedule before any work
    limit = divergence_limit(problem.n_classes)
    thetas, losses, samples, etas = [start], [problem.loss(start)], [0], []
    theta, epoch, pos, order, seen = start, 0, 0, None, 0
    diverged_at = None
    for t in range(int(n_updates)):
        if order is None:
            order = epoch_order(n, epoch, seed, shuffle=B < n)
        idx = order[pos : pos + B]
        eta_t = float(learning_rate(schedule, eta, t, epoch, **schedule_params))
        with np.errstate(over="ignore", invalid="ignore"):  # a huge eta overflows: caught just below
            theta = theta - eta_t * problem.gradient(theta, idx)
        seen += len(idx)
        pos += len(idx)
        if pos >= n:
            pos, epoch, order = 0, epoch + 1, None
        loss = problem.loss(theta) if np.isfinite(theta).all() else math.inf
        thetas.append(theta)
        losses.append(loss)
        samples.append(seen)
        etas.append(eta_t)
        if not loss <= limit:
            diverged_at = t + 1
            break
    return DescentPath(
        B, np.array(thetas), np.array(losses), np.array(samples), np.array(etas), diverged_at is not None, diverged_at
    )


def excess_loss(loss: np.ndarray, minimum: float) -> np.ndarray:
    """``C(theta_t) - C_min`` for the log-log convergence view; values <= 0 (rounding) or not finite become NaN."""
    gap = np.asarray(loss, dtype=float) - minimum
    return np.where(np.isfinite(gap) & (gap > 0), gap, np.nan)


def reference_line(t: np.ndarray, t0: float, value0: float, slope: float) -> np.ndarray:
    """``value0 (t / t0)^slope``: a straight line of the given slope on log-log axes through (t0, value0).

    Slope -1 is the guide's O(1/t) rate of batch GD, slope -1/2 the O(1/sqrt(t)) rate of SGD.
    """
    return value0 * (np.asarray(t, dtype=float) / t0) ** slope
