"""A classroom's fair share of the CPUs: live training in many sessions never starves the server.

One Streamlit process serves every browser session. Each live training run asks for a time budget; when many
sessions train at once, each gets an equal slice of a fixed fraction of the machine, so the server keeps
time to answer clicks and send charts however many students press Start.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

TRAINING_CPU_FRACTION = 0.6
"""Share of the machine's cores that live training may use in total; the rest serves pages and charts."""
DRAW_SECONDS = 0.01
"""Server time one live refresh of the race costs beyond training: building its three Plotly charts and
``st.plotly_chart`` marshalling them, about 9 ms measured here (``python -m benchmarks.draw_cost``; 34 ms when
they were built as ``go.Figure`` objects trace by trace). Python runs it on one core at a time."""
DRAW_SHARE = 0.5
"""Share of that one core the live refreshes of all sessions together may take; the rest answers clicks."""


class FairShare:
    """Split ``cpu_fraction`` of ``n_cpus`` evenly between the sessions that trained in the last ``window`` s."""

    def __init__(
        self,
        cpu_fraction: float = TRAINING_CPU_FRACTION,
        n_cpus: int | None = None,
        window: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cpu_fraction, self.window, self.clock = cpu_fraction, window, clock
        self.n_cpus = n_cpus or os.cpu_count() or 1
        self._last_seen: dict[str, float] = {}
        self._lock = threading.Lock()  # sessions run in threads of one process

    def budget(self, session: str, wanted: float, period: float) -> float:
        """Seconds of training this session may spend now, for a run that repeats every ``period`` seconds."""
        with self._lock:
            now = self.clock()
            self._last_seen[session] = now
            for other, seen in list(self._last_seen.items()):
                if now - seen > self.window:
                    del self._last_seen[other]
            active = len(self._last_seen)
        return min(wanted, self.cpu_fraction * self.n_cpus * period / active)

    @property
    def active_sessions(self) -> int:
        """Sessions that trained within the window (as of their last request)."""
        with self._lock:
            return len(self._last_seen)


@st.cache_resource
def fair_share() -> FairShare:
    """The one FairShare of this server process."""
    return FairShare()


def refresh_interval(base: float, active_sessions: int | None = None) -> float:
    """Seconds between live refreshes: ``base``, stretched so all racing sessions' drawing fits ``DRAW_SHARE``."""
    active = fair_share().active_sessions if active_sessions is None else active_sessions
    return max(base, active * DRAW_SECONDS / DRAW_SHARE)


def session_budget(wanted: float, period: float) -> float:
    """This browser session's training budget for one live run (see ``FairShare.budget``)."""
    ctx = get_script_run_ctx()
    return fair_share().budget(ctx.session_id if ctx else "bare", wanted, period)
