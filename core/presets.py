"""The Backprop Calculator's presets: the guide's worked examples and networks, as data plus small helpers.

Layer numbers follow the guide (l = 1..L, ``W^(l)`` of shape (units in l, units in l-1)); a target given
as an ``int`` is a 0-based class index, as everywhere in ``core`` (the guide's class 3 of 3 is index 2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from core.backprop import (
    BackpropResult,
    backprop,
    gradient_step,
    hidden_delta,
    incoming_gradient,
    output_delta,
    weight_gradient,
)
from core.functions import ACTIVATIONS, cross_entropy, softmax, softmax_jacobian

GUIDE_DECIMALS = 3
"""The guide prints its numbers to three decimals."""


@dataclass(frozen=True)
class Network:
    """Everything the calculator needs for one backprop pass: ``x = a^(0)``, the layers, target, eta, activations."""

    x: ArrayLike
    weights: Sequence[ArrayLike]  # [W^(1), ..., W^(L)]
    biases: Sequence[ArrayLike]  # [b^(1), ..., b^(L)]
    target: int | ArrayLike  # a 0-based class index or a target vector y
    eta: float
    hidden: str = "relu"
    output: str = "softmax"

    @property
    def widths(self) -> list[int]:
        """``[n_0, n_1, ..., n_L]``, the number of units in each layer."""
        return [len(self.x)] + [len(W) for W in self.weights]


@dataclass(frozen=True)
class Preset:
    """A named network for the calculator, with the guide's printed numbers it is compared against."""

    name: str
    description: str
    network: Network
    # (quantity, l) -> what the guide prints for it, e.g. ("delta", 1) -> delta^(1); l = 0 for the loss.
    guide_printed: dict[tuple[str, int], tuple] = field(default_factory=dict)
    rounding_note: str = ""
    worked_examples: bool = False


W1_GUIDE = ((0.3, 0.2, 0.1), (0.4, 0.1, 0.2), (0.1, 0.5, 0.3))
W2_GUIDE = ((0.1, 0.2, 0.3), (0.4, 0.5, 0.6), (0.7, 0.8, 0.9))
X_GUIDE = (0.5, -0.3, 0.2)

# b^(1) and b^(2) are chosen so that s^(1) = W^(1) x + b^(1) = [1.2, -0.5, 0.8] and
# s^(2) = W^(2) relu(s^(1)) + b^(2) = [2.1, -3.0, 1.5]: the guide's sections, chained into one network.
GUIDE_NETWORK = Network(
    x=X_GUIDE,
    weights=(W1_GUIDE, W2_GUIDE),
    biases=((1.09, -0.71, 0.84), (1.74, -3.96, -0.06)),
    target=2,
    eta=0.5,
)

# What the guide prints for the chained network's quantities (its sections start from rounded values).
GUIDE_PRINTED: dict[tuple[str, int], tuple] = {
    ("s", 1): (1.2, -0.5, 0.8),
    ("s", 2): (2.1, -3.0, 1.5),
    ("a", 2): (0.643, 0.004, 0.353),
    ("loss", 0): (1.05,),
    ("delta", 2): (0.64, 0.004, -0.65),
    ("delta", 1): (-0.389, 0.0, -0.391),
    ("dW", 1): ((-0.194, 0.117, -0.078), (0.0, 0.0, 0.0), (-0.196, 0.117, -0.078)),
    ("W_new", 1): ((0.397, 0.142, 0.139), (0.4, 0.1, 0.2), (0.198, 0.441, 0.339)),
}

CHAIN_NOTE = (
    "The guide works each section from rounded values: its cross-entropy uses a^(2) = [0.64, 0.004, 0.35] "
    "(C = 1.05; unrounded C = 1.041) and its delta^(1) uses delta^(2) = [0.64, 0.004, -0.65]. Chained without "
    "rounding, delta^(2) = [0.643, 0.004, -0.647] and delta^(1) = [-0.387, 0, -0.387] instead of the guide's "
    "[-0.389, 0, -0.391], so dW^(1) and the updated W^(1) differ from the guide in the third decimal."
)

PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            name="Guide: worked examples, section by section",
            description="Each of the guide's worked steps, on its own given (rounded) inputs, beside the guide's "
            "printed numbers; the network below is the guide's network chained end to end.",
            network=GUIDE_NETWORK,
            guide_printed=GUIDE_PRINTED,
            rounding_note=CHAIN_NOTE,
            worked_examples=True,
        ),
        Preset(
            name="Guide: the chained 3-3-3 network",
            description="x = [0.5, -0.3, 0.2], the guide's W^(1) and W^(2), biases that give s^(1) = [1.2, -0.5, 0.8] "
            "and s^(2) = [2.1, -3.0, 1.5]; true class 3 of 3; ReLU, softmax + cross-entropy, eta = 0.5.",
            network=GUIDE_NETWORK,
            guide_printed=GUIDE_PRINTED,
            rounding_note=CHAIN_NOTE,
        ),
        Preset(
            name="Sigmoid network, squared error (2-2-2)",
            description="Sigmoid hidden and output units with C = 1/2 sum (a - y)^2: the network of Matt Mazur's "
            "'A Step by Step Backpropagation Example' (C = 0.298; after one step W^(2)_11 = 0.359).",
            network=Network(
                x=(0.05, 0.10),
                weights=(((0.15, 0.20), (0.25, 0.30)), ((0.40, 0.45), (0.50, 0.55))),
                biases=((0.35, 0.35), (0.60, 0.60)),
                target=(0.01, 0.99),
                eta=0.5,
                hidden="sigmoid",
                output="sigmoid",
            ),
        ),
    )
}

DEFAULT_PRESET = "Guide: the chained 3-3-3 network"


def random_network(
    widths: list[int], seed: int, eta: float = 0.5, hidden: str = "relu", output: str = "softmax"
) -> Network:
    """A random network of the given widths: ``W^(l)_ij ~ N(0, 1/n_(l-1))``, rounded to 2 decimals to stay readable."""
    if len(widths) < 2 or min(widths) < 1:
        raise ValueError(f"widths must list at least two layer sizes, each >= 1; got {widths}")
    rng = np.random.default_rng(seed)
    weights = tuple(
        _rounded(rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_out, n_in)))
        for n_in, n_out in zip(widths[:-1], widths[1:], strict=True)
    )
    biases = tuple(_rounded(rng.normal(0.0, 0.1, size=n)) for n in widths[1:])
    x = _rounded(rng.uniform(-1.0, 1.0, size=widths[0]))
    return Network(x, weights, biases, int(rng.integers(widths[-1])), eta, hidden, output)


def _rounded(values: np.ndarray) -> tuple:
    """Values rounded to 2 decimals, as nested tuples (so a preset is immutable)."""
    rounded = (np.round(values, 2) + 0.0).tolist()  # + 0.0: no "-0.0" in the boxes
    return tuple(rounded) if values.ndim == 1 else tuple(tuple(row) for row in rounded)


def fit_to_shape(values: np.ndarray | None, fill: np.ndarray) -> np.ndarray:
    """``fill`` with its top-left block replaced by the overlapping part of ``values`` (reshaping keeps entries)."""
    out = np.array(fill, dtype=float)
    if values is not None and values.ndim == out.ndim:
        block = tuple(slice(0, min(n, m)) for n, m in zip(values.shape, out.shape, strict=True))
        out[block] = values[block]
    return out


def run_network(net: Network) -> BackpropResult:
    """``backprop`` of the network, with the update for its eta."""
    return backprop(net.weights, net.biases, net.x, net.target, net.hidden, net.output, eta=net.eta)


@dataclass(frozen=True)
class Comparison:
    """One quantity: what the code computes beside what the guide prints, and whether they agree to its rounding."""

    name: str
    given: dict[str, np.ndarray]
    computed: np.ndarray
    printed: np.ndarray

    @property
    def agrees(self) -> bool:
        """True when every entry rounds to the guide's printed number (half a unit in its third decimal)."""
        return bool(np.all(np.abs(self.computed - self.printed) <= 0.5 * 10.0**-GUIDE_DECIMALS + 1e-9))


