"""The Optimizer Race's controls, live step and figures. Figures and tables are plain functions of racers.

Numbers come from ``core`` (``core.training``, ``core.costs``, ``core.race``); this module draws them and
keeps the session's race (``ui.race_state``) in step with what the user typed.
"""

from __future__ import annotations

import math
import random
import time
import weakref
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.costs import update_costs
from core.data import Dataset
from core.race import (
    AXES,
    GradientNoise,
    Reference,
    SweepRun,
    advance_racers,
    check_eta,
    ema,
    gradient_noise,
    lr_sweep,
    parse_batch_size,
    parse_eta,
    parse_schedule_param,
    reference_accuracy,
    smoothing_span,
    sweep_etas,
    thin,
    trace_x,
    updates_until_epoch,
)
from core.softmax_regression import init_model
from core.training import (
    EVAL_SUBSET,
    SCHEDULE_FORMULAS,
    SCHEDULES,
    GradientVariance,
    Trainer,
    gradient_variance,
    training_threads,
)
from ui.inputs import vector_input
from ui.race_state import Race, Racer, get_race, set_race
from ui.state import persistent
from ui.throttle import refresh_interval, session_budget, training

REFRESH = 0.25
"""Seconds between two live runs of the race fragment (about four chart updates a second)."""
DETAILS_REFRESH = 1.0
"""Seconds between two refreshes of the cost table and the 'why' panels while the race runs (stretched in
proportion when the charts' ``REFRESH`` is: see ``details_refresh``)."""
TIME_BUDGET = 0.075
"""Seconds of training per fragment run, shared by the racers: the page stays responsive in between."""
PACES: dict[float | None, str] = {
    0.25: "0.25 epoch/s",
    0.5: "0.5 epoch/s",
    1.0: "1 epoch/s",
    2.0: "2 epochs/s",
    5.0: "5 epochs/s",
    None: "full speed",
}
"""How fast the race clock runs, in epochs per second of page time; ``None``: as fast as the budget allows."""
MAX_DRAWN = 600
"""Points drawn per curve (thinned evenly): Plotly sends and lays out every point on every refresh. Measured in
headless Chromium on this 2-core machine: 600 points per curve as SVG refresh about three times a second, while
1,500 (SVG or Scattergl, software WebGL without a GPU) fell to about once a second. So curves stay SVG."""
COLORS = ("#1f5fbf", "#e07b00", "#2e7d32", "#b0306a")
FONT = {"size": 17}
AXIS_FONT = {"tickfont": {"size": 15}, "title": {"font": {"size": 17}}}
SCHEDULE_NAMES = {
    "constant": "constant",
    "exponential": "exponential decay per epoch",
    "inverse_sqrt": "eta0 / sqrt(1 + alpha t)",
    "inverse": "eta0 / (1 + lambda t)",
}
PARAM_LABELS = {"decay": "decay (per epoch)", "alpha": "α", "lam": "λ"}
DEFAULT_RACERS: tuple[dict[str, object], ...] = (
    {"batch_size": "N", "eta": "0.5"},
    {"batch_size": "100", "eta": "0.2"},
    {"batch_size": "1", "eta": "0.01"},
    {"batch_size": "10", "eta": "0.05"},
)
"""The guide's three racers (and a fourth for B = 10). Tried on the bundled digits and on 10,000 MNIST digits:
batch GD at eta 1 oscillates on MNIST while 0.5 is steady on both; B = 100 at 0.2 and B = 1 at 0.01 (the
tops / middle of the guide's ranges) learn fast on both without oscillating."""


# ------------------------------------------------------------------------------------------ racer inputs
def racer_label(batch_size: int, n_train: int) -> str:
    """A legend name that says which algorithm the batch size makes."""
    if batch_size == n_train:
        return f"Batch GD (B = N = {n_train:,})"
    if batch_size == 1:
        return "Pure SGD (B = 1)"
    return f"Mini-batch (B = {batch_size:,})"


def _seed_defaults(i: int) -> None:
    defaults = DEFAULT_RACERS[i]
    st.session_state.setdefault(persistent(f"race_B_{i}"), defaults["batch_size"])
    st.session_state.setdefault(persistent(f"race_eta_{i}"), defaults["eta"])
    st.session_state.setdefault(persistent(f"race_schedule_{i}"), "constant")
    st.session_state.setdefault(persistent(f"race_shuffle_{i}"), True)
    for params in SCHEDULES.values():
        for name, value in params.items():
            st.session_state.setdefault(persistent(f"race_{name}_{i}"), f"{value:g}")


