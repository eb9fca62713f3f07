"""Jacobian Explorer: softmax, its Jacobian, the error term three ways, layout conventions, overflow."""

import numpy as np
import streamlit as st

from core import cross_entropy, softmax, softmax_jacobian
from core.functions import log_softmax
from core.jacobian import (
    check_scores,
    error_direct,
    error_terms,
    error_via_jacobian,
    finite_difference_jacobian,
    grad_a_cross_entropy,
    largest_difference,
    layout_example,
    log_of_softmax,
    naive_log_softmax,
    naive_softmax,
    one_hot,
    softmax_steps,
    softmax_temperature,
)
from ui.frame import ensure_framed
from ui.inputs import matrix_input, vector_input
from ui.jacobian import (
    PRESETS,
    derivation_latex,
    fmt,
    jacobian_heatmap,
    latex_matrix,
    softmax_bars,
    steps_table,
    terms_table,
    vectors_table,
)

ensure_framed()

S_KEY, CLASS_KEY, PRESET_KEY = "jac_s", "jac_class", "jac_preset"
TEMPERATURES = [0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 7.0, 10.0]  # roughly log-spaced
DEFAULT_S, DEFAULT_CLASS = next(iter(PRESETS.values()))


def apply_preset() -> None:
    """Write the chosen preset into the score box and the class box (on_click runs before the rerun)."""
    st.session_state[S_KEY], st.session_state[CLASS_KEY] = PRESETS[st.session_state[PRESET_KEY]]


def show_softmax(s: np.ndarray, a: np.ndarray, k: int | None, y: np.ndarray | None, T: float) -> None:
    """Section 1: the bar chart, the intermediate steps and the cross-entropy."""
    st.header("1 · Softmax, step by step")
    chart, steps = st.columns([1.1, 1])
    with chart:
        a_T = softmax_temperature(s, T) if T != 1.0 else None
        st.plotly_chart(softmax_bars(a, k, a_T, T), key="jac_bars", width="stretch")
    with steps:
        st.latex(r"a_i = \frac{e^{s_i - \max s}}{\sum_j e^{s_j - \max s}}")
        st.table(steps_table(softmax_steps(s)), hide_index=True)
        if y is not None:
            st.metric("Cross-entropy C = −ln a_k", fmt(cross_entropy(a, y)))
        if T != 1.0:
            st.caption(
                f"Orange bars: softmax(s / {T:g}). Dividing by T < 1 stretches the gaps between scores (sharper), "
                "T > 1 shrinks them (flatter). At T = 1 it is exactly the model's softmax."
            )


def show_jacobian(s: np.ndarray, a: np.ndarray, J: np.ndarray) -> None:
    """Section 2: the annotated Jacobian heatmap and its finite-difference check."""
    st.header("2 · The Jacobian ∂a/∂s")
    st.latex(
        r"\frac{\partial a_i}{\partial s_j} = a_i(\delta_{ij} - a_j) = \begin{cases} a_i(1-a_i) & i = j"
        r" \text{ (diagonal)} \\ -a_i a_j & i \ne j \text{ (off-diagonal)} \end{cases}"
    )
    # Up to four classes the notes fit beside the heatmap; larger matrices need the full width.
    heat, notes = st.columns([2, 1]) if a.size <= 4 else (st.container(), st.container())
    with heat:
        st.plotly_chart(jacobian_heatmap(J, a), key="jac_heatmap", width="stretch")
    with notes:
        st.markdown(
            "- **Each row sums to zero**: the $a_i$ always add up to 1, so nudging any one score $s_j$ "
            "cannot change their total — the increases and decreases cancel.\n"
            "- **Symmetric**: $-a_i a_j = -a_j a_i$, so the matrix equals its transpose and "
            "the column sums are zero too."
        )
        J_fd = finite_difference_jacobian(softmax, s)
        st.metric(
            "Finite-difference check: max |J − J_FD|",
            f"{largest_difference(J, J_fd):.1e}",
            help="J_FD[i, j] = (a_i(s + ε e_j) − a_i(s − ε e_j)) / 2ε with ε = 1e-6",
        )


