"""Confusion Matrix: what a trained model confuses, the images behind each cell, and the generalisation gap."""

import streamlit as st

from core.metrics import (
    confusion_matrix,
    most_confused_pairs,
    per_class_metrics,
    row_normalised,
    train_test_comparison,
)
from core.models import cell_examples, template_difference
from ui.confusion import cell_images_figure, confusion_heatmap, per_class_table, probability_table
from ui.dataset import dataset_picker
from ui.frame import ensure_framed
from ui.models import download_button, evaluation_dataset, model_facts, model_picker
from ui.state import persistent
from ui.templates import difference_figure

ensure_framed()

SPLIT_KEY, TRUE_KEY, PRED_KEY = "cm_split", "cm_true", "cm_pred"
CHART_KEYS = ("cm_counts", "cm_shares")
SPLITS = {"test": "Test images", "train": "Training images"}
MAX_IMAGES = 18


def pick_cell(i: int, j: int) -> None:
    """Show cell (i, j) below (a button's callback: it runs before the rerun draws the selectboxes)."""
    st.session_state[TRUE_KEY], st.session_state[PRED_KEY] = i, j


def pick_clicked_cell(chart_key: str) -> None:
    """A click on a heatmap cell picks that cell (x is the predicted class j, y the true class i)."""
    points = st.session_state[chart_key].selection.points
    if points:
        pick_cell(int(points[0]["y"]), int(points[0]["x"]))


st.title("Confusion Matrix")
st.markdown(
    "Cell (i, j) counts the images of true class **i** that the model predicts as **j**: the diagonal is right, "
    "everything else is a confusion. Pick a cell to see the images behind it."
)

picked = dataset_picker()
shown = model_picker()
if shown is None:
    st.stop()
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
ds = evaluation_dataset(shown, picked)
if ds is None:
    st.stop()

st.session_state.setdefault(SPLIT_KEY, "test")
split = st.radio("Evaluate on", list(SPLITS), format_func=SPLITS.get, horizontal=True, key=persistent(SPLIT_KEY))
X, y = (ds.X_test, ds.y_test) if split == "test" else (ds.X_train, ds.y_train)
try:
    comparison = train_test_comparison(shown.W, shown.b, ds.X_train, ds.y_train, ds.X_test, ds.y_test)
except ValueError as exc:  # a diverged racer: its weights are not finite
    st.error(f"This model cannot be evaluated: {exc}. Pick another racer or upload a model.")
    st.stop()
result = comparison[split]
K, names = shown.n_classes, shown.class_names
cm = confusion_matrix(y, result.y_pred, K)
shares = row_normalised(cm)
st.caption(
    f"{len(y):,} {SPLITS[split].lower()} of {ds.name}: accuracy {result.accuracy:.2%}, "
    f"loss {result.loss:.4f}. Click a cell to see its images below."
)

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

st.header("Per class")
table, pairs = st.columns([3, 2])
with table:
    st.dataframe(per_class_table(per_class_metrics(cm), names), hide_index=True, width="stretch")
    st.caption(
        "Images: how many of the class there are (support). Precision TP / (TP + FP): of the images predicted as "
        "the class, the share that are it. Recall TP / (TP + FN): of the images of the class, the share "
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
            f"{names[pair.true]} taken for {names[pair.predicted]}: {pair.count} image{'s' if pair.count > 1 else ''}",
            key=f"cm_pair_{n}",
            on_click=pick_cell,
            args=(pair.true, pair.predicted),
            width="stretch",
        )

st.header("The images behind a cell")
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
        + (f"; the {len(shown_indices)} with the largest a({names[j]}) first." if len(indices) > MAX_IMAGES else ".")
    )
    p = result.probabilities
    titles = [
        f"a({names[i]})={p[n, i]:.2f}" + (f"<br>a({names[j]})={p[n, j]:.2f}" if i != j else "") for n in shown_indices
    ]
    st.plotly_chart(cell_images_figure(X[shown_indices], shown.image_shape, titles), key="cm_images", width="stretch")
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

st.header("Training vs test: the generalisation gap")
train, test, gap = comparison["train"], comparison["test"], comparison["gap"]
metrics = st.columns(4)
metrics[0].metric("Training accuracy", f"{train.accuracy:.2%}")
metrics[1].metric("Test accuracy", f"{test.accuracy:.2%}", f"{-gap['accuracy']:+.2%} vs training", delta_color="off")
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
