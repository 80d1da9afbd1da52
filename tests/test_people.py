"""Mechanisms that touch citizens: dispositions, group rates, households and schools,
informants and their rewards, trust and the chilling effect. Each test would fail if its
mechanism were removed or miswired."""

from __future__ import annotations

import numpy as np
import pytest

import socialcredit as sc

N, DAYS = 20_000, 150


def total(metrics, name, group=None):
    q = metrics[metrics["metric"] == name]
    if group is not None:
        q = q[q["group"] == group]
    return float(q["value"].sum())


def last(metrics, name, group=None):
    q = metrics[(metrics["metric"] == name) & (metrics["day"] == metrics["day"].max())]
    if group is not None:
        q = q[q["group"] == group]
    return float(q["value"].sum())


def rate(metrics, name, group):
    """Events per agent-day in a group."""
    return total(metrics, name, group) / total(metrics, "agents", group)


@pytest.fixture(scope="module")
def xinjiang():
    return sc.simulate(
        sc.load_scenario("xinjiang-informants", agents=N, days=DAYS), counterfactual=True
    )


def test_minority_carries_the_sanctions(xinjiang):
    m = xinjiang.metrics
    ratio = rate(m, "sanctioned", "minority") / rate(m, "sanctioned", "majority")
    assert ratio > 1.5, ratio
    s = xinjiang.summary["jurisdictions"]["prefecture"]["mean_score_by_group"]
    assert s["minority"] < s["majority"]


def test_without_the_targeted_programme_groups_are_sanctioned_alike():
    """Prayer unscored and not informed on, no false reports, no group difference in rates:
    minority and majority sanction rates agree within noise."""
    ov = [
        "programmes.xinjiang.points.public_prayer=0",
        "informants.coverage.public_prayer=0",
        "informants.false_report_rate=0",
        "informants.targeted_rewards=[]",
        "population.groups.1.wealth_factor=1.0",
        "response.model=fixed",
    ]
    r = sc.simulate(sc.load_scenario("xinjiang-informants", ov, agents=N, days=DAYS))
    m = r.metrics
    a, b = rate(m, "sanctioned", "minority"), rate(m, "sanctioned", "majority")
    n_min, n_maj = total(m, "agents", "minority"), total(m, "agents", "majority")
    se = np.sqrt(a / n_min + b / n_maj) * 3  # counts per agent-day are near Poisson; agents repeat
    assert abs(a - b) < 4 * se + 0.15 * max(a, b), (a, b)


def test_group_rate_factor_multiplies_the_base_rate(xinjiang):
    cf = xinjiang.counterfactual.metrics  # no system: rates untouched by deterrence
    ratio = rate(cf, "acts.public_prayer", "minority") / rate(cf, "acts.public_prayer", "majority")
    assert 6.5 < ratio < 9.5, ratio  # rate_factors: public_prayer x 8


def test_informants_report_are_paid_and_false_reports_target_the_minority(xinjiang):
    m, a = xinjiang.metrics, xinjiang.agents
    assert total(m, "records_by.informants") > 100
    # every report pays its informant the next day (reports on the last day are paid after it)
    assert (
        0.9 * total(m, "records_by.informants")
        <= total(m, "informant_rewards")
        <= total(m, "records_by.informants")
    )
    assert total(m, "false_reports", "minority") > 0 and total(m, "false_reports", "majority") == 0
    # informants come only from the eligible group, at about the documented share
    inf = a[a["informant"]]
    assert set(inf["group"].astype(str)) == {"majority"}
    share = len(inf) / (a["group"] == "majority").sum()
    assert 0.04 < share < 0.06
    # paid informants score higher than other majority members
    maj = a[a["group"] == "majority"]
    assert maj[maj["informant"]]["score"].mean() > maj[~maj["informant"]]["score"].mean()


def test_no_informants_no_reports():
    r = sc.simulate(
        sc.load_scenario("xinjiang-informants", ["informants.share=0"], agents=5000, days=60)
    )
    assert total(r.metrics, "records_by.informants") == 0
    assert total(r.metrics, "informant_rewards") == 0


def test_chilling_effect_on_speech_and_prayer(xinjiang):
    m, cf = xinjiang.metrics, xinjiang.counterfactual.metrics
    for b in ("criticise_government", "public_prayer"):
        assert total(m, f"acts.{b}") < 0.9 * total(cf, f"acts.{b}"), b
    # trust falls where contacts are reported (it stays at its initial value without informants)
    assert last(m, "mean_trust", "minority") < xinjiang.scenario.trust.initial


def test_children_inherit_their_parents_standing():
    harsh = [
        "programmes.xinjiang.tiers.0.min=1000",
        "programmes.xinjiang.tiers.1.min=999",
        "programmes.xinjiang.tiers.1.max=999",
        "programmes.xinjiang.tiers.2.min=998",
        "programmes.xinjiang.tiers.2.max=998",
        "programmes.xinjiang.tiers.3.max=997",
    ]
    on = sc.simulate(sc.load_scenario("xinjiang-informants", harsh, agents=N, days=90))
    off = sc.simulate(
        sc.load_scenario(
            "xinjiang-informants",
            harsh
            + [
                f"programmes.xinjiang.consequences.{t}.school_block=false"
                for t in ("C", "D", "listed")
            ],
            agents=N,
            days=90,
        )
    )
    assert total(on.metrics, "children_excluded") > 20
    assert total(off.metrics, "children_excluded") == 0
    assert total(on.metrics, "school_applications") == total(off.metrics, "school_applications") > 0


