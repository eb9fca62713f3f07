"""Figures and tables for the Confusion Matrix page; every number comes from ``core.metrics``.

Rows are the true class i and columns the predicted class j, as in ``core.metrics.confusion_matrix``.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

FONT = {"size": 16}
IMAGES_PER_ROW = 6


def percent(x: float) -> str:
    """A ratio as a percentage for a table; an undefined ratio (``nan``: 0 / 0) as a dash, never as 0."""
    return "—" if math.isnan(x) else f"{100 * x:.1f}%"


def confusion_heatmap(cm: np.ndarray, shares: np.ndarray, class_names: list[str] | tuple[str, ...], normalised: bool):
    """The confusion matrix as a heatmap, coloured and labelled by counts or by row shares.

    Parameters
    ----------
    cm : ndarray (K, K)
        Counts ``cm[i, j]`` of true class i predicted as j.
    shares : ndarray (K, K)
        ``core.metrics.row_normalised(cm)``: the share of class i predicted as j (shown on hover either way).
    normalised : bool
        Colour and label the cells by the shares (each row sums to 100%) instead of the counts.
    """
    K = cm.shape[0]
    z = shares if normalised else cm
    # Whole percents fit a cell; an empty cell of the shares (0%) stays blank so the confusions stand out.
    text = [[(f"{100 * v:.0f}%" if c else "") if normalised else f"{int(c)}" for v, c in zip(srow, crow, strict=True)]
            for srow, crow in zip(shares, cm, strict=True)]  # fmt: skip
    hover = [[f"true {class_names[i]}, predicted {class_names[j]}<br>{int(cm[i, j])} images"
              + ("" if math.isnan(shares[i, j]) else f" ({100 * shares[i, j]:.1f}% of true {class_names[i]})")
              for j in range(K)] for i in range(K)]  # fmt: skip
    ticks = {"tickvals": list(range(K)), "ticktext": list(class_names), "tickfont": {"size": 16}}
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(range(K)),
            y=list(range(K)),
            text=text,
            texttemplate="%{text}",
            textfont={"size": 14 if K <= 10 else 10},
            colorscale="Blues",
            zmin=0,
            zmax=1 if normalised else None,
            colorbar={"title": {"text": "share" if normalised else "count"}, "thickness": 16},
            hoverinfo="skip",
        )
    )
    # Invisible markers on the cell centres carry the hover text and make a cell clickable: Streamlit reports
    # clicked scatter points as a selection (a heatmap cell alone is not selectable).
    i, j = np.divmod(np.arange(K * K), K)
    fig.add_scatter(
        x=j,
        y=i,
        mode="markers",
        marker={"symbol": "square", "size": 36 if K <= 10 else 18, "opacity": 0},
        hovertext=[hover[a][b] for a, b in zip(i, j, strict=True)],
        hovertemplate="%{hovertext}<extra></extra>",
        showlegend=False,
    )
    title = "Normalised by row: share of each true class" if normalised else "Counts"
    fig.update_layout(
        title={"text": title, "font": {"size": 20}},
        font=FONT,
        height=540,
        margin={"t": 60, "b": 10, "l": 10, "r": 10},
        xaxis={
            "title": {"text": "predicted class j", "font": {"size": 18}},
            "range": [-0.5, K - 0.5],
            "constrain": "domain",
            **ticks,
        },
        yaxis={
            "title": {"text": "true class i", "font": {"size": 18}},
            "range": [K - 0.5, -0.5],  # reversed: class 0 on top; fixed, as the markers would pad it
            "scaleanchor": "x",
            "constrain": "domain",
            **ticks,
        },
        clickmode="event+select",
    )
    return fig


def per_class_table(metrics: dict[str, np.ndarray], class_names: list[str] | tuple[str, ...]) -> dict[str, list]:
    """``core.metrics.per_class_metrics`` as table columns: support, precision, recall, one-vs-rest accuracy."""
    return {
        "class": list(class_names),
        "images": [int(n) for n in metrics["support"]],
        "predicted": [int(n) for n in metrics["predicted"]],
        "precision": [percent(v) for v in metrics["precision"]],
        "recall": [percent(v) for v in metrics["recall"]],
        "accuracy": [percent(v) for v in metrics["accuracy"]],
    }


def cell_images_figure(
    images: np.ndarray, shape: tuple[int, int], titles: list[str], per_row: int = IMAGES_PER_ROW
) -> go.Figure:
    """Images (n, D) in a grid, ink dark on white, each with its title (e.g. the model's probabilities)."""
    n = len(images)
    rows = max(1, math.ceil(n / per_row))
    fig = make_subplots(
        rows=rows, cols=per_row, subplot_titles=titles, horizontal_spacing=0.02, vertical_spacing=0.25 / rows
    )
    for k, image in enumerate(images):
        fig.add_trace(
            go.Heatmap(
                z=np.asarray(image).reshape(shape),
                coloraxis="coloraxis",
                hovertemplate="row %{y}, column %{x}<br>pixel %{z:.2f}<extra></extra>",
            ),
            k // per_row + 1,
            k % per_row + 1,
        )
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", constrain="domain")
    for k in range(1, rows * per_row + 1):
        fig.update_layout({f"yaxis{k if k > 1 else ''}": {"scaleanchor": f"x{k if k > 1 else ''}"}})
    fig.update_layout(
        font=FONT,
        height=230 * rows + 30,
        margin={"t": 55, "b": 10, "l": 10, "r": 10},  # room for two-line titles
        coloraxis={"colorscale": "gray_r", "cmin": 0.0, "cmax": 1.0, "showscale": False},
    )
    fig.update_annotations(font={"size": 14})
    return fig


def probability_table(
    indices: np.ndarray, probabilities: np.ndarray, class_names: list[str] | tuple[str, ...]
) -> dict[str, list]:
    """One row per image: its index in the split and the model's softmax output a_k for every class k."""
    table: dict[str, list] = {"image #": [int(n) for n in indices]}
    for k, name in enumerate(class_names):
        table[f"a({name})"] = [f"{p:.3f}" for p in probabilities[indices, k]]
    return table
