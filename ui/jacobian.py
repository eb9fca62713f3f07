"""Figures, tables, LaTeX and sections of the Jacobian Explorer; every number comes from ``core``."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core import cross_entropy, softmax
from core.functions import log_softmax
from core.jacobian import (
    ErrorTerms,
    SoftmaxSteps,
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
from ui.inputs import matrix_input, vector_input

FONT = {"size": 18}
AXIS_FONT = {"tickfont": {"size": 18}, "title": {"font": {"size": 18}}}
"""Readable from the back of a classroom; set on each axis because Streamlit's chart theme shrinks tick labels."""

# Preset name -> (scores s as typed, true class 1-based).
PRESETS: dict[str, tuple[str, int]] = {
    "Guide [2.1, -1, 0.5], class 2": ("2.1, -1.0, 0.5", 2),
    "Guide [2.1, -3, 1.5], class 3": ("2.1, -3.0, 1.5", 3),
    "Huge [1000, 999, 998]": ("1000, 999, 998", 1),
    "Tiny [-1000, -1001, -1002]": ("-1000, -1001, -1002", 1),
    "Wide spread [800, 0, -800]": ("800, 0, -800", 1),
}

S_KEY, CLASS_KEY, PRESET_KEY = "jac_s", "jac_class", "jac_preset"
TEMPERATURES = [0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 7.0, 10.0]  # roughly log-spaced
DEFAULT_S, DEFAULT_CLASS = next(iter(PRESETS.values()))

# Medium (not dark) ends so black cell text stays readable; white at zero.
_DIVERGING = [[0.0, "#5b8fd9"], [0.5, "#ffffff"], [1.0, "#e0785a"]]


def fmt(x: float, digits: int = 4) -> str:
    """A number for a table cell: ``digits`` significant figures, and inf / nan spelled as numpy gives them."""
    return f"{float(x) + 0.0:.{digits}g}"  # + 0.0 turns -0.0 into 0.0


def sub(i: int) -> str:
    """The 1-based subscript the guide uses: index 0 -> ``_1``."""
    return f"<sub>{i + 1}</sub>"


def softmax_bars(a: np.ndarray, k: int | None, a_T: np.ndarray | None = None, T: float = 1.0) -> go.Figure:
    """Bar chart of ``a = softmax(s)``; with ``a_T`` also ``softmax(s / T)`` beside it. Class k is marked."""
    labels = [f"a{sub(i)}" for i in range(a.size)]
    colors = ["#2e7d32" if i == k else "#4f6fad" for i in range(a.size)]
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=a,
            name="T = 1 (the model)",
            marker_color=colors,
            text=[fmt(v, 3) for v in a],
            textposition="outside",
            hovertemplate="%{x} = %{y:.6f}<extra>T = 1</extra>",
        )
    )
    if a_T is not None:
        fig.add_bar(
            x=labels,
            y=a_T,
            name=f"T = {T:g}",
            marker_color="#f0a04b",
            text=[fmt(v, 3) for v in a_T],
            textposition="outside",
            hovertemplate=f"%{{x}} = %{{y:.6f}}<extra>T = {T:g}</extra>",
        )
    title = "Softmax a = softmax(s)" + (f" and softmax(s / {T:g})" if a_T is not None else "")
    if k is not None:
        title += f" (true class {k + 1} in green)"
    fig.update_layout(
        title=title,
        font=FONT,
        barmode="group",
        title_font={"size": 22},
        xaxis=AXIS_FONT,
        yaxis=AXIS_FONT | {"range": [0, 1.15], "title": {"text": "probability", "font": {"size": 18}}},
        legend={"orientation": "h", "y": -0.15},
        margin={"t": 60, "b": 40},
        height=420,
    )
    return fig


def _cell(J: np.ndarray, a: np.ndarray, i: int, j: int) -> tuple[str, str]:
    """Cell text and hover text for ``d a_i / d s_j``; large matrices get a shorter cell text."""
    name = f"∂a{sub(i)}/∂s{sub(j)}"
    compact = a.size > 6
    value = f"{J[i, j] + 0.0:.3f}" if compact else fmt(J[i, j], 3)
    if i == j:
        text = f"{value}<br>diag" if compact else f"{value}<br>diag a{sub(i)}(1−a{sub(i)})"
        hover = f"{name} = a{sub(i)}(1 − a{sub(i)}) = {fmt(a[i])} × (1 − {fmt(a[i])}) = {fmt(J[i, j], 6)}"
    else:
        text = f"{value}<br>off" if compact else f"{value}<br>off −a{sub(i)}a{sub(j)}"
        hover = f"{name} = −a{sub(i)} a{sub(j)} = −{fmt(a[i])} × {fmt(a[j])} = {fmt(J[i, j], 6)}"
    return text, hover


SUM_STYLE = {"showarrow": False, "font": {"size": 18, "color": "#1b5e20"}}


