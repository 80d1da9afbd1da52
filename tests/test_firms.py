"""Institutions and firms (issue 15): an institution's score has consequences and moves its
compliance; new firms enter into free slots and regulators inspect within a capacity; some
counterfeits are sold abroad. Each test has a known answer or a counterfactual check."""

from __future__ import annotations

import numpy as np
import pytest

import socialcredit as sc
from socialcredit.scenario import ScenarioError
from socialcredit.scenario.loader import parse_scenario

# A small economy: 40 firms, 10 institutions (5 inspect), one list, institutions scored for
# their compliance with orders.
BASE = """\
metadata: {name: firms-test, description: "Firms and institutions for tests."}
population:
  agents: 1000
  groups: [{name: majority, share: 1.0}]
jurisdictions: [{name: town, share: 1.0, programme: null}]
behaviours: [{name: littering, base_rate: 0.001}]
days: 40
organisations:
  sectors:
    - {name: food, share: 0.5, demand: 0.5, counterfeit_rate: 0.2, harm: 2.0}
    - {name: clothing, share: 0.5, demand: 0.5, counterfeit_rate: 0.2, harm: 1.0}
  firms: {per_1000_agents: 40.0, honest_share: 0.3, tax_evasion_rate: 0.01}
  market: {purchase_rate: 0.2, loan_approval: 1.0, wariness: 0.0}
  institutions: {count: 10, party_organ_share: 0.5, order_rate: 0.5, compliance: 0.6}
  inspections: {rate: 0.05, deterrence: 0.0}
  corporate:
    base_score: 80
    score_sigma: 0.0
    grades: [{name: A, min: 70}, {name: D, min: null}]
    rules:
      - {act: counterfeit, points: -30}
      - {act: compliance, points: 1}
      - {act: noncompliance, points: -5}
    lists: [{name: market, acts: [counterfeit], sanctions: [public_listing]}]
"""


def scenario(*overrides: str) -> sc.scenario.Scenario:
    return parse_scenario(BASE, "firms-test.yaml", list(overrides))


def series(result, metric: str, sector: str | None = None) -> np.ndarray:
    """The metric by day, summed over sectors (or of one sector)."""
    m = result.org_metrics
    q = m[m["metric"] == metric]
    if sector is not None:
        q = q[q["sector"] == sector]
    return q.groupby("day")["value"].sum().to_numpy()


def total(result, metric: str, sector: str | None = None) -> float:
    return float(series(result, metric, sector).sum())


ENTRY = (
    "organisations.entry={per_1000_agents: 0.0, max_per_1000_agents: 120, "
    "surge: {start_day: 5, end_day: 25, per_1000_agents: 4.0}}"  # 4 a day among 1,000
)
SANCTIONS = "organisations.corporate.institution_sanctions={below: 101, funding_cut: 0.5}"
PRICE = 0.001  # the market's default price


@pytest.fixture(scope="module")
def everything():
    """One run with every new piece (the default suite's only simulation here): a surge of
    entrants, every firm due for inspection every day against a capacity of 2 per regulator,
    half of food's counterfeits exported, every scored institution below the tier."""
    return sc.simulate(
        scenario(
            "days=30",
            ENTRY,
            "organisations.inspections.rate=1.0",
            "organisations.inspections.capacity=2",
            "organisations.sectors.0.export_share=0.5",
            "organisations.institutions.promotion_rate=0.2",
            SANCTIONS,
        )
    )


# 1. An institution's score has consequences -------------------------------------------------


def test_institutions_below_the_tier_lose_funding_and_promotions(everything):
    """A tier above the top score: all 5 scored institutions are cut every day and each of
    their due promotions is withheld; party organs' are made."""
    assert (series(everything, "inst_funding_cut", "institutions") == 5).all()
    withheld = total(everything, "promotions_withheld", "institutions")
    made = total(everything, "promotions", "institutions")
    # 5 x 30 days x 0.2 = 30 due on each side (sd 5)
    assert 12 < withheld < 48 and 12 < made < 48, (withheld, made)
    assert everything.summary["organisations"]["promotions_withheld"] == withheld


@pytest.mark.slow
def test_no_institution_is_sanctioned_below_a_tier_at_the_bottom():
    def run(below: int):
        return sc.simulate(
            scenario(
                "days=30",
                "organisations.institutions.promotion_rate=0.2",
                f"organisations.corporate.institution_sanctions={{below: {below}}}",
            )
        )

    none, every = run(0), run(101)
    assert total(none, "inst_funding_cut", "institutions") == 0
    assert total(none, "promotions_withheld", "institutions") == 0
    # the same draws: what is withheld under the tier is made without it
    assert total(none, "promotions", "institutions") == total(
        every, "promotions", "institutions"
    ) + total(every, "promotions_withheld", "institutions")


