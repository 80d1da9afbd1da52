"""Reports: chart data, PNG figures, the offline HTML page (also in a real headless browser),
comparisons of two runs, and the report/compare commands.

Two small runs are simulated once per module: the Rongcheng preset with its paired
counterfactual, and a harsh variant (one traffic ticket lists you, noisy channels) whose
credit files hold listings and false records.
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from html import escape as html_escape
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import typer
from chromium import CHROMIUM, CHROMIUM_ARGS
from typer.testing import CliRunner

import socialcredit as sc
from socialcredit.charts.report import report_chart
from socialcredit.report import (
    chart_id,
    compare,
    compare_command,
    figure_data,
    report_command,
    write_compare,
    write_pngs,
    write_report,
)
from socialcredit.report.figures import charted_jurisdictions
from socialcredit.scenario.model import Scenario

AGENTS, DAYS = 10_000, 60
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HARSH = [
    "behaviours.6.base_rate=0.02",  # traffic violations
    "channels.0.false_positive_rate=0.001",
    "channels.4.false_positive_rate=0.001",
    # A 1000-1029, B 997-999, C 996, D <= 995 (listed): one traffic ticket lists you
    "programmes.rongcheng.tiers.2.min=1000",
    "programmes.rongcheng.tiers.3.min=997",
    "programmes.rongcheng.tiers.3.max=999",
    "programmes.rongcheng.tiers.4.min=996",
    "programmes.rongcheng.tiers.4.max=996",
    "programmes.rongcheng.tiers.5.max=995",
]
ALL_CHARTS = [  # every chart a Rongcheng run has (trust is in every scenario: issue 15)
    "tiers_over_time",
    "tier_transitions",
    "score_distribution",
    "behaviour_rates",
    "trust_chilling",
    "disparity",
    "lorenz",
    "map",
    "credit_files",
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Rongcheng and its counterfactual, both saved (result.path set)."""
    result = sc.simulate(
        sc.load_scenario("rongcheng", agents=AGENTS, days=DAYS), counterfactual=True
    )
    root = tmp_path_factory.mktemp("runs")
    result.save(root)
    result.counterfactual.save(root)
    return result


@pytest.fixture(scope="module")
def harsh():
    """A run with listings and false records; homes moved into a small town (x, y in metres)
    so that the map shows clusters rather than a few agents on Rongcheng's 1,526 km²."""
    result = sc.simulate(sc.load_scenario("rongcheng", HARSH, agents=3000, days=DAYS))
    rng = np.random.default_rng(1)
    n = len(result.agents)
    result.agents["x"] = rng.normal(3000.0, 900.0, n)
    result.agents["y"] = rng.normal(2000.0, 700.0, n)
    return result


@pytest.fixture(scope="module")
def harsh_data(harsh):
    return figure_data(harsh)


def with_(result, **attrs):
    """A shallow copy of a Result with some attributes replaced."""
    other = copy.copy(result)
    for k, v in attrs.items():
        setattr(other, k, v)
    return other


