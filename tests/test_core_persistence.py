"""HDF5 model files: exact round trips, the homework's layout read with bare h5py, and refused bad files."""

import io
import re
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from core import persistence
from core.persistence import MAX_FILE_BYTES, ModelFileError, load_model, save_model

README = Path(__file__).resolve().parents[1] / "README.md"
CLASS_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def make_model(seed=0):
    rng = np.random.default_rng(seed)
    return {
        "W": rng.normal(0, 0.01, size=(10, 64)),
        "b": rng.normal(size=10),
        "n_features": 64,
        "n_classes": 10,
        "hyperparameters": {
            "learning_rate": 0.1,
            "batch_size": 100,
            "n_iterations": 720,
            "schedule": "exponential",
            "epochs": 5,
            "seed": 7,
            "decay": 0.95,
            "shuffle": True,
        },
        "performance": {"train_accuracy": 0.93, "test_accuracy": 0.9, "train_loss": 0.27, "test_loss": 0.33},
        "image_shape": (8, 8),
        "class_names": CLASS_NAMES,
        "dataset": "digits",
        "pixel_scale": 16.0,
    }


def assert_same_model(loaded, original):
    assert set(loaded) == set(original)
    for key in ("W", "b"):
        assert loaded[key].dtype == np.float64
        np.testing.assert_array_equal(loaded[key], original[key])
    for key in set(original) - {"W", "b"}:
        assert loaded[key] == original[key], key
        assert type(loaded[key]) is type(original[key]), key
    for group in ("hyperparameters", "performance"):
        for key, value in original[group].items():
            assert type(loaded[group][key]) is type(value), f"{group}/{key}"


# --- round trips ---------------------------------------------------------------------------------------------


def test_round_trip_through_a_path(tmp_path):
    model = make_model()
    for target in (tmp_path / "model.h5", str(tmp_path / "as_string.h5")):
        assert save_model(model, target) is None
        assert_same_model(load_model(target), model)


def test_round_trip_through_bytes():
    model = make_model(1)
    data = save_model(model, None)
    assert isinstance(data, bytes) and data.startswith(b"\x89HDF\r\n\x1a\n")
    assert_same_model(load_model(data), model)
    assert_same_model(load_model(bytearray(data)), model)
    assert save_model(model) == data  # the default target is bytes too


def test_round_trip_through_file_objects(tmp_path):
    model = make_model(2)
    buffer = io.BytesIO()
    save_model(model, buffer)
    buffer.seek(0)
    assert_same_model(load_model(buffer), model)
    path = tmp_path / "model.h5"
    with open(path, "wb") as fh:  # a plain write-only file works: the bytes are built in memory first
        save_model(model, fh)
    with open(path, "rb") as fh:
        assert_same_model(load_model(fh), model)


def test_a_trainer_model_saves_as_float64_with_plain_types():
    """What the app hands over: float32 weights, a tuple of class names, numpy integers."""
    model = make_model()
    model.update(W=model["W"].astype(np.float32), b=model["b"].astype(np.float32), class_names=tuple(CLASS_NAMES))
    model["n_features"], model["hyperparameters"]["seed"] = np.int64(64), np.int64(7)
    loaded = load_model(save_model(model))
    np.testing.assert_array_equal(loaded["W"], model["W"].astype(np.float64))
    assert loaded["W"].dtype == np.float64 and loaded["class_names"] == CLASS_NAMES
    assert type(loaded["n_features"]) is int and type(loaded["hyperparameters"]["seed"]) is int


def test_optional_keys_stay_optional():
    model = make_model()
    for key in ("image_shape", "class_names", "dataset", "pixel_scale"):
        del model[key]
    assert_same_model(load_model(save_model(model)), model)


