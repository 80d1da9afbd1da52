"""Organisations: businesses, institutions, the market and corporate credit. Each test would
fail if its mechanism were removed or miswired; runs are small (a few thousand citizens)."""

from __future__ import annotations

import numpy as np
import pytest

import socialcredit as sc
from socialcredit.api import counterfactual_of
from socialcredit.scenario import ScenarioError
from socialcredit.scenario.loader import parse_scenario

# A small economy with one list (counterfeits found by inspection, publicly listed) and a
# second list (tax evasion). Fines, bribes, B2B refusals and other material sanctions are off,
# so ratings can change the market only through buyers who use them.
BASE = """\
metadata: {name: orgs-test, description: "A small economy for tests."}
population:
  agents: 4000
  groups: [{name: majority, share: 1.0}]
jurisdictions: [{name: town, share: 1.0, programme: null}]
behaviours: [{name: littering, base_rate: 0.001}]
days: 150
organisations:
  sectors:
    - {name: food, share: 0.5, demand: 0.5, counterfeit_rate: 0.1, harm: 2.0}
    - {name: clothing, share: 0.5, demand: 0.5, counterfeit_rate: 0.1, harm: 1.0}
  firms: {per_1000_agents: 40.0, honest_share: 0.5, bribe_propensity: 0.0}
  market: {purchase_rate: 0.1, firms_use_ratings: false, loan_approval: 1.0}
  institutions: {count: 10, party_organ_share: 0.5, deterrence: 3.0}
  inspections: {rate: 0.05, detection: 0.8, fine: 0.0, false_positive_rate: 0.02}
  corporate:
    base_score: 80
    score_sigma: 0.0
    grades:
      - {name: A, min: 90}
      - {name: B, min: 70}
      - {name: C, min: 40}
      - {name: D, min: null}
    buyer_min_grade: B
    rules:
      - {act: counterfeit, points: -30}
      - {act: tax_evasion, points: -20}
      - {act: default, points: -10}
    lists:
      - {name: market, acts: [counterfeit], term_days: 365, sanctions: [public_listing]}
      - {name: tax, acts: [tax_evasion], term_days: 365, sanctions: []}
"""


def scenario(*overrides: str, **kw) -> sc.scenario.Scenario:
    return parse_scenario(BASE, "orgs-test.yaml", list(overrides), **kw)


def org_total(result, metric: str, sector: str | None = None) -> float:
    m = result.org_metrics
    q = m[m["metric"] == metric]
    if sector is not None:
        q = q[q["sector"] == sector]
    return float(q["value"].sum())


def cf_rate(result) -> float:
    return org_total(result, "counterfeit_sales") / org_total(result, "purchases")


@pytest.fixture(scope="module")
def with_ratings():
    return sc.simulate(scenario(), counterfactual=True)


def test_counterfeits_fall_where_buyers_use_ratings(with_ratings):
    """Inspections find counterfeiters, the rating lists them, buyers avoid them."""
    none = cf_rate(with_ratings.counterfactual)
    assert none > 0.02, none
    assert cf_rate(with_ratings) < 0.75 * none, (cf_rate(with_ratings), none)
    # buyers refuse fewer purchases: the market is trusted more
    trust = org_total(with_ratings, "purchases") / org_total(with_ratings, "purchases_wanted")
    cf = with_ratings.counterfactual
    assert trust > org_total(cf, "purchases") / org_total(cf, "purchases_wanted")


def test_counterfeits_do_not_fall_where_buyers_ignore_ratings(with_ratings):
    ignore = sc.simulate(scenario("organisations.market.buyers_use_ratings=false"))
    none = cf_rate(with_ratings.counterfactual)
    assert cf_rate(ignore) >= 0.97 * none, (cf_rate(ignore), none)
    assert org_total(ignore, "violations_found") > 0  # inspections ran and found counterfeits


def test_counterfactual_keeps_the_market_and_drops_the_system(with_ratings):
    s = counterfactual_of(scenario())
    assert s.organisations.market == scenario().organisations.market
    assert s.organisations.inspections is None and s.organisations.corporate is None
    cf = with_ratings.counterfactual
    assert org_total(cf, "purchases") > 0 and org_total(cf, "inspections") == 0
    assert "grade.A" not in set(cf.org_metrics["metric"])


def _memo_run(memoranda: str):
    s = scenario(
        f"organisations.corporate.memoranda={memoranda}",
        "organisations.firms.tax_evasion_rate=0.02",
    )
    return sc.simulate(s).firms


