"""Backprop Lab: the entry point. Run with ``streamlit run app.py``."""

import streamlit as st

from ui.state import keep_widget_values

st.set_page_config(page_title="Backprop Lab", page_icon=":material/function:", layout="wide")

PAGES = {
    "": [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)],
    "The mathematics": [
        st.Page("pages/backprop_calculator.py", title="Backprop Calculator", icon=":material/calculate:"),
        st.Page("pages/jacobian_explorer.py", title="Jacobian Explorer", icon=":material/grid_on:"),
    ],
    "Training on digits": [
        st.Page("pages/optimizer_race.py", title="Optimizer Race", icon=":material/sprint:"),
        st.Page("pages/optimization_geometry.py", title="Optimisation Geometry", icon=":material/landscape:"),
        st.Page("pages/weight_templates.py", title="Weight Templates", icon=":material/image:"),
        st.Page("pages/confusion_matrix.py", title="Confusion Matrix", icon=":material/table:"),
    ],
}

keep_widget_values()
st.navigation(PAGES).run()
