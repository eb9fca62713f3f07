"""Softmax, cross-entropy, the softmax Jacobian and the hidden activations h(s).

Every formula here is the guide's, named with the guide's symbols: scores ``s``, activations ``a``,
target ``y``. These are the single source of truth: the calculator, the Jacobian page and the
trainer all call them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from core.validation import as_finite_array, as_target


def softmax(s: np.ndarray) -> np.ndarray:
    """Softmax ``a_i = exp(s_i - max s) / sum_j exp(s_j - max s)`` of a vector, or of each row.

    Subtracting ``max s`` changes nothing mathematically (it cancels in the ratio) but keeps every
    exponent <= 0, so scores like 1000 give finite results instead of ``inf / inf``.
    """
    s = as_finite_array(s, "s", ndim=(1, 2))
    z = np.exp(s - s.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def log_softmax(s: np.ndarray) -> np.ndarray:
    """``ln a_i = s_i - logsumexp(s)``, computed with the max shift (log-sum-exp trick)."""
    s = as_finite_array(s, "s", ndim=(1, 2))
    shifted = s - s.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def mean_loss_and_accuracy(s: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Mean cross-entropy ``C = -(1/n) sum_i ln a_{i, y_i}`` (log-sum-exp form) and accuracy of scores ``s`` (n, K).

    ``y`` holds the n integer classes; the caller has checked both.
    """
    rows = np.arange(len(y))
    return float(-log_softmax(s)[rows, y].mean()), float(np.mean(s.argmax(axis=1) == y))


def cross_entropy(a: np.ndarray, y: np.ndarray | int) -> float:
    """Cross-entropy ``C = -sum_i y_i ln a_i``; the mean over rows when ``a`` is 2-D.

    ``y`` is a one-hot (or any probability) vector of the same shape as ``a``, or an integer class
    (one per row for 2-D ``a``).
    """
    a = as_finite_array(a, "a", ndim=(1, 2))
    if np.any(a < 0):
        raise ValueError("a must hold probabilities (no negative entries)")
    y = as_target(y, a.shape)
    # 0 * ln 0 is taken as 0: only the classes with y_i > 0 contribute (np.where discards the nan of 0 * -inf).
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(y > 0, -y * np.log(a), 0.0)
    return float(terms.sum(axis=-1).mean())


def softmax_jacobian(a: np.ndarray) -> np.ndarray:
    """The M x M Jacobian of softmax, ``d a_i / d s_j = a_i (delta_ij - a_j)`` (symmetric)."""
    a = as_finite_array(a, "a", ndim=(1,))
    return np.diag(a) - np.outer(a, a)


def sigmoid(s: np.ndarray) -> np.ndarray:
    """Logistic function ``1 / (1 + exp(-s))``, written to stay finite for large ``|s|``."""
    e = np.exp(-np.abs(s))
    return np.where(s >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


LEAKY_SLOPE = 0.01
"""Slope of leaky ReLU for s <= 0."""

# name -> (h(s), h'(s)); h'(s) is expressed through s so it matches the guide's h'(s^(l)).
ACTIVATIONS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    "relu": (lambda s: np.maximum(s, 0.0), lambda s: (s > 0).astype(float)),
    "leaky_relu": (
        lambda s: np.where(s > 0, s, LEAKY_SLOPE * s),
        lambda s: np.where(s > 0, 1.0, LEAKY_SLOPE),
    ),
    "sigmoid": (sigmoid, lambda s: sigmoid(s) * (1.0 - sigmoid(s))),
    "tanh": (np.tanh, lambda s: 1.0 - np.tanh(s) ** 2),
}

# Formulas as the page prints them beside each activation.
ACTIVATION_FORMULAS: dict[str, tuple[str, str]] = {
    "relu": (r"h(s)=\max(0,s)", r"h'(s)=\begin{cases}1 & s>0\\0 & s\le 0\end{cases}"),
    "leaky_relu": (
        r"h(s)=\begin{cases}s & s>0\\0.01\,s & s\le 0\end{cases}",
        r"h'(s)=\begin{cases}1 & s>0\\0.01 & s\le 0\end{cases}",
    ),
    "sigmoid": (r"h(s)=\frac{1}{1+e^{-s}}", r"h'(s)=h(s)\,(1-h(s))"),
    "tanh": (r"h(s)=\tanh s", r"h'(s)=1-\tanh^2 s"),
}