def test_the_file_read_with_bare_h5py_has_the_homework_layout(tmp_path):
    model = make_model()
    path = tmp_path / "model.h5"
    save_model(model, path)
    with h5py.File(path, "r") as f:
        assert set(f) == {"W", "b", "n_features", "n_classes", "hyperparameters", "performance"}
        assert f["W"].shape == (10, 64) and f["W"].dtype == np.float64
        assert f["b"].shape == (10,) and f["b"].dtype == np.float64
        np.testing.assert_array_equal(f["W"][()], model["W"])
        np.testing.assert_array_equal(f["b"][()], model["b"])
        for name, value in (("n_features", 64), ("n_classes", 10)):
            assert f[name].shape == () and f[name].dtype.kind == "i" and f[name][()] == value
        hp = f["hyperparameters"]
        assert isinstance(hp, h5py.Group)
        assert {"learning_rate", "batch_size", "n_iterations", "schedule", "epochs", "seed"} <= set(hp)
        assert hp["learning_rate"][()] == 0.1 and hp["learning_rate"].dtype == np.float64
        assert hp["batch_size"][()] == 100 and hp["n_iterations"][()] == 720
        assert hp["epochs"][()] == 5 and hp["seed"][()] == 7
        assert hp["schedule"].asstr()[()] == "exponential"
        perf = f["performance"]
        assert set(perf) == {"train_accuracy", "test_accuracy", "train_loss", "test_loss"}
        for key, value in model["performance"].items():
            assert perf[key].shape == () and perf[key][()] == value
        assert dict(f.attrs).keys() == {"format_version", "image_shape", "class_names", "dataset", "pixel_scale"}
        assert f.attrs["format_version"] == 1
        np.testing.assert_array_equal(f.attrs["image_shape"], [8, 8])
        assert list(f.attrs["class_names"]) == CLASS_NAMES
        assert f.attrs["dataset"] == "digits" and f.attrs["pixel_scale"] == 16.0


def test_a_homework_file_written_by_another_program_loads(tmp_path):
    """Only the homework's parts: float32 weights, settings as group attributes, no root attributes."""
    rng = np.random.default_rng(3)
    W, b = rng.normal(size=(10, 784)).astype(np.float32), rng.normal(size=10).astype(np.float32)
    path = tmp_path / "student.h5"
    with h5py.File(path, "w") as f:
        f["W"], f["b"], f["n_features"], f["n_classes"] = W, b, 784, 10
        hp = f.create_group("hyperparameters")
        hp.attrs["learning_rate"], hp.attrs["batch_size"], hp.attrs["n_iterations"] = 0.05, 1, 60000
        perf = f.create_group("performance")
        for key, value in (("train_accuracy", 0.92), ("test_accuracy", 0.91), ("train_loss", 0.3), ("test_loss", 0.31)):
            perf[key] = value
    model = load_model(path)
    np.testing.assert_array_equal(model["W"], W.astype(np.float64))
    np.testing.assert_array_equal(model["b"], b.astype(np.float64))
    assert model["hyperparameters"] == {"learning_rate": 0.05, "batch_size": 1, "n_iterations": 60000}
    assert model["performance"]["test_accuracy"] == 0.91
    assert "class_names" not in model and "image_shape" not in model


def test_readme_snippet_loads_a_file_and_predicts(tmp_path):
    section = README.read_text().split("## Models to take away", 1)[1].split("\n## ", 1)[0]
    snippet = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len([line for line in snippet.splitlines() if line.strip()]) == 5  # five lines of code
    assert "import core" not in snippet and "from core" not in snippet
    model = make_model(4)
    # Make the prediction depend on W (not just on b), so the snippet must use W's orientation right.
    model["W"][6] += 1.0
    save_model(model, tmp_path / "model.h5")
    x = np.full(64, 0.5)
    expected = CLASS_NAMES[int(np.argmax(model["W"] @ x + model["b"]))]
    assert expected != CLASS_NAMES[int(np.argmax(model["b"]))]
    result = subprocess.run(
        [sys.executable, "-c", snippet], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == f"predicted: {expected}"


# --- bad files ------------------------------------------------------------------------------------------------


def file_with(tmp_path, change):
    """A valid model file, then edited with bare h5py by ``change(f)``; returns its bytes."""
    path = tmp_path / "model.h5"
    save_model(make_model(), path)
    with h5py.File(path, "r+") as f:
        change(f)
    return path.read_bytes()


def replace(name, value, **kwargs):
    def change(f):
        del f[name]
        f.create_dataset(name, data=value, **kwargs)

    return change


def delete(name):
    def change(f):
        del f[name]

    return change


def set_value(name, value):
    def change(f):
        f[name][...] = value

    return change


def set_attr(name, value):
    def change(f):
        f.attrs[name] = value

    return change


def huge_W(f):
    # A chunked dataset without data takes no space in the file: a small file can declare a huge W.
    del f["W"], f["b"], f["n_features"], f["n_classes"]
    f["n_features"], f["n_classes"] = 10**7, 10
    f.create_dataset("W", shape=(10, 10**7), dtype="f8", chunks=(1, 1000))
    f["b"] = np.zeros(10)


def external_W(tmp_path):
    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.ones(640).tobytes())

    def change(f):
        del f["W"]
        f.create_dataset("W", shape=(10, 64), dtype="f8", external=[(str(secret), 0, 640 * 8)])

    return change


