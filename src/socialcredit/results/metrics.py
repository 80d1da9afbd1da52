"""The tidy daily metrics table of a run: the engine's raw per-cell sums, one row per
(day, jurisdiction, group, metric); docs/metrics.md defines every metric.

Its ``aggregation`` column says how a value combines across cells (results/aggregation.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from socialcredit.compile import Spec
from socialcredit.engine.stages.measure import absent_metrics, metric_names
from socialcredit.results.aggregation import (  # noqa: F401  (re-exported)
    MEAN,
    SUM,
    aggregation_of,
    daily_totals,
    with_aggregation,
)


def tidy_metrics(spec: Spec, raw: np.ndarray, bases: np.ndarray, every: int = 1) -> pd.DataFrame:
    """[days, C, M] raw sums -> tidy rows (day, jurisdiction, group, metric, value,
    aggregation).

    Counts stay counts (add them across cells); `agents` gives each cell's size; the mean
    score, risk and wealth of each cell are given as means (``aggregation`` says which).
    """
    names = metric_names(spec)
    days = np.arange(1, spec.days + 1)
    keep = (days % every == 0) | (days == spec.days)
    raw = raw[keep]
    days = days[keep]
    sizes = spec.cell_sizes().astype(np.float64)
    cj, cg = spec.cell_of()
    absent = absent_metrics(spec)
    frames = []
    for c in range(spec.n_cells):
        j = cj[c]
        tier_names = spec.tier_names[j]
        vals = {}
        for m, name in enumerate(names):
            if name.startswith(("tier.", "approval_tier.")):
                t = int(name.split(".")[1])
                if t >= len(tier_names):
                    continue
                name = f"{name.split('.')[0]}.{tier_names[t]}"
            if name == "children_sum":
                vals["children"] = raw[:, c, m]
                continue
            if name.endswith("_sum"):
                name = "mean_" + name[: -len("_sum")]
                vals[name] = raw[:, c, m] / max(sizes[c], 1.0)
            else:
                vals[name] = raw[:, c, m]
        if "mean_score" in vals and tier_names:
            vals["mean_score"] = vals["mean_score"] + float(bases[j])
        elif not tier_names:
            vals.pop("mean_score", None)
            vals.pop("listed", None)
            vals.pop("newly_listed", None)
        for name in absent:  # mechanisms the scenario lacks: no rows, not zeros
            vals.pop(name, None)
        vals["agents"] = np.full(len(days), sizes[c])
        # one frame per cell, not per (cell, metric): 62 zones made thousands of small frames
        frames.append(
            pd.DataFrame(
                {
                    "day": np.tile(days.astype(np.int32), len(vals)),
                    "jurisdiction": spec.jurisdictions[j],
                    "group": spec.groups[cg[c]],
                    "metric": np.repeat(np.array(list(vals), dtype=object), len(days)),
                    "value": np.concatenate([np.asarray(v, np.float64) for v in vals.values()]),
                }
            )
        )
    df = pd.concat(frames, ignore_index=True)
    for col in ("jurisdiction", "group", "metric"):
        df[col] = df[col].astype(str)
    df = df.sort_values(["day", "jurisdiction", "group", "metric"], kind="stable").reset_index(
        drop=True
    )
    return with_aggregation(df)
