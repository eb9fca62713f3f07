"""Backpropagation for one sample through an L-layer network, in the guide's notation.

Layer l = 1..L computes ``s^(l) = W^(l) a^(l-1) + b^(l)`` and ``a^(l) = h(s^(l))``, with ``a^(0) = x``.
Hidden layers use ``hidden``; layer L uses softmax + cross-entropy or sigmoid + squared error.
Every list in the result is indexed by the guide's layer number l (index 0 is ``None`` except
``a[0] = x``), so ``result.delta[1]`` is ``delta^(1)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from core.functions import ACTIVATIONS, cross_entropy, sigmoid, softmax
from core.validation import as_finite_array, as_target

OUTPUTS = ("softmax", "sigmoid")


@dataclass
class BackpropResult:
    """Forward and backward quantities of one backprop pass, indexed by layer number l."""

    s: list
    a: list
    delta: list
    dW: list
    db: list
    loss: float
    y: np.ndarray
    W_new: list = field(default_factory=list)
    b_new: list = field(default_factory=list)

    @property
    def n_layers(self) -> int:
        """L, the number of layers with weights."""
        return len(self.s) - 1


def check_network(
    weights: Sequence[object], biases: Sequence[object], x: object, hidden: str = "relu", output: str = "softmax"
) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Validate a network and return ``(weights, biases, x)`` as float arrays.

    ``W^(l)`` must have shape (units in layer l, units in layer l-1) and ``b^(l)`` (units in layer l,).
    """
    if hidden not in ACTIVATIONS:
        raise ValueError(f"hidden must be one of {', '.join(ACTIVATIONS)}; got {hidden!r}")
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {', '.join(OUTPUTS)}; got {output!r}")
    if len(weights) == 0:
        raise ValueError("the network needs at least one layer: weights is empty")
    if len(biases) != len(weights):
        raise ValueError(f"got {len(weights)} weight matrices but {len(biases)} bias vectors")
    x = as_finite_array(x, "x = a^(0)", ndim=(1,))
    Ws, bs, n_prev = [], [], x.size
    for l, (W, b) in enumerate(zip(weights, biases, strict=True), start=1):
        W = as_finite_array(W, f"W^({l})", ndim=(2,))
        if W.shape[1] != n_prev:
            raise ValueError(
                f"W^({l}) has shape {W.shape}; expected ({W.shape[0]}, {n_prev}) = "
                f"(units in layer {l}, units in layer {l - 1})"
            )
        b = as_finite_array(b, f"b^({l})", shape=(W.shape[0],))
        Ws.append(W)
        bs.append(b)
        n_prev = W.shape[0]
    return Ws, bs, x


def forward(
    weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], x: np.ndarray, hidden: str, output: str
) -> tuple[list, list]:
    """Forward pass: ``s^(l) = W^(l) a^(l-1) + b^(l)``, ``a^(l) = h(s^(l))``; returns ``(s, a)``."""
    h = ACTIVATIONS[hidden][0]
    s, a = [None], [x]
    L = len(weights)
    for l in range(1, L + 1):
        s.append(weights[l - 1] @ a[l - 1] + biases[l - 1])
        if l < L:
            a.append(h(s[l]))
        else:
            a.append(softmax(s[l]) if output == "softmax" else sigmoid(s[l]))
    return s, a


def output_loss(a_L: np.ndarray, y: np.ndarray, output: str) -> float:
    """``C = -sum y_i ln a_i`` (softmax) or ``C = 1/2 sum (a_i - y_i)^2`` (sigmoid)."""
    if output == "softmax":
        return cross_entropy(a_L, y)
    return float(0.5 * np.sum((a_L - y) ** 2))


def output_delta(a_L: np.ndarray, y: np.ndarray, output: str) -> np.ndarray:
    """``delta^(L) = a - y`` (softmax + cross-entropy) or ``(a - y) * a * (1 - a)`` (sigmoid + squared error)."""
    if output == "softmax":
        return a_L - y
    return (a_L - y) * a_L * (1.0 - a_L)


def incoming_gradient(W_next: np.ndarray, delta_next: np.ndarray) -> np.ndarray:
    """``W^(l+1)^T delta^(l+1)``, the gradient arriving at ``a^(l)`` from layer l+1."""
    return W_next.T @ delta_next


def hidden_delta(W_next: np.ndarray, delta_next: np.ndarray, s: np.ndarray, hidden: str) -> np.ndarray:
    """``delta^(l) = (W^(l+1)^T delta^(l+1)) * h'(s^(l))``."""
    # "+ 0.0" turns the -0.0 of switched-off units into 0.0, so pages never print "-0".
    return incoming_gradient(W_next, delta_next) * ACTIVATIONS[hidden][1](s) + 0.0


def weight_gradient(delta: np.ndarray, a_prev: np.ndarray) -> np.ndarray:
    """``dC/dW^(l) = delta^(l) a^(l-1)^T``."""
    return np.outer(delta, a_prev)


def gradient_step(param: np.ndarray, grad: np.ndarray, eta: float) -> np.ndarray:
    """``W <- W - eta dC/dW`` (the same rule for b)."""
    return param - eta * grad


