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

    def to_xarray(self):  # noqa: ANN201  (xarray is optional: no annotation to import)
        """The daily metrics as an ``xarray.Dataset``: one variable per metric over the dims
        ``day``, ``jurisdiction`` and ``group`` (NaN where a cell lacks the metric, e.g. tiers
        in a jurisdiction without a programme). Each variable's ``attrs["aggregation"]`` says
        how it combines across cells: ``sum`` for counts
        (``ds["listed"].sum(("jurisdiction", "group"))``), ``mean`` for per-agent means,
        which are weighted by ``agents``, never added
        (``ds["mean_score"].weighted(ds["agents"].fillna(0)).mean(("jurisdiction", "group"))``).

        Needs xarray (``pip install 'socialcredit[notebook]'``)."""
        try:
            import xarray as xr
        except ImportError:
            raise ImportError(
                "Result.to_xarray needs xarray, which is not installed: "
                "pip install 'socialcredit[notebook]' (or pip install xarray)"
            ) from None
        from socialcredit.results.aggregation import with_aggregation

        m = with_aggregation(self.metrics)
        wide = m.set_index(["day", "jurisdiction", "group", "metric"])["value"].unstack("metric")
        ds = xr.Dataset.from_dataframe(wide)
        kinds = m.drop_duplicates("metric").set_index("metric")["aggregation"]
        for name in ds.data_vars:
            ds[name].attrs["aggregation"] = str(kinds[name])
        info = self.info or {}
        ds.attrs.update(
            {k: info[k] for k in ("run_id", "scenario_name", "seed") if info.get(k) is not None}
        )
        ds.attrs.setdefault("scenario_name", self.scenario.metadata.name)
        return ds

    def _repr_html_(self) -> str:
        from socialcredit.display import run_html

        return run_html(self)


def open_run(path: str | Path) -> Result:
    """Read a run folder back into a Result, with ``path`` set (raises
    ``socialcredit.store.RunNotFound`` for a missing or unfinished folder)."""
    from socialcredit.store.runs import read_run

    return Result(**read_run(path))
