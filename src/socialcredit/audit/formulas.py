"""Reading a run for outcome formulas: a run's metric sums (``MetricView``, built once per
result by ``view``) and the formula builders the catalogue's outcomes are made of (rates per
agent-year, shares, last-day shares and means, the organisations' figures, the Gini).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from socialcredit.audit.outcome import Counted, CountKind, NotModelled, Undefined
from socialcredit.results.aggregation import MEAN, aggregation_of
from socialcredit.units import DAYS_PER_YEAR

if TYPE_CHECKING:
    from socialcredit.result import Result


class MetricView:
    """Sums of a run's tidy metrics, shaped for outcome formulas.

    ``total(m)`` sums a count over days and cells; ``agent_years`` comes from the `agents` rows
    present, so runs that keep only every k-th day (record.metrics_every) still give rates,
    estimated from the kept days. ``last`` holds the last day's rows, for end-of-run states.
    """

    def __init__(self, result: Result) -> None:
        m = result.metrics
        self.metrics = m  # the table it sums (``view`` rebuilds when a result's table is replaced)
        self.scenario = result.scenario
        self.names = set(m["metric"].unique())
        # the means (metrics.parquet's `aggregation` column): never summed, only weighted
        self.means = {x for x in self.names if aggregation_of(x) == MEAN}
        self.totals = m.groupby("metric", sort=False)["value"].sum()
        self.by_group = m.groupby(["metric", "group"], sort=False)["value"].sum()
        last_day = m["day"].max()
        last = m[m["day"] == last_day]
        self.last = last.set_index(["metric", "jurisdiction", "group"])["value"].sort_index()
        self.agent_days = float(self.totals.get("agents", 0.0))
        self.agent_years = self.agent_days / DAYS_PER_YEAR
        self._last_cells: dict[str, pd.Series] = {}  # outcomes ask for a few, often

    @classmethod
    def from_cells(
        cls, result: Result, jurisdictions, groups, cells: list[tuple[int, int, dict]]
    ) -> MetricView:
        """The view of a run whose tidy table was never built: from its cells' series
        (results/metrics.py `metric_cells`), with the sums and last day's values the table
        would give. A sweep's worker evaluates outcomes this way; tests/test_presets.py checks
        it against the view of the table, outcome by outcome, on every preset."""
        v = cls.__new__(cls)
        v.metrics = result.metrics
        v.scenario = result.scenario
        names, jurs, grps, sums, lasts = [], [], [], [], []
        for j, g, vals in cells:
            series = np.asarray(list(vals.values()), np.float64).reshape(len(vals), -1)
            names += list(vals)
            jurs += [str(jurisdictions[j])] * len(vals)
            grps += [str(groups[g])] * len(vals)
            sums.append(np.nansum(series, axis=1))
            lasts.append(series[:, -1])
        total, last = np.concatenate(sums), np.concatenate(lasts)
        totals: dict[str, float] = {}
        by_group: dict[tuple[str, str], float] = {}
        for name, grp, t in zip(names, grps, total.tolist(), strict=True):
            totals[name] = totals.get(name, 0.0) + t
            by_group[(name, grp)] = by_group.get((name, grp), 0.0) + t
        v.names = set(totals)
        v.means = {x for x in v.names if aggregation_of(x) == MEAN}
        v.totals = pd.Series(list(totals.values()), index=list(totals), dtype=np.float64)
        keys = list(by_group)
        v.by_group = pd.Series(
            list(by_group.values()),
            index=pd.MultiIndex.from_arrays([[k[0] for k in keys], [k[1] for k in keys]]),
            dtype=np.float64,
        )
        index = pd.MultiIndex.from_arrays(
            [names, jurs, grps], names=["metric", "jurisdiction", "group"]
        )
        v.last = pd.Series(last, index=index, name="value").sort_index()
        v.agent_days = float(totals.get("agents", 0.0))
        v.agent_years = v.agent_days / DAYS_PER_YEAR
        v._last_cells = {}
        return v

    def need(self, *metrics: str) -> None:
        missing = [x for x in metrics if x not in self.names]
        if missing:
            raise NotModelled(f"the run has no metric {', '.join(f'`{x}`' for x in missing)}")

    def count(self, metric: str) -> None:
        """Refuse to add up a mean: a formula that sums one is wrong whatever it gives."""
        if metric in self.means:
            raise TypeError(f"`{metric}` is a mean per cell; weight it by agents, do not sum it")

    def total(self, metric: str) -> float:
        self.need(metric)
        self.count(metric)
        return float(self.totals[metric])

    def group_total(self, metric: str, group: str) -> float:
        self.need(metric)
        self.count(metric)
        return float(self.by_group.get((metric, group), 0.0))

    def last_cells(self, metric: str) -> pd.Series:
        """The last day's value of ``metric`` per (jurisdiction, group) cell where it exists."""
        self.need(metric)
        if metric not in self._last_cells:
            self._last_cells[metric] = self.last.loc[metric]
        return self._last_cells[metric]

    def last_agents(self) -> pd.Series:
        return self.last_cells("agents")


