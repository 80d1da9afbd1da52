"""Run folders: write a Result to ``<root>/<run_id>/`` atomically and read its parts back.

The store knows the files, not the in-memory Result: `read_run` returns the parts, and
`socialcredit.result.open_run` makes a Result of them, so the store never imports the layer
above it (docs/decisions.md, "Results, report and audit seams").

Everything is written into ``<root>/.tmp-<run_id>/``, fsynced, then renamed into place; the
folder's ``info.json`` is what the catalog lists (store/catalog.py), so a listed run folder is
always complete, and a crash leaves at most a ``.tmp-*`` folder that a later save sweeps away.
Every Parquet file of a run folder carries a ``run_id`` column (dictionary-encoded), so that
many runs' files globbed together in DuckDB stay apart; `read_run` drops it again.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from socialcredit.atomic import TMP_PREFIX, fsync_dir, fsync_file, sweep_stale
from socialcredit.integrity import DamagedRun, RunNotFound, verify_folder, write_manifest
from socialcredit.results.aggregation import with_aggregation
from socialcredit.store.catalog import check_run_id, forget_started, new_run_id

if TYPE_CHECKING:  # pragma: no cover
    from socialcredit.result import Result

# Columns of the tidy daily metrics table, in order.
# ``aggregation`` (sum or mean: how a value combines across cells) came in with issue 16;
# folders written before it are read with the column made from the metric names.
METRIC_COLUMNS = ["day", "jurisdiction", "group", "metric", "value", "aggregation"]

REQUIRED = ("scenario.yaml", "metrics.parquet", "summary.json", "info.json")
# Everything `read_run` reads when present: a folder's manifest must list each one it holds.
DATA_FILES = REQUIRED + (
    "agents.parquet",
    "org_metrics.parquet",
    "firms.parquet",
    "events.parquet",
    "sample.parquet",
    "causes.parquet",
    "credit.duckdb",  # the credit-file log of folders written before it moved to Parquet
)
__all__ = ["DamagedRun", "RunNotFound", "read_run", "save_run"]
_CATEGORIES = ["jurisdiction", "group", "metric", "aggregation"]
_DICT = pa.dictionary(pa.int32(), pa.string())
METRICS_SCHEMA = pa.schema(
    [("day", pa.int32()), ("jurisdiction", _DICT), ("group", _DICT), ("metric", _DICT)]
    + [("value", pa.float64()), ("aggregation", _DICT)]
)
RUN_ID_COLUMN = "run_id"  # in every Parquet file of a run folder: the folder's run id


def _json_default(value: Any) -> Any:
    """numpy scalars and arrays in summaries become plain JSON; anything else its text."""
    return value.tolist() if hasattr(value, "tolist") else str(value)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2, default=_json_default, ensure_ascii=False) + "\n"


def _metrics_table(metrics: pd.DataFrame) -> pa.Table:
    """The tidy metrics with fixed types: int32 days, dictionary-encoded labels."""
    metrics = with_aggregation(metrics)
    cols = list(metrics.columns)
    if sorted(cols) != sorted(METRIC_COLUMNS):
        raise ValueError(f"metrics columns must be {METRIC_COLUMNS}, got {cols}")
    return pa.Table.from_pandas(
        metrics[METRIC_COLUMNS], schema=METRICS_SCHEMA, preserve_index=False
    )


def _with_run_id(table: pa.Table, run_id: str) -> pa.Table:
    """The table with a first column ``run_id``: one dictionary entry, every row pointing at it."""
    if RUN_ID_COLUMN in table.column_names:
        table = table.drop_columns([RUN_ID_COLUMN])
    indices = pa.array(np.zeros(table.num_rows, dtype=np.int32))
    column = pa.DictionaryArray.from_arrays(indices, pa.array([run_id], pa.string()))
    return table.add_column(0, RUN_ID_COLUMN, column)


def _write_parquet(table: pa.Table, run_id: str, path: Path) -> None:
    pq.write_table(_with_run_id(table, run_id), path, compression="zstd")


def _read_parquet(path: Path) -> pd.DataFrame:
    """A run folder's Parquet file as it was before saving: without the ``run_id`` column."""
    table = pq.read_table(path)
    if RUN_ID_COLUMN in table.column_names:
        table = table.drop_columns([RUN_ID_COLUMN])
    return table.to_pandas()


