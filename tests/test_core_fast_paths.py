"""The training kernels against plain reference loops written here: the same weights, to float32 rounding.

Every fast path (the K x B mini-batch step with buffers, the pure-SGD block method with its Gram matrix,
full-batch steps, and the compiled kernels of ``core.compiled``) must give the weights of the obvious
sample-by-sample or batch-by-batch loop, for B = 1, B = 100 and B = N, with and without shuffling, and with
a learning-rate schedule. The trainer is checked with both its numpy and its compiled kernels.
"""

import numpy as np
import pytest

from core import compiled as numba_kernels
from core import softmax
from core.functions import log_softmax
from core.softmax_regression import (
    DTYPE,
    MinibatchBuffers,
    init_model,
    minibatch_step,
    sgd_block,
)
from core.training import Trainer, epoch_order, train

ATOL = 1e-5  # float32 weights after hundreds to thousands of updates

KERNELS = pytest.mark.parametrize("compiled", [False, True], ids=["numpy kernels", "compiled kernels"])


def reference_sgd(X, y, W, b, batch_size, etas_of, epochs, seed, shuffle):
    """The plain loop: for each epoch, for each batch in order, a = softmax(W x + b), W -= eta mean (a - y) x^T."""
    W, b = W.astype(DTYPE).copy(), b.astype(DTYPE).copy()
    n, t = len(X), 0
    for epoch in range(epochs):
        order = np.random.default_rng([seed, epoch]).permutation(n) if shuffle else np.arange(n)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            eta = etas_of(t, epoch)
            dW, db = np.zeros(W.shape), np.zeros(b.shape)
            for i in idx:
                a = softmax(W @ X[i] + b)
                a[y[i]] -= 1.0  # delta = a - y
                dW += np.outer(a, X[i])
                db += a
            W -= (eta * dW / len(idx)).astype(DTYPE)
            b -= (eta * db / len(idx)).astype(DTYPE)
            t += 1
    return W, b


@pytest.fixture(scope="module")
def small(mnist_10k):
    """The first 600 training digits: enough for real gradients, quick for a Python reference loop."""
    X, y = mnist_10k[0][:600], mnist_10k[1][:600]
    return np.ascontiguousarray(X), np.ascontiguousarray(y)


@KERNELS
@pytest.mark.parametrize("shuffle", [True, False], ids=["shuffle", "in-order"])
@pytest.mark.parametrize("batch_size", [1, 100, 600, 250], ids=["B=1", "B=100", "B=N", "B=250 (uneven)"])
def test_trainer_equals_reference_loop(small, batch_size, shuffle, compiled):
    X, y = small
    epochs = 2 if batch_size == 1 else 4
    model = train(X, y, batch_size=batch_size, eta=0.05, epochs=epochs, seed=7, shuffle=shuffle, compiled=compiled)
    init = init_model(X.shape[1], 10, seed=7)
    W, b = reference_sgd(X, y, init.W, init.b, batch_size, lambda t, e: 0.05, epochs, seed=7, shuffle=shuffle)
    np.testing.assert_allclose(model.W, W, atol=ATOL)
    np.testing.assert_allclose(model.b, b, atol=ATOL)
    assert not np.allclose(model.W, init.W, atol=1e-3)  # it did train


@KERNELS
@pytest.mark.parametrize("batch_size", [1, 100, 600])
def test_schedules_reach_the_kernels(small, batch_size, compiled):
    X, y = small
    # Pure SGD at eta0 = 0.2 is chaotic here (eta |x|^2 >> 1): float32 and float64 loops drift apart by 1e-3,
    # so B = 1 uses a rate in its stable range.
    eta0 = 0.02 if batch_size == 1 else 0.2
    model = train(
        X, y, batch_size=batch_size, eta=eta0, epochs=2, seed=1, schedule="inverse_sqrt", alpha=0.05, compiled=compiled
    )
    init = init_model(X.shape[1], 10, seed=1)
    W, b = reference_sgd(X, y, init.W, init.b, batch_size, lambda t, e: eta0 / np.sqrt(1 + 0.05 * t), 2, 1, True)
    np.testing.assert_allclose(model.W, W, atol=ATOL)
    np.testing.assert_allclose(model.b, b, atol=ATOL)
    decayed = train(
        X, y, batch_size=batch_size, eta=eta0, epochs=3, seed=1, schedule="exponential", decay=0.5, compiled=compiled
    )
    W, b = reference_sgd(X, y, init.W, init.b, batch_size, lambda t, e: eta0 * 0.5**e, 3, 1, True)
    np.testing.assert_allclose(decayed.W, W, atol=ATOL)
    np.testing.assert_allclose(decayed.b, b, atol=ATOL)


