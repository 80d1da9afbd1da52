"""The catalog: every run, audit, sweep and policy search under a root, read from the folders'
own manifests each time it is asked for.

Nothing is written at the root to keep a catalog: each folder describes itself, so any number
of processes can write runs side by side with no lock. A listing walks the root to depth 3 and
reads each folder's manifest:

- a run folder's ``info.json`` (the run store renames a run folder into place whole);
- an audit folder's ``audit.json``;
- a sweep's ``sweep.json`` and a policy search's ``search.json`` (kind, id, name,
  scenario_name, scenario_hash, created, ended, status, experiments, replicates, agents, days,
  wall_s, version), at any depth up to ``<root>/<a>/<b>/sweep.json``;
- a run that has started but has no folder yet: ``<root>/.started/<run_id>.json``, written by
  `record_start` and `record_end` (one small file per run, replaced whole) and removed once the
  run folder is in place. A 'running' marker whose process has died on this host lists as
  'failed'.

A folder whose manifest cannot be read (half-written by hand, not JSON, a bad status or number)
is skipped and counted as unreadable with a one-line reason; it never breaks the listing. The
rows are put in an in-memory DuckDB view (`connect`), so they can be queried beside the run
folders' Parquet files, which carry a ``run_id`` column for that. A ``catalog.duckdb`` left at
the root by an older version is ignored.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from socialcredit.atomic import write_text_atomic

STATUSES = ("running", "done", "failed")
KINDS = ("run", "audit", "sweep", "search")
STARTED_DIR = ".started"  # <root>/.started/<run_id>.json: runs begun but not (yet) saved
MAX_DEPTH = 3  # manifests are looked for down to <root>/<a>/<b>/<manifest>
# The file that makes a folder a catalog entry, and the kind it makes; the first one found wins.
MANIFESTS = {
    "sweep.json": "sweep",
    "search.json": "search",
    "audit.json": "audit",
    "info.json": "run",
}
# Files of a run or audit folder: a folder holding one of them but no manifest is unreadable.
_FOLDER_FILES = ("metrics.parquet", "summary.json", "scenario.yaml", "audit.parquet")
COLUMNS = [
    "kind", "id", "name", "status", "scenario_name", "scenario_hash", "seed", "created", "ended",
    "agents", "days", "experiments", "replicates", "wall_s", "version", "path", "overrides",
    "error", "pid", "hostname",
]  # fmt: skip
_INTS = ("seed", "agents", "days", "experiments", "replicates", "pid")
_TEXTS = ("name", "scenario_name", "scenario_hash", "version", "error", "hostname")
# The run-only listing `list_runs` gives (the columns the old catalog table had, plus overrides).
RUN_COLUMNS = [
    "run_id", "scenario_name", "scenario_hash", "seed", "version", "started", "ended", "status",
    "agents", "days", "wall_s", "path", "error", "pid", "hostname", "overrides",
]  # fmt: skip
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_MARKER_FIELDS = {
    "run_id", "scenario_name", "scenario_hash", "seed", "version", "started", "ended", "status",
    "agents", "days", "wall_s", "path", "error", "pid", "hostname", "overrides",
}  # fmt: skip


class Unreadable(ValueError):
    """A manifest that cannot be listed; the message is the one-line reason."""


@dataclass
class Listing:
    """A catalog listing: the rows (newest first) and the folders skipped, with why."""

    rows: pd.DataFrame
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (relative path, reason)


# ----------------------------------------------------------------------------- run ids


def new_run_id(scenario_name: str, seed: int) -> str:
    """A sortable, collision-free folder name: UTC time, scenario, seed, 6 random hex chars."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{scenario_name}-{seed}-{secrets.token_hex(3)}"


def check_run_id(run_id: str) -> str:
    """Refuse ids that could escape the root or hide as a temp folder."""
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id) or run_id.startswith(".tmp-"):
        raise ValueError(f"invalid run_id {run_id!r}: use letters, digits, '.', '_' or '-'")
    return run_id


# ----------------------------------------------------------------------------- started runs


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value.tolist() if hasattr(value, "tolist") else str(value)


def marker_path(root: str | Path, run_id: str) -> Path:
    """Where a started run's marker lives: ``<root>/.started/<run_id>.json``."""
    return Path(root) / STARTED_DIR / f"{check_run_id(run_id)}.json"


def _write_marker(root: str | Path, row: dict[str, Any]) -> None:
    unknown = set(row) - _MARKER_FIELDS
    if unknown:
        raise ValueError(f"unknown catalog fields: {sorted(unknown)}")
    if row.get("status") not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, not {row.get('status')!r}")
    path = marker_path(root, row["run_id"])
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(row, indent=2, default=_json_default) + "\n")


