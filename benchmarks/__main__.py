"""``python -m benchmarks``: one epoch of softmax regression on 60,000 x 784 images, method against method.

Times batch GD (one full-batch step), mini-batch SGD (B = 100, 600 updates) and pure SGD (B = 1, 60,000
updates) for the project's core, a straightforward numpy loop, and torch when installed (requirements-bench.txt);
checks their weights agree; measures the floor (one read of X) and the BLAS thread policy with and without a
concurrent CPU load. Prints a table and writes JSON to benchmarks/results/ (``latest.json`` and a dated copy).

    python -m benchmarks --data-dir /usr/share/datasets/fashion-mnist   # real images (Debian: dataset-fashion-mnist)
    python -m benchmarks                                                # synthetic 60,000 x 784 images

All methods run in one process, side by side, so their ratios hold even on a busy machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import threadpoolctl

from benchmarks.methods import core_trainer, core_uint8, numpy_loop, torch_methods
from core import compiled as numba_kernels
from core.softmax_regression import DTYPE, init_model
from core.training import TRAINING_BLAS_THREADS, SoftmaxRegression, Trainer, epoch_order

RESULTS = Path(__file__).resolve().parent / "results"
N, D, K = 60_000, 784, 10
SCENARIOS = {"batch GD (B = N)": (N, 0.5), "mini-batch (B = 100)": (100, 0.1), "pure SGD (B = 1)": (1, 0.01)}
GOALS = [
    # (scenario, numerator method, denominator method, bound, "<=" or ">=", what it means)
    ("batch GD (B = N)", "core", "torch autograd", 1.0, "<=", "no slower than torch autograd"),
    ("mini-batch (B = 100)", "core", "torch manual", 0.5, "<=", "at most half of torch manual"),
    ("mini-batch (B = 100)", "core", "floor", 10.0, "<=", "at most 10x the floor"),
    ("pure SGD (B = 1)", "numpy loop", "core", 2.5, ">=", "2.5x faster than the numpy loop"),
    ("pure SGD (B = 1)", "torch manual", "core", 2.5, ">=", "2.5x faster than torch's loop"),
    ("pure SGD (B = 1)", "core", "floor", 15.0, "<=", "stretch: within 15x of the floor"),
]
SAME_WEIGHTS_ATOL = 1e-5
BLAS_KEYS = ("internal_api", "version", "architecture", "num_threads", "filepath")


def machine_info() -> dict:
    """CPU, cores, Python, numpy and its BLAS (kernel, threads), torch, numba, load."""
    cpu = platform.processor()
    flags: list[str] = []
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name") and not cpu.strip():
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = [f for f in line.split(":", 1)[1].split() if f in ("avx2", "avx512f", "avx512_vnni", "fma")]
                break
    info = {
        "cpu": cpu or platform.machine(),
        "simd": flags,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": [{k: v for k, v in lib.items() if k in BLAS_KEYS} for lib in threadpoolctl.threadpool_info()],
        "load_average_start": os.getloadavg(),
        # OPENBLAS_CORETYPE picks OpenBLAS's kernels (e.g. Haswell = AVX2 even on an AVX-512 CPU): it matters.
        "environment": {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS_", "OMP_", "MKL_"))},
    }
    try:
        import torch

        info["torch"] = {"version": torch.__version__, "threads": torch.get_num_threads()}
    except ImportError:
        info["torch"] = None
    info["numba"] = numba_kernels.numba.__version__ if numba_kernels.AVAILABLE else None
    return info


def load_data(data_dir: Path | None, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """(X float32 in [0, 1], X as uint8, y) for 60,000 images: a real MNIST-format folder, or synthetic."""
    if data_dir is not None:
        from core.data import read_mnist_folder

        raw = read_mnist_folder(data_dir)
        X8 = np.ascontiguousarray(raw.train_images.reshape(len(raw.train_images), -1)[:N])
        y = raw.train_labels[:N].astype(np.int64)
        source = f"{data_dir} ({raw.name})"
    else:  # ten blurry class templates plus noise: digit-like statistics, no download
        rng = np.random.default_rng(seed)
        templates = rng.random((K, D)) ** 3 * 255
        y = rng.integers(0, K, N)
        X8 = np.clip(templates[y] + rng.normal(0, 40, (N, D)), 0, 255).astype(np.uint8)
        source = "synthetic"
    X = X8.astype(DTYPE) / DTYPE(255)
    return X, X8, y, source


def measure_side_by_side(methods: dict[str, Callable], repeats: dict[str, int]) -> dict[str, dict]:
    """Round-robin: one warm-up each, then up to ``repeats[name]`` timed runs of every method in turn.

    Each run gets a freshly prepared method. Interleaving means a change in the machine's load hits every
    method alike. Records wall and CPU time (the process's CPU seconds: with one thread per method, the
    compute time, unaffected by other processes taking turns on the cores).
    """
    out = {name: {"wall_s": [], "cpu_s": [], "weights": None} for name in methods}
    for r in range(1 + max(repeats.values())):
        for name, prepare in methods.items():
            if r > repeats[name]:
                continue
            run = prepare()
            wall, cpu = time.perf_counter(), time.process_time()
            weights = run()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if r:
                out[name]["wall_s"].append(wall)
                out[name]["cpu_s"].append(cpu)
            out[name]["weights"] = weights
    return out


def max_abs_diff(W: np.ndarray, b: np.ndarray, W_ref: np.ndarray, b_ref: np.ndarray) -> float:
    """Largest absolute difference over all of W and b."""
    return float(max(np.abs(W - W_ref).max(), np.abs(b - b_ref).max()))


def floors(X: np.ndarray, X8: np.ndarray, repeats: int) -> dict[str, dict[str, float]]:
    """The floor: one streaming read of X, as float32 and as uint8 (an OR-reduction over its bytes)."""
    out = {}
    for name, arr in (("floor", X), ("floor uint8", X8)):
        words = arr.reshape(-1).view(np.uint64)
        np.bitwise_or.reduce(words)
        wall, cpu = [], []
        for _ in range(max(repeats, 5)):
            w, c = time.perf_counter(), time.process_time()
            np.bitwise_or.reduce(words)
            wall.append(time.perf_counter() - w)
            cpu.append(time.process_time() - c)
        out[name] = {"wall_s": statistics.median(wall), "cpu_s": statistics.median(cpu)}
    return out


def thread_policy(X: np.ndarray, y: np.ndarray, W0: np.ndarray, b0: np.ndarray, repeats: int) -> dict:
    """Core's batch-GD step and mini-batch epoch, 1 vs the default BLAS threads, as found and beside a busy process."""
    results: dict[str, dict[str, float]] = {}
    init = SoftmaxRegression(W0, b0)
    for load in ("as found", "plus one busy process"):
        busy = None
        if load != "as found":  # a pure-Python spin loop: one core taken, as by another session's work
            busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
            time.sleep(0.2)
        try:
            for label, B, n_updates in (("batch GD step", N, 1), ("mini-batch epoch", 100, 600)):
                trainers = {}
                for threads in (1, None):
                    # The numpy kernels: their BLAS products are what the thread count changes.
                    trainers[threads] = Trainer(X, y, batch_size=B, eta=0.01, init=init, eval_subset=0, compiled=False)
                    trainers[threads].blas_threads = threads
                    trainers[threads].advance(max_updates=1)  # warm-up
                times: dict[int | None, list[float]] = {1: [], None: []}
                for _ in range(repeats):  # interleaved, so a change in the machine's load hits both alike
                    for threads, trainer in trainers.items():
                        start = time.perf_counter()
                        trainer.advance(max_updates=n_updates)
                        times[threads].append(time.perf_counter() - start)
                for threads, t in times.items():
                    key = f"{label}, {'1 thread' if threads == 1 else 'default threads'}"
                    results.setdefault(key, {})[load] = statistics.median(t)
        finally:
            if busy is not None:
                busy.kill()
                busy.wait()
    return results


