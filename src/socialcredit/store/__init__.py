"""Storing runs: atomic run folders plus a DuckDB catalog that lists them."""

from socialcredit.store.catalog import list_runs, record_end, record_start
from socialcredit.store.runs import RunNotFound, open_run, save_run

__all__ = ["RunNotFound", "list_runs", "open_run", "record_end", "record_start", "save_run"]
