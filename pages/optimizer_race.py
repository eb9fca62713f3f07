"""Optimizer Race: batch GD, mini-batch SGD and pure SGD train live on real digits, from the same start."""

import streamlit as st

from ui import race as ui
from ui.dataset import dataset_picker
from ui.frame import ensure_framed
from ui.race_state import get_race

ensure_framed()

st.title("Optimizer Race")
st.markdown(
    "One optimiser, mini-batch SGD, at three batch sizes: **B = N** (batch gradient descent: one exact step per "
    "epoch), **B = 100** (mini-batch) and **B = 1** (pure SGD: N noisy steps per epoch). Every racer starts from "
    "the same initial weights W ~ N(0, 0.01²), b = 0 and sees the same shuffles, so the race is fair. Switch the "
    "x-axis from epochs to updates, samples, floating-point operations or wall time: who wins depends on what "
    "progress is measured against."
)
st.caption(
    "Default learning rates (η₀ = 0.5, 0.2, 0.01, inside the guide's ranges 0.1–1, 0.01–0.2, 0.001–0.05) were "
    "tried on the bundled digits and on 10,000 real MNIST digits: batch GD at η = 1 oscillates on MNIST, 0.5 is "
    "steady on both; the other two learn fast on both without oscillating."
)

ds = dataset_picker()
n_racers, seed, patience, max_epochs, pace = ui.race_options()
settings = ui.racers_inputs(n_racers, len(ds.y_train))
ui.controls(ds, settings, seed, patience, max_epochs)
axis, log_x, log_y = ui.chart_options()

race = get_race()
running = race is not None and race.running
refresh = ui.live_refresh()


@st.fragment(run_every=refresh if running else None)
def live() -> None:
    """Advance the race by one bounded chunk and redraw its curves (every ``refresh`` seconds while running)."""
    ui.live_race(pace, axis, log_x, log_y, refresh)


@st.fragment(run_every=ui.details_refresh(refresh) if running else None)
def details() -> None:
    """The cost table and the 'why' panels, refreshed once a second while running (less often in a crowd)."""
    ui.race_details()


live()
details()

st.header("Gradient noise against batch size")
st.markdown(
    r"The guide: a mini-batch gradient is an unbiased, noisy estimate of the full one, with variance $\sigma^2/B$."
)
ui.variance_panel(ds, seed)

st.header("Learning-rate sweep")
st.markdown("The same racer at several η: too small crawls, a good one converges, too large oscillates or diverges.")
ui.sweep_panel(ds, settings, seed)
