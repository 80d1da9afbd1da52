"""Budgets per programme and interpersonal trust. Each test would fail if its mechanism were
removed or miswired: the cap on channel coverage, the stop (and the yearly restart) of rewards
once the money is spent, the cost of perks, and trust's response to informants, sanctions
and shaming."""

from __future__ import annotations

import numpy as np
import pytest

import socialcredit as sc
from socialcredit.compile import compile_scenario

N = 20_000
COSTS = [f"channels.{k}.cost_per_year=10.0" for k in range(5)]  # rongcheng: 50 a year


def total(metrics, name):
    return float(metrics.loc[metrics["metric"] == name, "value"].sum())


def daily(metrics, name):
    return metrics[metrics["metric"] == name].groupby("day")["value"].sum()


def rongcheng(money: float, extra: list[str] | None = None, agents: int = N, days: int = 60):
    ov = COSTS + [
        f"programmes.rongcheng.budget={{per_resident_year: {money}}}",
        "response.model=fixed",
    ]
    return sc.simulate(sc.load_scenario("rongcheng", ov + (extra or []), agents=agents, days=days))


# ----------------------------------------------------------------------------- budgets


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


XJ_MONEY = 0.05  # per resident-year: a few weeks of informant payments at 20,000 agents


def xinjiang(money: float | None, days: int = 120, agents: int = N):
    ov = ["economy.median_income=0.0001", "response.model=fixed"]
    if money is not None:
        ov.append(f"programmes.xinjiang.budget={{per_resident_year: {money}, point_cost: 1.0}}")
    return sc.simulate(sc.load_scenario("xinjiang-informants", ov, agents=agents, days=days))


@pytest.fixture(scope="module")
def capped():
    return xinjiang(XJ_MONEY)


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
    free = xinjiang(None).metrics
    assert daily(free, "informant_rewards")[lambda s: s.index > spent_day + 1].sum() > 100
    assert "rewards_withheld" not in set(free["metric"])


def test_rewards_resume_when_the_year_turns():
    r = xinjiang(XJ_MONEY / 4, days=400, agents=10_000)
    paid = daily(r.metrics, "informant_rewards")
    assert paid[(paid.index > 200) & (paid.index <= 365)].sum() == 0
    assert paid[paid.index > 366].sum() > 0


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


# ----------------------------------------------------------------------------- trust


def informant_contacts(agents, spec) -> np.ndarray:
    flag = agents["informant"].to_numpy().astype(int)
    flag = np.concatenate([flag, np.zeros(spec.padded - len(flag), int)])
    k = sum(np.roll(flag, -o) for o in spec.contact_offsets)
    return k[: len(agents)]


def test_trust_baseline_falls_with_informants_among_contacts():
    """No shocks and instant recovery: each agent's trust is its baseline,
    initial * (1 - min(1, weight * share of contacts who inform)), to float16 rounding."""
    ov = [
        "trust.learning_rate=1.0",
        "trust.report_shock=0",
        "trust.sanction_shock=0",
        "trust.shaming_shock=0",
        "trust.informant_weight=4.0",
        "informants.share=0.1",
    ]
    s = sc.load_scenario("informant-state", ov, agents=5000, days=10)
    r = sc.simulate(s)
    spec, _ = compile_scenario(s)
    k = informant_contacts(r.agents, spec)
    expected = 0.7 * (1 - np.minimum(1, 4.0 * k / len(spec.contact_offsets)))
    assert np.allclose(r.agents["trust"], expected, atol=1e-3)
    assert k.max() >= 2 and (k == 0).sum() > 100


def test_trust_falls_with_informant_density():
    def mean_trust(share):
        s = sc.load_scenario("informant-state", [f"informants.share={share}"], agents=N, days=120)
        return sc.simulate(s).agents["trust"].mean()

    low, high = mean_trust(0.01), mean_trust(0.05)
    assert high < low - 0.05 and low < 0.69, (low, high)


def test_trust_stays_without_informants_or_sanctions():
    ov = ["informants.share=0", "jurisdictions.0.programme=null"]
    r = sc.simulate(sc.load_scenario("informant-state", ov, agents=5000, days=60))
    assert (r.agents["trust"] == np.float32(np.float16(0.7))).all()


def test_trust_falls_with_sanctions_and_shaming_of_contacts():
    ov = ["informants.share=0", "trust.report_shock=0", "response.model=fixed"]
    shame = ["programmes.xinjiang.consequences.B.public_shaming=true"]

    def mean(extra):
        s = sc.load_scenario("xinjiang-informants", ov + extra, agents=N, days=90)
        return sc.simulate(s).agents["trust"].mean()

    calm = mean(["trust.sanction_shock=0", "trust.shaming_shock=0"] + shame)
    sanctions = mean(["trust.shaming_shock=0"] + shame)
    shaming = mean(["trust.sanction_shock=0", "trust.shaming_shock=0.2"] + shame)
    assert calm == pytest.approx(0.7, abs=1e-3)
    assert sanctions < calm - 0.02 and shaming < calm - 0.02, (calm, sanctions, shaming)


