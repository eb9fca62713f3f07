"""Confusion matrix, per-class metrics and evaluation, against plain loops and hand-derived cases."""

import math
import warnings

import numpy as np
import pytest

from core import metrics
from core.metrics import (
    ConfusedPair,
    cell_indices,
    confusion_matrix,
    evaluate,
    most_confused_pairs,
    per_class_metrics,
    row_normalised,
    train_test_comparison,
)

NAN = float("nan")


def loop_confusion(y_true, y_pred, K):
    cm = [[0] * K for _ in range(K)]
    for t, p in zip(y_true, y_pred, strict=True):
        cm[t][p] += 1
    return cm


def loop_metrics(y_true, y_pred, K):
    """Precision, recall and one-vs-rest accuracy by counting samples one at a time (nan when undefined)."""
    precision, recall, accuracy = [], [], []
    for k in range(K):
        tp = fp = fn = tn = 0
        for t, p in zip(y_true, y_pred, strict=True):
            if t == k and p == k:
                tp += 1
            elif p == k:
                fp += 1
            elif t == k:
                fn += 1
            else:
                tn += 1
        precision.append(tp / (tp + fp) if tp + fp else NAN)
        recall.append(tp / (tp + fn) if tp + fn else NAN)
        accuracy.append((tp + tn) / len(y_true) if len(y_true) else NAN)
    return precision, recall, accuracy


