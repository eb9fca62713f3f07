"""Optimisation Geometry: decision regions with weight vectors, a two-parameter loss surface, BGD vs SGD paths."""

import numpy as np
import streamlit as st

from ui import geometry_page as geo
from ui.frame import ensure_framed

ensure_framed()


# The timers are read here, when the page runs: after the Start / Play callbacks, before any widget is drawn.
@st.fragment(run_every=geo.TRAIN_TICK if st.session_state.get(geo.LIVE, {}).get("running") else None)
def regions_view(X: np.ndarray, y: np.ndarray, typed: object, show_typed: bool) -> None:
    """The decision regions; advances the live training while it runs."""
    geo.regions_view(X, y, typed, show_typed)


@st.fragment(run_every=geo.PLAY_TICK if st.session_state.get(geo.PLAY, {}).get("playing") else None)
def paths_view(geometry: dict, paths: dict, T: int) -> None:
    """The animated BGD vs SGD paths with their loss curves; advances the animation while it plays."""
    geo.paths_view(geometry, paths, T)


st.title("Optimisation Geometry")
st.markdown(
    "The guide's three pictures of softmax regression in a 2-D feature space, live: decision regions with the "
    "weight vectors, a loss surface with its gradient arrows, and batch GD against SGD walking on it."
)
X, y, K, data_key = geo.data_controls()
# One view at a time: only the chosen view computes, and its live fragment is the only one running.
view = st.segmented_control(
    "View",
    geo.VIEWS,
    required=True,
    key=geo.widget_default(geo.VIEW_KEY, geo.VIEWS[0]),
    label_visibility="collapsed",
    width="stretch",
)
st.divider()
if view == geo.VIEWS[0]:
    figure, typed, show_typed = geo.regions_tab(X, y, K, data_key)
    with figure:
        regions_view(X, y, typed, show_typed)
else:
    geometry = geo.slice_controls(X, y, K, data_key)
    if view == geo.VIEWS[1]:
        geo.surface_view(geometry)
    else:
        figures, paths, T = geo.paths_tab(geometry)
        with figures:
            paths_view(geometry, paths, T)
