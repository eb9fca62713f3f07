"""core.geometry: 2-D data, decision regions and boundaries, the two-parameter loss, descent paths."""

import math
import warnings

import numpy as np
import pytest

from core.geometry import (
    WeightSlice,
    bgd_minimum,
    boundaries,
    check_weights,
    decision_regions,
    descent_path,
    divergence_limit,
    excess_loss,
    fit_optimum,
    gradient_field,
    grid_points,
    loss_surface,
    make_blobs,
    points_from_rows,
    reference_line,
)
from core.softmax_regression import SoftmaxRegression


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(3, 40, spread=1.0, seed=3)
    return X, y


@pytest.fixture(scope="module")
def problem(blobs):
    X, y = blobs
    return WeightSlice(X, y, fit_optimum(X, y, 3, updates=1500), k=1)


def reference_loss(X, y, W, b):
    """Plain loop, independent of core: -(1/N) sum_i ln(exp(s_y) / sum_j exp(s_j))."""
    total = 0.0
    for x, label in zip(X, y, strict=True):
        s = [float(W[j] @ x + b[j]) for j in range(len(b))]
        top = max(s)
        total -= s[label] - top - math.log(sum(math.exp(v - top) for v in s))
    return total / len(y)


# ---------------------------------------------------------------- data


def test_blobs_are_centred_on_a_circle_with_the_requested_spread():
    X, y = make_blobs(4, 2000, spread=0.5, seed=1)
    assert X.shape == (8000, 2) and np.bincount(y).tolist() == [2000] * 4
    for k in range(4):
        angle = 2 * np.pi * k / 4 + np.pi / 2
        centre = 2.0 * np.array([np.cos(angle), np.sin(angle)])
        assert np.allclose(X[y == k].mean(axis=0), centre, atol=0.05)
        assert np.allclose(X[y == k].std(axis=0), 0.5, atol=0.03)


def test_blobs_depend_only_on_the_seed():
    assert np.array_equal(make_blobs(3, 20, 1.0, 7)[0], make_blobs(3, 20, 1.0, 7)[0])
    assert not np.array_equal(make_blobs(3, 20, 1.0, 7)[0], make_blobs(3, 20, 1.0, 8)[0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"n_classes": 5}, "K must be one of"), ({"n_per_class": 1}, "points per class"), ({"spread": 0}, "spread")],
)
def test_bad_blob_settings_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_blobs(**kwargs)


def test_typed_points_use_classes_from_one():
    X, y = points_from_rows(np.array([[0.5, 1.0, 1], [2.0, -1.0, 3]]), 3)
    assert X.tolist() == [[0.5, 1.0], [2.0, -1.0]] and y.tolist() == [0, 2]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([[0, 0], [1, 1]], "3 numbers per row"),
        ([[0, 0, 1], [1, 1, 4]], "whole number from 1 to K = 3"),
        ([[0, 0, 1.5], [1, 1, 2]], "whole number"),
        ([[0, 0, 2], [1, 1, 2]], "at least two classes"),
        ([[0, float("nan"), 1], [1, 1, 2]], "NaN|finite"),
    ],
)
def test_bad_points_raise(rows, message):
    with pytest.raises(ValueError, match=message):
        points_from_rows(np.array(rows), 3)


def test_typed_weights_must_have_shape_k_by_2():
    with pytest.raises(ValueError, match=r"W has shape \(2, 2\); expected \(3, 2\)"):
        check_weights(np.ones((2, 2)), np.zeros(3), 3)
    with pytest.raises(ValueError, match="b"):
        check_weights(np.ones((3, 2)), np.zeros(2), 3)
    model = check_weights(np.ones((3, 2)), np.zeros(3), 3)
    assert model.W.dtype == np.float64


# ---------------------------------------------------------------- regions and boundaries


def random_model(seed, K=4):
    rng = np.random.default_rng(seed)
    return SoftmaxRegression(rng.normal(size=(K, 2)) * 2, rng.normal(size=K))


@pytest.mark.parametrize("seed", range(4))
def test_argmax_regions_agree_with_predict_on_the_grid(seed):
    model = random_model(seed)
    regions = decision_regions(model, extent=4.0, resolution=41)
    for r, x2 in enumerate(regions.x2):
        for c, x1 in enumerate(regions.x1):
            x = np.array([[x1, x2]])
            assert regions.label[r, c] == model.predict(x)[0]
            assert regions.prob[r, c] == pytest.approx(model.predict_proba(x).max())


def test_grid_points_run_x1_fastest():
    x1, x2, P = grid_points(1.0, 3)
    assert P[:3].tolist() == [[-1, -1], [0, -1], [1, -1]] and x1.tolist() == x2.tolist() == [-1, 0, 1]


