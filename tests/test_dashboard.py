"""The dashboard without a browser: controls from the JSON Schema (every preset's knobs are
controls; a value out of bounds is refused with the command line's message) and the live run
(the same metrics as `simulate`, pause, stop, a failure as a message)."""

from __future__ import annotations

import time

import pandas as pd
import pytest

import socialcredit as sc
from socialcredit.dashboard import controls
from socialcredit.scenario.loader import list_presets, parse_scenario, preset_path


def test_every_presets_knobs_are_bounded_controls():
    for name, _ in list_presets():
        scenario = sc.load_scenario(name)
        knobs, notes = controls.knobs_of(scenario)
        assert not notes, (name, notes)
        assert [k.path for k in knobs[:3]] == list(controls.ALWAYS)
        assert len(knobs) > 3, f"{name} names no knobs in its metadata"
        for k in knobs:
            assert k.choices or k.bounds, (name, k)


def test_a_knob_reads_value_type_and_bounds_from_the_schema():
    scenario = sc.load_scenario("rongcheng")
    k = controls.knob(scenario, "behaviours.littering.base_rate")
    assert (k.kind, k.value, k.minimum, k.maximum) == ("number", 0.0005, 0.0, 0.5)
    assert "Probability per agent per day" in k.description
    assert controls.knob(scenario, "response.model").choices == ("fixed", "adaptive")
    assert controls.knob(scenario, "population.agents").kind == "integer"
    with pytest.raises(KeyError, match="not a number"):
        controls.knob(scenario, "behaviours")
    with pytest.raises(KeyError, match="no item 'nothing'"):
        controls.knob(scenario, "behaviours.nothing.base_rate")


def test_a_value_out_of_bounds_gets_the_cli_message():
    text = preset_path("rongcheng").read_text()
    path = "behaviours.traffic_violation.base_rate"
    with pytest.raises(sc.ScenarioError) as page:
        controls.build(text, "rongcheng.yaml", {path: "0.9", "days": 30})
    with pytest.raises(sc.ScenarioError) as cli:  # what `run rongcheng --set ... ` prints
        sc.load_scenario("rongcheng", [f"{path}=0.9", "days=30"])
    assert str(page.value) == str(cli.value)
    assert "must be between 0 and 0.5" in str(page.value)


def test_saved_settings_load_back_the_same():
    text = preset_path("court-blacklist").read_text()
    values = {"population.agents": "900", "channels.court_enforcement.false_positive_rate": 1e-6}
    scenario = controls.build(text, "court-blacklist.yaml", values)
    again = parse_scenario(controls.save_text(scenario), "saved.yaml")
    assert again == scenario
    assert again.population.agents == 900


@pytest.mark.dashboard
def test_a_live_run_gives_simulates_metrics_and_can_pause_and_stop(tmp_path):
    from socialcredit.dashboard.live import LiveRun

    scenario = sc.load_scenario("rongcheng", agents=600, days=24)
    run = LiveRun(scenario, tmp_path, counterfactual=False)
    run.pause()  # asked while compiling: holds after the first chunk
    run.start()
    while run.snapshot().metrics is None:
        time.sleep(0.05)
    time.sleep(0.5)
    held = run.snapshot()
    assert held.state == "paused" and 0 < held.days_done < 24
    run.resume()
    run.join(120)
    done = run.snapshot()
    assert done.state == "done" and done.path is not None
    pd.testing.assert_frame_equal(done.result.metrics, sc.simulate(scenario).metrics)

    stopped = LiveRun(scenario, tmp_path / "other", counterfactual=False)
    stopped.pause()
    stopped.start()
    while stopped.snapshot().metrics is None:
        time.sleep(0.05)
    stopped.stop()
    stopped.join(60)
    assert stopped.snapshot().state == "stopped"
    assert not (tmp_path / "other").exists() or not any((tmp_path / "other").iterdir())


@pytest.mark.dashboard
def test_a_live_run_of_layered_lists_keeps_their_causes(tmp_path):
    """The live run is the engine's own loop (engine/run.py `run_chunks`): a run with layered
    lists gets the lists' facts, and so the same credit-file causes as `simulate`."""
    from socialcredit.dashboard.live import LiveRun

    scenario = sc.load_scenario("national", agents=20000, days=60)
    run = LiveRun(scenario, tmp_path, counterfactual=False)
    run.start()
    run.join(300)
    done = run.snapshot()
    assert done.state == "done", done.error
    alone = sc.simulate(scenario)
    assert (alone.causes["programme"] == "court").any()  # the court list's rows
    pd.testing.assert_frame_equal(done.result.causes, alone.causes)
    pd.testing.assert_frame_equal(done.result.metrics, alone.metrics)


@pytest.mark.dashboard
def test_a_failed_run_is_a_message(tmp_path):
    from socialcredit.dashboard.live import LiveRun

    scenario = sc.load_scenario("rongcheng", agents=1_500_000_000, days=5)
    run = LiveRun(scenario, tmp_path, counterfactual=False)
    run.start()
    run.join(60)
    p = run.snapshot()
    assert p.state == "failed"
    assert "Traceback" not in p.error and "memory" in p.error.lower()


def test_every_credit_file_event_has_words():
    """explain and the dashboard print one table of words (results.credit.KIND_TEXT): every
    kind the credit files and their causes can hold is in it."""
    from socialcredit.results.causes import E2_KINDS, LIST_KINDS
    from socialcredit.results.credit import KIND_TEXT, KINDS

    kinds = {*KINDS, "shamed", *(k for _, k in E2_KINDS), *(k for _, k in LIST_KINDS)}
    assert kinds <= set(KIND_TEXT), kinds - set(KIND_TEXT)
