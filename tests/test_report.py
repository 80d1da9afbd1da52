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
from typer.testing import CliRunner

import socialcredit as sc
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
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
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
ALL_CHARTS = [
    "tiers_over_time",
    "score_distribution",
    "behaviour_rates",
    "disparity",
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
    assert set(cf) == {"behaviour_rates", "disparity"}


def test_map_needs_locations_and_counts_low_scores_per_km2(runs):
    positioned = figure_data(runs)["map"]  # the engine places homes on each jurisdiction's plane
    assert set(positioned["jurisdiction"]) == {"rongcheng"}
    assert positioned["agents"].sum() == AGENTS
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
    assert "without the system (counterfactual)" in html
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
    assert rec["a"] > 0 and rec["b"] == 0 and rec["relative"] == np.inf
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
    assert "| metric | a | b | difference (a - b) | relative |" in text
    assert "| records_per_agent_year |" in text and runs.info["run_id"] in text


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
    assert Path(default.stdout.splitlines()[0]).parent == runs.path / f"compare-{runs.path.name}"


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
    import socialcredit.report.figures as figures

    (tmp_path / "figures").mkdir()
    earlier = {"report.html": "earlier page", "figures/behaviour-rates.png": "earlier png"}
    for name, text in earlier.items():
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(figures, "_png_disparity", _explode)
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


# ----------------------------------------------------------------------------- browser


def test_report_draws_every_chart_in_headless_chromium(runs, harsh, harsh_data, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) to "
            "render the report in a real browser"
        )
    from playwright.sync_api import sync_playwright

    report = write_report(harsh, tmp_path / "report.html", runs.counterfactual, data=harsh_data)
    compared = write_compare(runs, runs.counterfactual, tmp_path / "cmp")[1]
    pages = [(report, [chart_id(k) for k in ALL_CHARTS]), (compared, ["chart-compare"])]
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