_VIEW_ATTR = "_audit_metric_view"


def keep_view(result: Result, v: MetricView) -> None:
    """Attach ``v`` to ``result`` as its view (a sweep's worker, whose results carry no table)."""
    setattr(result, _VIEW_ATTR, v)


def view(result: Result) -> MetricView:
    """The MetricView of a result, built once per result and kept on it.

    The view lives and dies with its result (no module-level cache, so nothing keyed by
    ``id()``, which Python reuses once an object is freed); it is rebuilt if the result's
    ``metrics`` table is replaced. Objects that take no attributes get a fresh view each call.
    """
    v = getattr(result, _VIEW_ATTR, None)
    if isinstance(v, MetricView) and v.metrics is result.metrics:
        return v
    v = MetricView(result)
    try:
        setattr(result, _VIEW_ATTR, v)
    except (AttributeError, TypeError):  # slots or a frozen dataclass: do without the cache
        pass
    return v


def div(num: float, den: float, what: str, kind: CountKind | None = None) -> float:
    """num / den, or Undefined(what) when den is 0. With ``kind`` (``rate``: num events over
    den years; ``share``: num of den), a ``Counted`` that keeps num and den for the audit."""
    if den == 0:
        raise Undefined(what)
    if kind is not None:
        return Counted(num, den, kind)
    return num / den


def per_agent_year(metrics: list[str]) -> Callable[[Result], float]:
    """Formula: the sum of counts ``metrics`` over days and cells / agent-years."""

    def formula(result: Result) -> float:
        v = view(result)
        total = sum(v.total(m) for m in metrics)
        return div(total, v.agent_years, "no agent-years", "rate")

    return formula


def share_of(num: str, den: str, what: str) -> Callable[[Result], float]:
    """Formula: sum of ``num`` / sum of ``den`` over the run."""

    def formula(result: Result) -> float:
        v = view(result)
        return div(v.total(num), v.total(den), what, "share")

    return formula


def last_share(metric: str) -> Callable[[Result], float]:
    """Formula: ``metric`` on the last day / agents (in the cells where the metric exists)."""

    def formula(result: Result) -> float:
        v = view(result)
        vals = v.last_cells(metric)
        v.count(metric)
        agents = v.last_agents().reindex(vals.index).fillna(0.0)
        return div(float(vals.sum()), float(agents.sum()), "no agents", "share")

    return formula


def last_mean(metric: str) -> Callable[[Result], float]:
    """Formula: agent-weighted mean of a *mean* metric over cells, on the last day."""

    def formula(result: Result) -> float:
        v = view(result)
        vals = v.last_cells(metric)
        if metric not in v.means:
            raise TypeError(f"`{metric}` is a count, not a mean: use last_share")
        agents = v.last_agents().reindex(vals.index).fillna(0.0)
        return div(float((vals * agents).sum()), float(agents.sum()), "no agents")

    return formula


def gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative values: 0 = equal, 1 = one holds everything."""
    x = np.sort(np.asarray(x, dtype=np.float64))
    n = len(x)
    total = x.sum()
    if n == 0 or total <= 0:
        raise Undefined("no wealth")
    ranks = np.arange(1, n + 1)
    return float(2.0 * np.sum(ranks * x) / (n * total) - (n + 1) / n)


# Organisations (scenario section `organisations`): formulas over the run's org_metrics, firm
# rows (every sector) unless said otherwise; the counterfactual keeps the market and the
# institutions but has no inspections, ratings or listings.


def org_sums(result: Result, last: bool = False, institutions: bool = False) -> pd.Series:
    org = getattr(result, "org_metrics", None)
    if org is None:
        raise NotModelled("the scenario has no organisations (section `organisations`)")
    rows = org[(org["sector"] == "institutions") == institutions]
    if last:
        rows = rows[rows["day"] == rows["day"].max()]
    return rows.groupby("metric")["value"].sum()


def org_share(num: str, den: str, what: str, last: bool = False) -> Callable[[Result], float]:
    """Formula: sum of ``num`` / sum of ``den`` over firms, over the run (or its last day)."""

    def formula(result: Result) -> float:
        t = org_sums(result, last)
        return div(float(t.get(num, 0.0)), float(t.get(den, 0.0)), what, "share")

    return formula


def org_per_year(
    metric: str, per: str, institutions: bool = False, kind: CountKind | None = "rate"
) -> Callable[[Result], float]:
    """Formula: sum of ``metric`` / years of ``per`` (`firms`, `institutions` or `agents`).
    ``kind=None`` for a metric that is an amount (wealth), not a count of events."""

    def formula(result: Result) -> float:
        t = org_sums(result, institutions=institutions)
        if per == "agents":
            years = view(result).agent_years
        else:
            years = float(org_sums(result, institutions=per == "institutions").get(per, 0.0))
            years /= DAYS_PER_YEAR
        return div(float(t.get(metric, 0.0)), years, f"no {per}", kind)

    return formula
