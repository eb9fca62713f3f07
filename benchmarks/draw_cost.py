"""Server time of one live refresh of the Optimizer Race's three charts: building them and ``st.plotly_chart``.

    python -m benchmarks.draw_cost                  # the default racers after 3 and 20 epochs
    python -m benchmarks.draw_cost --epochs 5 --repeats 100

The race is the page's default four racers (B = N, 100, 1, 10) on the bundled digits, advanced a few epochs.
For each chart it times the builder in ``ui.race`` and Streamlit's own marshalling (``st.plotly_chart``
outside a running app still validates the figure, turns it into a dict and serialises it to JSON, as in the
app) and, beside them in the same process, the same chart built the old way: a ``go.Figure`` one validated
trace at a time, then its layout (same JSON sent). The charts are the largest part of a refresh's server cost;
``ui.throttle`` measures the whole of it (with Streamlit's own work) while the app serves. One core, a few
hundred chart draws: about ten seconds.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from collections.abc import Callable

import plotly.graph_objects as go
import streamlit as st

from core.data import load_digits
from core.race import Reference, parse_batch_size, parse_eta
from ui import race as ui
from ui.race_state import Race

REFERENCE = Reference(accuracy=0.95, epochs=50, batch_size=32, eta=0.05)
"""A reference line as the accuracy chart draws it (its value does not change the cost)."""


def default_race(epochs: float) -> Race:
    """The page's default racers on the bundled digits, each advanced by ``epochs`` epochs."""
    ds = load_digits()
    n_train = len(ds.y_train)
    settings = [
        {
            "batch_size": parse_batch_size(str(d["batch_size"]), n_train),
            "eta": parse_eta(str(d["eta"])),
            "schedule": "constant",
            "shuffle": True,
        }
        for d in ui.DEFAULT_RACERS
    ]
    race = ui.new_race(ds, settings, seed=0)
    for racer in race.racers:
        racer.trainer.advance(max_updates=round(epochs * racer.trainer.updates_per_epoch))
    return race


def charts(race: Race) -> dict[str, Callable[[], ui.FigureSpec]]:
    """The three live charts as the page draws them by default (epochs on x, log loss)."""
    return {
        "loss": lambda: ui.loss_figure(race.racers, "epochs", log_x=False, log_y=True),
        "accuracy": lambda: ui.accuracy_figure(race.racers, "epochs", log_x=False, reference=REFERENCE),
        "trace": lambda: ui.trace_figure(race.racers, "epochs", log_x=False, log_y=True),
    }


def trace_by_trace(spec: ui.FigureSpec) -> go.Figure:
    """The same chart built the old way: a ``go.Figure``, one validated trace at a time, then its layout."""
    fig = go.Figure()
    for trace in spec["data"]:
        fig.add_trace(go.Scatter(trace))
    fig.update_layout(spec["layout"])
    return fig


def median_ms(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def measure(race: Race, repeats: int) -> dict[str, dict[str, float]]:
    """Milliseconds per chart: build, ``st.plotly_chart``, both, and both the old way (medians of ``repeats``)."""
    rows = {}
    for name, build in charts(race).items():
        spec = build()
        rows[name] = {
            "build": median_ms(build, repeats),
            "plotly_chart": median_ms(lambda spec=spec: st.plotly_chart(spec), repeats),
            "total": median_ms(lambda build=build: st.plotly_chart(build()), repeats),
            "old_total": median_ms(lambda build=build: st.plotly_chart(trace_by_trace(build())), repeats),
        }
    rows["per refresh"] = {
        k: sum(row[k] for row in rows.values()) for k in ("build", "plotly_chart", "total", "old_total")
    }
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=float, nargs="+", default=[3.0, 20.0], help="race lengths to time")
    parser.add_argument("--repeats", type=int, default=40, help="draws per measurement (median), 1..1000")
    args = parser.parse_args(argv)
    if not 1 <= args.repeats <= 1000 or not all(0 < e <= 100 for e in args.epochs):
        parser.error("--repeats must be 1..1000 and each --epochs in (0, 100]")
    logging.disable(logging.WARNING)  # st.plotly_chart outside `streamlit run` warns about the missing app
    print(
        f"{'epochs':>6} {'chart':>12} {'build':>8} {'plotly_chart':>13} {'total':>8} {'old way':>9} {'ratio':>6}  (ms)"
    )
    for epochs in args.epochs:
        for name, row in measure(default_race(epochs), args.repeats).items():
            print(
                f"{epochs:6g} {name:>12} {row['build']:8.2f} {row['plotly_chart']:13.2f} {row['total']:8.2f} "
                f"{row['old_total']:9.2f} {row['old_total'] / row['total']:5.1f}x"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
