"""Trained softmax-regression models as HDF5 files in the homework's layout (the only h5py user in ``core``).

File layout (format version 1; anyone with h5py can read it without this project)::

    /W                  dataset float64 (n_classes, n_features)   weights, one row per class
    /b                  dataset float64 (n_classes,)              biases
    /n_features         dataset int64 scalar
    /n_classes          dataset int64 scalar
    /hyperparameters/   group of scalar datasets: learning_rate (float), batch_size, n_iterations, epochs,
                        seed (int), schedule (UTF-8 string), plus any other scalar setting (bool/int/float/str)
    /performance/       group of float64 scalar datasets: train_accuracy, test_accuracy, train_loss, test_loss
                        (plus any other measured number)
    root attributes     format_version (int, 1), image_shape (int array), class_names (UTF-8 strings),
                        dataset (string), pixel_scale (float: x = raw pixel value / pixel_scale)

The model dictionary (``model_data``) has the keys ``W``, ``b``, ``n_features``, ``n_classes``,
``hyperparameters`` (dict), ``performance`` (dict) and optionally ``image_shape`` (tuple of int),
``class_names`` (list of str), ``dataset`` (str), ``pixel_scale`` (float). Optional keys absent from the
dictionary are absent from the file; :func:`load_model` returns exactly the dictionary that was saved.

Loading validates before it trusts: the size limit and the HDF5 signature are checked before h5py opens the
source, every shape and dtype from the metadata before any array is read, and every value afterwards.
Files written by other programs load too if they follow the homework's layout: there only the homework's
hyperparameters (learning_rate, batch_size, n_iterations) are required, and settings may be group attributes.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

import h5py
import numpy as np

FORMAT_VERSION = 1
"""Version of the layout above written into every file (root attribute ``format_version``)."""

MAX_FILE_BYTES = 64 * 1024 * 1024
"""Sources larger than 64 MiB are refused before they are read (MNIST's W and b take about 63 KB)."""

MAX_PARAMETERS = MAX_FILE_BYTES // 8
"""At most this many entries in W (64 MiB of float64): guards against small files declaring huge datasets."""

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"

HOMEWORK_HYPERPARAMETERS = ("learning_rate", "batch_size", "n_iterations")
HYPERPARAMETERS = (*HOMEWORK_HYPERPARAMETERS, "schedule", "epochs", "seed")
PERFORMANCE = ("train_accuracy", "test_accuracy", "train_loss", "test_loss")
METADATA = ("image_shape", "class_names", "dataset", "pixel_scale")

Source = str | os.PathLike | bytes | bytearray | memoryview | BinaryIO


class ModelFileError(ValueError):
    """A model file or model dictionary that is not a valid model; the message names the problem."""


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _is_real(value: object) -> bool:
    return _is_int(value) or isinstance(value, float | np.floating)


def _scalar(value: object, where: str) -> bool | int | float | str:
    """``value`` as a plain Python bool, int, float (finite) or str, or raise ``ModelFileError``."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if _is_int(value):
        return int(value)
    if isinstance(value, float | np.floating):
        if not math.isfinite(value):
            raise ModelFileError(f"{where} is {value}; it must be a finite number")
        return float(value)
    if isinstance(value, str):
        return value
    raise ModelFileError(f"{where} must be a number or a string; got {type(value).__name__}")


def _check_shape(name: str, shape: tuple[int, ...], expected: tuple[int, ...]) -> None:
    """W must be (n_classes, n_features) and b (n_classes,); say which one disagrees, and with what."""
    if shape != expected:
        sizes = f"n_classes = {expected[0]}" + (f", n_features = {expected[1]}" if len(expected) == 2 else "")
        raise ModelFileError(f"{name} has shape {shape}; expected {expected} for {sizes}")


def _check_model(model_data: Mapping) -> dict:
    """Validate a model dictionary and return it with plain Python types and float64 arrays."""
    if not isinstance(model_data, Mapping):
        raise ModelFileError(f"model_data must be a dictionary; got {type(model_data).__name__}")
    required = ("W", "b", "n_features", "n_classes", "hyperparameters", "performance")
    missing = [key for key in required if key not in model_data]
    if missing:
        raise ModelFileError(f"the model is missing {', '.join(missing)}")
    unknown = sorted(set(model_data) - set(required) - set(METADATA))
    if unknown:
        raise ModelFileError(f"unknown model keys: {', '.join(map(str, unknown))}")

    n_features, n_classes = model_data["n_features"], model_data["n_classes"]
    for name, value in (("n_features", n_features), ("n_classes", n_classes)):
        if not _is_int(value) or value < 1:
            raise ModelFileError(f"{name} must be a positive integer; got {value!r}")
    n_features, n_classes = int(n_features), int(n_classes)
    if n_features * n_classes > MAX_PARAMETERS:
        raise ModelFileError(
            f"W would have {n_classes} x {n_features} entries, more than the limit of {MAX_PARAMETERS:,}"
        )
    W, b = np.asarray(model_data["W"]), np.asarray(model_data["b"])
    for name, arr, shape in (("W", W, (n_classes, n_features)), ("b", b, (n_classes,))):
        if arr.dtype.kind not in "fiu":
            raise ModelFileError(f"{name} must hold real numbers; got dtype {arr.dtype}")
        _check_shape(name, arr.shape, shape)
        if not np.isfinite(arr).all():
            raise ModelFileError(f"{name} contains NaN or infinite values")
    out = {"W": W.astype(np.float64), "b": b.astype(np.float64), "n_features": n_features, "n_classes": n_classes}

    for group, needed in (("hyperparameters", HOMEWORK_HYPERPARAMETERS), ("performance", PERFORMANCE)):
        values = model_data[group]
        if not isinstance(values, Mapping):
            raise ModelFileError(f"{group} must be a dictionary; got {type(values).__name__}")
        missing = [key for key in needed if key not in values]
        if missing:
            raise ModelFileError(f"{group} is missing {', '.join(missing)}")
        bad = [key for key in values if not isinstance(key, str) or not key or "/" in key or key == "."]
        if bad:
            raise ModelFileError(f"{group} has invalid names {bad!r}: use non-empty strings without '/'")
        out[group] = {key: _scalar(value, f"{group}/{key}") for key, value in values.items()}
    _check_settings(out["hyperparameters"])
    for key, value in out["performance"].items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ModelFileError(f"performance/{key} must be a number; got {value!r}")
        out["performance"][key] = float(value)
        if key.endswith("accuracy") and not 0.0 <= value <= 1.0:
            raise ModelFileError(f"performance/{key} is {value}; an accuracy lies in [0, 1]")
        if key.endswith("loss") and value < 0:
            raise ModelFileError(f"performance/{key} is {value}; a cross-entropy loss is never negative")

    out.update(_check_metadata(model_data, n_features, n_classes))
    return out


def _check_settings(hp: dict) -> None:
    """The known hyperparameters must have sensible types and ranges."""
    lr = hp["learning_rate"]
    if not _is_real(lr) or lr <= 0:
        raise ModelFileError(f"hyperparameters/learning_rate must be a positive number; got {lr!r}")
    hp["learning_rate"] = float(lr)
    for key, low in (("batch_size", 1), ("n_iterations", 0), ("seed", 0)):
        if key in hp and (not _is_int(hp[key]) or hp[key] < low):
            raise ModelFileError(f"hyperparameters/{key} must be an integer >= {low}; got {hp[key]!r}")
    if "epochs" in hp and (not _is_real(hp["epochs"]) or hp["epochs"] < 0):
        raise ModelFileError(f"hyperparameters/epochs must be a number >= 0; got {hp['epochs']!r}")
    if "schedule" in hp and not isinstance(hp["schedule"], str):
        raise ModelFileError(f"hyperparameters/schedule must be a string; got {hp['schedule']!r}")


def _check_metadata(model_data: Mapping, n_features: int, n_classes: int) -> dict:
    """Validate the optional keys that make a file usable later; return the ones present."""
    out = {}
    if "image_shape" in model_data:
        shape = model_data["image_shape"]
        if (
            isinstance(shape, str)
            or not hasattr(shape, "__len__")
            or len(shape) == 0
            or not all(_is_int(n) and n > 0 for n in shape)
        ):
            raise ModelFileError(f"image_shape must be a sequence of positive integers; got {shape!r}")
        if math.prod(int(n) for n in shape) != n_features:
            raise ModelFileError(f"image_shape {tuple(shape)} does not hold n_features = {n_features} pixels")
        out["image_shape"] = tuple(int(n) for n in shape)
    if "class_names" in model_data:
        names = model_data["class_names"]
        if not isinstance(names, list | tuple | np.ndarray) or not all(isinstance(name, str) for name in names):
            raise ModelFileError("class_names must be a list of strings")
        if len(names) != n_classes:
            raise ModelFileError(f"class_names has {len(names)} names for n_classes = {n_classes}")
        out["class_names"] = [str(name) for name in names]
    if "dataset" in model_data:
        if not isinstance(model_data["dataset"], str):
            raise ModelFileError(f"dataset must be a string; got {model_data['dataset']!r}")
        out["dataset"] = str(model_data["dataset"])
    if "pixel_scale" in model_data:
        scale = model_data["pixel_scale"]
        if not _is_real(scale) or not math.isfinite(scale) or scale <= 0:
            raise ModelFileError(f"pixel_scale must be a positive number; got {scale!r}")
        out["pixel_scale"] = float(scale)
    return out


def _write(model: dict, f: h5py.File) -> None:
    """Write a validated model dictionary into an open, empty HDF5 file."""
    f.create_dataset("W", data=model["W"])
    f.create_dataset("b", data=model["b"])
    f.create_dataset("n_features", data=np.int64(model["n_features"]))
    f.create_dataset("n_classes", data=np.int64(model["n_classes"]))
    for group in ("hyperparameters", "performance"):
        g = f.create_group(group)
        for key, value in model[group].items():
            g.create_dataset(key, data=value)
    f.attrs["format_version"] = np.int64(FORMAT_VERSION)
    if "image_shape" in model:
        f.attrs["image_shape"] = np.asarray(model["image_shape"], dtype=np.int64)
    if "class_names" in model:
        f.attrs.create("class_names", model["class_names"], dtype=h5py.string_dtype())
    for key in ("dataset", "pixel_scale"):
        if key in model:
            f.attrs[key] = model[key]


def save_model(model_data: Mapping, target: str | os.PathLike | BinaryIO | None = None) -> bytes | None:
    """Write ``model_data`` as an HDF5 file in the homework's layout.

    Parameters
    ----------
    model_data : mapping
        The model dictionary (see the module docstring); validated before anything is written.
    target : str, path, writable binary file object, or None
        Where to write. ``None`` returns the file's bytes (for a download button).

    Returns
    -------
    bytes or None
        The file's bytes when ``target`` is None, else None.
    """
    model = _check_model(model_data)
    if isinstance(target, str | os.PathLike):
        with h5py.File(target, "w") as f:
            _write(model, f)
        return None
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        _write(model, f)
    # Only a closed h5py.File has flushed everything into the buffer.
    data = buffer.getvalue()
    if target is None:
        return data
    target.write(data)
    return None


def _size(source: Source) -> int:
    """The size in bytes of a path, a bytes-like object or a seekable binary file object, without reading it."""
    if isinstance(source, str | os.PathLike):
        try:
            return Path(source).stat().st_size
        except OSError as exc:
            raise ModelFileError(f"cannot open the model file: {exc}") from None
    if isinstance(source, bytes | bytearray | memoryview):
        return memoryview(source).nbytes
    if not (hasattr(source, "read") and hasattr(source, "seek")):
        raise ModelFileError(f"cannot read a model from a {type(source).__name__}; give a path, bytes or a file")
    # h5py reads a file object from its start, so the whole object is what counts.
    size = source.seek(0, io.SEEK_END)
    source.seek(0)
    return size


def _check_signature(head: bytes) -> None:
    if not head.startswith(HDF5_SIGNATURE):
        raise ModelFileError("not an HDF5 file: it does not start with the HDF5 signature")


def _open(source: Source) -> h5py.File:
    """Check the size limit and the signature, then open ``source`` read-only with h5py."""
    size = _size(source)
    if size > MAX_FILE_BYTES:
        raise ModelFileError(
            f"the model file is too large: {size:,} bytes, over the limit of {MAX_FILE_BYTES:,} bytes (64 MiB)"
        )
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as fh:
            _check_signature(fh.read(len(HDF5_SIGNATURE)))
        return h5py.File(source, "r")
    if isinstance(source, bytes | bytearray | memoryview):
        _check_signature(bytes(source[: len(HDF5_SIGNATURE)]))
        return h5py.File(io.BytesIO(bytes(source)), "r")
    _check_signature(source.read(len(HDF5_SIGNATURE)))
    source.seek(0)
    return h5py.File(source, "r")


def _dataset(parent: h5py.Group, name: str, where: str) -> h5py.Dataset:
    """The dataset ``name`` stored in this file (no links elsewhere, no external or virtual storage)."""
    if name not in parent:
        raise ModelFileError(f"the file has no {where}")
    link = parent.get(name, getlink=True)
    obj = parent[name] if isinstance(link, h5py.HardLink) else None
    if not isinstance(obj, h5py.Dataset):
        raise ModelFileError(f"{where} must be a dataset stored in the file")
    if obj.external or obj.is_virtual:
        raise ModelFileError(f"{where} keeps its data outside the file; refusing to follow it")
    return obj


def _read_scalar(ds: h5py.Dataset, where: str) -> bool | int | float | str:
    """A scalar dataset as a plain Python value; its shape and dtype are checked before it is read."""
    if ds.shape != ():
        raise ModelFileError(f"{where} must be a single value; got a dataset of shape {ds.shape}")
    if h5py.check_string_dtype(ds.dtype) is not None:
        return ds.asstr()[()]
    if ds.dtype.kind not in "biuf":
        raise ModelFileError(f"{where} must be a number or a string; got dtype {ds.dtype}")
    return _scalar(ds[()].item(), where)


def _plain(value: object) -> object:
    """A value h5py read (numpy scalar, bytes or str) as a plain Python value."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value.item() if isinstance(value, np.generic) else value


def _read_attribute(attrs: h5py.AttributeManager, name: str, where: str) -> object:
    """An attribute as plain Python values (str, number, or list of them)."""
    value = _plain(attrs[name])
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufO":
            raise ModelFileError(f"{where} has an unsupported type {value.dtype}")
        return [_plain(v) for v in value.ravel()]
    if isinstance(value, str | bool | int | float):
        return value
    raise ModelFileError(f"{where} has an unsupported type {type(value).__name__}")


def _read_group(f: h5py.File, group: str) -> dict:
    """A group's settings: scalar datasets, and (for files from other programs) scalar attributes."""
    if group not in f or not isinstance(f.get(group, getlink=True), h5py.HardLink):
        raise ModelFileError(f"the file has no group '{group}'")
    g = f[group]
    if not isinstance(g, h5py.Group):
        raise ModelFileError(f"'{group}' must be a group")
    values = {name: _read_scalar(_dataset(g, name, f"{group}/{name}"), f"{group}/{name}") for name in g}
    for name in g.attrs:
        if name in values:
            raise ModelFileError(f"{group}/{name} is given twice (as a dataset and as an attribute)")
        value = _read_attribute(g.attrs, name, f"{group}/{name}")
        if isinstance(value, list):
            raise ModelFileError(f"{group}/{name} must be a single value")
        values[name] = _scalar(value, f"{group}/{name}")
    return values


def _read(f: h5py.File) -> dict:
    """Read and validate a model from an open file: shapes and dtypes from metadata first, then values."""
    version = _plain(f.attrs.get("format_version", FORMAT_VERSION))
    if not _is_int(version) or not 1 <= version <= FORMAT_VERSION:
        raise ModelFileError(f"format_version {version!r} is not one this app reads (it reads 1 to {FORMAT_VERSION})")
    sizes = {}
    for name in ("n_features", "n_classes"):
        ds = _dataset(f, name, f"dataset '{name}'")
        if ds.shape != () or ds.dtype.kind not in "iu":
            raise ModelFileError(f"{name} must be a single integer; got dtype {ds.dtype}, shape {ds.shape}")
        sizes[name] = int(ds[()])
        if sizes[name] < 1:
            raise ModelFileError(f"{name} must be a positive integer; got {sizes[name]}")
    n_features, n_classes = sizes["n_features"], sizes["n_classes"]
    arrays = {}
    for name, shape in (("W", (n_classes, n_features)), ("b", (n_classes,))):
        ds = _dataset(f, name, f"dataset '{name}'")
        if ds.dtype.kind != "f":
            raise ModelFileError(f"{name} must hold floating-point numbers; got dtype {ds.dtype}")
        _check_shape(name, ds.shape, shape)
        if ds.size > MAX_PARAMETERS:
            raise ModelFileError(f"{name} has {ds.size:,} entries, more than the limit of {MAX_PARAMETERS:,}")
        arrays[name] = ds[()]
    model = {**arrays, **sizes}
    for group in ("hyperparameters", "performance"):
        model[group] = _read_group(f, group)
    for key in METADATA:
        if key in f.attrs:
            model[key] = _read_attribute(f.attrs, key, key)
    return _check_model(model)


def load_model(source: Source) -> dict:
    """Read and validate a model file; return the model dictionary (see the module docstring).

    Parameters
    ----------
    source : str, path, bytes-like, or readable seekable binary file object
        The file, e.g. the bytes of an upload.

    Raises
    ------
    ModelFileError
        (a ``ValueError``) naming the problem: too large, not HDF5, truncated, missing parts, wrong shapes or
        dtypes, non-finite values.
    """
    try:
        with _open(source) as f:
            return _read(f)
    except ModelFileError:
        raise
    except (OSError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"the HDF5 file cannot be read (truncated or corrupt?): {exc}") from None
