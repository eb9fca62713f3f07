"""Sections, controls and callbacks of the Optimisation Geometry page; its figures are built in ``ui.geometry``.

The live views (``regions_view``, ``paths_view``) are plain functions: the page wraps each in its
``st.fragment(run_every=...)``, whose timer is read from session_state when the page runs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core.geometry import (
    BLOB_RADIUS,
    CLASS_COUNTS,
    WeightSlice,
    bgd_minimum,
    boundaries,
    check_weights,
    decision_regions,
    descent_path,
    divergence_limit,
    fit_optimum,
    gradient_field,
    loss_surface,
    make_blobs,
    plane_extent,
    points_from_rows,
    train_live,
)
from core.parsing import format_matrix, format_vector
from core.training import SCHEDULE_FORMULAS, SCHEDULES
from ui.geometry import (
    convergence_figure,
    loss_curves_figure,
    paths_figure,
    regions_figure,
    surface_3d_figure,
    surface_figure,
)
from ui.inputs import matrix_input, vector_input
from ui.state import persistent

LIVE, PLAY, POINTS_OK, VIEW_KEY = "geo_live", "geo_play", "geo_points_ok", "geo_view"
VIEWS = ["Decision regions", "Loss surface", "BGD vs SGD paths"]
# Seconds between fragment runs while training / playing. Seen in Chromium: with 0.2 s the paths view's ~100 KB
# of figures per run never got drawn (each run replaced the previous before it was shown); 0.5 s draws every run.
TRAIN_TICK, PLAY_TICK = 0.25, 0.7
PLAY_FRAMES = 30  # an animation shows about this many frames, whatever the number of updates
TRAIN_BUDGET = 0.04  # seconds of training per tick: keeps each run short
PATHS = {"Batch GD": "bgd", "Mini-batch SGD": "mb", "Pure SGD": "sgd"}
PATH_DEFAULTS = {"bgd": (0.5, "constant"), "mb": (0.5, "constant"), "sgd": (0.5, "inverse")}
PARAM_LABELS = {"decay": "decay per epoch", "alpha": "α", "lam": "λ"}
DEFAULT_POINTS = (
    "-2, 1, 1\n-1.5, 2, 1\n-2.5, 0.5, 1\n2, 1, 2\n1.5, 2.2, 2\n2.5, 0, 2\n0, -2, 3\n0.5, -2.5, 3\n-0.6, -1.8, 3"
)


def widget_default(key: str, value: object) -> str:
    """Seed a widget's value once (kept across page visits) and return its key."""
    st.session_state.setdefault(persistent(key), value)
    return key


def memo(name: str, key: tuple, compute: Callable[[], object]) -> object:
    """The value computed for ``key``, kept in session_state until the key changes (one entry per name)."""
    slot = st.session_state.get(name)
    if slot is None or slot[0] != key:
        slot = (key, compute())
        st.session_state[name] = slot
    return slot[1]


# ---------------------------------------------------------------- data


def data_controls() -> tuple[np.ndarray, np.ndarray, int, tuple]:
    """The 2-D points every view uses: Gaussian blobs, or points the user typed. Returns X, y, K and a key."""
    source, k_col, a, b, c = st.columns([1.4, 0.8, 1, 1, 1])
    with source:
        blobs = (
            st.radio("Data", ["Gaussian blobs", "Points I place"], key=widget_default("geo_source", "Gaussian blobs"))
            == "Gaussian blobs"
        )
    with k_col:
        K = st.selectbox("Classes K", CLASS_COUNTS, key=widget_default("geo_K", 3))
    if blobs:
        n = a.slider("Points per class", 10, 200, step=10, key=widget_default("geo_n", 50))
        spread = b.slider("Spread σ", 0.2, 3.0, step=0.1, key=widget_default("geo_spread", 1.0))
        seed = c.number_input("Seed", 0, 10_000, step=1, key=widget_default("geo_seed", 0))
        X, y = make_blobs(K, n, spread, int(seed))
        st.caption(f"Blob centres on a circle of radius {BLOB_RADIUS:g} around the origin, x ~ N(c_k, σ²I).")
        return X, y, K, ("blobs", K, n, spread, int(seed))
    with st.container():
        rows = matrix_input(
            "Points, one per line: x₁, x₂, class (1..K)", DEFAULT_POINTS, key="geo_points",
            help="Type or paste points; each line is x1, x2 and the class number from 1 to K.",
        )  # fmt: skip
        try:
            if rows is not None:
                st.session_state[POINTS_OK] = points_from_rows(rows, K) + (K,)
        except ValueError as exc:
            st.error(str(exc), icon=":material/error:")
        X, y, K_ok = st.session_state.get(POINTS_OK) or points_from_rows(np.array([[0, 0, 1], [1, 1, 2]]), 2) + (2,)
        if K_ok != K:
            st.info(f"Still showing the last valid points (K = {K_ok}).", icon=":material/info:")
    return X, y, K_ok, ("points", X.tobytes(), y.tobytes(), K_ok)


