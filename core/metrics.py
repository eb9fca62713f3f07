"""What a trained softmax-regression model gets right and confuses: loss, accuracy and the confusion matrix.

Conventions
-----------
- ``cm[i, j]`` counts the samples whose true class is i and whose predicted class is j (rows = truth).
- A ratio whose denominator is zero (a class that never occurs, or is never predicted) is ``nan``, never 0:
  "undefined" must not read as "always wrong". It is computed without a RuntimeWarning.
- Per-class accuracy is one-vs-rest: ``(TP_i + TN_i) / N``, the fraction of all N samples on which the
  model is right about "is it class i?". The fraction of class i that is recognised is the recall.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from core.functions import mean_loss_and_accuracy, softmax
from core.validation import as_finite_array, as_labels

EVAL_BLOCK = 8192
"""Rows of X scored at a time by :func:`evaluate` (bounds the float64 temporary to about 50 MB for MNIST)."""


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` elementwise, ``nan`` where the denominator is 0 (no warning raised)."""
    out = np.full(np.broadcast(numerator, denominator).shape, np.nan)
    return np.divide(numerator, denominator, out=out, where=denominator != 0)


def _as_confusion(cm: object) -> np.ndarray:
    """Return ``cm`` as a square array of non-negative counts, or raise ``ValueError``."""
    arr = as_finite_array(cm, "confusion matrix", ndim=(2,))
    if arr.shape[0] != arr.shape[1]:
        raise ValueError(f"confusion matrix must be square; got shape {arr.shape}")
    if np.any(arr < 0):
        raise ValueError("confusion matrix must hold counts (no negative entries)")
    return arr


def confusion_matrix(y_true: object, y_pred: object, n_classes: int) -> np.ndarray:
    """Counts ``cm[i, j] = #{n : y_true[n] = i and y_pred[n] = j}``, a (n_classes, n_classes) int64 array."""
    if isinstance(n_classes, bool) or not isinstance(n_classes, int | np.integer) or n_classes < 1:
        raise ValueError(f"n_classes must be a positive integer; got {n_classes!r}")
    n_classes = int(n_classes)
    y_true = as_labels(y_true, "y_true", n_classes=n_classes)
    y_pred = as_labels(y_pred, "y_pred", n_classes=n_classes)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} labels but y_pred has {y_pred.size}")
    # Cell (i, j) is flat index i * K + j: one bincount counts every cell at once.
    flat = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes)


def row_normalised(cm: object) -> np.ndarray:
    """Each row divided by its total: ``cm[i, j] / sum_j cm[i, j]``, the share of class i predicted as j.

    A class with no samples gets a row of ``nan``.
    """
    cm = _as_confusion(cm)
    return _ratio(cm, cm.sum(axis=1, keepdims=True))


def per_class_metrics(cm: object) -> dict[str, np.ndarray]:
    """Per-class precision ``TP/(TP+FP)``, recall ``TP/(TP+FN)`` and one-vs-rest accuracy ``(TP+TN)/N``.

    Returns
    -------
    dict
        ``precision``, ``recall``, ``accuracy`` (float arrays, ``nan`` where undefined), ``support``
        (samples of each true class, row sums) and ``predicted`` (predictions of each class, column sums).
    """
    cm = _as_confusion(cm)
    tp = np.diag(cm)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    n = cm.sum()
    # TN_i = N - TP_i - FN_i - FP_i = N - support_i - predicted_i + TP_i.
    correct = n - support - predicted + 2 * tp
    return {
        "precision": _ratio(tp, predicted),
        "recall": _ratio(tp, support),
        "accuracy": _ratio(correct, np.full_like(tp, n)),
        "support": support,
        "predicted": predicted,
    }


class ConfusedPair(NamedTuple):
    """An off-diagonal cell: samples of class ``true`` predicted as class ``predicted``."""

    true: int
    predicted: int
    count: int


def most_confused_pairs(cm: object, k: int = 5) -> list[ConfusedPair]:
    """The ``k`` largest off-diagonal cells ``cm[i, j]`` (i != j) with a non-zero count, largest first.

    Ties are ordered by (i, j), so the result is deterministic.
    """
    cm = _as_confusion(cm)
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0:
        raise ValueError(f"k must be a non-negative integer; got {k!r}")
    off = cm.copy()
    np.fill_diagonal(off, 0)
    i, j = np.nonzero(off)
    order = np.lexsort((j, i, -off[i, j]))[:k]
    return [ConfusedPair(int(i[n]), int(j[n]), int(off[i[n], j[n]])) for n in order]


def cell_indices(y_true: object, y_pred: object, i: int, j: int) -> np.ndarray:
    """Indices n (ascending) of the samples behind cell (i, j): ``y_true[n] = i`` and ``y_pred[n] = j``."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D and equally long; got {y_true.shape} and {y_pred.shape}")
    return np.flatnonzero((y_true == i) & (y_pred == j))


@dataclass(frozen=True)
class Evaluation:
    """A model's mean cross-entropy loss and accuracy on a set, with its predictions.

    ``y_pred[n]`` is the predicted class of sample n and ``probabilities[n]`` its softmax output ``a``.
    """

    loss: float
    accuracy: float
    y_pred: np.ndarray
    probabilities: np.ndarray


def evaluate(W: object, b: object, X: object, y: object) -> Evaluation:
    """Loss ``C = -(1/N) sum_n ln a_{y_n}`` and accuracy of ``s = W x + b`` on the rows of ``X``.

    Parameters
    ----------
    W : array-like, shape (K, D)
        Weights, one row per class.
    b : array-like, shape (K,)
        Biases.
    X : array-like, shape (N, D)
        One flattened sample per row (any numeric dtype; not copied to float64).
    y : array-like of int, shape (N,)
        True classes.
    """
    W = as_finite_array(W, "W", ndim=(2,))
    K, D = W.shape
    b = as_finite_array(b, "b", shape=(K,))
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != D:
        raise ValueError(f"X has shape {X.shape}; expected (N, {D}) to match W of shape {W.shape}")
    if X.shape[0] == 0:
        raise ValueError("X has no samples")
    if X.dtype.kind not in "fiu":
        raise ValueError(f"X must hold numbers; got dtype {X.dtype}")
    if X.dtype.kind == "f" and not np.isfinite(X).all():
        raise ValueError("X contains NaN or infinite values")
    y = as_labels(y, "y", n_classes=K)
    if y.size != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} samples but y has {y.size} labels")
    # Row blocks: a float32 or uint8 X is up-cast to float64 one block at a time, never as a whole copy.
    s = np.concatenate([X[n : n + EVAL_BLOCK] @ W.T for n in range(0, X.shape[0], EVAL_BLOCK)]) + b
    loss, accuracy = mean_loss_and_accuracy(s, y)
    return Evaluation(
        loss=loss,
        accuracy=accuracy,
        y_pred=s.argmax(axis=1),
        probabilities=softmax(s),
    )


def train_test_comparison(
    W: object, b: object, X_train: object, y_train: object, X_test: object, y_test: object
) -> dict[str, Evaluation | dict[str, float]]:
    """Train and test evaluations side by side, and the generalisation gap between them.

    Returns
    -------
    dict
        ``train`` and ``test`` (:class:`Evaluation`), and ``gap`` with ``loss`` = test loss - train loss and
        ``accuracy`` = train accuracy - test accuracy (both positive when the model fits its training set better).
    """
    train = evaluate(W, b, X_train, y_train)
    test = evaluate(W, b, X_test, y_test)
    return {
        "train": train,
        "test": test,
        "gap": {"loss": test.loss - train.loss, "accuracy": train.accuracy - test.accuracy},
    }
