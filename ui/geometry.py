"""Plotly figures for Optimisation Geometry; every number they draw is computed by ``core.geometry``."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.geometry import Boundary, DescentPath, GradientField, Regions, Surface, excess_loss, reference_line

FONT = {"size": 17}
AXIS_FONT = {"tickfont": {"size": 16}, "title": {"font": {"size": 18}}}
"""Readable from the back of a classroom; set on each axis because Streamlit's chart theme shrinks tick labels."""

CLASS_COLORS = ("#1f77b4", "#e8710a", "#2ca02c", "#9467bd")
"""Class k's colour in every view (K <= 4)."""

PATH_COLORS = ("#111111", "#d62728", "#e91e9c")
"""Batch GD, mini-batch SGD, pure SGD."""

SURFACE_COLORS = [[0.0, "#fffbe6"], [0.45, "#a6d5e8"], [1.0, "#3f7fbf"]]
"""Pale at the minimum, blue uphill: dark paths and red arrows stay visible everywhere."""


def _blend(color: str, weight: float) -> str:
    """``color`` mixed with white: weight 0 is white, 1 the colour itself."""
    rgb = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    mixed = [round(255 + weight * (c - 255)) for c in rgb]
    return f"rgb({mixed[0]},{mixed[1]},{mixed[2]})"


def class_name(k: int) -> str:
    """The page numbers classes from 1, as the guide does."""
    return f"class {k + 1}"


def region_colorscale(n_classes: int) -> list[list]:
    """Class k owns the band [k/K, (k+1)/K] of the scale, pale at probability 1/K and strong at probability 1."""
    scale = []
    for k in range(n_classes):
        scale.append([k / n_classes, _blend(CLASS_COLORS[k], 0.12)])
        scale.append([(k + 1) / n_classes, _blend(CLASS_COLORS[k], 0.7)])
    return scale


def regions_figure(
    regions: Regions,
    boundaries: list[Boundary],
    W: np.ndarray,
    X: np.ndarray | None = None,
    y: np.ndarray | None = None,
    title: str = "Decision regions",
) -> go.Figure:
    """The plane coloured by the arg-max class, shaded by its probability; boundaries; w_k as arrows.

    Arrows longer than the plotted square are all shrunk by one common factor (said in the title), so
    their directions and relative lengths stay true.
    """
    K = len(W)
    extent = float(regions.x1[-1])
    # z = class + how sure: (max_k a_k - 1/K) / (1 - 1/K) in [0, 1), so one heatmap carries both.
    sure = np.clip((regions.prob - 1 / K) / (1 - 1 / K), 0.0, 0.999)
    fig = go.Figure(
        go.Heatmap(
            x=regions.x1,
            y=regions.x2,
            z=(regions.label + sure).astype(np.float32),
            zmin=0,
            zmax=K,
            colorscale=region_colorscale(K),
            showscale=False,
            hoverinfo="skip",
        )
    )
    xs, ys = [], []
    for line in boundaries:
        xs += [line.start[0], line.end[0], None]
        ys += [line.start[1], line.end[1], None]
    fig.add_scatter(x=xs, y=ys, mode="lines", line={"color": "black", "width": 3}, name="boundary s_i = s_j")
    if X is not None and y is not None:
        for k in range(K):
            mask = y == k
            fig.add_scatter(
                x=X[mask, 0],
                y=X[mask, 1],
                mode="markers",
                marker={"color": CLASS_COLORS[k], "size": 9, "line": {"color": "white", "width": 1}},
                name=class_name(k),
            )
    longest = float(np.linalg.norm(W, axis=1).max())
    scale = min(1.0, 0.95 * extent / longest) if longest > 0 else 1.0
    for k, w in enumerate(np.asarray(W, dtype=float) * scale):
        color = CLASS_COLORS[k]
        fig.add_annotation(
            x=w[0], y=w[1], ax=0, ay=0, xref="x", yref="y", axref="x", ayref="y", text="", showarrow=True,
            arrowhead=3, arrowsize=1.2, arrowwidth=4, arrowcolor=color,
        )  # fmt: skip
        # The label beside the tip (an arrow annotation would put its text at the tail, the origin).
        fig.add_annotation(
            x=w[0], y=w[1], xref="x", yref="y", showarrow=False, text=f"<b>w<sub>{k + 1}</sub></b>",
            font={"size": 20, "color": color}, bgcolor="rgba(255,255,255,0.8)",
            xanchor="left" if w[0] >= 0 else "right", yanchor="bottom" if w[1] >= 0 else "top",
        )  # fmt: skip
    if scale < 1.0:
        title += f" (arrows w<sub>k</sub> drawn ×{scale:.2g})"
    fig.update_layout(
        title={"text": title, "font": {"size": 22}},
        font=FONT,
        xaxis=AXIS_FONT | {"range": [-extent, extent], "title": {"text": "x₁", "font": {"size": 18}}},
        yaxis=AXIS_FONT
        | {"range": [-extent, extent], "scaleanchor": "x", "title": {"text": "x₂", "font": {"size": 18}}},
        legend={"orientation": "h", "y": -0.12},
        margin={"t": 60, "b": 40, "l": 40, "r": 20},
        height=640,
        uirevision="regions",
    )
    return fig


