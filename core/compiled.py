"""Compiled kernels (numba) for the trainer's hot loops: an optional extra, checked against the numpy kernels.

``core.softmax_regression``'s numpy kernels are the reference: they are what a student reads, and they run
whenever numba is not installed. With numba, the trainer runs these loops instead. They compute the same
updates, ``W <- W - eta (1/B) sum_i (a_i - y_i) x_i^T``, sample by sample in compiled code, so each row of X
is read once per update straight from the dataset (no gathered copy of the batch) and no Python runs between
samples. Measured by ``python -m benchmarks``: pure SGD ~3x faster than ``sgd_block`` and mini-batch ~1.6x
faster than ``minibatch_step`` (see the README's performance section).

``AVAILABLE`` says whether numba is installed; without it the three kernels below are None.
"""

from __future__ import annotations

import math

import numpy as np

try:
    import numba
except ImportError:  # the trainer then runs the numpy kernels
    numba = None

AVAILABLE = numba is not None

FASTMATH = {"reassoc", "contract", "arcp", "nsz"}
"""Let LLVM vectorise the dot products (reorder sums, fuse multiply-adds) without assuming every number is
finite: a diverging run must still produce inf or NaN for the trainer to notice."""

TILE = 4
"""Samples ``minibatch_steps`` takes through W at once: each weight loaded serves four samples."""


def _jit(fn):
    """``fn`` compiled by numba (cached on disk; releasing the GIL so sessions train in parallel), or None."""
    return numba.njit(cache=True, nogil=True, fastmath=FASTMATH)(fn) if AVAILABLE else None


@_jit
def softmax_minus_onehot(s: np.ndarray, label: int) -> float:
    """``s <- softmax(s) - e_label`` in place (the guide's ``delta = a - y``); returns the loss ``-ln a_label``.

    Softmax is shifted by m = max s, as in ``core.functions.softmax``; the loss in its log-sum-exp form
    ``ln sum exp(s - m) - (s_label - m)`` stays exact where ``a_label`` underflows.
    """
    m = s.max()
    loss = m - s[label]
    z = 0.0
    for k in range(len(s)):
        s[k] = math.exp(s[k] - m)
        z += s[k]
    for k in range(len(s)):
        s[k] /= z
    s[label] -= 1.0
    return loss + math.log(z)


@_jit
def minibatch_steps(
    W: np.ndarray,
    b: np.ndarray,
    X: np.ndarray,
    y: np.ndarray,
    rows: np.ndarray,
    batch_size: int,
    etas: np.ndarray,
    losses: np.ndarray,
) -> None:
    """``len(etas)`` mini-batch updates of W (K, D) and b (K,) in place, batch u being
    ``rows[u B : (u + 1) B]`` (the last may be shorter), each with its learning rate ``etas[u]``.

    ``losses[u]`` is batch u's mean cross-entropy at the weights before its update. The gradient is summed over
    the batch in tiles of ``TILE`` samples: a short last tile repeats a row of its batch with ``a - y = 0``.
    """
    K, D = W.shape
    G = np.empty((K, D), dtype=W.dtype)  # sum_i (a_i - y_i) x_i^T over the batch
    g = np.empty(K, dtype=W.dtype)  # sum_i (a_i - y_i)
    S = np.empty((TILE, K), dtype=W.dtype)  # the tile's scores s = W x + b, then a - y
    for u in range(len(etas)):
        lo, hi = u * batch_size, min((u + 1) * batch_size, len(rows))
        G[:] = 0.0
        g[:] = 0.0
        loss = 0.0
        for t in range(lo, hi, TILE):
            last = hi - 1
            x0, x1, x2, x3 = X[rows[t]], X[rows[min(t + 1, last)]], X[rows[min(t + 2, last)]], X[rows[min(t + 3, last)]]
            for k in range(K):
                s0 = s1 = s2 = s3 = b[k]
                for d in range(D):
                    w = W[k, d]
                    s0 += w * x0[d]
                    s1 += w * x1[d]
                    s2 += w * x2[d]
                    s3 += w * x3[d]
                S[0, k], S[1, k], S[2, k], S[3, k] = s0, s1, s2, s3
            for j in range(TILE):
                if t + j < hi:
                    loss += softmax_minus_onehot(S[j], y[rows[t + j]])
                else:
                    S[j] = 0.0
            for k in range(K):
                a0, a1, a2, a3 = S[0, k], S[1, k], S[2, k], S[3, k]
                g[k] += a0 + a1 + a2 + a3
                for d in range(D):
                    G[k, d] += a0 * x0[d] + a1 * x1[d] + a2 * x2[d] + a3 * x3[d]
        step = etas[u] / (hi - lo)
        for k in range(K):
            b[k] -= step * g[k]
            for d in range(D):
                W[k, d] -= step * G[k, d]
        losses[u] = loss / (hi - lo)


@_jit
def sgd_steps(
    W: np.ndarray, b: np.ndarray, X: np.ndarray, y: np.ndarray, rows: np.ndarray, etas: np.ndarray, losses: np.ndarray
) -> None:
    """Pure SGD over ``X[rows]`` in order: ``len(rows)`` updates of W (K, D) and b (K,) in place, the t-th with
    learning rate ``etas[t]``; ``losses[t]`` is sample t's loss ``-ln a_y`` at the weights it saw.

    Within a call the weights are kept in float64 and rounded to float32 once at the end: sixty thousand tiny
    rank-one updates rounded one by one in float32 drift ~1e-4 from the exact result. Each pass over W applies
    the previous sample's update and computes this sample's scores, so W is read and written once per sample.
    """
    K, D = W.shape
    W64, b64 = W.astype(np.float64), b.astype(np.float64)
    s = np.empty(K)  # this sample's scores, then a - y
    g = np.zeros(K)  # eta (a - y) of the previous sample, not yet applied
    n = len(rows)
    x_prev = X[rows[0]]
    for t in range(n + 1):
        x = X[rows[min(t, n - 1)]]  # t = n only applies the last update (its scores go unused)
        for k in range(K):
            gk = g[k]
            b64[k] -= gk
            acc = b64[k]
            for d in range(D):
                w = W64[k, d] - gk * x_prev[d]
                W64[k, d] = w
                acc += w * x[d]
            s[k] = acc
        if t == n:
            break
        losses[t] = softmax_minus_onehot(s, y[rows[t]])
        for k in range(K):
            g[k] = etas[t] * s[k]
        x_prev = x
    for k in range(K):
        b[k] = b64[k]
        for d in range(D):
            W[k, d] = W64[k, d]
