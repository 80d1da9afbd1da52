"""Run folders are data from elsewhere: check what was written, and read it as data only.

A run folder may have been copied, sent by someone else, cut short by a full disk or edited
by hand. Two guards:

- **A file manifest** (``checksums.json``, written last into every run folder, and into audit
  folders): each file's size and sha256. `verify_folder` checks every listed file before
  anything is read and raises `DamagedRun` with one line naming the file and what is wrong
  (missing, truncated, longer than written, altered, not a plain file, or a data file that
  the manifest does not list). A folder without the manifest (written before it existed)
  opens unchecked.
- **DuckDB files as data**: `open_data_only` opens a private copy of a DuckDB file read-only with every
  file-system access, extension loading and configuration change turned off, and
  `read_table` reads only a base table of the main schema (never a view, never a generated
  column), by its quoted name and named columns. A view or macro planted in a run's
  ``credit.duckdb`` is refused, not run. `quote_identifier` quotes any name put into SQL.

Imports nothing from the package, so any layer may use it (as socialcredit/atomic.py).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

MANIFEST = "checksums.json"
MANIFEST_FORMAT = 1
_CHUNK = 1 << 20


class RunNotFound(FileNotFoundError):
    """A run folder is missing, incomplete, or an unfinished ``.tmp-*`` write."""


class DamagedRun(RunNotFound):
    """A run folder's file is missing, truncated, altered or unsafe to read. The message is one
    line naming the file and what is wrong; ``file`` and ``problem`` hold the parts."""

    def __init__(self, folder: str | Path, file: str, problem: str) -> None:
        self.folder, self.file, self.problem = Path(folder), file, problem
        super().__init__(f"run folder {folder} is damaged: {file} {problem}")

    def __str__(self) -> str:
        return str(self.args[0])


# ----------------------------------------------------------------------------- manifest


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(folder: str | Path) -> Path:
    """Write ``checksums.json``: the size and sha256 of every plain file in ``folder`` and its
    subfolders (paths relative to it, with '/'), the manifest itself excepted. Call it last."""
    folder = Path(folder)
    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink() and path.name != MANIFEST:
            rel = path.relative_to(folder).as_posix()
            files[rel] = {"size": path.stat().st_size, "sha256": sha256_file(path)}
    text = json.dumps({"format": MANIFEST_FORMAT, "files": files}, indent=2) + "\n"
    out = folder / MANIFEST
    out.write_text(text, encoding="utf-8")
    return out


def _read_manifest(folder: Path) -> dict[str, dict[str, Any]] | None:
    path = folder / MANIFEST
    if not path.exists() and not path.is_symlink():
        return None
    if path.is_symlink() or not path.is_file():
        raise DamagedRun(folder, MANIFEST, "is not a plain file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise DamagedRun(folder, MANIFEST, "is not valid JSON") from None
    files = data.get("files") if isinstance(data, dict) else None
    ok = isinstance(files, dict) and all(
        isinstance(v, dict)
        and isinstance(v.get("size"), int)
        and isinstance(v.get("sha256"), str)
        and _safe_name(k)
        for k, v in files.items()
    )
    if not ok or data.get("format") != MANIFEST_FORMAT:
        raise DamagedRun(folder, MANIFEST, "is not a file manifest this version can read")
    return files


def _safe_name(name: Any) -> bool:
    """A manifest entry names a file inside the folder: relative, no '..', no empty parts."""
    if not isinstance(name, str) or not name or name.startswith("/") or "\\" in name:
        return False
    return all(part not in ("", ".", "..") for part in name.split("/"))


def verify_folder(folder: str | Path, data_files: tuple[str, ...] = ()) -> bool:
    """Check every file the folder's manifest lists (size, then sha256); False when the folder
    has no manifest (an older folder: nothing to check against). ``data_files`` are the names a
    reader will read if present: one present but not listed is refused too (added later).
    Raises DamagedRun naming the first file found wrong."""
    folder = Path(folder)
    files = _read_manifest(folder)
    if files is None:
        return False
    for name in data_files:
        if name not in files and ((folder / name).exists() or (folder / name).is_symlink()):
            raise DamagedRun(folder, name, f"is not listed in {MANIFEST} (added after the run)")
    for name, want in files.items():
        path = folder / name
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise DamagedRun(folder, name, "is not a plain file (a link or a folder)")
        if not path.exists():
            raise DamagedRun(folder, name, f"is missing (listed in {MANIFEST})")
        size = path.stat().st_size
        if size < want["size"]:
            raise DamagedRun(folder, name, f"is truncated ({size:,} of {want['size']:,} bytes)")
        if size > want["size"]:
            raise DamagedRun(
                folder, name, f"is longer than written ({size:,}, not {want['size']:,} bytes)"
            )
        if sha256_file(path) != want["sha256"]:
            raise DamagedRun(folder, name, f"is altered (its sha256 differs from {MANIFEST})")
    return True


# ----------------------------------------------------------------------------- DuckDB as data


def quote_identifier(name: str) -> str:
    """A SQL identifier, double-quoted with inner quotes doubled (never formatted in raw)."""
    if "\x00" in name:
        raise ValueError("an identifier cannot contain a NUL character")
    return '"' + name.replace('"', '""') + '"'


DATA_ONLY_CONFIG = {
    "enable_external_access": False,  # no files, URLs or databases beyond the one opened
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
    "allow_community_extensions": False,
    "lock_configuration": True,  # and no SET to turn any of it back on
}


def connect_data_only(path: str | Path) -> Any:
    """A read-only DuckDB connection to ``path`` that cannot read any other file, load an
    extension, or change its own settings. Prefer `open_data_only`, which also keeps the
    file's folder name and any write-ahead log beside it out of the way."""
    import duckdb

    return duckdb.connect(str(path), read_only=True, config=dict(DATA_ONLY_CONFIG))


