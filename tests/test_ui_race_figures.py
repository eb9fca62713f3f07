"""ui.race as plain functions: the race's figures and tables, settings sync, pacing and the callbacks' race logic."""

import math
from unittest.mock import Mock, patch

import numpy as np
import plotly.graph_objects as go
import pytest

from core.data import load_digits
from core.race import lr_sweep
from core.softmax_regression import init_model
from core.training import gradient_variance
from ui import race as ui
from ui.throttle import RefreshCost


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def settings(B, eta, schedule="constant", shuffle=True, **params):
    return {"batch_size": B, "eta": eta, "schedule": schedule, "shuffle": shuffle, **params}


@pytest.fixture
def race(digits):
    N = len(digits.y_train)
    r = ui.new_race(digits, [settings(N, 0.5), settings(100, 0.2), settings(1, 0.01)], seed=3)
    for racer in r.racers:
        racer.trainer.advance(max_updates=2 * racer.trainer.updates_per_epoch)
    return r


def xs(trace):
    return np.asarray(trace.x, dtype=float)


def drawn(spec):
    """A live figure's dict as st.plotly_chart takes it: validated into a go.Figure (a bad property raises)."""
    return go.Figure(spec)


# ---------------------------------------------------------------- the race itself


def test_new_race_starts_every_racer_from_the_same_weights(digits):
    r = ui.new_race(digits, [settings(1, 0.01), settings(100, 0.1)], seed=7)
    W0 = init_model(digits.n_features, digits.n_classes, 7).W
    for racer in r.racers:
        np.testing.assert_array_equal(racer.trainer.model.W, W0)
        assert racer.trainer.seed == 7 and racer.settings["seed"] == 7
    assert [racer.name for racer in r.racers] == ["Pure SGD (B = 1)", "Mini-batch (B = 100)"]
    twins = ui.new_race(digits, [settings(10, 0.1), settings(10, 0.2)], seed=0)
    assert len({racer.name for racer in twins.racers}) == 2


def test_sync_applies_learning_rate_changes_at_once(race, digits):
    racer = race.racers[1]
    update = racer.trainer.update
    new = [racer.settings | {"eta": 0.05} for racer in race.racers]
    new[1] = settings(100, 0.05, "inverse", lam=0.01)
    reasons = ui.sync_settings(race, new, digits, race.seed, None, race.max_epochs)
    assert reasons == []
    t = racer.trainer
    assert (t.eta0, t.schedule, t.schedule_params) == (0.05, "inverse", {"lam": 0.01})
    assert t.eta == pytest.approx(0.05 / (1 + 0.01 * update))
    assert racer.settings["eta"] == 0.05 and racer.settings["lam"] == 0.01


def test_sync_asks_to_reset_for_what_cannot_change_mid_race(race, digits):
    before = [r.trainer.batch_size for r in race.racers]
    new = [dict(r.settings) for r in race.racers]
    new[2]["batch_size"] = 10
    new[0]["shuffle"] = False
    reasons = ui.sync_settings(race, new, digits, race.seed + 1, 5, race.max_epochs)
    text = " ".join(reasons)
    assert "racer 3's batch size" in text and "racer 1's shuffling" in text
    assert "seed" in text and "early-stopping" in text
    assert [r.trainer.batch_size for r in race.racers] == before  # nothing changed silently
    other = load_digits(seed=1)
    assert any("dataset" in reason for reason in ui.sync_settings(race, new[:2], other, race.seed, None, 20))
    assert any("number of racers" in reason for reason in ui.sync_settings(race, new[:2], digits, race.seed, None, 20))


def test_sync_leaves_racers_with_bad_boxes_alone(race, digits):
    eta_before = race.racers[0].trainer.eta0
    ui.sync_settings(race, [None, race.racers[1].settings, race.racers[2].settings], digits, race.seed, None, 20)
    assert race.racers[0].trainer.eta0 == eta_before


def test_step_race_follows_the_pace_and_stops_at_the_epoch_limit(digits):
    r = ui.new_race(digits, [settings(len(digits.y_train), 0.5), settings(1, 0.01)], seed=0, max_epochs=1)
    r.running = True
    assert not ui.step_race(r, pace=1.0, refresh=0.25, budget=5.0)  # first step: a quarter of an epoch
    gd, sgd = (racer.trainer for racer in r.racers)
    assert sgd.update == math.ceil(0.25 * len(digits.y_train))
    assert gd.update == 1  # batch GD moves by whole steps
    while ui.step_race(r, pace=None, budget=5.0) is False:
        pass
    assert not r.running and ui.race_over(r)
    assert sgd.samples == len(digits.y_train) and gd.update == 1


