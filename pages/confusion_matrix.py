"""Confusion Matrix: what a trained model confuses, the images behind each cell, and the generalisation gap."""

import streamlit as st

from core.metrics import confusion_matrix, row_normalised, train_test_comparison
from ui import confusion as ui
from ui.dataset import dataset_picker
from ui.frame import ensure_framed
from ui.models import evaluation_dataset, model_picker

ensure_framed()

st.title("Confusion Matrix")
st.markdown(
    "Cell (i, j) counts the images of true class **i** that the model predicts as **j**: the diagonal is right, "
    "everything else is a confusion. Pick a cell to see the images behind it."
)

picked = dataset_picker()
shown = model_picker()
if shown is None:
    st.stop()
ui.show_model_header(shown)
ds = evaluation_dataset(shown, picked)
if ds is None:
    st.stop()

split = ui.split_radio()
X, y = (ds.X_test, ds.y_test) if split == "test" else (ds.X_train, ds.y_train)
try:
    comparison = train_test_comparison(shown.W, shown.b, ds.X_train, ds.y_train, ds.X_test, ds.y_test)
except ValueError as exc:  # a diverged racer: its weights are not finite
    st.error(f"This model cannot be evaluated: {exc}. Pick another racer or upload a model.")
    st.stop()
result = comparison[split]
cm = confusion_matrix(y, result.y_pred, shown.n_classes)
shares = row_normalised(cm)
st.caption(
    f"{len(y):,} {ui.SPLITS[split].lower()} of {ds.name}: accuracy {result.accuracy:.2%}, "
    f"loss {result.loss:.4f}. Click a cell to see its images below."
)

ui.show_heatmaps(cm, shares, shown.class_names)
confused = ui.show_per_class(cm, shown.class_names)
ui.show_cell(shown, X, y, result, split, confused)
ui.show_gap(shown, comparison)
