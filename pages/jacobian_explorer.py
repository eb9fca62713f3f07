"""Jacobian Explorer: softmax, its Jacobian, the error term three ways, layout conventions, overflow."""

import streamlit as st

from core import softmax, softmax_jacobian
from ui import jacobian as ui
from ui.frame import ensure_framed

ensure_framed()

st.title("Jacobian Explorer")
st.markdown(
    "Softmax turns scores **s** into probabilities **a**; cross-entropy $C = -\\sum_i y_i \\ln a_i$ scores them "
    "against the one-hot target **y**. The guide (section 2) shows that the error term "
    "$\\delta = \\partial C / \\partial s$ is simply $a - y$. Change the numbers and watch every step."
)

s, k, y, T = ui.show_inputs()
if s is None:
    st.info("Fix the scores s above to see softmax, its Jacobian and the error term.", icon=":material/info:")
else:
    a = softmax(s)
    ui.show_softmax(s, a, k, y, T)
    ui.show_jacobian(s, a, softmax_jacobian(a))
    ui.show_error_term(a, k, y)
ui.show_layouts()
if s is not None:
    ui.show_stability(s, a)
