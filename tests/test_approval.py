"""Approval of the system (scenario/attitudes.py, engine/stages/approval.py): it stays at its
start without a system or without effects, and at the rongcheng preset it lands within the
survey's calibration band (Kostka 2019: about 80% approve), lower in the tiers the system
punishes."""

from __future__ import annotations

import numpy as np
import pytest

import socialcredit as sc

START = float(np.float32(np.float16(0.8)))


def daily_mean(result) -> np.ndarray:
    m = result.metrics
    a = m[m["metric"] == "mean_approval"].pivot_table(index="day", columns="group", values="value")
    n = m[m["metric"] == "agents"].pivot_table(index="day", columns="group", values="value")
    return ((a * n).sum(axis=1) / n.sum(axis=1)).to_numpy()


@pytest.fixture(scope="module")
def rongcheng():
    return sc.simulate(sc.load_scenario("rongcheng", [], agents=2000, days=365))


def test_approval_stays_at_start_without_a_system():
    s = sc.load_scenario("rongcheng", ["jurisdictions.0.programme=null"], agents=500, days=30)
    assert daily_mean(sc.simulate(s)) == pytest.approx(START, abs=1e-6)


@pytest.mark.slow  # the default suite is at its time limit
def test_approval_stays_at_start_when_nothing_moves_it():
    ov = [f"approval.{k}=0" for k in ("sanction", "wrongful", "reward")]
    ov += ["approval.contact_sanction=0", "approval.contact_reward=0"]
    s = sc.load_scenario("rongcheng", ov, agents=500, days=30)
    assert daily_mean(sc.simulate(s)) == pytest.approx(START, abs=1e-6)


def test_approval_calibration_rongcheng(rongcheng):
    """Calibration target, not a fit: after a year of rongcheng (2,000 agents) approval is
    within [0.72, 0.88] of Kostka's ~80%, and the tiers the system sanctions approve less than
    its top populated tier (the advantaged approve most)."""
    s = rongcheng.summary
    assert 0.72 <= s["mean_approval"] <= 0.88, s["mean_approval"]
    by_tier = s["jurisdictions"]["rongcheng"]["approval_by_tier"]
    tiers = [t for t in rongcheng.scenario.programmes["rongcheng"].tiers if t.name in by_tier]
    top, bottom = by_tier[tiers[0].name], by_tier[tiers[-1].name]
    assert len(tiers) >= 2 and bottom < top, by_tier
    assert set(s["jurisdictions"]["rongcheng"]["approval_by_group"]) == {"majority", "minority"}