def compare_with_guide(result: BackpropResult, printed: dict[tuple[str, int], tuple]) -> list[Comparison]:
    """The network's unrounded quantities beside the guide's printed ones, in the order of ``printed``."""
    rows = []
    for (quantity, l), value in printed.items():
        computed = result.loss if quantity == "loss" else getattr(result, quantity)[l]
        name = {"loss": "C", "W_new": f"updated W^({l})"}.get(quantity, f"{quantity}^({l})")
        rows.append(Comparison(name, {}, np.atleast_1d(computed), np.array(value, dtype=float)))
    return rows


def guide_worked_examples() -> list[Comparison]:
    """Each worked step of the guide, computed by ``core``'s step functions from the guide's given inputs.

    The guide's sections start from rounded values (e.g. delta^(2) = [0.64, 0.004, -0.65]), so each step
    takes exactly the guide's given numbers and reproduces its printed result to three decimals.
    """
    s2 = np.array([2.1, -3.0, 1.5])
    a2, y = np.array([0.64, 0.004, 0.35]), np.array([0.0, 0.0, 1.0])
    W1, W2, x = np.array(W1_GUIDE), np.array(W2_GUIDE), np.array(X_GUIDE)
    s1 = np.array([1.2, -0.5, 0.8])
    delta2 = np.array([0.64, 0.004, -0.65])
    delta1 = np.array([-0.389, 0.0, -0.391])  # the guide's printed delta^(1), the input of its dW^(1) section
    s_b, y_b = np.array([2.1, -1.0, 0.5]), np.array([0.0, 1.0, 0.0])
    relu_prime = ACTIVATIONS["relu"][1]
    return [
        # The guide exponentiates without the max shift; the shift cancels in the ratio, so a is the same.
        Comparison("e^(s_i)", {"s": s2}, np.exp(s2), np.array([8.166, 0.05, 4.482])),
        Comparison("sum_j e^(s_j)", {"s": s2}, np.atleast_1d(np.exp(s2).sum()), np.array([12.698])),
        Comparison("a = softmax(s)", {"s": s2}, softmax(s2), np.array([0.643, 0.004, 0.353])),
        Comparison("C = -sum y_i ln a_i", {"a": a2, "y": y}, np.atleast_1d(cross_entropy(a2, y)), np.array([1.05])),
        Comparison("delta^(2) = a - y", {"a": a2, "y": y}, output_delta(a2, y, "softmax"), delta2),
        Comparison(
            "W^(2)T delta^(2)",
            {"W^(2)": W2, "delta^(2)": delta2},
            incoming_gradient(W2, delta2),
            np.array([-0.389, -0.390, -0.391]),
        ),
        Comparison("h'(s^(1))", {"s^(1)": s1}, relu_prime(s1), np.array([1.0, 0.0, 1.0])),
        Comparison(
            "delta^(1)",
            {"W^(2)": W2, "delta^(2)": delta2, "s^(1)": s1},
            hidden_delta(W2, delta2, s1, "relu"),
            delta1,
        ),
        Comparison(
            "dW^(1) = delta^(1) a^(0)T",
            {"delta^(1)": delta1, "a^(0)": x},
            weight_gradient(delta1, x),
            np.array(GUIDE_PRINTED[("dW", 1)]),
        ),
        Comparison(
            "W^(1) - eta dW^(1)",
            {"W^(1)": W1, "eta": np.array([0.5]), "delta^(1)": delta1, "a^(0)": x},
            gradient_step(W1, weight_gradient(delta1, x), 0.5),
            np.array(GUIDE_PRINTED[("W_new", 1)]),
        ),
        Comparison("a = softmax(s)", {"s": s_b}, softmax(s_b), np.array([0.802, 0.036, 0.162])),
        Comparison(
            "C = -sum y_i ln a_i",
            {"s": s_b, "y": y_b},
            np.atleast_1d(cross_entropy(softmax(s_b), y_b)),
            np.array([3.321]),
        ),
        Comparison(
            "da/ds = diag(a) - a aT",
            {"s": s_b},
            softmax_jacobian(softmax(s_b)),
            np.array([[0.159, -0.029, -0.13], [-0.029, 0.035, -0.006], [-0.13, -0.006, 0.136]]),
        ),
    ]