@contextmanager
def open_data_only(path: str | Path) -> Iterator[Any]:
    """`connect_data_only` on a private copy of the file, closed and removed on leaving.

    The copy is what makes the file data: DuckDB reads '?' in a path as the start of options
    (a folder named ``a?b`` cannot be opened in place), would replay a ``.wal`` planted beside
    the file, and could read a file changed after its checksum was checked."""
    with tempfile.TemporaryDirectory(prefix="socialcredit-duckdb-") as tmp:
        copy = Path(tmp) / "data.duckdb"
        shutil.copyfile(path, copy)
        con = connect_data_only(copy)
        try:
            yield con
        finally:
            con.close()


def base_tables(con: Any) -> list[str]:
    """The names of the main schema's base tables (views and temporary tables are left out)."""
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() "
        "WHERE schema_name = 'main' AND NOT temporary AND database_name = current_database() "
        "ORDER BY table_name"
    ).fetchall()
    return [r[0] for r in rows]


def table_columns(con: Any, table: str) -> list[str]:
    """A base table's plain (not generated) columns, in order; ValueError if any is generated
    (computed when read: an expression planted in the file)."""
    rows = con.execute(
        "SELECT column_name, is_generated FROM duckdb_columns() WHERE schema_name = 'main' "
        "AND database_name = current_database() AND table_name = ? ORDER BY column_index",
        [table],
    ).fetchall()
    generated = [r[0] for r in rows if r[1]]
    if generated:
        raise ValueError(f"table {table!r} has computed columns ({', '.join(generated)})")
    return [r[0] for r in rows]


def read_table(con: Any, table: str, columns: list[str] | None = None, order: str = "") -> Any:
    """A base table of the main schema as a DataFrame: ``columns`` (default: all), by quoted
    names. ValueError if ``table`` is no base table (a view, a macro) or lacks a column."""
    if table not in base_tables(con):
        raise ValueError(f"no table {table!r} (a view or anything but a plain table is not read)")
    have = table_columns(con, table)
    columns = have if columns is None else columns
    missing = [c for c in columns if c not in have]
    if missing:
        raise ValueError(f"table {table!r} lacks {', '.join(missing)}")
    cols = ", ".join(quote_identifier(c) for c in columns)
    sql = f"SELECT {cols} FROM main.{quote_identifier(table)}"
    if order:
        sql += " ORDER BY " + ", ".join(quote_identifier(c) for c in order.split(","))
    return con.execute(sql).df()
