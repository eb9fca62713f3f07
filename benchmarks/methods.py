"""The methods the benchmark times: the project's core, straightforward numpy loops, and torch when installed.

Every method trains one epoch of softmax regression from the same initial weights (W0, b0) in the same
sample order and returns the final ``(W, b)`` as numpy arrays, so the benchmark can check they agree.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from core.softmax_regression import (
    DTYPE,
    SGD_BLOCK,
    MinibatchBuffers,
    SoftmaxRegression,
    minibatch_step,
    sgd_block,
)
from core.training import Trainer

Method = Callable[[], tuple[np.ndarray, np.ndarray]]


# ---------------------------------------------------------------- the project's core (what the app runs)


def core_trainer(
    X: np.ndarray,
    y: np.ndarray,
    W0: np.ndarray,
    b0: np.ndarray,
    B: int,
    eta: float,
    seed: int,
    compiled: bool | None = None,
):
    """The app's path: a fresh ``Trainer`` (built outside the timing) advanced by one epoch.

    ``compiled``: the trainer's choice of kernels (None: what the app runs, compiled when numba is installed).
    """

    def prepare() -> Method:
        init = SoftmaxRegression(W0, b0)
        trainer = Trainer(X, y, batch_size=B, eta=eta, seed=seed, init=init, eval_subset=0, compiled=compiled)

        def run() -> tuple[np.ndarray, np.ndarray]:
            trainer.advance(max_updates=trainer.updates_per_epoch)
            return trainer.model.W, trainer.model.b

        return run

    return prepare


def core_uint8(X8: np.ndarray, y: np.ndarray, W0: np.ndarray, b0: np.ndarray, B: int, eta: float, order: np.ndarray):
    """The numpy kernels with the images stored as uint8, cast to float32 [0, 1] batch by batch."""
    scale = DTYPE(1 / 255)

    def prepare() -> Method:
        W, b = W0.copy(), b0.copy()
        step = SGD_BLOCK if B == 1 else B
        raw = np.empty((step, X8.shape[1]), dtype=np.uint8)
        batch = np.empty((step, X8.shape[1]), dtype=DTYPE)
        buffers = MinibatchBuffers(X8.shape[1], len(b), B) if B > 1 else None
        etas = np.full(SGD_BLOCK, eta, dtype=DTYPE)

        def run() -> tuple[np.ndarray, np.ndarray]:
            for start in range(0, len(order), step):
                idx = order[start : start + step]
                n = len(idx)
                np.take(X8, idx, axis=0, out=raw[:n])
                np.multiply(raw[:n], scale, out=batch[:n])
                if B == 1:
                    sgd_block(W, b, batch[:n], y[idx], etas[:n])
                else:
                    minibatch_step(W, b, batch[:n], y[idx], eta, buffers)
            return W, b

        return run

    return prepare


# ---------------------------------------------------------------- straightforward numpy


def numpy_loop(X: np.ndarray, y: np.ndarray, W0: np.ndarray, b0: np.ndarray, B: int, eta: float, order: np.ndarray):
    """The loop a student writes: gather the batch, scores, stable softmax by rows, gradient, update."""

    def prepare() -> Method:
        W, b = W0.copy(), b0.copy()

        def run_batches() -> tuple[np.ndarray, np.ndarray]:
            nonlocal W, b
            for start in range(0, len(order), B):
                idx = order[start : start + B]
                Xb, yb = (X, y) if B == len(X) else (X[idx], y[idx])
                S = Xb @ W.T + b
                A = np.exp(S - S.max(axis=1, keepdims=True))
                A /= A.sum(axis=1, keepdims=True)
                A[np.arange(len(yb)), yb] -= 1.0
                W = W - eta * (A.T @ Xb) / len(yb)
                b = b - eta * A.mean(axis=0)
            return W, b

        def run_samples() -> tuple[np.ndarray, np.ndarray]:
            nonlocal W, b
            for i in order:
                x = X[i]
                s = W @ x + b
                a = np.exp(s - s.max())
                a /= a.sum()
                a[y[i]] -= 1.0
                W -= np.outer(eta * a, x)
                b -= eta * a
            return W, b

        return run_samples if B == 1 else run_batches

    return prepare


# ---------------------------------------------------------------- torch (optional)


def torch_methods(X: np.ndarray, y: np.ndarray, W0: np.ndarray, b0: np.ndarray, B: int, eta: float, order: np.ndarray):
    """``{"torch manual": prepare, "torch autograd": prepare}`` (B = 1: the manual per-sample loop only)."""
    import torch

    Xt, yt = torch.from_numpy(np.ascontiguousarray(X)), torch.from_numpy(y.astype(np.int64))
    ot = torch.from_numpy(order.astype(np.int64))
    n = len(order)

    def manual() -> Method:
        W, b = torch.from_numpy(W0.copy()), torch.from_numpy(b0.copy())

        @torch.no_grad()
        def run_batches() -> tuple[np.ndarray, np.ndarray]:
            for start in range(0, n, B):
                idx = ot[start : start + B]
                Xb, yb = (Xt, yt) if B == n else (Xt[idx], yt[idx])
                A = torch.softmax(Xb @ W.T + b, dim=1)
                A[torch.arange(len(yb)), yb] -= 1.0
                W.sub_(A.T @ Xb, alpha=eta / len(yb))
                b.sub_(A.mean(dim=0), alpha=eta)
            return W.numpy(), b.numpy()

        @torch.no_grad()
        def run_samples() -> tuple[np.ndarray, np.ndarray]:
            for i in ot.tolist():
                x = Xt[i]
                a = torch.softmax(W @ x + b, dim=0)
                a[yt[i]] -= 1.0
                W.sub_(torch.outer(a, x), alpha=eta)
                b.sub_(a, alpha=eta)
            return W.numpy(), b.numpy()

        return run_samples if B == 1 else run_batches

    def autograd() -> Method:
        W = torch.from_numpy(W0.copy()).requires_grad_()
        b = torch.from_numpy(b0.copy()).requires_grad_()
        opt = torch.optim.SGD([W, b], lr=eta)

        def run() -> tuple[np.ndarray, np.ndarray]:
            for start in range(0, n, B):
                idx = ot[start : start + B]
                Xb, yb = (Xt, yt) if B == n else (Xt[idx], yt[idx])
                opt.zero_grad()
                torch.nn.functional.cross_entropy(Xb @ W.T + b, yb).backward()
                opt.step()
            return W.detach().numpy(), b.detach().numpy()

        return run

    return {"torch manual": manual} if B == 1 else {"torch manual": manual, "torch autograd": autograd}
