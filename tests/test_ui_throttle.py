"""Live training shares a fixed part of the machine fairly between the sessions training at once."""

import time
from unittest.mock import patch

import pytest

from ui.throttle import MAX_INTERVAL, SERVE_SHARE, FairShare, RefreshCost, refresh_interval, training


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_lone_session_gets_what_it_asks_for():
    share = FairShare(cpu_fraction=0.6, n_cpus=2, clock=FakeClock())
    assert share.budget("alice", wanted=0.075, period=0.25) == 0.075


def test_many_sessions_split_the_allowance_evenly():
    share = FairShare(cpu_fraction=0.6, n_cpus=2, clock=FakeClock())
    budgets = [share.budget(f"s{i}", wanted=0.075, period=0.25) for i in range(20)]
    assert share.active_sessions == 20
    # 60% of 2 cores over a 0.25 s period is 0.3 s of training, split 20 ways.
    assert budgets[-1] == pytest.approx(0.3 / 20)
    total_rate = sum(share.budget(f"s{i}", 0.075, 0.25) for i in range(20)) / 0.25
    assert total_rate == pytest.approx(0.6 * 2)  # cores' worth of training per second, never more


def test_sessions_that_stopped_training_free_their_share():
    clock = FakeClock()
    share = FairShare(cpu_fraction=0.5, n_cpus=1, window=2.0, clock=clock)
    for i in range(10):
        share.budget(f"s{i}", 1.0, 1.0)
    clock.now = 1.5
    assert share.budget("s0", 1.0, 1.0) == pytest.approx(0.5 / 10)
    clock.now = 3.0  # only s0 asked within the last 2 s
    assert share.budget("s0", 1.0, 1.0) == pytest.approx(0.5)
    assert share.active_sessions == 1


def test_a_session_with_a_long_period_stays_counted_between_its_runs():
    clock = FakeClock()
    share = FairShare(cpu_fraction=0.5, n_cpus=1, window=2.0, clock=clock)
    share.budget("slow", 1.0, period=3.0)  # refreshes every 3 s: still racing 5 s later
    share.budget("fast", 1.0, period=0.25)
    clock.now = 5.0
    assert share.budget("fast", 1.0, 0.25) == pytest.approx(0.5 * 0.25 / 2)
    clock.now = 6.5  # two of its periods without a run: gone
    assert share.active_sessions == 1


def test_live_refreshes_slow_down_only_when_many_sessions_race():
    cost = 0.03
    assert refresh_interval(0.25, active_sessions=1, seconds=cost) == 0.25
    assert refresh_interval(0.25, active_sessions=2, seconds=cost) == 0.25
    # All sessions' refreshes together stay within SERVE_SHARE of one core: once they would need more at the base
    # interval, the interval stretches so that they take exactly that share, up to MAX_INTERVAL.
    crowd = 0.25 * SERVE_SHARE / cost
    for n in (10, 20, 40, 100):
        interval = refresh_interval(0.25, active_sessions=n, seconds=cost)
        if interval < MAX_INTERVAL:  # past it, the curves keep moving however crowded the class
            assert n * cost / interval <= SERVE_SHARE * (1 + 1e-12)
        expected = 0.25 if n <= crowd else min(n * cost / SERVE_SHARE, MAX_INTERVAL)
        assert interval == pytest.approx(expected)
    assert refresh_interval(0.25, active_sessions=20, seconds=cost) == pytest.approx(1.2)
    assert refresh_interval(0.25, active_sessions=100, seconds=cost) == MAX_INTERVAL
    assert refresh_interval(0.25, active_sessions=20, seconds=cost / 2) == pytest.approx(0.6)  # cheaper: faster


class FakeCPU:
    """The process's CPU seconds, advanced by hand."""

    def __init__(self) -> None:
        self.used = 0.0

    def __call__(self) -> float:
        return self.used


def refreshes(cost, clock, cpu, n, every=0.25, serving=0.0, trained=0.0):
    """``n`` live refreshes ``every`` s apart, each followed by its work: ``serving`` + ``trained`` CPU s."""
    for _ in range(n):
        cost.add_refresh()
        clock.now += every
        cpu.used += serving + trained
        cost.add_training(trained)


def test_refresh_cost_is_measured_cpu_less_training_per_refresh():
    clock, cpu = FakeClock(), FakeCPU()
    cost = RefreshCost(first=0.03, period=2.0, min_refreshes=4, cpu_clock=cpu, clock=clock)
    refreshes(cost, clock, cpu, 9, serving=0.05, trained=0.1)  # the 9th, 2 s after the 1st, closes the window
    assert cost.seconds == pytest.approx(0.5 * 0.03 + 0.5 * 0.05)  # halfway from the first guess
    refreshes(cost, clock, cpu, 8, serving=0.05, trained=0.1)  # the same load again: closing in on 0.05
    assert cost.seconds == pytest.approx(0.25 * 0.03 + 0.75 * 0.05)


def test_refresh_cost_waits_for_a_long_enough_window():
    clock, cpu = FakeClock(), FakeCPU()
    cost = RefreshCost(first=0.03, period=2.0, min_refreshes=4, cpu_clock=cpu, clock=clock)
    refreshes(cost, clock, cpu, 4, every=1.0, serving=0.5)  # 4 s, but only 3 refreshes' work done
    assert cost.seconds == 0.03
    refreshes(cost, clock, cpu, 1, every=0.05)  # closes the window: 2 CPU s over 4 refreshes
    assert cost.seconds == pytest.approx(0.5 * 0.03 + 0.5 * 0.5)
    refreshes(cost, clock, cpu, 20, every=0.05, serving=1.0)  # 20 refreshes within 1 s: no new figure yet
    assert cost.seconds == pytest.approx(0.5 * 0.03 + 0.5 * 0.5)


def test_work_done_while_nobody_raced_is_not_charged_to_refreshes():
    clock, cpu = FakeClock(), FakeCPU()
    cost = RefreshCost(first=0.03, period=2.0, min_refreshes=4, idle=10.0, cpu_clock=cpu, clock=clock)
    clock.now, cpu.used = 60.0, 20.0  # a minute of other work (say a learning-rate sweep), nobody racing
    refreshes(cost, clock, cpu, 9, serving=0.04)  # then a race
    assert cost.seconds == pytest.approx(0.5 * 0.03 + 0.5 * 0.04)


def spin(seconds: float) -> None:
    """Use ``seconds`` of this thread's CPU."""
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


@pytest.mark.parametrize("as_training", [True, False])
def test_cpu_spent_in_a_training_block_is_not_counted_as_serving(as_training):
    # This thread's CPU time stands in for the process's: other threads of the test process cannot blur it.
    cost = RefreshCost(first=0.0, period=0.0, min_refreshes=1, cpu_clock=time.thread_time, clock=FakeClock())
    with patch("ui.throttle.refresh_cost", return_value=cost):
        cost.add_refresh()
        if as_training:
            with training():
                spin(0.05)
        else:
            spin(0.05)
        cost.add_refresh()  # the next refresh closes the window
    serving = 2 * cost.seconds  # halfway from 0
    assert serving < 0.01 if as_training else serving >= 0.05
