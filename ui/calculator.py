"""The Backprop Calculator's state, callbacks and render helpers; every number comes from ``core``.

The input boxes are the single place the network lives between reruns: presets, "Randomise", reshaping
and "Take a step" all write text into ``st.session_state[<box key>]`` from ``on_click`` / ``on_change``
callbacks (which run before the widgets are drawn), and the page parses the boxes on every run.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, replace

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.backprop import BackpropResult, gradient_check_layers, incoming_gradient
from core.functions import ACTIVATION_FORMULAS, ACTIVATIONS
from core.parsing import format_matrix, format_vector, parse_matrix, parse_vector
from core.presets import (
    DEFAULT_PRESET,
    GUIDE_DECIMALS,
    PRESETS,
    Comparison,
    Network,
    compare_with_guide,
    fit_to_shape,
    random_network,
    run_network,
)
from core.validation import as_finite_array, as_target
from ui.inputs import matrix_input, vector_input

MAX_DEPTH, MAX_WIDTH = 4, 8
BOX_DIGITS = 6  # significant digits written back into the boxes: enough that a step is not lost to rounding
FONT = {"size": 18}
MAIN_WIDTH_PX = 1100  # the main column of a wide-layout page on a 1400-pixel screen

PRESET_KEY, ACTIVE_KEY, SEED_KEY, DECIMALS_KEY = "calc_preset", "calc_active_preset", "calc_seed", "calc_decimals"
DEPTH_KEY, N_IN_KEY, N_OUT_KEY = "calc_depth", "calc_n_in", "calc_n_out"
HIDDEN_KEY, OUTPUT_KEY, ETA_KEY = "calc_hidden", "calc_output", "calc_eta"
TARGET_MODE_KEY, CLASS_KEY, Y_KEY, X_KEY = "calc_target_mode", "calc_class", "calc_y", "calc_x"
LAST_GOOD_KEY, HISTORY_KEY, STEP_ERROR_KEY, THRESHOLD_KEY = (
    "calc_last_good",
    "calc_history",
    "calc_step_error",
    "calc_threshold",
)
CLASS_MODE, VECTOR_MODE = "class k", "vector y"
PANEL_KEY = "calc_open_panel"  # the preset whose guide panel opens: set by "Apply preset" only

HIDDEN_LABELS = {"relu": "ReLU", "leaky_relu": "leaky ReLU", "sigmoid": "sigmoid", "tanh": "tanh"}
OUTPUT_LABELS = {"softmax": "softmax + cross-entropy", "sigmoid": "sigmoid + squared error"}
LOSS_LATEX = {
    "softmax": r"C = -\sum_i y_i \ln a^{(L)}_i",
    "sigmoid": r"C = \tfrac12 \sum_i \left(a^{(L)}_i - y_i\right)^2",
}
OUTPUT_DELTA_LATEX = {
    "softmax": r"\delta^{(L)} = a^{(L)} - y",
    "sigmoid": r"\delta^{(L)} = (a^{(L)} - y) \odot a^{(L)} \odot (1 - a^{(L)})",
}


def w_key(l: int) -> str:
    """Session-state key of the W^(l) box."""
    return f"calc_W{l}"


def b_key(l: int) -> str:
    """Session-state key of the b^(l) box."""
    return f"calc_b{l}"


def h_key(l: int) -> str:
    """Session-state key of the width of hidden layer l."""
    return f"calc_n{l}"


def sup(l: int) -> str:
    """The guide's layer superscript ``^{(l)}`` in LaTeX."""
    return f"^{{({l})}}"


# ---- state and callbacks ----------------------------------------------------------------------------------


@dataclass
class Evaluation:
    """One network with its backprop result and per-layer gradient check."""

    network: Network
    result: BackpropResult
    checks: list[dict]


def load_network(state: MutableMapping, net: Network) -> None:
    """Write a network into the architecture controls and the input boxes."""
    widths = net.widths
    L = len(widths) - 1
    state[DEPTH_KEY], state[N_IN_KEY], state[N_OUT_KEY] = L, widths[0], widths[-1]
    for l in range(1, L):
        state[h_key(l)] = widths[l]
    state[HIDDEN_KEY], state[OUTPUT_KEY], state[ETA_KEY] = net.hidden, net.output, float(net.eta)
    state[X_KEY] = format_vector(net.x, BOX_DIGITS)
    write_layers(state, net.weights, net.biases)
    n_out = widths[-1]
    if isinstance(net.target, int):
        state[TARGET_MODE_KEY], state[CLASS_KEY] = CLASS_MODE, net.target + 1
        state[Y_KEY] = format_vector(np.eye(n_out)[net.target])
    else:
        state[TARGET_MODE_KEY], state[Y_KEY] = VECTOR_MODE, format_vector(net.target, BOX_DIGITS)
        state[CLASS_KEY] = int(np.argmax(net.target)) + 1


