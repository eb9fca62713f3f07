"""Figures, tables and LaTeX for the Jacobian Explorer; every number comes from ``core``."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.jacobian import ErrorTerms, SoftmaxSteps

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
