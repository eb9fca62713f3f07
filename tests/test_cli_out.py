"""``python -m core train --out model.h5``: the written model's recorded scores, checked independently."""

import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np

from core.data import read_idx

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data" / "mnist-10k"


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "core", "train", *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_cli_writes_a_model_whose_recorded_test_accuracy_is_real(tmp_path):
    out = tmp_path / "model.h5"
    result = run_cli("--data-dir", DATA, "--batch-size", 100, "--lr", 0.5, "--epochs", 3, "--seed", 1, "--out", out)
    assert result.returncode == 0, result.stderr
    assert "update 216/216" in result.stderr  # progress: 7,200 / 100 = 72 updates per epoch, 3 epochs
    assert f"model written to {out}" in result.stdout

    # Read with bare h5py and score with plain numpy on the test files themselves, without this project's loader.
    with h5py.File(out, "r") as f:
        W, b = f["W"][()], f["b"][()]
        hp = {k: f["hyperparameters"][k][()] for k in f["hyperparameters"]}
        perf = {k: float(f["performance"][k][()]) for k in f["performance"]}
        scale = float(f.attrs["pixel_scale"])
    images = read_idx(DATA / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(DATA / "t10k-labels-idx1-ubyte.gz").astype(int)
    X = images.reshape(len(images), -1) / scale
    S = X @ W.T + b
    accuracy = np.mean(S.argmax(axis=1) == labels)
    shifted = S - S.max(axis=1, keepdims=True)
    loss = np.mean(np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(len(labels)), labels])

    assert W.shape == (10, 784) and b.shape == (10,) and len(labels) == 2000
    assert perf["test_accuracy"] == accuracy
    assert abs(perf["test_loss"] - loss) < 1e-5
    assert accuracy >= 0.85
    assert perf["train_accuracy"] > 0.85 and perf["train_loss"] < 0.5
    assert hp["learning_rate"] == 0.5 and hp["batch_size"] == 100 and hp["n_iterations"] == 216
    assert hp["epochs"] == 3 and hp["seed"] == 1


def test_cli_out_on_the_bundled_digits(tmp_path):
    out = tmp_path / "digits.hdf5"
    result = run_cli("--dataset", "digits", "--batch-size", 20, "--lr", 0.5, "--epochs", 5, "--quiet", "--out", out)
    assert result.returncode == 0, result.stderr
    with h5py.File(out, "r") as f:
        assert f["W"].shape == (10, 64) and list(f.attrs["image_shape"]) == [8, 8]
        assert f["performance"]["test_accuracy"][()] > 0.85


def test_cli_refuses_a_bad_out_path_before_training(tmp_path):
    result = run_cli("--dataset", "digits", "--batch-size", 10, "--lr", 0.1, "--epochs", 1, "--out", tmp_path / "m.txt")
    assert result.returncode == 2 and "--out must end in .h5" in result.stderr
    result = run_cli(
        "--dataset", "digits", "--batch-size", 10, "--lr", 0.1, "--epochs", 1, "--out", tmp_path / "no" / "m.h5"
    )
    assert result.returncode == 2 and "no such folder" in result.stderr
    assert "updates/s" not in result.stderr  # refused before any training (no progress line)
