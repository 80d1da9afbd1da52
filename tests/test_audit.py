"""Audits against the counterfactual: null effects, a planted effect of known size, deterrence.

Audits here are small (at most 30,000 agents, 120 days, 5 replicates) and shared between tests
as module-scoped fixtures. Seeds are fixed, so every test is deterministic.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from socialcredit.audit import (
    NOT_MODELLED,
    AuditResult,
    NotModelled,
    Outcome,
    audit,
    audit_command,
    gini,
    mean_ci,
    replicate_seeds,
    t975,
    view,
)
from socialcredit.audit.catalogue import outcomes_for
from socialcredit.audit.result import TABLE_COLUMNS
from socialcredit.scenario import load_scenario
from socialcredit.store import catalog

TIERS = ["AAA", "AA", "A", "B", "C", "D", "listed"]
HALF = ", ".join(f"{t}: {{loan_approval: 0.5}}" for t in TIERS)


def _finite(x: float) -> bool:
    return x is not None and math.isfinite(x)


# ----------------------------------------------------------------------------- audits


@pytest.fixture(scope="module")
def null_audit() -> AuditResult:
    """no-system audited against itself: both arms are the same run."""
    return audit(load_scenario("no-system", agents=20_000, days=60, seed=3), 3)


@pytest.fixture(scope="module")
def planted_audit() -> AuditResult:
    """Every tier approves half of all loans; without the system 90% are approved."""
    sc = load_scenario(
        "rongcheng",
        [
            "response.model=fixed",
            "economy.base_loan_approval=0.9",
            "economy.loan_demand=0.004",
            f"programmes.rongcheng.consequences={{{HALF}}}",
        ],
        agents=30_000,
        days=120,
        seed=11,
    )
    return audit(sc, 5)


@pytest.fixture(scope="module")
def deterrence_audit() -> AuditResult:
    sc = load_scenario(
        "rongcheng",
        ["response.model=adaptive", "response.deterrence=10", "response.initial_risk=0.5"],
        agents=20_000,
        days=120,
        seed=5,
    )
    return audit(sc, 3)


# ----------------------------------------------------------------------------- statistics


def test_replicate_seeds_are_deterministic_distinct_and_in_range():
    a = replicate_seeds(42, 20)
    assert a == replicate_seeds(42, 20)
    assert len(a) == 20 and len(set(a)) == 20
    assert all(isinstance(s, int) and 0 <= s <= 2**31 - 1 for s in a)
    assert replicate_seeds(42, 5) == a[:5]  # more replicates extend, not reshuffle
    assert replicate_seeds(43, 5) != a[:5]
    assert replicate_seeds(0, 0) == []
    assert len(set(replicate_seeds(0, 5000))) == 5000


def test_t_quantiles_and_interval():
    scipy_stats = pytest.importorskip("scipy.stats")
    for df in (1, 2, 4, 30, 31, 45, 80, 200, 5000):  # scipy's quantile, no table with steps
        assert t975(df) == pytest.approx(scipy_stats.t.ppf(0.975, df), rel=1e-12)
    assert t975(2) == pytest.approx(4.302653, abs=1e-6)
    with pytest.raises(ValueError):
        t975(0)
    m, lo, hi, n = mean_ci([1.0, 2.0, 3.0, float("nan")])
    assert (m, n) == (2.0, 3)
    assert hi - m == pytest.approx(scipy_stats.t.ppf(0.975, 2) * 1.0 / math.sqrt(3))
    assert lo == pytest.approx(2 * m - hi)
    assert mean_ci([5.0, 5.0]) == (5.0, 5.0, 5.0, 2)
    assert math.isnan(mean_ci([5.0])[1])


def test_gini():
    assert gini(np.ones(10)) == pytest.approx(0.0)
    assert gini(np.array([0.0, 0.0, 0.0, 1.0])) == pytest.approx(0.75)
    x = np.random.default_rng(0).lognormal(0.0, 0.8, 200_000)
    # lognormal: G = 2 Phi(sigma / sqrt 2) - 1 = erf(sigma / 2)
    assert gini(x) == pytest.approx(math.erf(0.8 / 2), abs=0.005)


# ----------------------------------------------------------------------------- null effect


def test_null_audit_gives_exactly_zero_effects(null_audit):
    a = null_audit
    assert list(a.table.columns) == TABLE_COLUMNS
    assert a.seeds == replicate_seeds(3, 3)
    modelled = a.table[~a.table["note"].str.startswith(NOT_MODELLED)]
    with_effect = modelled[modelled["effect"].notna()]
    # misconduct (8 + total), loans, trips, prosocial (2 + total), sanctions, Gini at least
    assert len(with_effect) >= 15, a.table
    for row in with_effect.itertuples():
        assert row.effect == 0.0, row
        # identical arms: no variation across replicates, said in words; no zero-width interval
        assert "no variation across 3 replicates" in row.note, row
        if row.interval:  # an outcome made of counts: what the pooled counts allow
            assert row.interval.startswith("pooled counts, exact"), row
            assert row.ci_low < 0.0 < row.ci_high, row
        else:  # no counts to pool (the Gini): no interval rather than a false one
            assert math.isnan(row.ci_low) and math.isnan(row.ci_high), row
    assert a.row("wealth_gini")["interval"] == ""
    both = a.values.dropna(subset=["system", "counterfactual"])
    assert len(both) and (both["system"] == both["counterfactual"]).all()
    finite = a.values.dropna(subset=["effect"])
    assert (finite["effect"] == 0.0).all()
    assert a.row("misconduct.total")["system"] > 0
    assert a.row("records")["system"] == 0.0  # nothing is recorded without a programme


# ----------------------------------------------------------------------------- planted effect


def test_planted_loan_refusal_effect_is_recovered(planted_audit):
    row = planted_audit.row("loan_refusal_rate")
    assert row["counterfactual"] == pytest.approx(0.1, abs=0.01)
    assert row["system"] == pytest.approx(0.5, abs=0.01)
    assert row["effect"] == pytest.approx(0.4, abs=0.01)
    assert row["ci_low"] <= 0.4 <= row["ci_high"]
    assert row["ci_high"] - row["ci_low"] < 0.03
    assert row["relative"] == pytest.approx(4.0, rel=0.1)


def test_fixed_response_leaves_misconduct_exactly_unchanged(planted_audit):
    t = planted_audit.table
    rows = t[t["outcome"].str.startswith(("misconduct.", "prosocial."))]
    assert len(rows) == 8 + 1 + 2 + 1
    assert (rows["effect"] == 0.0).all()
    # the same in every replicate: the interval is that of the pooled counts, not (0 to 0)
    assert (rows["ci_low"] < 0.0).all() and (rows["ci_high"] > 0.0).all()
    assert (rows["interval"] == "pooled counts, exact Poisson").all()
    assert rows["note"].str.contains("no variation across 5 replicates").all()
    v = planted_audit.values
    acts = v[v["outcome"].str.startswith("misconduct.")]
    assert (acts["system"] == acts["counterfactual"]).all()
    assert (acts["system"] > 0).any()


def test_system_only_and_within_run_outcomes(planted_audit):
    rec = planted_audit.row("records")
    assert rec["system"] > 0 and math.isnan(rec["effect"])
    assert rec["ci_low"] <= rec["system"] <= rec["ci_high"]  # the interval of the system value
    assert "system" in rec["note"]
    gap = planted_audit.row("disparate.score_gap.minority")
    assert _finite(gap["system"]) and math.isnan(gap["counterfactual"])
    assert "within each run" in gap["note"]
    ratio = planted_audit.row("disparate.sanctioned_rate_ratio.minority")
    assert _finite(ratio["system"]) and ratio["system"] > 0
    # everyone's loans are refused alike: the ratio sits near 1
    assert ratio["ci_low"] < 1.2 and ratio["ci_high"] > 0.8
    assert planted_audit.row("sanctioned_share")["effect"] > 0


# ----------------------------------------------------------------------------- deterrence


def test_adaptive_response_deters_misconduct(deterrence_audit):
    row = deterrence_audit.row("misconduct.total")
    assert row["effect"] < 0
    assert row["ci_high"] < 0
    assert row["relative"] < -0.1
    values = deterrence_audit.values
    assert (values.loc[values["outcome"] == "misconduct.total", "effect"] < 0).all()


def test_markdown_quotes_each_number_with_its_interval(deterrence_audit):
    md = deterrence_audit.to_markdown()
    assert md.startswith("# Audit: rongcheng")
    line = next(x for x in md.splitlines() if x.startswith("| Misconduct acts per agent-year"))
    number = r"[−+]?\d[\d,]*(\.\d+)?"
    assert re.search(rf"−{number} \({number} to {number}\)", line), line
    assert re.search(rf"−{number}% \({number}% to {number}%\)", line), line
    assert "95% interval" in md
    assert "| Outcome |" in md and "|---|" in md
    # every outcome the scenario models has a row; the others are named once, under the table
    rows = len(deterrence_audit.modelled())
    assert md.count("\n| ") == rows + 1 and rows + len(deterrence_audit.not_modelled()) == len(
        deterrence_audit.table
    )
    foot = [x for x in md.splitlines() if x.startswith("Not modelled in this scenario: ")]
    assert len(foot) == 1 and "Informant reports per agent-year" in foot[0]


def test_not_modelled_outcomes_are_reported_not_raised(deterrence_audit):
    t = deterrence_audit.table.set_index("outcome")
    for name in ("chilling.total", "informant_reports", "children_excluded"):
        assert t.loc[name, "note"].startswith(NOT_MODELLED), name
        assert math.isnan(t.loc[name, "system"]) and math.isnan(t.loc[name, "effect"])
    # trust is the society's, modelled in every scenario (issue 15), informants or not
    assert not t.loc["mean_trust", "note"].startswith(NOT_MODELLED)
    assert not math.isnan(t.loc["mean_trust", "system"])
    assert "speech or religion" in t.loc["chilling.total", "note"]
    assert "`records_by.informants`" in t.loc["informant_reports", "note"]
    assert len(deterrence_audit.not_modelled()) >= 4


def test_rich_table_renders(deterrence_audit):
    from rich.console import Console

    con = Console(width=100, record=True)
    con.print(deterrence_audit.rich_table())
    text = con.export_text()
    assert "Misconduct acts" in text and "Loan refusal rate" in text
    assert "Stated aims" in text and "Harms" in text
    assert max(len(line) for line in text.splitlines()) <= 100
    # the outcomes not modelled: one footnote, no rows
    assert text.count("Not modelled in this scenario:") == 1 and NOT_MODELLED not in text
    assert "Informant reports per agent-year" not in text.split("Not modelled")[0]


def test_save_writes_parquet_json_and_markdown(deterrence_audit, tmp_path):
    folder = deterrence_audit.save(tmp_path / "audit")
    for name in ("audit.parquet", "audit.json", "audit.md"):
        assert (folder / name).is_file(), name
    back = pd.read_parquet(folder / "audit.parquet")
    assert list(back.columns) == TABLE_COLUMNS
    assert len(back) == len(deterrence_audit.table)
    data = json.loads((folder / "audit.json").read_text())
    assert data["seeds"] == deterrence_audit.seeds
    assert data["replicates"] == 3
    listed = catalog(tmp_path)  # the folder's audit.json is its catalog entry
    assert listed[["kind", "path", "replicates"]].values.tolist() == [["audit", "audit", 3]]
    assert len(data["values"]) == 3 * len(deterrence_audit.table)
    assert {o["name"] for o in data["outcomes"]} == set(deterrence_audit.table["outcome"])
    assert (folder / "audit.md").read_text() == deterrence_audit.to_markdown()
    from socialcredit.integrity import verify_folder

    assert verify_folder(folder) is True  # checksums.json, written last, holds


# ----------------------------------------------------------------------------- the registry


def test_custom_outcomes_and_families(null_audit):
    """New outcomes plug in as registry entries; a missing metric is 'not modelled'."""

    def litter_ratio(r):
        return view(r).total("acts.littering") / view(r).total("acts.traffic_violation")

    def family(scenario):
        return [
            Outcome(
                f"group_agents.{g.name}",
                "harm",
                "agents",
                "Agent-days of the group.",
                lambda r, g=g.name: view(r).group_total("agents", g),
            )
            for g in scenario.population.groups
        ]

    def needs_missing(r):
        view(r).need("no_such_metric")
        return 1.0

    def never(r):
        raise NotModelled("nothing here")

    registry = [
        Outcome("litter_ratio", "aim", "ratio", "Ratio effect.", litter_ratio, "ratio"),
        Outcome("missing", "harm", "x", "Needs a metric no run has.", needs_missing),
        Outcome("never", "harm", "x", "Never modelled.", never),
        family,
    ]
    sc = load_scenario("no-system", agents=20_000, days=60, seed=3)  # compiled by null_audit
    assert [o.name for o in outcomes_for(sc, registry)] == [
        "litter_ratio",
        "missing",
        "never",
        "group_agents.majority",
        "group_agents.minority",
    ]
    a = audit(sc, 2, outcomes=registry)
    t = a.table.set_index("outcome")
    assert t.loc["litter_ratio", "effect"] == 1.0  # a ratio effect: identical arms give 1
    assert t.loc["litter_ratio", "relative"] == 0.0
    assert t.loc["missing", "note"] == f"{NOT_MODELLED}: the run has no metric `no_such_metric`"
    assert t.loc["never", "note"] == f"{NOT_MODELLED}: nothing here"
    assert t.loc["group_agents.minority", "system"] == pytest.approx(0.01 * 20_000 * 60, rel=0.05)
    with pytest.raises(ValueError, match="duplicate"):
        outcomes_for(sc, [registry[0], registry[0]])


def test_metric_view_is_built_once_per_result_and_kept_on_it():
    """view() keeps a result's sums on the result: the same view for the same result, a new one
    for another result or a replaced metrics table, and no module-level cache to clear."""
    from types import SimpleNamespace

    import socialcredit.audit.formulas as formulas

    def fake(value: float) -> SimpleNamespace:
        metrics = pd.DataFrame(
            {
                "day": [1, 1],
                "jurisdiction": ["j", "j"],
                "group": ["g", "g"],
                "metric": ["agents", "acts.littering"],
                "value": [10.0, value],
            }
        )
        return SimpleNamespace(metrics=metrics, scenario=None)

    a, b = fake(1.0), fake(2.0)
    va = view(a)
    assert view(a) is va and va.total("acts.littering") == 1.0
    assert view(b) is not va and view(b).total("acts.littering") == 2.0
    a.metrics = fake(3.0).metrics  # a replaced table is summed anew
    assert view(a) is not va and view(a).total("acts.littering") == 3.0
    assert not [k for k, v in vars(formulas).items() if isinstance(v, dict) and k.isupper()]


def test_registry_covers_every_category():
    sc = load_scenario("rongcheng", ["behaviours.8.category=speech"])
    names = [o.name for o in outcomes_for(sc)]
    assert "chilling.volunteering" in names and "chilling.total" in names
    assert "prosocial.good_deed" in names and "prosocial.volunteering" not in names
    assert all(o.kind in ("aim", "harm") and o.description for o in outcomes_for(sc))


# ----------------------------------------------------------------------------- command line


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.callback()
    def main() -> None:
        """A stand-in for the main app."""

    app.command("audit")(audit_command)
    return app


def test_cli_audit_prints_the_table_and_saves(tmp_path):
    runner = CliRunner()
    res = runner.invoke(
        _app(),
        [
            "audit",
            "rongcheng",
            "--agents",
            "20000",
            "--days",
            "60",
            "--replicates",
            "2",
            "--seed",
            "1",
            "--set",
            "response.model=fixed",
            "--set",
            "behaviours.8.category=speech",
            "--out",
            str(tmp_path),
        ],
        env={"COLUMNS": "100"},
    )
    assert res.exit_code == 0, res.output
    assert "Stated aims" in res.stdout and "Misconduct acts" in res.stdout
    assert "Effect (95% CI)" in res.stdout
    folders = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert len(folders) == 1 and folders[0].name.startswith("audit-rongcheng-")
    assert str(folders[0]) in res.stdout.replace("\n", "")
    for name in ("audit.parquet", "audit.json", "audit.md"):
        assert (folders[0] / name).is_file()
    data = json.loads((folders[0] / "audit.json").read_text())
    assert data["seeds"] == replicate_seeds(1, 2)
    assert data["overrides"]["set"] == ["response.model=fixed", "behaviours.8.category=speech"]
    assert (data["overrides"]["seed"], data["overrides"]["replicates"]) == (1, 2)
    assert "chilling.volunteering" in {o["name"] for o in data["outcomes"]}


def test_cli_bad_set_exits_2_without_traceback(tmp_path):
    res = CliRunner().invoke(
        _app(), ["audit", "rongcheng", "--set", "response.nope=1", "--out", str(tmp_path)]
    )
    assert res.exit_code == 2, res.output
    assert "response.nope" in res.stderr
    assert "Traceback" not in res.output
    assert not any(tmp_path.iterdir())


def test_cli_module_imports_neither_jax_nor_pandas():
    code = (
        "import sys, socialcredit.audit, socialcredit.audit.cli; "
        "print(sorted(m for m in ('jax', 'pandas', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
