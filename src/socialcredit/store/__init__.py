"""Storing runs: atomic run folders plus a DuckDB catalog that lists them.

A Result is opened from a folder by `socialcredit.open_run` (socialcredit/result.py).
"""

from socialcredit.store.catalog import list_runs, record_end, record_start
from socialcredit.store.runs import RunNotFound, read_run, save_run

__all__ = ["RunNotFound", "list_runs", "read_run", "record_end", "record_start", "save_run"]
