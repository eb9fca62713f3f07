"""Backprop Calculator (not built yet)."""

import streamlit as st

from ui.frame import ensure_framed

ensure_framed()

st.title("Backprop Calculator")
st.info("This page is not built yet. It is planned in the project's issues; the Home page lists what exists today.")
