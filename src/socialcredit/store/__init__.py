"""Storing runs: atomic run folders, and a catalog read from the folders' own manifests.

A Result is opened from a folder by `socialcredit.open_run` (socialcredit/result.py).
"""

from socialcredit.store.catalog import catalog, list_runs, record_end, record_start
from socialcredit.store.runs import DamagedRun, RunNotFound, read_run, save_run

__all__ = [
    "DamagedRun",
    "RunNotFound",
    "catalog",
    "list_runs",
    "read_run",
    "record_end",
    "record_start",
    "save_run",
]
