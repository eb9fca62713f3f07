"""A trained softmax-regression model as the homework's model dictionary, with its measured performance.

The one place that turns weights (a ``Trainer`` of the race or of the command line) into the ``model_data``
dictionary that ``core.persistence.save_model`` writes: W, b, n_features, n_classes, the hyperparameters, and
the loss and accuracy measured by ``core.metrics.evaluate`` on the dataset's training and test splits.
Also the checks and small computations the Weight Templates and Confusion Matrix pages share.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from core.metrics import cell_indices, evaluate

if TYPE_CHECKING:
    from core.data import Dataset
    from core.training import Trainer


def measured_performance(W: np.ndarray, b: np.ndarray, dataset: Dataset) -> dict[str, float]:
    """Mean cross-entropy ``C = -(1/N) sum_n ln a_{y_n}`` and accuracy of ``s = W x + b`` on each split.

    Returns
    -------
    dict
        ``train_loss``, ``train_accuracy``, ``test_loss``, ``test_accuracy`` (the homework's four), plus
        ``val_loss`` and ``val_accuracy`` when the dataset has a validation split.
    """
    performance = {}
    for split in ("train", "test", "val"):
        X, y = getattr(dataset, f"X_{split}"), getattr(dataset, f"y_{split}")
        if len(y):
            result = evaluate(W, b, X, y)
            performance[f"{split}_loss"], performance[f"{split}_accuracy"] = result.loss, result.accuracy
    return performance


def check_compatible(n_features: int, n_classes: int, dataset: Dataset) -> None:
    """Raise ``ValueError`` naming both sizes when a model's W (n_classes x n_features) does not fit the dataset."""
    if n_features != dataset.n_features or n_classes != dataset.n_classes:
        h, w = dataset.image_shape
        raise ValueError(
            f"the model has n_features = {n_features} and n_classes = {n_classes}, but the dataset "
            f"{dataset.name} has {dataset.n_features} pixels per image ({h}x{w}) and {dataset.n_classes} classes"
        )


def model_data_from(W: np.ndarray, b: np.ndarray, dataset: Dataset, hyperparameters: Mapping) -> dict:
    """The homework's model dictionary for weights W (K, D) and b (K,) trained on ``dataset``.

    Parameters
    ----------
    W, b : ndarray
        The model ``s = W x + b``; copied as float64, so later training does not change the dictionary.
    dataset : Dataset
        The data it was trained on: its performance is measured on its splits (see
        :func:`measured_performance`), and its image shape, class names, name and pixel scale are recorded.
    hyperparameters : mapping
        At least ``learning_rate``, ``batch_size`` and ``n_iterations`` (the homework's three).

    Raises
    ------
    ValueError
        W or b do not fit the dataset, or hold NaN or infinite values (a diverged model).
    """
    W, b = np.array(W, dtype=np.float64), np.array(b, dtype=np.float64)
    if W.ndim != 2 or b.shape != (W.shape[0],):
        raise ValueError(f"W must be (K, D) and b (K,); got W {W.shape} and b {b.shape}")
    check_compatible(W.shape[1], W.shape[0], dataset)
    if not (np.isfinite(W).all() and np.isfinite(b).all()):
        raise ValueError("the weights hold NaN or infinite values (the model diverged); there is no model to save")
    return {
        "W": W,
        "b": b,
        "n_features": dataset.n_features,
        "n_classes": dataset.n_classes,
        "hyperparameters": dict(hyperparameters),
        "performance": measured_performance(W, b, dataset),
        "image_shape": tuple(dataset.image_shape),
        "class_names": list(dataset.class_names),
        "dataset": dataset.name,
        "pixel_scale": float(dataset.pixel_scale),
    }


def trainer_hyperparameters(trainer: Trainer) -> dict[str, float | int | str | bool]:
    """A trainer's settings in the file's names: learning_rate (eta0), batch_size (B), n_iterations (updates done).

    Also ``schedule`` and its parameters, ``epochs`` (epochs done, fractional mid-epoch: samples seen / N),
    ``seed`` and ``shuffle``.
    """
    return {
        "learning_rate": trainer.eta0,
        "batch_size": trainer.batch_size,
        "n_iterations": trainer.update,
        "schedule": trainer.schedule,
        "epochs": trainer.samples / len(trainer.X),
        "seed": trainer.seed,
        "shuffle": trainer.shuffle,
        **trainer.schedule_params,
    }


def trainer_model_data(trainer: Trainer, dataset: Dataset) -> dict:
    """The model dictionary of a trainer's current weights, trained on ``dataset`` (see :func:`model_data_from`)."""
    return model_data_from(trainer.model.W, trainer.model.b, dataset, trainer_hyperparameters(trainer))


def template_shape(n_features: int, image_shape: tuple[int, ...] | None = None) -> tuple[int, int]:
    """The 2-D shape to draw a weight vector w_i (length D) as an image.

    The recorded ``image_shape`` when it holds D pixels, else a square when D is a perfect square, else one row.
    """
    if image_shape is not None and len(image_shape) == 2 and math.prod(image_shape) == n_features:
        return int(image_shape[0]), int(image_shape[1])
    side = math.isqrt(n_features)
    return (side, side) if side * side == n_features else (1, n_features)


def template_difference(W: np.ndarray, i: int, j: int) -> np.ndarray:
    """``w_i - w_j``: the score difference ``s_i - s_j = (w_i - w_j) . x + (b_i - b_j)`` reads x through it."""
    W = np.asarray(W)
    K = W.shape[0]
    if not (0 <= i < K and 0 <= j < K):
        raise ValueError(f"classes must be in 0..{K - 1}; got i = {i}, j = {j}")
    return W[i].astype(np.float64) - W[j]


def cell_examples(y_true: np.ndarray, y_pred: np.ndarray, probabilities: np.ndarray, i: int, j: int) -> np.ndarray:
    """Indices of the samples of true class i predicted as j (``core.metrics.cell_indices``), largest a_j first.

    For an off-diagonal cell the most confident mistakes come first; ties keep the samples' order.
    """
    idx = cell_indices(y_true, y_pred, i, j)
    return idx[np.argsort(-np.asarray(probabilities)[idx, j], kind="stable")]