def _info_fields(info: dict[str, Any]) -> dict[str, Any]:
    """The marker fields that a Result's info carries."""
    keys = ("scenario_name", "scenario_hash", "seed", "version", "started", "ended")
    keys += ("agents", "days", "wall_s", "overrides")
    return {k: info[k] for k in keys if k in info}


def record_start(root: str | Path, info: dict[str, Any]) -> str:
    """List a run as 'running' before simulating, so a crash still leaves a trace.

    Fills info's run_id (new if absent), started and status in place, so the Result the run
    produces saves under the same id. Writes only this run's marker, ``<root>/.started/<id>.json``.
    """
    if "run_id" not in info:
        info["run_id"] = new_run_id(info["scenario_name"], info["seed"])
    run_id = check_run_id(info["run_id"])
    info.setdefault("started", datetime.now(UTC).isoformat())
    info["status"] = "running"
    row = {"run_id": run_id, **_info_fields(info), "status": "running", "error": None}
    row |= {"pid": os.getpid(), "hostname": socket.gethostname()}
    _write_marker(root, row)
    return run_id


def record_end(root: str | Path, run_id: str, status: str, **fields: Any) -> None:
    """Close a started run as 'done' or 'failed' (with ``error=``); ``ended`` defaults to now.

    Rewrites the run's marker (whole); a run saved with `save_run` needs no call: its folder
    is its record and the marker is removed."""
    path = marker_path(root, run_id)
    try:
        row = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        row = {}
    row |= {"run_id": run_id, **fields, "status": status}
    row.setdefault("ended", datetime.now(UTC).isoformat())
    if status != "failed":
        row["error"] = fields.get("error")
    _write_marker(root, row)


def forget_started(root: str | Path, run_id: str) -> None:
    """Remove a run's marker once its folder is in place (no error if there is none)."""
    path = marker_path(root, run_id)
    path.unlink(missing_ok=True)


# ----------------------------------------------------------------------------- reading


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


def _timestamp(value: Any, key: str) -> pd.Timestamp | None:
    """ISO 8601 text -> naive UTC timestamp (as the old catalog's TIMESTAMP columns held)."""
    if value is None:
        return None
    try:
        ts = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        ts = None
    if ts is None:
        raise Unreadable(f"{key} {value!r} is not an ISO 8601 time")
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return pd.Timestamp(ts)