@pytest.mark.parametrize("seed", range(6))
def test_boundaries_are_where_two_top_scores_tie(seed):
    model = random_model(seed)
    extent = 5.0
    found = boundaries(model, extent)
    assert found
    for line in found:
        for t in np.linspace(0, 1, 11):
            x = line.start + t * (line.end - line.start)
            s = model.W @ x + model.b
            assert s[line.i] == pytest.approx(s[line.j], abs=1e-9)
            assert s[line.i] >= s.max() - 1e-9  # the tie is for the largest score
            assert np.all(np.abs(x) <= extent + 1e-9)


def test_boundaries_cover_every_change_of_class_on_the_grid():
    """Wherever the arg-max class changes between neighbouring grid points, a boundary segment passes between."""
    model = random_model(11, K=3)
    regions = decision_regions(model, extent=3.0, resolution=61)
    found = boundaries(model, 3.0)
    step = regions.x1[1] - regions.x1[0]
    changes = np.argwhere(regions.label[:, 1:] != regions.label[:, :-1])
    for r, c in changes[::7]:
        mid = np.array([regions.x1[c] + step / 2, regions.x2[r]])
        distance = min(distance_to_segment(mid, line.start, line.end) for line in found)
        assert distance < step


def distance_to_segment(p, a, b):
    t = np.clip((p - a) @ (b - a) / ((b - a) @ (b - a)), 0, 1)
    return float(np.linalg.norm(p - (a + t * (b - a))))


def test_two_classes_with_a_vertical_boundary_by_hand():
    """s_1 = x1, s_2 = -x1: the boundary is x1 = 0 from the bottom to the top of the square."""
    model = SoftmaxRegression(np.array([[1.0, 0.0], [-1.0, 0.0]]), np.zeros(2))
    (line,) = boundaries(model, 2.0)
    assert sorted([line.start.tolist(), line.end.tolist()]) == [[0.0, -2.0], [0.0, 2.0]]


# ---------------------------------------------------------------- the two-parameter loss


def test_slice_loss_is_softmax_regression_with_row_k_replaced(blobs, problem):
    X, y = blobs
    theta = np.array([0.7, -1.3])
    W = problem.W.copy()
    W[1] = theta
    assert problem.loss(theta) == pytest.approx(reference_loss(X, y, W, problem.b), rel=1e-12)
    idx = np.array([0, 5, 17, 60])
    assert problem.loss(theta, idx) == pytest.approx(reference_loss(X[idx], y[idx], W, problem.b), rel=1e-12)


@pytest.mark.parametrize("theta", [(0.0, 0.0), (0.7, -1.3), (-3.0, 2.5)])
@pytest.mark.parametrize("idx", [None, np.array([3]), np.array([0, 40, 80, 119])])
def test_slice_gradient_matches_finite_differences(problem, theta, idx):
    theta = np.array(theta)
    eps = 1e-6
    fd = [(problem.loss(theta + eps * e, idx) - problem.loss(theta - eps * e, idx)) / (2 * eps) for e in np.eye(2)]
    assert np.allclose(problem.gradient(theta, idx), fd, atol=1e-8)


def test_surface_and_field_are_the_loss_and_gradient_at_each_grid_point(problem):
    centre = np.array([0.5, -0.5])
    surface = loss_surface(problem, centre, 2.0, resolution=5)
    field = gradient_field(problem, centre, 2.0, n=4)
    assert surface.u[0] == pytest.approx(-1.5) and surface.v[-1] == pytest.approx(1.5)
    for r, c in [(0, 0), (1, 3), (4, 2)]:
        assert surface.loss[r, c] == pytest.approx(problem.loss(np.array([surface.u[c], surface.v[r]])))
    for r, c in [(0, 1), (3, 2)]:
        g = problem.gradient(np.array([field.u[c], field.v[r]]))
        assert (field.du[r, c], field.dv[r, c]) == pytest.approx(tuple(g))


def test_bgd_finds_a_minimum_with_a_tiny_gradient(problem):
    minimum = bgd_minimum(problem, start=np.array([3.0, 3.0]), tol=1e-7)
    assert minimum.converged and minimum.updates > 0
    assert np.linalg.norm(problem.gradient(minimum.theta)) < 1e-7
    # It is the lowest point around: every neighbour on a small circle is higher.
    for angle in np.linspace(0, 2 * np.pi, 12, endpoint=False):
        nearby = minimum.theta + 1e-2 * np.array([np.cos(angle), np.sin(angle)])
        assert problem.loss(nearby) > minimum.loss


def test_the_slice_goes_through_the_optimum(blobs, problem):
    """The full model was trained to the optimum, so its own w_k is (nearly) the slice's minimum."""
    minimum = bgd_minimum(problem, start=np.array([-2.0, 2.0]))
    assert np.allclose(minimum.theta, problem.theta_anchor, atol=1e-2)


def test_separable_classes_have_no_minimum_and_say_so():
    X, y = make_blobs(3, 30, spread=0.2, seed=0)
    problem = WeightSlice(X, y, fit_optimum(X, y, 3, updates=200), k=0)
    minimum = bgd_minimum(problem, max_updates=300)
    assert not minimum.converged and minimum.updates == 300