def _write_folder(result: Result, info: dict[str, Any], folder: Path) -> None:
    from socialcredit.scenario.loader import resolved_yaml

    run_id = info["run_id"]
    folder.mkdir(parents=True)
    (folder / "scenario.yaml").write_text(resolved_yaml(result.scenario), encoding="utf-8")
    _write_parquet(_metrics_table(result.metrics), run_id, folder / "metrics.parquet")
    if result.agents is not None:
        _write_parquet(pa.Table.from_pandas(result.agents), run_id, folder / "agents.parquet")
    tables = (("org_metrics", result.org_metrics), ("firms", result.firms))
    tables += (("causes", result.causes),)  # credit files' causes (results/causes.py)
    for name, table in tables:
        if table is not None:  # organisations: their own tables
            frame = pa.Table.from_pandas(table, preserve_index=False)
            _write_parquet(frame, run_id, folder / f"{name}.parquet")
    if result.events is not None:  # the credit-file log and its sample (results/credit.py)
        from socialcredit.results.credit import EVENT_LOG_COLUMNS

        events = pa.Table.from_pandas(result.events[EVENT_LOG_COLUMNS], preserve_index=False)
        _write_parquet(events, run_id, folder / "events.parquet")
        sample = pa.table({"agent": np.asarray(result.sample).astype(np.int64)})
        _write_parquet(sample, run_id, folder / "sample.parquet")
    summary = {"summary": result.summary, "info": info}
    (folder / "summary.json").write_text(_dumps(summary), encoding="utf-8")
    (folder / "info.json").write_text(_dumps(info), encoding="utf-8")
    write_manifest(folder)  # last: sizes and checksums of everything above
    for file in folder.iterdir():
        fsync_file(file)
    fsync_dir(folder)


def save_run(result: Result, root: str | Path = "runs") -> Path:
    """Write ``result`` to ``<root>/<run_id>/`` atomically; the folder is its catalog entry.

    Sets ``result.path`` and ``result.info['run_id']`` (kept if already there, e.g. from
    record_start, whose marker is removed once the folder is in place). Raises
    FileExistsError rather than overwrite an existing run.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    sweep_stale(root, TMP_PREFIX)
    info = result.info
    info.setdefault("scenario_name", result.scenario.metadata.name)
    info.setdefault("seed", result.scenario.seed)
    run_id = check_run_id(info.get("run_id") or new_run_id(info["scenario_name"], info["seed"]))
    info["run_id"] = run_id
    final, tmp = root / run_id, root / f"{TMP_PREFIX}{run_id}"
    if final.exists():
        raise FileExistsError(f"run folder {final} already exists; not overwriting it")
    shutil.rmtree(tmp, ignore_errors=True)  # a dead earlier attempt at this same run
    try:
        _write_folder(result, {**info, "status": "done"}, tmp)
        _pause_for_tests("save")  # the folder is written in full, not yet renamed into place
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_dir(root)
    info["status"] = "done"
    forget_started(root, run_id)
    result.path = final
    return final


# TEST ONLY: the fault tests (tests/test_fault_kill.py) set this variable to a phase's name to
# make a run stop there, print a marker and wait to be killed. Nothing else may set it.
PAUSE_VARIABLE = "SOCIALCREDIT_TEST_PAUSE_AT"


def _pause_for_tests(phase: str) -> None:
    """Test only: when SOCIALCREDIT_TEST_PAUSE_AT names ``phase``, print ``paused at PHASE`` to
    stderr and sleep (SOCIALCREDIT_TEST_PAUSE_S seconds, 120 unless set), so that a test can
    SIGKILL the process at a known point. Does nothing otherwise."""
    if os.environ.get(PAUSE_VARIABLE) != phase:
        return
    import sys
    import time

    print(f"paused at {phase}", file=sys.stderr, flush=True)
    time.sleep(float(os.environ.get("SOCIALCREDIT_TEST_PAUSE_S", "120")))


@contextmanager
def _reading(folder: Path, name: str) -> Iterator[None]:
    """A file that cannot be parsed (in a folder with no manifest, or damaged in a way sizes
    and checksums cannot see) becomes DamagedRun naming it, one line."""
    from socialcredit.scenario import ScenarioError

    try:
        yield
    except DamagedRun:
        raise
    except (ValueError, KeyError, TypeError, OSError, ScenarioError, pa.ArrowException) as e:
        text = str(e).strip().splitlines()
        why = f"lacks {e}" if isinstance(e, KeyError) else (text[0] if text else type(e).__name__)
        if name == "scenario.yaml":
            why = f"does not load as a scenario ({why})"
        elif not why.startswith(("is ", "cannot ", "lacks ")):
            why = f"cannot be read ({why})"
        raise DamagedRun(folder, name, why) from None


def write_run_folder(result: Result, run_id: str, folder: str | Path) -> Path:
    """Write ``result`` as a run folder at ``folder`` (made with its parents; it must not
    exist) with the run id ``run_id``, not atomically: for a folder inside one being written
    whole, as an audit's replicates are (audit/cli.py). ``read_run`` opens it."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    info = dict(result.info)
    info.setdefault("scenario_name", result.scenario.metadata.name)
    info.setdefault("seed", result.scenario.seed)
    info.update(run_id=check_run_id(run_id), status="done")
    _write_folder(result, info, folder)
    return folder


