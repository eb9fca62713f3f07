"""Figures, tables and sections of the Confusion Matrix page; every number comes from ``core.metrics``.

Rows are the true class i and columns the predicted class j, as in ``core.metrics.confusion_matrix``.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from core.metrics import ConfusedPair, Evaluation, most_confused_pairs, per_class_metrics
from core.models import cell_examples, template_difference
from ui.models import ShownModel, download_button, model_facts
from ui.state import persistent
from ui.templates import difference_figure

FONT = {"size": 16}
IMAGES_PER_ROW = 6
SPLIT_KEY, TRUE_KEY, PRED_KEY = "cm_split", "cm_true", "cm_pred"
CHART_KEYS = ("cm_counts", "cm_shares")
SPLITS = {"test": "Test images", "train": "Training images"}
MAX_IMAGES = 18


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


def pick_cell(i: int, j: int) -> None:
    """Show cell (i, j) below (a button's callback: it runs before the rerun draws the selectboxes)."""
    st.session_state[TRUE_KEY], st.session_state[PRED_KEY] = i, j


def pick_clicked_cell(chart_key: str) -> None:
    """A click on a heatmap cell picks that cell (x is the predicted class j, y the true class i)."""
    points = st.session_state[chart_key].selection.points
    if points:
        pick_cell(int(points[0]["y"]), int(points[0]["x"]))


def show_model_header(shown: ShownModel) -> None:
    """The shown model's facts, a note when it is a running racer, and its download button."""
    facts, download = st.columns([3, 1])
    with facts:
        model_facts(shown)
        if shown.race is not None and shown.race.running:
            st.caption(
                "The race waits while you are on this page (it runs on Optimizer Race and Weight Templates): "
                "these numbers are for the racer's weights now."
            )
    with download:
        download_button(shown, key="cm_download")


def split_radio() -> str:
    """The split to evaluate on, ``"test"`` or ``"train"`` (kept across page visits)."""
    st.session_state.setdefault(SPLIT_KEY, "test")
    return st.radio("Evaluate on", list(SPLITS), format_func=SPLITS.get, horizontal=True, key=persistent(SPLIT_KEY))


def show_heatmaps(cm: np.ndarray, shares: np.ndarray, names: list[str] | tuple[str, ...]) -> None:
    """The counts and the row shares side by side; a click on a cell picks it."""
    left, right = st.columns(2)
    for column, normalised, key in ((left, False, CHART_KEYS[0]), (right, True, CHART_KEYS[1])):
        with column:
            st.plotly_chart(
                confusion_heatmap(cm, shares, names, normalised),
                key=key,
                width="stretch",
                on_select=lambda key=key: pick_clicked_cell(key),
                selection_mode="points",
            )


def show_per_class(cm: np.ndarray, names: list[str] | tuple[str, ...]) -> list[ConfusedPair]:
    """Section "Per class": the metrics table and a button per most confused pair; returns those pairs."""
    st.header("Per class")
    table, pairs = st.columns([3, 2])
    with table:
        st.dataframe(per_class_table(per_class_metrics(cm), names), hide_index=True, width="stretch")
        st.caption(
            "Images: how many of the class there are (support). Precision TP / (TP + FP): of the images predicted "
            "as the class, the share that are it. Recall TP / (TP + FN): of the images of the class, the share "
            'recognised. Accuracy (TP + TN) / N: the share of all images on which "is it this class?" is answered '
            "right (one-vs-rest). A dash means 0 / 0: undefined, not zero."
        )
    with pairs:
        st.subheader("Most confused pairs")
        confused = most_confused_pairs(cm, 5)
        if not confused:
            st.success("No confusions at all on these images.")
        for n, pair in enumerate(confused):
            st.button(
                f"{names[pair.true]} taken for {names[pair.predicted]}: "
                f"{pair.count} image{'s' if pair.count > 1 else ''}",
                key=f"cm_pair_{n}",
                on_click=pick_cell,
                args=(pair.true, pair.predicted),
                width="stretch",
            )
    return confused


def show_cell(
    shown: ShownModel, X: np.ndarray, y: np.ndarray, result: Evaluation, split: str, confused: list[ConfusedPair]
) -> None:
    """Section "The images behind a cell": pick (i, j), see its images, probabilities and w_i - w_j."""
    st.header("The images behind a cell")
    K, names = shown.n_classes, shown.class_names
    default = confused[0] if confused else (0, 0)
    st.session_state.setdefault(TRUE_KEY, default[0])
    st.session_state.setdefault(PRED_KEY, default[1])
    for key in (TRUE_KEY, PRED_KEY):  # another model may have fewer classes
        if st.session_state[key] >= K:
            st.session_state[key] = 0
    cell = st.columns(2)
    i = cell[0].selectbox("True class i", range(K), format_func=lambda k: names[k], key=persistent(TRUE_KEY))
    j = cell[1].selectbox("Predicted class j", range(K), format_func=lambda k: names[k], key=persistent(PRED_KEY))
    indices = cell_examples(y, result.y_pred, result.probabilities, i, j)
    kind = "recognised correctly" if i == j else f"predicted as {names[j]}"
    if not len(indices):
        st.info(f"No {SPLITS[split].lower()} of {names[i]} were {kind}.")
    else:
        shown_indices = indices[:MAX_IMAGES]
        st.markdown(
            f"**{len(indices):,} images** of {names[i]} {kind}"
            + (
                f"; the {len(shown_indices)} with the largest a({names[j]}) first."
                if len(indices) > MAX_IMAGES
                else "."
            )
        )
        p = result.probabilities
        titles = [
            f"a({names[i]})={p[n, i]:.2f}" + (f"<br>a({names[j]})={p[n, j]:.2f}" if i != j else "")
            for n in shown_indices
        ]
        st.plotly_chart(
            cell_images_figure(X[shown_indices], shown.image_shape, titles), key="cm_images", width="stretch"
        )
        with st.expander("The model's probabilities a = softmax(W x + b) for these images"):
            st.dataframe(probability_table(shown_indices, p, names), hide_index=True, width="stretch")
    if i != j:
        st.plotly_chart(
            difference_figure(template_difference(shown.W, i, j), shown.image_shape, i, j, names),
            key="cm_difference",
            width="stretch",
        )
        st.caption(
            f"The model picks {names[j]} over {names[i]} when (w_j − w_i) · x + (b_j − b_i) > 0: these images put "
            f"their ink more on the blue pixels of w_{i} − w_{j} than on its red ones."
        )


def show_gap(shown: ShownModel, comparison: dict) -> None:
    """Section "Training vs test": both accuracies and losses, and what the uploaded file recorded."""
    st.header("Training vs test: the generalisation gap")
    train, test, gap = comparison["train"], comparison["test"], comparison["gap"]
    metrics = st.columns(4)
    metrics[0].metric("Training accuracy", f"{train.accuracy:.2%}")
    metrics[1].metric(
        "Test accuracy", f"{test.accuracy:.2%}", f"{-gap['accuracy']:+.2%} vs training", delta_color="off"
    )
    metrics[2].metric("Training loss", f"{train.loss:.4f}")
    metrics[3].metric("Test loss", f"{test.loss:.4f}", f"{gap['loss']:+.4f} vs training", delta_color="off")
    st.caption(
        "The model was fitted to the training images; the test images are new to it. A test loss well above the "
        "training loss (a large gap) means it learned things about the training images that do not carry over."
    )
    if shown.upload is not None:
        recorded = shown.upload.model["performance"]
        st.caption(
            f"Recorded in the file: training accuracy {recorded['train_accuracy']:.2%}, test accuracy "
            f"{recorded['test_accuracy']:.2%} (measured on the data it was trained on, which may differ from these)."
        )
