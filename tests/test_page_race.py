"""The Optimizer Race page in AppTest, on the bundled digits: Start, live growth, Pause, Reset, divergence,
mid-race changes, bad input that keeps the race, +1 epoch, the gradient-noise and sweep panels."""

import json

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest import open_page

PAGE = "pages/optimizer_race.py"


@pytest.fixture
def at() -> AppTest:
    return open_page(PAGE)


def race(at):
    return at.session_state["race"] if "race" in at.session_state else None


def updates(at):
    return [r.trainer.update for r in race(at).racers]


def history_lengths(at):
    return [len(r.trainer.history) for r in race(at).racers]


def started(at, runs=0):
    at.button(key="race_start").click().run()
    assert not at.exception
    for _ in range(runs):
        at.run()
    return at


def errors(at):
    return " ".join(e.value for e in at.error)


def chart_titles(at):
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]


def test_page_renders_with_three_default_racers_and_no_race(at):
    assert race(at) is None
    assert [at.text_input(key=f"race_B_{i}").value for i in range(3)] == ["N", "100", "1"]
    assert not at.button(key="race_start").disabled
    assert at.button(key="race_reset").disabled
    assert not at.error
    assert "Optimizer Race" in at.title[0].value


def test_start_then_runs_grow_every_racers_history(at):
    started(at)
    r = race(at)
    assert r.running and len(r.racers) == 3
    first = history_lengths(at)
    first_updates = updates(at)
    for _ in range(4):
        at.run()
    assert not at.exception
    assert all(b > a for a, b in zip(first_updates, updates(at), strict=True))
    assert all(b > a for a, b in zip(first, history_lengths(at), strict=True))
    titles = chart_titles(at)
    assert any("Loss" in t for t in titles) and any("accuracy" in t for t in titles)
    assert any("moving average" in t for t in titles)
    assert at.table  # the cost table is drawn


def test_pause_stops_growth_and_resume_continues(at):
    started(at, runs=2)
    at.button(key="race_pause").click().run()
    assert not race(at).running
    frozen = updates(at)
    for _ in range(3):
        at.run()
    assert updates(at) == frozen
    at.button(key="race_resume").click().run()
    at.run()
    assert race(at).running and updates(at) != frozen


def test_reset_clears_the_race(at):
    started(at, runs=3)
    old = race(at)
    at.button(key="race_reset").click().run()
    assert race(at) is None
    assert all("Loss" not in t for t in chart_titles(at))
    started(at)
    assert race(at) is not old
    assert sum(updates(at)) < sum(r.trainer.update for r in old.racers)  # the new race starts from zero


def test_a_divergent_racer_is_shown_as_diverged_without_an_exception(at):
    at.text_input(key="race_eta_1").set_value("1000").run()
    started(at, runs=6)
    assert not at.exception
    bad = race(at).racers[1]
    assert bad.trainer.diverged
    assert "DIVERGED" in errors(at)
    loss = next(c for c in at.get("plotly_chart") if "Loss" in json.loads(c.proto.spec)["layout"]["title"]["text"])
    assert "diverged" in loss.proto.spec
    assert not race(at).racers[2].trainer.diverged  # the others race on


def test_changing_eta_mid_race_applies_from_the_next_update(at):
    started(at, runs=1)
    trainer = race(at).racers[2].trainer
    at.text_input(key="race_eta_2").set_value("0.003").run()
    assert not at.exception and not at.warning
    assert trainer.eta0 == 0.003 and race(at).racers[2].trainer is trainer
    before = trainer.update
    at.run()
    assert trainer.update > before and trainer.history.eta[-1] == 0.003
    at.selectbox(key="race_schedule_2").set_value("inverse").run()
    assert trainer.schedule == "inverse" and trainer.schedule_params == {"lam": 1e-3}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("race_eta_0", "abc"),
        ("race_eta_0", "0"),
        ("race_eta_0", "-1"),
        ("race_eta_0", "1e6"),
        ("race_eta_0", "NaN"),
        ("race_B_1", "0"),
        ("race_B_1", "5000"),
        ("race_B_1", "ten"),
    ],
)
def test_bad_input_shows_an_error_and_keeps_the_race(at, key, value):
    started(at, runs=1)
    r = race(at)
    settings = [dict(x.settings) for x in r.racers]
    before = updates(at)
    at.text_input(key=key).set_value(value).run()
    assert not at.exception
    assert at.error, f"no error for {key} = {value!r}"
    assert race(at) is r and r.running
    assert [x.settings for x in r.racers] == settings
    at.run()
    assert updates(at)[2] > before[2]  # pure SGD still racing (batch GD moves a whole epoch at a time)


def test_bad_input_before_start_disables_start(at):
    at.text_input(key="race_B_2").set_value("-3").run()
    assert "batch size" in errors(at)
    assert at.button(key="race_start").disabled


def test_batch_size_change_mid_race_asks_to_reset(at):
    started(at, runs=1)
    at.text_input(key="race_B_1").set_value("10").run()
    assert race(at).racers[1].trainer.batch_size == 100
    assert any("batch size" in w.value for w in at.warning)
    at.button(key="race_reset_apply").click().run()
    assert race(at) is None
    started(at)
    assert race(at).racers[1].trainer.batch_size == 10


def test_plus_one_epoch_and_new_seed(at):
    at.button(key="race_epoch").click().run()
    r = race(at)
    assert not r.running
    assert [x.trainer.samples for x in r.racers] == [len(r.dataset.y_train)] * 3
    at.button(key="race_new_seed").click().run()
    fresh = race(at)
    assert fresh is not r and fresh.seed == at.number_input(key="race_seed").value != 0
    assert all(x.trainer.update == 0 for x in fresh.racers)
    assert not at.warning  # the seed box and the race agree


def test_four_racers_and_early_stopping(at):
    at.number_input(key="race_n").set_value(4).run()
    at.number_input(key="race_patience").set_value(2).run()
    started(at, runs=1)
    assert len(race(at).racers) == 4 and race(at).patience == 2


def test_gradient_noise_and_learning_rate_sweep_panels(at):
    at.button(key="race_var_run").click().run()
    assert not at.exception
    assert any("1/B" in t for t in chart_titles(at))
    at.selectbox(key="race_sweep_racer").set_value(at.selectbox(key="race_sweep_racer").options[1]).run()
    at.number_input(key="race_sweep_epochs").set_value(1).run()
    at.button(key="race_sweep_run").click().run()
    assert not at.exception
    sweep = next(t for t in at.table if "verdict" in t.value.columns).value
    assert any(v.startswith("diverged") for v in sweep["verdict"]) and "best" in list(sweep["verdict"])


def test_a_finished_race_resumes_when_the_epoch_limit_is_raised(at):
    at.number_input(key="race_epochs").set_value(1).run()
    at.select_slider(key="race_pace").set_value("full speed").run()
    started(at)
    for _ in range(20):
        if not race(at).running:
            break
        at.run()
    r = race(at)
    assert not r.running and all(x.trainer.samples == len(r.dataset.y_train) for x in r.racers)
    assert at.button(key="race_resume").disabled
    at.number_input(key="race_epochs").set_value(2).run()
    assert not at.button(key="race_resume").disabled
    at.button(key="race_resume").click().run()
    assert race(at).racers[2].trainer.samples > len(r.dataset.y_train)


def test_a_new_dataset_asks_to_reset_and_the_race_keeps_its_own(at):
    started(at, runs=1)
    old = race(at).dataset
    at.slider(key="dataset_val").set_value(0.2).run()
    assert not at.exception
    assert any("dataset changed" in w.value for w in at.warning)
    assert race(at).dataset is old and race(at).running