def _typed(row: dict[str, Any]) -> dict[str, Any]:
    """Check and convert one row's values to the catalog's column types."""
    if row["status"] not in STATUSES:
        raise Unreadable(f"status {row['status']!r} is not one of {', '.join(STATUSES)}")
    for key in _INTS:
        value = row.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise Unreadable(f"{key} {value!r} is not a whole number")
    wall = row.get("wall_s")
    if wall is not None:
        if isinstance(wall, bool) or not isinstance(wall, int | float):
            raise Unreadable(f"wall_s {wall!r} is not a number")
        row["wall_s"] = float(wall)
    for key in _TEXTS:
        if row.get(key) is not None:
            row[key] = str(row[key])
    row["created"] = _timestamp(row.get("created"), "created")
    row["ended"] = _timestamp(row.get("ended"), "ended")
    overrides = row.get("overrides")
    row["overrides"] = None if overrides is None else json.dumps(overrides, sort_keys=True)
    return {c: row.get(c) for c in COLUMNS}


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise Unreadable(f"{path.name} is not UTF-8 text") from None
    except ValueError as e:
        raise Unreadable(f"{path.name} is not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise Unreadable(f"{path.name} is not a JSON object")
    return data


def _run_row(info: dict[str, Any], folder_id: str) -> dict[str, Any]:
    run_id = info.get("run_id", folder_id)
    return {
        **{k: info.get(k) for k in ("scenario_name", "scenario_hash", "seed", "version")},
        **{k: info.get(k) for k in ("agents", "days", "wall_s", "ended", "overrides", "error")},
        **{k: info.get(k) for k in ("pid", "hostname")},
        "kind": "run",
        "id": run_id,
        "name": info.get("scenario_name"),
        "status": info.get("status", "done"),
        "created": info.get("started"),
        "experiments": 1,
        "replicates": 1,
    }


def _audit_row(data: dict[str, Any], folder_id: str) -> dict[str, Any]:
    ended = None
    started, wall = data.get("started"), data.get("wall_s")
    if isinstance(started, str) and isinstance(wall, int | float) and not isinstance(wall, bool):
        try:
            ended = (datetime.fromisoformat(started) + pd.Timedelta(seconds=wall)).isoformat()
        except ValueError:
            pass  # _typed says what is wrong with started
    return {
        **{k: data.get(k) for k in ("scenario_name", "scenario_hash", "version", "agents")},
        **{k: data.get(k) for k in ("days", "wall_s", "replicates", "overrides")},
        "kind": "audit",
        "id": folder_id,
        # a design set against another (`audit A --against B`) is listed by both names
        "name": (
            f"{data.get('scenario_name')} vs {data['against']}"
            if isinstance(data.get("against"), str)
            else data.get("scenario_name")
        ),
        "status": "done",  # the audit writes its folder only once every replicate has run
        "seed": data.get("root_seed"),
        "created": started,
        "ended": ended,
        "experiments": 1,
    }


_EXPERIMENT_KEYS = ("kind", "id", "name", "scenario_name", "status", "created", "experiments")


def _experiment_row(data: dict[str, Any], kind: str) -> dict[str, Any]:
    missing = [k for k in _EXPERIMENT_KEYS if k not in data]
    if missing:
        raise Unreadable(f"{kind}.json lacks {', '.join(missing)}")
    if data["kind"] != kind:
        raise Unreadable(f"{kind}.json says kind {data['kind']!r}")
    return {k: data.get(k) for k in COLUMNS if k not in ("path", "kind")} | {"kind": kind}


def _manifest_row(manifest: Path, kind: str) -> dict[str, Any]:
    data = _read_json(manifest)
    folder_id = manifest.parent.name
    if kind == "run":
        row = _run_row(data, folder_id)
    elif kind == "audit":
        row = _audit_row(data, folder_id)
    else:
        row = _experiment_row(data, kind)
    if row["id"] is None:
        raise Unreadable("no id")
    return _typed(row)


def _walk(root: Path, listing: list[dict[str, Any]], bad: list[tuple[str, str]]) -> None:
    """Every folder with a manifest, down to MAX_DEPTH; no descent into a listed folder."""
    stack = [(root, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as e:
            if folder != root:
                bad.append((str(folder.relative_to(root)), f"cannot be read ({e.strerror})"))
                continue
            raise
        names = {e.name for e in entries}
        rel = folder.relative_to(root)
        found = next((m for m in MANIFESTS if m in names), None) if depth else None
        if found is not None:
            try:
                row = _manifest_row(folder / found, MANIFESTS[found])
            except Unreadable as e:
                bad.append((str(rel), str(e)))
            except OSError as e:
                bad.append((str(rel), f"{found} cannot be read ({e.strerror})"))
            else:
                listing.append(row | {"path": str(rel)})
            continue
        if depth and any(n in names for n in _FOLDER_FILES):
            bad.append((str(rel), f"no manifest ({', '.join(MANIFESTS)})"))
            continue
        if depth + 1 < MAX_DEPTH:
            for e in reversed(entries):
                if not e.name.startswith(".") and e.is_dir(follow_symlinks=False):
                    stack.append((folder / e.name, depth + 1))


def _started(root: Path, have: set[str], rows: list[dict[str, Any]], bad: list) -> None:
    """Runs begun without a folder yet: their markers, dead writers on this host as failed."""
    folder = root / STARTED_DIR
    if not folder.is_dir():
        return
    host = socket.gethostname()
    for marker in sorted(folder.glob("*.json")):
        rel = str(marker.relative_to(root))
        try:
            info = _read_json(marker)
            row = _run_row(info, marker.stem)
            if row["id"] in have:  # saved: the folder is the record
                continue
            pid = row.get("pid")
            if row["status"] == "running" and row.get("hostname") == host and pid is not None:
                if isinstance(pid, int) and not _pid_alive(pid):
                    row["status"] = "failed"
                    row["error"] = f"process {pid} on {host} exited without recording an end"
            rows.append(_typed(row) | {"path": None})
        except Unreadable as e:
            bad.append((rel, str(e)))
        except OSError as e:
            bad.append((rel, f"cannot be read ({e.strerror})"))


def check_root(root: str | Path) -> Path:
    """The root as a Path; NotADirectoryError if it is a file (a missing root lists nothing)."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise NotADirectoryError(f"{root} is a file, not a folder of runs")
    return root


def read_catalog(root: str | Path) -> Listing:
    """Read every manifest under root (nothing is written): rows newest first, and the folders
    skipped as unreadable with their reasons."""
    root = check_root(root)
    rows: list[dict[str, Any]] = []
    bad: list[tuple[str, str]] = []
    if root.is_dir():
        _walk(root, rows, bad)
        _started(root, {r["id"] for r in rows if r["kind"] == "run"}, rows, bad)
    return Listing(_newest_first(pd.DataFrame(rows, columns=COLUMNS)), bad)


def _newest_first(frame: pd.DataFrame) -> pd.DataFrame:
    """The catalog's column types (nullable integers, timestamps), newest first."""
    frame = frame.astype({c: "object" for c in COLUMNS if c not in _INTS and c != "wall_s"})
    for col in ("created", "ended"):
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[us]")
    for col in _INTS:
        frame[col] = frame[col].astype("Int64")
    frame["wall_s"] = frame["wall_s"].astype("float64")
    frame = frame.sort_values(["created", "id"], ascending=False, na_position="last")
    return frame.reset_index(drop=True)


def _sql_type(column: str) -> str:
    if column in _INTS:
        return "BIGINT"
    return {"wall_s": "DOUBLE", "created": "TIMESTAMP", "ended": "TIMESTAMP"}.get(column, "VARCHAR")


def _catalog_view(con: Any, listing: Listing) -> None:
    """The view ``catalog`` over the listing's rows, typed even when there are none."""
    con.register("catalog_rows", listing.rows)
    cols = ", ".join(f'CAST("{c}" AS {_sql_type(c)}) AS "{c}"' for c in COLUMNS)
    con.execute(f"CREATE VIEW catalog AS SELECT {cols} FROM catalog_rows")


def _sql_string(text: str) -> str:
    """A SQL string literal: single quotes doubled (a folder name is never SQL)."""
    if "\x00" in text:
        raise ValueError("a path cannot contain a NUL character")
    return "'" + text.replace("'", "''") + "'"


def _literal_glob(con: Any, file: Path) -> str | None:
    """``file`` as a DuckDB file pattern that matches that file alone: DuckDB reads '*', '?'
    and '[' in a path as a pattern (a folder named ``x*`` would pull in every ``x...`` run), so
    each is put in brackets; None (the file is left out) if the pattern still matches anything
    else. Checked with DuckDB's own glob, the pattern passed as a parameter."""
    text = str(file)
    pattern = "".join(f"[{c}]" if c in "*?[" else c for c in text)
    try:
        found = con.execute("SELECT file FROM glob(?)", [pattern]).fetchall()
    except Exception:  # a pattern DuckDB cannot expand: leave the file out
        return None
    return pattern if [Path(f[0]) for f in found] == [file] else None


def connect(root: str | Path, listing: Listing | None = None) -> Any:
    """An in-memory DuckDB connection with a view ``catalog`` (the rows of `read_catalog`) and,
    per Parquet table of the done run folders (``metrics``, ``agents``, ``org_metrics``,
    ``firms``, the credit files' ``events`` and ``causes``), a view over those files, told apart by their ``run_id`` column. Folder names
    go into the views' SQL only as quoted literals matching their own file (`_literal_glob`)."""
    import duckdb

    root = check_root(root)
    listing = listing if listing is not None else read_catalog(root)
    con = duckdb.connect(":memory:")
    _catalog_view(con, listing)
    rows = listing.rows
    runs = rows[(rows["kind"] == "run") & (rows["status"] == "done") & rows["path"].notna()]
    for table in ("metrics", "agents", "org_metrics", "firms", "events", "causes"):
        files = [root / p / f"{table}.parquet" for p in runs["path"]]
        files = [f for f in (_literal_glob(con, f) for f in files if f.is_file()) if f]
        if files:
            file_list = ", ".join(_sql_string(f) for f in files)
            con.execute(
                f"CREATE VIEW {table} AS SELECT * FROM read_parquet([{file_list}], "
                "union_by_name = true)"
            )
    return con


def catalog(root: str | Path, kind: str | None = None, scenario: str | None = None) -> pd.DataFrame:
    """Runs, audits, sweeps and searches under root, newest first, one row each (COLUMNS),
    read through a DuckDB view over the folders' manifests. ``kind`` keeps one kind;
    ``scenario`` keeps rows whose scenario name contains it. Folders skipped as unreadable
    are in ``.attrs['unreadable']``, a list of (relative path, reason)."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    import duckdb

    listing = read_catalog(root)
    con = duckdb.connect(":memory:")
    try:
        _catalog_view(con, listing)
        sql = "SELECT * FROM catalog WHERE (? IS NULL OR kind = ?)"
        sql += " AND (? IS NULL OR contains(scenario_name, ?))"
        frame = con.execute(sql, [kind, kind, scenario, scenario]).df()
    finally:
        con.close()
    frame = _newest_first(frame)
    frame.attrs["unreadable"] = list(listing.unreadable)
    return frame


def list_runs(root: str | Path) -> pd.DataFrame:
    """Every run under root, newest first (RUN_COLUMNS: the old catalog table's columns, paths
    relative to root); runs whose process died show as 'failed'."""
    rows = read_catalog(root).rows
    rows = rows[rows.kind == "run"].rename(columns={"id": "run_id", "created": "started"})
    return rows[RUN_COLUMNS].reset_index(drop=True)
