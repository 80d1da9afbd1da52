"""Phases that change a programme's numbers part-way (issue 14): `timeline.phases[].set`.
Known answers: a change on day t leaves the days before t as the run without it; setting a
number to its current value changes nothing; coverage set to 0 from day t leaves the channel
without records after t. Bad paths and values are located, as any scenario field is."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml

import socialcredit as sc
from socialcredit.scenario import ScenarioError
from socialcredit.scenario.loader import parse_scenario

T = 25
BASE = {
    "metadata": {"name": "set-phase", "description": "a city whose camera coverage changes"},
    "population": {
        "agents": 1200,
        "groups": [{"name": "all", "share": 1.0}],
        "wealth": {"distribution": "lognormal", "median": 1.0, "sigma": 0.5},
        "contacts": {"degree": 4, "reach": 10},
    },
    "jurisdictions": [{"name": "city", "share": 1.0, "programme": "score"}],
    "behaviours": [
        {"name": "jaywalking", "base_rate": 0.02},
        {"name": "littering", "base_rate": 0.01},
    ],
    "channels": [
        {"name": "cameras", "coverage": {"jaywalking": 0.5}, "false_positive_rate": 0.001},
        {"name": "wardens", "coverage": {"littering": 0.4}},
    ],
    "programmes": {
        "score": {
            "base_score": 100,
            "bounds": [0, 200],
            "points": {"jaywalking": -10, "littering": -5},
            "channels": ["cameras", "wardens"],
            "record_expiry_days": 20,
            "tiers": [
                {"name": "ok", "min": 60, "max": None},
                {"name": "low", "min": None, "max": 59},
            ],
            "consequences": {"low": {"loan_approval": 0.3}},
        }
    },
    "timeline": {"phases": [{"name": "start", "day": 0, "start": ["score"]}]},
    "days": 50,
}


def scenario(data: dict):
    return parse_scenario(yaml.safe_dump(data, sort_keys=False), "test.yaml")


def with_set(values: dict, day: int = T) -> dict:
    data = copy.deepcopy(BASE)
    data["timeline"]["phases"].append({"name": "change", "day": day, "set": values})
    return data


def series(m, name):
    return m[m["metric"] == name].groupby("day")["value"].sum()


@pytest.fixture(scope="module")
def plain():
    return sc.simulate(scenario(BASE)).metrics


@pytest.fixture(scope="module")
def cameras_off_run():
    return sc.simulate(scenario(with_set({"channels.cameras.coverage.jaywalking": 0.0})))


@pytest.fixture(scope="module")
def cameras_off(cameras_off_run):
    return cameras_off_run.metrics


def test_coverage_set_to_zero_on_day_t_records_nothing_after_and_nothing_changes_before(
    plain, cameras_off
):
    """Metrics of (1-based) day d describe 0-based day d - 1: days 1..T are before the phase."""
    before = plain[plain["day"] <= T].reset_index(drop=True)
    same = cameras_off[cameras_off["day"] <= T].reset_index(drop=True)
    np.testing.assert_array_equal(before["value"].to_numpy(), same["value"].to_numpy())
    cams = series(cameras_off, "records_by.cameras")
    assert cams.loc[:T].sum() > 0  # the cameras recorded before the phase...
    # ...and only their false records after it (coverage 0: no act is caught)
    acts = series(cameras_off, "records.jaywalking")
    assert acts.loc[T + 1 :].sum() == series(cameras_off, "false_records").loc[T + 1 :].sum()
    assert series(plain, "records.jaywalking").loc[T + 1 :].sum() > 5 * acts.loc[T + 1 :].sum()


@pytest.mark.slow  # the default suite's time: the coverage test above runs the phase machinery
def test_setting_a_number_to_its_current_value_changes_nothing(plain):
    same = sc.simulate(
        scenario(
            with_set(
                {
                    "channels.cameras.coverage.jaywalking": 0.5,
                    "programmes.score.points.littering": -5,
                }
            )
        )
    ).metrics
    np.testing.assert_array_equal(plain["value"].to_numpy(), same["value"].to_numpy())


@pytest.mark.slow
def test_a_later_phase_switches_a_consequence_and_the_first_one_points(plain):
    """Two phases: points of littering doubled from day 10, the low tier's loan cap lifted
    from day 30 (an on/off switch and a number, both in Params)."""
    data = with_set({"programmes.score.points.littering": -10}, day=10)
    data["timeline"]["phases"].append(
        {
            "name": "lift",
            "day": 30,
            "set": {"programmes.score.consequences.low.loan_approval": 0.95},
        }
    )
    m = sc.simulate(scenario(data)).metrics
    np.testing.assert_array_equal(
        plain[plain["day"] <= 10]["value"].to_numpy(), m[m["day"] <= 10]["value"].to_numpy()
    )
    assert series(m, "mean_score").iloc[-1] < series(plain, "mean_score").iloc[-1]


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"channels.camera.coverage.jaywalking": 0.2}, "did you mean 'cameras'"),
        ({"programmes.score.description": 1.0}, "not a number"),
        ({"channels.cameras.coverage.jaywalking": 1.5}, "less than or equal to 1"),
        ({"programmes.score.base_score": 0.5}, "integer"),
        ({"population.agents": 500}, "structure"),
    ],
)
def test_bad_sets_are_located(values, words):
    with pytest.raises(ScenarioError) as e:
        scenario(with_set(values))
    text = str(e.value)
    assert "timeline.phases.1.set" in text and words in text, text
    assert "test.yaml:" in text


@pytest.mark.slow
def test_the_report_lists_the_phases_and_its_charts_mark_them(cameras_off_run):
    """The report has a Timeline section (what each phase starts, stops and sets), and each
    chart over days has a dashed line between day T and T + 1 (the phase of 0-based day T)."""
    from bokeh.models import Span

    from socialcredit.report.figures import figure_data
    from socialcredit.report.html import build_charts, render_report

    data = figure_data(cameras_off_run)
    page = render_report(cameras_off_run, data=data)
    assert '<section id="phases">' in page
    assert "channels.cameras.coverage.jaywalking=0.0" in page
    charts = build_charts(data, cameras_off_run)
    over_days = [k for k, df in data.items() if df is not None and "day" in df.columns]
    assert "tiers_over_time" in over_days
    for key in over_days:
        if key in charts:
            spans = list(charts[key].select({"type": Span}))
            assert [s.location for s in spans] == [T + 0.5], key
