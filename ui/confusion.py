"""Figures and tables for the Confusion Matrix page; every number comes from ``core.metrics``.

Rows are the true class i and columns the predicted class j, as in ``core.metrics.confusion_matrix``.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

FONT = {"size": 16}
AXIS_FONT = {"tickfont": {"size": 16}, "title": {"font": {"size": 18}}}
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
    text = [[percent(v) if normalised else f"{int(c)}" for v, c in zip(srow, crow, strict=True)]
            for srow, crow in zip(shares, cm, strict=True)]  # fmt: skip
    ticks = {"tickvals": list(range(K)), "ticktext": list(class_names), **AXIS_FONT}
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(range(K)),
            y=list(range(K)),
            text=text,
            texttemplate="%{text}",
            textfont={"size": 14 if K <= 10 else 10},
            customdata=np.dstack([cm, np.nan_to_num(shares * 100)]),
            colorscale="Blues",
            zmin=0,
            zmax=1 if normalised else None,
            colorbar={"title": {"text": "share" if normalised else "count"}, "thickness": 16},
            hovertemplate="true %{y}, predicted %{x}<br>%{customdata[0]} images "
            "(%{customdata[1]:.1f}% of true %{y})<extra></extra>",
        )
    )
    title = "Normalised by row: share of each true class" if normalised else "Counts"
    fig.update_layout(
        title={"text": title, "font": {"size": 20}},
        font=FONT,
        height=560,
        margin={"t": 60, "b": 10, "l": 10, "r": 10},
        xaxis={"title": {"text": "predicted class j"}, "side": "bottom", "constrain": "domain", **ticks},
        yaxis={"title": {"text": "true class i"}, "autorange": "reversed", "scaleanchor": "x", **ticks},
    )
    return fig


def per_class_table(metrics: dict[str, np.ndarray], class_names: list[str] | tuple[str, ...]) -> dict[str, list]:
    """``core.metrics.per_class_metrics`` as table columns: support, precision, recall, one-vs-rest accuracy."""
    return {
        "class": list(class_names),
        "images (support)": [int(n) for n in metrics["support"]],
        "predicted": [int(n) for n in metrics["predicted"]],
        "precision TP/(TP+FP)": [percent(v) for v in metrics["precision"]],
        "recall TP/(TP+FN)": [percent(v) for v in metrics["recall"]],
        "accuracy (TP+TN)/N": [percent(v) for v in metrics["accuracy"]],
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
        height=200 * rows + 20,
        margin={"t": 40, "b": 10, "l": 10, "r": 10},
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
