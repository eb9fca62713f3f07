"""Number inputs that never raise: a bad entry shows ``st.error`` beside the box and returns None."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.parsing import parse_matrix, parse_vector
from ui.state import persistent


def _text_box(label: str, default: str, key: str, multiline: bool, help: str | None) -> str:
    # Seed session_state once instead of passing value=, so presets can overwrite the box by key.
    st.session_state.setdefault(persistent(key), default)
    if multiline:
        rows = st.session_state[key].count("\n") + 1
        return st.text_area(label, key=key, help=help, height=max(68, 30 * rows + 20))
    return st.text_input(label, key=key, help=help)


def vector_input(label: str, default: str, key: str, help: str | None = None) -> np.ndarray | None:
    """A text box for a vector (``0.5, -0.3, 0.2``); the parsed array, or None after showing the error."""
    text = _text_box(label, default, key, multiline=False, help=help)
    try:
        return parse_vector(text, label)
    except ValueError as exc:
        st.error(str(exc), icon=":material/error:")
        return None


def matrix_input(label: str, default: str, key: str, help: str | None = None) -> np.ndarray | None:
    """A text area for a matrix, one row per line; the parsed array, or None after showing the error."""
    text = _text_box(label, default, key, multiline=True, help=help)
    try:
        return parse_matrix(text, label)
    except ValueError as exc:
        st.error(str(exc), icon=":material/error:")
        return None
