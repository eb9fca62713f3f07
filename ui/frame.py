"""Make every page run inside app.py's navigation, even when it is opened by a deep link."""

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def ensure_framed() -> None:
    """Rerun through app.py when Streamlit ran this page file on its own.

    On a fresh server, Streamlit sees the ``pages/`` folder and starts in its legacy multipage
    mode: a first request for ``/some_page`` runs ``pages/some_page.py`` directly, without
    app.py's ``st.navigation`` (wrong menu, no shared settings). Switching the flag off and
    rerunning sends the same URL through app.py, whose ``st.navigation`` resolves it.

    A real server does this once per process. AppTest resets the flag before every run, so there each run
    of a page goes through this rerun, which drops ``st.button`` return values: pages act on buttons in
    ``on_click`` callbacks (which run before the script), never with ``if st.button(...)``.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