def backprop(
    weights: Sequence[object],
    biases: Sequence[object],
    x: object,
    y: object,
    hidden: str = "relu",
    output: str = "softmax",
    eta: float | None = None,
) -> BackpropResult:
    """One sample forward and backward through the network; with ``eta`` also the updated weights.

    Parameters
    ----------
    weights, biases : sequences of array-like
        ``[W^(1), ..., W^(L)]`` and ``[b^(1), ..., b^(L)]``.
    x : array-like
        The input ``a^(0)``.
    y : int or array-like
        The true class, or a target vector the size of layer L.
    hidden : {"relu", "leaky_relu", "sigmoid", "tanh"}
        Activation of the hidden layers.
    output : {"softmax", "sigmoid"}
        Softmax with cross-entropy, or sigmoid with squared error.
    eta : float, optional
        Learning rate; when given the result also holds ``W_new`` and ``b_new``.
    """
    Ws, bs, x = check_network(weights, biases, x, hidden, output)
    L = len(Ws)
    y = as_target(y, (Ws[-1].shape[0],))
    s, a = forward(Ws, bs, x, hidden, output)
    delta = [None] * (L + 1)
    delta[L] = output_delta(a[L], y, output)
    for l in range(L - 1, 0, -1):
        delta[l] = hidden_delta(Ws[l], delta[l + 1], s[l], hidden)
    dW = [None] + [weight_gradient(delta[l], a[l - 1]) for l in range(1, L + 1)]
    db = [None] + [delta[l].copy() for l in range(1, L + 1)]
    result = BackpropResult(s=s, a=a, delta=delta, dW=dW, db=db, loss=output_loss(a[L], y, output), y=y)
    if eta is not None:
        if not np.isfinite(eta):
            raise ValueError(f"eta must be a finite number; got {eta}")
        result.W_new = [None] + [gradient_step(Ws[l - 1], dW[l], eta) for l in range(1, L + 1)]
        result.b_new = [None] + [gradient_step(bs[l - 1], db[l], eta) for l in range(1, L + 1)]
    return result


def loss_of(
    weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], x: np.ndarray, y: np.ndarray, hidden: str, output: str
) -> float:
    """The loss C of the network on one sample (forward pass only)."""
    _, a = forward(weights, biases, x, hidden, output)
    return output_loss(a[-1], y, output)


def numerical_gradients(
    weights: Sequence[object],
    biases: Sequence[object],
    x: object,
    y: object,
    hidden: str = "relu",
    output: str = "softmax",
    eps: float = 1e-6,
) -> tuple[list, list]:
    """Central finite differences ``(C(theta + eps) - C(theta - eps)) / (2 eps)`` for every W and b entry."""
    Ws, bs, x = check_network(weights, biases, x, hidden, output)
    Ws, bs = [W.copy() for W in Ws], [b.copy() for b in bs]  # perturbed in place below
    y = as_target(y, (Ws[-1].shape[0],))
    if not eps > 0:
        raise ValueError(f"eps must be positive; got {eps}")
    grads = []
    for params in (Ws, bs):
        layer_grads = [None]
        for p in params:
            g = np.zeros_like(p)
            for idx in np.ndindex(p.shape):
                saved = p[idx]
                p[idx] = saved + eps
                c_plus = loss_of(Ws, bs, x, y, hidden, output)
                p[idx] = saved - eps
                c_minus = loss_of(Ws, bs, x, y, hidden, output)
                p[idx] = saved
                g[idx] = (c_plus - c_minus) / (2 * eps)
            layer_grads.append(g)
        grads.append(layer_grads)
    return grads[0], grads[1]


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """``||g_a - g_n|| / (||g_a|| + ||g_n||)``, and 0 when both are zero."""
    denom = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    return 0.0 if denom == 0 else float(np.linalg.norm(analytic - numeric) / denom)


def gradient_check_layers(
    weights: Sequence[object],
    biases: Sequence[object],
    x: object,
    y: object,
    hidden: str = "relu",
    output: str = "softmax",
    eps: float = 1e-6,
) -> list[dict]:
    """Per layer l: backprop's dW^(l), db^(l), the finite-difference ones, and their relative errors."""
    result = backprop(weights, biases, x, y, hidden, output)
    num_dW, num_db = numerical_gradients(weights, biases, x, y, hidden, output, eps)
    return [
        {
            "layer": l,
            "dW": result.dW[l],
            "dW_numeric": num_dW[l],
            "dW_error": relative_error(result.dW[l], num_dW[l]),
            "db": result.db[l],
            "db_numeric": num_db[l],
            "db_error": relative_error(result.db[l], num_db[l]),
        }
        for l in range(1, result.n_layers + 1)
    ]


def gradient_check(
    weights: Sequence[object],
    biases: Sequence[object],
    x: object,
    y: object,
    hidden: str = "relu",
    output: str = "softmax",
    eps: float = 1e-6,
) -> float:
    """The largest relative error between backprop's dW, db and central finite differences of C."""
    layers = gradient_check_layers(weights, biases, x, y, hidden, output, eps)
    return max(max(r["dW_error"], r["db_error"]) for r in layers)