def _surface_layout(fig: go.Figure, surface: Surface, k: int, title: str, height: int) -> None:
    """Parameter axes, title and legend shared by the contour views of the weight slice."""
    _param_axes(fig, surface, k)
    fig.update_layout(
        title={"text": title, "font": {"size": 22}},
        font=FONT,
        legend={"orientation": "h", "y": -0.12},
        margin={"t": 60, "b": 40, "l": 40, "r": 20},
        height=height,
    )


def _param_axes(fig: go.Figure, surface: Surface, k: int) -> None:
    """Axes of the (W_k1, W_k2) plane, fixed to the surface's square."""
    for axis, values, name in (
        ("xaxis", surface.u, f"W<sub>{k + 1},1</sub>"),
        ("yaxis", surface.v, f"W<sub>{k + 1},2</sub>"),
    ):
        fig.update_layout(
            {axis: AXIS_FONT | {"range": [values[0], values[-1]], "title": {"text": name, "font": {"size": 18}}}}
        )
    fig.update_layout(yaxis_scaleanchor="x")


def _contour(surface: Surface) -> go.Contour:
    return go.Contour(
        x=surface.u,
        y=surface.v,
        z=surface.loss,
        colorscale=SURFACE_COLORS,
        ncontours=28,
        contours={"coloring": "heatmap", "showlines": True},
        line={"color": "rgba(60,60,60,0.35)", "width": 1},
        colorbar={"title": {"text": "C", "font": {"size": 18}}, "tickfont": {"size": 15}},
        hovertemplate="W<sub>k,1</sub> = %{x:.3f}<br>W<sub>k,2</sub> = %{y:.3f}<br>C = %{z:.4f}<extra></extra>",
        name="C",
    )


def _minimum_marker(fig: go.Figure, theta_min: np.ndarray) -> None:
    fig.add_scatter(
        x=[theta_min[0]],
        y=[theta_min[1]],
        mode="markers",
        marker={"symbol": "star", "size": 22, "color": "gold", "line": {"color": "black", "width": 1.5}},
        name="minimum",
    )


def surface_figure(
    surface: Surface, field: GradientField, theta_min: np.ndarray, k: int, start: np.ndarray | None = None
) -> go.Figure:
    """Contours of C(W_k1, W_k2) with the negative gradient as arrows on a grid and the minimum marked.

    Arrow lengths grow with ``sqrt(||dC/dtheta||)`` from a third of a grid step to nearly one, so gentle slopes
    still show their direction; arrows under 1% of the steepest are left out.
    """
    fig = go.Figure(_contour(surface))
    cell = float(field.u[1] - field.u[0])
    norms = np.hypot(field.du, field.dv)
    longest = float(norms.max())
    arrows = []
    for r, v in enumerate(field.v):
        for c, u in enumerate(field.u):
            if longest == 0 or norms[r, c] < 0.01 * longest:
                continue
            f = cell * (0.35 + 0.55 * np.sqrt(norms[r, c] / longest)) / norms[r, c]
            arrows.append(
                {"x": u - f * field.du[r, c], "y": v - f * field.dv[r, c], "ax": u, "ay": v, "xref": "x", "yref": "y",
                 "axref": "x", "ayref": "y", "showarrow": True, "arrowhead": 2, "arrowsize": 0.8, "arrowwidth": 1.6,
                 "arrowcolor": "#c62828", "text": ""}
            )  # fmt: skip
    fig.update_layout(annotations=arrows)  # one call: add_annotation per arrow re-validates them all each time
    _minimum_marker(fig, theta_min)
    if start is not None:
        fig.add_scatter(
            x=[start[0]], y=[start[1]], mode="markers", name="start θ₀",
            marker={"symbol": "circle", "size": 14, "color": "white", "line": {"color": "black", "width": 2}},
        )  # fmt: skip
    _surface_layout(fig, surface, k, f"Loss C(w<sub>{k + 1}</sub>) with −∇C arrows (downhill)", height=700)
    return fig


def surface_3d_figure(surface: Surface, theta_min: np.ndarray, loss_min: float, k: int) -> go.Figure:
    """The same loss as a 3-D surface, with the minimum marked."""
    fig = go.Figure(go.Surface(x=surface.u, y=surface.v, z=surface.loss, colorscale=SURFACE_COLORS, showscale=False))
    fig.add_scatter3d(
        x=[theta_min[0]], y=[theta_min[1]], z=[loss_min], mode="markers", name="minimum",
        marker={"size": 8, "color": "gold", "line": {"color": "black", "width": 1}},
    )  # fmt: skip
    fig.update_layout(
        title={"text": f"C(w<sub>{k + 1}</sub>) as a surface", "font": {"size": 22}},
        font=FONT,
        scene={"xaxis_title": f"W{k + 1},1", "yaxis_title": f"W{k + 1},2", "zaxis_title": "C"},
        margin={"t": 60, "b": 10, "l": 10, "r": 10},
        height=560,
    )
    return fig


