"""core's backprop numerics: the guide's printed numbers, finite differences, validation."""

import numpy as np
import pytest

from core import backprop, cross_entropy, gradient_check, softmax, softmax_jacobian
from core.backprop import hidden_delta, numerical_gradients, output_delta, weight_gradient

# The guide's printed numbers are to three decimals (and it rounds intermediate values), so they are
# compared with an absolute tolerance of about one unit in the third decimal.
GUIDE_ATOL = 1.5e-3

W1 = [[0.3, 0.2, 0.1], [0.4, 0.1, 0.2], [0.1, 0.5, 0.3]]
W2 = [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]]
B1 = [1.09, -0.71, 0.84]
B2 = [1.74, -3.96, -0.06]
X = [0.5, -0.3, 0.2]


def test_softmax_matches_guide():
    s = np.array([2.1, -3.0, 1.5])
    np.testing.assert_allclose(np.exp(s), [8.166, 0.05, 4.482], atol=GUIDE_ATOL)
    assert np.exp(s).sum() == pytest.approx(12.698, abs=GUIDE_ATOL)
    np.testing.assert_allclose(softmax(s), [0.643, 0.004, 0.353], atol=GUIDE_ATOL)
    np.testing.assert_allclose(softmax([2.1, -1.0, 0.5]), [0.802, 0.036, 0.162], atol=GUIDE_ATOL)


def test_softmax_is_stable_and_rowwise():
    a = softmax([1000.0, 999.0, 998.0])
    assert np.all(np.isfinite(a))
    np.testing.assert_allclose(a, softmax([2.0, 1.0, 0.0]))
    rows = softmax(np.array([[1000.0, 0.0], [0.0, 0.0], [-1000.0, -1001.0]]))
    np.testing.assert_allclose(rows.sum(axis=1), 1.0)
    np.testing.assert_allclose(rows[1], [0.5, 0.5])
    np.testing.assert_allclose(rows[2], softmax([1.0, 0.0]))


def test_cross_entropy_matches_guide():
    assert cross_entropy([0.64, 0.004, 0.35], [0, 0, 1]) == pytest.approx(1.05, abs=GUIDE_ATOL)
    a = softmax([2.1, -1.0, 0.5])
    assert cross_entropy(a, [0, 1, 0]) == pytest.approx(3.321, abs=GUIDE_ATOL)
    assert cross_entropy(a, 1) == cross_entropy(a, [0, 1, 0])


def test_cross_entropy_of_rows_is_the_mean():
    a = softmax(np.array([[2.0, 1.0, 0.1], [0.3, 0.2, 3.0]]))
    expected = (-np.log(a[0, 0]) - np.log(a[1, 2])) / 2
    assert cross_entropy(a, np.array([0, 2])) == pytest.approx(expected)


def test_softmax_jacobian_matches_guide_and_hand_formula():
    a = softmax([2.1, -1.0, 0.5])
    expected = [[0.159, -0.029, -0.13], [-0.029, 0.035, -0.006], [-0.13, -0.006, 0.136]]
    J = softmax_jacobian(a)
    np.testing.assert_allclose(J, expected, atol=GUIDE_ATOL)
    assert J[0, 0] == pytest.approx(a[0] * (1 - a[0]))
    assert J[0, 2] == pytest.approx(-a[0] * a[2])
    np.testing.assert_allclose(J.sum(axis=1), 0.0, atol=1e-15)


def test_softmax_jacobian_against_finite_differences():
    rng = np.random.default_rng(0)
    s = rng.normal(size=5)
    eps = 1e-6
    numeric = np.column_stack([(softmax(s + eps * e) - softmax(s - eps * e)) / (2 * eps) for e in np.eye(5)])
    np.testing.assert_allclose(softmax_jacobian(softmax(s)), numeric, atol=1e-9)


def test_guide_section_steps():
    """Each worked step of the guide, from its own (rounded) inputs to its printed outputs."""
    delta2 = output_delta(np.array([0.64, 0.004, 0.35]), np.array([0.0, 0.0, 1.0]), "softmax")
    np.testing.assert_allclose(delta2, [0.64, 0.004, -0.65], atol=1e-12)
    s1 = np.array([1.2, -0.5, 0.8])
    np.testing.assert_allclose(np.asarray(W2).T @ delta2, [-0.389, -0.390, -0.391], atol=GUIDE_ATOL)
    delta1 = hidden_delta(np.asarray(W2), delta2, s1, "relu")
    np.testing.assert_allclose(delta1, [-0.389, 0.0, -0.391], atol=GUIDE_ATOL)
    dW1 = weight_gradient(delta1, np.asarray(X))
    np.testing.assert_allclose(dW1, [[-0.194, 0.117, -0.078], [0, 0, 0], [-0.196, 0.117, -0.078]], atol=GUIDE_ATOL)
    W1_new = np.asarray(W1) - 0.5 * dW1
    np.testing.assert_allclose(W1_new, [[0.397, 0.142, 0.139], [0.4, 0.1, 0.2], [0.198, 0.441, 0.339]], atol=GUIDE_ATOL)