def test_households_match_their_shares(xinjiang):
    a = xinjiang.agents
    hh = sc.load_scenario("xinjiang-informants").population.households
    partners = (a["partner_of"] >= 0).sum()
    heads = len(a) - partners
    assert abs(partners / heads - hh.partner_share) < 0.03
    kids = a.loc[a["partner_of"] < 0, "children"].value_counts(normalize=True).sort_index()
    assert np.allclose(kids.to_numpy(), hh.children, atol=0.02)
    # a partner belongs to the same group as the head
    p = a[a["partner_of"] >= 0]
    assert (a["group"].to_numpy()[p["partner_of"]] == p["group"].to_numpy()).all()


def test_dispositions_have_mean_one_and_drive_rates(xinjiang):
    a = xinjiang.agents
    assert abs(a["political"].mean() - 1) < 0.05 and a["political"].std() > 0.5
    assert abs(a["religiosity"].mean() - 1) < 0.05
    # criticism is driven by the political disposition: those recorded criticising are
    # size-biased towards high values (E[p^2]/E[p] = exp(sigma^2) = e for sigma = 1) ...
    ev = xinjiang.events
    critics = ev.loc[
        (ev["kind"] == "record") & (ev["behaviour"] == "criticise_government"), "agent"
    ]
    assert len(critics) > 100
    assert a["political"].to_numpy()[critics].mean() > 1.6
    # ... while jaywalking is not
    walkers = ev.loc[(ev["kind"] == "record") & (ev["behaviour"] == "jaywalking"), "agent"]
    assert abs(a["political"].to_numpy()[walkers].mean() - 1) < 0.15
    no_spread = sc.simulate(
        sc.load_scenario(
            "xinjiang-informants",
            ["population.political_sigma=0", "population.religiosity_sigma=0"],
            agents=2000,
            days=5,
        )
    )
    assert (no_spread.agents["political"] == 1).all()


def test_matching_penalty_costs_the_share_it_says():
    """Every tier penalised by p: lost matches / attempts = success * p, within noise."""
    p, success = 0.4, 0.5
    tiers = ("A", "B", "C", "D", "listed")
    ov = [f"programmes.xinjiang.consequences.{t}.matching_penalty={p}" for t in tiers]
    ov += ["economy.match_demand=0.02", f"economy.match_success={success}", "response.model=fixed"]
    r = sc.simulate(sc.load_scenario("xinjiang-informants", ov, agents=N, days=60))
    attempts, lost = total(r.metrics, "match_attempts"), total(r.metrics, "matches_lost")
    expected = success * p
    se = np.sqrt(expected * (1 - expected) / attempts)
    assert attempts > 10_000
    assert abs(lost / attempts - expected) < 4 * se


def test_public_shaming_makes_contacts_shun():
    """Shamed agents (tier B on posters) lose matches at success * shunning; nobody else does."""
    ov = [
        "programmes.xinjiang.consequences.B.public_shaming=true",
        "economy.match_demand=0.02",
        "economy.shunning=0.6",
        "response.model=fixed",
    ]
    r = sc.simulate(sc.load_scenario("xinjiang-informants", ov, agents=N, days=90))
    ev = r.events
    assert total(r.metrics, "shamed") > 0
    lost = ev[ev["kind"] == "match_lost"]
    assert len(lost) > 0
    # every lost match belongs to someone shamed that day: their score was in tier B (900-999)
    assert ((lost["score"] >= 900) & (lost["score"] <= 999)).all()
    off = sc.simulate(sc.load_scenario("xinjiang-informants", ov[1:], agents=N, days=90))
    assert total(off.metrics, "shamed") == 0 and total(off.metrics, "matches_lost") == 0


def test_upheld_appeals_remove_false_records_exactly():
    """Appeals decided the next day and always upheld: no false record counts at the end, and
    each final score is the base plus the true records still counting."""
    ov = [
        "channels.0.false_positive_rate=0.001",
        "programmes.xinjiang.appeals={upheld: 1.0, delay_days: 1.0}",
        "response.model=fixed",
        "informants.share=0",  # informants' rewards would add points that are not records
    ]
    r = sc.simulate(sc.load_scenario("xinjiang-informants", ov, agents=8000, days=60))
    ev = r.events
    false = ev[ev["kind"] == "false_record"]
    assert len(false) > 50
    upheld = ev[ev["kind"] == "appeal_upheld"]
    # every false record but those of the last day was appealed successfully the next day
    assert len(upheld) >= (false["day"] < 60).sum() - 5
    p = r.scenario.programmes["xinjiang"]
    true = ev[(ev["kind"] == "record") & (ev["expires_day"] > 60)]
    last_day_false = false[false["day"] == 60]
    raw = (
        true.groupby("agent")["points"]
        .sum()
        .add(last_day_false.groupby("agent")["points"].sum(), fill_value=0)
    )
    raw = raw.reindex(range(8000), fill_value=0).to_numpy()
    assert (r.agents["score"].to_numpy() == np.clip(p.base_score + raw, *p.bounds)).all()


def test_appeals_cut_mistaken_sanctions():
    base = ["channels.0.false_positive_rate=0.001", "response.model=fixed"]
    no = sc.simulate(sc.load_scenario("xinjiang-informants", base, agents=N, days=90))
    yes = sc.simulate(
        sc.load_scenario(
            "xinjiang-informants",
            base + ["programmes.xinjiang.appeals={upheld: 0.8, delay_days: 10.0}"],
            agents=N,
            days=90,
        )
    )
    assert total(yes.metrics, "appeals_upheld") > 0 and total(no.metrics, "appeals_upheld") == 0
    # sanctions on the day of a false record cannot be appealed in time; later ones can
    assert total(yes.metrics, "sanctioned_false") < 0.95 * total(no.metrics, "sanctioned_false")
