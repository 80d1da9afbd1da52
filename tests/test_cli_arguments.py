"""Command-line arguments checked first (issue 18): each refusal names the argument and the fix,
exits 2 without a traceback and writes nothing (no run folder, no catalog row); an argument
that only costs time (a chunk longer than the run) is clamped instead."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import socialcredit as sc
from socialcredit.engine import run as engine_run

ROOT = Path(__file__).parents[1]
SMALL = ("--agents", "100", "--days", "3")


def cli(*args: str | Path, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """The command line in a subprocess, run in ``cwd`` (this checkout's code wins)."""
    return subprocess.run(
        [sys.executable, "-m", "socialcredit.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "100", "PYTHONPATH": str(ROOT / "src")},
    )


def refused(proc: subprocess.CompletedProcess, *texts: str) -> None:
    assert proc.returncode == 2, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    for text in texts:
        assert text in proc.stderr, (text, proc.stderr)


def everything_in(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


# ----------------------------------------------------------------------------- --devices


def test_more_devices_than_jax_sees_is_refused_before_the_run_is_recorded(tmp_path):
    import jax

    seen = len(jax.devices())  # the subprocess sees the same
    proc = cli("run", "rongcheng", *SMALL, "--devices", "99", "--out", "runs", cwd=tmp_path)
    refused(proc, "error: --devices 99: JAX sees", f"use --devices {seen} or fewer")
    assert everything_in(tmp_path) == []  # no runs/, no .started marker, no run folder


# ----------------------------------------------------------------------------- --chunk-days


def test_a_chunk_longer_than_the_run_is_clamped_and_changes_nothing(monkeypatch):
    """simulate_arrays compiles no chunk longer than the run (a 3-day run asked for 10,000-day
    chunks scanned 10,000 days), and the clamped run equals the run with the default chunk."""
    scenario = sc.load_scenario("rongcheng", agents=1000, days=3)
    default = sc.simulate(scenario)
    chunks: list[int] = []
    original = engine_run.run_chunk

    def recording(spec, chunk, *args, **kw):
        chunks.append(chunk)
        return original(spec, chunk, *args, **kw)

    monkeypatch.setattr(engine_run, "run_chunk", recording)
    clamped = sc.simulate(scenario, chunk_days=10_000)
    assert chunks and max(chunks) == 3, chunks
    pd.testing.assert_frame_equal(clamped.metrics, default.metrics)
    pd.testing.assert_frame_equal(clamped.agents, default.agents)
    pd.testing.assert_frame_equal(clamped.events, default.events)


def test_a_huge_chunk_on_the_command_line_runs_like_the_default(tmp_path):
    small = ("rongcheng", "--agents", "1000", "--days", "3", "--quiet")
    a = cli("run", *small, "--out", "a", cwd=tmp_path, timeout=120)
    b = cli("run", *small, "--chunk-days", "100000", "--out", "b", cwd=tmp_path, timeout=120)
    for proc in (a, b):
        assert proc.returncode == 0, proc.stderr
    metrics = [
        pd.read_parquet(tmp_path / p.stdout.strip() / "metrics.parquet").drop(columns="run_id")
        for p in (a, b)
    ]
    pd.testing.assert_frame_equal(*metrics)


# ----------------------------------------------------------------------------- --out ''


@pytest.mark.parametrize(
    "args",
    [
        ("run", "rongcheng", *SMALL),
        ("runs",),
        ("audit", "rongcheng", *SMALL, "--replicates", "1"),
        ("report", "some-run"),
        ("compare", "run-a", "run-b"),
        ("schema",),
    ],
    ids=lambda args: args[0],
)
def test_an_empty_out_is_refused_not_read_as_the_current_folder(tmp_path, args):
    proc = cli(*args, "--out", "", cwd=tmp_path)
    refused(proc, "Invalid value for '--out'", "empty path", "--out .")
    assert everything_in(tmp_path) == []


# ----------------------------------------------------------------------------- audit


def test_audit_refuses_a_population_this_machine_cannot_hold_with_exit_2(tmp_path):
    """The same refusal as `run`'s (tests/test_cli.py), before anything runs or is written."""
    proc = cli("audit", "rongcheng", "--agents", "1900000000", "--out", "audits", cwd=tmp_path)
    refused(proc, "error: a run of 1,900,000,000 agents needs about", "GiB", "use --agents")
    assert "audit failed" not in proc.stderr
    assert everything_in(tmp_path) == []


def test_run_arguments_take_an_id_as_socialcredit_runs_prints_it(tmp_path, monkeypatch):
    """`explain`, `report` and `compare` accept a run, audit or sweep id: a bare name found once
    under runs/ (or $SOCIALCREDIT_RUNS) down to three levels; a path or an unknown name is
    kept as given, so the command's own message names it."""
    from socialcredit.console import run_path

    root = tmp_path / "runs"
    (root / "20261128-120000-rongcheng-0-abcdef").mkdir(parents=True)
    (root / "sweeps" / "informants-7a6535562d").mkdir(parents=True)
    (root / ".tmp-hidden").mkdir()
    monkeypatch.setenv("SOCIALCREDIT_RUNS", str(root))
    monkeypatch.chdir(tmp_path)
    assert (
        run_path("20261128-120000-rongcheng-0-abcdef")
        == root / "20261128-120000-rongcheng-0-abcdef"
    )
    assert run_path("informants-7a6535562d") == root / "sweeps" / "informants-7a6535562d"
    assert run_path(".tmp-hidden") == Path(".tmp-hidden")  # hidden folders are never looked up
    assert run_path("nope") == Path("nope")
    assert run_path("runs/x") == Path("runs/x")
    (tmp_path / "here").mkdir()
    assert run_path("here") == Path("here")  # an existing path wins