def write_layers(state: MutableMapping, weights: list, biases: list) -> None:
    """Write ``W^(l)`` and ``b^(l)`` into their boxes."""
    for l, (W, b) in enumerate(zip(weights, biases, strict=True), start=1):
        state[w_key(l)], state[b_key(l)] = format_matrix(W, BOX_DIGITS), format_vector(b, BOX_DIGITS)


def widths_from(state: MutableMapping) -> list[int]:
    """``[n_0, ..., n_L]`` from the architecture controls (a hidden layer shown for the first time gets 3 units)."""
    L = state[DEPTH_KEY]
    return [state[N_IN_KEY]] + [state.setdefault(h_key(l), 3) for l in range(1, L)] + [state[N_OUT_KEY]]


def init_state(state: MutableMapping) -> None:
    """Seed the controls once: the default preset, or the last good network after a visit to another page."""
    state.setdefault(SEED_KEY, 0)
    state.setdefault(DECIMALS_KEY, GUIDE_DECIMALS)
    state.setdefault(THRESHOLD_KEY, 1e-6)
    state.setdefault(PRESET_KEY, DEFAULT_PRESET)
    state.setdefault(HISTORY_KEY, [])
    if not _controls_complete(state):  # Streamlit drops (some) widget state when another page is shown
        last = state.get(LAST_GOOD_KEY)
        load_network(state, last.network if last else PRESETS[DEFAULT_PRESET].network)
        state.setdefault(ACTIVE_KEY, None if last else DEFAULT_PRESET)


def _controls_complete(state: MutableMapping) -> bool:
    """Whether every control and box of the current depth still holds a value."""
    # Only controls drawn on every run: the class and y boxes take turns, so one of them is always dropped.
    keys = [X_KEY, DEPTH_KEY, N_IN_KEY, N_OUT_KEY, HIDDEN_KEY, OUTPUT_KEY, ETA_KEY, TARGET_MODE_KEY]
    if not all(k in state for k in keys):
        return False
    L = state[DEPTH_KEY]
    return all(k in state for l in range(1, L + 1) for k in (w_key(l), b_key(l))) and all(
        h_key(l) in state for l in range(1, L)
    )