def racer_inputs(i: int, n_train: int) -> dict | None:
    """Draw racer i's settings; return them parsed (``Racer.settings`` without the seed), or None after
    showing ``st.error`` beside each bad box."""
    _seed_defaults(i)
    ok = True
    settings: dict[str, object] = {}
    left, right = st.columns(2)
    try:
        text = left.text_input("Batch size B", key=f"race_B_{i}", help="1 = pure SGD, N = batch gradient descent")
        settings["batch_size"] = parse_batch_size(text, n_train)
    except ValueError as exc:
        st.error(str(exc), icon=":material/error:")
        ok = False
    try:
        settings["eta"] = parse_eta(right.text_input("Learning rate η₀", key=f"race_eta_{i}"), "eta0")
    except ValueError as exc:
        st.error(str(exc), icon=":material/error:")
        ok = False
    left, right = st.columns(2)
    schedule = left.selectbox("Schedule", list(SCHEDULES), format_func=SCHEDULE_NAMES.get, key=f"race_schedule_{i}")
    settings["schedule"] = schedule
    for name in SCHEDULES[schedule]:
        try:
            text = right.text_input(PARAM_LABELS[name], key=f"race_{name}_{i}")
            settings[name] = parse_schedule_param(text, name)
        except ValueError as exc:
            st.error(str(exc), icon=":material/error:")
            ok = False
    settings["shuffle"] = st.checkbox("Reshuffle every epoch", key=f"race_shuffle_{i}")
    return settings if ok else None


def schedule_params(settings: dict) -> dict[str, float]:
    """The schedule parameters held in a racer's settings."""
    return {name: settings[name] for name in SCHEDULES[settings["schedule"]]}


# ------------------------------------------------------------------------------------------ the race
def new_race(
    ds: Dataset, settings: list[dict], seed: int, patience: int | None = None, max_epochs: float = 20.0
) -> Race:
    """Fresh racers on ``ds``, all from the same initial weights (from ``seed``) and the same shuffles."""
    init = init_model(ds.n_features, ds.n_classes, seed)
    racers, names = [], set()
    for s in settings:
        trainer = Trainer(
            ds.X_train,
            ds.y_train,
            ds.X_val,
            ds.y_val,
            batch_size=s["batch_size"],
            eta=s["eta"],
            schedule=s["schedule"],
            shuffle=s["shuffle"],
            seed=seed,
            init=init,
            n_classes=ds.n_classes,
            early_stopping_patience=patience,
            **schedule_params(s),
        )
        name = racer_label(s["batch_size"], len(ds.y_train))
        while name in names:  # two racers with one batch size: tell them apart in the legend
            name += " ʹ"
        names.add(name)
        racers.append(Racer(name, trainer, {**s, "seed": seed}))
    return Race(ds, racers, running=False, seed=seed, patience=patience, max_epochs=max_epochs)


def sync_settings(
    race: Race, settings: list[dict | None], ds: Dataset, seed: int, patience: int | None, max_epochs: float
) -> list[str]:
    """Apply what can change mid-race (eta0, schedule and its parameters: from the next update; the epoch
    limit) and return what cannot (reasons to reset). Racers whose boxes hold errors keep their settings."""
    race.max_epochs = max_epochs
    reasons = []
    if race.dataset is not ds:
        reasons.append(f"the dataset changed (the race runs on {race.dataset.name})")
    if len(settings) != len(race.racers):
        reasons.append(f"the number of racers changed ({len(race.racers)} in the race)")
    if seed != race.seed:
        reasons.append(f"the seed changed (the race started from seed {race.seed})")
    if patience != race.patience:
        reasons.append("the early-stopping setting changed")
    for i, (racer, s) in enumerate(zip(race.racers, settings, strict=False)):
        if s is None:
            continue
        old = racer.settings
        for key, what in (("batch_size", "batch size"), ("shuffle", "shuffling")):
            if s[key] != old[key]:
                reasons.append(f"racer {i + 1}'s {what} changed ({old[key]} in the race)")
        lr = {"eta": s["eta"], "schedule": s["schedule"], **schedule_params(s)}
        if any(old.get(k) != v for k, v in lr.items()):
            racer.trainer.set_learning_rate(s["eta"], s["schedule"], **schedule_params(s))
            racer.settings = {k: v for k, v in old.items() if k not in SCHEDULES[old["schedule"]]} | lr
    return reasons


def step_race(race: Race, pace: float | None, refresh: float = REFRESH, budget: float = TIME_BUDGET) -> bool:
    """One live run: move the race clock by ``pace`` epochs per second since the last run (at least one
    ``refresh``, at most the longer of a second and one ``refresh``: a slow browser slows the race, never makes
    it jump) and advance every racer towards it within ``budget`` seconds (less when many sessions train at
    once: see ``ui.throttle``). Stop the race (``running = False``) and return True once nobody can move."""
    active = [r.trainer for r in race.racers if not r.trainer.finished]
    epochs_done = [t.samples / len(t.X) for t in active]
    now = time.monotonic()
    elapsed = refresh if race.last_step is None else min(max(now - race.last_step, refresh), max(refresh, 1.0))
    race.last_step = now
    if pace is None:
        race.clock = race.max_epochs
    else:  # at most one step ahead of the leader: racers that lagged behind the clock cannot then jump
        step = pace * elapsed
        race.clock = min(race.max_epochs, race.clock + step, max(epochs_done, default=0.0) + step)
    limits = [updates_until_epoch(t, race.clock) for t in active]
    share = session_budget(budget, refresh)
    with training():
        advance_racers(active, share, limits)
    if race_over(race):
        race.running = False
        return True
    return False


