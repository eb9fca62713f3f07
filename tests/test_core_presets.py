"""core.presets: the presets against hand computation, the guide's printed numbers and a published example."""

import numpy as np
import pytest

from core.presets import (
    GUIDE_NETWORK,
    PRESETS,
    Comparison,
    compare_with_guide,
    fit_to_shape,
    guide_worked_examples,
    random_network,
    run_network,
)


def forward_by_hand(net):
    """s^(l) and a^(l) with plain loops: s_i = sum_j W_ij a_j + b_i, ReLU hidden, no numpy matmul."""
    a, s_all = list(net.x), []
    for l, (W, b) in enumerate(zip(net.weights, net.biases, strict=True), start=1):
        s = [sum(W[i][j] * a[j] for j in range(len(a))) + b[i] for i in range(len(W))]
        s_all.append(s)
        a = s if l == len(net.weights) else [max(v, 0.0) for v in s]
    return s_all


def test_chained_preset_reproduces_the_guides_scores_exactly():
    s1, s2 = forward_by_hand(GUIDE_NETWORK)
    np.testing.assert_allclose(s1, [1.2, -0.5, 0.8], atol=1e-12)
    np.testing.assert_allclose(s2, [2.1, -3.0, 1.5], atol=1e-12)
    result = run_network(GUIDE_NETWORK)
    np.testing.assert_allclose(result.s[1], [1.2, -0.5, 0.8], atol=1e-12)
    np.testing.assert_allclose(result.s[2], [2.1, -3.0, 1.5], atol=1e-12)


def test_both_guide_presets_hold_the_chained_network_with_class_3_of_3():
    guide = [p for p in PRESETS.values() if p.guide_printed]
    assert len(guide) == 2
    for preset in guide:
        assert preset.network == GUIDE_NETWORK
    assert GUIDE_NETWORK.target == 2 and GUIDE_NETWORK.eta == 0.5 and GUIDE_NETWORK.hidden == "relu"


# The guide's printed numbers, typed from the guide (not from the presets' data).
GUIDE_STEPS = [
    [8.166, 0.05, 4.482],
    [12.698],
    [0.643, 0.004, 0.353],
    [1.05],
    [0.64, 0.004, -0.65],
    [-0.389, -0.390, -0.391],
    [1, 0, 1],
    [-0.389, 0, -0.391],
    [[-0.194, 0.117, -0.078], [0, 0, 0], [-0.196, 0.117, -0.078]],
    [[0.397, 0.142, 0.139], [0.4, 0.1, 0.2], [0.198, 0.441, 0.339]],
    [0.802, 0.036, 0.162],
    [3.321],
    [[0.159, -0.029, -0.13], [-0.029, 0.035, -0.006], [-0.13, -0.006, 0.136]],
]


def test_every_worked_example_rounds_to_the_guides_printed_number():
    steps = guide_worked_examples()
    assert len(steps) == len(GUIDE_STEPS)
    for step, printed in zip(steps, GUIDE_STEPS, strict=True):
        np.testing.assert_array_equal(step.printed, printed, err_msg=step.name)
        assert np.all(np.abs(step.computed - np.array(printed)) <= 0.5e-3 + 1e-9), step.name
        assert step.agrees, step.name


def test_chained_network_differs_from_the_guide_only_where_it_rounds():
    printed = PRESETS["Guide: the chained 3-3-3 network"].guide_printed
    rows = {row.name: row for row in compare_with_guide(run_network(GUIDE_NETWORK), printed)}
    assert rows["s^(1)"].agrees and rows["s^(2)"].agrees and rows["a^(2)"].agrees
    assert not rows["delta^(1)"].agrees and not rows["C"].agrees
    # By hand: delta^(2) = softmax(s^(2)) - y, delta^(1) = (W^(2)T delta^(2)) * [1, 0, 1].
    e = np.exp([2.1, -3.0, 1.5])
    delta2 = e / e.sum() - [0, 0, 1]
    W2 = np.array(GUIDE_NETWORK.weights[1])
    delta1 = [sum(W2[k][i] * delta2[k] for k in range(3)) * m for i, m in enumerate([1, 0, 1])]
    np.testing.assert_allclose(rows["delta^(1)"].computed, delta1, atol=1e-12)
    np.testing.assert_allclose(np.round(delta1, 3), [-0.387, 0, -0.387])
    assert rows["C"].computed[0] == pytest.approx(-np.log(e[2] / e.sum()))


def test_sigmoid_preset_matches_mazurs_published_step():
    """Matt Mazur, 'A Step by Step Backpropagation Example' (2015): total error and the weights after one step."""
    result = run_network(PRESETS["Sigmoid network, squared error (2-2-2)"].network)
    assert result.loss == pytest.approx(0.298371109, abs=1e-9)
    np.testing.assert_allclose(result.W_new[2], [[0.35891648, 0.408666186], [0.511301270, 0.561370121]], atol=1e-8)
    np.testing.assert_allclose(result.W_new[1], [[0.149780716, 0.19956143], [0.24975114, 0.29950229]], atol=1e-8)


def test_random_network_has_the_widths_and_is_reproducible():
    net = random_network([4, 5, 3, 2], seed=7)
    assert net.widths == [4, 5, 3, 2]
    assert [np.shape(W) for W in net.weights] == [(5, 4), (3, 5), (2, 3)]
    assert [np.shape(b) for b in net.biases] == [(5,), (3,), (2,)]
    assert 0 <= net.target < 2
    assert random_network([4, 5, 3, 2], seed=7) == net
    assert random_network([4, 5, 3, 2], seed=8) != net
    flat = np.concatenate([np.ravel(W) for W in net.weights])
    np.testing.assert_allclose(flat, np.round(flat, 2))  # readable in the boxes
    with pytest.raises(ValueError, match="widths"):
        random_network([3], seed=0)
    with pytest.raises(ValueError, match="widths"):
        random_network([3, 0], seed=0)


def test_fit_to_shape_keeps_the_overlap_and_fills_the_rest():
    old = np.array([[1.0, 2.0], [3.0, 4.0]])
    fill = np.full((3, 1), 9.0)
    np.testing.assert_array_equal(fit_to_shape(old, fill), [[1.0], [3.0], [9.0]])
    np.testing.assert_array_equal(fit_to_shape(np.array([5.0]), np.zeros(3)), [5.0, 0.0, 0.0])
    np.testing.assert_array_equal(fit_to_shape(None, np.ones(2)), [1.0, 1.0])
    np.testing.assert_array_equal(fit_to_shape(np.array([1.0, 2.0]), np.zeros((2, 2))), np.zeros((2, 2)))


def test_agreement_is_half_a_unit_in_the_third_decimal():
    assert Comparison("x", {}, np.array([0.1945]), np.array([0.194])).agrees
    assert Comparison("x", {}, np.array([0.1955]), np.array([0.196])).agrees
    assert not Comparison("x", {}, np.array([0.1956]), np.array([0.195])).agrees
    assert not Comparison("x", {}, np.array([0.0, 0.0011]), np.array([0.0, 0.0])).agrees