def test_a_live_step_is_metered_as_one_refresh_and_its_training(digits):
    r = ui.new_race(digits, [settings(1, 0.01)], seed=0, max_epochs=5)
    r.running = True
    cost = Mock(spec=RefreshCost)
    with patch("ui.throttle.refresh_cost", return_value=cost):
        ui.step_race(r, pace=1.0, refresh=0.25, budget=5.0)
    cost.add_refresh.assert_called_once_with()
    (trained,), _ = cost.add_training.call_args
    assert r.racers[0].trainer.update > 0 and 0 < trained < 5.0  # CPU seconds of the quarter epoch it trained


def test_plus_one_epoch_and_status(race):
    epochs = [r.trainer.samples / len(r.trainer.X) for r in race.racers]
    ui.plus_one_epoch(race)
    assert [r.trainer.samples / len(r.trainer.X) for r in race.racers] == pytest.approx([e + 1 for e in epochs])
    assert "3.00 epochs" in ui.race_status(race.racers[2], race.max_epochs)


def test_a_diverged_racer_is_reported_not_raised(digits):
    r = ui.new_race(digits, [settings(10, 1000.0), settings(1, 0.01)], seed=0)
    for racer in r.racers:
        racer.trainer.advance(max_updates=300)
    bad = r.racers[0]
    assert bad.trainer.diverged
    assert "DIVERGED" in ui.race_status(bad, r.max_epochs)
    fig = drawn(ui.loss_figure(r.racers))
    markers = [t for t in fig.data if t.mode == "markers+text"]
    assert len(markers) == 1 and markers[0].text == ("diverged",)
    assert drawn(ui.trace_figure(r.racers)).data and drawn(ui.accuracy_figure(r.racers)).data  # non-finite: no error
    assert "DIVERGED" not in ui.race_status(r.racers[1], r.max_epochs)  # the other racer races on


# ---------------------------------------------------------------- figures


def test_loss_figure_has_train_and_validation_per_racer(race):
    fig = drawn(ui.loss_figure(race.racers, "epochs"))
    lines = [t for t in fig.data if t.mode == "lines"]
    assert len(lines) == 2 * len(race.racers)
    h = race.racers[2].trainer.history
    sgd_train = [t for t in lines if t.name == race.racers[2].name and t.line.dash == "solid"][0]
    np.testing.assert_allclose(xs(sgd_train), h.epochs)
    np.testing.assert_allclose(np.asarray(sgd_train.y, dtype=float), h.train_loss)
    # Each racer keeps its colour (the status line's square) on both of its curves.
    assert [t.line.color for t in lines] == [c for c in ui.COLORS[: len(race.racers)] for _ in range(2)]
    assert not any(t.showlegend for t in fig.data)  # racers are named above the charts, not in a legend


def test_axis_switch_changes_the_x_data(race):
    by_axis = {axis: xs(drawn(ui.loss_figure(race.racers, axis)).data[4]) for axis in ui.AXES}
    h = race.racers[2].trainer.history
    for axis in ui.AXES:
        np.testing.assert_allclose(by_axis[axis], getattr(h, axis))
    assert not np.allclose(by_axis["epochs"], by_axis["updates"])
    fig = drawn(ui.loss_figure(race.racers, "flops", log_x=True, log_y=True))
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    assert fig.layout.xaxis.title.text == ui.AXES["flops"]
    assert fig.layout.uirevision  # zoom survives refreshes


def test_accuracy_figure_draws_the_reference_line(race):
    ref = ui.Reference(0.95, 50, 32, 0.05)
    fig = drawn(ui.accuracy_figure(race.racers, "updates", reference=ref))
    assert len(fig.data) == len(race.racers)
    assert fig.layout.shapes[0].y0 == fig.layout.shapes[0].y1 == 0.95
    assert fig.layout.shapes[0].line.dash == "dot" and fig.layout.annotations[0].text == "linear model ≈ 95.0%"
    assert fig.layout.yaxis.tickformat == ".0%" and fig.layout.xaxis.title.text == ui.AXES["updates"]
    assert len(drawn(ui.accuracy_figure(race.racers)).layout.shapes) == 0