def plus_one_epoch(race: Race) -> None:
    """Advance every racer still able to by one epoch's worth of updates (the "+1 epoch" button)."""
    for racer in race.racers:
        racer.trainer.advance(max_updates=racer.trainer.updates_per_epoch)
    race.clock = max(r.trainer.samples / len(r.trainer.X) for r in race.racers)


def race_over(race: Race) -> bool:
    """True when no racer can move: each diverged, stopped early or reached the epoch limit."""
    return all(r.trainer.finished or updates_until_epoch(r.trainer, race.max_epochs) == 0 for r in race.racers)


def race_status(racer: Racer, max_epochs: float) -> str:
    """One line: how far the racer is and why it stopped, if it did."""
    t = racer.trainer
    epochs = t.samples / len(t.X)
    line = f"{t.update:,} updates · {epochs:.2f} epochs"
    if t.diverged:
        return f"✖ DIVERGED at update {t.diverged_at:,} — {line}. Lower η₀ and press Reset."
    if t.stopped_early:
        return f"⏹ stopped early (best validation loss at update {t.best_update:,}) — {line}"
    if updates_until_epoch(t, max_epochs) == 0:
        return f"🏁 finished {max_epochs:g} epochs — {line}"
    return line


# ------------------------------------------------------------------------------------------ callbacks
def start(ds: Dataset, settings: list[dict], seed: int, patience: int | None, max_epochs: float) -> None:
    """Start's callback: a fresh race, running."""
    race = new_race(ds, settings, seed, patience, max_epochs)
    race.running = True
    set_race(race)


def pause() -> None:
    """Pause's callback."""
    if race := get_race():
        race.running = False
        race.last_step = None  # paused time does not move the race clock


def resume() -> None:
    """Resume's callback."""
    if race := get_race():
        race.running = True


def reset() -> None:
    """Reset's callback: forget the race (the next Start builds it from the boxes)."""
    set_race(None)


def one_epoch(ds: Dataset, settings: list[dict], seed: int, patience: int | None, max_epochs: float) -> None:
    """+1 epoch's callback: every racer does one more epoch (a paused race is created first if needed)."""
    race = get_race() or new_race(ds, settings, seed, patience, max_epochs)
    set_race(race)
    plus_one_epoch(race)


def new_seed() -> None:
    """New seed's callback: draw a seed; a race in progress restarts from the new common initial weights."""
    seed = random.randrange(1, 100_000)
    st.session_state["race_seed"] = seed
    if race := get_race():
        settings = [{k: v for k, v in r.settings.items() if k != "seed"} for r in race.racers]
        fresh = new_race(race.dataset, settings, seed, race.patience, race.max_epochs)
        fresh.running = race.running
        set_race(fresh)


# ------------------------------------------------------------------------------------------ reference line
_REFERENCES: weakref.WeakKeyDictionary[Dataset, Reference] = weakref.WeakKeyDictionary()


def linear_reference(ds: Dataset) -> Reference:
    """The measured reference accuracy for ``ds`` (once per dataset object and process)."""
    if ds not in _REFERENCES:
        with st.spinner("Measuring the linear model's reference accuracy on this dataset (once, at most 2 s)..."):
            _REFERENCES[ds] = reference_accuracy(ds.X_train, ds.y_train, ds.X_val, ds.y_val, ds.n_classes)
    return _REFERENCES[ds]


