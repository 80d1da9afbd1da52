"""Write a report's files whole or not at all.

The run store's approach (store/runs.py) applied to a report: everything is written into a
``.tmp-report-*`` folder beside the files' place (inside the target folder, so on the same file
system), fsynced, and moved into place only once every file is complete. Subfolders (the
report's ``figures/``) are swapped whole, then each top-level file (``report.html``) replaces
its old version with one rename, last, so a page never points at figures still being written.
An error while writing (a chart that cannot be drawn, a full disk) leaves the target as it was:
no half-written page, no mix of old and new figures, and a target folder made for the report
removed again. A process killed mid-write leaves at most a ``.tmp-report-*`` folder, which the
next report into that folder sweeps away once it is an hour old.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TMP_PREFIX = ".tmp-report-"
STALE_TMP_S = 3600.0


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # directories cannot be fsynced on some platforms
        pass
    finally:
        os.close(fd)


def _sweep_stale(folder: Path) -> None:
    """Remove ``.tmp-report-*`` folders old enough that their writer must be dead."""
    now = time.time()
    for tmp in folder.glob(f"{TMP_PREFIX}*"):
        try:
            if tmp.is_dir() and now - tmp.stat().st_mtime > STALE_TMP_S:
                shutil.rmtree(tmp, ignore_errors=True)
        except FileNotFoundError:  # another process swept it first
            pass


def _move_into(tmp: Path, folder: Path) -> None:
    """Move tmp's entries into folder: subfolders swapped whole first, then the files."""
    entries = sorted(tmp.iterdir(), key=lambda p: (not p.is_dir(), p.name))
    for entry in entries:
        target = folder / entry.name
        if entry.is_dir():
            old = tmp / f"{TMP_PREFIX}old-{entry.name}"
            if target.exists():
                os.rename(target, old)  # removed with tmp
            os.rename(entry, target)
        else:
            os.replace(entry, target)


@contextmanager
def written_whole(folder: str | Path) -> Iterator[Path]:
    """Yield a temporary folder to write into; on leaving the block without an error, move its
    contents into ``folder`` (made if missing); on an error, discard them and re-raise."""
    folder = Path(folder)
    made = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    _sweep_stale(folder)
    tmp = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=folder))
    try:
        yield tmp
        for path in tmp.rglob("*"):
            if path.is_file():
                _fsync(path)
        _move_into(tmp, folder)
        _fsync(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if made:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    shutil.rmtree(tmp, ignore_errors=True)