BAD_FILES = {
    "W vs b": (replace("b", np.zeros(9)), "b has shape (9,); expected (10,)"),
    "W vs n_features": (replace("n_features", 63), "W has shape (10, 64); expected (10, 63)"),
    "W vs n_classes": (replace("n_classes", 11), "W has shape (10, 64); expected (11, 64)"),
    "W transposed": (replace("W", np.zeros((64, 10))), "W has shape (64, 10); expected (10, 64)"),
    "missing W": (delete("W"), "no dataset 'W'"),
    "missing n_classes": (delete("n_classes"), "no dataset 'n_classes'"),
    "missing group": (delete("performance"), "no group 'performance'"),
    "missing hyperparameter": (delete("hyperparameters/learning_rate"), "hyperparameters is missing learning_rate"),
    "missing performance": (delete("performance/test_loss"), "performance is missing test_loss"),
    "NaN in W": (set_value("W", np.nan), "W contains NaN or infinite values"),
    "inf in b": (set_value("b", np.inf), "b contains NaN or infinite values"),
    "NaN accuracy": (set_value("performance/test_accuracy", np.nan), "performance/test_accuracy is nan"),
    "accuracy above 1": (set_value("performance/train_accuracy", 93.0), "an accuracy lies in [0, 1]"),
    "integer W": (replace("W", np.zeros((10, 64), dtype=np.int32)), "W must hold floating-point numbers"),
    "float n_classes": (replace("n_classes", 10.0), "n_classes must be a single integer"),
    "W group": (lambda f: (f.__delitem__("W"), f.create_group("W")), "W' must be a dataset"),
    "huge W": (huge_W, "more than the limit of 8,388,608"),
    "newer format": (set_attr("format_version", 2), "format_version 2 is not one this app reads"),
    "image shape": (set_attr("image_shape", [7, 7]), "image_shape (7, 7) does not hold n_features = 64"),
    "class names": (set_attr("class_names", ["a", "b"]), "class_names has 2 names for n_classes = 10"),
}


