"""Damaged run folders (issue 18): every run folder carries ``checksums.json`` (each file's size
and sha256, written last); a file truncated, deleted, altered or added since is refused with one
line naming it (`DamagedRun` from Python, exit 2 from `report`, `explain` and `compare`), and a
folder written before the manifest existed still opens."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import socialcredit as sc
from socialcredit.integrity import MANIFEST, DamagedRun, verify_folder
from socialcredit.store import RunNotFound

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    """One tiny real run folder (500 agents, 4 days), with its credit file."""
    root = tmp_path_factory.mktemp("runs")
    return sc.simulate(sc.load_scenario("rongcheng", agents=500, days=4)).save(root)


@pytest.fixture
def run(saved, tmp_path) -> Path:
    """A fresh copy of the saved run to damage."""
    return Path(shutil.copytree(saved, tmp_path / saved.name))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def flip(path: Path, at: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    at = len(data) // 2 if at is None else at
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def refused_with(run: Path, *texts: str) -> DamagedRun:
    with pytest.raises(DamagedRun) as caught:
        sc.open_run(run)
    message = str(caught.value)
    assert "\n" not in message and str(run) in message
    for text in texts:
        assert text in message, message
    return caught.value


def test_the_manifest_lists_every_file_and_is_written_last(saved):
    manifest = json.loads((saved / MANIFEST).read_text())
    files = {p.name for p in saved.iterdir() if p.name != MANIFEST}
    assert set(manifest["files"]) == files and {"events.parquet", "sample.parquet"} <= files
    assert all(len(v["sha256"]) == 64 for v in manifest["files"].values())
    assert verify_folder(saved) is True
    sc.open_run(saved)


def test_a_truncated_parquet_file_is_named(run):
    truncate(run / "metrics.parquet")
    error = refused_with(run, "metrics.parquet is truncated")
    assert error.file == "metrics.parquet" and isinstance(error, RunNotFound)


def test_a_deleted_file_is_named(run):
    (run / "agents.parquet").unlink()
    refused_with(run, "agents.parquet is missing")


@pytest.mark.parametrize("name", ["events.parquet", "metrics.parquet", "summary.json"])
def test_a_flipped_byte_is_named(run, name):
    flip(run / name)
    refused_with(run, f"{name} is altered")


def test_a_data_file_added_after_the_run_is_refused(run):
    shutil.copyfile(run / "agents.parquet", run / "firms.parquet")
    refused_with(run, "firms.parquet is not listed")


def test_a_damaged_manifest_is_named(run):
    (run / MANIFEST).write_text("{not json")
    refused_with(run, f"{MANIFEST} is not valid JSON")
    (run / MANIFEST).write_text(json.dumps({"format": 1, "files": {"../../etc/passwd": {}}}))
    refused_with(run, f"{MANIFEST} is not a file manifest")


def test_files_the_report_adds_later_do_not_count(run):
    (run / "report.html").write_text("<html></html>")
    (run / "figures").mkdir()
    sc.open_run(run)


def test_an_old_folder_without_a_manifest_opens_unchecked(run):
    (run / MANIFEST).unlink()
    assert verify_folder(run) is False
    assert sc.open_run(run).events is not None


@pytest.mark.parametrize(
    ("name", "damage", "text"),
    [
        ("metrics.parquet", truncate, "metrics.parquet"),
        ("info.json", truncate, "info.json"),
        ("summary.json", lambda p: p.write_text("[]"), "summary.json"),
        ("events.parquet", truncate, "events.parquet"),
        ("scenario.yaml", lambda p: p.write_text("seed: [\n"), "scenario.yaml"),
    ],
)
def test_an_old_folder_that_cannot_be_parsed_is_refused_naming_the_file(run, name, damage, text):
    (run / MANIFEST).unlink()
    damage(run / name)
    refused_with(run, text)


def test_report_explain_and_compare_refuse_a_damaged_folder_with_exit_2(run, saved):
    truncate(run / "metrics.parquet")
    env = {**os.environ, "COLUMNS": "100", "PYTHONPATH": str(ROOT / "src")}
    for args in (["report", run], ["explain", run, "--agent", "0"], ["compare", saved, run]):
        proc = subprocess.run(
            [sys.executable, "-m", "socialcredit.cli", *map(str, args)],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
        )
        assert proc.returncode == 2, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "metrics.parquet is truncated" in lines[0], lines
    assert not (run / "report.html").exists()


def test_the_credit_file_log_is_parquet_and_an_old_folders_duckdb_log_still_reads(run):
    """The log is events.parquet and sample.parquet (with the folder's run_id, as every table);
    a folder written before keeps it in credit.duckdb, which opens to the same events; the
    catalog's DuckDB connection has a view over the logs of every run."""
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq

    from socialcredit.integrity import write_manifest
    from socialcredit.results.credit import write_credit_db
    from socialcredit.store.catalog import connect

    new = sc.open_run(run)
    assert not (run / "credit.duckdb").exists()
    assert pq.read_table(run / "events.parquet").column_names[0] == "run_id"
    con = connect(run.parent)
    assert con.execute("SELECT count(*) FROM events").fetchone() == (len(new.events),)
    assert len(new.events) > 0
    write_credit_db(run / "credit.duckdb", new.events, np.asarray(new.sample))
    for name in ("events.parquet", "sample.parquet"):
        (run / name).unlink()
    write_manifest(run)
    old = sc.open_run(run)
    pd.testing.assert_frame_equal(old.events, new.events)
    np.testing.assert_array_equal(old.sample, new.sample)