def check_shape(value: np.ndarray, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """``value`` if it has ``shape``, else ``core``'s ValueError naming the box and the expected shape."""
    try:
        return as_finite_array(value, name, shape=shape)
    except ValueError as exc:
        raise ValueError(f"{exc}: change the widths above to resize the network") from None


def target_of(state: MutableMapping, n_out: int) -> int | np.ndarray:
    """The target as ``core`` takes it: a 0-based class index, or the parsed vector y."""
    if state[TARGET_MODE_KEY] == CLASS_MODE:
        return int(state[CLASS_KEY]) - 1
    return check_shape(parse_vector(state[Y_KEY], "y"), "y", (n_out,))


def read_network(state: MutableMapping) -> Network:
    """The network in the boxes, for callbacks; raises ValueError naming the first bad box."""
    widths = widths_from(state)
    x = check_shape(parse_vector(state[X_KEY], "x"), "x", (widths[0],))
    weights, biases = [], []
    for l in range(1, len(widths)):
        weights.append(check_shape(parse_matrix(state[w_key(l)], f"W^({l})"), f"W^({l})", (widths[l], widths[l - 1])))
        biases.append(check_shape(parse_vector(state[b_key(l)], f"b^({l})"), f"b^({l})", (widths[l],)))
    target = target_of(state, widths[-1])
    return Network(x, weights, biases, target, float(state[ETA_KEY]), state[HIDDEN_KEY], state[OUTPUT_KEY])


def _parsed_or_none(parse, text: str, name: str) -> np.ndarray | None:
    try:
        return parse(text, name)
    except ValueError:
        return None


def reshape_boxes() -> None:
    """After a change of depth or width: keep every entry that still fits, fill new ones at random (seeded)."""
    state = st.session_state
    widths = widths_from(state)
    fill = random_network(widths, int(state[SEED_KEY]))
    x_old = _parsed_or_none(parse_vector, state.get(X_KEY, ""), "x")
    state[X_KEY] = format_vector(fit_to_shape(x_old, np.array(fill.x)), BOX_DIGITS)
    weights, biases = [], []
    for l in range(1, len(widths)):
        weights.append(fit_to_shape(_parsed_or_none(parse_matrix, state.get(w_key(l), ""), ""), fill.weights[l - 1]))
        biases.append(fit_to_shape(_parsed_or_none(parse_vector, state.get(b_key(l), ""), ""), fill.biases[l - 1]))
    write_layers(state, weights, biases)
    state[CLASS_KEY] = min(int(state.get(CLASS_KEY, 1)), widths[-1])
    y_old = _parsed_or_none(parse_vector, state.get(Y_KEY, ""), "y")
    state[Y_KEY] = format_vector(fit_to_shape(y_old, np.zeros(widths[-1])), BOX_DIGITS)
    state[ACTIVE_KEY] = state[PANEL_KEY] = None
    state[HISTORY_KEY] = []


def apply_preset() -> None:
    """Load the chosen preset into every control and box."""
    state = st.session_state
    load_network(state, PRESETS[state[PRESET_KEY]].network)
    state[ACTIVE_KEY], state[HISTORY_KEY], state[STEP_ERROR_KEY] = state[PRESET_KEY], [], None
    state[PANEL_KEY] = state[PRESET_KEY]


def randomise() -> None:
    """Fill every box with a random network of the current widths, from the seed."""
    state = st.session_state
    net = random_network(widths_from(state), int(state[SEED_KEY]), state[ETA_KEY], state[HIDDEN_KEY], state[OUTPUT_KEY])
    load_network(state, net)
    state[ACTIVE_KEY], state[PANEL_KEY], state[HISTORY_KEY], state[STEP_ERROR_KEY] = None, None, [], None


def take_steps(n: int) -> None:
    """Apply ``W <- W - eta dC/dW`` (and the same for b) n times, writing the new values into the boxes."""
    state = st.session_state
    state[STEP_ERROR_KEY] = None
    history = state.setdefault(HISTORY_KEY, [])
    try:
        net = read_network(state)
        with strict_floats():
            result = run_network(net)
    except (ValueError, FloatingPointError) as exc:
        state[STEP_ERROR_KEY] = f"No step taken: {exc}"
        return
    if not history:
        history.append(result.loss)
    for step in range(n):
        stepped = replace(net, weights=result.W_new[1:], biases=result.b_new[1:])
        try:
            with strict_floats():
                result = run_network(stepped)
        except (ValueError, FloatingPointError) as exc:  # e.g. a huge eta sent the scores s to infinity
            state[STEP_ERROR_KEY] = f"Stopped after {step} step(s): {exc}. Try a smaller η."
            break
        net = stepped
        history.append(result.loss)
    write_layers(state, net.weights, net.biases)


def reset_history() -> None:
    """Forget the recorded losses."""
    st.session_state[HISTORY_KEY] = []


def strict_floats() -> np.errstate:
    """Overflow (huge weights or eta) as a FloatingPointError the page can report, not inf / nan further on."""
    return np.errstate(over="raise", invalid="raise")


def evaluate(net: Network) -> Evaluation:
    """Backprop (with the update) and the finite-difference check of one network.

    Raises ValueError (from ``core``) or FloatingPointError when the numbers overflow.
    """
    with strict_floats():
        result = run_network(net)
        checks = gradient_check_layers(net.weights, net.biases, net.x, net.target, net.hidden, net.output)
    return Evaluation(net, result, checks)


# ---- formatting -------------------------------------------------------------------------------------------


def num(v: float, decimals: int) -> str:
    """A number to ``decimals`` decimals; ``+ 0.0`` keeps "-0.000" off the screen."""
    return f"{float(v) + 0.0:.{decimals}f}"


def bmatrix(A: np.ndarray, decimals: int) -> str:
    """A vector (as a column) or a matrix as a LaTeX ``bmatrix``."""
    A = np.asarray(A, dtype=float)
    rows = A.reshape(-1, 1) if A.ndim == 1 else A
    return (
        r"\begin{bmatrix}" + r" \\ ".join(" & ".join(num(v, decimals) for v in row) for row in rows) + r"\end{bmatrix}"
    )


def inline(A: np.ndarray, decimals: int) -> str:
    """A vector ``[1.0, 2.0]`` or matrix ``[1.0, 2.0; 3.0, 4.0]`` on one line, for table cells."""
    A = np.atleast_1d(np.asarray(A, dtype=float))
    if A.size == 1:
        return num(A.item(), decimals)
    rows = [A] if A.ndim == 1 else A
    return "[" + "; ".join(", ".join(num(v, decimals) for v in row) for row in rows) + "]"


def units(values: list[int]) -> str:
    """``2`` or ``1, 3 and 4``: unit numbers counted from 1, as in the guide's formulas."""
    words = [str(i) for i in values]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


# ---- inputs ------------------------------------------------------------------------------------------------


def show_toolbar() -> None:
    """Preset, randomise and precision controls."""
    preset_col, seed_col, dec_col = st.columns([2.2, 1.2, 1])
    with preset_col:
        st.selectbox("Preset", list(PRESETS), key=PRESET_KEY)
        st.button("Apply preset", on_click=apply_preset, key="calc_apply", icon=":material/download:")
    with seed_col:
        st.number_input("Seed", min_value=0, step=1, key=SEED_KEY)
        st.button("Randomise", on_click=randomise, key="calc_randomise", icon=":material/casino:")
    with dec_col:
        st.slider("Decimals shown", 1, 6, key=DECIMALS_KEY)
    active = st.session_state.get(ACTIVE_KEY)
    if active:
        st.caption(f"Preset loaded: **{active}** — {pretty(PRESETS[active].description)}")


def show_architecture() -> None:
    """Depth, widths, activations and eta; changing depth or a width reshapes the boxes."""
    state = st.session_state
    L = state[DEPTH_KEY]
    cols = st.columns([1.2, 1, *([1] * (L - 1)), 1, 1.3, 2, 1.1])
    cols[0].slider("Layers L", 1, MAX_DEPTH, key=DEPTH_KEY, on_change=reshape_boxes)
    cols[1].number_input("Inputs n₀", 1, MAX_WIDTH, key=N_IN_KEY, on_change=reshape_boxes)
    for l in range(1, L):
        state.setdefault(h_key(l), 3)
        cols[1 + l].number_input(f"Hidden n{_sub(l)}", 1, MAX_WIDTH, key=h_key(l), on_change=reshape_boxes)
    cols[L + 1].number_input(f"Outputs n{_sub(L)}", 1, MAX_WIDTH, key=N_OUT_KEY, on_change=reshape_boxes)
    cols[L + 2].selectbox("Hidden h(s)", list(HIDDEN_LABELS), format_func=HIDDEN_LABELS.get, key=HIDDEN_KEY)
    cols[L + 3].selectbox("Output and loss", list(OUTPUT_LABELS), format_func=OUTPUT_LABELS.get, key=OUTPUT_KEY)
    cols[L + 4].number_input("Learning rate η", min_value=0.0, step=0.05, format="%.4g", key=ETA_KEY)


def _sub(l: int) -> str:
    return "".join("₀₁₂₃₄₅₆₇₈₉"[int(c)] for c in str(l))


def usup(l: int) -> str:
    """The layer superscript ``⁽ˡ⁾`` in plain text, for table headers (which cannot hold LaTeX)."""
    return "⁽" + "".join("⁰¹²³⁴⁵⁶⁷⁸⁹"[int(c)] for c in str(l)) + "⁾"


def _checked(value: np.ndarray | None, name: str, shape: tuple[int, ...]) -> np.ndarray | None:
    """The value if its shape is right; otherwise ``st.error`` beside the box and None."""
    if value is None:
        return None
    try:
        return check_shape(value, name, shape)
    except ValueError as exc:
        st.error(str(exc), icon=":material/error:")
        return None


def show_target(n_out: int) -> int | np.ndarray | None:
    """The target: a class k (numbered 1..n_L as in the guide) or a vector y."""
    state = st.session_state
    mode = st.radio("Target", [CLASS_MODE, VECTOR_MODE], horizontal=True, key=TARGET_MODE_KEY)
    if mode == CLASS_MODE:
        state[CLASS_KEY] = min(max(int(state.get(CLASS_KEY, 1)), 1), n_out)
        k = st.number_input(f"True class k (1 to {n_out})", 1, n_out, step=1, key=CLASS_KEY)
        y = as_target(int(k) - 1, (n_out,))
        st.caption(f"y = {inline(y, 0)} — class {k} is index {k - 1} when counting from 0 (as numpy does).")
        return int(k) - 1
    state.setdefault(Y_KEY, format_vector(np.eye(n_out)[0]))
    y = vector_input(f"Target y ({n_out} entries)", "", key=Y_KEY, help="e.g. 0, 0, 1 (one-hot) or 0.01, 0.99")
    return _checked(y, "y", (n_out,))


def show_inputs(decimals: int) -> Network | None:
    """x, the target and every W^(l), b^(l) as text boxes, each with its bmatrix; the network, or None."""
    state = st.session_state
    widths = widths_from(state)
    L = len(widths) - 1
    cols = grid(L + 1, 100 + matrix_px(max(widths), decimals))
    ok = True
    with cols[0]:
        st.markdown("**Input and target**")
        x = _checked(vector_input(f"x = a⁽⁰⁾ ({widths[0]} entries)", "", key=X_KEY), "x", (widths[0],))
        if x is not None:
            st.latex(r"a^{(0)} = x = " + bmatrix(x, decimals))
        target = show_target(widths[-1])
        ok = x is not None and target is not None
    weights, biases = [], []
    for l in range(1, L + 1):
        with cols[l]:
            kind = "output" if l == L else "hidden"
            st.markdown(f"**Layer {l}** · {kind}")
            shape = (widths[l], widths[l - 1])
            W = _checked(
                matrix_input(
                    f"$W^{{({l})}}$ ({shape[0]} × {shape[1]})",
                    "",
                    key=w_key(l),
                    help=f"One row per line: row i holds the weights into unit i of layer {l} from the "
                    f"{shape[1]} units of layer {l - 1}",
                ),
                f"$W^{{({l})}}$",
                shape,
            )
            b = _checked(
                vector_input(f"$b^{{({l})}}$ ({shape[0]} entries)", "", key=b_key(l)), f"$b^{{({l})}}$", shape[:1]
            )
            if W is not None:
                st.latex(f"W{sup(l)} = " + bmatrix(W, decimals))
            if b is not None:
                st.latex(f"b{sup(l)} = " + bmatrix(b, decimals))
            weights.append(W)
            biases.append(b)
    if not ok or any(v is None for v in weights + biases):
        return None
    return Network(x, weights, biases, target, float(state[ETA_KEY]), state[HIDDEN_KEY], state[OUTPUT_KEY])


def current_evaluation(net: Network | None) -> tuple[Evaluation | None, bool]:
    """Evaluate the network (and remember it as the last good one); on bad input, the last good one.

    Returns the evaluation to show and whether it is the stored last good result rather than the inputs above.
    """
    state = st.session_state
    if net is not None:
        try:
            state[LAST_GOOD_KEY] = evaluate(net)
            return state[LAST_GOOD_KEY], False
        except ValueError as exc:
            st.error(str(exc), icon=":material/error:")
        except FloatingPointError as exc:
            st.error(
                f"The numbers are too large to compute with ({exc}): use smaller weights.", icon=":material/error:"
            )
    last = state.get(LAST_GOOD_KEY)
    if last is None:
        st.info("Fix the inputs marked in red to see the forward and backward passes.", icon=":material/info:")
    else:
        st.warning(
            "An input above is not valid (see the red message beside it). Everything below is the **last good "
            "result**, for the last network whose inputs were all valid.",
            icon=":material/history:",
        )
    return last, last is not None


# ---- results -----------------------------------------------------------------------------------------------


def _table(columns: dict[str, list[str]]) -> None:
    st.table(columns, hide_index=True)


def grid(n_cells: int, cell_px: int) -> list:
    """``n_cells`` containers in rows of equal columns, as many per row as fit ``cell_px`` pixels each."""
    per_row = max(1, min(n_cells, MAIN_WIDTH_PX // cell_px))
    cells = []
    for start in range(0, n_cells, per_row):
        cells += st.columns(per_row)[: min(per_row, n_cells - start)]
    return cells


def layer_grid(net: Network, decimals: int) -> list:
    """One container per layer, leaving room for the widest ``dC/dW`` formula with its matrix."""
    return grid(len(net.weights), 220 + matrix_px(max(net.widths), decimals))


def matrix_px(n_columns: int, decimals: int) -> int:
    """Roughly how wide a bmatrix of ``n_columns`` numbers is on screen."""
    return 13 * (decimals + 3) * n_columns


def show_forward(ev: Evaluation, decimals: int) -> None:
    """s^(l), a^(l) for every layer, beside their formulas, and the loss C."""
    net, r = ev.network, ev.result
    L = r.n_layers
    st.header("Forward pass")
    hidden_formula = ACTIVATION_FORMULAS[net.hidden][0]
    for l, col in enumerate(grid(L, 330), start=1):
        with col:
            st.subheader(f"Layer {l} · {'output' if l == L else HIDDEN_LABELS[net.hidden]}")
            st.latex(f"s{sup(l)} = W{sup(l)} a^{{({l - 1})}} + b{sup(l)} = " + bmatrix(r.s[l], decimals))
            if l < L:
                st.latex(f"a{sup(l)} = h(s{sup(l)}) = " + bmatrix(r.a[l], decimals))
                st.caption(f"${hidden_formula}$")
            elif net.output == "softmax":
                st.latex(f"a{sup(l)} = \\operatorname{{softmax}}(s{sup(l)}) = " + bmatrix(r.a[l], decimals))
            else:
                st.latex(f"a{sup(l)} = \\sigma(s{sup(l)}) = " + bmatrix(r.a[l], decimals))
            _table(
                {
                    "unit i": [str(i + 1) for i in range(r.s[l].size)],
                    f"s{usup(l)}ᵢ": [num(v, decimals) for v in r.s[l]],
                    f"a{usup(l)}ᵢ": [num(v, decimals) for v in r.a[l]],
                }
            )
    st.latex(LOSS_LATEX[net.output] + f" = {num(r.loss, decimals)}")


def mask_message(l: int, s: np.ndarray, hidden: str, decimals: int) -> str:
    """In words (Markdown with LaTeX): which units of hidden layer l pass no, or a shrunken, gradient, and why."""
    hprime = ACTIVATIONS[hidden][1](s)
    low = [i for i in range(s.size) if s[i] <= 0]
    if hidden in ("sigmoid", "tanh"):
        i = int(np.argmin(hprime))
        return (
            f"{HIDDEN_LABELS[hidden]}: $h'(s)$ is never 0, so no unit is switched off. It is smallest at unit {i + 1}, "
            f"$h'(s{sup(l)}_{i + 1}) = {num(hprime[i], decimals)}$, where $|s|$ is largest."
        )
    if not low:
        return (
            f"All units of layer {l} are on: every $s{sup(l)}_i > 0$, so $h'(s) = 1$ and "
            f"$\\delta{sup(l)} = W^{{({l + 1})T}}\\delta^{{({l + 1})}}$."
        )
    plural = len(low) > 1
    values = ", ".join(f"$s{sup(l)}_{i + 1} = {num(s[i], decimals)}$" for i in low)
    which = f"unit{'s' if plural else ''} {units([i + 1 for i in low])} of layer {l}"
    if hidden == "leaky_relu":
        return (
            f"**Leaky ReLU — {which}**: {values} $\\le 0$, so $h'(s) = 0.01$ there and $\\delta{sup(l)}$ is the "
            "incoming gradient scaled down 100 times (not zero)."
        )
    return (
        f"**ReLU mask — {which} {'are' if plural else 'is'} off**: {values} $\\le 0$, so $h'(s) = 0$ and "
        f"$\\delta{sup(l)}_i = 0$ there, whatever $W^{{({l + 1})T}}\\delta^{{({l + 1})}}$ sends back. The matching "
        f"rows of $\\partial C/\\partial W{sup(l)}$ are 0, so those weights do not change this step. "
        f"*Units are counted from 1 as in the guide's formulas; the guide's note on $\\delta^{{(1)}}$ counts from 0 "
        f"and calls {'these indices' if plural else 'this index'} {units(low)}.*"
    )


def show_backward(ev: Evaluation, decimals: int) -> None:
    """delta^(l), dC/dW^(l), dC/db^(l) from the output layer back to layer 1, with the ReLU mask in words."""
    net, r = ev.network, ev.result
    L = r.n_layers
    Ws = [None, *[np.asarray(W, dtype=float) for W in net.weights]]
    st.header("Backward pass")
    for l, col in zip(range(L, 0, -1), layer_grid(net, decimals), strict=True):
        with col:
            st.subheader(f"Layer {l} · {'output' if l == L else 'hidden'}")
            if l == L:
                st.latex(
                    OUTPUT_DELTA_LATEX[net.output].replace("(L)", f"({L})") + " = " + bmatrix(r.delta[l], decimals)
                )
            else:
                incoming = incoming_gradient(Ws[l + 1], r.delta[l + 1])
                hprime = ACTIVATIONS[net.hidden][1](r.s[l])
                st.latex(
                    f"\\delta{sup(l)} = \\left(W^{{({l + 1})T}} \\delta^{{({l + 1})}}\\right) \\odot h'(s{sup(l)})"
                )
                st.latex(
                    "= "
                    + bmatrix(incoming, decimals)
                    + r" \odot "
                    + bmatrix(hprime, decimals)
                    + " = "
                    + bmatrix(r.delta[l], decimals)
                )
                _table(
                    {
                        "unit i": [str(i + 1) for i in range(r.s[l].size)],
                        f"s{usup(l)}ᵢ": [num(v, decimals) for v in r.s[l]],
                        f"(W{usup(l + 1)}ᵀδ{usup(l + 1)})ᵢ": [num(v, decimals) for v in incoming],
                        f"h′(s{usup(l)}ᵢ)": [num(v, decimals) for v in hprime],
                        f"δ{usup(l)}ᵢ": [num(v, decimals) for v in r.delta[l]],
                    }
                )
                st.markdown(mask_message(l, r.s[l], net.hidden, decimals))
            st.latex(
                f"\\frac{{\\partial C}}{{\\partial W{sup(l)}}} = \\delta{sup(l)} a^{{({l - 1})T}} = "
                + bmatrix(r.dW[l], decimals)
            )
            st.latex(f"\\frac{{\\partial C}}{{\\partial b{sup(l)}}} = \\delta{sup(l)} = " + bmatrix(r.db[l], decimals))


def show_update(ev: Evaluation, decimals: int) -> None:
    """The updated W^(l), b^(l) after one step with the current eta."""
    r = ev.result
    st.header(f"Update with η = {ev.network.eta:g}")
    if ev.network.eta == 0:  # allowed (the gradients are still worth seeing), but say why nothing moves
        st.warning(
            "η = 0: the update leaves every W and b unchanged. Set η > 0 to take a step.", icon=":material/info:"
        )
    for l, col in enumerate(layer_grid(ev.network, decimals), start=1):
        with col:
            st.subheader(f"Layer {l}")
            st.latex(f"W{sup(l)} \\leftarrow W{sup(l)} - \\eta \\frac{{\\partial C}}{{\\partial W{sup(l)}}}")
            st.latex("= " + bmatrix(r.W_new[l], decimals))
            st.latex(f"b{sup(l)} \\leftarrow b{sup(l)} - \\eta\\, \\delta{sup(l)} = " + bmatrix(r.b_new[l], decimals))


def show_gradient_check(ev: Evaluation) -> None:
    """Per layer: backprop's dW, db against central finite differences, relative errors, pass or fail."""
    st.header("Gradient check")
    info, table = st.columns([1, 2])
    with info:
        st.latex(
            r"\frac{\partial C}{\partial \theta} \approx \frac{C(\theta + \varepsilon) - C(\theta - \varepsilon)}"
            r"{2\varepsilon}"
        )
        st.caption("ε = 10⁻⁶, for every entry θ of every W⁽ˡ⁾ and b⁽ˡ⁾ in turn (central differences).")
        st.latex(r"\text{rel. error} = \frac{\lVert g_{\text{backprop}} - g_{\text{FD}} \rVert}"
                 r"{\lVert g_{\text{backprop}} \rVert + \lVert g_{\text{FD}} \rVert}")  # fmt: skip
        threshold = st.select_slider(
            "Pass if the relative error is below",
            options=[1e-4, 1e-5, 1e-6, 1e-7, 1e-8],
            format_func=lambda t: f"{t:.0e}",
            key=THRESHOLD_KEY,
        )
    passed = [max(c["dW_error"], c["db_error"]) < threshold for c in ev.checks]
    with table:
        _table(
            {
                "layer l": [str(c["layer"]) for c in ev.checks],
                "max |dW − dW_FD|": [f"{np.max(np.abs(c['dW'] - c['dW_numeric'])):.1e}" for c in ev.checks],
                "rel. error dW": [f"{c['dW_error']:.1e}" for c in ev.checks],
                "max |db − db_FD|": [f"{np.max(np.abs(c['db'] - c['db_numeric'])):.1e}" for c in ev.checks],
                "rel. error db": [f"{c['db_error']:.1e}" for c in ev.checks],
                "result": ["pass" if p else "FAIL" for p in passed],
            }
        )
        if all(passed):
            st.success(f"Backprop agrees with finite differences in every layer (below {threshold:.0e}).")
        else:
            st.warning(
                "Some layer fails the check. With ReLU this happens when some s is within ε of 0 (the kink, where "
                "the derivative jumps): finite differences straddle it."
            )


def loss_chart(history: list[float]) -> go.Figure:
    """Loss C after each step (step 0 = before the first step)."""
    fig = go.Figure(
        go.Scatter(
            x=list(range(len(history))),
            y=history,
            mode="lines+markers",
            line={"width": 3},
            hovertemplate="step %{x}: C = %{y:.6f}<extra></extra>",
        )
    )
    fig.update_layout(
        title={"text": "Loss C per step", "font": FONT},
        xaxis_title="step",
        yaxis_title="C",
        font=FONT,
        height=340,
        margin={"l": 60, "r": 20, "t": 60, "b": 50},
    )
    fig.update_xaxes(rangemode="tozero")
    return fig


def show_steps(can_step: bool, decimals: int) -> None:
    """Take one or ten steps on the network in the boxes, and the loss chart."""
    state = st.session_state
    st.header("Take steps")
    buttons, chart = st.columns([1, 2])
    with buttons:
        st.button("Take a step", key="calc_step", on_click=take_steps, args=(1,), disabled=not can_step, type="primary")
        st.button("Take 10 steps", key="calc_step10", on_click=take_steps, args=(10,), disabled=not can_step)
        st.button("Reset history", key="calc_reset", on_click=reset_history)
        if state.get(STEP_ERROR_KEY):
            st.error(state[STEP_ERROR_KEY], icon=":material/error:")
        history = state[HISTORY_KEY]
        if history:
            st.metric(
                f"C after {len(history) - 1} step(s)",
                num(history[-1], decimals),
                delta=num(history[-1] - history[0], decimals),
                delta_color="inverse",
            )
        st.caption("Each step writes W⁽ˡ⁾ − η dC/dW⁽ˡ⁾ and b⁽ˡ⁾ − η δ⁽ˡ⁾ into the boxes above and records C.")
    with chart:
        if state[HISTORY_KEY]:
            st.plotly_chart(loss_chart(state[HISTORY_KEY]), key="calc_loss_chart", width="stretch")
        else:
            st.info("Take a step to start the loss chart.", icon=":material/show_chart:")


def pretty(name: str) -> str:
    """``delta^(1)`` -> ``δ⁽¹⁾``: core's plain-text names with the guide's symbols, for table cells."""
    name = name.replace(")T", ")ᵀ").replace("aT", "aᵀ")
    for l in range(MAX_DEPTH + 1):
        name = name.replace(f"^({l})", usup(l))
    return name.replace("delta", "δ").replace("eta", "η")


def _comparison_table(rows: list[Comparison], decimals: int, given: bool) -> None:
    columns = {"quantity": [pretty(row.name) for row in rows]}
    if given:
        columns["from the guide's given values"] = [
            ", ".join(f"{pretty(k)} = {inline(v, GUIDE_DECIMALS)}" for k, v in row.given.items()) for row in rows
        ]
    columns["computed"] = [inline(row.computed, decimals) for row in rows]
    columns["the guide prints"] = [inline(row.printed, GUIDE_DECIMALS) for row in rows]
    columns["agrees?"] = ["yes" if row.agrees else "no: rounding" for row in rows]
    _table(columns)


def show_guide_panels(worked: list[Comparison]) -> None:
    """The guide's worked examples section by section, and the chained network against its printed numbers."""
    opened = st.session_state.get(PANEL_KEY)
    preset = PRESETS.get(opened) if opened else None
    with st.expander(
        "The guide's worked examples, section by section", expanded=bool(preset and preset.worked_examples)
    ):
        st.caption(
            f"Each step computed by core's step functions from exactly the guide's given (rounded) inputs; computed "
            f"values to {GUIDE_DECIMALS + 1} decimals, one more than the guide, so *yes* means it rounds to the "
            "guide's printed number (within half a unit of its third decimal)."
        )
        _comparison_table(worked, GUIDE_DECIMALS + 1, given=True)
    chained = PRESETS["Guide: the chained 3-3-3 network"]
    with st.expander(
        "The guide's network chained end to end vs its printed numbers",
        expanded=bool(preset and not preset.worked_examples and preset.guide_printed),
    ):
        rows = compare_with_guide(run_network(chained.network), chained.guide_printed)
        _comparison_table(rows, GUIDE_DECIMALS, given=False)
        st.info(pretty(chained.rounding_note), icon=":material/info:")
