"""core.jacobian: the guide's printed Jacobian, finite differences, the error term three ways, stability."""

import math

import numpy as np
import pytest

from core import cross_entropy, softmax, softmax_jacobian
from core.functions import log_softmax
from core.jacobian import (
    check_scores,
    error_direct,
    error_terms,
    error_via_jacobian,
    finite_difference_jacobian,
    grad_a_cross_entropy,
    largest_difference,
    layout_example,
    log_of_softmax,
    naive_log_softmax,
    naive_softmax,
    one_hot,
    softmax_steps,
    softmax_temperature,
)

GUIDE_ATOL = 1.5e-3  # the guide prints three decimals
GUIDE_S = [2.1, -1.0, 0.5]


def random_scores(rng, M):
    return rng.normal(scale=3.0, size=M)


def test_guide_jacobian_and_cross_entropy():
    a = softmax(GUIDE_S)
    expected = [[0.159, -0.029, -0.13], [-0.029, 0.035, -0.006], [-0.13, -0.006, 0.136]]
    np.testing.assert_allclose(softmax_jacobian(a), expected, atol=GUIDE_ATOL)
    # Target class 2 of 3: 0-based index 1.
    assert cross_entropy(a, one_hot(1, 3)) == pytest.approx(3.321, abs=GUIDE_ATOL)


@pytest.mark.parametrize("seed", range(5))
def test_jacobian_matches_finite_differences_and_rows_sum_to_zero(seed):
    rng = np.random.default_rng(seed)
    s = random_scores(rng, rng.integers(2, 11))
    J = softmax_jacobian(softmax(s))
    np.testing.assert_allclose(J, finite_difference_jacobian(softmax, s), atol=1e-8)
    np.testing.assert_allclose(J.sum(axis=1), 0.0, atol=1e-15)
    np.testing.assert_allclose(J, J.T)


def test_finite_differences_on_huge_scores():
    s = np.array([1000.0, 999.0, 998.0])
    np.testing.assert_allclose(
        finite_difference_jacobian(softmax, s), softmax_jacobian(softmax([2.0, 1.0, 0.0])), atol=1e-6
    )


@pytest.mark.parametrize("seed", range(6))
def test_three_error_vectors_agree_for_every_class(seed):
    rng = np.random.default_rng(100 + seed)
    M = int(rng.integers(2, 11))
    a = softmax(random_scores(rng, M))
    for k in range(M):
        y = one_hot(k, M)
        # A plain reference loop of the guide's section 2.4 sum, independent of core.jacobian.
        reference = np.array([sum(a[i] * ((i == j) - a[j]) * (-y[j] / a[j]) for j in range(M)) for i in range(M)])
        terms = error_terms(a, y)
        for delta in (error_via_jacobian(a, y), terms.delta, error_direct(a, y)):
            np.testing.assert_allclose(delta, reference, rtol=0, atol=1e-12)
        np.testing.assert_allclose(delta, a - y, atol=1e-12)


def test_term_by_term_expansion_for_one_hot_target():
    a = softmax(GUIDE_S)
    terms = error_terms(a, one_hot(1, 3))
    # Only the true class k = 1 has a diagonal term: a_k (1 - a_k) (-1 / a_k) = a_k - 1.
    np.testing.assert_allclose(terms.diagonal, [0.0, a[1] - 1.0, 0.0], atol=1e-15)
    # Off-diagonal terms survive only in column k: -a_i a_k (-1 / a_k) = a_i.
    expected_off = np.zeros((3, 3))
    expected_off[[0, 2], 1] = a[[0, 2]]
    np.testing.assert_allclose(terms.off_diagonal, expected_off, atol=1e-15)
    np.testing.assert_allclose(terms.off_diagonal_sum, [a[0], 0.0, a[2]], atol=1e-15)


def test_soft_targets_also_give_a_minus_y():
    a = softmax([0.3, -1.2, 2.0, 0.0])
    y = np.array([0.1, 0.2, 0.6, 0.1])
    np.testing.assert_allclose(error_via_jacobian(a, y), a - y, atol=1e-12)
    np.testing.assert_allclose(error_terms(a, y).delta, a - y, atol=1e-12)


def test_grad_a_cross_entropy_and_its_underflow():
    a = softmax(GUIDE_S)
    np.testing.assert_allclose(grad_a_cross_entropy(a, one_hot(1, 3)), [0.0, -1.0 / a[1], 0.0])
    a_wide = softmax([800.0, 0.0, -800.0])
    assert a_wide[2] == 0.0
    with pytest.raises(ValueError, match="underflowed to 0"):
        error_via_jacobian(a_wide, one_hot(2, 3))
    np.testing.assert_allclose(error_direct(a_wide, one_hot(2, 3)), [1.0, 0.0, -1.0], atol=1e-300)


def test_softmax_steps():
    steps = softmax_steps([2.1, -3.0, 1.5])
    np.testing.assert_allclose(steps.shifted, [0.0, -5.1, -0.6])
    np.testing.assert_allclose(steps.exps, [1.0, math.exp(-5.1), math.exp(-0.6)])
    assert steps.total == pytest.approx(1.0 + math.exp(-5.1) + math.exp(-0.6))
    np.testing.assert_allclose(steps.exps / steps.total, steps.a)
    np.testing.assert_allclose(steps.a, [0.643, 0.004, 0.353], atol=GUIDE_ATOL)


