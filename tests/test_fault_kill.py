"""A run killed with SIGKILL (issue 18): nothing half-written is trusted, the run's
``.started`` marker shows it as failed (its process is dead) in `socialcredit runs`, and the
next run into the same folder works. The kill lands while the run compiles or simulates; a
kill inside the save is `tests/test_store.py::test_killed_writer_leaves_only_tmp_folder`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import socialcredit as sc
from socialcredit.store.catalog import STARTED_DIR

ROOT = Path(__file__).parents[1]
ENV = {
    **os.environ,
    "COLUMNS": "100",
    "PYTHONPATH": str(ROOT / "src"),
    "SOCIALCREDIT_CACHE": "off",
}


def cli(*args: str | Path, **kw) -> subprocess.Popen | subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "socialcredit.cli", *map(str, args)]
    if kw.pop("background", False):
        return subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=300)


def kill_when_started(root: Path, after_s: float) -> tuple[int, list[Path]]:
    """Start a long run, SIGKILL it ``after_s`` seconds after its marker appears; (pid,
    markers). The run (2,000 agents, 3,000 days) cannot finish in that time."""
    proc = cli("run", "rongcheng", "--agents", "2000", "--days", "3000", "-q", "--out", root,
               background=True)  # fmt: skip
    deadline = time.monotonic() + 120
    markers: list[Path] = []
    while not markers and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
        markers = list((root / STARTED_DIR).glob("*.json")) if (root / STARTED_DIR).is_dir() else []
    assert markers, f"no marker; exit {proc.poll()}: {proc.stderr.read().decode()[-2000:]}"
    time.sleep(after_s)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=60) == -signal.SIGKILL
    proc.stdout.close()
    proc.stderr.close()
    return proc.pid, markers


def check_dead_run_listed_as_failed(root: Path, pid: int) -> str:
    folders = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert folders == []  # no run folder: nothing half-written can be opened as a run
    listed = cli("runs", "--out", root, "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [r["status"] for r in rows] == ["failed"], rows
    assert str(pid) in rows[0]["error"] and "exited without recording an end" in rows[0]["error"]
    assert sc.store.catalog(root).query("status == 'done'").empty
    return rows[0]["id"]


def test_a_run_killed_while_compiling_is_listed_failed_and_the_folder_stays_usable(tmp_path):
    root = tmp_path / "runs"
    pid, _ = kill_when_started(root, after_s=0.0)
    dead = check_dead_run_listed_as_failed(root, pid)
    # the folder takes new runs (a saved result; the whole command line again: the slow test)
    from socialcredit.store import save_run

    result = sc.simulate(sc.load_scenario("rongcheng", agents=500, days=2))
    path = save_run(result, root)
    statuses = dict(sc.store.catalog(root)[["id", "status"]].values.tolist())
    assert statuses == {dead: "failed", path.name: "done"}
    assert sc.open_run(path).info["status"] == "done"


@pytest.mark.slow
def test_a_run_killed_while_simulating_then_run_again(tmp_path):
    root = tmp_path / "runs"
    pid, _ = kill_when_started(root, after_s=6.0)
    dead = check_dead_run_listed_as_failed(root, pid)
    again = cli("run", "rongcheng", "--agents", "500", "--days", "3", "-q", "--out", root)
    assert again.returncode == 0, again.stderr
    folder = Path(again.stdout.strip().splitlines()[-1])
    assert folder.is_dir() and sc.open_run(folder).info["status"] == "done"
    statuses = dict(sc.store.catalog(root)[["id", "status"]].values.tolist())
    assert statuses == {dead: "failed", folder.name: "done"}