def test_a_listing_is_sanctioned_in_another_sector_only_under_a_memorandum():
    excl = "sanction_procurement_exclusion"
    none = _memo_run("[]")
    assert none["listed_market"].sum() > 0 and none["listed_tax"].sum() > 0
    assert not none[excl].any()  # neither list's own sector excludes from procurement
    one_way = _memo_run("[{listing: market, sanctioning: tax, sanctions: [procurement_exclusion]}]")
    assert one_way["listed_market"].sum() > 0
    pd_equal = (one_way[excl] == one_way["listed_market"]).all()
    assert pd_equal  # exactly the firms on the listing sector's list
    assert (one_way["memo_sanctioned"] == one_way["listed_market"]).all()
    only_tax = one_way["listed_tax"] & ~one_way["listed_market"]
    assert only_tax.any() and not one_way.loc[only_tax, excl].any()  # not the other direction


def test_party_organs_are_never_scored():
    import jax

    from socialcredit.compile import compile_scenario
    from socialcredit.engine.run import simulate_arrays

    s = scenario("organisations.corporate.rules.2={act: compliance, points: 1}")
    spec, params = compile_scenario(s)
    state, *_ = simulate_arrays(spec, params, jax.random.key(0))
    raw = np.asarray(state.orgs.inst.raw)
    party = np.asarray(state.orgs.inst.party)
    assert party.sum() == 5
    assert (raw[party] == 0).all()
    assert (raw[~party] > 0).all()  # the others earned points for following orders


def test_party_organs_default_more_where_others_are_deterred():
    r = sc.simulate(scenario())
    m = r.org_metrics
    party = org_total(r, "party_defaults") / 5
    scored = (org_total(r, "inst_defaults") - org_total(r, "party_defaults")) / 5
    assert scored < 0.6 * party, (scored, party)  # deterrence exp(-3 x 10 / 10)
    assert (m[m["metric"] == "mean_inst_score"]["value"].iloc[-1]) < 80


def test_owner_sanction_reaches_the_citizen():
    lists = (
        "organisations.corporate.lists=[{name: market, acts: [counterfeit], term_days: 365, "
        "sanctions: [public_listing, owner_sanction]}]"
    )
    ban = sc.simulate(scenario(lists))
    owners = ban.firms.loc[ban.firms["sanction_owner_sanction"], "owner"]
    assert len(owners) > 0
    assert org_total(ban, "owners_sanctioned") > 0
    blocked = float(ban.metrics.query("metric == 'trips_blocked'")["value"].sum())
    assert blocked > 0  # no citizen programme runs: every blocked trip is an owner's
    off = sc.simulate(
        scenario(
            lists, "organisations.corporate.owner_sanction={travel_ban: false, loan_approval: 0.0}"
        )
    )
    assert float(off.metrics.query("metric == 'trips_blocked'")["value"].sum()) == 0


def test_run_folder_holds_org_tables(tmp_path):
    r = sc.simulate(scenario())
    path = r.save(tmp_path)
    assert (path / "org_metrics.parquet").is_file() and (path / "firms.parquet").is_file()
    back = sc.open_run(path)
    assert back.org_metrics.reset_index(drop=True).equals(r.org_metrics.reset_index(drop=True))
    assert len(back.firms) == len(r.firms) == 160
    assert set(back.org_metrics["sector"]) == {"food", "clothing", "institutions"}
    assert "organisations" in back.summary


@pytest.mark.slow  # ~25 s; `make test-slow`; test_engine checks chunking in the default suite
def test_same_seed_same_result_whatever_the_chunk():
    s = scenario(days=25)
    a = sc.simulate(s)
    b = sc.simulate(s, chunk_days=7)
    assert a.org_metrics.equals(b.org_metrics)
    assert a.firms.equals(b.firms)
    c = sc.simulate(s.model_copy(update={"seed": 1}))
    assert not a.org_metrics.equals(c.org_metrics)


def test_scenarios_without_organisations_carry_none():
    r = sc.simulate(sc.load_scenario("rongcheng", agents=2000, days=3))
    assert r.org_metrics is None and r.firms is None and "organisations" not in r.summary