# ---------------------------------------------------------------- view 1: decision regions


def live_state(X: np.ndarray, y: np.ndarray, K: int, data_key: tuple, batch_size: int, eta: float) -> dict:
    """The session's live trainer; a new one (paused) when the data or the batch size changed."""
    live = st.session_state.get(LIVE)
    key = (data_key, batch_size)
    if live is None or live["key"] != key:
        live = {"key": key, "trainer": train_live(X, y, K, batch_size, eta), "running": False}
        st.session_state[LIVE] = live
    elif live["trainer"].eta0 != eta:
        live["trainer"].set_learning_rate(eta)
    return live


def set_running(running: bool) -> None:
    st.session_state[LIVE]["running"] = running


def reset_training() -> None:
    st.session_state.pop(LIVE, None)


def copy_trained_weights(K: int) -> None:
    """Fill the typed-weight boxes with the live model's weights (on_click: runs before the boxes are drawn)."""
    model = st.session_state[LIVE]["trainer"].model
    st.session_state[f"geo_W{K}"] = format_matrix(model.W, 4)
    st.session_state[f"geo_b{K}"] = format_vector(model.b, 4)


def regions_view(X: np.ndarray, y: np.ndarray, typed: object, show_typed: bool) -> None:
    """The plane coloured by arg-max class, boundaries and arrows; advances the live training while it runs."""
    live = st.session_state[LIVE]
    trainer = live["trainer"]
    if live["running"] and not trainer.finished:
        trainer.advance(time_budget=TRAIN_BUDGET)
        if trainer.finished:
            live["running"] = False
            st.rerun()  # a full run re-reads run_every, so the timer stops
    extent = plane_extent(X)
    if show_typed:
        if typed is None:
            st.info("Fix the typed weights to see their regions.", icon=":material/info:")
            return
        model, title = typed, "Decision regions of the typed weights"
    else:
        h = trainer.history
        cols = st.columns(4)
        cols[0].metric("Updates t", f"{trainer.update:,}")
        cols[1].metric("Epochs", f"{trainer.samples / len(X):.1f}")
        cols[2].metric("Loss C", f"{h.train_loss[-1]:.4f}")
        cols[3].metric("Accuracy", f"{h.train_accuracy[-1]:.1%}")
        if trainer.diverged:
            st.error(
                f"Training diverged at update {trainer.diverged_at}: the loss exceeded "
                f"{divergence_limit(trainer.model.n_classes):.1f} = 10 ln K. Lower η and press Reset.",
                icon=":material/error:",
            )
            return
        model, title = trainer.model, f"Decision regions after {trainer.update:,} updates"
    st.plotly_chart(
        regions_figure(decision_regions(model, extent), boundaries(model, extent), model.W, X, y, title),
        key="geo_regions",
        width="stretch",
    )