def random_labels(seed, n=400, K=7):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, K, n)
    # Mostly right, sometimes wrong, and class K-1 is never predicted (a zero column).
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, K, n))
    y_pred[y_pred == K - 1] = 0
    return y_true, y_pred, K


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_confusion_matrix_and_per_class_metrics_match_a_plain_loop(seed):
    y_true, y_pred, K = random_labels(seed)
    cm = confusion_matrix(y_true, y_pred, K)
    assert cm.dtype.kind == "i"
    np.testing.assert_array_equal(cm, loop_confusion(y_true.tolist(), y_pred.tolist(), K))
    precision, recall, accuracy = loop_metrics(y_true.tolist(), y_pred.tolist(), K)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metrics = per_class_metrics(cm)
        normalised = row_normalised(cm)
    np.testing.assert_allclose(metrics["precision"], precision, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(metrics["recall"], recall, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(metrics["accuracy"], accuracy, rtol=1e-12)
    assert math.isnan(metrics["precision"][K - 1])  # never predicted: undefined, not 0
    np.testing.assert_array_equal(metrics["support"], [sum(t == k for t in y_true) for k in range(K)])
    np.testing.assert_array_equal(metrics["predicted"], [sum(p == k for p in y_pred) for k in range(K)])
    for i in range(K):
        row_total = sum(1 for t in y_true if t == i)
        for j in range(K):
            count = sum(1 for t, p in zip(y_true, y_pred, strict=True) if t == i and p == j)
            assert normalised[i, j] == pytest.approx(count / row_total, rel=1e-12)


def test_a_small_case_derived_by_hand():
    # 6 samples, 4 classes; class 3 neither occurs nor is predicted.
    y_true = [0, 0, 1, 2, 2, 2]
    y_pred = [0, 1, 1, 2, 0, 2]
    cm = confusion_matrix(y_true, y_pred, 4)
    np.testing.assert_array_equal(cm, [[1, 1, 0, 0], [0, 1, 0, 0], [1, 0, 2, 0], [0, 0, 0, 0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metrics = per_class_metrics(cm)
        normalised = row_normalised(cm)
    np.testing.assert_allclose(metrics["precision"], [1 / 2, 1 / 2, 1, NAN], equal_nan=True)
    np.testing.assert_allclose(metrics["recall"], [1 / 2, 1, 2 / 3, NAN], equal_nan=True)
    # (TP + TN) / N: class 0 has TP 1, TN 3; class 1 TP 1, TN 4; class 2 TP 2, TN 3; class 3 TN 6.
    np.testing.assert_allclose(metrics["accuracy"], [4 / 6, 5 / 6, 5 / 6, 1])
    np.testing.assert_allclose(
        normalised, [[1 / 2, 1 / 2, 0, 0], [0, 1, 0, 0], [1 / 3, 0, 2 / 3, 0], [NAN] * 4], equal_nan=True
    )
    assert most_confused_pairs(cm, 5) == [(0, 1, 1), (2, 0, 1)]
    np.testing.assert_array_equal(cell_indices(y_true, y_pred, 2, 0), [4])
    np.testing.assert_array_equal(cell_indices(y_true, y_pred, 2, 2), [3, 5])
    assert cell_indices(y_true, y_pred, 3, 3).size == 0


def test_most_confused_pairs_are_the_largest_off_diagonal_cells():
    cm = np.array([[50, 3, 7, 0], [3, 40, 0, 9], [1, 0, 60, 2], [0, 9, 0, 30]])
    pairs = most_confused_pairs(cm, 3)
    assert pairs == [(1, 3, 9), (3, 1, 9), (0, 2, 7)]  # ties ordered by (true, predicted)
    assert pairs[0] == ConfusedPair(true=1, predicted=3, count=9)
    assert len(most_confused_pairs(cm, 100)) == 7  # only the non-zero off-diagonal cells
    assert most_confused_pairs(cm, 0) == []
    assert most_confused_pairs(np.diag([5, 5]), 3) == []


@pytest.mark.parametrize("seed", [0, 1])
def test_most_confused_pairs_match_a_sort_of_every_cell(seed):
    y_true, y_pred, K = random_labels(seed)
    cm = loop_confusion(y_true.tolist(), y_pred.tolist(), K)
    cells = sorted((-cm[i][j], i, j) for i in range(K) for j in range(K) if i != j and cm[i][j] > 0)
    expected = [(i, j, -neg) for neg, i, j in cells[:5]]
    assert most_confused_pairs(confusion_matrix(y_true, y_pred, K), 5) == expected


def test_cell_indices_match_a_loop_and_rebuild_the_matrix():
    y_true, y_pred, K = random_labels(5)
    cm = confusion_matrix(y_true, y_pred, K)
    for i in range(K):
        for j in range(K):
            expected = [n for n in range(len(y_true)) if y_true[n] == i and y_pred[n] == j]
            found = cell_indices(y_true, y_pred, i, j)
            assert found.tolist() == expected
            assert found.size == cm[i, j]


def test_an_empty_set_gives_zero_counts_and_nan_ratios():
    cm = confusion_matrix([], [], 3)
    np.testing.assert_array_equal(cm, np.zeros((3, 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metrics = per_class_metrics(cm)
    for key in ("precision", "recall", "accuracy"):
        assert np.isnan(metrics[key]).all()


@pytest.mark.parametrize(
    ("y_true", "y_pred", "n_classes", "message"),
    [
        ([0, 1], [0], 2, "y_true has 2 labels but y_pred has 1"),
        ([0, 2], [0, 1], 2, "y_true has a class label out of range: classes are 0..1"),
        ([0, 1], [0, -1], 2, "y_pred has a class label out of range"),
        ([0.0, 1.0], [0, 1], 2, "y_true must hold integer class labels"),
        ([[0, 1]], [[0, 1]], 2, "y_true must be a 1-D array"),
        ([0], [0], 0, "n_classes must be a positive integer"),
    ],
)
def test_bad_labels_raise_value_errors(y_true, y_pred, n_classes, message):
    with pytest.raises(ValueError, match=message):
        confusion_matrix(y_true, y_pred, n_classes)


def test_bad_confusion_matrices_raise_value_errors():
    with pytest.raises(ValueError, match="must be square"):
        per_class_metrics(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="no negative entries"):
        row_normalised([[1, -1], [0, 1]])
    with pytest.raises(ValueError, match="k must be a non-negative integer"):
        most_confused_pairs(np.eye(2), -1)


def loop_evaluate(W, b, X, y):
    """Loss and accuracy one sample at a time with math.exp/log (log-sum-exp written out)."""
    K, D = len(W), len(W[0])
    total, correct, probabilities = 0.0, 0, []
    for x, target in zip(X, y, strict=True):
        s = [sum(W[k][d] * x[d] for d in range(D)) + b[k] for k in range(K)]
        m = max(s)
        log_sum = m + math.log(sum(math.exp(v - m) for v in s))
        total += log_sum - s[target]
        correct += s.index(m) == target
        probabilities.append([math.exp(v - log_sum) for v in s])
    return total / len(y), correct / len(y), probabilities


def test_evaluate_matches_a_plain_loop():
    rng = np.random.default_rng(11)
    W, b = rng.normal(size=(4, 6)), rng.normal(size=4)
    X, y = rng.random((30, 6)), rng.integers(0, 4, 30)
    loss, accuracy, probabilities = loop_evaluate(W.tolist(), b.tolist(), X.tolist(), y.tolist())
    result = evaluate(W, b, X, y)
    assert result.loss == pytest.approx(loss, rel=1e-12)
    assert result.accuracy == accuracy
    np.testing.assert_allclose(result.probabilities, probabilities, rtol=1e-12)
    np.testing.assert_array_equal(result.y_pred, [int(np.argmax(p)) for p in probabilities])


def test_evaluate_stays_finite_for_huge_scores():
    # s = W x + b reaches 2000: a naive softmax overflows, the log-sum-exp loss is exact.
    W = np.array([[1000.0, 0.0], [0.0, 1000.0]])
    X = np.array([[2.0, 0.0], [0.0, 2.0]])
    result = evaluate(W, np.zeros(2), X, [1, 1])
    assert result.loss == pytest.approx(1000.0)  # sample 0: 2000 - 0; sample 1: 0
    assert result.accuracy == 0.5


def test_evaluate_scores_in_blocks_without_changing_the_result(monkeypatch):
    rng = np.random.default_rng(6)
    W, b = rng.normal(size=(3, 5)), rng.normal(size=3)
    X, y = rng.random((23, 5)).astype(np.float32), rng.integers(0, 3, 23)
    whole = evaluate(W, b, X, y)
    monkeypatch.setattr(metrics, "EVAL_BLOCK", 4)  # 23 rows: five full blocks and a partial one
    blocked = evaluate(W, b, X, y)
    assert blocked.loss == pytest.approx(whole.loss, rel=1e-12) and blocked.accuracy == whole.accuracy
    np.testing.assert_array_equal(blocked.y_pred, whole.y_pred)
    loss, accuracy, _ = loop_evaluate(W.tolist(), b.tolist(), X.astype(float).tolist(), y.tolist())
    assert blocked.loss == pytest.approx(loss, rel=1e-12) and blocked.accuracy == accuracy


def test_evaluate_accepts_uint8_images():
    rng = np.random.default_rng(2)
    W, b = rng.normal(size=(3, 5)), rng.normal(size=3)
    X = rng.integers(0, 256, (8, 5), dtype=np.uint8)
    y = rng.integers(0, 3, 8)
    assert evaluate(W, b, X, y).loss == pytest.approx(evaluate(W, b, X.astype(float), y).loss, rel=1e-12)


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        (np.zeros((3, 5)), [0, 1, 2], r"X has shape \(3, 5\); expected \(N, 4\)"),
        (np.full((3, 4), np.nan), [0, 1, 2], "X contains NaN"),
        (np.zeros((3, 4)), [0, 1], "X has 3 samples but y has 2 labels"),
        (np.zeros((3, 4)), [0, 1, 3], "class label out of range"),
        (np.zeros((0, 4)), [], "X has no samples"),
    ],
)
def test_evaluate_rejects_bad_input(X, y, message):
    with pytest.raises(ValueError, match=message):
        evaluate(np.zeros((3, 4)), np.zeros(3), X, y)


def test_train_test_comparison_reports_both_sets_and_the_gap():
    rng = np.random.default_rng(8)
    W, b = rng.normal(size=(3, 4)), rng.normal(size=3)
    X_train, y_train = rng.random((20, 4)), rng.integers(0, 3, 20)
    X_test, y_test = rng.random((10, 4)), rng.integers(0, 3, 10)
    result = train_test_comparison(W, b, X_train, y_train, X_test, y_test)
    train_loss, train_acc, _ = loop_evaluate(W.tolist(), b.tolist(), X_train.tolist(), y_train.tolist())
    test_loss, test_acc, _ = loop_evaluate(W.tolist(), b.tolist(), X_test.tolist(), y_test.tolist())
    assert result["train"].loss == pytest.approx(train_loss) and result["test"].accuracy == test_acc
    assert result["gap"]["loss"] == pytest.approx(test_loss - train_loss)
    assert result["gap"]["accuracy"] == pytest.approx(train_acc - test_acc)