@pytest.mark.slow
def test_compliance_responds_to_the_threat_only_where_the_response_is_on():
    """Response 0: orders followed exactly as without the system (same draws); response > 0:
    more orders followed with the system than without it."""
    off = sc.simulate(scenario(), counterfactual=True)
    assert total(off, "orders") > 50
    assert total(off, "orders_complied") == total(off.counterfactual, "orders_complied")
    on = sc.simulate(
        scenario("organisations.institutions.compliance_response=3.0"), counterfactual=True
    )
    with_system = total(on, "orders_complied") / total(on, "orders")
    without = total(on.counterfactual, "orders_complied") / total(on.counterfactual, "orders")
    # threat (5 + 1) / 10 = 0.6: scored ones comply 1 - 0.4 x exp(-1.8) = 0.93, not 0.6;
    # party organs (half) are never scored, so the whole is about (0.93 + 0.6) / 2
    assert with_system > without + 0.1, (with_system, without)
    assert on.summary["organisations"]["orders_complied_share"] == pytest.approx(with_system)


# 2. New firms enter; regulators inspect within a capacity -----------------------------------


def test_firms_enter_in_a_surge_into_free_slots(everything):
    entered = series(everything, "firms_entered")
    day = np.arange(len(entered))  # 0-based: the metrics' day 1 is day 0
    assert entered[(day < 5) | (day >= 25)].sum() == 0  # none outside the surge
    # Poisson(4 a day) for 20 days: 80 expected, sd 9
    assert 50 < entered.sum() < 110, entered.sum()
    assert total(everything, "entries_blocked") == 0  # 80 free slots
    firms = series(everything, "firms") + series(everything, "firms_out")
    assert firms[-1] == 40 + entered.sum()
    register = everything.firms
    assert len(register) == firms[-1]  # free slots are not businesses
    founded = register["founded"]
    assert ((founded >= 5) & (founded < 25)).sum() == entered.sum()
    assert everything.summary["organisations"]["firms_entered"] == entered.sum()


def test_inspections_per_day_equal_the_capacity_when_it_binds(everything):
    """Every firm is due every day; each of the 5 regulators inspects exactly 2."""
    done, due = series(everything, "inspections"), series(everything, "inspections_due")
    assert (done == 10).all(), done
    assert (due >= 40).all()
    coverage = everything.summary["organisations"]["inspection_coverage"]
    assert coverage == pytest.approx(done.sum() / due.sum())


@pytest.mark.slow
def test_with_capacity_above_demand_every_due_inspection_happens_and_a_surge_outruns_a_cap():
    free = sc.simulate(scenario(ENTRY, "organisations.inspections.capacity=1000"))
    assert (series(free, "inspections") == series(free, "inspections_due")).all()
    assert total(free, "inspections") > 100
    rate = "organisations.inspections.rate=0.2"
    capped = sc.simulate(scenario(ENTRY, rate, "organisations.inspections.capacity=2"))
    calm = sc.simulate(scenario(rate, "organisations.inspections.capacity=2"))

    def coverage(r) -> float:
        return r.summary["organisations"]["inspection_coverage"]

    assert coverage(capped) < coverage(calm) - 0.1, (coverage(capped), coverage(calm))
    last = series(capped, "hidden_violations")[-1], series(calm, "hidden_violations")[-1]
    assert last[0] > last[1], last


# 3. Counterfeits exported -------------------------------------------------------------------


def test_export_share_splits_the_harm_between_home_and_abroad(everything):
    food = total(everything, "counterfeit_sales", "food")
    out = total(everything, "counterfeits_exported", "food")
    assert food > 100, food
    assert abs(out / food - 0.5) < 4 * np.sqrt(0.25 / food), (out, food)  # binomial
    assert total(everything, "counterfeits_exported", "clothing") == 0
    # food's counterfeits harm 2 prices each, abroad and at home
    abroad = total(everything, "harm_abroad")
    assert abroad == pytest.approx(out * 2.0 * PRICE, rel=1e-4)
    at_home = total(everything, "buyer_harm", "food")
    assert at_home == pytest.approx((food - out) * 2.0 * PRICE, rel=1e-4)
    assert everything.summary["organisations"]["harm_abroad"] == pytest.approx(abroad)


@pytest.mark.slow
def test_export_share_zero_gives_no_harm_abroad_and_the_old_harm_at_home():
    home = sc.simulate(scenario("days=30"))
    zero = sc.simulate(scenario("days=30", "organisations.sectors.0.export_share=0.0"))
    assert total(zero, "harm_abroad") == 0 and total(zero, "counterfeits_exported") == 0
    assert total(home, "buyer_harm") > 0
    assert total(zero, "buyer_harm") == total(home, "buyer_harm")


# Bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "where", "message"),
    [
        (
            "organisations.entry={max_per_1000_agents: 10}",
            "organisations.entry.max_per_1000_agents",
            "at least firms.per_1000_agents",
        ),
        (
            "organisations.entry={max_per_1000_agents: 50, surge: {start_day: 9, end_day: 9, "
            "per_1000_agents: 1}}",
            "organisations.entry.surge.end_day",
            "must end after it starts",
        ),
        ("organisations.inspections.capacity=-1", "organisations.inspections.capacity", ""),
    ],
)
def test_bad_firm_fields_are_reported_with_their_place(override, where, message):
    with pytest.raises(ScenarioError) as e:
        scenario(override)
    assert where in str(e.value) and message in str(e.value), str(e.value)
