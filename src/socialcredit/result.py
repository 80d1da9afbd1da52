"""The result of one simulation run, in memory: what `simulate` returns and `open_run` reads back."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from socialcredit.scenario.model import Scenario


@dataclass
class Result:
    """One run: the resolved scenario, tidy daily metrics, a final per-agent snapshot, a summary.

    ``metrics`` has columns day (int32, 1-based day just simulated), jurisdiction (str),
    group (str), metric (str), value (float64); see docs/metrics.md for every metric.
    ``agents`` has one row per agent (or None when the scenario's record.snapshot is false).
    ``summary`` is small and JSON-serialisable. ``info`` holds run facts: run_id, scenario
    name and hash, seed, package version, started and ended (ISO 8601 UTC), wall_s, agents,
    days, status.
    """

    scenario: Scenario
    metrics: pd.DataFrame
    agents: pd.DataFrame | None
    summary: dict[str, Any]
    info: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    counterfactual: Result | None = None  # the paired run without the system, if asked for
    events: pd.DataFrame | None = None  # credit-file event log of the sampled agents
    sample: Any = None  # indices of the agents whose credit files are kept
    causes: pd.DataFrame | None = None  # grounds of sanctions, lists' events (results/causes.py)
    # organisations (None without them): daily (day, sector, metric, value) and the firm table
    org_metrics: pd.DataFrame | None = None
    firms: pd.DataFrame | None = None

    def save(self, root: str | Path = "runs") -> Path:
        """Write the run folder under ``root`` (atomically); `socialcredit runs` lists it."""
        from socialcredit.store import save_run

        self.path = save_run(self, root)
        return self.path

    def _repr_html_(self) -> str:
        from socialcredit.display import run_html

        return run_html(self)


def open_run(path: str | Path) -> Result:
    """Read a run folder back into a Result, with ``path`` set (raises
    ``socialcredit.store.RunNotFound`` for a missing or unfinished folder)."""
    from socialcredit.store.runs import read_run

    return Result(**read_run(path))
