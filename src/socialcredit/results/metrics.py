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


def metric_cells(
    spec: Spec, raw: np.ndarray, bases: np.ndarray, every: int = 1
) -> tuple[np.ndarray, list[tuple[int, int, dict[str, np.ndarray]]]]:
    """The days kept and, per (jurisdiction, group) cell, its metric series as the tidy table
    names them: (days, [(jurisdiction index, group index, {metric: values per day})]).
    `tidy_metrics` lays them out as rows; a sweep's outcomes read them directly
    (audit/formulas.py `MetricView.from_cells`)."""
    names = metric_names(spec)
    days = np.arange(1, spec.days + 1)
    keep = (days % every == 0) | (days == spec.days)
    raw = raw[keep]
    days = days[keep]
    sizes = spec.cell_sizes().astype(np.float64)
    cj, cg = spec.cell_of()
    absent = absent_metrics(spec)
    cells = []
    for c in range(spec.n_cells):
        vals = _cell_values(spec, names, raw[:, c], sizes[c], float(bases[cj[c]]), cj[c], absent)
        vals["agents"] = np.full(len(days), sizes[c])
        cells.append((int(cj[c]), int(cg[c]), vals))
    return days, cells


def tidy_metrics(spec: Spec, raw: np.ndarray, bases: np.ndarray, every: int = 1) -> pd.DataFrame:
    """[days, C, M] raw sums -> tidy rows (day, jurisdiction, group, metric, value,
    aggregation).

    Counts stay counts (add them across cells); `agents` gives each cell's size; the mean
    score, risk and wealth of each cell are given as means (``aggregation`` says which).
    """
    days, cells = metric_cells(spec, raw, bases, every)
    labels: dict[str, int] = {}  # metric name -> its code, in order of first appearance
    cols: dict[str, list] = {"jurisdiction": [], "group": [], "metric": [], "value": []}
    for j, g, vals in cells:
        codes = [labels.setdefault(name, len(labels)) for name in vals]
        cols["jurisdiction"].append(np.full(len(vals) * len(days), j, np.int64))
        cols["group"].append(np.full(len(vals) * len(days), g, np.int64))
        cols["metric"].append(np.repeat(np.asarray(codes, np.int64), len(days)))
        cols["value"].append(np.concatenate([np.asarray(v, np.float64) for v in vals.values()]))
    jur, group, metric = (np.concatenate(cols[k]) for k in ("jurisdiction", "group", "metric"))
    day = np.tile(days.astype(np.int32), len(metric) // max(len(days), 1))
    jur_names = np.asarray(spec.jurisdictions, dtype=object)
    group_names = np.asarray(spec.groups, dtype=object)
    metric_names_ = np.asarray(list(labels), dtype=object)
    # rows sorted by (day, jurisdiction, group, metric), names in code-point order (as pandas
    # sorts strings): one stable lexsort of the names' ranks instead of a DataFrame sort
    order = np.lexsort(
        (
            _ranks(metric_names_)[metric],
            _ranks(group_names)[group],
            _ranks(jur_names)[jur],
            day,
        )
    )
    df = pd.DataFrame(
        {
            "day": day[order],
            "jurisdiction": jur_names[jur[order]],
            "group": group_names[group[order]],
            "metric": metric_names_[metric[order]],
            "value": np.concatenate(cols["value"])[order],
        }
    )
    for col in ("jurisdiction", "group", "metric"):
        df[col] = df[col].astype(str)
    return with_aggregation(df)


def _ranks(names: np.ndarray) -> np.ndarray:
    """Each name's rank among ``names`` in code-point order (equal names, equal ranks)."""
    _, codes = np.unique(names.astype(str), return_inverse=True)
    return codes.reshape(-1)


def _cell_values(
    spec: Spec,
    names: list[str],
    raw: np.ndarray,
    size: float,
    base: float,
    j: int,
    absent: set[str],
) -> dict[str, np.ndarray]:
    """One cell's metric series (raw [days, M]), named as the table names them."""
    tier_names = spec.tier_names[j]
    vals = {}
    for m, name in enumerate(names):
        if name.startswith(("tier.", "approval_tier.")):
            t = int(name.split(".")[1])
            if t >= len(tier_names):
                continue
            name = f"{name.split('.')[0]}.{tier_names[t]}"
        if name == "children_sum":
            vals["children"] = raw[:, m]
            continue
        if name.endswith("_sum"):
            name = "mean_" + name[: -len("_sum")]
            vals[name] = raw[:, m] / max(size, 1.0)
        else:
            vals[name] = raw[:, m]
    if "mean_score" in vals and tier_names:
        vals["mean_score"] = vals["mean_score"] + base
    elif not tier_names:
        vals.pop("mean_score", None)
        vals.pop("listed", None)
        vals.pop("newly_listed", None)
    for name in absent:  # mechanisms the scenario lacks: no rows, not zeros
        vals.pop(name, None)
    return vals
