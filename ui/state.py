"""Session-state helpers shared by the pages."""

import streamlit as st

_PERSISTENT = "_persistent_widget_keys"


def persistent(key: str) -> str:
    """Register a widget key whose value must survive a visit to another page; returns the key.

    Streamlit forgets a widget's value when its page is not drawn. Register only widgets created
    without ``value=``/``index=`` (seed the default with ``st.session_state.setdefault``), or
    Streamlit warns that the value was set twice.
    """
    st.session_state.setdefault(_PERSISTENT, set()).add(key)
    return key


def keep_widget_values() -> None:
    """Re-assign every registered widget value; app.py calls this before drawing any page.

    A value assigned through ``st.session_state`` belongs to the session, not to the widget, so it
    is kept while its page is away.
    """
    for key in st.session_state.get(_PERSISTENT, ()):
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