# ------------------------------------------------------------------------------------------ figures
def _finite(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


FigureSpec = dict[str, Any]
"""A live chart as a plain Plotly dict ``{"data": [...], "layout": {...}}``, for ``st.plotly_chart``, which
validates a dict once. Built as ``go.Figure`` objects trace by trace, every ``add_trace`` and ``update_layout``
validated again: the three live charts cost about 34 ms of server time per refresh instead of about 9 ms, build
and ``st.plotly_chart`` together (``python -m benchmarks.draw_cost``), for the same JSON sent to the browser."""


def _axis(title: str, log: bool) -> dict[str, Any]:
    return {
        "title": {"text": title, **AXIS_FONT["title"]},
        "tickfont": AXIS_FONT["tickfont"],
        "type": "log" if log else "linear",
    }


def _live_figure(
    traces: list[dict[str, Any]],
    title: str,
    axis: str,
    log_x: bool,
    y_title: str,
    log_y: bool = False,
    yaxis: dict[str, Any] | None = None,
    **layout: Any,
) -> FigureSpec:
    """The race charts' shared look around ``traces``; ``yaxis`` and ``layout`` add to it."""
    legend = any(t.get("showlegend") is not False for t in traces)
    return {
        "data": traces,
        "layout": {
            # With a legend (up to two rows of racers at 1,400 px), the title sits at the very top, above it.
            "title": {"text": title, "font": {"size": 20}}
            | ({"yref": "container", "y": 1, "yanchor": "top", "pad": {"t": 8}} if legend else {}),
            "font": FONT,
            "height": 460,
            "margin": {"t": 110 if legend else 60, "b": 10, "l": 10, "r": 10},
            "legend": {"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0, "font": {"size": 15}},
            "uirevision": f"{title}-{axis}-{log_x}-{log_y}",  # keep the user's zoom while the curves grow
            "hovermode": "x unified",
            "xaxis": _axis(AXES[axis], log_x),
            "yaxis": _axis(y_title, log_y) | (yaxis or {}),
            **layout,
        },
    }


def _history_xy(racer: Racer, column: str, axis: str) -> tuple[np.ndarray, np.ndarray]:
    h = racer.trainer.history
    x, y = _finite(getattr(h, axis).astype(float), getattr(h, column).astype(float))
    idx = thin(len(x), MAX_DRAWN)
    return x[idx], y[idx]


def _diverged_marker(diverged: bool, color: str, x: np.ndarray, y: np.ndarray) -> list[dict[str, Any]]:
    """An ✖ at a curve's last finite point, labelled, when its run diverged (a list of 0 or 1 trace)."""
    if not (diverged and len(x)):
        return []
    return [
        {
            "type": "scatter",
            "x": [x[-1]],
            "y": [y[-1]],
            "mode": "markers+text",
            "marker": {"symbol": "x", "size": 16, "color": color},
            "text": ["diverged"],
            "textposition": "top center",
            "textfont": {"color": color, "size": 15},
            "showlegend": False,
        }
    ]


def _line(
    x: np.ndarray, y: np.ndarray, name: str, color: str, width: int = 3, dash: str | None = None, **props: Any
) -> dict[str, Any]:
    """A curve (a scatter trace in lines mode); ``props`` are further trace properties."""
    line = {"color": color, "width": width} | ({"dash": dash} if dash else {})
    return {"type": "scatter", "x": x, "y": y, "mode": "lines", "name": name, "line": line} | props


def loss_figure(racers: list[Racer], axis: str = "epochs", log_x: bool = False, log_y: bool = False) -> FigureSpec:
    """Training (solid) and validation (dashed) cross-entropy of every racer against ``axis``."""
    traces: list[dict[str, Any]] = []
    for i, racer in enumerate(racers):
        color = COLORS[i % len(COLORS)]
        for column, dash, label in (("train_loss", "solid", "train"), ("val_loss", "dash", "validation")):
            x, y = _history_xy(racer, column, axis)
            traces.append(
                _line(
                    x,
                    y,
                    racer.name,
                    color,
                    dash=dash,
                    legendgroup=racer.name,
                    showlegend=False,  # the racers' colours are named in the status line above the charts
                    hovertemplate=f"{label}: %{{y:.4g}}",
                )
            )
            if column == "train_loss":
                traces += _diverged_marker(racer.trainer.diverged, color, x, y)
    return _live_figure(traces, "Loss C: training (solid), validation (dashed)", axis, log_x, "cross-entropy C", log_y)


def accuracy_figure(
    racers: list[Racer], axis: str = "epochs", log_x: bool = False, reference: Reference | None = None
) -> FigureSpec:
    """Validation accuracy of every racer against ``axis``, with the linear model's reference line."""
    traces: list[dict[str, Any]] = []
    for i, racer in enumerate(racers):
        color = COLORS[i % len(COLORS)]
        x, y = _history_xy(racer, "val_accuracy", axis)
        traces.append(_line(x, y, racer.name, color, showlegend=False))
        traces += _diverged_marker(racer.trainer.diverged, color, x, y)
    marks: dict[str, Any] = {}
    if reference is not None:  # a dotted line across the plot, labelled at its left end
        y = reference.accuracy
        marks["shapes"] = [
            {
                "type": "line",
                "xref": "x domain",
                "x0": 0,
                "x1": 1,
                "yref": "y",
                "y0": y,
                "y1": y,
                "line": {"dash": "dot", "color": "#555", "width": 2},
            }
        ]
        marks["annotations"] = [
            {
                "text": f"linear model ≈ {y:.1%}",
                "font": {"size": 15},
                "showarrow": False,
                "xref": "x domain",
                "x": 0,
                "xanchor": "left",
                "yref": "y",
                "y": y,
                "yanchor": "bottom",
            }
        ]
    yaxis = {"range": [0, 1.02], "tickformat": ".0%"}
    return _live_figure(traces, "Validation accuracy", axis, log_x, "accuracy", yaxis=yaxis, **marks)


def trace_figure(racers: list[Racer], axis: str = "epochs", log_x: bool = False, log_y: bool = False) -> FigureSpec:
    """The loss of every update's mini-batch: raw (faint) and its exponential moving average (bold)."""
    traces: list[dict[str, Any]] = []
    for i, racer in enumerate(racers):
        color = COLORS[i % len(COLORS)]
        h = racer.trainer.history
        x_all = trace_x(racer.trainer, h.trace_updates, axis)
        smooth_all = ema(h.trace_loss, smoothing_span(racer.trainer))
        idx = thin(len(x_all), MAX_DRAWN)
        x, raw, smooth = x_all[idx], h.trace_loss[idx].astype(float), smooth_all[idx]
        raw = np.where(np.isfinite(raw), raw, np.nan)
        traces += [
            _line(
                x,
                raw,
                f"{racer.name} · raw",
                color,
                width=1,
                legendgroup=racer.name,
                showlegend=False,
                opacity=0.25,
                hoverinfo="skip",
            ),
            _line(x, smooth, f"{racer.name} · smoothed", color, legendgroup=racer.name),
        ]
        traces += _diverged_marker(racer.trainer.diverged, color, *_finite(x, smooth))
    return _live_figure(
        traces, "Mini-batch loss of every update (faint) and its moving average", axis, log_x, "C", log_y
    )


def cost_table(race: Race) -> dict[str, list[str]]:
    """The guide's cost table for the race's N, D, K and each racer's B, beside the measured time per update."""
    ds = race.dataset
    N, D, K = len(ds.y_train), ds.n_features, ds.n_classes
    rows: dict[str, list[str]] = {
        "racer": [],
        "B": [],
        "computation / update (B·K·D)": [],
        "memory (B·D + K·D)": [],
        "updates / epoch ⌈N/B⌉": [],
        "measured time / update": [],
        "updates / s": [],
    }
    for racer in race.racers:
        B = racer.trainer.batch_size
        costs = update_costs(N, D, K, B)
        spu = racer.trainer.seconds_per_update
        rows["racer"].append(racer.name)
        rows["B"].append(f"{B:,}")
        rows["computation / update (B·K·D)"].append(f"{costs['computation_per_update']:,}")
        rows["memory (B·D + K·D)"].append(f"{costs['memory']:,}")
        rows["updates / epoch ⌈N/B⌉"].append(f"{costs['updates_per_epoch']:,}")
        rows["measured time / update"].append("—" if math.isnan(spu) else _duration(spu))
        rows["updates / s"].append("—" if math.isnan(spu) or spu == 0 else f"{1 / spu:,.0f}")
    return rows


def _duration(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


_PARAM_TEX = {"decay": r"\mathrm{decay}", "alpha": r"\alpha", "lam": r"\lambda"}


def schedule_latex(racer: Racer) -> str:
    """The racer's eta0, schedule parameters and the learning rate of its next update t, in LaTeX."""
    t = racer.trainer
    values = "".join(rf",\ {_PARAM_TEX[k]} = {v:g}" for k, v in t.schedule_params.items())
    return rf"\eta_0 = {t.eta0:g}{values}:\quad \eta_{{{t.update}}} = {t.eta:.4g}"


def noise_of(racer: Racer) -> GradientNoise:
    """The racer's gradient noise at its current weights, sigma^2 measured on the evaluation-size subset."""
    t = racer.trainer
    idx = thin(len(t.X), EVAL_SUBSET)
    return gradient_noise(t.model, t.X[idx], t.y[idx], len(t.X), t.batch_size)


def _panel_layout(
    fig: go.Figure, title: str, legend_y: float, x_title: str, y_title: str, log_x: bool = False
) -> go.Figure:
    """The look of the two experiment panels' charts: legend below the plot, log y axis."""
    fig.update_layout(
        title={"text": title, "font": {"size": 20}},
        font=FONT,
        height=440,
        margin={"t": 60, "b": 10, "l": 10, "r": 10},
        legend={"orientation": "h", "y": legend_y, "font": {"size": 15}},
    )
    fig.update_xaxes(title_text=x_title, type="log" if log_x else "linear", **AXIS_FONT)
    fig.update_yaxes(title_text=y_title, type="log", **AXIS_FONT)
    return fig


def variance_figure(result: GradientVariance) -> go.Figure:
    """Measured ``E||g_B - g||^2`` against B on log-log axes, with the guide's ``sigma^2 / B`` line."""
    B = result.batch_sizes.astype(float)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=B,
            y=result.variance,
            mode="markers+lines",
            name="measured E‖g_B − g‖²",
            marker={"size": 12, "color": COLORS[0]},
            line={"width": 2, "color": COLORS[0]},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=B,
            y=result.sigma2 / B,
            mode="lines",
            name="σ² / B (the guide)",
            line={"dash": "dash", "width": 3, "color": "#555"},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=B,
            y=result.predicted,
            mode="lines",
            name="σ²/B · (N − B)/(N − 1) (without replacement)",
            line={"dash": "dot", "width": 3, "color": COLORS[1]},
        )
    )
    return _panel_layout(
        fig, "Mini-batch gradient noise falls as 1/B", -0.25, "batch size B", "E‖g_B − g‖²", log_x=True
    )


def sweep_figure(runs: list[SweepRun]) -> go.Figure:
    """Training loss against epochs for every eta of a sweep; diverged runs end in a labelled ✖."""
    fig = go.Figure()
    palette = ("#6a3d9a", "#1f5fbf", "#2e7d32", "#e07b00", "#c62828", "#555555")
    for i, run in enumerate(runs):
        color = palette[i % len(palette)]
        x, y = _finite(run.epochs.astype(float), run.train_loss.astype(float))
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines+markers",
                name=f"η = {run.eta:g} · {run.verdict}",
                line={"color": color, "width": 3},
                marker={"size": 6},
            )
        )
        fig.add_traces(_diverged_marker(run.diverged, color, x, y))
    return _panel_layout(fig, "Learning-rate sweep: training loss", -0.22, AXES["epochs"], "cross-entropy C")