def show_error_term(a: np.ndarray, k: int | None, y: np.ndarray | None) -> None:
    """Section 3: delta three ways, the term-by-term table and the derivation (2) -> (3)."""
    st.header("3 · The error term δ = ∂C/∂s, three ways")
    if y is None:
        st.info("Pick a valid true class above to see the error term.", icon=":material/info:")
    else:
        st.latex(
            r"(1)\ \delta = \frac{\partial a}{\partial s}\,\nabla_a C,\ \ \nabla_a C = -\frac{y}{a}"
            r"\qquad (2)\ \text{term by term (section 2.4)}\qquad (3)\ \delta = a - y"
        )
        direct = error_direct(a, y)
        try:
            grad_a = grad_a_cross_entropy(a, y)
            via_J, terms = error_via_jacobian(a, y), error_terms(a, y)
        except ValueError as exc:
            st.warning(f"Ways (1) and (2) cannot be computed here: {exc}", icon=":material/warning:")
            st.table(vectors_table({"(3) a − y": direct}), hide_index=True)
        else:
            st.table(
                vectors_table(
                    {
                        "∇_a C = −y/a": grad_a,
                        "(1) ∂a/∂s · ∇_a C": via_J,
                        "(2) term by term": terms.delta,
                        "(3) a − y": direct,
                    }
                ),
                hide_index=True,
            )
            st.metric(
                "Largest disagreement between (1), (2) and (3)", f"{largest_difference(via_J, terms.delta, direct):.1e}"
            )
            st.subheader("(2) term by term")
            st.table(terms_table(terms, a, y), hide_index=True)
            with st.expander("Derivation: from (2) to (3) with your numbers", expanded=True):
                for line in derivation_latex(a, k):
                    st.latex(line)


def show_layouts() -> None:
    """Section 4: numerator vs denominator layout on s = W x (independent of s above)."""
    st.header("4 · Numerator vs denominator layout")
    st.markdown(
        "For a linear layer $s = Wx$ with $W$ of shape $m \\times n$, the Jacobian $\\partial s / \\partial x$ can be "
        "written two ways. The guide uses the **denominator layout** and the left-handed chain rule "
        "$\\frac{\\partial C}{\\partial x} = \\frac{\\partial s}{\\partial x}\\,\\frac{\\partial C}{\\partial s}$."
    )
    in_W, in_g = st.columns(2)
    with in_W:
        W = matrix_input("W (m × n, one row per line)", "1, 2, 3\n4, 5, 6", key="jac_W")
    with in_g:
        grad_s = vector_input("∂C/∂s (m entries)", "0.5, -1.5", key="jac_grad_s")
    if W is not None and grad_s is not None:
        try:
            ex = layout_example(W, grad_s)
        except ValueError as exc:
            st.error(str(exc), icon=":material/error:")
        else:
            m, n = ex.numerator.shape
            num, den = st.columns(2)
            with num:
                st.markdown(f"**Numerator layout**: row i holds $\\partial s_i / \\partial x_j$ — it is $W$, {m} × {n}")
                st.latex(r"\frac{\partial s}{\partial x} = W = " + latex_matrix(ex.numerator))
                if ex.numerator_product is None:
                    # A deliberate teaching point, not an input error: shown in red text rather than st.error.
                    st.markdown(f":red[**✗ W ∂C/∂s: ({m} × {n}) times a {m}-vector — the shapes do not line up.**]")
                else:
                    st.warning(
                        f"W is square, so W ∂C/∂s = [{', '.join(fmt(v) for v in ex.numerator_product)}] exists, "
                        "but it is the wrong vector unless W is symmetric.",
                        icon=":material/warning:",
                    )
            with den:
                st.markdown(
                    f"**Denominator layout** (the guide's): row i holds $\\partial s_j / \\partial x_i$ — "
                    f"it is $W^T$, {n} × {m}"
                )
                st.latex(r"\frac{\partial s}{\partial x} = W^T = " + latex_matrix(ex.denominator))
                st.latex(
                    r"\frac{\partial C}{\partial x} = W^T \frac{\partial C}{\partial s} = "
                    + latex_matrix(ex.grad_x)
                    + rf"\quad ({n}\times{m})({m}) \to ({n})\ \checkmark"
                )
    st.caption(
        "Softmax's own Jacobian is symmetric (−a_i a_j = −a_j a_i), so for it the two layouts give the same matrix; "
        "the difference only shows on a non-symmetric Jacobian like W."
    )