def regions_tab(X: np.ndarray, y: np.ndarray, K: int, data_key: tuple) -> tuple[DeltaGenerator, object, bool]:
    """View 1 without its figure: the text, the live-training and typed-weight controls.

    Returns the column for the figure, the typed weights (None while invalid) and whether to show them: the
    page draws ``regions_view`` there inside its fragment.
    """
    st.markdown(
        "Scores $s_k(x) = w_k \\cdot x + b_k$, with $w_k$ row $k$ of $W$. Each point of the plane gets the class "
        "with the largest score (the colour; paler where $\\max_k a_k$ is lower). The boundary between classes "
        "$i$ and $j$ is where $s_i(x) = s_j(x)$: the line $(w_i - w_j)\\cdot x + (b_i - b_j) = 0$, perpendicular "
        "to $w_i - w_j$. Each arrow is a weight vector $w_k$ drawn from the origin."
    )
    figure, controls = st.columns([1.7, 1])
    with controls:
        show_typed = (
            st.radio("Weights shown", ["Trained live", "Typed"], key=widget_default("geo_show", "Trained live"))
            == "Typed"
        )
        st.subheader("Train live")
        B = st.number_input("Batch size B", 1, 5000, step=1, key=widget_default("geo_live_B", 10))
        eta = st.number_input("Learning rate η", 1e-4, 1e4, format="%g", key=widget_default("geo_live_eta", 0.5))
        live = live_state(X, y, K, data_key, int(B), float(eta))
        if B > len(X):  # train_live uses B = N then: say so rather than show a B that is not used
            st.warning(f"B = {B} is more than the N = {len(X)} points: each update uses all N (batch GD).")
        start, pause, reset = st.columns(3)
        start.button("Start", key="geo_train_start", on_click=set_running, args=(True,), disabled=live["running"],
                     icon=":material/play_arrow:", width="stretch")  # fmt: skip
        pause.button("Pause", key="geo_train_pause", on_click=set_running, args=(False,),
                     disabled=not live["running"], icon=":material/pause:", width="stretch")  # fmt: skip
        reset.button("Reset", key="geo_train_reset", on_click=reset_training, icon=":material/restart_alt:",
                     width="stretch")  # fmt: skip
        st.caption(
            "The same mini-batch SGD as the Optimizer Race (core.training.Trainer), constant η. "
            "New data or a new B restart it."
        )
        st.subheader("Type the weights")
        angles = 2 * np.pi * np.arange(K) / K + np.pi / 2
        centres = BLOB_RADIUS * np.column_stack([np.cos(angles), np.sin(angles)])
        W = matrix_input(f"W ({K} × 2): row k is w_k", format_matrix(np.round(centres, 3) + 0.0, 3), key=f"geo_W{K}")
        b = vector_input(f"b ({K} numbers)", format_vector(np.zeros(K)), key=f"geo_b{K}")
        typed = None
        if W is not None and b is not None:
            try:
                typed = check_weights(W, b, K)
            except ValueError as exc:
                st.error(str(exc), icon=":material/error:")
        st.button("Copy the trained weights here", key="geo_copy", on_click=copy_trained_weights, args=(K,))
    return figure, typed, show_typed


# ---------------------------------------------------------------- view 2: the loss surface


def slice_geometry(X: np.ndarray, y: np.ndarray, K: int, data_key: tuple, k: int, start: np.ndarray) -> dict:
    """The two-parameter loss around its minimum, kept until the data, k or the start change."""
    optimum = memo("geo_optimum", data_key, lambda: fit_optimum(X, y, K))

    def compute() -> dict:
        problem = WeightSlice(X, y, optimum, k)
        minimum = bgd_minimum(problem)
        half = 1.25 * max(float(np.abs(start - minimum.theta).max()), 1.0)
        return {
            "problem": problem,
            "minimum": minimum,
            "surface": loss_surface(problem, minimum.theta, half, resolution=45),
            "field": gradient_field(problem, minimum.theta, half),
        }

    key = (data_key, k, tuple(start))
    return memo("geo_slice", key, compute) | {"key": key, "k": k, "start": start}


def slice_controls(X: np.ndarray, y: np.ndarray, K: int, data_key: tuple) -> dict:
    """The free class k and the common start (shared by the surface and the paths views), and the geometry."""
    st.markdown(
        "**Which loss?** Softmax regression itself, on the data above, restricted to a 2-D slice of weight space "
        "through the optimum $(W^*, b^*)$ found by batch GD: every weight and bias stays at the optimum except "
        "the weight vector $w_k = (W_{k,1}, W_{k,2})$ of one class $k$. So the surface has exactly two free "
        "parameters and *is* that loss."
    )
    k_col, start_col, _ = st.columns([1, 1, 2])
    with k_col:
        k = st.selectbox("Free class k", range(K), format_func=lambda i: f"class {i + 1}",
                         key=widget_default(f"geo_k{K}", 0))  # fmt: skip
    with start_col:
        start = vector_input("Start θ₀ = w_k of every path", "0, 0", key="geo_start",
                             help="Two numbers; (0, 0) is near the guide's initial W ~ N(0, 0.01²).")  # fmt: skip
        if start is not None and start.shape != (2,):
            st.error(f"the start needs exactly 2 numbers (W_k1, W_k2); got {start.size}", icon=":material/error:")
            start = None
    if start is None:  # keep drawing from the last valid start
        start = st.session_state.get("geo_start_ok", np.zeros(2))
    st.session_state["geo_start_ok"] = start
    return slice_geometry(X, y, K, data_key, int(k), start)


