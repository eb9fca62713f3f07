"""The Jacobian Explorer's numerics: softmax step by step, its Jacobian, the error term three ways.

Section 2 of the guide shows that softmax followed by cross-entropy gives ``delta = a - y`` without
forming the Jacobian. Everything here is written so each route to that result can be shown on the
user's numbers: (1) the Jacobian times ``grad_a C = -y / a``, (2) the term-by-term expansion of
section 2.4, (3) ``a - y``. It also holds the naive, overflowing softmax the page contrasts with
``core.softmax``, and the numerator vs denominator layout example ``s = W x``. Softmax, its Jacobian
and cross-entropy themselves come from :mod:`core.functions`; ``a - y`` from :mod:`core.backprop`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from core.backprop import output_delta
from core.functions import softmax, softmax_jacobian
from core.validation import as_finite_array

R = TypeVar("R")

M_MIN, M_MAX = 2, 10
"""How many scores the explorer takes: enough to be interesting, few enough to read every cell."""


def check_scores(s: object) -> np.ndarray:
    """Scores ``s`` as a finite 1-D array of M_MIN..M_MAX entries, or ``ValueError`` saying what is wrong."""
    s = as_finite_array(s, "s", ndim=(1,))
    if not M_MIN <= s.size <= M_MAX:
        raise ValueError(f"s has {s.size} entries; the explorer takes M = {M_MIN} to {M_MAX} scores")
    return s


def one_hot(k: int, M: int) -> np.ndarray:
    """The one-hot target ``y`` with ``y_k = 1`` for the true class k (0-based) of M classes."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise ValueError(f"the true class must be a whole number; got {k!r}")
    if not 0 <= k < M:
        raise ValueError(
            f"true class {k + 1} (0-based index {k}) is out of range: with M = {M} scores "
            f"it must be 1..{M} (0-based 0..{M - 1})"
        )
    return np.eye(M)[k]


@dataclass(frozen=True)
class SoftmaxSteps:
    """The intermediate values of ``a_i = exp(s_i - max s) / sum_j exp(s_j - max s)``."""

    s: np.ndarray
    shifted: np.ndarray  # s - max s, every entry <= 0
    exps: np.ndarray  # exp(s - max s), every entry in (0, 1]
    total: float  # sum of exps, in [1, M]
    a: np.ndarray  # the ratio exps / total, taken from core.softmax


def softmax_steps(s: object) -> SoftmaxSteps:
    """The steps of the max-shifted softmax ``exp(s - max s) / sum exp(s - max s)`` for display."""
    s = as_finite_array(s, "s", ndim=(1,))
    shifted = s - s.max()
    exps = np.exp(shifted)
    return SoftmaxSteps(s=s, shifted=shifted, exps=exps, total=float(exps.sum()), a=softmax(s))


def softmax_temperature(s: object, T: float) -> np.ndarray:
    """Softmax at temperature T, ``softmax(s / T)``: T < 1 sharpens, T > 1 flattens, T = 1 is the model."""
    if not (np.isfinite(T) and T > 0):
        raise ValueError(f"the temperature T must be a positive number; got {T}")
    return softmax(as_finite_array(s, "s", ndim=(1,)) / T)


def _with_warnings(compute: Callable[[], R]) -> tuple[R, list[str]]:
    # Record numpy's floating-point warnings instead of printing them, so the page can show them.
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn"):
        warnings.simplefilter("always")
        value = compute()
    return value, list(dict.fromkeys(str(w.message) for w in caught))


@dataclass(frozen=True)
class NaiveSoftmax:
    """The unshifted softmax's intermediate values, exactly as float64 produces them."""

    exps: np.ndarray  # exp(s_i): inf above s_i ~ 709.8, 0 below s_i ~ -745
    total: float  # sum of exps: inf or 0 when they are
    a: np.ndarray  # exps / total: inf / inf or 0 / 0 = nan when the above fail
    warnings: list[str]  # numpy's floating-point warnings, captured rather than printed


def naive_softmax(s: object) -> NaiveSoftmax:
    """The textbook ``exp(s_i) / sum_j exp(s_j)`` without the max shift, with every step and numpy's warnings.

    For s = [1000, 999, 998] ``exp`` overflows to inf and the ratio is inf / inf = nan; for
    s = [-1000, -1001, -1002] it underflows to 0 and the ratio is 0 / 0 = nan. Shown to contrast
    with :func:`core.softmax`, never used for results.
    """
    s = as_finite_array(s, "s", ndim=(1,))

    def compute() -> tuple[np.ndarray, np.floating, np.ndarray]:
        e = np.exp(s)
        total = e.sum()
        return e, total, e / total

    (exps, total, a), caught = _with_warnings(compute)
    return NaiveSoftmax(exps=exps, total=float(total), a=a, warnings=caught)


def naive_log_softmax(s: object) -> tuple[np.ndarray, list[str]]:
    """``ln(exp(s_i) / sum_j exp(s_j))`` taken literally, and numpy's warnings (nan, -inf where it fails)."""
    naive = naive_softmax(s)
    value, more = _with_warnings(lambda: np.log(naive.a))
    return value, list(dict.fromkeys(naive.warnings + more))


def log_of_softmax(s: object) -> tuple[np.ndarray, list[str]]:
    """``ln(core.softmax(s))``: stable softmax first, then the log, which gives -inf once an a_i underflows to 0."""
    s = as_finite_array(s, "s", ndim=(1,))
    return _with_warnings(lambda: np.log(softmax(s)))


