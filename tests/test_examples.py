"""The examples in examples/ run, and the platform-era example's channels do what it says."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

import socialcredit as sc

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_example_scenario_validates_and_runs(path):
    s = sc.load_scenario(str(path), agents=2000, days=10)
    assert s.metadata.sources and s.metadata.description
    r = sc.simulate(s)
    assert r.metrics["day"].max() == 10


def _records(result, metric):
    m = result.metrics
    return m.loc[m["metric"] == metric, "value"].sum()


def test_commercial_platform_channel_feeds_the_score_and_unlinked_cameras_do_not():
    path = str(EXAMPLES / "platform-era-2015.yaml")
    on = sc.simulate(sc.load_scenario(path, agents=20000, days=60))
    off = sc.simulate(
        sc.load_scenario(
            path,
            agents=20000,
            days=60,
            overrides=["programmes.city.channels=[court_records]"],
        )
    )
    # the platform records most late repayments; without its feed none is recorded
    assert _records(on, "records_by.commercial_platform") > 100
    assert _records(on, "records.late_repayment") > 100
    assert _records(off, "records.late_repayment") == 0
    # the cameras watch jaywalking but are not linked to the credit system
    assert _records(on, "acts.jaywalking") > 1000
    assert _records(on, "records.jaywalking") == 0


def test_quickstart_runs(capsys):
    ns = runpy.run_path(str(EXAMPLES / "quickstart.py"))
    ns["main"](agents=2000, days=20)
    out = capsys.readouterr().out
    assert "with" in out and "tier." in out
