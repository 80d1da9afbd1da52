"""Run folders and the catalog: round trips, lifecycle, crashes, dead writers, and the listing
of runs, audits, sweeps and searches read from the folders' own manifests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from socialcredit.result import Result, open_run
from socialcredit.scenario.model import Scenario
from socialcredit.store import (
    RunNotFound,
    catalog,
    list_runs,
    record_end,
    record_start,
    save_run,
)

PRESET = Path(__file__).parents[1] / "src/socialcredit/scenario/presets/rongcheng.yaml"
LOADER = "socialcredit.scenario.loader"


def loader_stub() -> types.ModuleType | None:
    """Stand-ins for the scenario loader's contract, or None once the real loader exists."""
    try:
        import socialcredit.scenario.loader  # noqa: F401
    except ImportError:
        stub = types.ModuleType(LOADER)
        stub.resolved_yaml = lambda s: yaml.safe_dump(s.model_dump(mode="json"), sort_keys=False)
        stub.load_scenario = lambda p: Scenario.model_validate(
            yaml.safe_load(Path(p).read_text(encoding="utf-8"))
        )
        return stub
    return None


@pytest.fixture(autouse=True)
def loader(monkeypatch):
    stub = loader_stub()
    if stub is not None:
        monkeypatch.setitem(sys.modules, LOADER, stub)


def make_result(agents: bool = True) -> Result:
    scenario = Scenario.model_validate(yaml.safe_load(PRESET.read_text(encoding="utf-8")))
    labels = [("rongcheng", "all", "mean_score"), ("rongcheng", "poor", "blacklisted")]
    rows = [(d, *label, d * 0.5 + k) for k, label in enumerate(labels) for d in range(1, 6)]
    metrics = pd.DataFrame(rows, columns=["day", "jurisdiction", "group", "metric", "value"])
    metrics["day"] = metrics["day"].astype("int32")
    metrics["aggregation"] = ["mean"] * 5 + ["sum"] * 5  # as tidy_metrics writes it
    frame = pd.DataFrame(
        {
            "score": np.arange(10, dtype="int16") * 7,
            "wealth": np.linspace(0.1, 3.0, 10),
            "blacklisted": np.arange(10) % 3 == 0,
        }
    )
    info = {
        "scenario_name": scenario.metadata.name,
        "scenario_hash": "abc123",
        "seed": scenario.seed,
        "version": "0.1.0",
        "started": "2024-05-01T10:00:00+00:00",
        "ended": "2024-05-01T10:00:02+00:00",
        "wall_s": 2.5,
        "agents": 10,
        "days": 5,
        "status": "done",
    }
    summary = {"mean_score": 1000.5, "blacklisted_share": np.float64(0.25), "by": {"poor": [1, 2]}}
    return Result(scenario, metrics, frame if agents else None, summary, info)