def show_stability(s: np.ndarray, a: np.ndarray) -> None:
    """Section 5: naive vs max-shifted softmax and log-softmax on the current s."""
    st.header("5 · Numerical stability: naive vs max-shifted")
    st.markdown(
        "Load the presets *Huge*, *Tiny* and *Wide spread*. The naive and the shifted forms are mathematically "
        "equal because the factor $e^{-c}$ cancels, for any constant $c$:"
    )
    st.latex(
        r"\frac{e^{s_i}}{\sum_j e^{s_j}} = \frac{e^{-c}\,e^{s_i}}{e^{-c}\sum_j e^{s_j}}"
        r" = \frac{e^{s_i - c}}{\sum_j e^{s_j - c}},\qquad"
        r"\ln a_i = s_i - c - \ln \sum_j e^{s_j - c}\ \text{(log-sum-exp)}"
    )
    st.markdown(
        "With $c = \\max s$ every exponent is ≤ 0, so nothing overflows, and the largest term is exactly 1, so the sum "
        "cannot underflow to 0 and log-sum-exp never takes the log of 0. In float64, $e^{s}$ overflows to inf above "
        "s ≈ 709.8 and underflows to 0 below s ≈ −745."
    )
    naive = naive_softmax(s)
    naive_log, naive_log_warnings = naive_log_softmax(s)
    log_a, log_a_warnings = log_of_softmax(s)
    st.table(
        vectors_table(
            {
                "naive e^s_i": naive.exps,
                "naive Σ e^s_j": [naive.total] * s.size,
                "naive ratio": naive.a,
                "shifted (core softmax)": a,
                "naive ln ratio": naive_log,
                "ln(shifted softmax)": log_a,
                "log-sum-exp": log_softmax(s),
            }
        ),
        hide_index=True,
    )
    for label, caught in (
        ("naive softmax", naive.warnings),
        ("naive ln softmax", naive_log_warnings),
        ("ln of the shifted softmax", log_a_warnings),
    ):
        if caught:
            st.warning(f"numpy warned during the {label}: " + "; ".join(caught), icon=":material/warning:")
    if not (naive.warnings or naive_log_warnings or log_a_warnings):
        st.success(
            "No overflow or underflow for these scores: the naive and the shifted forms agree "
            f"(largest difference {largest_difference(naive.a, a):.1e}).",
            icon=":material/check_circle:",
        )


st.title("Jacobian Explorer")
st.markdown(
    "Softmax turns scores **s** into probabilities **a**; cross-entropy $C = -\\sum_i y_i \\ln a_i$ scores them "
    "against the one-hot target **y**. The guide (section 2) shows that the error term "
    "$\\delta = \\partial C / \\partial s$ is simply $a - y$. Change the numbers and watch every step."
)

# ---- inputs ---------------------------------------------------------------------------------------------
st.session_state.setdefault(CLASS_KEY, DEFAULT_CLASS)
col_preset, col_s, col_class, col_T = st.columns([1.3, 1.5, 1, 1.2])
with col_preset:
    st.selectbox("Preset", list(PRESETS), key=PRESET_KEY)
    st.button("Load preset", on_click=apply_preset, icon=":material/download:")
with col_s:
    s = vector_input(
        "Scores s", DEFAULT_S, key=S_KEY, help="M = 2 to 10 numbers separated by commas, e.g. 2.1, -1.0, 0.5"
    )
    if s is not None:
        try:
            s = check_scores(s)
        except ValueError as exc:
            st.error(str(exc), icon=":material/error:")
            s = None
with col_class:
    class_number = st.number_input("True class (1-based)", step=1, key=CLASS_KEY)
    k = y = None
    if s is not None:
        try:
            y = one_hot(int(class_number) - 1, s.size)
            k = int(class_number) - 1
            st.caption(f"0-based index k = {k}, so y = [{', '.join(fmt(v) for v in y)}]")
        except ValueError as exc:
            st.error(str(exc), icon=":material/error:")
with col_T:
    T = st.select_slider(
        "Temperature T of softmax(s / T)",
        options=TEMPERATURES,
        value=1.0,
        key="jac_T",
        help="T < 1 sharpens the distribution, T > 1 flattens it; T = 1 is the model's softmax",
    )

if s is None:
    st.info("Fix the scores s above to see softmax, its Jacobian and the error term.", icon=":material/info:")
else:
    a = softmax(s)
    show_softmax(s, a, k, y, T)
    show_jacobian(s, a, softmax_jacobian(a))
    show_error_term(a, k, y)
show_layouts()
if s is not None:
    show_stability(s, a)