@pytest.mark.parametrize(("change", "message"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_malformed_files_raise_a_clear_value_error(tmp_path, change, message):
    data = file_with(tmp_path, change)
    with pytest.raises(ValueError, match=re.escape(message)):
        load_model(data)


def test_the_huge_declaration_is_refused_from_a_small_file(tmp_path):
    data = file_with(tmp_path, huge_W)
    assert len(data) < 100_000
    with pytest.raises(ModelFileError, match="limit"):
        load_model(io.BytesIO(data))


def test_data_stored_outside_the_file_is_not_followed(tmp_path):
    data = file_with(tmp_path, external_W(tmp_path))
    with pytest.raises(ModelFileError, match="keeps its data outside the file"):
        load_model(data)


def test_links_to_other_files_are_not_followed(tmp_path):
    save_model(make_model(), tmp_path / "other.h5")
    data = file_with(tmp_path, lambda f: (f.__delitem__("W"), f.__setitem__("W", h5py.ExternalLink("other.h5", "W"))))
    with pytest.raises(ModelFileError, match="W' must be a dataset stored in the file"):
        load_model(data)


def test_plain_text_is_not_an_hdf5_file(tmp_path):
    text = b"W = [[0.1, 0.2], [0.3, 0.4]]\nb = [0, 0]\n"
    path = tmp_path / "model.h5"
    path.write_bytes(text)
    for source in (text, path, io.BytesIO(text)):
        with pytest.raises(ModelFileError, match="not an HDF5 file"):
            load_model(source)
    with pytest.raises(ModelFileError, match="not an HDF5 file"):
        load_model(b"")


@pytest.mark.parametrize("keep", [0.2, 0.5, 0.9])
def test_truncated_files_raise_a_value_error(keep):
    data = save_model(make_model())
    with pytest.raises(ModelFileError, match="truncated or corrupt"):
        load_model(data[: int(len(data) * keep)])


def test_a_path_over_the_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "big.h5"
    with open(path, "wb") as fh:  # sparse: takes no disk space
        fh.write(b"\x89HDF\r\n\x1a\n")
        fh.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(ModelFileError, match=r"too large: 67,108,865 bytes, over the limit of 67,108,864"):
        load_model(path)


class UnreadableStream(io.RawIOBase):
    """A seekable stream of a given size that fails the test if anything reads it."""

    def __init__(self, size):
        self.size, self.pos = size, 0

    def seekable(self):
        return True

    def readable(self):
        return True

    def seek(self, offset, whence=io.SEEK_SET):
        self.pos = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence] + offset
        return self.pos

    def tell(self):
        return self.pos

    def readinto(self, buffer):
        raise AssertionError("the oversized source was read")


def test_file_objects_and_bytes_over_the_limit_are_refused_before_they_are_read(monkeypatch):
    with pytest.raises(ModelFileError, match="too large"):
        load_model(UnreadableStream(MAX_FILE_BYTES + 1))
    data = save_model(make_model())
    monkeypatch.setattr(persistence, "MAX_FILE_BYTES", len(data) - 1)
    with pytest.raises(ModelFileError, match="too large"):
        load_model(data)
    monkeypatch.setattr(persistence, "MAX_FILE_BYTES", len(data))
    assert load_model(data)["n_classes"] == 10


def test_a_missing_path_is_a_value_error(tmp_path):
    with pytest.raises(ModelFileError, match="cannot open the model file"):
        load_model(tmp_path / "nowhere.h5")


# --- bad dictionaries are refused before anything is written ------------------------------------------------------


def without(key):
    model = make_model()
    del model[key]
    return model


def changed(**kwargs):
    model = make_model()
    model.update(kwargs)
    return model


def changed_group(group, **kwargs):
    model = make_model()
    model[group] = {**model[group], **kwargs}
    return model


BAD_MODELS = {
    "missing b": (without("b"), "the model is missing b"),
    "unknown key": (changed(notes="hi"), "unknown model keys: notes"),
    "W vs n_features": (changed(n_features=65), "W has shape (10, 64); expected (10, 65)"),
    "NaN in b": (changed(b=np.full(10, np.nan)), "b contains NaN"),
    "text W": (changed(W=np.full((10, 64), "x")), "W must hold real numbers"),
    "bool n_classes": (changed(n_classes=True), "n_classes must be a positive integer"),
    "negative rate": (changed_group("hyperparameters", learning_rate=-0.1), "learning_rate must be a positive"),
    "float batch": (changed_group("hyperparameters", batch_size=2.5), "batch_size must be an integer >= 1"),
    "list setting": (changed_group("hyperparameters", decay=[0.9]), "hyperparameters/decay must be a number"),
    "missing loss": (
        {**make_model(), "performance": {"train_accuracy": 0.9, "test_accuracy": 0.9}},
        "performance is missing train_loss, test_loss",
    ),
    "negative loss": (changed_group("performance", test_loss=-1.0), "a cross-entropy loss is never negative"),
    "pixel scale": (changed(pixel_scale=0), "pixel_scale must be a positive number"),
    "class names": (changed(class_names="0123456789"), "class_names must be a list of strings"),
    "nested name": (changed_group("hyperparameters", **{"a/b": 1}), "hyperparameters has invalid names ['a/b']"),
}


@pytest.mark.parametrize(("model", "message"), BAD_MODELS.values(), ids=BAD_MODELS.keys())
def test_bad_model_dictionaries_are_refused_before_writing(tmp_path, model, message):
    path = tmp_path / "model.h5"
    with pytest.raises(ValueError, match=re.escape(message)):
        save_model(model, path)
    assert not path.exists()
