"""Design against design (`socialcredit audit A --against B`) and the audit folder.

One small audit, due-process against xinjiang-informants (1,500 agents, 30 days, 2
replicates), made once through the command line and shared by every test here: its table,
the arms' runs it keeps, its report, `report` and `compare` on it, the catalog. The refusals
are checked before anything runs, so they cost nothing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from socialcredit.audit import audit, audit_command, replicate_seeds
from socialcredit.audit.result import AuditResult
from socialcredit.audit.runner import DesignsDiffer
from socialcredit.report.cli import compare_command, report_command
from socialcredit.result import open_run
from socialcredit.scenario import load_scenario
from socialcredit.store import catalog

SMALL = ["--agents", "1500", "--days", "30", "-r", "2", "--seed", "4"]
A, B = "due-process", "xinjiang-informants"


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.callback()
    def main() -> None:
        """A stand-in for the main app."""

    app.command("audit")(audit_command)
    app.command("report")(report_command)
    app.command("compare")(compare_command)
    return app


def _invoke(*args: str):
    return CliRunner().invoke(_app(), list(args), env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> tuple[Path, str]:
    """(the audit folder, what the command printed)."""
    out = tmp_path_factory.mktemp("against")
    res = _invoke("audit", A, "--against", B, *SMALL, "--out", str(out))
    assert res.exit_code == 0, res.output
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    return folder, res.stdout


def test_effect_is_a_minus_b_on_the_same_seeds(made):
    folder, _ = made
    data = json.loads((folder / "audit.json").read_text())
    assert data["arms"] == [A, B] and data["against"] == B
    assert data["seeds"] == replicate_seeds(4, 2)
    t = pd.read_parquet(folder / "audit.parquet").set_index("outcome")
    v = pd.DataFrame(data["values"])
    v = v[v["outcome"].map(t["comparison"]).eq("difference") & v["system"].notna()]
    assert len(v) > 40 and (v["effect"] - (v["system"] - v["counterfactual"])).abs().max() < 1e-12
    t = pd.read_parquet(folder / "audit.parquet").set_index("outcome")
    # xinjiang-informants has informants, due-process none: A - B is minus B's density
    row = t.loc["informant_density"]
    assert row["system"] == 0.0 and row["counterfactual"] > 0.01
    assert row["effect"] == pytest.approx(-row["counterfactual"])
    # a figure of one system (records) is a difference between two designs
    assert t.loc["records", "comparison"] == "difference" and t.loc["records", "effect"] < 0
    # both arms of a replicate ran on its seed: common random numbers
    runs = data["replicate_runs"]
    assert [(r["replicate"], r["arm"]) for r in runs] == [(0, A), (0, B), (1, A), (1, B)]
    for r in runs:
        info = json.loads((folder / r["path"] / "info.json").read_text())
        assert info["seed"] == data["seeds"][r["replicate"]] == r["seed"]
        assert info["run_id"] == r["run_id"]


def test_kept_runs_reproduce_the_table(made):
    """Each replicate's runs are run folders; the audit's values come from them."""
    folder, _ = made
    data = json.loads((folder / "audit.json").read_text())
    v = pd.DataFrame(data["values"]).set_index(["outcome", "replicate"])
    for r in data["replicate_runs"]:
        run = open_run(folder / r["path"])
        m = run.metrics
        reports = m.loc[m["metric"] == "records_by.informants", "value"].sum()
        years = m.loc[m["metric"] == "agents", "value"].sum() / 365
        arm = "system" if r["arm"] == A else "counterfactual"
        assert v.loc[("informant_reports", r["replicate"]), arm] == pytest.approx(reports / years)


def test_terminal_table_fits_100_columns_with_a_footnote(made):
    _, printed = made
    text = printed[printed.index("Audit of") : printed.index("Audit folder")]
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert f"A = {A}, B = {B}" in text and "Effect A − B (95% CI)" in text
    assert "B: xinjiang-" in text  # the columns name the arms
    foot = [line for line in lines if line.startswith("Not modelled in this scenario:")]
    assert len(foot) == 1
    body = text[: text.index("Not modelled in this scenario:")]
    assert "Counterfeit share of sales" not in body  # in the footnote, not a row
    assert "Counterfeit share of sales" in text.replace("\n", " ")
    # an outcome that is 0/0 says what would define it
    assert re.search(r"undefined: nobody in majority listed in either arm; run longer", text)


def test_report_opens_with_the_table_and_the_forest_plot(made):
    folder, _ = made
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert html.index('id="audit"') < html.index('id="forest"') < html.index('id="facts"')
    assert f"<h1>Audit: {A} against {B}</h1>" in html
    assert "data:image/png;base64," in html and "Not modelled in this scenario" in html
    png = folder / "figures" / "forest.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_and_compare_work_on_the_audit_folder(made, tmp_path):
    folder, _ = made
    res = _invoke("report", str(folder), "--out", str(tmp_path / "again"))
    assert res.exit_code == 0, res.output
    html = (tmp_path / "again" / "report.html").read_text(encoding="utf-8")
    assert 'id="forest"' in html and 'id="audit"' in html
    res = _invoke("compare", str(folder), "--out", str(tmp_path / "arms"))
    assert res.exit_code == 0, res.output
    assert (tmp_path / "arms" / "compare.md").is_file()
    one = folder / "replicates" / "1"
    res = _invoke("compare", str(one / A), str(one / B), "--out", str(tmp_path / "r1"))
    assert res.exit_code == 0, res.output
    res = _invoke("report", str(one / B), "--out", str(tmp_path / "r1b"))
    assert res.exit_code == 0 and (tmp_path / "r1b" / "report.html").is_file()
    back = AuditResult.open(folder)
    assert back.arms == (A, B) and back.example.counterfactual.scenario.metadata.name == B


def test_catalog_lists_the_audit_by_both_names(made):
    folder, _ = made
    rows = catalog(folder.parent)
    audits = rows[rows["kind"] == "audit"]
    assert audits["name"].tolist() == [f"{A} vs {B}"]
    assert len(rows) == 1  # the replicates' run folders are the audit's, not listed apart


def test_designs_whose_society_differs_are_refused(tmp_path):
    res = _invoke("audit", A, "--against", "rongcheng", *SMALL, "--out", str(tmp_path))
    assert res.exit_code == 2, res.output
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in res.output
    assert err.startswith("error: --against rongcheng:")
    assert "population.groups.majority.share: 0.55 vs 0.99" in err
    assert not any(tmp_path.iterdir())  # nothing written
    a = load_scenario(A, agents=1500, days=10)
    with pytest.raises(DesignsDiffer, match=r"population\.agents: 1500 vs 2000"):
        audit(a, 1, against=load_scenario(B, agents=2000, days=10))


def test_bad_against_exits_2_with_a_located_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("metadata: {name: bad}\npopulation: {agents: many}\n")
    out = tmp_path / "out"
    for design, says in (("no-such-design", "no-such-design"), (str(bad), "bad.yaml")):
        res = _invoke("audit", A, "--against", design, *SMALL, "--out", str(out))
        assert res.exit_code == 2, res.output
        err = res.stderr.strip()
        assert err.startswith(f"--against {design}:") and says in err, err
        assert len(err.splitlines()) == 1 and "Traceback" not in res.output
        assert not out.exists()
