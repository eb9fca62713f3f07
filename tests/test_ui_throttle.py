"""Live training shares a fixed part of the machine fairly between the sessions training at once."""

import pytest

from ui.throttle import DRAW_SECONDS, DRAW_SHARE, FairShare, refresh_interval


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


def test_live_refreshes_slow_down_only_when_many_sessions_race():
    assert refresh_interval(0.25, active_sessions=1) == 0.25
    assert refresh_interval(0.25, active_sessions=2) == 0.25
    # All sessions' drawing together stays within DRAW_SHARE of one core: once it would need more at the base
    # interval, the interval stretches so that it takes exactly that share.
    crowd = 0.25 * DRAW_SHARE / DRAW_SECONDS
    for n in (10, 20, 40, 100):
        interval = refresh_interval(0.25, active_sessions=n)
        assert n * DRAW_SECONDS / interval <= DRAW_SHARE * (1 + 1e-12)
        assert interval == (0.25 if n <= crowd else pytest.approx(n * DRAW_SECONDS / DRAW_SHARE))