class Refs(HTMLParser):
    """Every script src, link href and other external resource reference in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str | None] = []
        self.refs: list[tuple[str, str]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "script":
            self.scripts.append(attrs.get("src"))
        for name in ("src", "href"):
            if attrs.get(name):
                self.refs.append((tag, attrs[name]))


def parse(html: str) -> Refs:
    refs = Refs()
    refs.feed(html)
    return refs


def assert_offline(html: str) -> Refs:
    refs = parse(html)
    assert refs.scripts, "no script at all"
    assert all(src is None for src in refs.scripts), f"script with src: {refs.scripts}"
    external = [(t, u) for t, u in refs.refs if u.startswith(("http://", "https://", "//"))]
    assert not external, external
    return refs


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, path
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > 300 and height > 200, (path, width, height)
    assert_not_blank(path)


def assert_not_blank(path: Path) -> None:
    from PIL import Image, ImageStat

    with Image.open(path) as im:
        grey = im.convert("L")
        assert ImageStat.Stat(grey).stddev[0] > 5, f"{path} is blank"
        assert len(grey.getcolors(maxcolors=256) or range(257)) > 8, f"{path} is nearly blank"


# ----------------------------------------------------------------------------- figure data


def test_tier_shares_sum_to_one_per_jurisdiction_and_day(runs):
    df = figure_data(runs)["tiers_over_time"]
    assert list(df.columns[:3]) == ["day", "jurisdiction", "tier"] and "share" in df
    sums = df.groupby(["day", "jurisdiction"])["share"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0, rtol=1e-12)
    assert sorted(df["day"].unique()) == list(range(1, DAYS + 1))
    assert list(dict.fromkeys(df["tier"])) == ["AAA", "AA", "A", "B", "C", "D"]  # top first
    last = df[df["day"] == DAYS].set_index("tier")["share"]
    for tier, share in runs.summary["jurisdictions"]["rongcheng"]["tier_shares"].items():
        assert last[tier] == pytest.approx(share, abs=1e-12)


def test_score_distribution_shares_sum_to_one_per_group(runs):
    df = figure_data(runs)["score_distribution"]
    np.testing.assert_allclose(df.groupby("group")["share"].sum().to_numpy(), 1.0, rtol=1e-12)
    sizes = runs.agents.groupby("group", observed=True).size()
    assert df.groupby("group")["count"].sum().to_dict() == sizes.to_dict()
    for _, sub in df.groupby("group"):  # contiguous bins of one width covering every score
        assert (
            sub["score_min"].diff().dropna()
            == sub["score_max"].iloc[0] - sub["score_min"].iloc[0] + 1
        ).all()
    assert df["score_min"].min() <= runs.agents["score"].min()
    assert df["score_max"].max() >= runs.agents["score"].max()


def test_behaviour_rates_equal_the_summaries(runs):
    df = figure_data(runs)["behaviour_rates"].set_index("behaviour")
    for b, rate in runs.summary["acts_per_agent_year"].items():
        assert df.loc[b, "system"] == pytest.approx(rate, rel=1e-9)
    for b, rate in runs.counterfactual.summary["acts_per_agent_year"].items():
        assert df.loc[b, "counterfactual"] == pytest.approx(rate, rel=1e-9)
    np.testing.assert_allclose(df["difference"], df["system"] - df["counterfactual"])
    assert df.loc["volunteering", "category"] == "prosocial"
    assert df.loc["littering", "category"] == "misconduct"
    # without a counterfactual the column is absent
    alone = figure_data(with_(runs, counterfactual=None))["behaviour_rates"]
    assert "counterfactual" not in alone and len(alone) == len(runs.scenario.behaviours)


def test_disparity_is_relative_to_the_largest_group(runs):
    df = figure_data(runs)["disparity"]
    assert set(df["metric"]) == {
        "sanctions_per_agent_year",
        "listed_share",
        "bottom_tier_share",
        "mean_score",
    }
    largest = df[df["group"] == "majority"]
    assert (largest["ratio"] == 1.0).all() and len(largest) == 4
    scores = df[df["metric"] == "mean_score"].set_index("group")["value"]
    for group, mean in runs.summary["jurisdictions"]["rongcheng"]["mean_score_by_group"].items():
        assert scores[group] == pytest.approx(mean, rel=1e-9)
    minority = df[df["group"] == "minority"].set_index("metric")
    ref = largest.set_index("metric")["value"]
    sanctions = "sanctions_per_agent_year"
    assert minority.loc[sanctions, "ratio"] == pytest.approx(
        minority.loc[sanctions, "value"] / ref[sanctions]
    )
    # the counterfactual has no programme: only the sanctions row is defined
    cf = figure_data(runs.counterfactual)
    assert set(cf["disparity"]["metric"]) == {"sanctions_per_agent_year"}
    # trust is measured in every scenario (issue 15), so its chart exists without a system too
    assert set(cf) == {"behaviour_rates", "disparity", "lorenz", "trust_chilling"}


def test_map_needs_locations_and_counts_low_scores_per_km2(runs, harsh_data):
    positioned = harsh_data["map"]  # the engine places homes on each jurisdiction's plane
    assert set(positioned["jurisdiction"]) == {"rongcheng"}
    assert positioned["agents"].sum() == 3000
    assert "map" not in figure_data(with_(runs, agents=runs.agents.drop(columns=["x", "y"])))
    assert "map" not in figure_data(runs.counterfactual)  # no programme, no low scores
    agents = runs.agents.copy()
    n = len(agents)
    agents["x"] = (np.arange(n) % 4) * 250.0 + 10.0  # four cells in a row
    agents["y"] = 10.0
    agents["tier"] = pd.Series(["A"] * n, dtype="string")
    agents["listed"] = False
    agents.loc[[0, 4, 8], "tier"] = "D"  # cell 0
    agents.loc[[1, 5], "tier"] = "C"  # cell 1
    agents.loc[[2], "listed"] = True  # cell 2 (listed while in tier A)
    agents.loc[[3], "tier"] = "B"  # cell 3: B is not among the two lowest tiers
    df = figure_data(with_(runs, agents=agents))["map"]
    assert list(df["x_min"]) == [0.0, 250.0, 500.0, 750.0] and (df["y_min"] == 0.0).all()
    assert (df["jurisdiction"] == "rongcheng").all()
    assert list(df["low"]) == [3, 2, 1, 0]
    np.testing.assert_allclose(df["density"], np.array([3, 2, 1, 0]) * 16.0)  # per km²
    assert df["agents"].sum() == n


def test_credit_files_from_the_run_log(harsh, harsh_data):
    df = harsh_data["credit_files"]
    examples = dict(zip(df["example"], df["agent"], strict=False))
    assert list(examples) == ["listed", "most records", "false records"]
    assert len(set(examples.values())) == 3
    ev = harsh.events
    records = ev[ev["kind"].isin(["record", "false_record"])].groupby("agent").size()
    listed = examples["listed"]
    assert (
        harsh.agents.loc[listed, "listed"] or (ev[ev["agent"] == listed]["kind"] == "listed").any()
    )
    # the most records among agents not already shown (the listed example may hold the most)
    assert records[examples["most records"]] == records.drop(index=listed).max()
    false_agent = df[df["example"] == "false records"]
    assert false_agent["false"].any() and (false_agent["kind"] == "false_record").any()
    for label, agent in examples.items():  # each example holds that agent's whole file
        assert (df["example"] == label).sum() == (ev["agent"] == agent).sum()
    assert (df["final_score"] == df["agent"].map(harsh.agents.set_index("agent")["score"])).all()


def test_credit_files_absent_without_a_log(runs):
    assert "credit_files" not in figure_data(with_(runs, events=None, path=None))


def synthetic_log() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "agent": [7, 7, 7, 9, 9, 11],
            "day": [3, 5, 8, 2, 4, 6],
            "behavior": ["littering", "littering", "volunteering", "littering", "littering", "x"],
            "points": [-10, -10, 1, -10, -10, -5],
            "is_false": [False, False, False, False, True, True],
        }
    )


@pytest.mark.parametrize("where", ["attribute", "events.parquet", "credit.duckdb"])
def test_credit_file_hooks(runs, tmp_path, where):
    log = synthetic_log()
    agents = runs.agents.copy()
    agents["listed"] = agents["agent"] == 11
    result = with_(runs, events=None, path=tmp_path, agents=agents)
    if where == "attribute":
        result.events = log
    elif where == "events.parquet":
        log.to_parquet(tmp_path / where)
    else:
        con = duckdb.connect(str(tmp_path / where))
        con.register("log", log)
        con.execute("CREATE TABLE events AS SELECT * FROM log")
        con.close()
    df = figure_data(result)["credit_files"]
    examples = dict(zip(df["example"], df["agent"], strict=False))
    assert examples == {"listed": 11, "most records": 7, "false records": 9}
    assert list(df.loc[df["agent"] == 7, "day"]) == [3, 5, 8]
    assert df.loc[df["agent"] == 9, "false"].tolist() == [False, True]
    assert set(df["kind"]) == {"record", "false_record"}
    assert "behaviour" in df  # 'behavior' renamed


def test_two_jurisdictions_one_without_a_programme(tmp_path):
    data = sc.load_scenario("rongcheng", HARSH, agents=2000, days=30).model_dump()
    data["jurisdictions"] = [
        {"name": "city", "share": 0.6, "programme": "rongcheng"},
        {"name": "county", "share": 0.4, "programme": None},
    ]
    result = sc.simulate(Scenario.model_validate(data, strict=False))
    figs = figure_data(result)
    tiers = figs["tiers_over_time"]
    assert set(tiers["jurisdiction"]) == {"city"}
    np.testing.assert_allclose(tiers.groupby("day")["share"].sum().to_numpy(), 1.0)
    listed = figs["disparity"].query("metric == 'listed_share'").set_index("group")["value"]
    m = result.metrics
    last = m[(m["day"] == 30) & (m["jurisdiction"] == "city")]
    for group, share in listed.items():
        cell = last[last["group"] == group].set_index("metric")["value"]
        assert share == pytest.approx(cell["listed"] / cell["agents"])
    city = result.agents[result.agents["jurisdiction"] == "city"]  # scores only where scored
    counts = figs["score_distribution"].groupby("group")["count"].sum()
    assert counts.to_dict() == city.groupby("group", observed=True).size().to_dict()
    assert set(figs["map"]["jurisdiction"]) == {"city"}
    refs = assert_offline(write_report(result, tmp_path / "r.html").read_text(encoding="utf-8"))
    assert {chart_id("tiers_over_time"), chart_id("map")} <= refs.ids


def test_tier_charts_draw_at_most_the_largest_jurisdictions(tmp_path):
    rows = [
        (d, f"j{k}", t, float(k + 1) * (t == "A"), float(t == "A"))
        for k in range(20)
        for t in ("A", "B")
        for d in (1, 2)
    ]
    df = pd.DataFrame(rows, columns=["day", "jurisdiction", "tier", "count", "share"])
    assert charted_jurisdictions(df) == [f"j{k}" for k in range(8, 20)]
    assert charted_jurisdictions(df[df["jurisdiction"].isin(["j0", "j1"])]) == ["j0", "j1"]
    (png,) = write_pngs({"tiers_over_time": df}, tmp_path)
    assert_png(png)


# ----------------------------------------------------------------------------- PNG and HTML


def test_write_pngs_writes_one_readable_png_per_chart(harsh_data, tmp_path):
    assert list(harsh_data) == ALL_CHARTS
    paths = write_pngs(harsh_data, tmp_path / "figures", title="harsh")
    assert [p.name for p in paths] == [
        chart_id(k).removeprefix("chart-") + ".png" for k in ALL_CHARTS
    ]
    for path in paths:
        assert_png(path)


def test_write_report_is_one_offline_page_with_every_chart(runs, tmp_path):
    path = write_report(runs, tmp_path / "report.html")
    html = path.read_text(encoding="utf-8")
    refs = assert_offline(html)
    data = figure_data(runs)
    for key in data:
        assert chart_id(key) in refs.ids
    assert {
        "chart-tiers-over-time",
        "chart-score-distribution",
        "chart-behaviour-rates",
        "chart-disparity",
        "chart-credit-files",
    } <= refs.ids
    meta = runs.scenario.metadata
    assert f"<h1>{meta.name}</h1>" in html
    assert html_escape(meta.description) in html
    assert runs.info["run_id"] in html and f"{AGENTS:,}" in html
    for u in meta.uncertain:
        assert u.field in html
    for s in meta.sources:
        assert f'id="source-{s.id}"' in html
    assert "records_per_agent_year" in html  # the summary numbers
    assert "Bokeh" in html and len(html) > 500_000  # bokeh's JS is inlined
    # the paired counterfactual adds its rates and a side-by-side summary
    assert "without the system" in html
    assert "rongcheng-counterfactual" in html


def test_write_report_into_a_folder_and_harms_note(runs, tmp_path):
    meta = runs.scenario.metadata.model_copy(update={"harms": "Measures <harm> & burden."})
    scenario = runs.scenario.model_copy(update={"metadata": meta})
    path = write_report(with_(runs, scenario=scenario, counterfactual=None), tmp_path)
    assert path == tmp_path / "report.html"
    html = path.read_text(encoding="utf-8")
    assert "Measures &lt;harm&gt; &amp; burden." in html and 'id="harms"' in html
    assert "rongcheng-counterfactual" not in html


# ----------------------------------------------------------------------------- compare


def test_compare_a_run_with_itself_has_no_differences(runs):
    df = compare(runs, runs)
    assert list(df.columns[:4]) == ["metric", "a", "b", "difference"]
    assert df["a"].notna().all() and (df["difference"] == 0).all() and (df["relative"] == 0).all()
    assert (df["note"] == "no change").all()
    names = set(df["metric"])
    assert {
        "jurisdictions.rongcheng.tier_shares.D",
        "jurisdictions.rongcheng.listed_share",
        "jurisdictions.rongcheng.mean_score_by_group.minority",
        "acts_per_agent_year.littering",
        "loan_refusal_rate",
        "trips_blocked_rate",
        "mean_risk",
        "mean_wealth",
    } <= names
    assert "agents" not in names and "days" not in names


def test_compare_with_the_counterfactual(runs):
    df = compare(runs, runs.counterfactual).set_index("metric")
    rec = df.loc["records_per_agent_year"]
    # a change from 0 has no relative change: NaN with a note, never inf
    assert rec["a"] > 0 and rec["b"] == 0 and np.isnan(rec["relative"]) and rec["note"] == "b is 0"
    assert not np.isinf(df["relative"]).any()
    assert df.loc["jurisdictions.rongcheng.listed_share", "b"] == 0.0  # no programme, no list
    assert np.isnan(df.loc["jurisdictions.rongcheng.tier_shares.A", "b"])
    act = "acts_per_agent_year.fee_arrears"
    expected = (
        runs.summary["acts_per_agent_year"]["fee_arrears"]
        - runs.counterfactual.summary["acts_per_agent_year"]["fee_arrears"]
    )
    assert df.loc[act, "difference"] == pytest.approx(expected)


def test_write_compare(runs, tmp_path):
    png, html, md = write_compare(runs, runs.counterfactual, tmp_path / "cmp")
    assert [p.name for p in (png, html, md)] == ["compare.png", "compare.html", "compare.md"]
    assert_png(png)
    page = html.read_text(encoding="utf-8")
    assert "chart-compare" in assert_offline(page).ids
    text = md.read_text(encoding="utf-8")
    assert "| measure | a | b | difference (a - b) | relative | field |" in text
    assert "| Records per agent-year |" in text and runs.info["run_id"] in text
    assert "| records_per_agent_year |" in text  # the field stays, in the last column


# ----------------------------------------------------------------------------- commands


@pytest.fixture(scope="module")
def app():
    app = typer.Typer()
    app.command("report")(report_command)
    app.command("compare")(compare_command)
    return app


def test_report_command(app, runs, tmp_path):
    res = CliRunner().invoke(
        app,
        [
            "report",
            str(runs.path),
            "--against",
            str(runs.counterfactual.path),
            "--out",
            str(tmp_path),
        ],
    )
    assert res.exit_code == 0, res.output
    printed = [Path(line) for line in res.stdout.splitlines()]
    assert printed[0] == tmp_path / "report.html" and all(p.is_file() for p in printed)
    assert {p.name for p in printed[1:]} >= {"tiers-over-time.png", "behaviour-rates.png"}
    assert all(p.parent == tmp_path / "figures" for p in printed[1:])
    assert "rongcheng-counterfactual" in printed[0].read_text(encoding="utf-8")


def test_report_command_defaults_to_the_run_folder(runs):
    report_command(runs.counterfactual.path)  # a plain function too
    assert (runs.counterfactual.path / "report.html").is_file()
    assert (runs.counterfactual.path / "figures" / "behaviour-rates.png").is_file()


def test_compare_command(app, runs, tmp_path):
    res = CliRunner().invoke(
        app, ["compare", str(runs.path), str(runs.counterfactual.path), "--out", str(tmp_path)]
    )
    assert res.exit_code == 0, res.output
    assert [Path(p).name for p in res.stdout.splitlines()] == [
        "compare.png",
        "compare.html",
        "compare.md",
    ]
    default = CliRunner().invoke(app, ["compare", str(runs.path), str(runs.path)])
    assert default.exit_code == 0, default.output
    # its own folder beside run a's, never inside it
    folder = Path(default.stdout.splitlines()[0]).parent
    run_id = runs.info["run_id"]
    assert folder == runs.path.parent / f"compare-{run_id}-{run_id}"
    assert not any(p.name.startswith("compare") for p in runs.path.iterdir())


def test_missing_runs_exit_2_with_a_message(app, runs, tmp_path):
    missing = tmp_path / "nope"
    for args in (
        ["report", str(missing)],
        ["report", str(runs.path), "--against", str(missing)],
        ["compare", str(runs.path), str(missing)],
    ):
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 2, (args, res.output)
        assert "no run folder" in res.stderr and str(missing) in res.stderr
        assert "Traceback" not in res.output and not res.stdout
    with pytest.raises(typer.Exit) as exc:
        compare_command(missing, runs.path)
    assert exc.value.exit_code == 2


def test_help_texts(app):
    res = CliRunner().invoke(app, ["report", "--help"])
    assert res.exit_code == 0 and "--against" in res.stdout and "--out" in res.stdout
    assert "offline" in res.stdout


def test_commands_import_no_plotting_libraries():
    code = (
        "import sys, socialcredit.report.cli as c; c.report_command; "
        "bad = [m for m in ('bokeh', 'matplotlib', 'pandas', 'jax') if m in sys.modules]; "
        "sys.exit(f'imported {bad}' if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


# ----------------------------------------------------------------------------- whole reports


@pytest.fixture(scope="module")
def no_acts(tmp_path_factory):
    """A saved run in which nobody does anything: every behaviour's base rate is zero."""
    base = sc.load_scenario("rongcheng")
    zero = [f"behaviours.{i}.base_rate=0" for i in range(len(base.behaviours))]
    result = sc.simulate(sc.load_scenario("rongcheng", zero, agents=1000, days=5))
    result.save(tmp_path_factory.mktemp("no-acts"))
    assert not any(result.summary["acts_per_agent_year"].values())
    return result