# ---------------------------------------------------------------- descent paths


def plain_sgd(problem, start, B, eta, n_updates, seed):
    """Reference loop for a constant rate: the trainer's epoch orders, batches of B, last batch the leftovers."""
    theta, out, seen = np.array(start, dtype=float), [np.array(start, dtype=float)], [0]
    n, t, epoch = problem.n, 0, 0
    while t < n_updates:
        order = np.random.default_rng([seed, epoch]).permutation(n) if B < n else np.arange(n)
        for lo in range(0, n, B):
            if t == n_updates:
                break
            theta = theta - eta * problem.gradient(theta, order[lo : lo + B])
            out.append(theta)
            seen.append(seen[-1] + len(order[lo : lo + B]))
            t += 1
        epoch += 1
    return np.array(out), np.array(seen)


@pytest.mark.parametrize("B", [1, 7, 120])
def test_paths_follow_the_plain_update_loop(problem, B):
    path = descent_path(problem, np.zeros(2), B, 0.3, "constant", n_updates=40, seed=5)
    theta, samples = plain_sgd(problem, np.zeros(2), B, 0.3, 40, 5)
    assert np.allclose(path.theta, theta, atol=1e-12)
    assert np.array_equal(path.samples, samples)
    assert np.allclose(path.loss, [problem.loss(theta) for theta in path.theta])


def test_paths_use_the_schedule(problem):
    path = descent_path(problem, np.zeros(2), 1, 0.5, "inverse", n_updates=30, seed=0, lam=0.1)
    assert np.allclose(path.eta, 0.5 / (1 + 0.1 * np.arange(30)))


def test_paths_are_deterministic_per_seed(problem):
    a = descent_path(problem, np.zeros(2), 1, 0.5, n_updates=50, seed=1)
    b = descent_path(problem, np.zeros(2), 1, 0.5, n_updates=50, seed=1)
    c = descent_path(problem, np.zeros(2), 1, 0.5, n_updates=50, seed=2)
    assert np.array_equal(a.theta, b.theta) and not np.array_equal(a.theta, c.theta)


def test_batch_gd_is_smooth_and_sgd_with_a_decaying_rate_settles(problem):
    minimum = bgd_minimum(problem)
    bgd = descent_path(problem, np.zeros(2), problem.n, 0.5, n_updates=300)
    assert np.all(np.diff(bgd.loss) <= 1e-12)  # every batch-GD step goes downhill
    sgd = descent_path(problem, np.zeros(2), 1, 0.5, n_updates=600, seed=0)
    settled = descent_path(problem, np.zeros(2), 1, 0.5, "inverse", n_updates=600, seed=0, lam=0.05)
    assert np.any(np.diff(sgd.loss) > 0)  # single samples push it uphill too
    steps = lambda p: np.linalg.norm(np.diff(p.theta[-100:], axis=0), axis=1).mean()  # noqa: E731
    assert steps(settled) < steps(sgd) / 3
    assert settled.loss[-1] - minimum.loss < 0.01


@pytest.mark.parametrize("eta", [1e3, 1e12, 1e300, 1.7e308])
def test_a_huge_rate_marks_divergence_without_warnings(problem, eta):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = descent_path(problem, np.array([1.0, 1.0]), problem.n, eta, n_updates=50)
    assert path.diverged and path.diverged_at == len(path.theta) - 1 < 50
    assert not path.loss[-1] <= divergence_limit(3)
    assert np.all(path.loss[:-1] <= divergence_limit(3))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "batch size"),
        ({"batch_size": 121}, "batch size"),
        ({"eta": 0.0}, "learning rate"),
        ({"eta": float("nan")}, "learning rate"),
        ({"schedule": "cosine"}, "schedule"),
        ({"n_updates": 0}, "number of updates"),
        ({"start": np.array([1.0, 2.0, 3.0])}, "start"),
        ({"start": np.array([np.nan, 0.0])}, "start"),
    ],
)
def test_bad_path_settings_raise(problem, kwargs, message):
    args = {"start": np.zeros(2), "batch_size": 10, "eta": 0.1} | kwargs
    with pytest.raises(ValueError, match=message):
        descent_path(problem, **args)


def test_excess_loss_and_reference_slopes():
    gap = excess_loss(np.array([1.5, 1.0, 1.0 - 1e-17, np.inf]), 1.0)
    assert gap[0] == 0.5 and np.isnan(gap[1:]).all()
    t = np.array([1.0, 10.0, 100.0])
    assert np.allclose(reference_line(t, 1.0, 2.0, -1.0), [2.0, 0.2, 0.02])
    assert np.allclose(reference_line(t, 1.0, 2.0, -0.5), [2.0, 2 / np.sqrt(10), 0.2])