def jacobian_heatmap(J: np.ndarray, a: np.ndarray) -> go.Figure:
    """Annotated heatmap of the softmax Jacobian ``J[i, j] = d a_i / d s_j`` with row and column sums."""
    M = a.size
    cells = [[_cell(J, a, i, j) for j in range(M)] for i in range(M)]
    zmax = float(np.abs(J).max()) or 1.0
    fig = go.Figure(
        go.Heatmap(
            z=J,
            x=list(range(M)),
            y=list(range(M)),
            text=[[c[0] for c in row] for row in cells],
            customdata=[[c[1] for c in row] for row in cells],
            texttemplate="%{text}",
            textfont={"size": 18 if M <= 4 else 14},
            hovertemplate="%{customdata}<extra></extra>",
            colorscale=_DIVERGING,
            zmin=-zmax,
            zmax=zmax,
            colorbar={"title": "value"},
        )
    )
    # Row sums in an extra column on the right, column sums in an extra row below.
    sums = [(M, i, total) for i, total in enumerate(J.sum(axis=1))] + [(j, M, t) for j, t in enumerate(J.sum(axis=0))]
    for x, y, total in sums:
        fig.add_annotation(x=x, y=y, text=f"Σ = {fmt(round(total, 6), 3)}", hovertext=f"{total:.3e}", **SUM_STYLE)
    fig.update_layout(
        title="Jacobian ∂a/∂s of softmax (hover a cell for its formula)",
        font=FONT,
        title_font={"size": 22},
        xaxis=AXIS_FONT
        | {
            "tickvals": list(range(M + 1)),
            "ticktext": [f"s{sub(j)}" for j in range(M)] + ["row sum"],
            "range": [-0.5, M + 0.5],
            "side": "top",
            "showgrid": False,
            "zeroline": False,
        },
        yaxis=AXIS_FONT
        | {
            "tickvals": list(range(M + 1)),
            "ticktext": [f"a{sub(i)}" for i in range(M)] + ["col sum"],
            "range": [M + 0.5, -0.5],
            "showgrid": False,
            "zeroline": False,
        },
        margin={"t": 110},
        height=max(480, 75 * (M + 1) + 160),
    )
    return fig


def steps_table(steps: SoftmaxSteps) -> dict[str, list[str]]:
    """The softmax steps as table columns, one row per class i."""
    M = steps.s.size
    return {
        "i": [str(i + 1) for i in range(M)],
        "s_i": [fmt(v) for v in steps.s],
        "s_i − max s": [fmt(v) for v in steps.shifted],
        "exp(s_i − max s)": [fmt(v) for v in steps.exps],
        "Σ exp": [fmt(steps.total)] * M,
        "a_i = ratio": [fmt(v) for v in steps.a],
    }


def vectors_table(columns: dict[str, np.ndarray], digits: int = 6) -> dict[str, list[str]]:
    """Named vectors side by side as table columns, with a 1-based index column i."""
    M = len(next(iter(columns.values())))
    return {"i": [str(i + 1) for i in range(M)]} | {
        name: [fmt(v, digits) for v in vec] for name, vec in columns.items()
    }


def terms_table(terms: ErrorTerms, a: np.ndarray, y: np.ndarray) -> dict[str, list[str]]:
    """The section 2.4 expansion term by term, one row per delta_i."""
    M = a.size
    off = []
    for i in range(M):
        parts = [f"(−{fmt(a[i])}·{fmt(a[j])})·(−{fmt(y[j], 3)}/{fmt(a[j])})" for j in range(M) if j != i and y[j] != 0]
        off.append(" + ".join(parts) + f" = {fmt(terms.off_diagonal_sum[i])}" if parts else "0 (every y_j = 0)")
    return {
        "i": [str(i + 1) for i in range(M)],
        "diagonal a_i(1−a_i)(−y_i/a_i)": [
            f"{fmt(a[i])}·{fmt(1 - a[i])}·(−{fmt(y[i], 3)}/{fmt(a[i])}) = {fmt(terms.diagonal[i])}" for i in range(M)
        ],
        "off-diagonal Σ_{j≠i} (−a_i a_j)(−y_j/a_j)": off,
        "delta_i": [fmt(v, 6) for v in terms.delta],
    }


def derivation_latex(a: np.ndarray, k: int) -> list[str]:
    """LaTeX lines taking the expansion (2) to ``a - y`` (3) for one-hot y at class k, numbers put in."""
    n = k + 1
    ak = a[k]
    lines = [
        r"\delta_i = \underbrace{a_i(1-a_i)\left(-\frac{y_i}{a_i}\right)}_{\text{diagonal}}"
        r" + \underbrace{\sum_{j\ne i}(-a_i a_j)\left(-\frac{y_j}{a_j}\right)}_{\text{off-diagonal}}"
        r"\qquad (2)",
        rf"y_{n} = 1,\ y_j = 0\ (j \ne {n}):\ \text{{only }} j = {n} \text{{ survives in each sum}}",
        rf"i = {n}:\quad \delta_{n} = a_{n}(1-a_{n})\left(-\frac{{1}}{{a_{n}}}\right) + 0 = -(1-a_{n})"
        rf" = {fmt(ak)} - 1 = {fmt(ak - 1)}",
    ]
    lines += [
        rf"i = {i + 1}:\quad \delta_{{{i + 1}}} = 0 + (-a_{{{i + 1}}} a_{n})\left(-\frac{{1}}{{a_{n}}}\right)"
        rf" = a_{{{i + 1}}} = a_{{{i + 1}}} - y_{{{i + 1}}} = {fmt(a[i])}"
        for i in range(a.size)
        if i != k
    ]
    lines.append(r"\Rightarrow\ \delta = a - y \qquad (3)")
    return lines


def latex_matrix(A: np.ndarray) -> str:
    """A vector (as a column) or matrix as a LaTeX ``bmatrix``."""
    A = np.atleast_2d(A).T if np.ndim(A) == 1 else A
    rows = [" & ".join(fmt(v) for v in row) for row in A]
    return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"


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


def show_inputs() -> tuple[np.ndarray | None, int | None, np.ndarray | None, float]:
    """The preset, the scores s, the true class and the temperature T; returns s, k (0-based), one-hot y and T.

    s is None while the scores are invalid, k and y while s or the class is (each error is shown beside its box).
    """
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
    return s, k, y, T
