"""A classroom's fair share of the server: live training and live charts in many sessions never starve it.

One Streamlit process serves every browser session. Two things are rationed between the sessions that race:

- training: each live run asks for a time budget; together they get a fixed fraction of the machine's cores,
  split evenly (``FairShare``);
- serving: every live refresh costs the server CPU beyond training (building and sending charts, Streamlit's
  own work for a fragment run), mostly in Python under one lock, so on one core at a time. That cost is
  measured while the server runs (``RefreshCost``), and the refresh interval stretches so that all racing
  sessions' refreshes together take at most ``SERVE_SHARE`` of one core.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

TRAINING_CPU_FRACTION = 0.6
"""Share of the machine's cores that live training may use in total; the rest serves pages and charts."""
SERVE_SHARE = 0.5
"""Share of one core the live refreshes of all sessions together may take; the rest answers clicks and joins."""
FIRST_REFRESH_COST = 0.03
"""Server CPU seconds per live refresh assumed until measured: one session racing on the bundled digits took
0.11 cores at 3.8 refreshes a second here (``python -m benchmarks.load_test --sessions 1``)."""
MAX_INTERVAL = 5.0
"""Longest gap between refreshes, however crowded: the curves still move."""


class FairShare:
    """Split ``cpu_fraction`` of ``n_cpus`` evenly between the sessions that are training.

    A session counts as training until ``window`` seconds, or two of its own periods if longer, have passed
    since it last asked for a budget.
    """

    def __init__(
        self,
        cpu_fraction: float = TRAINING_CPU_FRACTION,
        n_cpus: int | None = None,
        window: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cpu_fraction, self.window, self.clock = cpu_fraction, window, clock
        self.n_cpus = n_cpus or os.cpu_count() or 1
        self._last_seen: dict[str, tuple[float, float]] = {}  # session -> (when it last asked, its period)
        self._lock = threading.Lock()  # sessions run in threads of one process

    def budget(self, session: str, wanted: float, period: float) -> float:
        """Seconds of training this session may spend now, for a run that repeats every ``period`` seconds."""
        with self._lock:
            now = self.clock()
            self._last_seen[session] = (now, period)
            active = self._prune(now)
        return min(wanted, self.cpu_fraction * self.n_cpus * period / active)

    @property
    def active_sessions(self) -> int:
        """Sessions training now."""
        with self._lock:
            return self._prune(self.clock())

    def _prune(self, now: float) -> int:
        for other, (seen, period) in list(self._last_seen.items()):
            if now - seen > max(self.window, 2 * period):
                del self._last_seen[other]
        return len(self._last_seen)


class RefreshCost:
    """Server CPU seconds per live refresh, measured: the process's CPU time less training, per refresh.

    Everything the process does counts (charts, Streamlit's messages, other pages' work), so a busy server
    reads as expensive refreshes and the racers back off. Each ``period`` seconds with at least ``min_refreshes``
    closes a window; the estimate moves halfway towards that window's figure. A window in which nobody refreshed
    for ``idle`` seconds is dropped: work done while nobody raced says nothing about a refresh's cost.
    """

    def __init__(
        self,
        first: float = FIRST_REFRESH_COST,
        period: float = 2.0,
        min_refreshes: int = 4,
        idle: float = 2 * MAX_INTERVAL,
        cpu_clock: Callable[[], float] = time.process_time,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds, self.period, self.min_refreshes, self.idle = first, period, min_refreshes, idle
        self.cpu_clock, self.clock = cpu_clock, clock
        self._lock = threading.Lock()
        self._open(clock(), cpu_clock())

    def _open(self, now: float, cpu: float) -> None:
        self._start, self._cpu_start, self._last = now, cpu, now
        self._refreshes, self._training = 0, 0.0

    def add_training(self, seconds: float) -> None:
        """Record CPU seconds spent training (not serving) since the window opened."""
        with self._lock:
            self._training += seconds

    def add_refresh(self) -> None:
        """Record that a live refresh starts now; close the window first if it is long enough."""
        with self._lock:
            now, cpu = self.clock(), self.cpu_clock()
            if now - self._last > self.idle:
                self._open(now, cpu)
            elif now - self._start >= self.period and self._refreshes >= self.min_refreshes:
                # A refresh's work follows its call, so this window holds the work of the refreshes before this one.
                serving = max(cpu - self._cpu_start - self._training, 0.0) / self._refreshes
                self.seconds = 0.5 * self.seconds + 0.5 * serving
                self._open(now, cpu)
            self._refreshes, self._last = self._refreshes + 1, now


@st.cache_resource
def fair_share() -> FairShare:
    """The one FairShare of this server process."""
    return FairShare()


@st.cache_resource
def refresh_cost() -> RefreshCost:
    """The one RefreshCost of this server process."""
    return RefreshCost()


def refresh_interval(base: float, active_sessions: int | None = None, seconds: float | None = None) -> float:
    """Seconds between live refreshes: ``base``, stretched (up to ``MAX_INTERVAL``) so that all racing sessions'
    refreshes, at ``seconds`` of server CPU each (measured by default), fit ``SERVE_SHARE`` of one core."""
    active = fair_share().active_sessions if active_sessions is None else active_sessions
    cost = refresh_cost().seconds if seconds is None else seconds
    return min(max(base, active * cost / SERVE_SHARE), max(base, MAX_INTERVAL))


def session_budget(wanted: float, period: float) -> float:
    """This browser session's training budget for one live refresh (see ``FairShare.budget``); counts the refresh."""
    ctx = get_script_run_ctx()
    refresh_cost().add_refresh()
    return fair_share().budget(ctx.session_id if ctx else "bare", wanted, period)


@contextmanager
def training() -> Iterator[None]:
    """Count the CPU time of the block as training, not serving (see ``RefreshCost``)."""
    started = time.thread_time()
    try:
        yield
    finally:
        refresh_cost().add_training(time.thread_time() - started)