def test_temperature():
    s = np.array(GUIDE_S)
    assert np.array_equal(softmax_temperature(s, 1.0), softmax(s))
    sharp, flat = softmax_temperature(s, 0.1), softmax_temperature(s, 10.0)
    assert sharp[0] > 0.999
    assert np.ptp(flat) < np.ptp(softmax(s)) and np.ptp(flat) < 0.15
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="temperature"):
            softmax_temperature(s, bad)


def test_naive_softmax_overflows_and_the_shift_fixes_it():
    naive = naive_softmax([1000.0, 999.0, 998.0])
    assert np.all(np.isposinf(naive.exps)) and naive.total == np.inf
    assert np.all(np.isnan(naive.a))  # inf / inf
    assert "overflow encountered in exp" in naive.warnings
    assert "invalid value encountered in divide" in naive.warnings
    np.testing.assert_allclose(softmax([1000.0, 999.0, 998.0]), [0.66524096, 0.24472847, 0.09003057], atol=1e-8)


def test_naive_softmax_underflows():
    naive = naive_softmax([-1000.0, -1001.0, -1002.0])
    assert np.all(naive.exps == 0.0) and naive.total == 0.0
    assert np.all(np.isnan(naive.a))  # 0 / 0
    assert "underflow encountered in exp" in naive.warnings
    np.testing.assert_allclose(softmax([-1000.0, -1001.0, -1002.0]), softmax([2.0, 1.0, 0.0]))


def test_naive_softmax_is_right_on_moderate_scores_without_warnings():
    naive = naive_softmax(GUIDE_S)
    np.testing.assert_allclose(naive.exps, np.exp(GUIDE_S))
    np.testing.assert_allclose(naive.a, softmax(GUIDE_S), rtol=1e-15)
    assert naive.warnings == []


def test_log_softmax_naive_vs_log_sum_exp():
    huge, caught = naive_log_softmax([1000.0, 999.0, 998.0])
    assert np.all(np.isnan(huge)) and "overflow encountered in exp" in caught
    s = [800.0, 0.0, -800.0]
    naive, _ = naive_log_softmax(s)
    assert np.isnan(naive[0]) and np.all(np.isneginf(naive[1:]))
    logged, caught = log_of_softmax(s)
    assert logged[0] == 0.0 and np.all(np.isneginf(logged[1:]))
    assert "divide by zero encountered in log" in caught
    # log-sum-exp: ln a_i = s_i - ln sum_j exp(s_j) = s_i - 800 (the other terms vanish next to e^800).
    np.testing.assert_allclose(log_softmax(s), [0.0, -800.0, -1600.0])


def test_layout_example_against_finite_differences():
    rng = np.random.default_rng(7)
    W = rng.normal(size=(2, 3))
    x = rng.normal(size=3)
    grad_s = np.array([0.5, -1.5])
    ex = layout_example(W, grad_s)
    numeric = finite_difference_jacobian(lambda v: W @ v, x)  # row i: derivatives of s_i
    np.testing.assert_allclose(ex.numerator, numeric, atol=1e-9)
    np.testing.assert_allclose(ex.denominator, numeric.T, atol=1e-9)
    assert ex.numerator.shape == (2, 3) and ex.denominator.shape == (3, 2)
    # dC/dx for C = grad_s . s, by finite differences of C itself.
    dC_dx = finite_difference_jacobian(lambda v: np.array([grad_s @ (W @ v)]), x)[0]
    np.testing.assert_allclose(ex.grad_x, dC_dx, atol=1e-9)
    assert ex.numerator_product is None  # (2 x 3)(2) does not line up
    square = layout_example([[1.0, 2.0], [0.0, 1.0]], [1.0, 1.0])
    np.testing.assert_allclose(square.grad_x, [1.0, 3.0])
    np.testing.assert_allclose(square.numerator_product, [3.0, 1.0])  # lines up, but is wrong


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: check_scores([1.0]), "M = 2 to 10"),
        (lambda: check_scores(np.arange(11.0)), "11 entries"),
        (lambda: check_scores([1.0, float("nan")]), "NaN"),
        (lambda: check_scores([]), "empty"),
        (lambda: one_hot(3, 3), "out of range"),
        (lambda: one_hot(-1, 3), "out of range"),
        (lambda: one_hot(1.5, 3), "whole number"),
        (lambda: layout_example([[1.0, 2.0, 3.0]], [1.0, 2.0]), "m = 1"),
        (lambda: finite_difference_jacobian(softmax, [1.0, 2.0], eps=0.0), "eps"),
    ],
)
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_largest_difference():
    assert largest_difference([1.0, 2.0], [1.5, 2.0], [1.0, -1.0]) == 3.0
    assert largest_difference(np.eye(2), np.eye(2)) == 0.0


def test_cross_entropy_ignores_underflowed_classes_that_are_not_the_target():
    a = softmax([800.0, 0.0, -800.0])  # a_2 = a_3 = 0 exactly
    assert cross_entropy(a, one_hot(0, 3)) == 0.0  # raises under the RuntimeWarning-as-error filter if it warns
    assert cross_entropy(a, one_hot(2, 3)) == np.inf
