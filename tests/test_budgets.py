"""Budgets per programme. Each test would fail if its mechanism were removed or miswired: the cap
on channel coverage, the stop (and the yearly restart) of rewards once the money is spent, the
cost of perks, and results that do not depend on chunking."""

from __future__ import annotations

import numpy as np
import pytest
from metric_sums import daily, total

import socialcredit as sc
from socialcredit.compile import compile_scenario

N = 20_000


COSTS = [f"channels.{k}.cost_per_year=10.0" for k in range(5)]  # rongcheng: 50 a year


def rongcheng(money: float, extra: list[str] | None = None, agents: int = N, days: int = 60):
    ov = COSTS + [
        f"programmes.rongcheng.budget={{per_resident_year: {money}}}",
        "response.model=fixed",
        "programmes.rongcheng.rewards=null",  # perks and channels only (counted: test_rewards)
    ]
    return sc.simulate(sc.load_scenario("rongcheng", ov + (extra or []), agents=agents, days=days))


XJ_MONEY = 0.05  # per resident-year: a few weeks of informant payments at 20,000 agents


@pytest.fixture(scope="module")
def capped():
    return xinjiang_budget(XJ_MONEY)


def xinjiang_budget(money: float | None, days: int = 120, agents: int = N):
    ov = ["economy.median_income=0.0001", "response.model=fixed"]
    if money is not None:
        ov.append(f"programmes.xinjiang.budget={{per_resident_year: {money}, point_cost: 1.0}}")
    return sc.simulate(sc.load_scenario("xinjiang-informants", ov, agents=agents, days=days))


def test_half_budget_halves_detection():
    full, half = rongcheng(50.0), rongcheng(25.0)
    det = {}
    for name, r in (("full", full), ("half", half)):
        m = r.metrics
        acts, recs = total(m, "acts.traffic_violation"), total(m, "records.traffic_violation")
        det[name] = (recs / acts, acts)
        # the money goes to channels, a year's worth per resident, and no more
        assert total(m, "budget_spend") / N * 365 / 60 == pytest.approx(
            50.0 if name == "full" else 25.0, rel=1e-4
        )
    for r, funded in ((half, 0.5), (full, 1.0)):
        assert set(r.metrics.loc[r.metrics["metric"] == "mean_coverage", "value"]) == {funded}
    (p_full, n_full), (p_half, n_half) = det["full"], det["half"]
    assert p_full == pytest.approx(0.5, abs=4 * np.sqrt(0.25 / n_full))  # coverage 0.5
    se = np.sqrt(p_half * (1 - p_half) / n_half + p_full * (1 - p_full) / n_full) / p_full
    assert abs(p_half / p_full - 0.5) < 4 * se, (p_half, p_full)


def test_perks_cost_what_they_say_and_stop_without_money():
    """With money left, a perk costs its income effect times the median income per day;
    with none left (the budget exactly pays the channels), perks are withheld and the
    perk-holders' wealth no longer grows by them."""
    income = ["economy.median_income=36500.0"]
    ample = rongcheng(1000.0, income)
    none = rongcheng(50.0, income)
    m = ample.metrics
    perks = (daily(m, "tier.AAA") * 0.01 + daily(m, "tier.AA") * 0.005) * 100.0  # 36500/365
    assert np.allclose(daily(m, "reward_spend"), perks, rtol=1e-4)
    assert total(m, "rewards_withheld") == 0 and total(m, "reward_spend") > 0
    n = none.metrics
    assert total(n, "reward_spend") == 0
    # every agent in a perk tier is withheld its perk every day
    entitled = daily(n, "tier.AAA") + daily(n, "tier.AA")
    assert (daily(n, "rewards_withheld") == entitled).all() and entitled.sum() > 0
    top = ample.agents["tier"].isin(["AAA", "AA"]).to_numpy()
    assert (none.agents["wealth"].to_numpy()[top] < ample.agents["wealth"].to_numpy()[top]).all()


def test_informant_rewards_stop_when_the_money_is_spent(capped):
    m = capped.metrics
    spend = daily(m, "reward_spend").cumsum()
    money = XJ_MONEY * N
    spent_day = int(spend[spend >= money].index.min())  # the day the year's money ran out
    assert 10 < spent_day < 90
    paid = daily(m, "informant_rewards")
    assert paid[paid.index < spent_day].sum() > 100
    # from the day after, nobody is paid; rewards due are withheld instead
    assert paid[paid.index > spent_day + 1].sum() == 0
    assert daily(m, "rewards_withheld")[lambda s: s.index > spent_day + 1].sum() > 100
    # spending overshoots by at most one day of payments
    assert spend.iloc[-1] <= money + daily(m, "reward_spend").max()
    # the same society without the cap keeps paying
    free = xinjiang_budget(None).metrics
    assert daily(free, "informant_rewards")[lambda s: s.index > spent_day + 1].sum() > 100
    assert "rewards_withheld" not in set(free["metric"])


def test_rewards_resume_when_the_year_turns():
    r = xinjiang_budget(XJ_MONEY / 4, days=400, agents=10_000)
    paid = daily(r.metrics, "informant_rewards")
    assert paid[(paid.index > 200) & (paid.index <= 365)].sum() == 0
    assert paid[paid.index > 366].sum() > 0


@pytest.mark.slow  # heavy (20 s in CI); test_budgets' other tests keep the budget's known answers
def test_ample_budget_changes_nothing():
    """Money for everything and channels that cost nothing: the same run, number for number."""
    base = sc.load_scenario("xinjiang-informants", agents=4000, days=40)
    rich = sc.load_scenario(
        "xinjiang-informants",
        ["programmes.xinjiang.budget={per_resident_year: 1000000000.0, point_cost: 1.0}"],
        agents=4000,
        days=40,
    )
    a, b = sc.simulate(base), sc.simulate(rich)
    extra = {"budget_spend", "reward_spend", "rewards_withheld", "mean_coverage"}
    mb = b.metrics[~b.metrics["metric"].isin(extra)].reset_index(drop=True)
    assert mb.equals(a.metrics)
    assert b.agents.equals(a.agents)
    assert total(b.metrics, "reward_spend") > 0


def test_budget_tables_compile():
    s = sc.load_scenario(
        "rongcheng",
        COSTS + ["programmes.rongcheng.budget={per_resident_year: 60.0, point_cost: 2.0}"],
        agents=1000,
        days=1,
    )
    spec, p = compile_scenario(s)
    assert spec.budgets is not None
    assert float(p.budgets.coverage_scale[0]) == 1.0
    assert float(p.budgets.reward_budget[0]) == pytest.approx(10.0)
    assert float(p.budgets.channel_spend[0]) == pytest.approx(50.0 / 365)
    assert float(p.budgets.point_cost[0]) == 2.0
    rongcheng = compile_scenario(sc.load_scenario("rongcheng", agents=1000, days=1))
    assert rongcheng[0].budgets is None and rongcheng[1].budgets is None


@pytest.mark.slow  # heavy (18 s); test_engine keeps the default suite's chunk-invariance check
def test_budget_runs_do_not_depend_on_chunks():
    s = sc.load_scenario(
        "xinjiang-informants",
        ["programmes.xinjiang.budget={per_resident_year: 0.02, point_cost: 1.0}"],
        agents=3000,
        days=30,
    )
    a, b = sc.simulate(s), sc.simulate(s, chunk_days=7)
    assert a.metrics.equals(b.metrics) and a.agents.equals(b.agents)
    assert total(a.metrics, "rewards_withheld") > 0
