"""The command line, end to end in subprocesses: run, show, validate, schema, scenarios, runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import socialcredit

ROOT = Path(__file__).parents[1]


def cli(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "socialcredit.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "100", **(env or {})},
    )


def ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    return proc


def run_folder(proc: subprocess.CompletedProcess, root: Path) -> Path:
    """The run folder the command printed (the only folder it may have made under root)."""
    folders = [p for p in root.iterdir() if p.is_dir() and p.name in proc.stdout]
    assert len(folders) == 1, proc.stdout
    return folders[0]


def metrics(folder: Path) -> pd.DataFrame:
    """The run's metrics file without its run_id column (which differs between runs)."""
    table = pd.read_parquet(folder / "metrics.parquet")
    assert set(table["run_id"].astype(str)) == {folder.name}
    return table.drop(columns="run_id").astype({"jurisdiction": str, "group": str, "metric": str})


def catalog(root: Path) -> pd.DataFrame:
    from socialcredit.store import list_runs

    return list_runs(root)


# ----------------------------------------------------------------------------- run


def test_run_writes_a_complete_run_folder_and_catalog_row(tmp_path):
    root = tmp_path / "runs"
    args = ("--agents", 3000, "--days", 20, "--set", "response.model=fixed")
    proc = ok(cli("run", "rongcheng", *args, "--out", root))
    folder = run_folder(proc, root)
    for name in ("scenario.yaml", "metrics.parquet", "agents.parquet", "summary.json"):
        assert (folder / name).is_file(), name

    m = metrics(folder)
    assert list(m.columns) == ["day", "jurisdiction", "group", "metric", "value", "aggregation"]
    assert sorted(m["day"].unique()) == list(range(1, 21))
    assert "tier.A" in set(m["metric"])
    assert {"checkups", "bike_rentals", "reward_loans"} <= set(m["metric"])  # counted rewards
    assert "Rewards given" in proc.stdout
    assert len(pd.read_parquet(folder / "agents.parquet")) == 3000

    rows = catalog(root)
    assert len(rows) == 1
    row = rows.iloc[0]
    assert (row.status, row.agents, row.days, row.scenario_name) == ("done", 3000, 20, "rongcheng")
    assert row.run_id == folder.name
    assert json.loads((folder / "summary.json").read_text())["info"]["run_id"] == folder.name
    overrides = {"set": ["response.model=fixed"], "agents": 3000, "days": 20}
    assert json.loads((folder / "info.json").read_text())["overrides"] == overrides
    assert json.loads(row.overrides) == overrides
    assert set(pd.read_parquet(folder / "agents.parquet")["run_id"].astype(str)) == {folder.name}

    # the summary the command prints
    for text in ("Tiers", "Listed", "Behaviour", "littering", "Mean score", "majority"):
        assert text in proc.stdout, text
    for text in ("Loan refusal rate", "Trips blocked rate", "False-record share", "agent-days/s"):
        assert text in proc.stdout, text
    assert f"Run folder           {folder}\n" in proc.stdout  # whole, however long
    assert max(len(line) for line in proc.stdout.splitlines() if str(folder) not in line) <= 100

    listed = ok(cli("runs", "--out", root))
    assert folder.name in listed.stdout and "done" in listed.stdout


@pytest.fixture(scope="module")
def small_runs(tmp_path_factory) -> dict[str, pd.DataFrame]:
    """Metrics of 2,000 agents x 10 days, seed 3, reached in different ways (and seed 4)."""
    tmp = tmp_path_factory.mktemp("cli")
    shown = tmp / "shown.yaml"
    proc = ok(cli("show", "rongcheng"))
    shown.write_text(proc.stdout, encoding="utf-8")
    assert "ok: " in ok(cli("validate", shown)).stdout

    size = ("--agents", 2000, "--days", 10)
    ways = {
        "preset": ("rongcheng", *size, "--seed", 3),
        "again": ("rongcheng", *size, "--seed", 3),
        "shown": (shown, *size, "--seed", 3),
        "chunked": ("rongcheng", *size, "--seed", 3, "--chunk-days", 3),
        "seed4": ("rongcheng", *size, "--seed", 4),
    }
    out = {}
    for name, args in ways.items():
        root = tmp / name
        out[name] = metrics(run_folder(ok(cli("run", *args, "--out", root, "--quiet")), root))
    return out


def test_same_seed_gives_identical_metrics(small_runs):
    pd.testing.assert_frame_equal(small_runs["preset"], small_runs["again"])
    assert small_runs["preset"]["value"].sum() > 0


def test_show_output_runs_the_same_scenario(small_runs):
    pd.testing.assert_frame_equal(small_runs["preset"], small_runs["shown"])


def test_chunk_size_does_not_change_results(small_runs):
    pd.testing.assert_frame_equal(small_runs["preset"], small_runs["chunked"])


def test_another_seed_gives_other_metrics(small_runs):
    assert not small_runs["preset"].equals(small_runs["seed4"])


def test_quiet_prints_only_the_run_folder(tmp_path):
    proc = ok(cli("run", "rongcheng", "--agents", 500, "--days", 3, "--out", tmp_path, "--quiet"))
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1 and Path(lines[0]).is_dir()