def path_label(name: str, path: DescentPath) -> str:
    """The legend name of a path; a diverged one says so."""
    return f"{name} — diverged at update {path.diverged_at}" if path.diverged else name


def _finite_prefix(values: np.ndarray, upto: int) -> np.ndarray:
    """The first ``upto + 1`` points, without the non-finite point a diverged path may end on."""
    shown = values[: upto + 1]
    return shown[np.isfinite(shown).all(axis=-1)] if shown.ndim > 1 else shown[np.isfinite(shown)]


def paths_figure(
    surface: Surface, theta_min: np.ndarray, paths: dict[str, DescentPath], step: int, k: int
) -> go.Figure:
    """The paths after ``step`` updates on the contours: every visited point, the current one large."""
    fig = go.Figure(_contour(surface))
    fig.data[0].showscale = False
    _minimum_marker(fig, theta_min)
    for color, (name, path) in zip(PATH_COLORS, paths.items(), strict=False):
        theta = _finite_prefix(path.theta, step)
        fig.add_scatter(
            x=theta[:, 0], y=theta[:, 1], mode="lines+markers", name=path_label(name, path),
            line={"color": color, "width": 2.5}, marker={"size": 5, "color": color},
        )  # fmt: skip
        end = path.diverged and step >= len(path.theta) - 1
        fig.add_scatter(
            x=theta[-1:, 0], y=theta[-1:, 1], mode="markers", showlegend=False, hoverinfo="skip",
            marker={"size": 16 if not end else 22, "color": color, "symbol": "x" if end else "circle",
                    "line": {"color": "white", "width": 2}},
        )  # fmt: skip
    _surface_layout(fig, surface, k, f"The paths after {step} updates", height=620)
    return fig


def _curve_layout(fig: go.Figure, title: str, x_title: str, y_title: str, **axes: dict) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": 20}},
        font=FONT,
        xaxis=AXIS_FONT | {"title": {"text": x_title, "font": {"size": 17}}} | axes.get("xaxis", {}),
        yaxis=AXIS_FONT | {"title": {"text": y_title, "font": {"size": 17}}} | axes.get("yaxis", {}),
        legend={"orientation": "h", "y": -0.25},
        margin={"t": 50, "b": 40, "l": 40, "r": 20},
        height=380,
    )
    return fig


def loss_curves_figure(paths: dict[str, DescentPath], step: int, x: str, loss_min: float) -> go.Figure:
    """C(theta_t) on all N samples against updates t (``x="updates"``) or samples processed (``x="samples"``)."""
    fig = go.Figure()
    for color, (name, path) in zip(PATH_COLORS, paths.items(), strict=False):
        n = min(step, len(path.loss) - 1) + 1
        xs = np.arange(n) if x == "updates" else path.samples[:n]
        loss = path.loss[:n]
        fig.add_scatter(x=xs[np.isfinite(loss)], y=loss[np.isfinite(loss)], mode="lines", name=path_label(name, path),
                        line={"color": color, "width": 2.5})  # fmt: skip
    fig.add_hline(y=loss_min, line={"dash": "dot", "color": "goldenrod"}, annotation_text="minimum")
    label = "updates t" if x == "updates" else "samples processed"
    # From just below the minimum to just above the common start: a diverging path leaves through the top.
    start = max(float(p.loss[0]) for p in paths.values()) if paths else loss_min + 1
    pad = 0.08 * max(start - loss_min, 1e-3)
    return _curve_layout(
        fig, f"Loss against {label}", label, "C(θ_t)",
        xaxis={"type": "log"} if x == "samples" else {}, yaxis={"range": [loss_min - pad, start + pad]},
    )  # fmt: skip


def convergence_figure(paths: dict[str, DescentPath], step: int, loss_min: float) -> go.Figure:
    """``C(theta_t) - C_min`` against t on log-log axes, with reference lines of slope -1 and -1/2."""
    fig = go.Figure()
    firsts = []
    for color, (name, path) in zip(PATH_COLORS, paths.items(), strict=False):
        n = min(step, len(path.loss) - 1)
        t = np.arange(1, n + 1)
        gap = excess_loss(path.loss[1 : n + 1], loss_min)
        if n and not path.diverged:  # the reference lines start where the converging paths start
            firsts.append(gap[0])
        fig.add_scatter(x=t, y=gap, mode="lines", name=path_label(name, path), line={"color": color, "width": 2.5})
    anchor = np.nanmax(firsts) if firsts and np.isfinite(firsts).any() else None
    if anchor is not None and step >= 1:
        t = np.array([1.0, max(step, 2)])
        for slope, label, dash in ((-1.0, "slope −1: O(1/t)", "dash"), (-0.5, "slope −½: O(1/√t)", "dot")):
            fig.add_scatter(x=t, y=reference_line(t, 1.0, anchor, slope), mode="lines", name=label,
                            line={"color": "grey", "dash": dash, "width": 2})  # fmt: skip
    return _curve_layout(
        fig, "Convergence: C(θ_t) − C_min (log-log)", "updates t", "C(θ_t) − C_min",
        xaxis={"type": "log"}, yaxis={"type": "log", "exponentformat": "power"},
    )  # fmt: skip