def sweep_table(runs: list[SweepRun]) -> dict[str, list[str]]:
    """One row per eta: final losses, accuracy and the verdict."""
    return {
        "η": [f"{r.eta:g}" for r in runs],
        "epochs done": [f"{r.epochs[-1]:.2f}" + ("" if r.complete else " (time limit)") for r in runs],
        "final training loss": [f"{r.train_loss[-1]:.4g}" for r in runs],
        "final validation accuracy": [
            "—" if not np.isfinite(r.val_accuracy[-1]) else f"{r.val_accuracy[-1]:.1%}" for r in runs
        ],
        "verdict": [r.verdict + (f" at update {r.diverged_at:,}" if r.diverged else "") for r in runs],
    }


# ------------------------------------------------------------------------------------------ page sections
PACE_LABELS = {label: value for value, label in PACES.items()}
VARIANCE_SIZES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
SWEEP_TIME_LIMIT = 1.5
"""Seconds of training per learning rate of a sweep, at most (the sweep blocks the page while it runs)."""


def race_options() -> tuple[int, int, int | None, float, float | None]:
    """Draw the race-wide options in the sidebar; return (racers, seed, patience or None, epoch limit, pace)."""
    for key, value in (("race_n", 3), ("race_seed", 0), ("race_patience", 0), ("race_epochs", 20)):
        st.session_state.setdefault(persistent(key), value)
    st.session_state.setdefault(persistent("race_pace"), PACES[1.0])
    box = st.sidebar.container(border=True)
    box.markdown("**Race**")
    n = box.number_input("Racers", min_value=2, max_value=4, step=1, key="race_n")
    epochs = box.number_input("Stop after (epochs)", min_value=1, max_value=1000, step=1, key="race_epochs")
    pace = box.select_slider(
        "Pace",
        options=list(PACE_LABELS),
        key="race_pace",
        help="How fast the race clock runs. Every racer may process this many epochs per second of page time; "
        "one that cannot keep up within the compute budget falls behind.",
    )
    patience = box.number_input(
        "Early stopping: patience",
        min_value=0,
        max_value=100,
        step=1,
        key="race_patience",
        help="Stop a racer after this many evaluations without a new best validation loss. 0 = off.",
    )
    seed = box.number_input("Seed of the initial weights", min_value=0, max_value=2**31 - 1, step=1, key="race_seed")
    box.button(
        "New seed",
        key="race_new_seed",
        icon=":material/casino:",
        on_click=new_seed,
        help="Draw new common initial weights for every racer (a race in progress restarts from them).",
    )
    return int(n), int(seed), int(patience) or None, float(epochs), PACE_LABELS[pace]


