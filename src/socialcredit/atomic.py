"""Write files whole or not at all: one helper for run folders, reports, audits and sweeps.

Every writer here writes into a temporary name in the target's own folder (so on the same file
system), fsyncs it, and renames it into place, then fsyncs the folder so the rename itself
survives a power cut. A reader therefore sees the old file or the new one, never a half of
either; a process killed mid-write leaves at most a dot-named temporary (``.tmp-*``), which
readers skip and `sweep_stale` removes once its writer must be dead.

- `write_bytes_atomic(path, data)` and `write_text_atomic(path, text)`: one file.
- `write_parquet_atomic(path, table_or_df)`: one Parquet file (zstd unless told otherwise).
- `fsync_file(path)` and `fsync_dir(path)`: the durability steps, for writers that build a
  whole folder themselves (the run store renames a ``.tmp-<run_id>`` folder into place).
- `written_whole(folder)`: a context manager yielding a temporary folder whose contents move
  into ``folder`` only when the block ends without an error (reports and comparisons).
- `sweep_stale(folder, prefix)`: remove temporaries older than an hour.

This module imports nothing from the package, so any layer may use it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TMP_PREFIX = ".tmp-"  # every temporary this module makes starts with it
REPORT_TMP_PREFIX = ".tmp-report-"  # `written_whole`'s temporary folders
STALE_TMP_S = 3600.0  # a temporary this old belongs to a dead writer


def _fsync(path: Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    except OSError:  # directories cannot be fsynced on some platforms
        pass
    finally:
        os.close(fd)


def fsync_file(path: str | Path) -> None:
    """Flush a written file's data to disk."""
    _fsync(Path(path), os.O_RDONLY)


def fsync_dir(path: str | Path) -> None:
    """Flush a folder's entries (a rename or a new file in it) to disk; a no-op where the
    platform cannot fsync folders."""
    _fsync(Path(path), os.O_RDONLY)


def _temp_beside(path: Path) -> Path:
    return path.with_name(f"{TMP_PREFIX}{path.name}.{secrets.token_hex(4)}")


def _replace(tmp: Path, path: Path) -> None:
    """fsync tmp, rename it over path, fsync the folder; on any error remove tmp."""
    try:
        fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` whole or not at all (the folder must exist)."""
    path = Path(path)
    tmp = _temp_beside(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _replace(tmp, path)
    return path


def write_text_atomic(path: str | Path, text: str) -> Path:
    """`write_bytes_atomic` of ``text`` in UTF-8."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_parquet_atomic(path: str | Path, table_or_df: Any, **write_options: Any) -> Path:
    """Write a pyarrow Table (or a pandas DataFrame, without its index) to ``path`` as Parquet,
    whole or not at all; ``write_options`` go to ``pyarrow.parquet.write_table`` (compression
    defaults to zstd)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    table = table_or_df
    if not isinstance(table, pa.Table):
        table = pa.Table.from_pandas(table_or_df, preserve_index=False)
    write_options.setdefault("compression", "zstd")
    tmp = _temp_beside(path)
    try:
        pq.write_table(table, tmp, **write_options)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _replace(tmp, path)
    return path


def sweep_stale(
    folder: str | Path, prefix: str = TMP_PREFIX, max_age_s: float = STALE_TMP_S
) -> None:
    """Remove ``prefix*`` entries of ``folder`` old enough that their writer must be dead."""
    now = time.time()
    for tmp in Path(folder).glob(f"{prefix}*"):
        try:
            if now - tmp.stat().st_mtime > max_age_s:
                if tmp.is_dir():
                    shutil.rmtree(tmp, ignore_errors=True)
                else:
                    tmp.unlink(missing_ok=True)
        except FileNotFoundError:  # another process swept it first
            pass


def _move_into(tmp: Path, folder: Path) -> None:
    """Move tmp's entries into folder: subfolders swapped whole first, then the files."""
    entries = sorted(tmp.iterdir(), key=lambda p: (not p.is_dir(), p.name))
    for entry in entries:
        target = folder / entry.name
        if entry.is_dir():
            old = tmp / f"{REPORT_TMP_PREFIX}old-{entry.name}"
            if target.exists():
                os.rename(target, old)  # removed with tmp
            os.rename(entry, target)
        else:
            os.replace(entry, target)


@contextmanager
def written_whole(folder: str | Path) -> Iterator[Path]:
    """Yield a temporary folder to write into; on leaving the block without an error, move its
    contents into ``folder`` (made if missing); on an error, discard them and re-raise.

    The temporary folder (``.tmp-report-*``) lives inside ``folder``. Subfolders are swapped
    whole, then each top-level file replaces its old version with one rename, so a page is
    moved last and never points at figures still being written."""
    folder = Path(folder)
    made = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    sweep_stale(folder, REPORT_TMP_PREFIX)
    tmp = Path(tempfile.mkdtemp(prefix=REPORT_TMP_PREFIX, dir=folder))
    try:
        yield tmp
        for path in tmp.rglob("*"):
            if path.is_file():
                fsync_file(path)
        _move_into(tmp, folder)
        fsync_dir(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if made:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    shutil.rmtree(tmp, ignore_errors=True)
