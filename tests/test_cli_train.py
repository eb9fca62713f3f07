"""``python -m core train``: trains on the real 10,000-digit folder and writes its history as CSV or JSON."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.__main__ import main
from core.training import HISTORY_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data" / "mnist-10k"


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "core", "train", *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_cli_trains_and_writes_csv_history(tmp_path):
    out = tmp_path / "run.csv"
    common = ("--data-dir", DATA, "--batch-size", 100, "--lr", 0.3, "--epochs", 2, "--seed", 3)
    result = run_cli(*common, "--history", out)
    assert result.returncode == 0, result.stderr
    assert "update 144/144" in result.stderr  # progress on stderr: 7,200 / 100 = 72 updates per epoch
    assert "test  loss" in result.stdout
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == HISTORY_COLUMNS
    assert int(rows[0]["updates"]) == 0 and int(rows[-1]["updates"]) == 144
    assert float(rows[-1]["epochs"]) == 2.0
    assert float(rows[-1]["val_accuracy"]) >= 0.85
    assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"]) / 3
    # Same seed, same run: the history's losses repeat exactly.
    again = tmp_path / "again.csv"
    assert run_cli(*common, "--quiet", "--history", again).returncode == 0
    with again.open() as f:
        assert [r["train_loss"] for r in csv.DictReader(f)] == [r["train_loss"] for r in rows]


def test_cli_writes_json_with_trace_and_schedule(tmp_path):
    out = tmp_path / "run.json"
    result = run_cli(
        "--data-dir", DATA, "--batch-size", 1, "--lr", 0.02, "--epochs", 1, "--schedule", "inverse", "--lam", 0.001,
        "--history", out, "--quiet",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    doc = json.loads(out.read_text())
    assert doc["settings"]["schedule"] == "inverse" and doc["settings"]["schedule_params"] == {"lam": 0.001}
    history = doc["history"]
    assert history["updates"][-1] == 7200 and len(history["trace_loss"]) == 7200
    assert history["eta"][-1] == pytest.approx(0.02 / (1 + 0.001 * 7200))
    assert history["batch_loss"][0] is None  # NaN is written as null
    assert doc["final"]["val_accuracy"] >= 0.85 and not doc["final"]["diverged"]


def test_cli_batch_gd_with_n(tmp_path, capsys):
    out = tmp_path / "gd.csv"
    code = main(
        ["train", "--data-dir", str(DATA), "--batch-size", "N", "--lr", "0.5", "--epochs", "2", "--history", str(out)]
    )
    assert code == 0
    with out.open() as f:
        assert [int(r["updates"]) for r in csv.DictReader(f)] == [0, 1, 2]


def test_cli_reports_divergence_with_exit_status(capsys):
    assert main(["train", "--dataset", "digits", "--batch-size", "1", "--lr", "1e30", "--epochs", "1", "--quiet"]) == 1
    assert "diverged" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data-dir", "/no/such/folder"], "no such folder"),
        (["--dataset", "digits", "--history", "run.txt"], ".csv or .json"),
        (["--dataset", "digits", "--schedule", "constant", "--decay", "0.5"], "takes no parameters"),
        (["--dataset", "digits", "--batch-size", "0"], "at least 1"),
        (["--dataset", "digits", "--batch-size", "many"], "whole number"),
    ],
)
def test_cli_bad_input_is_a_one_line_error(args, message, capsys):
    base = {"--batch-size": "10", "--lr": "0.1", "--epochs": "1"}
    argv = ["train", *args]
    for flag, value in base.items():
        if flag not in args:
            argv += [flag, value]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
