"""Backprop Calculator: edit a small network and see every s, a, delta, dW, db and update in the guide's notation."""

import streamlit as st

from core.presets import guide_worked_examples
from ui import calculator as calc
from ui.frame import ensure_framed

ensure_framed()

calc.init_state(st.session_state)
st.title("Backprop Calculator")
st.markdown(
    "Edit $x$, every $W^{(l)}$ and $b^{(l)}$ (one row per line), the target and $\\eta$; every quantity below is "
    "recomputed at once. Units are numbered $1..n$ as in the guide's formulas."
)
calc.show_toolbar()
calc.show_architecture()
calc.show_guide_panels(guide_worked_examples())
decimals = st.session_state[calc.DECIMALS_KEY]

st.header("Inputs")
network = calc.show_inputs(decimals)
evaluation, is_last_good = calc.current_evaluation(network)

if evaluation is not None:
    calc.show_forward(evaluation, decimals)
    calc.show_backward(evaluation, decimals)
    calc.show_update(evaluation, decimals)
    calc.show_gradient_check(evaluation)
calc.show_steps(can_step=network is not None and not is_last_good, decimals=decimals)
