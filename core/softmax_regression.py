"""Softmax regression ``a = softmax(W x + b)`` with cross-entropy loss, and its fast update kernels.

The model is the guide's one-layer network: W has shape (K, D) = (classes, features), b has shape (K,),
scores ``s = W x + b``, activations ``a = softmax(s)``, loss ``C = -sum_k y_k ln a_k`` averaged over a batch.
Its gradient over a batch of B samples is ``dW = (1/B) sum_i (a_i - y_i) x_i^T`` and
``db = (1/B) sum_i (a_i - y_i)`` (the guide's ``delta^(L) = a - y``).

``predict_proba``, ``loss`` and ``gradient`` are the readable reference and call ``core.functions``.
The kernels below them (``minibatch_step``, ``sgd_block``) are the same formulas written for speed: scores
kept as K x B so softmax reduces over the leading axis, buffers reused, and pure SGD done a block of samples
at a time with the Gram-matrix trick. Tests check every kernel against a plain loop.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from core.functions import mean_loss_and_accuracy, softmax
from core.validation import as_labels

DTYPE = np.float32
"""Weights and images are float32: the kernels are memory-bound and float32 halves the traffic."""

INIT_STD = 0.01
"""The guide's initialisation: W ~ N(0, 0.01^2), b = 0."""

TINY = float(np.finfo(DTYPE).tiny)
"""Floor for a probability inside ``ln``: a per-sample loss from an underflowed a_y is ``-ln(tiny)`` ~ 87.3."""


