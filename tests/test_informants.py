"""Informants: reports are paid, false reports target the minority, no informants means no
reports, and distrust chills speech and prayer."""

from __future__ import annotations

from metric_sums import last, total

import socialcredit as sc


def test_informants_report_are_paid_and_false_reports_target_the_minority(xinjiang):
    m, a = xinjiang.metrics, xinjiang.agents
    assert total(m, "records_by.informants") > 100
    # every report pays its informant two days later (the last two days' reports after the run)
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


def test_a_report_on_day_d_is_paid_on_day_d_plus_2():
    """The engine's order (engine/run.py): a report filed on day d is owed at the end of d
    (`owe`: reward_due), turned into each informant's pay at the end of d + 1 (`owe`:
    pay_informants, kept at the end of the day because a shifted copy fused into the day's
    record update was slow) and paid by `reward_today` at the start of d + 2. Reports are
    rare here (1,500 agents, 20 days: 13 reports, one of them false), so each day's payments
    are the reports of two days before, and not those of the day before."""
    r = sc.simulate(sc.load_scenario("xinjiang-informants", agents=1500, days=20, seed=1))
    m = r.metrics
    days = range(1, 21)
    reports = m[m["metric"] == "records_by.informants"].groupby("day")["value"].sum()
    paid = m[m["metric"] == "informant_rewards"].groupby("day")["value"].sum()
    reports, paid = reports.reindex(days, fill_value=0), paid.reindex(days, fill_value=0)
    assert reports.sum() >= 3 and paid.sum() >= 3
    assert paid[1] == paid[2] == 0
    assert all(paid[d] == reports[d - 2] for d in days if d >= 3)
    assert any(paid[d] != reports[d - 1] for d in days if d >= 2)  # not the next day
    # the credit files agree: each reward two days after a report the informants filed
    ev = r.events
    # false reports are paid too (the reward without the confirmation)
    kinds = ev["kind"].isin(["record", "false_record"])
    filed = set(ev.loc[kinds & (ev["channel"] == "informants"), "day"])
    rewarded = set(ev.loc[ev["kind"] == "informant_reward", "day"])
    assert rewarded and rewarded == {d + 2 for d in filed if d + 2 <= 20}


def _prayer_reports(overrides):
    """Informants' reports of prayer in a short, small run (false reports off, so every report
    is of an act), and the run."""
    r = sc.simulate(
        sc.load_scenario(
            "xinjiang-informants",
            ["informants.false_report_rate=0.0", *overrides],
            agents=2000,
            days=30,
        )
    )
    ev = r.events
    filed = ev[(ev["kind"] == "record") & (ev["channel"] == "informants")]
    return int((filed["behaviour"] == "public_prayer").sum()), r


def test_a_larger_reward_raises_reports_of_prayer():
    """The preset's informants follow the pay (`response.strategic_reporting` > 0): on the same
    seed, a larger bonus for reporting a minority's prayer brings more reports of prayer, and
    with no reward at all strategic reporting adds nothing (the same reports as without it)."""
    sc_ = sc.load_scenario("xinjiang-informants")
    assert sc_.response.strategic_reporting > 0
    bonus = "informants.targeted_rewards=[{behaviour: public_prayer, group: minority, points: %d}]"
    preset, _ = _prayer_reports([])
    larger, _ = _prayer_reports([bonus % 20])
    assert preset >= 5 and larger > 1.3 * preset, (preset, larger)
    unpaid = ["informants.reward_points=0", "informants.confirmed_points=0", bonus % 0]
    n_on, on = _prayer_reports(unpaid)
    n_off, off = _prayer_reports([*unpaid, "response.strategic_reporting=0.0"])
    assert n_on == n_off and n_on < preset, (n_on, n_off, preset)
    assert total(on.metrics, "records_by.informants") == total(off.metrics, "records_by.informants")