def warn_no_minimum() -> None:
    st.warning(
        "Batch GD found no minimum: these classes are separable by a line through the origin, so the loss keeps "
        "falling as w_k grows. The star marks where it stopped. Raise the spread to see a bowl.",
        icon=":material/warning:",
    )


def surface_view(geo: dict) -> None:
    k, minimum = geo["k"], geo["minimum"]
    st.latex(
        r"C(w_k) = -\frac{1}{N}\sum_{i=1}^{N} \ln a_{y_i}(x_i),\quad a = \mathrm{softmax}(W x + b^*),\quad "
        r"W = W^* \text{ with row } k \text{ replaced by } w_k"
    )
    st.latex(r"\frac{\partial C}{\partial w_k} = \frac{1}{N}\sum_{i=1}^{N} (a_{k}(x_i) - y_{i,k})\, x_i")
    left, right = st.columns([2.2, 1])
    with right:
        st.metric("Minimum C", f"{minimum.loss:.5f}")
        st.metric("‖∇C‖ there", f"{minimum.gradient_norm:.1e}")
        st.caption(f"Minimum at w_{k + 1} = ({minimum.theta[0]:.3f}, {minimum.theta[1]:.3f}), found by batch GD.")
        st.caption("Red arrows: −∇C on a grid, pointing downhill; longer where the slope is steeper.")
        show_3d = st.checkbox("Also show a 3-D surface", key=widget_default("geo_3d", False))
    if not minimum.converged:
        with right:
            warn_no_minimum()
    with left:
        st.plotly_chart(
            surface_figure(geo["surface"], geo["field"], minimum.theta, k, geo["start"]), key="geo_surface",
            width="stretch",
        )  # fmt: skip
        if show_3d:
            st.plotly_chart(surface_3d_figure(geo["surface"], minimum.theta, minimum.loss, k),
                            key="geo_surface_3d", width="stretch")  # fmt: skip


# ---------------------------------------------------------------- view 3: BGD vs SGD paths


def play_state() -> dict:
    return st.session_state.setdefault(PLAY, {"step": 0, "playing": False})


def play(T: int) -> None:
    state = play_state()
    if state["step"] >= T:
        state["step"] = 0
    state["playing"] = True


def pause() -> None:
    play_state()["playing"] = False


def step_once(T: int) -> None:
    state = play_state()
    state["playing"] = False
    state["step"] = min(T, state["step"] + 1)


def rewind() -> None:
    play_state().update(step=0, playing=False)


def path_controls(name: str, tag: str, n: int) -> dict | None:
    """One optimiser's settings: B (fixed for batch GD and pure SGD), eta0, schedule and its parameter."""
    st.markdown(f"**{name}**")
    if tag == "mb":
        B = st.number_input("Batch size B", 1, None, step=1, key=widget_default("geo_mb_B", 10))
    else:
        B = n if tag == "bgd" else 1
        st.caption(f"B = {B}" + (" (all N samples)" if tag == "bgd" else " (one sample)"))
    eta0, schedule0 = PATH_DEFAULTS[tag]
    eta = st.number_input("η₀", 0.0, None, format="%g", key=widget_default(f"geo_{tag}_eta", eta0))
    schedule = st.selectbox("Schedule", list(SCHEDULES), key=widget_default(f"geo_{tag}_schedule", schedule0))
    st.latex(SCHEDULE_FORMULAS[schedule])
    params = {}
    for param, default in SCHEDULES[schedule].items():
        default = 0.02 if param in ("alpha", "lam") else default  # a few hundred updates need a faster decay
        params[param] = st.number_input(PARAM_LABELS[param], 0.0, None, format="%g",
                                        key=widget_default(f"geo_{tag}_{param}", default))  # fmt: skip
    return {"batch_size": int(B), "eta": float(eta), "schedule": schedule, **params}


