"""Informants: reports are paid, false reports target the minority, no informants means no
reports, and distrust chills speech and prayer."""

from __future__ import annotations

from metric_sums import last, total

import socialcredit as sc


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