# ----------------------------------------------------------------------------- pilots, nation


def test_pilots_and_national_share_one_society():
    """The comparison's premise: the same people, zones, behaviours and channels."""
    a, b = sc.load_scenario("pilots-2021"), sc.load_scenario("national")
    for field in ("population", "behaviours", "channels", "economy", "response", "days"):
        assert getattr(a, field) == getattr(b, field), field
    assert [(j.name, j.share) for j in a.jurisdictions] == [
        (j.name, j.share) for j in b.jurisdictions
    ]
    assert len(a.jurisdictions) == 62
    assert len({j.programme for j in a.jurisdictions}) == 62
    assert {j.programme for j in b.jurisdictions} == {"national"}
    # the nation spends the pilots' mean budget per resident
    budgets = [a.programmes[j.programme].budget.per_resident_year for j in a.jurisdictions]
    assert b.programmes["national"].budget.per_resident_year == pytest.approx(
        np.mean(budgets), abs=0.01
    )


def test_unification_narrows_the_differences_between_zones():
    """Merged into one system, zones differ only by chance: the spread of records per
    agent-year and of funded coverage across zones falls, and the least-scored zone is scored
    more (the pilots' court-list zones record only court judgments)."""
    runs = {
        name: sc.simulate(sc.load_scenario(name, agents=10_000, days=60))
        for name in ("pilots-2021", "national")
    }
    spread = {name: r.summary["across_jurisdictions"] for name, r in runs.items()}
    records = {name: s["records_per_agent_year"] for name, s in spread.items()}
    assert records["national"]["sd"] < 0.5 * records["pilots-2021"]["sd"], records
    assert records["national"]["min"] > records["pilots-2021"]["min"]
    cover = {
        name: [j["budget"]["coverage"] for j in r.summary["jurisdictions"].values()]
        for name, r in runs.items()
    }
    assert np.std(cover["pilots-2021"]) > 0.05 and np.ptp(cover["national"]) == 0


def test_prefix_sums_match_slices(monkeypatch):
    """Above 16 cells metrics come from prefix sums; they equal the per-cell slices exactly
    for counts, and to float32 rounding for sums (cells not aligned to blocks: 7,001 agents)."""
    import jax
    import jax.numpy as jnp

    from socialcredit.engine.run import day_step, initial_state
    from socialcredit.engine.stages import common
    from socialcredit.engine.stages.measure import measure, metric_names

    s = sc.load_scenario("pilots-2021", agents=7001, days=5)
    spec, p = compile_scenario(s)
    key = jax.random.key(0)
    st = initial_state(spec, p, key)
    for d in range(3):
        st, _ = day_step(spec, p, key, st, jnp.int32(d))
    prefix = np.asarray(jax.jit(measure, static_argnums=0)(spec, p, st))
    monkeypatch.setattr(common, "SLICE_CELLS_MAX", 10_000)
    slices = np.asarray(jax.jit(measure, static_argnums=0)(spec, p, st))
    names = metric_names(spec)
    for k, name in enumerate(names):
        if name.endswith("_sum") or name in ("budget_spend", "reward_spend"):
            assert np.allclose(prefix[:, k], slices[:, k], rtol=1e-5, atol=1e-3), name
        else:
            assert (prefix[:, k] == slices[:, k]).all(), name
    acts = [k for k, n in enumerate(names) if n.startswith("acts.")]
    assert slices[:, acts].sum() > 0


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


def test_new_fields_are_in_the_schema_and_validated():
    from socialcredit.scenario import ScenarioError, json_schema

    defs = json_schema()["$defs"]
    assert {"per_resident_year", "point_cost"} <= set(defs["Budget"]["properties"])
    assert {"informant_weight", "report_shock", "sanction_shock", "shaming_shock"} <= set(
        defs["Trust"]["properties"]
    )
    assert {"money_unit", "median_income"} <= set(defs["Economy"]["properties"])
    with pytest.raises(ScenarioError) as err:
        sc.load_scenario("rongcheng", ["programmes.rongcheng.budget={per_resident_year: -1.0}"])
    assert "programmes.rongcheng.budget.per_resident_year" in str(err.value)


def test_cli_shows_many_zones_one_row_each_with_spread_and_budget(tmp_path):
    import os
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "socialcredit.cli", "run", "pilots-2021", "--agents", "3000"]
        + ["--days", "3", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "100"},
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Across jurisdictions" in out and "Budget spent" in out and "yuan" in out
    # the mean-score table has a row per zone, not a column per zone
    assert sum(line.lstrip("│ ").startswith("batch3_34") for line in out.splitlines()) >= 2