def racers_inputs(n: int, n_train: int) -> list[dict | None]:
    """Draw n racers' settings side by side; the parsed settings (None for a racer with a bad box)."""
    settings = []
    for i, col in enumerate(st.columns(n)):
        with col.container(border=True):
            st.markdown(f"**Racer {i + 1}** <span style='color:{COLORS[i]}'>■</span>", unsafe_allow_html=True)
            settings.append(racer_inputs(i, n_train))
    return settings


def controls(ds: Dataset, settings: list[dict | None], seed: int, patience: int | None, max_epochs: float) -> None:
    """Start / Pause / Resume, Reset and +1 epoch, and why the race must be reset, if it must."""
    race = get_race()
    valid = all(s is not None for s in settings)
    args = (ds, settings, seed, patience, max_epochs)
    reasons = [] if race is None else sync_settings(race, settings, ds, seed, patience, max_epochs)
    cols = st.columns([1, 1, 1, 4])
    if race is None:
        cols[0].button(
            "Start",
            key="race_start",
            type="primary",
            icon=":material/play_arrow:",
            on_click=start,
            args=args,
            disabled=not valid,
        )
    elif race.running:
        cols[0].button("Pause", key="race_pause", type="primary", icon=":material/pause:", on_click=pause)
    else:
        cols[0].button(
            "Resume",
            key="race_resume",
            type="primary",
            icon=":material/play_arrow:",
            on_click=resume,
            disabled=race_over(race),
        )
    cols[1].button("Reset", key="race_reset", icon=":material/restart_alt:", on_click=reset, disabled=race is None)
    cols[2].button(
        "+1 epoch",
        key="race_epoch",
        icon=":material/skip_next:",
        on_click=one_epoch,
        args=args,
        disabled=race is None and not valid,
    )
    if race is None:
        cols[3].caption(
            "Press Start: every racer starts from the same initial weights."
            if valid
            else "Fix the settings marked in red to start."
        )
        return
    state = "running" if race.running else ("finished" if race_over(race) else "paused")
    cols[3].caption(f"Race {state} on **{race.dataset.name}**, seed {race.seed}.")
    if reasons:
        st.warning(
            "The race keeps its old settings because " + "; ".join(reasons) + ". Press Reset to race with the new "
            "ones (changes to η₀ and the schedule apply at once, from the next update).",
            icon=":material/restart_alt:",
        )
        st.button("Reset to apply", key="race_reset_apply", icon=":material/restart_alt:", on_click=reset)
    if any(s is None for s in settings):
        st.info("Racers with a red box keep racing with their last good settings.", icon=":material/info:")