def test_trainer_uses_documented_epoch_order(small):
    X, y = small
    order = epoch_order(len(X), 3, seed=5)
    np.testing.assert_array_equal(order, np.random.default_rng([5, 3]).permutation(len(X)))
    np.testing.assert_array_equal(np.sort(order), np.arange(len(X)))
    np.testing.assert_array_equal(epoch_order(4, 3, seed=5, shuffle=False), [0, 1, 2, 3])


@pytest.mark.parametrize("k", [1, 5, 32, 64])
@pytest.mark.parametrize(
    ("scale", "eta"),
    [(1.0, 0.001), (1.0, 0.3), (3000.0, 0.3)],
    # The kernel's three ways through softmax: scores provably in range for the whole block (no test per
    # sample), a test per sample, and huge scores (|s| ~ 300) that need core.softmax's max shift.
    ids=["block in range", "tested per sample", "huge scores"],
)
def test_sgd_block_equals_sample_by_sample_loop(small, k, scale, eta):
    X, y = small
    model = init_model(X.shape[1], 10, seed=2)
    model.W *= scale
    etas = np.linspace(eta, eta / 3, k).astype(DTYPE)  # a different eta per update, as a schedule gives
    W, b = model.W.copy(), model.b.copy()
    losses = sgd_block(W, b, X[:k], y[:k], etas)
    W_ref, b_ref = model.W.copy(), model.b.copy()
    for j in range(k):
        a = softmax(W_ref @ X[j] + b_ref)
        assert np.isfinite(losses[j])
        if a[y[j]] > 1e-30:  # the kernel floors a_y at float32's tiny before ln
            assert losses[j] == pytest.approx(-np.log(a[y[j]]), rel=1e-4, abs=1e-6)
        a[y[j]] -= 1.0
        W_ref -= (etas[j] * np.outer(a, X[j])).astype(DTYPE)
        b_ref -= (etas[j] * a).astype(DTYPE)
    np.testing.assert_allclose(W, W_ref, atol=ATOL * scale)
    np.testing.assert_allclose(b, b_ref, atol=ATOL)


@pytest.mark.parametrize("n", [100, 37])
@pytest.mark.parametrize("scale", [1.0, 3000.0], ids=["small scores", "huge scores"])
def test_minibatch_step_equals_gradient_formula(small, n, scale):
    X, y = small
    model = init_model(X.shape[1], 10, seed=4)
    model.W *= scale
    buffers = MinibatchBuffers(X.shape[1], 10, 100)
    W, b = model.W.copy(), model.b.copy()
    loss = minibatch_step(W, b, X[:n], y[:n], 0.5, buffers)
    # Reference: the mean of the per-sample a - y outer products, and the mean -ln a_y.
    scores = np.array([model.W @ x + model.b for x in X[:n]])
    A = softmax(scores)
    assert loss == pytest.approx(-np.mean(log_softmax(scores)[np.arange(n), y[:n]]), rel=1e-5)
    A[np.arange(n), y[:n]] -= 1.0
    np.testing.assert_allclose(W, model.W - 0.5 * A.T @ X[:n] / n, atol=ATOL * scale)
    np.testing.assert_allclose(b, model.b - 0.5 * A.mean(axis=0), atol=ATOL)


