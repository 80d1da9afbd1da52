"""Run folders are data from elsewhere (issue 18): opening one that someone sent must never run
SQL from it or read another file. A hostile folder name stays a name; a ``credit.duckdb`` whose
``events`` is a view (or has a computed column, or sits beside macros) that reads a local file
is refused with one line, and the file's contents appear nowhere."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import socialcredit as sc
from socialcredit.integrity import DamagedRun, quote_identifier, write_manifest
from socialcredit.report.figures import _read_duckdb_events
from socialcredit.store.catalog import connect

ROOT = Path(__file__).parents[1]
SECRET = "TOP-SECRET-7c1e"
HOSTILE = "evil'; DROP TABLE x; --\"[*]?"  # quotes, a comment, glob characters


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    """One tiny real run folder (500 agents, 4 days), with its credit file."""
    root = tmp_path_factory.mktemp("runs")
    result = sc.simulate(sc.load_scenario("rongcheng", agents=500, days=4))
    return result.save(root)


def copy_run(saved: Path, root: Path, name: str) -> Path:
    root.mkdir(exist_ok=True)
    return Path(shutil.copytree(saved, root / name))


def plant(folder: Path, secret_file: Path, how: str) -> None:
    """Give the folder the older layout (the credit-file log in credit.duckdb, not Parquet),
    with a credit.duckdb that tries to read ``secret_file``, and re-sign the folder (a sender
    can write a matching checksums.json: only reading data as data protects)."""
    for name in ("events.parquet", "sample.parquet"):
        (folder / name).unlink()
    made = folder.parent / "made.duckdb"  # DuckDB cannot write in a folder named with '?'
    con = duckdb.connect(str(made))
    path = str(secret_file).replace("'", "''")
    con.execute("CREATE TABLE sample AS SELECT 0::BIGINT AS agent")
    cols = "0::INT AS day, 0::BIGINT AS agent"
    if how == "view":
        con.execute(
            f"CREATE VIEW events AS SELECT {cols}, content AS kind FROM read_text('{path}')"
        )
    elif how == "generated":
        con.execute(
            "CREATE TABLE events (day INT, agent BIGINT, kind VARCHAR AS (CAST(agent AS VARCHAR)))"
        )  # computed when read: refused whatever the expression
    elif how == "macro":
        con.execute(f"CREATE MACRO secret() AS TABLE SELECT content FROM read_text('{path}')")
        con.execute("CREATE VIEW events AS SELECT * FROM secret()")
    con.close()
    shutil.move(made, folder / "credit.duckdb")
    write_manifest(folder)


@pytest.mark.parametrize("how", ["view", "generated", "macro"])
def test_a_planted_view_or_macro_in_credit_duckdb_is_refused_not_run(saved, tmp_path, how):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    folder = copy_run(saved, tmp_path / "runs", "sent")
    try:
        plant(folder, secret, how)
    except duckdb.Error as e:  # this DuckDB cannot even write such a file: nothing to refuse
        pytest.skip(f"DuckDB refuses to make it: {e}")
    with pytest.raises(DamagedRun) as caught:
        sc.open_run(folder)
    message = str(caught.value)
    assert "credit.duckdb" in message and SECRET not in message and "\n" not in message
    events = _read_duckdb_events(folder / "credit.duckdb")  # the report's reader: data only
    assert events is None or SECRET not in events.to_string()


def test_explain_and_report_on_a_hostile_folder_exit_2_without_the_secret(saved, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    folder = copy_run(saved, tmp_path / "runs", HOSTILE)
    plant(folder, secret, "view")
    env = {**os.environ, "COLUMNS": "100", "PYTHONPATH": str(ROOT / "src")}
    for args in (["explain", folder, "--agent", "0"], ["report", folder]):
        proc = subprocess.run(
            [sys.executable, "-m", "socialcredit.cli", *map(str, args)],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
        )
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr and SECRET not in proc.stdout + proc.stderr
        assert "credit.duckdb" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (folder / "report.html").exists()


def test_a_hostile_folder_name_is_a_name_not_sql_or_a_pattern(saved, tmp_path):
    root = tmp_path / "runs"
    hostile = copy_run(saved, root, HOSTILE)
    other = copy_run(saved, root, "evil'; DROP TABLE x; --\"X-other")  # what '*' would match
    for folder in (hostile, other):  # tell the two apart by their run ids
        info = sc.open_run(folder).info
        assert info["run_id"] == saved.name
    opened = sc.open_run(hostile)
    assert opened.path == hostile and opened.events is not None
    con = connect(root)
    paths = {r[0] for r in con.execute("SELECT path FROM catalog").fetchall()}
    assert paths == {HOSTILE, other.name}
    # each file once: the hostile name did not glob the other folder's file in a second time
    rows = con.execute("SELECT count(*) FROM metrics").fetchone()[0]
    assert rows == 2 * len(pd.read_parquet(saved / "metrics.parquet"))
    assert con.execute("SELECT count(*) FROM catalog").fetchone() == (2,)


def test_table_names_from_a_file_are_quoted(tmp_path):
    """The report's reader of foreign event files takes a lone table with an ``agent`` column
    whatever its name; a name with quotes is read as a name."""
    file = tmp_path / "events.duckdb"
    con = duckdb.connect(str(file))
    name = 'x" AS t; SELECT 1; --'
    con.execute(f"CREATE TABLE {quote_identifier(name)} AS SELECT 3::BIGINT AS agent, 1 AS day")
    con.close()
    events = _read_duckdb_events(file)
    assert events is not None and list(events["agent"]) == [3]


def test_a_data_only_connection_reads_no_other_file(tmp_path):
    from socialcredit.integrity import connect_data_only

    file = tmp_path / "x.duckdb"
    duckdb.connect(str(file)).close()
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    con = connect_data_only(file)
    with pytest.raises(duckdb.Error):
        con.execute(f"SELECT * FROM read_text('{secret}')").fetchall()
    with pytest.raises(duckdb.Error):  # and cannot be turned back on
        con.execute("SET enable_external_access = true")
    con.close()