@pytest.mark.parametrize(
    "override, where, message",
    [
        (
            "organisations.corporate.memoranda=[{listing: taxes, sanctioning: market, "
            "sanctions: [loan_refusal]}]",
            "organisations.corporate.memoranda.0.listing = 'taxes'",
            "unknown list 'taxes'",
        ),
        ("organisations.sectors.0.share=0.7", "organisations.sectors", "sector shares sum to 1.2"),
        ("organisations.corporate.buyer_min_grade=E", "buyer_min_grade = 'E'", "unknown grade"),
        ("organisations.corporate.rules.0.act=fraud", "rules.0.act = 'fraud'", "counterfeit"),
    ],
)
def test_bad_org_fields_are_reported_with_their_place(override, where, message):
    with pytest.raises(ScenarioError) as e:
        scenario(override)
    text = str(e.value)
    assert where in text and message in text, text


def test_bad_org_field_in_a_file_gives_its_line():
    bad = BASE.replace("buyer_min_grade: B", "buyer_min_grade: Z")
    line = bad.splitlines().index("    buyer_min_grade: Z") + 1
    with pytest.raises(ScenarioError) as e:
        parse_scenario(bad, "bad.yaml")
    assert f"bad.yaml:{line}: organisations.corporate.buyer_min_grade = 'Z'" in str(e.value)


def test_bribes_buy_lenient_inspections():
    """Corrupt inspectors take bribes and find fewer violations; clean ones take none."""
    bribing = [
        "organisations.firms.bribe_propensity=1.0",
        "organisations.institutions.deterrence=0.0",
    ]
    clean = sc.simulate(scenario(*bribing, "organisations.institutions.corruption=0.0"))
    corrupt = sc.simulate(scenario(*bribing, "organisations.institutions.corruption=0.5"))
    assert org_total(clean, "bribes_offered") > 0 and org_total(clean, "bribes_accepted") == 0
    assert org_total(corrupt, "bribes_accepted") > 0
    assert org_total(corrupt, "bribes_taken", "institutions") == org_total(
        corrupt, "bribes_accepted"
    )
    found = org_total(corrupt, "violations_found") / org_total(corrupt, "inspections")
    assert found < org_total(clean, "violations_found") / org_total(clean, "inspections")


def _honest_scores(rule: str):
    s = scenario(
        "organisations.inspections.false_positive_rate=0.0",
        f"organisations.corporate.rules=[{{act: counterfeit, points: -30}}, {rule}]",
    )
    f = sc.simulate(s).firms
    return f.loc[f["honest"], "score"]


def test_the_context_of_an_act_is_the_partners_standing():
    """Honest firms lose points only through the rule on trading, and only as often as they
    trade with partners of the standing the rule names."""
    none = _honest_scores("{act: tax_evasion, points: -20}")
    assert (none == 80).all()
    listed = _honest_scores("{act: trade, context: listed, points: -5}")
    good = _honest_scores("{act: trade, context: good, points: -5}")
    assert 0 < (listed < 80).sum() < (good < 80).sum()


def test_sanctions_on_firms_bite_only_where_a_list_applies_them():
    """Loan refusal drives listed firms out; the sanction `inspections` inspects them more."""

    def run(sanctions: str):
        lists = (
            "organisations.corporate.lists=[{name: market, acts: [counterfeit], "
            f"term_days: 365, sanctions: {sanctions}}}, {{name: tax, acts: [tax_evasion]}}]"
        )
        # firms run short of cash, so loans matter
        return sc.simulate(scenario(lists, "organisations.market.fixed_cost=1.5"))

    plain = run("[public_listing]")
    refusing = run("[public_listing, loan_refusal]")
    watched = run("[public_listing, inspections]")
    assert org_total(plain, "loans_refused") == 0  # banks lend to everyone (loan_approval 1)
    assert org_total(refusing, "loans_refused") > 0
    assert refusing.summary["organisations"]["firms_out_share"] > 0
    assert plain.summary["organisations"]["firms_out_share"] == 0
    assert org_total(watched, "inspections") > org_total(plain, "inspections")


def test_institutions_acts_cannot_list_firms():
    with pytest.raises(ScenarioError) as e:
        scenario("organisations.corporate.lists.0.acts=[default]")
    assert "lists.0.acts.0 = 'default'" in str(e.value) and "act of institutions" in str(e.value)


def test_institutions_pay_back_their_arrears():
    def arrears(rate: float) -> float:
        r = sc.simulate(scenario(f"organisations.institutions.repayment={rate}"))
        m = r.org_metrics
        return float(m[(m["metric"] == "arrears") & (m["day"] == m["day"].max())]["value"].sum())

    kept, repaid = arrears(0.0), arrears(0.05)
    assert kept > 0 and repaid < 0.5 * kept, (kept, repaid)