@pytest.mark.parametrize(("n", "batch_size"), [(300, 100), (237, 100), (37, 37), (9, 2)])
@pytest.mark.parametrize("scale", [1.0, 3000.0], ids=["small scores", "huge scores"])
def test_compiled_minibatch_steps_equal_minibatch_step(small, n, batch_size, scale):
    """Several batches, a short last batch, and batches that are not a multiple of the kernel's tile of 4."""
    X, y = small
    model = init_model(X.shape[1], 10, seed=5)
    model.W *= scale
    rows = np.random.default_rng(0).permutation(len(X))[:n]  # read in place, in this order
    n_batches = -(-n // batch_size)
    etas = np.linspace(0.5, 0.1, n_batches).astype(DTYPE)
    W, b, losses = model.W.copy(), model.b.copy(), np.empty(n_batches)
    numba_kernels.minibatch_steps(W, b, X, y, rows, batch_size, etas, losses)
    W_ref, b_ref = model.W.copy(), model.b.copy()
    buffers = MinibatchBuffers(X.shape[1], 10, batch_size)
    for u in range(n_batches):
        idx = rows[u * batch_size : (u + 1) * batch_size]
        loss = minibatch_step(W_ref, b_ref, X[idx], y[idx], float(etas[u]), buffers)
        assert losses[u] == pytest.approx(loss, rel=1e-4, abs=1e-6)
    np.testing.assert_allclose(W, W_ref, atol=ATOL * scale)
    np.testing.assert_allclose(b, b_ref, atol=ATOL)


@pytest.mark.parametrize(("scale", "eta"), [(1.0, 0.3), (3000.0, 0.3)], ids=["small scores", "huge scores"])
def test_compiled_sgd_steps_equal_sample_by_sample_loop(small, scale, eta):
    X, y = small
    model = init_model(X.shape[1], 10, seed=2)
    model.W *= scale
    rows = np.random.default_rng(1).permutation(len(X))[:200]
    etas = np.linspace(eta, eta / 3, len(rows)).astype(DTYPE)
    W, b, losses = model.W.copy(), model.b.copy(), np.empty(len(rows))
    numba_kernels.sgd_steps(W, b, X, y, rows, etas, losses)
    W_ref, b_ref = model.W.astype(np.float64), model.b.astype(np.float64)  # the kernel keeps float64 inside
    for t, i in enumerate(rows):
        s = W_ref @ X[i] + b_ref
        assert losses[t] == pytest.approx(-log_softmax(s)[y[i]], rel=1e-6, abs=1e-9)
        a = softmax(s)
        a[y[i]] -= 1.0
        W_ref -= etas[t] * np.outer(a, X[i])
        b_ref -= etas[t] * a
    np.testing.assert_allclose(W, W_ref, atol=1e-6 * scale, rtol=1e-6)
    np.testing.assert_allclose(b, b_ref, atol=1e-6, rtol=1e-6)


def test_trainer_without_numba_refuses_compiled_kernels(small, monkeypatch):
    monkeypatch.setattr(numba_kernels, "AVAILABLE", False)
    with pytest.raises(ValueError, match="numba"):
        Trainer(*small, batch_size=10, eta=0.1, compiled=True)
    assert not Trainer(*small, batch_size=10, eta=0.1).compiled  # the numpy kernels, by default


@KERNELS
def test_trainer_with_float64_input_equals_float32_input(small, compiled):
    X, y = small
    a = Trainer(X, y, batch_size=1, eta=0.05, seed=3, eval_subset=0, compiled=compiled)
    b = Trainer(X.astype(np.float64), y, batch_size=1, eta=0.05, seed=3, eval_subset=0, compiled=compiled)
    a.advance(max_updates=300)
    b.advance(max_updates=300)
    np.testing.assert_array_equal(a.model.W, b.model.W)


@pytest.mark.parametrize("batch_size", [1, 100, 600])
def test_benchmark_methods_compute_the_same_epoch(small, batch_size):
    """The benchmark's baselines (a straightforward numpy loop, uint8 storage) train the epoch core trains."""
    from benchmarks.methods import core_trainer, core_uint8, numpy_loop

    X, y = small
    X8 = np.round(X * 255).astype(np.uint8)
    X = X8.astype(DTYPE) / DTYPE(255)
    init = init_model(X.shape[1], 10, seed=6)
    order = epoch_order(len(X), 0, seed=6, shuffle=batch_size < len(X))
    args = (init.W, init.b, batch_size, 0.05)
    W, b = core_trainer(X, y, *args, seed=6)()()
    for prepare in (numpy_loop(X, y, *args, order), core_uint8(X8, y, *args, order)):
        W_other, b_other = prepare()()
        np.testing.assert_allclose(W_other, W, atol=ATOL)
        np.testing.assert_allclose(b_other, b, atol=ATOL)