def test_failing_run_is_marked_failed_without_traceback(tmp_path):
    # an unknown JAX backend fails inside simulate, after the run is recorded as running
    args = ("run", "rongcheng", "--agents", 100, "--days", 3, "--out", tmp_path)
    proc = cli(*args, env={"JAX_PLATFORMS": "no-such-backend"})
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "failed" in proc.stderr
    rows = catalog(tmp_path)
    assert list(rows["status"]) == ["failed"]
    assert "no-such-backend" in rows.iloc[0]["error"]
    assert json.loads(rows.iloc[0]["overrides"]) == {"agents": 100, "days": 3}
    assert [p.name for p in tmp_path.iterdir()] == [".started"]  # a marker, no run folder
    listed = ok(cli("runs", "--out", tmp_path, "--json"))
    assert [(r["kind"], r["status"]) for r in json.loads(listed.stdout)] == [("run", "failed")]


# ----------------------------------------------------------------------------- scenario errors


def test_bad_override_on_run_exits_2(tmp_path):
    proc = cli("run", "rongcheng", "--set", "population.agents=-5", "--out", tmp_path)
    assert proc.returncode == 2
    assert "population.agents" in proc.stderr and "<command line>" in proc.stderr
    assert "[population.agents=-5]" in proc.stderr  # brackets survive: no rich markup
    assert "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []  # nothing recorded for an invalid scenario


def test_missing_scenario_file_exits_2(tmp_path):
    proc = cli("run", tmp_path / "nope.yaml", "--out", tmp_path)
    assert proc.returncode == 2
    assert "nope.yaml" in proc.stderr and "Traceback" not in proc.stderr


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_validate_reports_file_line_and_field(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(ok(cli("show", "rongcheng", "--agents", 1234, "--days", 7)).stdout)

    text = good.read_text()
    first_rate = next(line for line in text.splitlines() if "base_rate:" in line)
    over_one = tmp_path / "over_one.yaml"
    over_one.write_text(text.replace(first_rate, first_rate.split(":")[0] + ": 1.2", 1))
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(text.replace("  agents: 1234", "  agents: 1234\n  agnets: 5", 1))

    proc = cli("validate", good, over_one, unknown)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "ok: " in proc.stdout and "good.yaml" in proc.stdout and "1,234 agents" in proc.stdout
    assert "over_one" not in proc.stdout

    line = _line_of(over_one.read_text(), "base_rate: 1.2")
    assert f"over_one.yaml:{line}: behaviours.0.base_rate = 1.2" in proc.stderr
    line = _line_of(unknown.read_text(), "agnets")
    assert f"unknown.yaml:{line}: population.agnets" in proc.stderr

    assert ok(cli("validate", good)).stdout.startswith(f"ok: {good}")


# ----------------------------------------------------------------------------- other commands


def test_schema_is_json():
    schema = json.loads(ok(cli("schema")).stdout)
    assert "properties" in schema


def test_schema_to_file(tmp_path):
    target = tmp_path / "schema.json"
    ok(cli("schema", "--out", target))
    assert "properties" in json.loads(target.read_text())


def test_scenarios_lists_presets():
    assert "rongcheng" in ok(cli("scenarios")).stdout


def test_version():
    assert socialcredit.__version__ in ok(cli("--version")).stdout


def test_show_applies_overrides():
    proc = ok(cli("show", "rongcheng", "--set", "days=12", "--agents", 99))
    assert "days: 12" in proc.stdout and "agents: 99" in proc.stdout
    assert "\x1b[" not in proc.stdout  # plain text, fit for a file


def test_runs_on_an_empty_folder(tmp_path):
    assert "no runs" in ok(cli("runs", "--out", tmp_path)).stdout


def test_runs_lists_sweeps_and_searches_filters_and_refuses_bad_input(tmp_path):
    base = {"scenario_hash": "abc", "ended": None, "status": "running", "agents": 200}
    base |= {"days": 5, "wall_s": None, "version": "0.1.0", "experiments": 3, "replicates": 2}
    for kind, folder, scenario in (
        ("sweep", tmp_path / "sweeps" / "s1", "rongcheng"),
        ("search", tmp_path / "q1", "court-blacklist"),
    ):
        folder.mkdir(parents=True)
        manifest = base | {"kind": kind, "id": folder.name, "name": f"my {kind}"}
        manifest |= {"scenario_name": scenario, "created": "2024-07-01T09:00:00Z"}
        (folder / f"{kind}.json").write_text(json.dumps(manifest))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "sweep.json").write_text("{")

    table = ok(cli("runs", "--out", tmp_path))
    assert "s1" in table.stdout and "q1" in table.stdout and "3×2" in table.stdout
    assert "broken" in table.stderr and "unreadable" in table.stderr
    listed = ok(cli("runs", "--out", tmp_path, "--kind", "search", "--json"))
    rows = json.loads(listed.stdout)  # the whole of stdout is the array
    assert [(r["kind"], r["id"], r["status"]) for r in rows] == [("search", "q1", "running")]
    assert rows[0]["created"] == "2024-07-01T09:00:00Z" and rows[0]["ended"] is None
    rows = json.loads(ok(cli("runs", "--out", tmp_path, "--scenario", "rong", "--json")).stdout)
    assert [r["id"] for r in rows] == ["s1"]

    for args, text in (
        (("--kind", "bogus"), "--kind 'bogus': use one of run, audit, sweep, search"),
        (("--out", tmp_path / "sweeps" / "s1" / "sweep.json"), "is a file"),
    ):
        proc = cli("runs", "--out", tmp_path, *args)
        assert proc.returncode == 2 and text in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_run_that_cannot_fit_is_refused_before_it_starts(tmp_path):
    """A population beyond this machine's memory gets the estimate and exit code 2."""
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "socialcredit.cli",
            "run",
            "rongcheng",
            "--agents",
            "1900000000",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 2, res.stderr
    assert "GiB" in res.stderr and "--agents" in res.stderr and "Traceback" not in res.stderr
    assert list(tmp_path.iterdir()) == []  # nothing recorded