@dataclass
class SoftmaxRegression:
    """Softmax regression ``a = softmax(W x + b)``: ``W`` of shape (K, D), ``b`` of shape (K,)."""

    W: np.ndarray
    b: np.ndarray

    @property
    def n_classes(self) -> int:
        """K, the number of classes (rows of W)."""
        return self.W.shape[0]

    @property
    def n_features(self) -> int:
        """D, the number of input features (columns of W)."""
        return self.W.shape[1]

    def copy(self) -> SoftmaxRegression:
        """An independent copy (the trainer updates W and b in place)."""
        return SoftmaxRegression(self.W.copy(), self.b.copy())

    def scores(self, X: np.ndarray) -> np.ndarray:
        """Scores ``s_i = W x_i + b`` for every row x_i of X, as an (n, K) array."""
        X = _check_features(X, self.n_features)
        return X @ self.W.T + self.b

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Activations ``a_i = softmax(W x_i + b)`` as an (n, K) array of class probabilities."""
        return softmax(self.scores(X))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The predicted class ``argmax_k s_k`` of every row of X."""
        return np.argmax(self.scores(X), axis=1)

    def evaluate(self, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """Mean cross-entropy ``C = -(1/n) sum_i ln a_i[y_i]`` (log-sum-exp form) and accuracy, in one pass.

        Non-finite scores (a diverged model) give ``(inf, nan)`` rather than an error.
        """
        y = as_labels(y, "y", n=len(X), n_classes=self.n_classes)
        with np.errstate(all="ignore"):
            S = self.scores(X)
        if not np.isfinite(S).all():
            return math.inf, math.nan
        return mean_loss_and_accuracy(S, y)

    def loss(self, X: np.ndarray, y: np.ndarray) -> float:
        """Mean cross-entropy ``C = -(1/n) sum_i ln a_i[y_i]`` over the rows of X (see ``evaluate``)."""
        return self.evaluate(X, y)[0]

    def accuracy(self, X: np.ndarray, y: np.ndarray) -> float:
        """Fraction of rows whose predicted class ``argmax_k s_k`` equals the label."""
        return self.evaluate(X, y)[1]

    def gradient(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``dW = (1/B) sum_i (a_i - y_i) x_i^T`` and ``db = (1/B) sum_i (a_i - y_i)`` over the batch (X, y).

        Returns
        -------
        dW : ndarray, shape (K, D)
        db : ndarray, shape (K,)
        """
        y = as_labels(y, "y", n=len(X), n_classes=self.n_classes)
        delta = self.predict_proba(X)  # a_i - y_i, the guide's delta^(L), one row per sample
        delta[np.arange(len(y)), y] -= 1.0
        dtype = np.result_type(np.asarray(X).dtype, self.W.dtype)
        # In the dtype of X: a float64 delta would silently up-cast a big float32 X (a full copy).
        dW = delta.astype(dtype).T @ np.asarray(X) / len(y)
        return dW, delta.mean(axis=0)


def init_model(n_features: int, n_classes: int, seed: int = 0) -> SoftmaxRegression:
    """The guide's initial model: ``W ~ N(0, 0.01^2)`` of shape (K, D) drawn from ``seed``, ``b = 0``."""
    if int(n_features) < 1 or int(n_classes) < 2:
        raise ValueError(f"need at least 1 feature and 2 classes; got D = {n_features}, K = {n_classes}")
    rng = np.random.default_rng(seed)
    W = (INIT_STD * rng.standard_normal((int(n_classes), int(n_features)))).astype(DTYPE)
    return SoftmaxRegression(W, np.zeros(int(n_classes), dtype=DTYPE))


def _check_features(X: object, n_features: int) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != n_features:
        raise ValueError(f"X must have shape (n, {n_features}); got {X.shape}")
    return X


class MinibatchBuffers:
    """Scratch arrays reused by ``minibatch_step`` for batches of up to ``batch_size`` samples."""

    def __init__(self, n_features: int, n_classes: int, batch_size: int) -> None:
        self.scores_bk = np.empty((batch_size, n_classes), dtype=DTYPE)  # X_b W^T, as BLAS writes it fastest
        self.S = np.empty((n_classes, batch_size), dtype=DTYPE)  # scores, then eta/B (a - y), kept K x B
        self.dW = np.empty((n_classes, n_features), dtype=DTYPE)
        self.cols = np.arange(batch_size)


def minibatch_step(
    W: np.ndarray, b: np.ndarray, Xb: np.ndarray, yb: np.ndarray, eta: float, buf: MinibatchBuffers
) -> float:
    """One update ``W <- W - eta dW``, ``b <- b - eta db`` on the batch (Xb, yb), in place; returns its loss.

    The loss is the batch's mean cross-entropy at the weights before the update, ``ln sum exp(s - m) - (s_y - m)``.
    Scores are computed as ``X_b W^T`` (the faster product for a batch of rows) and copied to K x B, where the
    softmax's reductions run over the leading axis.
    """
    n = len(yb)
    if n == buf.S.shape[1]:
        S, scores_bk = buf.S, buf.scores_bk
    else:  # the last, shorter batch of an epoch
        S, scores_bk = np.empty((len(b), n), dtype=DTYPE), np.empty((n, len(b)), dtype=DTYPE)
    np.matmul(Xb, W.T, out=scores_bk)
    np.add(scores_bk.T, b[:, None], out=S)  # s = W x + b for each column: K x B
    S -= S.max(axis=0)
    target = yb * n + buf.cols[:n]  # flat index of (y_i, i) in S
    flat = S.reshape(-1)  # a view: S is C-contiguous
    s_y = flat[target]  # s_y - max s, kept for the loss before exp overwrites S
    np.exp(S, out=S)
    z = S.sum(axis=0)
    loss = (float(np.log(z).sum()) - float(s_y.sum())) / n
    S *= (eta / n) / z  # (eta / B) a: softmax's normalisation and the step size in one pass
    flat[target] -= eta / n  # (eta / B) (a - y)
    np.matmul(S, Xb, out=buf.dW)  # (eta / B) sum_i (a_i - y_i) x_i^T
    W -= buf.dW
    b -= S.sum(axis=1)
    return loss


SGD_BLOCK = 32
"""Samples per block in ``sgd_block``: large enough to amortise the block's matrix products, small enough
that the per-sample 2k x K product stays cheap."""

SHIFT_FREE = (-60.0, 60.0)
"""Range of max s in which ``sgd_block`` skips softmax's max shift: exp(s) in float32 cannot overflow
(exp(60) * K << 3.4e38) and the largest term stays a normal number (exp(-60) >> 1.2e-38); the only terms it
flushes to zero (s < -87) are below e^-27 of the largest, far under float32's resolution of the sum."""

_EYE = np.eye(1024, dtype=DTYPE)  # one-hot rows y_i, by fancy indexing (K <= 1024 classes)


@functools.cache
def _strictly_lower(k: int) -> np.ndarray:
    """The k x k mask of i < j below the diagonal (row j, column i), cached per block size."""
    return np.tril(np.ones((k, k), dtype=DTYPE), -1)


def sgd_block(W: np.ndarray, b: np.ndarray, Xb: np.ndarray, yb: np.ndarray, etas: np.ndarray) -> np.ndarray:
    """Pure SGD (B = 1) over the rows of Xb in order, exactly, updating W and b in place; returns each loss.

    Sample j sees the weights after the updates of samples i < j, ``W_j = W - sum_{i<j} eta_i g_i x_i^T`` and
    ``b_j = b - sum_{i<j} eta_i g_i`` with ``g_i = a_i - y_i``. So its scores are
    ``s_j = (W x_j + b) - sum_{i<j} eta_i (x_i . x_j + 1) g_i``: with ``S0 = X W^T + b`` and the Gram matrix
    ``X X^T`` computed once per block, each sample needs only K x k work, and the block's accumulated
    update is applied to W with one matrix product. Equal to the sample-by-sample loop up to float32 rounding.

    Parameters
    ----------
    W, b : ndarray
        The weights (K, D) and biases (K,), updated in place.
    Xb : ndarray, shape (k, D)
        The block's samples, in the order they are visited.
    yb : ndarray, shape (k,)
        Their labels.
    etas : ndarray, shape (k,)
        The learning rate of each of the k updates.

    Returns
    -------
    ndarray, shape (k,)
        Each sample's loss ``-ln a_j[y_j]`` at the weights it saw (floored at ``-ln tiny``).
    """
    k, K = len(yb), len(b)
    Y = _EYE[yb, :K]  # one-hot targets, one row per sample
    R = Xb @ Xb.T  # Gram matrix x_j . x_i
    R += 1.0  # + 1 for the bias
    R *= etas  # column i times eta_i
    R *= _strictly_lower(k)  # R[j, i] = eta_i (x_i . x_j + 1) for i < j, else 0
    # M = [a_1..a_k; S] with S = S0 + R Y, the y_i part of -eta_i (...) (a_i - y_i), known in advance.
    # Then s_j = [-R[j], e_j] @ M: one small product per sample, over rows of a not yet filled (zeros) for i >= j.
    M = np.zeros((2 * k, K), dtype=DTYPE)
    S = M[k:]
    np.matmul(Xb, W.T, out=S)
    S += b
    S += R @ Y
    coef = np.zeros((k, 2 * k), dtype=DTYPE)
    np.negative(R, out=coef[:, :k])
    coef[:, k:] = _EYE[:k, :k]
    A = M[:k]
    # This loop is most of the cost of pure SGD, so every call counts: ndarray.dot has less overhead than
    # matmul for a vector times a small matrix, and Python's max and sum of a K-list beat numpy's reductions.
    # Softmax a = exp(s - m) / sum exp(s - m) is the same for any shift m; the max shift of core.softmax is
    # what keeps exp in float32's range, so it is skipped while max s stays inside SHIFT_FREE. Since
    # 0 <= a_i <= 1, |s_j - S_j| <= sum_i |R[j, i]|: when that bound keeps every sample of the block inside,
    # the loop needs no test at all.
    exp, divide, subtract = np.exp, np.divide, np.subtract
    low, high = SHIFT_FREE
    top, reach = S.max(axis=1), np.abs(R).sum(axis=1)
    if np.all(top + reach <= high) and np.all(top - reach >= low):  # False for NaN: then the tested loop
        for c, a in zip(coef, A, strict=True):
            s = c.dot(M)
            exp(s, out=s)
            divide(s, sum(s.tolist()), out=a)
    else:
        for c, a in zip(coef, A, strict=True):
            s = c.dot(M)
            m = max(s.tolist())
            if not low <= m <= high:  # also true for NaN: the shift then propagates it, as core.softmax would
                subtract(s, m, out=s)
            exp(s, out=s)
            divide(s, sum(s.tolist()), out=a)
    losses = -np.log(np.maximum(A[np.arange(k), yb], TINY))
    A -= Y  # g_i = a_i - y_i
    A *= etas[:, None]
    W -= A.T @ Xb
    b -= A.sum(axis=0)
    return losses
