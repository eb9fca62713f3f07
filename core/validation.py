"""Input checks shared by every ``core`` function: clear ``ValueError``s that name what was wrong."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def as_finite_array(
    x: object,
    name: str,
    ndim: Sequence[int] | None = None,
    shape: tuple[int, ...] | None = None,
) -> np.ndarray:
    """Return ``x`` as a float64 array, or raise ``ValueError`` naming ``name`` and the problem.

    Parameters
    ----------
    x : array-like
        The values to check.
    name : str
        How the message refers to ``x`` (e.g. ``"W^(2)"``).
    ndim : sequence of int, optional
        Allowed numbers of dimensions.
    shape : tuple of int, optional
        The exact shape required.
    """
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must hold numbers only ({exc})") from None
    if ndim is not None and arr.ndim not in ndim:
        allowed = " or ".join(f"{d}-D" for d in ndim)
        raise ValueError(f"{name} must be {allowed}; got an array of shape {arr.shape}")
    if shape is not None and arr.shape != tuple(shape):
        raise ValueError(f"{name} has shape {arr.shape}; expected {tuple(shape)}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def as_target(y: object, shape: tuple[int, ...]) -> np.ndarray:
    """Return the target as an array of ``shape``: an integer class becomes a one-hot vector.

    For a 2-D ``shape`` (one row per sample) ``y`` may be a vector of integer classes.
    """
    n_classes = shape[-1]
    y_arr = np.asarray(y)
    is_class = y_arr.ndim == len(shape) - 1 and np.issubdtype(y_arr.dtype, np.integer)
    if is_class:
        if y_arr.shape != shape[:-1]:
            raise ValueError(f"y has shape {y_arr.shape}; expected {shape[:-1]} class indices")
        if np.any((y_arr < 0) | (y_arr >= n_classes)):
            raise ValueError(f"class index out of range: y must be in 0..{n_classes - 1}")
        return np.eye(n_classes)[y_arr]
    return as_finite_array(y, "y", shape=shape)


def as_labels(y: object, name: str, n: int | None = None, n_classes: int | None = None) -> np.ndarray:
    """Return ``y`` as a 1-D integer array of class labels (of length ``n`` and in ``0..n_classes-1`` when given).

    Raises ``ValueError`` naming ``name`` and the problem.
    """
    arr = np.asarray(y)
    if arr.ndim != 1 or (n is not None and len(arr) != n):
        count = "" if n is None else f"{n} "
        raise ValueError(f"{name} must be a 1-D array of {count}class labels; got shape {arr.shape}")
    if arr.size == 0:
        return arr.astype(np.intp)
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must hold integer class labels; got dtype {arr.dtype}")
    if n_classes is not None and (arr.min() < 0 or arr.max() >= n_classes):
        raise ValueError(f"{name} has a class label out of range: classes are 0..{n_classes - 1}")
    if arr.min() < 0:
        raise ValueError(f"{name} has a negative class label")
    return arr.astype(np.intp, copy=False)