def test_a_run_with_no_acts_gets_its_whole_report(no_acts, tmp_path):
    """Every act rate zero drew a log axis of zeros: a traceback after half the report."""
    proc = subprocess.run(
        [sys.executable, "-m", "socialcredit.cli", "report", str(no_acts.path), "--out", tmp_path],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert_png(tmp_path / "figures" / "behaviour-rates.png")
    assert "every rate is zero" in (tmp_path / "report.html").read_text(encoding="utf-8")


def _explode(*args, **kw):
    raise RuntimeError("chart exploded")


def test_a_report_that_fails_leaves_the_earlier_one_as_it_was(app, no_acts, tmp_path, monkeypatch):
    """Written whole or not at all: a chart failing after the page was rendered leaves the
    earlier page and figures untouched, no temporary folder behind, and no traceback."""
    import socialcredit.charts.report as charts

    (tmp_path / "figures").mkdir()
    earlier = {"report.html": "earlier page", "figures/behaviour-rates.png": "earlier png"}
    for name, text in earlier.items():
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(charts, "disparity", _explode)
    res = CliRunner().invoke(app, ["report", str(no_acts.path), "--out", str(tmp_path)])
    assert res.exit_code == 1, res.output
    assert "cannot write the report" in res.stderr and "chart exploded" in res.stderr
    assert "Traceback" not in res.output and not res.stdout
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == [
        "figures",
        "figures/behaviour-rates.png",
        "report.html",
    ]
    assert {name: (tmp_path / name).read_text() for name in earlier} == earlier

    fresh = tmp_path / "new" / "report"
    res = CliRunner().invoke(app, ["report", str(no_acts.path), "--out", str(fresh)])
    assert res.exit_code == 1, res.output
    assert not fresh.exists()  # a folder made for the report goes again


def test_a_report_replaces_the_earlier_one_whole(no_acts, tmp_path):
    """The figures folder is swapped whole (no stale charts), the page replaced."""
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "stale.png").write_text("from an earlier report")
    (tmp_path / "report.html").write_text("earlier page")
    report_command(no_acts.path, out=tmp_path)
    assert not (tmp_path / "figures" / "stale.png").exists()
    assert (tmp_path / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not list(tmp_path.glob(".tmp-*"))


def test_a_comparison_that_fails_writes_nothing(app, no_acts, tmp_path, monkeypatch):
    import socialcredit.report.comparison as comparison

    monkeypatch.setattr(comparison, "_markdown", _explode)  # the last of its three files
    out = tmp_path / "cmp"
    res = CliRunner().invoke(
        app, ["compare", str(no_acts.path), str(no_acts.path), "--out", str(out)]
    )
    assert res.exit_code == 1, res.output
    assert "cannot write the comparison" in res.stderr and "Traceback" not in res.output
    assert not out.exists()


# ----------------------------------------------------------------------------- issue 16 fixes


def mpl_figure(chart):
    """A chart rendered by matplotlib, as its PNG is."""
    from socialcredit.charts.core import hv

    return hv().render(chart, backend="matplotlib")


def bokeh_model(chart):
    """A chart rendered by bokeh, as the page embeds it (its first plot for a layout)."""
    from socialcredit.charts.core import to_bokeh

    return to_bokeh(chart)


def elements(chart, kind: str) -> list:
    out: list = []
    chart.traverse(lambda e: out.append(e), [lambda e: type(e).__name__ == kind])
    return out


def _section(html: str, key: str) -> str:
    """The HTML of one chart's section."""
    start = html.index(f'<section id="section-{chart_id(key).removeprefix("chart-")}">')
    return html[start : html.index("</section>", start)]


def test_behaviour_rates_say_which_arms_they_show(runs, tmp_path):
    both = figure_data(runs)["behaviour_rates"]
    alone = figure_data(with_(runs, counterfactual=None))["behaviour_rates"]
    for df, truthful, false in (
        (both, "with the system and without it", "no counterfactual"),
        (alone, "with the system (no counterfactual", "and without it"),
    ):
        chart = report_chart("behaviour_rates", df)
        title = mpl_figure(chart).axes[0].get_title()  # the PNG's title; the page's is the same
        assert truthful in title and false not in title
        assert title == bokeh_model(chart).title.text
        arms = {el.label for el in chart}
        assert arms == (
            {"with the system", "without the system"} if df is both else {"with the system"}
        )
    alone_run = with_(runs, counterfactual=None)
    page = write_report(alone_run, tmp_path / "a.html", data={"behaviour_rates": alone}).read_text()
    section = _section(page, "behaviour_rates")
    assert "with the system only" in section and "--against" in section
    page = write_report(runs, tmp_path / "b.html", data={"behaviour_rates": both}).read_text()
    assert "with the system and without it" in _section(page, "behaviour_rates")


def test_tier_charts_are_log_scale_in_html_and_png(harsh_data):
    from bokeh.models import LogScale

    df = harsh_data["tiers_over_time"]
    small = df.groupby("tier")["share"].max().min()
    assert 0 < small < 0.01  # a small tier, that a linear axis would flatten
    chart = report_chart("tiers_over_time", df)
    assert isinstance(bokeh_model(chart).y_scale, LogScale)
    ax = mpl_figure(chart).axes[0]
    assert ax.get_yscale() == "log" and ax.get_ylim()[0] < small


def _scenario_with_map(scenario, radius):
    from socialcredit.scenario.model import DeadbeatMap

    return scenario.model_copy(update={"map": DeadbeatMap(app_share=0.1, radius_m=radius)})


def test_map_draws_no_empty_square_and_no_circle_without_a_map(runs, harsh, harsh_data, tmp_path):
    from socialcredit.report.figures import absent_reasons

    # nobody in the two lowest tiers: no map at all, and the page says why
    assert not runs.agents["tier"].isin(["C", "D"]).any() and not runs.agents["listed"].any()
    data = figure_data(runs)
    assert "map" not in data
    assert "nobody" in absent_reasons(runs, None, data)["map"]
    page = write_report(runs, tmp_path / "r.html", data={}).read_text()
    assert 'id="absent-map"' in page and chart_id("map") not in page

    def circles(df):
        return elements(report_chart("map", df), "Ellipse")

    # low scores but no deadbeat map in the scenario: the density, no radius
    df = harsh_data["map"]
    assert df["radius_m"].isna().all()
    assert circles(df) == [] and elements(report_chart("map", df), "Image")
    assert "no deadbeat map" in _section(
        write_report(harsh, tmp_path / "h.html", data={"map": df}).read_text(), "map"
    )
    # with a map: its own radius, not a hard-coded 500 m
    mapped = figure_data(with_(harsh, scenario=_scenario_with_map(harsh.scenario, 300.0)))["map"]
    (circle,) = circles(mapped)
    assert circle.width == pytest.approx(0.6)  # km, a diameter


def test_summary_numbers_carry_the_audit_labels(runs, tmp_path):
    from socialcredit.audit.catalogue import outcomes_for
    from socialcredit.report.labels import summary_label

    audit = {o.name: o.label for o in outcomes_for(runs.scenario)}
    assert summary_label("records_per_agent_year", runs.scenario) == audit["records"]
    assert (
        summary_label("acts_per_agent_year.littering", runs.scenario)
        == (audit["misconduct.littering"])
    )
    assert summary_label("loan_refusal_rate", runs.scenario) == audit["loan_refusal_rate"]
    page = write_report(with_(runs, counterfactual=None), tmp_path / "r.html", data={})
    page = page.read_text()
    start = page.index('<section id="summary">')
    summary = page[start : page.index("</section>", start)]
    rows = re.findall(r"<tr><td>([^<]*)</td>", summary)
    assert audit["records"] in rows and audit["misconduct.littering"] in rows
    assert not [r for r in rows if "." in r and " " not in r]  # no bare dotted key as a label


def test_compare_has_a_legend_and_no_inf(runs, tmp_path):
    from socialcredit.report.comparison import compare_chart

    chart = compare_chart(compare(runs, runs.counterfactual))
    assert {"a higher than b", "a lower than b"} <= {el.label for el in chart}
    texts = [t.get_text() for t in mpl_figure(chart).axes[0].get_legend().get_texts()]
    assert {"a higher than b", "a lower than b"} <= set(texts)
    legend = bokeh_model(chart).legend[0]
    assert {item.label.value for item in legend.items} >= {"a higher than b", "a lower than b"}
    _, html, md = write_compare(runs, runs.counterfactual, tmp_path)
    page = html.read_text()
    for text in (page[page.index("<table>") :], md.read_text()):
        assert not re.search(r"\binf\b|∞", text, re.IGNORECASE)
        assert "—¹" in text and "not defined (it is not infinite)" in text
    assert 'id="one-seed"' in page and "One run against one run" in md.read_text()
    same = write_compare(runs, runs, tmp_path / "same")[2].read_text()
    assert "| no change | no change |" in same


def test_compare_with_replicates_shows_intervals(app, runs, tmp_path):
    import json

    from socialcredit.audit.statistics import mean_ci
    from socialcredit.report.comparison import compare_replicates

    def shifted(d):
        summary = copy.deepcopy(runs.summary)
        summary["mean_wealth"] += d
        return with_(runs, summary=summary)

    deltas = [0.1, 0.3, 0.2]
    df = compare_replicates([(shifted(d), runs) for d in deltas]).set_index("metric")
    mean, lo, hi, n = mean_ci(deltas)
    row = df.loc["mean_wealth"]
    assert row["difference"] == pytest.approx(mean) and n == row["replicates"] == 3
    assert (row["ci_low"], row["ci_high"]) == (pytest.approx(lo), pytest.approx(hi))
    assert df.loc["records_per_agent_year", "ci_low"] == 0.0  # identical replicates
    # an audit folder alone: its arms, paired over every replicate it keeps
    folder = tmp_path / "audit"
    folder.mkdir()
    arms = [runs.path, runs.counterfactual.path]
    reps = [
        {"replicate": r, "arm": name, "path": str(p)}
        for r in range(2)
        for name, p in zip(("x", "x-counterfactual"), arms, strict=True)
    ]
    (folder / "audit.json").write_text(json.dumps({"replicate_runs": reps}))
    (folder / "audit.parquet").write_bytes(b"")
    res = CliRunner().invoke(app, ["compare", str(folder)])
    assert res.exit_code == 0, res.output
    assert "One run against one run" not in res.stderr
    out = Path(res.stdout.splitlines()[0]).parent
    assert out.parent == tmp_path and not (folder / out.name).exists()
    assert "95% interval over 2 replicates" in (out / "compare.md").read_text()
    one = CliRunner().invoke(app, ["compare", str(runs.path), str(runs.counterfactual.path)])
    assert one.exit_code == 0 and "warning: One run against one run" in one.stderr


def test_tier_transitions_rebuilt_from_the_credit_files(harsh, harsh_data):
    from socialcredit.report.figures import TRANSITION_DAYS, tier_paths

    names, path = tier_paths(harsh)["rongcheng"]
    assert len(harsh.sample) == len(harsh.agents)  # a small run keeps every file
    # the rebuilt last day is the snapshot's tier, agent by agent
    final = harsh.agents.set_index("agent").loc[harsh.sample, "tier"].astype(str).to_numpy()
    assert (np.array(names)[path[:, -1]] == final).all()
    # every day's moves are the engine's tier_up + tier_down counts
    moves = (path[:, 1:] != path[:, :-1]).sum(axis=0)
    m = harsh.metrics[harsh.metrics["metric"].isin(["tier_up", "tier_down"])]
    np.testing.assert_array_equal(moves, m.groupby("day")["value"].sum().to_numpy())
    df = harsh_data["tier_transitions"]
    assert (df["days"] == TRANSITION_DAYS).all() and list(df["from_tier"].unique()) == names
    rows = df.groupby("from_tier")["share"].sum()
    np.testing.assert_allclose(rows[rows > 0], 1.0)
    assert df["count"].sum() == len(harsh.sample) * (DAYS + 1 - TRANSITION_DAYS)


def test_lorenz_curve_of_wealth_matches_the_audit_gini(runs):
    from socialcredit.audit.formulas import gini

    df = figure_data(runs)["lorenz"]
    assert list(df["arm"].unique()) == ["with the system", "without the system"]
    for arm, r in zip(df["arm"].unique(), (runs, runs.counterfactual), strict=True):
        curve = df[df["arm"] == arm]
        share = curve["wealth_share"].to_numpy()
        assert share[0] == 0.0 and share[-1] == pytest.approx(1.0)
        assert (np.diff(share) >= 0).all() and (share <= curve["population_share"] + 1e-12).all()
        assert curve["gini"].iloc[0] == pytest.approx(gini(r.agents["wealth"].to_numpy()))
        # twice the area between the diagonal and the curve is the Gini (to the grid)
        area = np.trapezoid(curve["population_share"] - share, curve["population_share"])
        assert 2 * area == pytest.approx(curve["gini"].iloc[0], abs=0.01)


def informant_runs():
    """Two cells of an informant scenario with known daily numbers, and a counterfactual
    without informants (so without a trust metric)."""
    scenario = sc.load_scenario("xinjiang-informants", agents=1000, days=3)
    cells = [("j", "a", 300.0), ("j", "b", 700.0)]
    rows = []
    for day in (1, 2, 3):
        for j, g, n in cells:
            rows += [(day, j, g, "agents", n)]
            rows += [(day, j, g, "mean_trust", (0.5 if g == "a" else 0.8) - 0.01 * day)]
            rows += [(day, j, g, "acts.public_prayer", 2.0 * day)]
            rows += [(day, j, g, "acts.criticise_government", 1.0)]
            rows += [(day, j, g, "acts.jaywalking", 50.0)]  # misconduct: not chilling
    cols = ["day", "jurisdiction", "group", "metric", "value"]
    metrics = pd.DataFrame(rows, columns=cols)
    cf = metrics[metrics["metric"] != "mean_trust"].copy()
    cf.loc[cf["metric"] == "acts.public_prayer", "value"] = 10.0
    without = sc.Result(scenario=scenario, metrics=cf, agents=None, summary={})
    return sc.Result(scenario=scenario, metrics=metrics, agents=None, summary={}), without


def test_trust_and_chilling_over_time():
    from socialcredit.report.figures import initial_trust, trust_chilling

    result, without = informant_runs()
    df = (
        figure_data(result, without)["trust_chilling"]
        .set_index(["series", "arm", "day"])
        .sort_index()
    )
    for day in (1, 2, 3):  # agent-weighted mean trust; acts per agent-year that day
        trust = (300 * (0.5 - 0.01 * day) + 700 * (0.8 - 0.01 * day)) / 1000
        assert df.loc[("trust", "with the system", day), "value"] == pytest.approx(trust)
        chill = 2 * (2.0 * day + 1.0) / 1000 * 365
        assert df.loc[("chilling", "with the system", day), "value"] == pytest.approx(chill)
        assert df.loc[("chilling", "without the system", day), "value"] == pytest.approx(
            2 * 11.0 / 1000 * 365
        )
    # without informants, trust stays at its initial level (as the audit's mean_trust says)
    level = df.xs(("trust", "without the system"))["value"]
    assert (level == initial_trust(result.scenario)).all()
    assert trust_chilling(with_(result, metrics=result.metrics.iloc[:0])) is None


# ----------------------------------------------------------------------------- browser


def test_report_draws_every_chart_in_headless_chromium(runs, harsh, harsh_data, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) to "
            "render the report in a real browser"
        )
    from playwright.sync_api import sync_playwright

    from socialcredit.report.figures import trust_chilling

    data = {**harsh_data, "trust_chilling": trust_chilling(*informant_runs())}
    report = write_report(harsh, tmp_path / "report.html", runs.counterfactual, data=data)
    compared = write_compare(runs, runs.counterfactual, tmp_path / "cmp")[1]
    charts = [chart_id(k) for k in ALL_CHARTS]
    pages = [(report, charts), (compared, ["chart-compare"])]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for path, ids in pages:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                errors: list[str] = []
                outside: list[str] = []
                page.on("console", lambda m, e=errors: m.type == "error" and e.append(m.text))
                page.on("pageerror", lambda exc, e=errors: e.append(str(exc)))

                def route(r, outside=outside):
                    if r.request.url.startswith(("file:", "data:", "blob:")):
                        r.continue_()
                    else:
                        outside.append(r.request.url)
                        r.abort()

                page.route("**/*", route)
                page.goto(path.as_uri())
                for cid in ids:  # bokeh draws into canvases inside each chart's shadow DOM
                    page.locator(f"#{cid} canvas").first.wait_for(state="attached", timeout=30_000)
                page.wait_for_function("() => window.Bokeh && Bokeh.documents.length === 1")
                page.wait_for_timeout(300)
                for cid in ids:
                    shot = tmp_path / f"{path.stem}-{cid}.png"
                    page.locator(f"#{cid}").screenshot(path=str(shot))
                    assert_not_blank(shot)
                if path == report:  # hovering a day shows every tier's share in one tooltip
                    chart = page.locator("#chart-tiers-over-time")
                    chart.scroll_into_view_if_needed()
                    box = chart.bounding_box()
                    for fx in (0.4, 0.45):
                        page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] / 2)
                    tip = page.get_by_text(re.compile(r"^[\d.]+% \([\d,]+ agents\)$"))
                    tip.first.wait_for(state="visible", timeout=10_000)
                    assert tip.count() == 6  # AAA to D
                full = tmp_path / f"{path.stem}.png"
                page.screenshot(path=str(full), full_page=True)
                assert_png(full)
                assert not errors, errors
                assert not outside, outside
                page.close()
        finally:
            browser.close()
