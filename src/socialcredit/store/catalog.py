"""The run catalog: one DuckDB table listing every run under a root, so runs can be found and
compared without opening their folders.

DuckDB lets one process write a file at a time, so every call opens the catalog, writes, and
closes at once, retrying briefly while another process holds the lock.
"""

from __future__ import annotations

import os
import random
import re
import secrets
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

CATALOG = "catalog.duckdb"
STATUSES = ("running", "done", "failed")

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY,
    scenario_name VARCHAR,
    scenario_hash VARCHAR,
    seed BIGINT,
    version VARCHAR,
    started TIMESTAMP,
    ended TIMESTAMP,
    status VARCHAR CHECK (status IN ('running', 'done', 'failed')),
    agents BIGINT,
    days INTEGER,
    wall_s DOUBLE,
    path VARCHAR,
    error VARCHAR,
    pid BIGINT,
    hostname VARCHAR
)
"""
COLUMNS = [
    "run_id", "scenario_name", "scenario_hash", "seed", "version", "started", "ended",
    "status", "agents", "days", "wall_s", "path", "error", "pid", "hostname",
]  # fmt: skip
_TIMESTAMPS = {"started", "ended"}
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
LOCK_WAIT_S = 15.0  # how long to wait for another process's write before giving up


def new_run_id(scenario_name: str, seed: int) -> str:
    """A sortable, collision-free folder name: UTC time, scenario, seed, 6 random hex chars."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{scenario_name}-{seed}-{secrets.token_hex(3)}"


def check_run_id(run_id: str) -> str:
    """Refuse ids that could escape the root or hide as a temp folder."""
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id) or run_id.startswith(".tmp-"):
        raise ValueError(f"invalid run_id {run_id!r}: use letters, digits, '.', '_' or '-'")
    return run_id


def _timestamp(value: Any) -> datetime | None:
    """ISO 8601 text or datetime -> naive UTC datetime, as DuckDB's TIMESTAMP stores it."""
    if value is None:
        return None
    ts = datetime.fromisoformat(value) if isinstance(value, str) else value
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts


def _is_lock_error(exc: Exception) -> bool:
    return "lock" in str(exc).lower()


@contextmanager
def _catalog(root: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open root's catalog for a short write, creating it if needed; retry while locked."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            con = duckdb.connect(str(root / CATALOG))
            break
        except duckdb.IOException as exc:
            if not _is_lock_error(exc) or time.monotonic() > deadline:
                raise
            time.sleep(random.uniform(0.01, 0.1))
    try:
        con.execute(SCHEMA)
        _reap_dead(con)
        yield con
    finally:
        con.close()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


def _reap_dead(con: duckdb.DuckDBPyConnection) -> None:
    """Mark 'running' rows whose process died on this host as failed: nobody will end them."""
    host = socket.gethostname()
    rows = con.execute(
        "SELECT run_id, pid FROM runs WHERE status = 'running' AND hostname = ? AND pid IS NOT NULL",
        [host],
    ).fetchall()
    for run_id, pid in rows:
        if not _pid_alive(int(pid)):
            con.execute(
                "UPDATE runs SET status = 'failed', error = ? WHERE run_id = ? AND status = 'running'",
                [f"process {pid} on {host} exited without recording an end", run_id],
            )


def _upsert(con: duckdb.DuckDBPyConnection, row: dict[str, Any]) -> None:
    """Insert the row, or update only the given columns of an existing one."""
    unknown = set(row) - set(COLUMNS)
    if unknown:
        raise ValueError(f"unknown catalog fields: {sorted(unknown)}")
    if row.get("status", "running") not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, not {row['status']!r}")
    row = {k: _timestamp(v) if k in _TIMESTAMPS else v for k, v in row.items()}
    cols = list(row)
    names = ", ".join(f'"{c}"' for c in cols)
    marks = ", ".join("?" for _ in cols)
    updates = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in cols if c != "run_id")
    action = f"UPDATE SET {updates}" if updates else "NOTHING"
    sql = f"INSERT INTO runs ({names}) VALUES ({marks}) ON CONFLICT (run_id) DO {action}"
    con.execute(sql, [row[c] for c in cols])


def _info_fields(info: dict[str, Any]) -> dict[str, Any]:
    """The catalog columns that a Result's info carries."""
    keys = ("scenario_name", "scenario_hash", "seed", "version", "started", "ended")
    keys += ("agents", "days", "wall_s")
    return {k: info[k] for k in keys if k in info}


def record_start(root: str | Path, info: dict[str, Any]) -> str:
    """List a run as 'running' before simulating, so a crash still leaves a trace.

    Fills info's run_id (new if absent), started and status in place, so the Result the run
    produces saves under the same id.
    """
    if "run_id" not in info:
        info["run_id"] = new_run_id(info["scenario_name"], info["seed"])
    run_id = check_run_id(info["run_id"])
    info.setdefault("started", datetime.now(UTC).isoformat())
    info["status"] = "running"
    row = {"run_id": run_id, **_info_fields(info), "status": "running", "error": None}
    row |= {"pid": os.getpid(), "hostname": socket.gethostname()}
    with _catalog(root) as con:
        _upsert(con, row)
    return run_id


def record_end(root: str | Path, run_id: str, status: str, **fields: Any) -> None:
    """Close a run's row as 'done' or 'failed' (with ``error=``); ``ended`` defaults to now."""
    row = {"run_id": check_run_id(run_id), **fields, "status": status}
    row.setdefault("ended", datetime.now(UTC))
    if status != "failed":
        row.setdefault("error", None)
    with _catalog(root) as con:
        _upsert(con, row)


def record_saved(root: str | Path, info: dict[str, Any], path: str | Path) -> None:
    """Mark a run 'done' once its folder is in place, whether or not record_start listed it."""
    row = {"run_id": check_run_id(info["run_id"]), **_info_fields(info), "status": "done"}
    row |= {"path": str(path), "error": None}
    with _catalog(root) as con:
        _upsert(con, row)


def list_runs(root: str | Path) -> pd.DataFrame:
    """Every run under root, newest first; runs whose process died show as 'failed'."""
    if not (Path(root) / CATALOG).exists():
        return pd.DataFrame(columns=COLUMNS)
    with _catalog(root) as con:
        return con.execute("SELECT * FROM runs ORDER BY started DESC NULLS LAST, run_id DESC").df()
