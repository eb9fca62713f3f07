"""Figures for the Weight Templates page: the rows w_i of W drawn as images, beside each class's mean image.

Weights use a diverging scale centred on zero (positive warm, negative cool, as in the guide); images of
pixels use grey (ink dark on white). Every number comes from ``core``; these functions only draw.
"""

from __future__ import annotations

import math
import weakref

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.data import Dataset, class_means

FONT = {"size": 16}
TITLE_FONT = {"size": 22}
DIVERGING = "RdBu_r"
"""Plotly's red-blue scale reversed: positive weights red (warm), negative blue (cool), zero white."""
PIXELS = "gray_r"
PAIRS_PER_ROW = 5
SPACER = 0.3
"""Width of the gap between two template-and-mean pairs, relative to one image."""
PLOT_WIDTH = 1000
"""About the pixels a full-width chart gets on a projector: sets the figure's height so images stay square."""


def symmetric_limit(values: np.ndarray) -> float:
    """The largest |value| (at least a tiny positive number), so a diverging scale centred on 0 shows all of them."""
    finite = np.abs(np.asarray(values, dtype=np.float64))
    finite = finite[np.isfinite(finite)]
    return float(max(finite.max(initial=0.0), 1e-12))


def _weight_heatmap(z: np.ndarray, limit: float, name: str, coloraxis: str | None) -> go.Heatmap:
    """One template as a heatmap; on a shared ``coloraxis`` or, without one, its own scale of +-``limit``."""
    own = {} if coloraxis else {"colorscale": DIVERGING, "zmin": -limit, "zmax": limit, "showscale": False}
    return go.Heatmap(
        z=z,
        coloraxis=coloraxis,
        hovertemplate=f"{name}<br>row %{{y}}, column %{{x}}<br>weight %{{z:.4f}}<extra></extra>",
        **own,
    )


def templates_figure(
    W: np.ndarray,
    shape: tuple[int, int],
    class_names: list[str] | tuple[str, ...],
    means: np.ndarray | None = None,
    per_class: bool = False,
) -> go.Figure:
    """Every row w_i of W (K, D) reshaped to ``shape``, each with the mean training image of class i beside it.

    Parameters
    ----------
    W : ndarray (K, D)
        The weights; w_i is drawn as an image, red where a dark pixel raises the score s_i.
    shape : (rows, columns)
        The image shape, rows * columns = D.
    class_names : sequence of str
        Name of class i, for the titles.
    means : ndarray (K, D), optional
        The mean training image of each class, drawn to the right of its template (grey).
    per_class : bool
        Scale each template to its own largest |w| instead of one scale shared by all classes.
    """
    W = np.asarray(W, dtype=np.float64)
    K = W.shape[0]
    per_row = min(K, PAIRS_PER_ROW)
    n_rows = math.ceil(K / PAIRS_PER_ROW)
    # With the means: [template, mean, narrow spacer] per class, so each pair reads as one unit.
    step = 3 if means is not None else 1
    widths = ([1.0, 1.0, SPACER] * per_row)[:-1] if means is not None else [1.0] * per_row
    titles = []
    for r in range(n_rows):
        row = []
        for c in range(per_row):
            k = r * PAIRS_PER_ROW + c
            row.append(f"w<sub>{k}</sub>: {class_names[k]}" if k < K else "")
            if means is not None:
                row += [f"mean of {class_names[k]}" if k < K else "", ""]
        titles += row[: len(widths)]
    fig = make_subplots(
        rows=n_rows,
        cols=len(widths),
        column_widths=widths,
        subplot_titles=titles,
        horizontal_spacing=0.006,
        vertical_spacing=0.1 / n_rows,
    )
    shared = symmetric_limit(W)
    for k in range(K):
        row, col = k // PAIRS_PER_ROW + 1, (k % PAIRS_PER_ROW) * step + 1
        limit = symmetric_limit(W[k]) if per_class else shared
        name = f"w<sub>{k}</sub> ({class_names[k]})"
        fig.add_trace(_weight_heatmap(W[k].reshape(shape), limit, name, None if per_class else "coloraxis"), row, col)
        if means is not None:
            fig.add_trace(
                go.Heatmap(
                    z=np.asarray(means[k]).reshape(shape),
                    coloraxis="coloraxis2",
                    hovertemplate=f"mean of {class_names[k]}<br>row %{{y}}, column %{{x}}<br>"
                    "pixel %{z:.3f}<extra></extra>",
                ),
                row,
                col + 1,
            )
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    # Every subplot keeps square pixels: anchor each y axis to its own x axis.
    for n in range(2, n_rows * len(widths) + 1):
        fig.update_layout({f"yaxis{n}": {"scaleanchor": f"x{n}"}})
    scale = "each class on its own scale" if per_class else f"one scale for all classes, ±{shared:.3g}"
    fig.update_layout(
        title={
            # Two lines: on one, the title ran past the chart's right edge at 1400 px.
            "text": f"The weight vectors w<sub>i</sub> as images ({scale})<br>"
            "red pushes s<sub>i</sub> up, blue pushes it down",
            "font": TITLE_FONT,
        },  # fmt: skip
        font=FONT,
        height=n_rows * (round(PLOT_WIDTH / sum(widths)) + 40) + 130,
        margin={"t": 120, "b": 10, "l": 10, "r": 10},
        coloraxis={
            "colorscale": DIVERGING,
            "cmid": 0.0,
            "cmin": -shared,
            "cmax": shared,
            "showscale": not per_class,
            "colorbar": {"title": {"text": "w"}, "len": 0.9, "thickness": 18, "x": 1.01},
        },
        coloraxis2={"colorscale": PIXELS, "cmin": 0.0, "cmax": 1.0, "showscale": False},
    )
    fig.update_annotations(font={"size": 15})
    return fig


def difference_figure(
    diff: np.ndarray, shape: tuple[int, int], i: int, j: int, class_names: list[str] | tuple[str, ...]
) -> go.Figure:
    """``w_i - w_j`` as an image on a diverging scale centred on zero: red pixels favour class i over j."""
    limit = symmetric_limit(diff)
    name = f"w<sub>{i}</sub> − w<sub>{j}</sub>"
    fig = go.Figure(
        go.Heatmap(
            z=np.asarray(diff).reshape(shape),
            colorscale=DIVERGING,
            zmid=0.0,
            zmin=-limit,
            zmax=limit,
            colorbar={"title": {"text": "Δw"}, "thickness": 18},
            hovertemplate=f"{name}<br>row %{{y}}, column %{{x}}<br>difference %{{z:.4f}}<extra></extra>",
        )
    )
    fig.update_layout(
        title={"text": f"{name}: red favours {class_names[i]}, blue favours {class_names[j]}", "font": {"size": 20}},
        font=FONT,
        height=420,
        margin={"t": 60, "b": 10, "l": 10, "r": 10},
        xaxis={"visible": False, "constrain": "domain"},
        yaxis={"visible": False, "autorange": "reversed", "scaleanchor": "x", "constrain": "domain"},
    )
    return fig


_MEANS: weakref.WeakKeyDictionary[Dataset, np.ndarray] = weakref.WeakKeyDictionary()


def mean_images(ds: Dataset) -> np.ndarray:
    """``core.data.class_means`` of a dataset, computed once per Dataset object (it does not change)."""
    if ds not in _MEANS:
        _MEANS[ds] = class_means(ds)
    return _MEANS[ds]
