"""The expiry ring's integer type counts informant pay (issue 18): one bucket holds
``expiry_resolution_days`` days of record points plus the pay an informant gets that day, so
a scenario whose rewards could pass 32,767 in one bucket gets an int32 ring. Before, the ring
was sized from the record points alone, and well-paid informants wrapped to a score of 0 and
were blacklisted, with exit 0."""

from __future__ import annotations

import pytest

import socialcredit as sc
from socialcredit.compile import compile_scenario, core

# Informants paid 4,000 points a report on minority prayer (within the per-day bound that
# validation checks: 8 contacts x 4,003 + 50 <= 32,767), every prayer reported, much prayer:
# a few days' pay passes int16 in one 73-day bucket.
RICH = [
    "informants.targeted_rewards.0.points=4000",
    "informants.share=0.2",
    "informants.coverage.public_prayer=1.0",
    "behaviours.0.base_rate=0.1",
]


def rich(**kw) -> sc.Scenario:
    return sc.load_scenario("xinjiang-informants", RICH, agents=1000, days=10, **kw)


def test_the_ring_counts_a_days_informant_pay():
    plain = sc.load_scenario("xinjiang-informants", agents=1000, days=10)
    assert plain.informant_pay_bound() == (8, 8)  # 8 contacts x (2 + 5 + 1) points
    assert compile_scenario(plain)[0].ring_dtype == "int16"  # 73 x (50 + 64) fits
    scenario = rich()
    contacts, per = scenario.informant_pay_bound()
    assert (contacts, per) == (8, 4003) and contacts * per + 50 <= 32767  # a day fits int16
    assert compile_scenario(scenario)[0].ring_dtype == "int32"  # a bucket does not
    assert core._ring([], 0) == (1, 1, "int16")
    # without informant pay the points alone would have chosen int16: the old sizing
    progs = list(scenario.programmes.values())
    assert core._ring(progs)[2] == "int16" and core._ring(progs, contacts * per)[2] == "int32"


def test_well_paid_informants_keep_their_scores():
    result = sc.simulate(rich())
    a = result.agents
    informants = a[a["informant"]]
    assert len(informants) > 50
    assert not informants["listed"].any()  # nobody's pay wrapped into a blacklisting
    assert informants["score"].min() > 900 and (informants["score"] == 2000).mean() > 0.5


@pytest.mark.slow
def test_the_old_int16_ring_wraps_the_same_informants_to_zero(monkeypatch):
    """What the test above guards against: the same run on an int16 ring blacklists some."""
    good = sc.simulate(rich()).agents
    old = core._ring
    monkeypatch.setattr(core, "_ring", lambda progs, pay=0: old(progs, 0))
    assert compile_scenario(rich())[0].ring_dtype == "int16"
    bad = sc.simulate(rich()).agents
    wrapped = bad["informant"] & bad["listed"]
    assert wrapped.any() and (bad.loc[wrapped, "score"] < 100).all()
    assert not (good["informant"] & good["listed"]).any()