def grad_a_cross_entropy(a: object, y: object) -> np.ndarray:
    """``grad_a C = -y / a``, the gradient of ``C = -sum_i y_i ln a_i`` with respect to a (0 where y_i = 0)."""
    a = as_finite_array(a, "a", ndim=(1,))
    y = as_finite_array(y, "y", shape=a.shape)
    if np.any((y != 0) & (a <= 0)):
        k = int(np.flatnonzero((y != 0) & (a <= 0))[0])
        raise ValueError(
            f"a_{k + 1} = {a[k]:g}: it underflowed to 0, so -y_{k + 1} / a_{k + 1} is infinite. "
            "Only the fused form a - y avoids this division."
        )
    return -np.divide(y, a, out=np.zeros_like(a), where=y != 0)


def error_via_jacobian(a: object, y: object) -> np.ndarray:
    """Way (1): ``delta = (d a / d s) grad_a C`` with the softmax Jacobian and ``grad_a C = -y / a``."""
    return softmax_jacobian(a) @ grad_a_cross_entropy(a, y)


@dataclass(frozen=True)
class ErrorTerms:
    """Way (2), the guide's section 2.4 expansion of ``delta_i`` term by term."""

    diagonal: np.ndarray  # a_i (1 - a_i) * (-y_i / a_i), one per i
    off_diagonal: np.ndarray  # [i, j] = -a_i a_j * (-y_j / a_j) for j != i; 0 on the diagonal
    delta: np.ndarray  # diagonal + the off-diagonal row sums

    @property
    def off_diagonal_sum(self) -> np.ndarray:
        """``sum_{j != i} -a_i a_j (-y_j / a_j)`` for each i."""
        return self.off_diagonal.sum(axis=1)


def error_terms(a: object, y: object) -> ErrorTerms:
    """Way (2): ``delta_i = a_i(1 - a_i)(-y_i / a_i) + sum_{j != i} (-a_i a_j)(-y_j / a_j)``, every term kept."""
    g = grad_a_cross_entropy(a, y)
    a = np.asarray(a, dtype=float)
    diagonal = a * (1.0 - a) * g
    off = -np.outer(a, a) * g[np.newaxis, :]
    np.fill_diagonal(off, 0.0)
    return ErrorTerms(diagonal=diagonal, off_diagonal=off, delta=diagonal + off.sum(axis=1))


def error_direct(a: object, y: object) -> np.ndarray:
    """Way (3): ``delta = a - y``, what the algebra of (2) collapses to (``core.backprop.output_delta``)."""
    a = as_finite_array(a, "a", ndim=(1,))
    return output_delta(a, as_finite_array(y, "y", shape=a.shape), "softmax")


def finite_difference_jacobian(f: Callable[[np.ndarray], np.ndarray], x: object, eps: float = 1e-6) -> np.ndarray:
    """Central differences ``J[i, j] = (f_i(x + eps e_j) - f_i(x - eps e_j)) / (2 eps)`` (numerator layout).

    Row i holds the derivatives of output i, so for ``f = softmax`` this is ``d a_i / d s_j``.
    """
    x = as_finite_array(x, "x", ndim=(1,))
    if not eps > 0:
        raise ValueError(f"eps must be positive; got {eps}")
    columns = []
    for j in range(x.size):
        step = np.zeros_like(x)
        step[j] = eps
        columns.append((np.asarray(f(x + step)) - np.asarray(f(x - step))) / (2 * eps))
    return np.column_stack(columns)


def largest_difference(*arrays: np.ndarray) -> float:
    """``max |u - v|`` over every entry and every pair of the arrays: how far apart the computations are."""
    stacked = np.stack([np.asarray(x, dtype=float) for x in arrays])
    return float(np.max(stacked.max(axis=0) - stacked.min(axis=0)))


@dataclass(frozen=True)
class LayoutExample:
    """``s = W x`` with W of shape (m, n): the Jacobian ``d s / d x`` in both layouts and the chain rule."""

    numerator: np.ndarray  # d s_i / d x_j at [i, j]: W itself, shape (m, n)
    denominator: np.ndarray  # d s_j / d x_i at [i, j]: W^T, shape (n, m) -- the guide's convention
    grad_x: np.ndarray  # dC/dx = (d s / d x) dC/ds in denominator layout = W^T dC/ds, shape (n,)
    numerator_product: np.ndarray | None  # W dC/ds, the same formula with the wrong layout; None if shapes clash


def layout_example(W: object, grad_s: object) -> LayoutExample:
    """For ``s = W x``: ``d s / d x`` is W in numerator layout and W^T in the guide's denominator layout.

    Only the denominator layout makes the left-handed chain rule ``dC/dx = (d s / d x) dC/ds`` line up:
    (n x m)(m) gives an n-vector, like x. The numerator-layout matrix W (m x n) cannot multiply the
    m-vector dC/ds unless m = n, and then it gives the wrong vector (unless W is symmetric).
    """
    W = as_finite_array(W, "W", ndim=(2,))
    grad_s = as_finite_array(grad_s, "dC/ds", ndim=(1,))
    m, n = W.shape
    if grad_s.size != m:
        raise ValueError(f"dC/ds has {grad_s.size} entries; s = W x has m = {m} (the number of rows of W)")
    return LayoutExample(
        numerator=W,
        denominator=W.T,
        grad_x=W.T @ grad_s,
        numerator_product=W @ grad_s if m == n else None,
    )
