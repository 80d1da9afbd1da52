"""How the tidy metrics combine across cells, without JAX (the store reads it).

The ``aggregation`` column of ``metrics.parquet`` says how a value combines across cells:
``sum`` for counts (add them over jurisdictions and groups), ``mean`` for a cell's per-agent
mean (weight it by the cell's ``agents``; adding means up is meaningless). ``daily_totals``
does both right.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SUM, MEAN = "sum", "mean"


def aggregation_of(metric: str) -> str:
    """How a metric combines across cells: ``mean`` for the per-agent means (``mean_score``,
    ``mean_risk``, ...), ``sum`` for every count (``agents`` included)."""
    return MEAN if metric.startswith("mean_") else SUM


def with_aggregation(metrics: pd.DataFrame) -> pd.DataFrame:
    """The table with its ``aggregation`` column (made from the metric names when a table
    from before the column, an older run folder say, lacks it)."""
    if "aggregation" in metrics.columns:
        return metrics
    out = metrics.copy()
    out["aggregation"] = np.where(out["metric"].str.startswith("mean_"), MEAN, SUM)
    return out


def daily_totals(metrics: pd.DataFrame) -> pd.DataFrame:
    """One row per (day, metric) over all cells: counts summed, means weighted by the cells'
    ``agents``. Columns day, metric, aggregation, value."""
    m = with_aggregation(metrics)
    agents = m[m["metric"] == "agents"].set_index(["day", "jurisdiction", "group"])["value"]
    counts = m[m["aggregation"] == SUM].groupby(["day", "metric"], sort=False)["value"].sum()
    means = m[m["aggregation"] == MEAN]
    w = agents.reindex(pd.MultiIndex.from_frame(means[["day", "jurisdiction", "group"]]))
    w = pd.Series(w.to_numpy(), index=means.index)
    num = (means["value"] * w).groupby([means["day"], means["metric"]], sort=False).sum()
    den = w.groupby([means["day"], means["metric"]], sort=False).sum()
    out = pd.concat(
        [
            counts.rename("value").reset_index().assign(aggregation=SUM),
            (num / den).rename("value").reset_index().assign(aggregation=MEAN),
        ],
        ignore_index=True,
    )
    return out[["day", "metric", "aggregation", "value"]].sort_values(
        ["day", "metric"], kind="stable", ignore_index=True
    )
