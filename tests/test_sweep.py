"""Sweeps (issue 13): batched runs equal runs alone, outcomes equal the audit's on a single run,
shared counterfactuals, resumability after SIGKILL, Sobol indices with a known answer, the
executors' agreement, and bad input refused before anything is written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import pandas as pd
import pytest

from socialcredit.api import simulate
from socialcredit.audit.catalogue import outcomes_for
from socialcredit.compile import compile_scenario
from socialcredit.engine.batch import simulate_batch, stack_params, take
from socialcredit.engine.run import simulate_arrays
from socialcredit.experiments import ExperimentError, sweep
from socialcredit.experiments.base import Base
from socialcredit.experiments.run import resolve_experiment
from socialcredit.experiments.sweep import make_plan
from socialcredit.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
COVERAGE = "channels.court_records.coverage.debt_judgment"


def _batch_vs_alone(name: str, overrides: list[str], micro: int) -> None:
    scs = [load_scenario(name, [*overrides, f"seed={s}"], agents=1500, days=20) for s in (3, 4, 5)]
    comp = [compile_scenario(s) for s in scs]
    spec = comp[0][0]
    assert all(c[0] == spec for c in comp)
    params = stack_params([c[1] for c in comp])
    state, metrics, org = simulate_batch(spec, params, [s.seed for s in scs], micro=micro)
    floats = np.array([m.endswith("_sum") for m in _metric_names(spec)])
    for i, (s, p) in enumerate(comp):
        alone, raw, _, _, org1 = simulate_arrays(s, p, jax.random.key(scs[i].seed))
        # counts bit for bit; sums of real numbers (wealth, trust) up to float32 rounding, since
        # XLA may sum a batched axis in another order (as sharded runs: test_sharding.py)
        assert np.array_equal(raw[..., ~floats], metrics[i][..., ~floats])
        np.testing.assert_allclose(raw[..., floats], metrics[i][..., floats], rtol=1e-5)
        mine = take(state, i)
        for a, b in zip(jax.tree.leaves(alone), jax.tree.leaves(mine), strict=True):
            assert np.array_equal(np.asarray(a), np.asarray(b))
        if org1 is not None:
            assert np.array_equal(org1, org[i])


def _metric_names(spec):
    from socialcredit.engine.stages.measure import metric_names

    return metric_names(spec)


@pytest.mark.parametrize(
    "name,micro",
    [
        ("rongcheng", 0),
        ("rongcheng", 1),
        ("xinjiang-informants", 0),
        pytest.param("corporate", 0, marks=pytest.mark.slow),
    ],
)
def test_a_batch_gives_each_run_its_results_alone(name, micro):
    """Runs of one compiled shape, stacked under vmap (micro 0, the accelerators' way) or run in
    turn (micro 1, the CPU's), give each run's state and metrics."""
    _batch_vs_alone(name, [], micro)


def test_sweep_outcomes_are_the_audits_on_single_runs(tmp_path):
    """A sweep's with/without/effect are the outcome formulas on `simulate` of that variant and
    seed (and its counterfactual); lever-only variants share one counterfactual run."""
    res = sweep(
        "rongcheng",
        {
            "name": "check",
            "levers": [{"field": COVERAGE, "values": [0.2, 0.8]}],
            "outcomes": [
                "misconduct.total",
                "sanctioned_share",
                "records",
                "loan_refusal_rate",
                "wealth_gini",  # the one outcome that reads per-agent values
            ],
            "replicates": 2,
        },
        agents=1200,
        days=25,
        out=tmp_path,
        figures=False,
    )
    assert res.manifest["runs"] == 2 * 2 + 2  # two shared counterfactuals, one per replicate
    assert set(res.experiments.columns) == {"experiment", COVERAGE, "seed"}
    assert list(res.outcomes.columns) == [
        "experiment", "replicate", "seed", "outcome", "with", "without", "effect"
    ]  # fmt: skip
    row = res.experiments.iloc[1]
    seed = int(res.outcomes.query("experiment == 1 and replicate == 1")["seed"].iloc[0])
    sc = load_scenario(
        "rongcheng", [f"{COVERAGE}={row[COVERAGE]}"], agents=1200, days=25, seed=seed
    )
    single = simulate(sc, counterfactual=True)
    defs = {o.name: o for o in outcomes_for(sc)}
    got = res.outcomes.query("experiment == 1 and replicate == 1").set_index("outcome")
    for name in ("misconduct.total", "sanctioned_share", "loan_refusal_rate", "wealth_gini"):
        w, wo = defs[name].formula(single), defs[name].formula(single.counterfactual)
        assert got.loc[name, "with"] == pytest.approx(float(w), rel=1e-9)
        assert got.loc[name, "without"] == pytest.approx(float(wo), rel=1e-9)
        assert got.loc[name, "effect"] == pytest.approx(float(w) - float(wo), rel=1e-9, abs=1e-12)
    assert np.isnan(got.loc["records", "without"])  # a figure of the system only
    for f in ("experiments", "outcomes"):
        assert (res.folder / f"{f}.parquet").is_file()
    again = pd.read_parquet(res.folder / "outcomes.parquet")
    pd.testing.assert_frame_equal(again, res.outcomes)


def test_sobol_indices_match_the_analytic_ones(tmp_path):
    """With the fixed response model the records a system files are linear in coverages:
    records = k1 c1 + k2 c2 + constant, with k1 = k2 (two behaviours with the same base rate
    and propensity). For c1 ~ U(0, 1) and c2 ~ U(0, 0.5) the Sobol indices are
    S1 = ST = 1 / 1.25 = 0.8 and 0.25 / 1.25 = 0.2."""
    rate = 0.05
    res = sweep(
        "rongcheng",
        {
            "name": "sobol-known",
            "levers": [
                {"field": "channels.traffic_police.coverage.traffic_violation", "range": [0, 1]},
                {"field": "channels.village_committee.coverage.littering", "range": [0, 0.5]},
            ],
            "outcomes": ["records"],
            "design": {"method": "sobol", "samples": 64},
            "counterfactual": False,
            "seed": 5,
        },
        overrides=[
            "response.model=fixed",
            f"behaviours.traffic_violation.base_rate={rate}",
            f"behaviours.littering.base_rate={rate}",
        ],
        agents=1000,
        days=30,
        out=tmp_path,
        figures=False,
    )
    s = res.sensitivity.set_index(["factor", "index"])
    expect = {"channels.traffic_police.coverage.traffic_violation": 0.8}
    expect["channels.village_committee.coverage.littering"] = 0.2
    for factor, value in expect.items():
        for idx in ("S1", "ST"):
            lo, hi = s.loc[(factor, idx), "low"], s.loc[(factor, idx), "high"]
            assert lo - 0.02 <= value <= hi + 0.02, (factor, idx, lo, hi)
            assert s.loc[(factor, idx), "value"] == pytest.approx(value, abs=0.08)


def _cli(*args, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(
        [sys.executable, "-m", "socialcredit.cli", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        **kw,
    )


SMALL = ["rongcheng", "--agents", "400", "--days", "8", "--no-figures"]


def test_a_killed_sweep_resumes_to_the_same_outputs(tmp_path):
    """SIGKILL after the first batch is on disk; the same command resumes, skips what is done
    and ends with outputs equal to an uninterrupted sweep's."""
    args = [*SMALL, "--vary", f"{COVERAGE}=0:0.9:4", "--batch-size", "1", "-r", "1"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "socialcredit.cli", "sweep", *args, "--out", str(out)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if list(out.glob("*/batches/batch-*.parquet")):
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = list(out.glob("*/batches/batch-*.parquet"))
    assert done and not list(out.glob("*/outcomes.parquet"))
    resumed = _cli("sweep", *args, "--out", out)
    assert resumed.returncode == 0, resumed.stderr
    assert "already done: resuming" in resumed.stderr
    whole = _cli("sweep", *args, "--out", tmp_path / "whole")
    assert whole.returncode == 0, whole.stderr
    a = pd.read_parquet(next(out.glob("*/outcomes.parquet")))
    b = pd.read_parquet(next((tmp_path / "whole").glob("*/outcomes.parquet")))
    pd.testing.assert_frame_equal(a, b)
    assert not list(out.glob("*/batches/.tmp-*")) and not list(out.glob("*/.tmp-*"))


BAD = [
    (
        {"levers": [{"field": "channels.court_records.coverage.debt_judgmnt", "range": [0, 1]}]},
        "coverage",
    ),
    ({"levers": [{"field": "population.agentz", "range": [1, 2]}]}, "agentz"),
    ({"levers": [{"field": COVERAGE, "range": [0, 1.5]}]}, "1.5"),
    ({"levers": [{"field": "response.model", "range": [0, 1]}]}, "not a number"),
    (
        {
            "levers": [{"field": COVERAGE, "range": [0, 1]}, {"field": "seed", "range": [1, 9]}],
            "design": {"method": "sobol", "samples": 100},
        },
        "power of 2",
    ),
    (
        {"levers": [{"field": COVERAGE, "range": [0, 1]}], "outcomes": ["misconduct.totl"]},
        "did you mean",
    ),
    ({"levers": [{"field": COVERAGE, "range": [0, 1]}], "design": {"method": "lhs"}}, "samples"),
    ({"levers": [{"field": COVERAGE, "rnage": [0, 1]}]}, "unknown field"),
]


@pytest.mark.parametrize("data,needle", BAD)
def test_bad_experiments_are_refused_with_a_located_message(tmp_path, data, needle):
    with pytest.raises(ExperimentError) as e:
        sweep("rongcheng", data, agents=300, days=5, out=tmp_path / "x", figures=False)
    assert needle in str(e.value)
    assert "invalid experiment file" in str(e.value)
    assert not (tmp_path / "x").exists()


def test_the_command_line_refuses_bad_input_with_exit_2(tmp_path):
    f = tmp_path / "exp.yaml"
    f.write_text(f"name: bad\nlevers:\n  - field: {COVERAGE}\n    range: [0, 2]\n")
    r = _cli("sweep", *SMALL, f, "--out", tmp_path / "out")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"{f}:4" in r.stderr and "range" in r.stderr
    r = _cli("sweep", *SMALL, "--vary", f"{COVERAGE}=0:0.9", "--out", tmp_path / "out")
    assert r.returncode == 2 and "LOW:HIGH:N" in r.stderr
    r = _cli(
        "sweep", *SMALL, "--vary", f"{COVERAGE}=0:0.9:2", "--scheduler", "tcp://127.0.0.1:9",
        "--out", tmp_path / "out",
    )  # fmt: skip
    assert r.returncode == 2 and "cannot reach the Dask scheduler" in r.stderr
    assert not (tmp_path / "out").exists()


def test_a_dask_cluster_gives_the_same_results_as_this_process(tmp_path):
    """The same seeds give the same outcomes on a 2-worker LocalCluster of processes."""
    from socialcredit.experiments.executors import DaskExecutor

    exp = {"name": "dask", "levers": [{"field": COVERAGE, "values": [0.1, 0.9]}], "replicates": 2}
    exp["outcomes"] = ["misconduct.total", "sanctioned_share"]
    kw = {"agents": 400, "days": 8, "figures": False, "batch_size": 2}
    here = sweep("rongcheng", exp, out=tmp_path / "here", **kw)
    ex = DaskExecutor.local(2)
    try:
        there = sweep("rongcheng", exp, out=tmp_path / "there", executor=ex, **kw)
    finally:
        ex.close()
    pd.testing.assert_frame_equal(here.outcomes, there.outcomes)


def test_the_slurm_job_script_is_built_without_a_scheduler():
    from socialcredit.experiments.executors import slurm_cluster

    cluster = slurm_cluster(4, cores=8, memory="32GB", walltime="01:00:00", queue="compute")
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "#SBATCH -p compute" in script and "#SBATCH -t 01:00:00" in script
    assert "#SBATCH --cpus-per-task=8" in script and "distributed.cli.dask_worker" in script


def test_plan_groups_by_shape_and_shares_counterfactuals():
    base = Base.load("rongcheng", agents=300, days=5)
    exp, _, _ = resolve_experiment(
        {"levers": [{"field": COVERAGE, "values": [0.1, 0.5, 0.9]}], "replicates": 2}
    )
    plan = make_plan(base, exp, batch_size=64)
    assert len(plan.batches) == 2  # the system's shape and the counterfactual's
    assert plan.n_runs == 3 * 2 + 2
    exp2, _, _ = resolve_experiment(
        {"uncertainties": [{"field": "population.agents", "values": [300, 310]}], "replicates": 1}
    )
    plan2 = make_plan(base, exp2, batch_size=64)
    assert len(plan2.batches) == 4  # two population sizes: two shapes, each with its own society


def test_a_combination_the_scenario_rejects_is_located_before_anything_runs():
    """Each factor's values can be valid alone and invalid together (an informant's pay for a
    day, reward plus confirmation points times contacts, must fit the engine's 16-bit
    points): the plan names the experiment, its values and the scenario's own message."""
    from socialcredit.experiments.design import explicit_design

    base = Base.load("xinjiang-informants", agents=300, days=5)
    pay, confirm = "informants.reward_points", "informants.confirmed_points"
    exp, _, _ = resolve_experiment(
        {"levers": [{"field": pay, "values": [2, 3000]}, {"field": confirm, "values": [1, 3000]}]}
    )
    table = pd.DataFrame({pay: [3000, 3000], confirm: [1, 3000]})  # row 1: 8 x 6005 points
    with pytest.raises(ExperimentError) as err:
        make_plan(base, exp, design=explicit_design(table))
    (issue,) = err.value.issues
    assert issue.path == "experiment 1" and issue.value == {pay: 3000, confirm: 3000}
    assert issue.message.startswith("informants.reward_points: ") and "16-bit" in issue.message


def test_the_example_experiment_plans_and_daily_series_are_hive_partitioned(tmp_path):
    """examples/experiments/informants.yaml plans against its preset; `series: true` keeps each
    run's daily metrics under series/arm=.../experiment=.../, readable as one Hive dataset."""
    import pyarrow.dataset as ds

    from socialcredit.experiments import load_experiment

    exp, line_of, _ = load_experiment(ROOT / "examples" / "experiments" / "informants.yaml")
    plan = make_plan(Base.load("xinjiang-informants", agents=500, days=5), exp, line_of=line_of)
    assert len(plan.design.table) == 16 and plan.n_runs == 16 * 2 + 2
    res = sweep(
        "rongcheng",
        {"levers": [{"field": COVERAGE, "values": [0.3, 0.6]}], "outcomes": ["records"]}
        | {"series": True},
        agents=300,
        days=4,
        out=tmp_path,
        figures=False,
    )
    data = ds.dataset(res.folder / "series", format="parquet", partitioning="hive").to_table()
    df = data.to_pandas()
    assert set(df["arm"]) == {"system", "counterfactual"}
    assert set(df["experiment"]) == {0, 1} and set(df["day"]) == {1, 2, 3, 4}