def read_run(path: str | Path) -> dict[str, Any]:
    """Read a run folder's parts: the keyword arguments of a Result, ``path`` included.

    The folder's file manifest (``checksums.json``) is checked first, when it has one: a file
    missing, truncated, altered or added raises DamagedRun (a RunNotFound) naming it, and so
    does a file that cannot be parsed."""
    from socialcredit.scenario.loader import load_scenario

    path = Path(path)
    if path.name.startswith(TMP_PREFIX):
        raise RunNotFound(
            f"{path} is an unfinished run (a '{TMP_PREFIX}' folder from a write that never "
            "completed); it cannot be opened"
        )
    if not path.is_dir():
        raise RunNotFound(f"no run folder at {path}")
    verify_folder(path, DATA_FILES)
    missing = [name for name in REQUIRED if not (path / name).is_file()]
    if missing:
        raise RunNotFound(f"run folder {path} is missing {', '.join(missing)}")
    with _reading(path, "metrics.parquet"):
        metrics = with_aggregation(_read_parquet(path / "metrics.parquet"))
        metrics[_CATEGORIES] = metrics[_CATEGORIES].astype(str)
    agents = None
    if (path / "agents.parquet").is_file():
        with _reading(path, "agents.parquet"):
            agents = _read_parquet(path / "agents.parquet")
    with _reading(path, "summary.json"):
        summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))["summary"]
    with _reading(path, "info.json"):
        info = json.loads((path / "info.json").read_text(encoding="utf-8"))
        if not isinstance(info, dict):
            raise ValueError("is not a JSON object")
    with _reading(path, "scenario.yaml"):
        scenario = load_scenario(path / "scenario.yaml")
    events = sample = None
    if (path / "events.parquet").is_file():
        from socialcredit.results.credit import read_credit_parquet

        with _reading(path, "events.parquet"):
            events = read_credit_parquet(_read_parquet(path / "events.parquet"))
        with _reading(path, "sample.parquet"):
            sample = _read_parquet(path / "sample.parquet")["agent"].to_numpy(np.int64)
    elif (path / "credit.duckdb").is_file():  # written before the log moved to Parquet
        from socialcredit.results.credit import read_credit_db, read_credit_parquet

        with _reading(path, "credit.duckdb"):
            events, sample = read_credit_db(path / "credit.duckdb")
            events = read_credit_parquet(events)  # the same types as the Parquet log
    org = {}
    for name in ("org_metrics", "firms", "causes"):
        if (path / f"{name}.parquet").is_file():
            with _reading(path, f"{name}.parquet"):
                org[name] = _read_parquet(path / f"{name}.parquet")
    return dict(
        scenario=scenario,
        metrics=metrics,
        agents=agents,
        summary=summary,
        info=info,
        path=path,
        events=events,
        sample=sample,
        **org,
    )