def chart_options() -> tuple[str, bool, bool]:
    """The x-axis and log-scale switches; return (axis, log x, log y)."""
    st.session_state.setdefault(persistent("race_axis"), "epochs")
    st.session_state.setdefault(persistent("race_logx"), False)
    st.session_state.setdefault(persistent("race_logy"), True)
    cols = st.columns([4, 1, 1])
    axis = cols[0].radio("x-axis", list(AXES), format_func=AXES.get, horizontal=True, key="race_axis")
    log_x = cols[1].checkbox("log x", key="race_logx")
    log_y = cols[2].checkbox("log loss", key="race_logy")
    return axis, log_x, log_y


def live_refresh() -> float:
    """Seconds between live runs: ``REFRESH``, longer when many sessions race at once (``ui.throttle``)."""
    return refresh_interval(REFRESH)


def details_refresh(refresh: float) -> float:
    """Seconds between two refreshes of the details: ``DETAILS_REFRESH``, stretched as ``refresh`` is."""
    return DETAILS_REFRESH * refresh / REFRESH


def live_race(pace: float | None, axis: str, log_x: bool, log_y: bool, refresh: float = REFRESH) -> None:
    """The fragment's body (run every ``refresh`` s): advance the race by one bounded chunk if running, draw it."""
    race = get_race()
    if race is None:
        st.info("No race yet: the curves appear here once you press Start (or +1 epoch).")
        return
    if race.running and step_race(race, pace, refresh=refresh):
        st.rerun()  # everybody stopped: a full rerun switches the timer off and Pause back to Resume
    if race.running and not refresh / 1.5 <= live_refresh() <= refresh * 1.5:
        st.rerun()  # the class grew or shrank: a full rerun sets the fragment's new timer
    cols = st.columns(len(race.racers))
    for i, (racer, col) in enumerate(zip(race.racers, cols, strict=True)):
        status = race_status(racer, race.max_epochs)
        spu = racer.trainer.seconds_per_update
        rate = "" if math.isnan(spu) else f" · **{1 / spu:,.0f} updates/s**"
        if racer.trainer.diverged:
            col.error(f"**{racer.name}**  \n{status}", icon=":material/close:")
        else:
            col.markdown(
                f"<span style='color:{COLORS[i]}'>■</span> **{racer.name}**  \n{status}{rate}", unsafe_allow_html=True
            )
    reference = linear_reference(race.dataset)
    left, right = st.columns(2)
    left.plotly_chart(loss_figure(race.racers, axis, log_x, log_y), key="race_loss", width="stretch")
    right.plotly_chart(accuracy_figure(race.racers, axis, log_x, reference), key="race_acc", width="stretch")
    st.plotly_chart(trace_figure(race.racers, axis, log_x, log_y), key="race_trace", width="stretch")
    st.caption(
        f"Curves are evaluated on fixed subsets (at most {EVAL_SUBSET:,} evenly spaced training and "
        f"{EVAL_SUBSET:,} validation images, the same for every racer), every ⌈2.5 × evaluation images / B⌉ "
        "updates but at least four times per epoch (each racer's interval is in its 'why' panel), so evaluating "
        "never dominates training; evaluation time is left out of the wall-time axis. The dotted line: "
        f"softmax regression trained for {reference.epochs} epochs (B = {reference.batch_size}, "
        f"η = {reference.eta:g}/(1 + 10⁻⁴ t)) on this training split reached {reference.accuracy:.1%} "
        "validation accuracy, measured when the dataset was first raced (on full MNIST a linear model reaches "
        "about 92% test accuracy; LeCun et al. 1998 list 12% error for a linear classifier)."
    )


def race_details() -> None:
    """The cost table with measured times and the per-racer 'why' panels (refreshed less often than charts)."""
    race = get_race()
    if race is None:
        return
    st.subheader("The guide's cost table, measured")
    st.table(cost_table(race))
    st.caption(
        "Computation counts the multiply-adds of the scores W x for a batch; memory counts the numbers held "
        "(the batch and W). Measured time per update is the racer's training time divided by its updates."
    )
    st.subheader("Why each racer moves as it does")
    for racer, col in zip(race.racers, st.columns(len(race.racers)), strict=True):
        with col.container(border=True):
            why_panel(racer)


def why_panel(racer: Racer) -> None:
    """Updates per epoch, the current learning rate with its formula, the gradient-noise estimate."""
    t = racer.trainer
    st.markdown(f"**{racer.name}**")
    st.metric("Updates per epoch ⌈N/B⌉", f"{t.updates_per_epoch:,}")
    st.latex(SCHEDULE_FORMULAS[t.schedule])
    st.latex(schedule_latex(racer))
    if t.diverged:
        st.caption("Gradient noise: — (the weights are no longer finite).")
        return
    noise = noise_of(racer)
    st.latex(r"\mathbb{E}\|g_B - g\|^2 \approx \frac{\sigma^2}{B}\,\frac{N-B}{N-1}")
    st.metric("Gradient noise E‖g_B − g‖²", f"{noise.variance:.3g}")
    if t.batch_size == len(t.X):
        why = "none: every update uses the whole training set, so each step is the exact gradient."
    else:
        why = f"{noise.ratio:.3g} × the squared gradient ‖g‖² = {noise.gradient_norm2:.3g}."
    st.caption(
        f"σ² = {noise.sigma2:.3g}: the per-sample gradient variance at the current weights (on {EVAL_SUBSET:,} "
        f"training images). Noise: {why} Curves evaluated every {t.eval_every:,} updates."
    )


