"""Command line: ``python -m core train ...`` trains softmax regression headless and writes its history.

Example::

    python -m core train --data-dir ../shared/data/mnist-10k --batch-size 100 --lr 0.1 --epochs 5 \\
        --seed 0 --history run.csv

The history has the columns of ``core.training.History`` (CSV), or those plus the per-update trace, the
settings and the final scores (JSON). Progress goes to stderr, the final summary to stdout.
An output plugs in as an argument in ``add_train_arguments``, a check in ``check_outputs`` (before any
training) and a writer call in ``cmd_train``, as ``--out`` (the model as HDF5) does.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from core.data import Dataset, load_dataset, load_mnist_folder, text_progress
from core.models import trainer_model_data
from core.persistence import save_model
from core.training import HISTORY_COLUMNS, SCHEDULES, Trainer

DATASETS = ("digits", "mnist", "fashion-mnist")
PROGRESS_INTERVAL = 0.25
"""Seconds of training between progress updates (each ``advance`` call gets this time budget)."""


def batch_size_arg(text: str) -> int | str:
    """A positive whole number, or ``N`` / ``full`` for batch gradient descent."""
    if text.lower() in ("n", "full"):
        return "N"
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"batch size must be a whole number or N; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"batch size must be at least 1; got {value}")
    return value


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``train`` command's options."""
    data = parser.add_argument_group("data")
    source = data.add_mutually_exclusive_group()
    source.add_argument("--data-dir", type=Path, help="a folder with the four MNIST-format IDX files")
    source.add_argument(
        "--dataset", choices=DATASETS, help="a named dataset (mnist and fashion-mnist download once, then cached)"
    )
    data.add_argument("--val-fraction", type=float, default=0.1, help="share of training images held out")
    data.add_argument("--subset", type=int, help="use only the first SUBSET training images")
    opt = parser.add_argument_group("optimiser")
    opt.add_argument(
        "--batch-size", type=batch_size_arg, required=True, help="B: 1 = pure SGD, N = batch GD, else mini-batch"
    )
    opt.add_argument("--lr", type=float, required=True, help="eta0, the initial learning rate")
    opt.add_argument("--epochs", type=int, required=True, help="passes over the training set")
    opt.add_argument("--seed", type=int, default=0, help="seeds the initial weights and the shuffling")
    opt.add_argument("--schedule", choices=tuple(SCHEDULES), default="constant", help="learning-rate schedule")
    opt.add_argument("--decay", type=float, help="exponential: eta0 * decay^epoch (default 0.95)")
    opt.add_argument("--alpha", type=float, help="inverse_sqrt: eta0 / sqrt(1 + alpha t) (default 1e-3)")
    opt.add_argument("--lam", type=float, help="inverse: eta0 / (1 + lam t) (default 1e-3)")
    opt.add_argument("--no-shuffle", action="store_true", help="visit the samples in the same order every epoch")
    opt.add_argument("--patience", type=int, help="early stopping after this many evaluations without improvement")
    opt.add_argument("--eval-every", type=int, help="updates between evaluations (default: cheap, >= 4 per epoch)")
    opt.add_argument("--eval-subset", type=int, default=2000, help="samples evaluated per split (default 2000)")
    out = parser.add_argument_group("output")
    out.add_argument("--history", type=Path, help="write the history to FILE.csv or FILE.json")
    out.add_argument(
        "--out", type=Path, help="write the trained model to FILE.h5 (the homework's HDF5 layout, measured scores)"
    )
    out.add_argument("--quiet", action="store_true", help="no progress display")


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m core`` argument parser."""
    parser = argparse.ArgumentParser(prog="python -m core", description="Backprop Lab's numerics, headless.")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train softmax regression by mini-batch SGD and write its history")
    add_train_arguments(train)
    return parser


def load_data(args: argparse.Namespace) -> Dataset:
    """The dataset the arguments name: ``--data-dir``, else ``--dataset`` (default: the bundled digits)."""
    options = {"val_fraction": args.val_fraction, "seed": args.seed, "subset": args.subset}
    if args.data_dir is not None:
        return load_mnist_folder(args.data_dir, **options)
    name = args.dataset or "digits"
    progress = None if args.quiet else text_progress(f"downloading {name}")
    return load_dataset(name, progress=progress, **options)


def make_trainer(args: argparse.Namespace, data: Dataset) -> Trainer:
    """A ``Trainer`` with the arguments' settings."""
    params = {name: getattr(args, name) for name in ("decay", "alpha", "lam") if getattr(args, name) is not None}
    return Trainer(
        data.X_train,
        data.y_train,
        data.X_val if len(data.y_val) else None,
        data.y_val if len(data.y_val) else None,
        batch_size=len(data.X_train) if args.batch_size == "N" else args.batch_size,
        eta=args.lr,
        schedule=args.schedule,
        shuffle=not args.no_shuffle,
        seed=args.seed,
        n_classes=data.n_classes,
        early_stopping_patience=args.patience,
        eval_every=args.eval_every,
        eval_subset=args.eval_subset,
        **params,
    )


def show_progress(trainer: Trainer, total: int, stream: IO[str]) -> None:
    """One status line, rewritten in place: epoch, bar, latest losses, speed."""
    h = trainer.history
    frac = trainer.update / total if total else 1.0
    bar = "#" * round(20 * frac) + "." * (20 - round(20 * frac))
    rate = trainer.update / trainer.train_time if trainer.train_time else math.nan
    stream.write(
        f"\repoch {trainer.samples / len(trainer.X):6.2f} [{bar}] update {trainer.update:,}/{total:,}"
        f"  train loss {h.train_loss[-1]:.4f}  val acc {h.val_accuracy[-1]:.4f}  {rate:,.0f} updates/s "
    )
    stream.flush()


