"""Rewards people can count (issue 15): free check-ups, deposit-free bikes, interest-free loans
and better matches, counted and charged to the programme's budget (stages/rewards.py).

Known answers: over a short run of Rongcheng every resident stays in grade A (base score 1000,
no deduction can take 41 points in a fortnight at these rates without showing in the tier
counts, which the tests read), so the entitled person-days are the `tier.A` counts:
- check-ups and bike rentals = entitled person-days x daily take-up, within binomial error;
- rewarded loans = approved loans (applied - refused) exactly, each saving amount x rate;
- matches gained = attempts whose draw falls in [base, base x (1 + boost)), within error;
- a budget that pays exactly K check-ups gives K, and withholds the rest;
- rewards that feed back on nothing (check-ups, bikes, matches) leave every other metric of the
  run bit for bit as without them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import socialcredit as sc
from socialcredit.engine.stages.rewards import ALL_METRICS
from socialcredit.scenario import ScenarioError

AGENTS, DAYS = 600, 15
BASE = ["response.model=fixed"]
LOAN = {"amount": 40000, "interest_rate": 0.05, "term_years": 2, "discount": 0.5}


def _rewards(checkup_cost=10, loan_amount=LOAN["amount"], loans=True):
    parts = [
        f"checkups: {{tiers: [A], take_up: 0.05, cost: {checkup_cost}}}",
        "bikes: {tiers: [A], take_up: 0.1, deposit: 199}",
        "matches: {tiers: [A], boost: 0.5}",
    ]
    if loans:
        parts.append(
            f"loans: {{tiers: [A], amount: {loan_amount}, interest_rate: 0.05, term_years: 2, "
            "discount: 0.5}"
        )
    return "programmes.rongcheng.rewards={" + ", ".join(parts) + "}"


def _run(overrides):
    s = sc.load_scenario("rongcheng", BASE + overrides, agents=AGENTS, days=DAYS, seed=3)
    return sc.simulate(s, devices=1)


def _totals(r) -> dict:
    return r.metrics.groupby("metric")["value"].sum().to_dict()


@pytest.fixture(scope="module")
def plenty():
    """Every kind, a budget far above what the rewards cost (the same compiled run as `tight`)."""
    return _run(
        [
            _rewards(),
            "programmes.rongcheng.budget={per_resident_year: 1000000}",
            "economy.match_demand=0.05",
        ]
    )


@pytest.fixture(scope="module")
def tight():
    """A budget of 0.5 per resident: 300 for 600 residents, exactly 30 check-ups at 10 each
    (the other rewards cost nothing here)."""
    return _run(
        [
            _rewards(loan_amount=0),
            "programmes.rongcheng.budget={per_resident_year: 0.5}",
            "economy.match_demand=0.05",
        ]
    )


def _within(count: float, n: float, p: float) -> None:
    mean, sd = n * p, math.sqrt(n * p * (1 - p))
    assert abs(count - mean) <= 4 * sd, (count, mean, sd)


def test_everyone_entitled(plenty):
    t = _totals(plenty)
    assert t["tier.A"] == AGENTS * DAYS  # every resident in grade A every day


def test_checkups_and_bikes_are_entitled_days_times_take_up(plenty):
    t = _totals(plenty)
    _within(t["checkups"], t["tier.A"], 0.05)
    _within(t["bike_rentals"], t["tier.A"], 0.1)
    assert t["checkup_spend"] == pytest.approx(10 * t["checkups"])
    assert t["deposit_saved"] == pytest.approx(199 * t["bike_rentals"])


def test_every_approved_loan_saves_its_interest(plenty):
    t = _totals(plenty)
    approved = t["loans_applied"] - t["loans_refused"]
    assert approved > 0 and t["reward_loans"] == approved
    saved = LOAN["amount"] * LOAN["interest_rate"] * LOAN["term_years"] * LOAN["discount"]
    assert t["interest_saved"] == pytest.approx(saved * approved, rel=1e-6)


def test_matches_gained_beside_matches_lost(plenty):
    t = _totals(plenty)
    # base chance 0.5, boost 0.5: draws in [0.5, 0.75) are gained, a quarter of attempts
    _within(t["matches_gained"], t["match_attempts"], 0.25)
    assert t["matches_lost"] == 0  # nobody in grade A is penalised


def test_everything_is_charged_and_counted(plenty):
    t = _totals(plenty)
    kinds = t["checkups"] + t["bike_rentals"] + t["reward_loans"] + t["matches_gained"]
    assert t["rewards_given"] == kinds and t["rewards_rationed"] == 0
    assert 0 < t["rewarded"] <= t["rewards_given"]
    assert t["rewards_cost"] == pytest.approx(t["checkup_spend"] + t["interest_saved"], rel=1e-6)
    assert t["reward_spend"] == pytest.approx(t["rewards_cost"], rel=1e-6)  # no perks in grade A
    summary = plenty.summary["rewards"]
    assert summary["totals"]["checkups"] == t["checkups"]
    by_group = summary["given_per_agent_year_by_group"]
    assert set(by_group) == {"majority", "minority"}


def test_a_budget_for_k_checkups_gives_k(tight):
    t = _totals(tight)
    assert t["checkups"] == 30
    assert t["checkup_spend"] == 300 and t["reward_spend"] == 300
    assert t["rewards_rationed"] > 0 and t["rewards_withheld"] >= t["rewards_rationed"]
    # once the money is spent nothing more is given, free rewards included: the last rewards
    # are given on the day the 30th check-up is
    m = tight.metrics
    daily = m[m.metric == "rewards_given"].groupby("day")["value"].sum()
    spend = m[m.metric == "checkup_spend"].groupby("day")["value"].sum().cumsum()
    last = int(spend[spend >= 300].index.min())
    assert daily[daily.index > last].sum() == 0 and daily[daily.index <= last].sum() > 0


@pytest.mark.slow
def test_rewards_without_feedback_change_nothing_else():
    with_rewards = _run([_rewards(loans=False)])
    without = _run(["programmes.rongcheng.rewards=null"])
    a = with_rewards.metrics[~with_rewards.metrics.metric.isin(ALL_METRICS)]
    b = without.metrics
    assert set(a.metric) == set(b.metric)
    np.testing.assert_array_equal(a["value"].to_numpy(), b["value"].to_numpy())


@pytest.mark.parametrize(
    "override, path, words",
    [
        (
            "programmes.rongcheng.rewards={bikes: {tiers: [Z], take_up: 0.1, deposit: 1}}",
            "programmes.rongcheng.rewards.bikes.tiers.0",
            "Z",
        ),
        (
            "programmes.rongcheng.rewards={matches: {tiers: [C], boost: 0.2}}",
            "programmes.rongcheng.rewards.matches.tiers",
            "matching_penalty",
        ),
    ],
)
def test_bad_rewards_name_their_path(override, path, words):
    extra = ["programmes.rongcheng.consequences.C.matching_penalty=0.1"]
    with pytest.raises(ScenarioError) as e:
        sc.load_scenario("rongcheng", [override, *extra])
    msg = str(e.value)
    assert path in msg and words in msg, msg


def test_benefit_outcomes_split_rewards_by_group(plenty):
    from socialcredit.audit.catalogue import outcomes_for

    outs = {o.name: o for o in outcomes_for(plenty.scenario)}
    t = _totals(plenty)
    years = AGENTS * DAYS / 365
    assert float(outs["rewards_given"].formula(plenty)) == pytest.approx(t["rewards_given"] / years)
    m = plenty.metrics
    per_group = m[m.metric.isin(["rewards_given", "agents"])].groupby(["group", "metric"])
    sums = per_group["value"].sum()
    for g in ("majority", "minority"):
        want = sums[(g, "rewards_given")] / (sums[(g, "agents")] / 365)
        assert float(outs[f"rewards_given.{g}"].formula(plenty)) == pytest.approx(want)
        assert outs[f"rewards_given.{g}"].without_system == 0.0