def _request(flag: str) -> None:
    """A button's callback: ask this run to do the (bounded, blocking) experiment, shown with a spinner."""
    st.session_state[flag] = True


def variance_panel(ds: Dataset, seed: int) -> None:
    """The gradient-variance experiment: at a racer's current weights (or the initial ones), for several B."""
    race = get_race()
    choices = {"the initial weights (seed)": None}
    if race is not None and race.dataset is ds:
        choices |= {f"{r.name}'s current weights": r for r in race.racers if not r.trainer.diverged}
    where = st.selectbox("Measure at", list(choices), key="race_var_at")
    N = len(ds.y_train)
    sizes = [B for B in VARIANCE_SIZES if B <= N // 2]
    st.button("Measure the gradient noise", key="race_var_run", on_click=_request, args=("race_var_pending",))
    if st.session_state.pop("race_var_pending", False):
        racer = choices[where]
        model = racer.trainer.model.copy() if racer else init_model(ds.n_features, ds.n_classes, seed)
        with st.spinner("Drawing mini-batches..."), training_threads():
            result = gradient_variance(model, ds.X_train, ds.y_train, sizes, n_draws=20, seed=seed)
        st.session_state["race_variance"] = (where, ds.name, result)
    if measured := st.session_state.get("race_variance"):
        label, name, result = measured
        st.plotly_chart(variance_figure(result), key="race_variance_fig", width="stretch")
        st.caption(
            f"At {label} on {name}: each point averages ‖g_B − g‖² over {result.n_draws} batches drawn without "
            f"replacement; g is the full gradient over all N training images. σ² = {result.sigma2:.3g} is the "
            f"per-sample variance and ‖g‖² = {result.gradient_norm2:.3g}. On log-log axes 1/B is a line of "
            "slope −1; the finite-population factor (N − B)/(N − 1) bends it down as B approaches N."
        )


def sweep_panel(ds: Dataset, settings: list[dict | None], seed: int) -> None:
    """The learning-rate sweep: one racer's settings at several eta, a few epochs each, bounded in time."""
    usable = {
        f"Racer {i + 1}: {racer_label(s['batch_size'], len(ds.y_train))}": s
        for i, s in enumerate(settings)
        if s is not None
    }
    if not usable:
        st.info("Fix the racers' settings to run a sweep.")
        return
    cols = st.columns([2, 3, 1])
    name = cols[0].selectbox("Racer", list(usable), index=min(1, len(usable) - 1), key="race_sweep_racer")
    s = usable[name]
    st.session_state.setdefault(persistent("race_sweep_epochs"), 3)
    with cols[1]:
        etas = vector_input(
            "Learning rates η to try",
            ", ".join(f"{e:g}" for e in sweep_etas(s["eta"])),
            key=f"race_sweep_etas_{name[:7]}",
        )
        if etas is not None:
            try:
                etas = [check_eta(e, "each η") for e in etas]
                if len(etas) > 8:
                    raise ValueError(f"at most 8 learning rates per sweep; got {len(etas)}")
            except ValueError as exc:
                st.error(str(exc), icon=":material/error:")
                etas = None
    epochs = cols[2].number_input("Epochs", min_value=1, max_value=20, step=1, key="race_sweep_epochs")
    st.button(
        "Run the sweep", key="race_sweep_run", disabled=etas is None, on_click=_request, args=("race_sweep_pending",)
    )
    if st.session_state.pop("race_sweep_pending", False) and etas is not None:
        init = init_model(ds.n_features, ds.n_classes, seed)
        with st.spinner(f"Training {len(etas)} runs (at most {SWEEP_TIME_LIMIT:g} s each)..."):
            runs = lr_sweep(
                ds.X_train,
                ds.y_train,
                ds.X_val,
                ds.y_val,
                batch_size=s["batch_size"],
                etas=etas,
                epochs=int(epochs),
                init=init,
                n_classes=ds.n_classes,
                seed=seed,
                time_limit=SWEEP_TIME_LIMIT,
                schedule=s["schedule"],
                shuffle=s["shuffle"],
                **schedule_params(s),
            )
        st.session_state["race_sweep"] = (name, ds.name, runs)
    if done := st.session_state.get("race_sweep"):
        label, data_name, runs = done
        st.plotly_chart(sweep_figure(runs), key="race_sweep_fig", width="stretch")
        st.table(sweep_table(runs))
        st.caption(
            f"{label} on {data_name}, from the race's initial weights. 'best' has the lowest final training loss; "
            "smaller η crawl, larger ones oscillate (the loss rises between evaluations) or diverge (a loss above "
            "10 ln K or a non-finite weight stops the run)."
        )
