"""A run killed with SIGKILL (issue 18): nothing half-written is trusted, the run's
``.started`` marker shows it as failed (its process is dead) in `socialcredit runs`, and the
next run into the same folder works. The kill lands while the run compiles, simulates, or
saves (its folder written in full under ``.tmp-*`` but not yet renamed into place, a point the
run is told to stop at by the test-only SOCIALCREDIT_TEST_PAUSE_AT). There is no catalog update
to kill: the catalog is a view over the folders (store/catalog.py)."""

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


@pytest.mark.slow  # ~15 s of CPU: a run's compile, then a save
def test_a_run_killed_while_saving_is_not_trusted_and_the_next_run_saves(tmp_path):
    """SIGKILL between writing the run's folder (complete, under ``.tmp-*``) and renaming it
    into place: no run folder, the run listed failed, nothing done; the next run saves."""
    root = tmp_path / "runs"
    env = {**ENV, "SOCIALCREDIT_TEST_PAUSE_AT": "save", "SOCIALCREDIT_TEST_PAUSE_S": "120"}
    cmd = [sys.executable, "-m", "socialcredit.cli", "run", "rongcheng", "--agents", "300",
           "--days", "2", "-q", "--out", str(root)]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    for line in proc.stderr:  # the marker is printed once the folder is written
        seen.append(line)
        if line.strip() == "paused at save":
            break
    assert seen and seen[-1].strip() == "paused at save", "".join(seen)[-2000:]
    tmp = [p for p in root.iterdir() if p.name.startswith(".tmp-")]
    assert len(tmp) == 1 and (tmp[0] / "checksums.json").is_file()  # written, not yet in place
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=60) == -signal.SIGKILL
    proc.stdout.close()
    proc.stderr.close()
    dead = check_dead_run_listed_as_failed(root, proc.pid)
    with pytest.raises(sc.store.RunNotFound):  # the whole but unpublished folder is no run
        sc.open_run(root / tmp[0].name[len(".tmp-") :])
    from socialcredit.store import save_run

    path = save_run(sc.simulate(sc.load_scenario("rongcheng", agents=300, days=2)), root)
    statuses = dict(sc.store.catalog(root)[["id", "status"]].values.tolist())
    assert statuses == {dead: "failed", path.name: "done"}
    assert sc.open_run(path).info["status"] == "done"
    # a kill after the rename, before the marker is removed: the folder wins over its marker
    marker = root / STARTED_DIR / f"{path.name}.json"
    marker.write_text(json.dumps({"run_id": path.name, "pid": proc.pid, "status": "running"}))
    statuses = dict(sc.store.catalog(root)[["id", "status"]].values.tolist())
    assert statuses == {dead: "failed", path.name: "done"}
