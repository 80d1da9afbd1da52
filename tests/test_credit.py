"""Credit files: the sampled event log agrees with the metrics and the final scores."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import socialcredit as sc
from socialcredit.cli import app
from socialcredit.results.credit import SAMPLE_MAX, credit_file, credit_sample

N, DAYS = 4000, 150


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    # records that matter: higher misconduct rates, a programme that lists agents quickly
    scen = sc.load_scenario(
        "rongcheng",
        [
            "behaviours.6.base_rate=0.02",  # traffic violations
            "channels.0.false_positive_rate=0.001",
            "programmes.rongcheng.record_expiry_days=100",
            "programmes.rongcheng.expiry_resolution_days=20",
            # A 1000-1029, B 997-999, C 996, D <= 995 (listed): one traffic ticket lists you
            "programmes.rongcheng.tiers.2.min=1000",
            "programmes.rongcheng.tiers.3.min=997",
            "programmes.rongcheng.tiers.3.max=999",
            "programmes.rongcheng.tiers.4.min=996",
            "programmes.rongcheng.tiers.4.max=996",
            "programmes.rongcheng.tiers.5.max=995",
            "programmes.rongcheng.blacklist.term_days=30",
        ],
        agents=N,
        days=DAYS,
    )
    return sc.simulate(scen)


def total(metrics, name):
    return metrics.loc[metrics["metric"] == name, "value"].sum()


def test_small_run_keeps_everyone():
    assert len(credit_sample(N)) == N
    big = credit_sample(10 * SAMPLE_MAX + 7)
    assert len(big) <= SAMPLE_MAX and big[0] == 0 and (np.diff(big) == big[1] - big[0]).all()


def test_event_counts_equal_metrics(run):
    ev, m = run.events, run.metrics
    records = sum(total(m, f"records.{b.name}") for b in run.scenario.behaviours)
    assert records > 100
    assert (ev["kind"].isin(["record", "false_record"])).sum() == records
    assert (ev["kind"] == "false_record").sum() == total(m, "false_records") > 0
    assert (ev["kind"] == "loan_refused").sum() == total(m, "loans_refused")
    for kind, metric in [
        ("listed", "newly_listed"),
        ("delisted", "delisted"),
        ("tier_up", "tier_up"),
        ("tier_down", "tier_down"),
    ]:
        assert (ev["kind"] == kind).sum() == total(m, metric), kind
    assert total(m, "newly_listed") > 0


def test_final_scores_follow_from_the_records(run):
    """base + points of the records still counting after the last day = snapshot score."""
    p = run.scenario.programmes["rongcheng"]
    recs = run.events[run.events["kind"].isin(["record", "false_record"])]
    active = recs[recs["expires_day"] > DAYS]
    raw = active.groupby("agent")["points"].sum().reindex(range(N), fill_value=0).to_numpy()
    expected = np.clip(p.base_score + raw, *p.bounds)
    assert (run.agents["score"].to_numpy() == expected).all()


def test_credit_file_and_explain(run, tmp_path):
    path = run.save(tmp_path)
    again = sc.open_run(path)
    assert len(again.events) == len(run.events)
    agent = int(run.events.loc[run.events["kind"] == "false_record", "agent"].iloc[0])
    facts, ev = credit_file(again, agent)
    assert facts["score"] == int(run.agents["score"].iloc[agent])
    assert (ev["kind"] == "false_record").any()
    res = CliRunner().invoke(app, ["explain", str(path), "--agent", str(agent)])
    assert res.exit_code == 0, res.output
    assert f"Credit file of agent {agent}" in res.output and "FALSE" in res.output
    bad = CliRunner().invoke(app, ["explain", str(path), "--agent", str(N + 5)])
    assert bad.exit_code == 2