def run(args: argparse.Namespace) -> dict:
    info = machine_info()
    X, X8, y, source = load_data(args.data_dir, args.seed)
    init = init_model(D, K, args.seed)
    W0, b0 = init.W, init.b
    try:
        import torch

        torch.set_num_threads(args.threads)
        have_torch = True
    except ImportError:
        have_torch = False
    rows = []
    X64 = X.astype(np.float64)
    floor = floors(X, X8, args.repeats)
    with threadpoolctl.threadpool_limits(limits=args.threads, user_api="blas"):
        for scenario, (B, eta) in SCENARIOS.items():
            order = epoch_order(N, 0, args.seed, shuffle=B < N)
            methods = {
                "core": core_trainer(X, y, W0, b0, B, eta, args.seed),
                "numpy loop": numpy_loop(X, y, W0, b0, B, eta, order),
            }
            if numba_kernels.AVAILABLE:  # then "core" is the compiled kernels; this is the numpy reference
                methods["core, numpy kernels"] = core_trainer(X, y, W0, b0, B, eta, args.seed, compiled=False)
            if B < N:
                methods["core, uint8 storage"] = core_uint8(X8, y, W0, b0, B, eta, order)
            if have_torch and not args.no_torch:
                methods.update(torch_methods(X, y, W0, b0, B, eta, order))
            repeats = {name: args.repeats if B > 1 or name.startswith("core") else max(2, args.repeats // 2)
                       for name in methods}  # fmt: skip
            print(f"  {scenario}: {', '.join(methods)}", file=sys.stderr)
            measured = measure_side_by_side(methods, repeats)
            # The exact answer, to judge float32 rounding: the numpy loop in float64 (run once, not timed).
            W_exact, b_exact = numpy_loop(X64, y, W0.astype(np.float64), b0.astype(np.float64), B, eta, order)()()
            W_core, b_core = measured["core"]["weights"]
            for name, m in measured.items():
                W, b = m["weights"]
                rows.append({"scenario": scenario, "method": name,
                             "wall_s": statistics.median(m["wall_s"]), "cpu_s": statistics.median(m["cpu_s"]),
                             "wall_runs_s": m["wall_s"], "cpu_runs_s": m["cpu_s"],
                             "max_abs_diff_vs_core": max_abs_diff(W, b, W_core, b_core),
                             "max_abs_diff_vs_float64": max_abs_diff(W, b, W_exact, b_exact)})  # fmt: skip
    threads = thread_policy(X, y, W0, b0, args.repeats) if not args.skip_threads else {}
    info["load_average_end"] = os.getloadavg()
    return {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m benchmarks", *sys.argv[1:]]),
        "machine": info,
        "data": {"source": source, "N": N, "D": D, "K": K, "X_megabytes_float32": X.nbytes / 1e6},
        "settings": {
            "repeats": args.repeats,
            "blas_threads": args.threads,
            "seed": args.seed,
            "app_blas_threads": TRAINING_BLAS_THREADS,
        },  # fmt: skip
        "floors_s": floor,
        "results": rows,
        "clock": args.clock,
        "goals": goals(rows, floor, args.clock),
        "threads": threads,
    }


def goals(rows: list[dict], floor: dict[str, dict[str, float]], clock: str) -> list[dict]:
    """Each goal of the performance issue as a measured ratio (of ``clock`` times), with whether it is met."""
    key = f"{clock}_s"
    times = {(r["scenario"], r["method"]): r[key] for r in rows}
    out = []
    for scenario, num, den, bound, op, text in GOALS:
        a = floor["floor"][key] if num == "floor" else times.get((scenario, num))
        c = floor["floor"][key] if den == "floor" else times.get((scenario, den))
        if a is None or c is None:
            continue
        ratio = a / c
        out.append({"scenario": scenario, "ratio": f"{num} / {den}", "value": ratio, "goal": f"{op} {bound}",
                    "met": ratio <= bound if op == "<=" else ratio >= bound, "meaning": text})  # fmt: skip
    for r in rows:
        if r["method"] in ("numpy loop", "torch manual", "torch autograd"):
            out.append({"scenario": r["scenario"], "ratio": f"max abs(W - W_core), {r['method']}",
                        "value": r["max_abs_diff_vs_core"], "goal": f"<= {SAME_WEIGHTS_ATOL}",
                        "met": r["max_abs_diff_vs_core"] <= SAME_WEIGHTS_ATOL, "meaning": "same weights"})  # fmt: skip
    for r in rows:
        if r["method"] in ("core", "numpy loop"):
            out.append({"scenario": r["scenario"], "ratio": f"max abs(W - W_float64), {r['method']}",
                        "value": r["max_abs_diff_vs_float64"], "goal": f"<= {SAME_WEIGHTS_ATOL}",
                        "met": r["max_abs_diff_vs_float64"] <= SAME_WEIGHTS_ATOL,
                        "meaning": "float32 rounding vs the float64 loop"})  # fmt: skip
    return out


def table(report: dict) -> str:
    """The results as a Markdown table (as pasted into the README), then the goals and the thread policy."""
    key = f"{report['clock']}_s"
    floor = report["floors_s"]["floor"][key]
    lines = [
        f"| one epoch, 60,000 x 784 | method | {report['clock']} time (median) | wall time | vs core | vs floor |",
        "|---|---|---:|---:|---:|---:|",
    ]
    core = {r["scenario"]: r[key] for r in report["results"] if r["method"] == "core"}
    for r in report["results"]:
        t = r[key]
        lines.append(f"| {r['scenario']} | {r['method']} | {1e3 * t:,.1f} ms | {1e3 * r['wall_s']:,.1f} ms "
                     f"| {t / core[r['scenario']]:.2f}x | {t / floor:,.0f}x |")  # fmt: skip
    for name, t in report["floors_s"].items():
        kind = "uint8" if "uint8" in name else "float32"
        lines.append(f"| floor | one read of X ({kind}) | {1e3 * t[key]:.1f} ms | {1e3 * t['wall_s']:.1f} ms | | |")
    lines += ["", "| goal | ratio | measured | goal | met |", "|---|---|---:|---|---|"]
    for g in report["goals"]:
        value = f"{g['value']:.1e}" if "abs(W" in g["ratio"] else f"{g['value']:.2f}"
        lines.append(f"| {g['scenario']}: {g['meaning']} | {g['ratio']} | {value} | {g['goal']} | "
                     f"{'yes' if g['met'] else 'NO'} |")  # fmt: skip
    if report["threads"]:
        lines += ["", "| BLAS threads (core, wall time) | machine as found | plus one busy process |"]
        lines.append("|---|---:|---:|")
        for name, t in report["threads"].items():
            lines.append(f"| {name} | {1e3 * t['as found']:,.1f} ms | {1e3 * t['plus one busy process']:,.1f} ms |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, help="a folder of MNIST-format IDX files with 60,000 training images")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per method after one warm-up (median)")
    parser.add_argument("--threads", type=int, default=TRAINING_BLAS_THREADS, help="BLAS/torch threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--clock", choices=("cpu", "wall"), default="cpu", help="time the goals use (default: CPU, robust when shared)"
    )
    parser.add_argument("--no-torch", action="store_true", help="skip torch even when installed")
    parser.add_argument("--skip-threads", action="store_true", help="skip the thread-policy measurement")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON results")
    args = parser.parse_args(argv)
    report = run(args)
    text = table(report)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = report["when"].replace(":", "").replace("+0000", "Z")
    for path in (args.out / f"{stamp}.json", args.out / "latest.json"):
        path.write_text(json.dumps(report, indent=1) + "\n")
    print(f"\nwritten to {args.out / 'latest.json'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