def run_python(code: str) -> subprocess.CompletedProcess:
    """Run code in a fresh interpreter with this module's helpers and the loader stand-ins."""
    prelude = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_store import LOADER, loader_stub, make_result
        if (stub := loader_stub()) is not None:
            sys.modules[LOADER] = stub
        """
    )
    cmd = [sys.executable, "-c", prelude + textwrap.dedent(code)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_round_trip(tmp_path):
    result = make_result()
    path = save_run(result, tmp_path)
    assert path == tmp_path / result.info["run_id"] and result.path == path
    assert sorted(p.name for p in path.iterdir()) == sorted(
        ["scenario.yaml", "metrics.parquet", "agents.parquet", "summary.json", "info.json"]
        + ["checksums.json"]
    )
    back = open_run(path)
    pd.testing.assert_frame_equal(back.metrics, result.metrics)
    assert back.metrics["day"].dtype == np.int32
    pd.testing.assert_frame_equal(back.agents, result.agents)
    assert back.summary == {**result.summary, "blacklisted_share": 0.25}
    assert back.scenario == result.scenario
    assert back.info == result.info and back.info["status"] == "done"
    assert back.path == path
    assert not list(tmp_path.glob(".tmp-*"))


def test_metrics_parquet_is_dictionary_encoded(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = save_run(make_result(), tmp_path)
    schema = pq.read_schema(path / "metrics.parquet")
    assert schema.field("day").type == pa.int32()
    for col in ("jurisdiction", "group", "metric", "run_id"):
        assert pa.types.is_dictionary(schema.field(col).type)
    run_id = path.name
    for name in ("metrics", "agents"):
        ids = pq.read_table(path / f"{name}.parquet", columns=["run_id"]).column(0)
        assert set(ids.to_pylist()) == {run_id}
    meta = pq.ParquetFile(path / "agents.parquet").metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"


def test_run_id_format_and_no_agents(tmp_path):
    result = make_result(agents=False)
    path = save_run(result, tmp_path)
    stamp_day, stamp_time, name, seed, tag = path.name.split("-")
    assert (len(stamp_day), len(stamp_time), name, seed) == (8, 6, "rongcheng", "0")
    assert len(tag) == 6 and int(tag, 16) >= 0
    assert not (path / "agents.parquet").exists()
    assert open_run(path).agents is None


def test_catalog_row_done(tmp_path):
    result = make_result()
    path = save_run(result, tmp_path)
    runs = list_runs(tmp_path)
    assert len(runs) == 1
    row = runs.iloc[0]
    assert row.run_id == result.info["run_id"] and row.status == "done"
    assert (row.scenario_name, row.scenario_hash, row.seed) == ("rongcheng", "abc123", 0)
    assert (row.version, row.agents, row.days, row.wall_s) == ("0.1.0", 10, 5, 2.5)
    assert row.started == pd.Timestamp("2024-05-01 10:00:00")
    assert row.ended == pd.Timestamp("2024-05-01 10:00:02")
    assert tmp_path / row.path == path and pd.isna(row.error)  # relative to the root


def test_list_runs_newest_first_and_empty(tmp_path):
    assert list_runs(tmp_path / "nothing").empty
    old, new = make_result(), make_result()
    new.info["started"] = "2024-06-01T00:00:00Z"
    save_run(old, tmp_path)
    save_run(new, tmp_path)
    assert list(list_runs(tmp_path).run_id) == [new.info["run_id"], old.info["run_id"]]


def test_record_start_end_lifecycle(tmp_path):
    info = {"scenario_name": "rongcheng", "seed": 3, "version": "0.1.0", "days": 5}
    run_id = record_start(tmp_path, info)
    assert info["run_id"] == run_id and "-rongcheng-3-" in run_id
    row = list_runs(tmp_path).set_index("run_id").loc[run_id]
    assert row.status == "running" and row.pid == os.getpid()
    assert row.hostname == socket.gethostname() and not pd.isna(row.started)

    record_end(tmp_path, run_id, "failed", error="ValueError: boom", wall_s=1.25)
    row = list_runs(tmp_path).set_index("run_id").loc[run_id]
    assert (row.status, row.error, row.wall_s) == ("failed", "ValueError: boom", 1.25)
    assert not pd.isna(row.ended) and row.days == 5

    # The CLI path: record_start, simulate, save the Result under the same id.
    result = make_result()
    result.info.pop("run_id", None)
    result.info["run_id"] = record_start(tmp_path, dict(result.info))
    path = save_run(result, tmp_path)
    runs = list_runs(tmp_path).set_index("run_id")
    assert len(runs) == 2
    row = runs.loc[result.info["run_id"]]
    assert row.status == "done" and tmp_path / row.path == path and pd.isna(row.error)
    markers = [p.stem for p in (tmp_path / ".started").iterdir()]
    assert markers == [run_id]  # the saved run's folder replaced its marker; the failed one stays

    with pytest.raises(ValueError, match="status"):
        record_end(tmp_path, run_id, "exploded")
    with pytest.raises(ValueError, match="unknown catalog fields"):
        record_end(tmp_path, run_id, "done", colour="red")


def test_crash_during_rename_leaves_nothing(tmp_path, monkeypatch):
    def boom(*_):
        raise OSError("disk pulled")

    monkeypatch.setattr(os, "rename", boom)
    result = make_result()
    with pytest.raises(OSError, match="disk pulled"):
        save_run(result, tmp_path)
    assert not (tmp_path / result.info["run_id"]).exists()
    assert not list(tmp_path.glob(".tmp-*"))
    assert (list_runs(tmp_path).status != "done").all()


def test_killed_writer_leaves_only_tmp_folder(tmp_path):
    proc = run_python(
        f"""
        import os, signal
        from socialcredit.store import save_run
        os.rename = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
        save_run(make_result(), {str(tmp_path)!r})
        """
    )
    assert proc.returncode == -9, proc.stderr
    tmps = list(tmp_path.glob(".tmp-*"))
    assert len(tmps) == 1
    assert [p for p in tmp_path.iterdir() if p.is_dir() and not p.name.startswith(".")] == []
    assert (list_runs(tmp_path).status != "done").all()
    with pytest.raises(RunNotFound, match="unfinished"):
        open_run(tmps[0])

    fresh = tmp_path / ".tmp-20990101-000000-other-0-abcdef"
    fresh.mkdir()
    hours_ago = time.time() - 2 * 3600
    os.utime(tmps[0], (hours_ago, hours_ago))
    save_run(make_result(), tmp_path)
    assert not tmps[0].exists() and fresh.exists()  # only stale temp folders are swept


def test_dead_running_row_shows_failed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    gone = record_start(tmp_path, {"scenario_name": "rongcheng", "seed": 1})
    elsewhere = record_start(tmp_path, {"scenario_name": "rongcheng", "seed": 2})
    for run_id, host in ((gone, socket.gethostname()), (elsewhere, "other-host")):
        marker = tmp_path / ".started" / f"{run_id}.json"
        info = json.loads(marker.read_text()) | {"pid": dead.pid, "hostname": host}
        marker.write_text(json.dumps(info))
    runs = list_runs(tmp_path).set_index("run_id")
    assert runs.loc[gone, "status"] == "failed"
    assert str(dead.pid) in runs.loc[gone, "error"]
    assert runs.loc[elsewhere, "status"] == "running"  # cannot judge another host's pids


def test_concurrent_writers(tmp_path):
    code = f"""
        from socialcredit.store import record_start, record_end
        for seed in range(5):
            run_id = record_start({str(tmp_path)!r}, {{"scenario_name": "rongcheng", "seed": seed}})
            record_end({str(tmp_path)!r}, run_id, "done")
        """
    procs = [
        subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    for proc in procs:
        assert proc.wait(timeout=120) == 0, proc.stderr.read().decode()
    runs = list_runs(tmp_path)
    assert len(runs) == 20 and (runs.status == "done").all()


def test_open_run_missing(tmp_path):
    missing = tmp_path / "20240101-000000-rongcheng-0-abcdef"
    with pytest.raises(RunNotFound, match="no run folder") as err:
        open_run(missing)
    assert str(missing) in str(err.value)
    assert isinstance(err.value, FileNotFoundError)

    path = save_run(make_result(), tmp_path)
    (path / "metrics.parquet").unlink()
    with pytest.raises(RunNotFound, match="metrics.parquet") as err:
        open_run(path)
    assert str(path) in str(err.value)


def test_refuses_bad_input(tmp_path):
    result = make_result()
    path = save_run(result, tmp_path)
    again = make_result()
    again.info["run_id"] = result.info["run_id"]
    with pytest.raises(FileExistsError):
        save_run(again, tmp_path)
    assert open_run(path).info == result.info

    bad = make_result()
    bad.metrics = bad.metrics.drop(columns="group")
    with pytest.raises(ValueError, match="metrics columns"):
        save_run(bad, tmp_path)
    sneaky = make_result()
    sneaky.info["run_id"] = "../escape"
    with pytest.raises(ValueError, match="invalid run_id"):
        save_run(sneaky, tmp_path)
    assert isinstance(open_run(path), Result)


# ----------------------------------------------------------------------------- the catalog


def experiment(folder: Path, kind: str, **fields) -> Path:
    """A fake sweep or search folder: only its manifest, as the experiments code writes it."""
    manifest = {
        "kind": kind,
        "id": folder.name,
        "name": f"{kind} of rongcheng",
        "scenario_name": "rongcheng",
        "scenario_hash": "abc123",
        "created": "2024-07-01T09:00:00Z",
        "ended": "2024-07-01T09:10:00Z",
        "status": "done",
        "experiments": 4,
        "replicates": 3,
        "agents": 200,
        "days": 5,
        "wall_s": 600.0,
        "version": "0.1.0",
    } | fields
    folder.mkdir(parents=True)
    (folder / f"{kind}.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def fake_audit(folder: Path) -> Path:
    folder.mkdir(parents=True)
    audit = {"scenario_hash": "def456", "root_seed": 7, "version": "0.1.0", "agents": 200}
    audit |= {"started": "2024-06-15T12:00:00+00:00", "wall_s": 30.0, "days": 5}
    audit |= {"scenario_name": "court-blacklist", "replicates": 2, "table": []}
    (folder / "audit.json").write_text(json.dumps(audit), encoding="utf-8")
    return folder


def test_catalog_lists_every_kind_from_the_folders(tmp_path):
    run = save_run(make_result(), tmp_path)
    fake_audit(tmp_path / "audit-court-blacklist-20240615-120000")
    experiment(tmp_path / "sweeps" / "sweep-1", "sweep")
    experiment(
        tmp_path / "search-1",
        "search",
        status="running",
        ended=None,
        created="2024-08-01T00:00:00Z",
    )
    experiment(tmp_path / "a" / "b" / "too-deep", "sweep")  # depth 4: not looked for
    (tmp_path / "catalog.duckdb").write_bytes(b"an older version's table, not a database")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))

    rows = catalog(tmp_path)
    assert list(rows.kind) == ["search", "sweep", "audit", "run"]  # newest first
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before  # reads only
    by = rows.set_index("kind")
    assert by.loc["sweep", "path"] == "sweeps/sweep-1" and by.loc["sweep", "id"] == "sweep-1"
    assert (by.loc["sweep", "experiments"], by.loc["sweep", "replicates"]) == (4, 3)
    assert by.loc["search", "status"] == "running" and pd.isna(by.loc["search", "ended"])
    assert by.loc["audit", "status"] == "done" and by.loc["audit", "seed"] == 7
    assert by.loc["audit", "ended"] == pd.Timestamp("2024-06-15 12:00:30")
    assert by.loc["audit", "replicates"] == 2
    assert by.loc["run", "id"] == run.name and by.loc["run", "path"] == run.name
    assert rows.created.dtype.kind == "M" and str(rows.agents.dtype) == "Int64"
    assert rows.attrs["unreadable"] == []

    assert list(catalog(tmp_path, kind="sweep").id) == ["sweep-1"]
    assert list(catalog(tmp_path, scenario="court").kind) == ["audit"]  # a substring
    assert catalog(tmp_path, kind="run", scenario="nowhere").empty
    with pytest.raises(ValueError, match="kind"):
        catalog(tmp_path, kind="bogus")
    assert catalog(tmp_path / "missing").empty


def test_damaged_folders_are_skipped_with_a_reason(tmp_path):
    save_run(make_result(), tmp_path)
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "sweep.json").write_text('{"kind": "sweep", "id": "ha', encoding="utf-8")
    experiment(tmp_path / "odd", "search", status="paused")
    experiment(tmp_path / "bad-number", "sweep", agents="many")
    (tmp_path / "listless").mkdir()
    (tmp_path / "listless" / "metrics.parquet").write_bytes(b"")
    (tmp_path / "notes").mkdir()  # neither a manifest nor a run's file: not a catalog entry
    (tmp_path / ".tmp-20240101-000000-rongcheng-0-abcdef").mkdir()  # an unfinished write

    rows = catalog(tmp_path)
    assert list(rows.kind) == ["run"]
    reasons = dict(rows.attrs["unreadable"])
    assert sorted(reasons) == ["bad-number", "half", "listless", "odd"]
    assert "not valid JSON" in reasons["half"] and "paused" in reasons["odd"]
    assert "agents" in reasons["bad-number"] and "no manifest" in reasons["listless"]
    assert all("\n" not in reason for reason in reasons.values())


def test_parquet_files_carry_run_ids_for_duckdb(tmp_path):
    from socialcredit.store.catalog import connect

    a, b = save_run(make_result(), tmp_path), save_run(make_result(), tmp_path)
    con = connect(tmp_path)
    counts = dict(con.execute("SELECT run_id, count(*) FROM metrics GROUP BY run_id").fetchall())
    assert counts == {a.name: 10, b.name: 10}
    assert con.execute("SELECT count(*) FROM agents").fetchone() == (20,)
    assert con.execute("SELECT count(*) FROM catalog WHERE kind = 'run'").fetchone() == (2,)
    pd.testing.assert_frame_equal(open_run(a).metrics, make_result().metrics)
