"""Weight Templates: the rows w_i of a trained W drawn as images, beside each class's mean image."""

import streamlit as st

from core.models import template_difference
from ui.dataset import dataset_picker
from ui.frame import ensure_framed
from ui.models import (
    ShownModel,
    advance_race,
    download_button,
    evaluation_dataset,
    live_refresh,
    model_facts,
    model_picker,
)
from ui.state import persistent
from ui.templates import difference_figure, mean_images, templates_figure

ensure_framed()

SCALE_KEY, MEANS_KEY, I_KEY, J_KEY = "wt_scale", "wt_means", "wt_i", "wt_j"
SCALES = {"shared": "One scale for all classes", "per_class": "Each class on its own scale"}

st.title("Weight Templates")
st.markdown(
    "Softmax regression scores class i by s<sub>i</sub> = w<sub>i</sub> · x + b<sub>i</sub>, so each row "
    "w<sub>i</sub> of W has one weight per pixel and can be drawn as an image: **red** pixels raise s<sub>i</sub> "
    "when they hold ink, **blue** pixels lower it. Beside each one, the mean training image of its class: the "
    "weights are a *template* that separates the classes, not a reconstruction of the average digit.",
    unsafe_allow_html=True,
)

picked = dataset_picker()
shown = model_picker()
if shown is None:
    st.stop()

download_button(shown, key="wt_download")
ds = evaluation_dataset(shown, picked)

st.session_state.setdefault(SCALE_KEY, "shared")
st.session_state.setdefault(MEANS_KEY, True)
options = st.columns([2, 1])
scale = options[0].radio(
    "Colour scale", list(SCALES), format_func=SCALES.get, key=persistent(SCALE_KEY), horizontal=True
)
show_means = options[1].toggle("Mean image beside each template", key=persistent(MEANS_KEY), disabled=ds is None)
K, names = shown.n_classes, shown.class_names
st.session_state.setdefault(I_KEY, 4 if K > 9 else 0)
st.session_state.setdefault(J_KEY, 9 if K > 9 else 1)
for key in (I_KEY, J_KEY):  # another model may have fewer classes
    if st.session_state[key] >= K:
        st.session_state[key] = 0


@st.fragment(run_every=live_refresh(shown))
def live_templates(model: ShownModel) -> None:
    """The templates and a pair's difference; while the race runs, it goes on here too and they redraw."""
    if advance_race(model):
        st.rerun()  # the race just ended: a full rerun switches the timer off
    model_facts(model)
    if model.race is not None and model.race.running:
        st.caption("The race keeps running while you watch (at the pace set on its page): the templates follow.")
    means = mean_images(ds) if ds is not None and show_means else None
    fig = templates_figure(model.W, model.image_shape, names, means, per_class=scale == "per_class")
    st.plotly_chart(fig, key="wt_templates", width="stretch")

    st.header("Two templates against each other: w_i − w_j")
    pair = st.columns([1, 1, 3])
    i = pair[0].selectbox("Class i", range(K), format_func=lambda k: names[k], key=persistent(I_KEY))
    j = pair[1].selectbox("Class j", range(K), format_func=lambda k: names[k], key=persistent(J_KEY))
    with pair[2]:
        st.latex(r"s_i - s_j = (w_i - w_j) \cdot x + (b_i - b_j)")
        st.caption(
            f"The model prefers {names[i]} over {names[j]} when this is positive: ink on red pixels of the "
            f"difference speaks for {names[i]}, ink on blue pixels for {names[j]}. Here b_i − b_j = "
            f"{float(model.b[i]) - float(model.b[j]):+.4f}."
        )
    st.plotly_chart(
        difference_figure(template_difference(model.W, i, j), model.image_shape, i, j, names),
        key="wt_difference",
        width="stretch",
    )


live_templates(shown)