def run_training(args: argparse.Namespace, data: Dataset, stream: IO[str] | None = None) -> Trainer:
    """Train for ``args.epochs`` epochs in time-bounded chunks, showing progress unless ``--quiet``."""
    if args.epochs < 0:
        raise ValueError(f"epochs must be >= 0; got {args.epochs}")
    trainer = make_trainer(args, data)
    total = args.epochs * trainer.updates_per_epoch
    stream = stream or sys.stderr
    while trainer.update < total and not trainer.finished:
        trainer.advance(max_updates=total - trainer.update, time_budget=PROGRESS_INTERVAL)
        if not args.quiet:
            show_progress(trainer, total, stream)
    if not args.quiet and total:
        stream.write("\n")
    return trainer


def summary(trainer: Trainer, data: Dataset) -> dict[str, float | int | bool]:
    """Final scores on the full training, validation and test sets, and how the run ended."""
    result: dict[str, float | int | bool] = {
        "updates": trainer.update,
        "epochs": trainer.samples / len(trainer.X),
        "train_time_s": trainer.train_time,
        "diverged": trainer.diverged,
        "stopped_early": trainer.stopped_early,
    }
    for split in ("train", "val", "test"):
        X, y = getattr(data, f"X_{split}"), getattr(data, f"y_{split}")
        if len(y):
            result[f"{split}_loss"], result[f"{split}_accuracy"] = trainer.model.evaluate(X, y)
    return result


def write_history_csv(path: Path, trainer: Trainer, args: argparse.Namespace, final: dict) -> None:
    """One row per evaluation point, the columns of ``HISTORY_COLUMNS``."""
    columns = [getattr(trainer.history, name) for name in HISTORY_COLUMNS]
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HISTORY_COLUMNS)
        writer.writerows(zip(*(c.tolist() for c in columns), strict=True))


def write_history_json(path: Path, trainer: Trainer, args: argparse.Namespace, final: dict) -> None:
    """The settings, every history column, the per-update trace and the final scores."""
    settings = {
        "dataset": str(args.data_dir) if args.data_dir is not None else args.dataset or "digits",
        "batch_size": trainer.batch_size,
        "eta": trainer.eta0,
        "schedule": trainer.schedule,
        "schedule_params": trainer.schedule_params,
        "epochs": args.epochs,
        "seed": trainer.seed,
        "shuffle": trainer.shuffle,
        "eval_every": trainer.eval_every,
        "trace_stride": trainer.history.trace_stride,
    }
    doc = {"settings": settings, "history": trainer.history.to_dict(), "final": final}
    # NaN (no validation data, the first batch_loss) is written as null: strict JSON has no NaN.
    path.write_text(json.dumps(_nan_to_none(doc), indent=1) + "\n")


def _nan_to_none(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nan_to_none(v) for v in value]
    return value


HISTORY_WRITERS: dict[str, Callable[[Path, Trainer, argparse.Namespace, dict], None]] = {
    ".csv": write_history_csv,
    ".json": write_history_json,
}


def check_outputs(args: argparse.Namespace) -> None:
    """Refuse an output we cannot write before spending time on training."""
    if args.history is not None and args.history.suffix.lower() not in HISTORY_WRITERS:
        raise ValueError(f"--history must end in .csv or .json; got {args.history.name}")
    if args.out is not None:
        if args.out.suffix.lower() not in (".h5", ".hdf5"):
            raise ValueError(f"--out must end in .h5 or .hdf5; got {args.out.name}")
        if not args.out.parent.is_dir():
            raise ValueError(f"--out: no such folder {args.out.parent}")


def cmd_train(args: argparse.Namespace, stdout: IO[str] | None = None) -> int:
    """``python -m core train``: load, train, write the history, print the final scores."""
    stdout = stdout or sys.stdout
    check_outputs(args)
    started = time.perf_counter()
    data = load_data(args)
    trainer = run_training(args, data)
    final = summary(trainer, data)
    if args.history is not None:
        HISTORY_WRITERS[args.history.suffix.lower()](args.history, trainer, args, final)
    if args.out is not None:
        save_model(trainer_model_data(trainer, data), args.out)
    ended = "diverged" if trainer.diverged else "stopped early" if trainer.stopped_early else "done"
    stdout.write(f"{data.name}: {ended} after {trainer.update:,} updates ({final['epochs']:.2f} epochs)\n")
    for split in ("train", "val", "test"):
        if f"{split}_loss" in final:
            stdout.write(f"  {split:5s} loss {final[f'{split}_loss']:.4f}  accuracy {final[f'{split}_accuracy']:.4f}\n")
    stdout.write(f"  training {trainer.train_time:.2f} s, total {time.perf_counter() - started:.2f} s\n")
    if args.history is not None:
        stdout.write(f"  history written to {args.history}\n")
    if args.out is not None:
        stdout.write(f"  model written to {args.out}\n")
    return 1 if trainer.diverged else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run it; bad input exits with status 2 and a one-line message."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return cmd_train(args)
    except (ValueError, OSError) as exc:
        parser.error(str(exc))


if __name__ == "__main__":
    sys.exit(main())