def test_trace_figure_smooths_the_noisy_sgd_loss(race):
    fig = drawn(ui.trace_figure(race.racers, "updates"))
    assert len(fig.data) == 2 * len(race.racers)
    raw, smooth = fig.data[4], fig.data[5]  # pure SGD: 2,586 updates, thinned for drawing
    assert raw.opacity < 0.5 and len(raw.x) == ui.MAX_DRAWN < race.racers[2].trainer.update
    assert xs(raw)[0] == 0 and xs(raw)[-1] == race.racers[2].trainer.update - 1  # the ends are kept
    # The moving average is far less noisy than the raw per-update loss.
    assert np.std(np.diff(np.asarray(smooth.y, float))) < 0.2 * np.std(np.diff(np.asarray(raw.y, float)))
    assert len(fig.data[0].x) == 2  # batch GD: two full-batch steps
    legend = [t.name for t in fig.data if t.showlegend is not False]
    assert legend == [f"{r.name} · smoothed" for r in race.racers]  # one entry per racer, in its colour
    assert [t.line.color for t in fig.data if t.showlegend is not False] == list(ui.COLORS[: len(race.racers)])
    epochs = drawn(ui.trace_figure(race.racers, "epochs")).data[4]
    np.testing.assert_allclose(xs(epochs), xs(raw) / len(race.dataset.y_train))


def test_cost_table_is_the_guides_formulas_with_measured_times(race):
    table = ui.cost_table(race)
    N, D, K = 1293, 64, 10
    assert table["B"] == [f"{N:,}", "100", "1"]
    assert table["computation / update (B·K·D)"] == [f"{B * K * D:,}" for B in (N, 100, 1)]
    assert table["memory (B·D + K·D)"] == [f"{B * D + K * D:,}" for B in (N, 100, 1)]
    assert table["updates / epoch ⌈N/B⌉"] == ["1", "13", f"{N:,}"]
    assert all(v != "—" for v in table["measured time / update"])


def test_schedule_latex_shows_the_next_learning_rate(race):
    racer = race.racers[2]
    racer.trainer.set_learning_rate(0.2, "inverse_sqrt", alpha=0.5)
    t = racer.trainer.update
    latex = ui.schedule_latex(racer)
    assert rf"\eta_{{{t}}} = {0.2 / math.sqrt(1 + 0.5 * t):.4g}" in latex and r"\alpha = 0.5" in latex


def test_variance_figure_is_log_log_with_the_one_over_b_line(digits):
    model = init_model(digits.n_features, digits.n_classes, 0)
    result = gradient_variance(model, digits.X_train, digits.y_train, [1, 10, 100], n_draws=5)
    fig = ui.variance_figure(result)
    assert fig.layout.xaxis.type == fig.layout.yaxis.type == "log"
    np.testing.assert_allclose(np.asarray(fig.data[1].y, float), result.sigma2 / np.array([1, 10, 100]))
    np.testing.assert_allclose(np.asarray(fig.data[0].y, float), result.variance)


def test_sweep_figure_and_table_mark_the_diverged_run(digits):
    init = init_model(digits.n_features, digits.n_classes, 0)
    runs = lr_sweep(
        digits.X_train,
        digits.y_train,
        digits.X_val,
        digits.y_val,
        batch_size=100,
        etas=[0.02, 2.0, 500.0],
        epochs=1,
        init=init,
        n_classes=10,
    )
    fig = ui.sweep_figure(runs)
    assert [t.name for t in fig.data if t.mode == "lines+markers"] == [
        "η = 0.02 · too small (slow)",
        "η = 2 · best",
        "η = 500 · diverged",
    ]
    assert [t.text for t in fig.data if t.mode == "markers+text"] == [("diverged",)]
    table = ui.sweep_table(runs)
    assert table["verdict"][2].startswith("diverged at update")
    assert table["η"] == ["0.02", "2", "500"]


def test_early_stopping_stops_racers_and_ends_the_race(digits):
    r = ui.new_race(digits, [settings(100, 5.0), settings(1, 0.01)], seed=0, patience=1)
    r.running = True
    for _ in range(50):
        if ui.step_race(r, pace=None, budget=1.0):
            break
    assert not r.running and ui.race_over(r)
    jumpy = r.racers[0].trainer  # eta 5 with B = 100: the validation loss rises at once
    assert jumpy.stopped_early and jumpy.samples < 20 * len(digits.y_train)
    assert "stopped early" in ui.race_status(r.racers[0], r.max_epochs)