def test_chained_network_reproduces_guide_scores():
    r = backprop([W1, W2], [B1, B2], X, 2, eta=0.5)
    np.testing.assert_allclose(r.s[1], [1.2, -0.5, 0.8], atol=1e-12)
    np.testing.assert_allclose(r.s[2], [2.1, -3.0, 1.5], atol=1e-12)
    np.testing.assert_allclose(r.a[2], [0.643, 0.004, 0.353], atol=GUIDE_ATOL)
    np.testing.assert_allclose(r.a[0], X)
    np.testing.assert_allclose(r.a[1], [1.2, 0.0, 0.8])
    # Unrounded, delta^(1) differs from the guide's rounded -0.389/-0.391 in the third decimal.
    np.testing.assert_allclose(r.delta[1], [-0.387, 0.0, -0.387], atol=1e-3)
    np.testing.assert_allclose(r.db[1], r.delta[1])
    np.testing.assert_allclose(r.W_new[1], np.asarray(W1) - 0.5 * r.dW[1])
    np.testing.assert_allclose(r.b_new[2], np.asarray(B2) - 0.5 * r.delta[2])
    assert r.loss == pytest.approx(-np.log(r.a[2][2]))
    assert str(r.delta[1][1]) == "0.0"  # a switched-off unit prints as 0, not -0


def test_hand_derived_one_layer_sigmoid_squared_error():
    # One unit, s = 2*1 + 0 = 2, a = sigmoid(2); C = 1/2 (a - 1)^2; delta = (a - 1) a (1 - a).
    r = backprop([[[2.0]]], [[0.0]], [1.0], [1.0], output="sigmoid")
    a = 1 / (1 + np.exp(-2.0))
    assert r.loss == pytest.approx(0.5 * (a - 1) ** 2)
    assert r.delta[1][0] == pytest.approx((a - 1) * a * (1 - a))
    assert r.dW[1][0, 0] == pytest.approx((a - 1) * a * (1 - a) * 1.0)


@pytest.mark.parametrize("hidden", ["relu", "leaky_relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
@pytest.mark.parametrize("widths", [[4, 3], [5, 4, 3], [3, 6, 5, 2, 4]])
def test_random_networks_agree_with_finite_differences(hidden, output, widths):
    rng = np.random.default_rng(len(widths) * 100 + len(hidden) + len(output))
    weights = [rng.normal(size=(n, m)) for m, n in zip(widths[:-1], widths[1:], strict=True)]
    biases = [rng.normal(size=n) for n in widths[1:]]
    x = rng.normal(size=widths[0])
    y = int(rng.integers(widths[-1])) if output == "softmax" else rng.uniform(size=widths[-1])
    assert gradient_check(weights, biases, x, y, hidden=hidden, output=output) < 1e-6


def test_finite_differences_do_not_touch_the_callers_arrays():
    W = np.array([[0.3, -0.2]])
    before = W.copy()
    numerical_gradients([W], [np.zeros(1)], [1.0, 2.0], [1.0], output="sigmoid")
    np.testing.assert_array_equal(W, before)


@pytest.mark.parametrize(
    ("weights", "biases", "x", "y", "kwargs", "message"),
    [
        ([W1, [[1.0, 2.0]]], [B1, [0.0]], X, 0, {}, r"W\^\(2\) has shape \(1, 2\); expected \(1, 3\)"),
        ([W1], [[0.0, 0.0]], X, 0, {}, r"b\^\(1\) has shape \(2,\); expected \(3,\)"),
        ([W1], [B1], [0.5, float("nan"), 0.2], 0, {}, r"x = a\^\(0\) contains NaN"),
        ([W1], [B1], X, 3, {}, r"class index out of range: y must be in 0..2"),
        ([W1], [B1], X, 0, {"hidden": "softplus"}, r"hidden must be one of relu"),
        ([W1], [B1], X, 0, {"output": "linear"}, r"output must be one of softmax, sigmoid"),
        ([W1], [B1], ["a", "b", "c"], 0, {}, r"x = a\^\(0\) must hold numbers only"),
        ([], [], X, 0, {}, r"at least one layer"),
        ([W1], [B1], X, 0, {"eta": float("inf")}, r"eta must be a finite number"),
        ([W1], [B1], X, [1.0, 0.0], {}, r"y has shape \(2,\); expected \(3,\)"),
    ],
)
def test_invalid_input_raises_clear_value_error(weights, biases, x, y, kwargs, message):
    with pytest.raises(ValueError, match=message):
        backprop(weights, biases, x, y, **kwargs)