def paths_tab(geo: dict) -> tuple[DeltaGenerator, dict, int]:
    """View 3 without its figures: the text, the play buttons and each optimiser's settings.

    Returns the container for the figures, the paths and the number of updates T: the page draws ``paths_view``
    there inside its fragment.
    """
    problem: WeightSlice = geo["problem"]
    st.markdown(
        f"Three optimisers walk on the loss surface (class {geo['k'] + 1}'s weights, N = "
        f"{problem.n}) from the same start, each with its own $\\eta_0$ and schedule: "
        "$\\theta \\leftarrow \\theta - \\eta_t\\, \\nabla C_B(\\theta)$ with $\\nabla C_B$ the gradient on a batch of "
        "$B$ samples. Batch GD (B = N) is smooth; pure SGD (B = 1) wanders, and with a decaying $\\eta_t$ settles."
    )
    if not geo["minimum"].converged:
        warn_no_minimum()
    # Buttons and figures first, the settings under them; they are filled once the settings are read.
    buttons, figures = st.container(), st.container()
    st.subheader("Each optimiser's settings")
    columns = st.columns([1, 1, 1, 0.9])
    settings, paths = {}, {}
    with columns[3]:
        T = st.slider("Updates per path", 20, 1000, step=10, key=widget_default("geo_T", 300))
        seed = st.number_input("Shuffling seed", 0, 10_000, step=1, key=widget_default("geo_path_seed", 0))
    for column, (name, tag) in zip(columns, PATHS.items(), strict=False):
        with column:
            settings[name] = path_controls(name, tag, problem.n)
            key = (geo["key"], int(T), int(seed), tuple(settings[name].items()))
            try:
                paths[name] = memo(f"geo_path_{tag}", key, lambda s=settings[name]: run_path(geo, s, T, seed))
            except ValueError as exc:
                st.error(str(exc), icon=":material/error:")
    state = play_state()
    state["step"] = min(state["step"], int(T))
    b1, b2, b3, b4, _ = buttons.columns([1, 1, 1, 1, 3])
    b1.button("Play", key="geo_play_btn", on_click=play, args=(int(T),), icon=":material/play_arrow:",
              disabled=state["playing"], width="stretch")  # fmt: skip
    b2.button("Pause", key="geo_pause_btn", on_click=pause, icon=":material/pause:", disabled=not state["playing"],
              width="stretch")  # fmt: skip
    b3.button("Step", key="geo_step_btn", on_click=step_once, args=(int(T),), icon=":material/skip_next:",
              width="stretch")  # fmt: skip
    b4.button("Rewind", key="geo_rewind_btn", on_click=rewind, icon=":material/replay:", width="stretch")
    return figures, paths, int(T)


def run_path(geo: dict, s: dict, T: int, seed: int) -> object:
    params = {k: v for k, v in s.items() if k not in ("batch_size", "eta", "schedule")}
    return descent_path(geo["problem"], geo["start"], s["batch_size"], s["eta"], s["schedule"], int(T), int(seed),
                        **params)  # fmt: skip


def paths_view(geo: dict, paths: dict, T: int) -> None:
    """The animated paths (``step`` updates shown) with the loss curves and the convergence view."""
    state = play_state()
    if state["playing"]:
        state["step"] = min(T, state["step"] + max(1, T // PLAY_FRAMES))
        if state["step"] >= T:
            state["playing"] = False
            st.rerun()  # a full run re-reads run_every, so the timer stops
    step, minimum = state["step"], geo["minimum"]
    left, right = st.columns([1.25, 1])
    with left:
        st.plotly_chart(paths_figure(geo["surface"], minimum.theta, paths, step, geo["k"]), key="geo_paths",
                        width="stretch")  # fmt: skip
        for name, path in paths.items():
            if path.diverged and step >= path.diverged_at:
                st.error(
                    f"{name} diverged at update {path.diverged_at}: its loss exceeded "
                    f"{divergence_limit(geo['problem'].n_classes):.1f} = 10 ln K. Lower its η₀.",
                    icon=":material/trending_up:",
                )
    with right:
        st.plotly_chart(loss_curves_figure(paths, step, "updates", minimum.loss), key="geo_loss_updates",
                        width="stretch")  # fmt: skip
        st.plotly_chart(loss_curves_figure(paths, step, "samples", minimum.loss), key="geo_loss_samples",
                        width="stretch")  # fmt: skip
    st.plotly_chart(convergence_figure(paths, step, minimum.loss), key="geo_convergence", width="stretch")
    st.caption(
        "Grey reference lines: slope −1 is the guide's O(1/t) rate of batch GD on a convex loss, slope −½ the "
        "O(1/√t) rate of SGD. On this bowl batch GD with a constant η does even better (a straight drop on "
        "log-linear axes); SGD with a constant η stalls at a noise floor, and a decaying η lets it keep falling."
    )
