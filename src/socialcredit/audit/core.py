"""Audit a scenario against its counterfactual: what the system does, with intervals.

An audit runs the scenario and its counterfactual (the same society with every programme
removed) on R replicate seeds. The two runs of a replicate share their seed and so their random
numbers, so the difference between them is the system's effect on those people, not noise; the
spread of that difference across replicates gives a 95% interval.

Every outcome is a row of a registry (``OUTCOMES``): a name, whether it measures a stated aim
or a harm, a description, a formula ``(Result) -> float`` and how the two arms are compared.
A formula raises ``NotModelled`` when the run lacks what it needs (a metric that a mechanism
not in this scenario would produce), and the audit reports "not modelled in this scenario"
instead of failing; it raises ``Undefined`` when the figure exists but is 0/0. Outcomes that
depend on the scenario (one per behaviour, one per minority group) come from *families*:
functions of the scenario that return outcomes. docs/audit.md lists every outcome.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from rich.table import Table

    from socialcredit.result import Result
    from socialcredit.scenario.model import Scenario

DAYS_PER_YEAR = 365.0
NOT_MODELLED = "not modelled in this scenario"

Kind = Literal["aim", "harm"]
# difference: effect = system - counterfactual, per replicate.
# ratio: effect = system / counterfactual, per replicate.
# within: a comparison inside one arm (a ratio between groups): both arms reported, no effect.
# system: a figure of the system arm only (records, tier moves): no effect.
Comparison = Literal["difference", "ratio", "within", "system"]
# How numbers are shown: shares as percentages (differences of shares in percentage points).
Scale = Literal["number", "share"]

TABLE_COLUMNS = [
    "outcome",
    "kind",
    "unit",
    "system",
    "counterfactual",
    "effect",
    "ci_low",
    "ci_high",
    "relative",
    "note",
    "comparison",
    "label",
    "replicates_defined",
]
VALUE_COLUMNS = ["outcome", "replicate", "seed", "system", "counterfactual", "effect"]


class NotModelled(LookupError):
    """The run lacks what the outcome needs: the mechanism is not in this scenario."""


class Undefined(ArithmeticError):
    """The outcome exists in this run but has no value (a denominator of zero)."""


@dataclass(frozen=True)
class Outcome:
    """One thing an audit measures.

    ``formula(result)`` returns the outcome of one run (one arm of one replicate); it raises
    NotModelled or Undefined (see the module docstring). ``comparison`` says how the arms are
    compared; ``scale`` only changes how numbers are printed.
    """

    name: str
    kind: Kind
    unit: str
    description: str
    formula: Callable[[Result], float]
    comparison: Comparison = "difference"
    label: str = ""
    scale: Scale = "number"

    @property
    def title(self) -> str:
        return self.label or self.name


# A family expands into outcomes for one scenario (one per behaviour, one per group, ...).
Family = Callable[["Scenario"], list[Outcome]]
OUTCOMES: list[Outcome | Family] = []


def register(entry: Outcome | Family) -> Outcome | Family:
    """Add an outcome (or a family of outcomes) to the registry; usable as a decorator."""
    OUTCOMES.append(entry)
    return entry


def outcomes_for(
    scenario: Scenario, registry: Iterable[Outcome | Family] | None = None
) -> list[Outcome]:
    """The outcomes an audit of ``scenario`` reports, in registry order."""
    out: list[Outcome] = []
    for entry in OUTCOMES if registry is None else registry:
        out.extend([entry] if isinstance(entry, Outcome) else entry(scenario))
    names = [o.name for o in out]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"duplicate outcome names: {sorted(dup)}")
    return out


# ----------------------------------------------------------------------------- reading a run


class MetricView:
    """Sums of a run's tidy metrics, shaped for outcome formulas.

    ``total(m)`` sums a count over days and cells; ``agent_years`` comes from the `agents` rows
    present, so runs that keep only every k-th day (record.metrics_every) still give rates,
    estimated from the kept days. ``last`` holds the last day's rows, for end-of-run states.
    """

    def __init__(self, result: Result) -> None:
        m = result.metrics
        self.result = result
        self.scenario = result.scenario
        self.names = set(m["metric"].unique())
        self.totals = m.groupby("metric", sort=False)["value"].sum()
        self.by_group = m.groupby(["metric", "group"], sort=False)["value"].sum()
        last_day = m["day"].max()
        last = m[m["day"] == last_day]
        self.last = last.set_index(["metric", "jurisdiction", "group"])["value"].sort_index()
        self.agent_days = float(self.totals.get("agents", 0.0))
        self.agent_years = self.agent_days / DAYS_PER_YEAR

    def need(self, *metrics: str) -> None:
        missing = [x for x in metrics if x not in self.names]
        if missing:
            raise NotModelled(f"the run has no metric {', '.join(f'`{x}`' for x in missing)}")

    def total(self, metric: str) -> float:
        self.need(metric)
        return float(self.totals[metric])

    def group_total(self, metric: str, group: str) -> float:
        self.need(metric)
        return float(self.by_group.get((metric, group), 0.0))

    def last_cells(self, metric: str) -> pd.Series:
        """The last day's value of ``metric`` per (jurisdiction, group) cell where it exists."""
        self.need(metric)
        return self.last.loc[metric]

    def last_agents(self) -> pd.Series:
        return self.last.loc["agents"]


_VIEWS: dict[int, tuple[Any, MetricView]] = {}


def view(result: Result) -> MetricView:
    """The MetricView of a result, built once (a few recent results are kept)."""
    hit = _VIEWS.get(id(result))
    if hit is not None and hit[0] is result:
        return hit[1]
    v = MetricView(result)
    if len(_VIEWS) >= 8:
        _VIEWS.pop(next(iter(_VIEWS)))
    _VIEWS[id(result)] = (result, v)
    return v


def _div(num: float, den: float, what: str) -> float:
    if den == 0:
        raise Undefined(what)
    return num / den


def per_agent_year(metrics: list[str]) -> Callable[[Result], float]:
    """Formula: the sum of counts ``metrics`` over days and cells / agent-years."""

    def formula(result: Result) -> float:
        v = view(result)
        total = sum(v.total(m) for m in metrics)
        return _div(total, v.agent_years, "no agent-years")

    return formula


def share_of(num: str, den: str, what: str) -> Callable[[Result], float]:
    """Formula: sum of ``num`` / sum of ``den`` over the run."""

    def formula(result: Result) -> float:
        v = view(result)
        return _div(v.total(num), v.total(den), what)

    return formula


def last_share(metric: str) -> Callable[[Result], float]:
    """Formula: ``metric`` on the last day / agents (in the cells where the metric exists)."""

    def formula(result: Result) -> float:
        v = view(result)
        vals = v.last_cells(metric)
        agents = v.last_agents().reindex(vals.index).fillna(0.0)
        return _div(float(vals.sum()), float(agents.sum()), "no agents")

    return formula


def last_mean(metric: str) -> Callable[[Result], float]:
    """Formula: agent-weighted mean of a *mean* metric over cells, on the last day."""

    def formula(result: Result) -> float:
        v = view(result)
        vals = v.last_cells(metric)
        agents = v.last_agents().reindex(vals.index).fillna(0.0)
        return _div(float((vals * agents).sum()), float(agents.sum()), "no agents")

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


# ----------------------------------------------------------------------------- the outcomes


def _not_modelled(name: str, kind: Kind, unit: str, label: str, description: str, why: str):
    def formula(result: Result) -> float:
        raise NotModelled(why)

    return Outcome(name, kind, unit, description, formula, label=label)


def _acts_family(
    category: str, prefix: str, kind: Kind, what: str, describe: str, label_total: str
) -> Family:
    def family(scenario: Scenario) -> list[Outcome]:
        names = [b.name for b in scenario.behaviours if b.category in category.split("|")]
        unit = "acts per agent-year"
        total_desc = (
            f"{describe} Formula: sum over days and cells of acts.<b> for every {what} "
            "behaviour b / (agents x days / 365); effect = system - counterfactual."
        )
        if not names:
            return [
                _not_modelled(
                    f"{prefix}.total",
                    kind,
                    unit,
                    label_total,
                    total_desc,
                    f"the scenario has no behaviour of category {category.replace('|', ' or ')}",
                )
            ]
        out = [
            Outcome(
                f"{prefix}.{b}",
                kind,
                unit,
                f"{b} acts per agent-year: sum of acts.{b} / agent-years.",
                per_agent_year([f"acts.{b}"]),
                label=f"{b.replace('_', ' ').capitalize()} acts per agent-year",
            )
            for b in names
        ]
        out.append(
            Outcome(
                f"{prefix}.total",
                kind,
                unit,
                total_desc,
                per_agent_year([f"acts.{b}" for b in names]),
                label=label_total,
            )
        )
        return out

    return family


register(
    _acts_family(
        "misconduct",
        "misconduct",
        "aim",
        "misconduct",
        "Misconduct, the system's stated target: acts actually done (recorded or not). "
        "A negative effect is deterrence.",
        "Misconduct acts per agent-year (all)",
    )
)

register(
    Outcome(
        "records",
        "aim",
        "records per agent-year",
        "Records filed by the system, true and false: sum of records.<b> over behaviours, "
        "days and cells / agent-years. The counterfactual files none, so only the system "
        "value is reported.",
        lambda r: per_agent_year([f"records.{b.name}" for b in r.scenario.behaviours])(r),
        comparison="system",
        label="Records per agent-year",
    )
)
# Organisations (scenario section `organisations`): formulas over the run's org_metrics, firm
# rows (every sector) unless said otherwise; the counterfactual keeps the market and the
# institutions but has no inspections, ratings or listings.


def _org_sums(result: Result, last: bool = False, institutions: bool = False) -> pd.Series:
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
        t = _org_sums(result, last)
        return _div(float(t.get(num, 0.0)), float(t.get(den, 0.0)), what)

    return formula


def org_per_year(metric: str, per: str, institutions: bool = False) -> Callable[[Result], float]:
    """Formula: sum of ``metric`` / years of ``per`` (`firms`, `institutions` or `agents`)."""

    def formula(result: Result) -> float:
        t = _org_sums(result, institutions=institutions)
        if per == "agents":
            years = view(result).agent_years
        else:
            years = float(_org_sums(result, institutions=per == "institutions").get(per, 0.0))
            years /= DAYS_PER_YEAR
        return _div(float(t.get(metric, 0.0)), years, f"no {per}")

    return formula


register(
    Outcome(
        "counterfeit_rate",
        "aim",
        "share of purchases",
        "Counterfeits: counterfeit sales / sales in the market of businesses (sum of "
        "counterfeit_sales / sum of purchases over the run; needs organisations).",
        org_share("counterfeit_sales", "purchases", "no sales"),
        label="Counterfeit share of sales",
        scale="share",
    )
)
register(
    Outcome(
        "buyer_harm",
        "aim",
        "median incomes per agent-year",
        "Harm to buyers: wealth citizens lost to counterfeits, sum of buyer_harm / agent-years.",
        org_per_year("buyer_harm", "agents"),
        label="Counterfeit harm to buyers per agent-year",
    )
)
register(
    Outcome(
        "market_trust",
        "aim",
        "share of transactions",
        "Market trust: share of the purchases citizens wanted that they were willing to make "
        "(sum of purchases / sum of purchases_wanted over the run; needs organisations).",
        org_share("purchases", "purchases_wanted", "no purchases wanted"),
        label="Market trust",
        scale="share",
    )
)
register(
    Outcome(
        "debt_default_rate",
        "aim",
        "share of B2B trades",
        "Unpaid debts between firms: sum of unpaid_debts / sum of b2b_trades.",
        org_share("unpaid_debts", "b2b_trades", "no B2B trades"),
        label="B2B debts left unpaid",
        scale="share",
    )
)
register(
    Outcome(
        "institution_defaults",
        "aim",
        "missed repayments per institution-year",
        "Government institutions' missed repayments: sum of inst_defaults / institution-years "
        "(party organs included: they are never scored).",
        org_per_year("inst_defaults", "institutions", institutions=True),
        label="Institutions' missed repayments per year",
    )
)
register(
    Outcome(
        "bribery_rate",
        "aim",
        "bribes per firm-year",
        "Bribery: bribes institutions accepted for lenient inspections, sum of "
        "bribes_accepted / firm-years (none without inspections).",
        org_per_year("bribes_accepted", "firms"),
        label="Bribes accepted per firm-year",
    )
)
register(
    Outcome(
        "firms_driven_out",
        "aim",
        "share of firms",
        "Firms driven out of the market (out of cash and refused a loan): firms_out / "
        "(firms + firms_out) on the last day.",
        lambda r: _div(
            float(_org_sums(r, last=True).get("firms_out", 0.0)),
            float(_org_sums(r, last=True).get("firms", 0.0))
            + float(_org_sums(r, last=True).get("firms_out", 0.0)),
            "no firms",
        ),
        label="Firms driven out",
        scale="share",
    )
)
register(
    Outcome(
        "loan_refusal_rate",
        "aim",
        "share of loan applications",
        "Loans refused / loans applied for over the run (both arms: without a programme, "
        "loans are refused at 1 - economy.base_loan_approval).",
        share_of("loans_refused", "loans_applied", "no loan applications"),
        label="Loan refusal rate",
        scale="share",
    )
)
register(
    Outcome(
        "trips_blocked_rate",
        "aim",
        "share of long trips",
        "Trips blocked by a travel ban / long trips wanted over the run.",
        share_of("trips_blocked", "trips", "no trips"),
        label="Trips blocked rate",
        scale="share",
    )
)

register(
    _acts_family(
        "speech|religion",
        "chilling",
        "harm",
        "speech or religion",
        "Chilling effect: speech and religious acts done. A negative effect means people "
        "speak or worship less because of the system.",
        "Speech and religious acts per agent-year (all)",
    )
)
register(
    _acts_family(
        "prosocial",
        "prosocial",
        "harm",
        "prosocial",
        "Prosocial acts (volunteering, good deeds). The system rewards them, so a rise can be "
        "performance for points (strategic virtue) as much as virtue; a fall is crowding out.",
        "Prosocial acts per agent-year (all)",
    )
)
register(
    Outcome(
        "false_record_share",
        "harm",
        "share of records",
        "Records for acts that did not happen: false_records / all records (system arm).",
        lambda r: _div(
            view(r).total("false_records"),
            sum(view(r).total(f"records.{b.name}") for b in r.scenario.behaviours),
            "no records",
        ),
        comparison="system",
        label="False-record share of records",
        scale="share",
    )
)
register(
    Outcome(
        "honest_wrongly_listed",
        "harm",
        "share of honest firms",
        "Honest firms wrongly listed: honest firms ever put on a blacklist (false findings, "
        "joint punishment) / honest firms, on the last day (system arm).",
        org_share("honest_ever_listed", "honest_firms", "no honest firms", last=True),
        comparison="system",
        label="Honest firms wrongly listed",
        scale="share",
    )
)
register(
    Outcome(
        "honest_driven_out",
        "harm",
        "share of honest firms",
        "Honest firms driven out of the market: honest_out / honest_firms on the last day.",
        org_share("honest_out", "honest_firms", "no honest firms", last=True),
        label="Honest firms driven out",
        scale="share",
    )
)
register(
    Outcome(
        "sanctioned_share",
        "harm",
        "share of agent-days",
        "Agents who felt the system bite (a record that cost points, a loan refused where a "
        "programme runs, a blocked trip), per agent-day: sum of sanctioned / sum of agents.",
        share_of("sanctioned", "agents", "no agent-days"),
        label="Sanctioned per agent-day",
        scale="share",
    )
)
register(
    Outcome(
        "false_sanction_share",
        "harm",
        "share of sanctions",
        "Sanctions for something that did not happen: sanctioned_false / sanctioned.",
        share_of("sanctioned_false", "sanctioned", "nobody sanctioned"),
        comparison="system",
        label="False sanctions, share of sanctions",
        scale="share",
    )
)


def _bottom_tiers(scenario: Scenario) -> dict[str, str]:
    """Jurisdiction -> name of the lowest tier of its programme (jurisdictions with one)."""
    out = {}
    for j in scenario.jurisdictions:
        p = scenario.programmes.get(j.programme) if j.programme else None
        if p is None:
            continue
        low = min(p.tiers, key=lambda t: -math.inf if t.min is None else t.min)
        out[j.name] = low.name
    return out


def _group_rate_last(v: MetricView, metric_of: Callable[[str], str | None], group: str) -> float:
    """Last-day share of a group's agents in a state, over the cells where it is defined."""
    num = den = 0.0
    agents = v.last_agents()
    for (jur, grp), n in agents.items():
        if grp != group:
            continue
        metric = metric_of(jur)
        if metric is None:
            continue
        num += float(v.last.get((metric, jur, grp), 0.0))
        den += float(n)
    return _div(num, den, f"no {group} agents where it applies")


def _disparate_family(scenario: Scenario) -> list[Outcome]:
    groups = scenario.population.groups
    unit = "ratio, minority / largest group"
    if len(groups) < 2:
        return [
            _not_modelled(
                "disparate.sanctioned_rate_ratio",
                "harm",
                unit,
                "Disparate impact",
                "Disparate impact between groups.",
                "the population has one group only",
            )
        ]
    ref = max(groups, key=lambda g: g.share).name
    has_blacklist = any(p.blacklist is not None for p in scenario.programmes.values())
    out = []
    for g in (g.name for g in groups if g.name != ref):

        def sanctioned(r: Result, g: str = g) -> float:
            v = view(r)
            v.need("sanctioned")

            def rate(x: str) -> float:
                return _div(v.group_total("sanctioned", x), v.group_total("agents", x), "")

            return _div(rate(g), rate(ref), f"nobody in {ref} sanctioned")

        def listed(r: Result, g: str = g) -> float:
            if not has_blacklist:
                raise NotModelled("no programme keeps a blacklist")
            v = view(r)
            v.need("listed")
            jurs = set(v.last_cells("listed").index.get_level_values("jurisdiction"))

            def of(j: str) -> str | None:
                return "listed" if j in jurs else None

            return _div(
                _group_rate_last(v, of, g), _group_rate_last(v, of, ref), f"nobody in {ref} listed"
            )

        def bottom(r: Result, g: str = g) -> float:
            v = view(r)
            tiers = _bottom_tiers(r.scenario)
            if not tiers:
                raise NotModelled("no programme runs, so nobody has a tier")

            def of(j: str) -> str | None:
                return f"tier.{tiers[j]}" if j in tiers else None

            return _div(
                _group_rate_last(v, of, g),
                _group_rate_last(v, of, ref),
                f"nobody in {ref} in the bottom tier",
            )

        def gap(r: Result, g: str = g) -> float:
            v = view(r)
            scores = v.last_cells("mean_score")
            agents = v.last_agents().reindex(scores.index).fillna(0.0)

            def mean(x: str) -> float:
                sel = scores.index.get_level_values("group") == x
                return _div(
                    float((scores[sel] * agents[sel]).sum()),
                    float(agents[sel].sum()),
                    f"no {x} agents where a programme runs",
                )

            return mean(g) - mean(ref)

        vs = f"{g} vs {ref}"
        out += [
            Outcome(
                f"disparate.sanctioned_rate_ratio.{g}",
                "harm",
                unit,
                f"Sanctioned per agent-day among {g} / the same among {ref} (1 = parity).",
                sanctioned,
                comparison="within",
                label=f"Sanctioned rate ratio, {vs}",
            ),
            Outcome(
                f"disparate.listed_share_ratio.{g}",
                "harm",
                unit,
                f"Share of {g} on the blacklist on the last day / the same for {ref} "
                "(agents of jurisdictions with a programme).",
                listed,
                comparison="within",
                label=f"Listed share ratio, {vs}",
            ),
            Outcome(
                f"disparate.bottom_tier_ratio.{g}",
                "harm",
                unit,
                f"Share of {g} in their programme's lowest tier on the last day / the same for "
                f"{ref} (agents of jurisdictions with a programme).",
                bottom,
                comparison="within",
                label=f"Bottom-tier share ratio, {vs}",
            ),
            Outcome(
                f"disparate.score_gap.{g}",
                "harm",
                "score points, minority - largest group",
                f"Mean score of {g} minus that of {ref} on the last day (agent-weighted over "
                "jurisdictions with a programme).",
                gap,
                comparison="within",
                label=f"Mean score gap, {vs}",
            ),
        ]
    return out


register(_disparate_family)


def _wealth_gini(result: Result) -> float:
    if result.agents is None:
        raise NotModelled("the run kept no per-agent snapshot (record.snapshot is false)")
    return gini(result.agents["wealth"].to_numpy())


register(
    Outcome(
        "wealth_gini",
        "harm",
        "Gini coefficient (0-1)",
        "Inequality: Gini coefficient of final wealth over all agents (agents.parquet `wealth`).",
        _wealth_gini,
        label="Gini of final wealth",
    )
)
register(
    Outcome(
        "tier_mobility",
        "harm",
        "tier moves per agent-year",
        "Tier mobility: (sum of tier_up + tier_down) / agent-years.",
        per_agent_year(["tier_up", "tier_down"]),
        comparison="system",
        label="Tier moves per agent-year",
    )
)
register(
    Outcome(
        "children_excluded",
        "harm",
        "share of school applications",
        "Children excluded: school and university applications refused for the parents' tier "
        "or listing, sum of children_excluded / sum of school_applications.",
        share_of("children_excluded", "school_applications", "no school applications"),
        comparison="system",
        label="Children's school applications refused",
        scale="share",
    )
)
register(
    Outcome(
        "informant_density",
        "harm",
        "share of agents",
        "Informant density: agents who inform, informants / agents on the last day.",
        last_share("informants"),
        comparison="system",
        label="Informants among the population",
        scale="share",
    )
)
register(
    Outcome(
        "informant_reports",
        "harm",
        "reports per agent-year",
        "Informant reports: sum of records_by.informants / agent-years.",
        per_agent_year(["records_by.informants"]),
        comparison="system",
        label="Informant reports per agent-year",
    )
)
register(
    Outcome(
        "mean_trust",
        "harm",
        "mean trust (0-1)",
        "Interpersonal trust: mean_trust on the last day, agent-weighted over cells.",
        last_mean("mean_trust"),
        label="Interpersonal trust",
    )
)


register(
    Outcome(
        "map_exposure",
        "harm",
        "sightings per agent-year",
        "Exposure on the deadbeat map: days on which someone was seen by at least one app user "
        "near their home, sum of sighted / agent-years.",
        per_agent_year(["sighted"]),
        comparison="system",
        label="Days seen on the deadbeat map per agent-year",
    )
)
register(
    Outcome(
        "debts_paid",
        "aim",
        "payments per agent-year",
        "Debts paid: listed debtors who paid and left the court's list, sum of delisted_paid / "
        "agent-years.",
        per_agent_year(["delisted_paid"]),
        comparison="system",
        label="Listed debts paid per agent-year",
    )
)


# ----------------------------------------------------------------------------- statistics

# Student's t quantile 0.975 for df 1..30; beyond, conservative steps (the value at each step's
# lowest df: 30, 40, 60, 120) up to df 999, and the normal 1.96 from there on.
T975 = {
    1: 12.7062,
    2: 4.3027,
    3: 3.1824,
    4: 2.7764,
    5: 2.5706,
    6: 2.4469,
    7: 2.3646,
    8: 2.3060,
    9: 2.2622,
    10: 2.2281,
    11: 2.2010,
    12: 2.1788,
    13: 2.1604,
    14: 2.1448,
    15: 2.1314,
    16: 2.1199,
    17: 2.1098,
    18: 2.1009,
    19: 2.0930,
    20: 2.0860,
    21: 2.0796,
    22: 2.0739,
    23: 2.0687,
    24: 2.0639,
    25: 2.0595,
    26: 2.0555,
    27: 2.0518,
    28: 2.0484,
    29: 2.0452,
    30: 2.0423,
}
_T975_STEPS = ((40, 2.0423), (60, 2.0211), (120, 2.0003), (1000, 1.9799))  # (below df, t)


def t975(df: int) -> float:
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom (for a 95% interval)."""
    if df < 1:
        raise ValueError("df must be at least 1")
    if df in T975:
        return T975[df]
    for below, t in _T975_STEPS:
        if df < below:
            return t
    return 1.96


def mean_ci(values: Iterable[float]) -> tuple[float, float, float, int]:
    """Mean and 95% t interval of the finite values; (mean, low, high, n). NaN where undefined."""
    x = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=np.float64)
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    m = float(x.mean())
    if n == 1:
        return m, math.nan, math.nan, 1
    half = t975(n - 1) * float(x.std(ddof=1)) / math.sqrt(n)
    return m, m - half, m + half, n


def replicate_seeds(root_seed: int, n: int) -> list[int]:
    """``n`` distinct seeds in [0, 2**31 - 1] derived from one root seed (deterministic).

    Uses numpy's SeedSequence, so seeds are well spread even for neighbouring roots; the
    first k seeds do not depend on n, so a 3-replicate audit repeats the first 3 of a 5.
    """
    if n < 0:
        raise ValueError("n must be non-negative")
    if root_seed < 0:
        raise ValueError("root_seed must be non-negative")
    out: list[int] = []
    seen: set[int] = set()
    size = max(n, 1)
    while len(out) < n:
        words = np.random.SeedSequence(root_seed).generate_state(size, dtype=np.uint32)
        out, seen = [], set()
        for w in words:
            s = int(w) & 0x7FFFFFFF
            if s not in seen:
                seen.add(s)
                out.append(s)
            if len(out) == n:
                break
        size *= 2
    return out


# ----------------------------------------------------------------------------- the audit


@dataclass
class AuditResult:
    """What an audit found: one row per outcome in ``table``, every replicate in ``values``.

    ``table`` columns: outcome, kind (aim | harm), unit, system and counterfactual (means over
    replicates of each arm), effect (mean over replicates of system - counterfactual, or of
    system / counterfactual for ratio outcomes; empty for within-arm and system-only
    outcomes), ci_low and ci_high (95% t interval of ``effect`` when it is given, else of
    ``system``), relative (effect / counterfactual mean, or ratio - 1), note, comparison,
    label, replicates_defined. ``values`` has one row per outcome and replicate: outcome,
    replicate, seed, system, counterfactual, effect.
    """

    scenario: Scenario = field(repr=False)
    replicates: int
    seeds: list[int]
    table: pd.DataFrame = field(repr=False)
    values: pd.DataFrame = field(repr=False)
    outcomes: list[Outcome] = field(default_factory=list, repr=False)
    info: dict[str, Any] = field(default_factory=dict)
    example: Any = field(default=None, repr=False)  # replicate 0: Result with .counterfactual

    def row(self, outcome: str) -> pd.Series:
        """The table row of one outcome."""
        hit = self.table[self.table["outcome"] == outcome]
        if hit.empty:
            raise KeyError(outcome)
        return hit.iloc[0]

    # ------------------------------------------------------------------ presentation
    def formatted(self) -> list[dict[str, str]]:
        """Rows of display strings: label, kind, unit, without, with, effect, relative, note."""
        by_name = {o.name: o for o in self.outcomes}
        rows = []
        for r in self.table.itertuples(index=False):
            o = by_name.get(r.outcome)
            rows.append(_format_row(r, o.scale if o else "number"))
        return rows

    def to_markdown(self) -> str:
        """A Markdown report: the setting, how to read it, and one table row per outcome."""
        sc = self.scenario
        seeds = ", ".join(str(s) for s in self.seeds)
        lines = [
            f"# Audit: {sc.metadata.name}",
            "",
            f"{sc.population.agents:,} synthetic agents, {sc.days:,} days, "
            f"{self.replicates} replicate{'s' if self.replicates != 1 else ''} (seeds {seeds}).",
            "",
            "Each replicate runs the scenario and its counterfactual (the same society, every "
            "programme removed) on the same random numbers. *Effect* is with minus without "
            "(differences of shares in percentage points, pp); *relative* is the effect as a "
            "share of the counterfactual. Brackets hold 95% intervals across replicates "
            f"(Student's t, {max(self.replicates - 1, 0)} degrees of freedom): they measure "
            "the model's randomness, not doubt about its assumptions. For within-run "
            "comparisons (ratios between groups) and system-only figures the interval is that "
            "of the value with the system.",
            "",
            "| Outcome | Kind | Unit | Without the system | With the system | "
            "Effect (95% CI) | Relative change (95% CI) | Note |",
            "|---|---|---|---:|---:|---:|---:|---|",
        ]
        for f in self.formatted():
            cells = [
                f["label"],
                f["kind"],
                f["unit"],
                f["without"],
                f["with"],
                f["effect"],
                f["relative"],
                f["note"],
            ]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        return "\n".join(lines) + "\n"

    def rich_table(self) -> Table:
        """The table as a rich Table, for the terminal.

        Relative changes are shown without their intervals, and notes as numbered footnotes
        in the caption, so that the table fits a terminal.
        """
        from rich.table import Table
        from rich.text import Text

        notes: dict[str, int] = {}
        t = Table(
            title=f"Audit of {self.scenario.metadata.name}: effect of the system, "
            f"{self.replicates} replicate{'s' if self.replicates != 1 else ''}, 95% intervals",
            title_justify="left",
            caption_justify="left",
        )
        t.add_column("Outcome", ratio=1, min_width=14)
        t.add_column("Without", justify="right", no_wrap=True)
        t.add_column("With", justify="right")
        t.add_column("Effect (95% CI)", justify="right")
        t.add_column("Relative", justify="right")
        last_kind = None
        for f in self.formatted():
            if f["kind"] != last_kind:
                if last_kind is not None:
                    t.add_section()
                t.add_row(Text("Stated aims" if f["kind"] == "aim" else "Harms", style="bold"))
                last_kind = f["kind"]
            label = f["label"]
            if f["note"]:
                label += f" [{notes.setdefault(f['note'], len(notes) + 1)}]"
            t.add_row(
                Text(label),
                f["without"],
                f["with"],
                f["effect"],
                f["relative"].split(" (")[0],
                style="dim" if f["note"].startswith(NOT_MODELLED) else None,
            )
        if notes:
            t.caption = Text("\n".join(f"[{n}] {text}" for text, n in notes.items()))
        return t

    def to_json(self) -> dict[str, Any]:
        """Everything in plain JSON types (NaN as null)."""
        return _clean(
            {
                **self.info,
                "scenario_name": self.scenario.metadata.name,
                "replicates": self.replicates,
                "seeds": list(self.seeds),
                "outcomes": [
                    {
                        "name": o.name,
                        "label": o.title,
                        "kind": o.kind,
                        "unit": o.unit,
                        "comparison": o.comparison,
                        "description": o.description,
                    }
                    for o in self.outcomes
                ],
                "table": self.table.to_dict(orient="records"),
                "values": self.values.to_dict(orient="records"),
            }
        )

    def save(self, folder: str | Path, report: bool = True) -> Path:
        """Write audit.parquet (the table), audit.json (everything), audit.md, scenario.yaml
        and, with ``report``, the HTML report and figures of replicate 0 against its
        counterfactual (report.html, figures/*.png)."""
        from socialcredit.scenario import resolved_yaml

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.table.to_parquet(folder / "audit.parquet", index=False)
        (folder / "audit.json").write_text(
            json.dumps(self.to_json(), indent=2, allow_nan=False) + "\n", encoding="utf-8"
        )
        (folder / "audit.md").write_text(self.to_markdown(), encoding="utf-8")
        (folder / "scenario.yaml").write_text(resolved_yaml(self.scenario), encoding="utf-8")
        if report and self.example is not None:
            from socialcredit.report import figure_data, write_pngs, write_report

            data = figure_data(self.example, self.example.counterfactual)
            write_report(
                self.example, folder / "report.html", self.example.counterfactual, data=data
            )
            write_pngs(data, folder / "figures")
        return folder


def _clean(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if x is pd.NA or x is pd.NaT:
        return None
    return x


def _evaluate(outcome: Outcome, result: Result) -> tuple[float, str | None, bool]:
    """(value, reason, modelled): NaN with a reason when not modelled or undefined."""
    try:
        value = float(outcome.formula(result))
    except NotModelled as e:
        return math.nan, str(e), False
    except Undefined as e:
        return math.nan, str(e) or "a denominator was zero", True
    return value, None, True


def audit(
    scenario: Scenario | str,
    replicates: int = 5,
    *,
    progress: Callable[[int, int], None] | None = None,
    root_seed: int | None = None,
    outcomes: Iterable[Outcome | Family] | None = None,
) -> AuditResult:
    """Audit a scenario against its counterfactual on ``replicates`` paired seeds.

    Replicate seeds come from ``root_seed`` (default: the scenario's seed) through
    ``replicate_seeds``. Each replicate runs ``simulate(scenario with that seed,
    counterfactual=True)``: both arms share the seed. ``progress(done, total)`` is called
    before the first and after each replicate. ``outcomes`` replaces the registry (default:
    every registered outcome).
    """
    from socialcredit import __version__
    from socialcredit.api import simulate

    if isinstance(scenario, str):
        from socialcredit.scenario import load_scenario

        scenario = load_scenario(scenario)
    if replicates < 1:
        raise ValueError("an audit needs at least one replicate")
    from socialcredit.scenario import scenario_hash

    root = scenario.seed if root_seed is None else root_seed
    seeds = replicate_seeds(root, replicates)
    defs = outcomes_for(scenario, outcomes)
    started, t0 = dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), time.perf_counter()

    rows: list[dict[str, Any]] = []
    reasons: dict[tuple[str, str], str] = {}  # (outcome, arm) -> last reason for NaN
    modelled: dict[str, bool] = {o.name: False for o in defs}
    if progress:
        progress(0, replicates)
    for i, seed in enumerate(seeds):
        result = simulate(scenario.model_copy(update={"seed": seed}), counterfactual=True)
        cf = result.counterfactual
        if i == 0:
            example = result
        for o in defs:
            sys_v, sys_why, ok = _evaluate(o, result)
            cf_v, cf_why, _ = _evaluate(o, cf)
            modelled[o.name] |= ok
            if sys_why:
                reasons[(o.name, "system")] = sys_why
            if cf_why:
                reasons[(o.name, "counterfactual")] = cf_why
            effect = math.nan
            if o.comparison == "difference":
                effect = sys_v - cf_v
            elif o.comparison == "ratio" and cf_v:
                effect = sys_v / cf_v
            rows.append(
                {
                    "outcome": o.name,
                    "replicate": i,
                    "seed": seed,
                    "system": sys_v,
                    "counterfactual": cf_v,
                    "effect": effect,
                }
            )
        _VIEWS.clear()
        del result, cf
        if progress:
            progress(i + 1, replicates)

    values = pd.DataFrame(rows, columns=VALUE_COLUMNS)
    table = pd.DataFrame(
        [_summarise(o, values, modelled[o.name], reasons, replicates) for o in defs],
        columns=TABLE_COLUMNS,
    )
    info = {
        "scenario_hash": scenario_hash(scenario),
        "root_seed": root,
        "version": __version__,
        "started": started,
        "wall_s": round(time.perf_counter() - t0, 3),
        "agents": scenario.population.agents,
        "days": scenario.days,
    }
    return AuditResult(scenario, replicates, seeds, table, values, defs, info, example)


def _summarise(
    o: Outcome, values: pd.DataFrame, modelled: bool, reasons: dict, replicates: int
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "outcome": o.name,
        "kind": o.kind,
        "unit": o.unit,
        "comparison": o.comparison,
        "label": o.title,
        "system": math.nan,
        "counterfactual": math.nan,
        "effect": math.nan,
        "ci_low": math.nan,
        "ci_high": math.nan,
        "relative": math.nan,
        "replicates_defined": 0,
    }
    if not modelled:
        why = reasons.get((o.name, "system"))
        row["note"] = f"{NOT_MODELLED}: {why}" if why else NOT_MODELLED
        return row
    v = values[values["outcome"] == o.name]
    sys_m, sys_lo, sys_hi, n_sys = mean_ci(v["system"])
    cf_m, _, _, n_cf = mean_ci(v["counterfactual"])
    eff_m, eff_lo, eff_hi, n_eff = mean_ci(v["effect"])
    notes = []
    row.update(system=sys_m, counterfactual=cf_m)
    if n_eff:
        row.update(effect=eff_m, ci_low=eff_lo, ci_high=eff_hi, replicates_defined=n_eff)
        if o.comparison == "ratio":
            row["relative"] = eff_m - 1.0
        elif cf_m and math.isfinite(cf_m):
            row["relative"] = eff_m / abs(cf_m)
        n = n_eff
    else:
        row.update(ci_low=sys_lo, ci_high=sys_hi, replicates_defined=n_sys)
        n = n_sys
        if o.comparison in ("difference", "ratio"):
            why = reasons.get((o.name, "counterfactual"), "")
            notes.append(
                f"no value without the system{' (' + why + ')' if why else ''}; "
                "the interval is of the value with the system"
            )
        elif o.comparison == "within":
            notes.append(
                "compares groups within each run; the interval is of the value with the system"
            )
        else:
            notes.append("a figure of the system only; the interval is of that value")
    if n_sys == 0:
        why = reasons.get((o.name, "system"), "a denominator was zero")
        notes = [f"undefined: {why}"]
    elif n < replicates:
        why = reasons.get((o.name, "system")) or reasons.get((o.name, "counterfactual"), "")
        notes.append(f"defined in {n} of {replicates} replicates{' (' + why + ')' if why else ''}")
    if n == 1 and replicates == 1:
        notes.append("one replicate: no interval")
    row["note"] = "; ".join(notes)
    return row


# ----------------------------------------------------------------------------- formatting

MINUS = "\u2212"


def _decimals(value: float, half: float, sig: int = 3) -> int:
    """Decimals showing the interval's first significant digit and two of the value."""
    d = 0
    scale = abs(value) if math.isfinite(value) and value else 1.0
    if math.isfinite(half) and half > 1e-9 * scale:  # below that it is rounding noise
        d = max(d, -math.floor(math.log10(half)))
        if value and math.isfinite(value):
            d = max(d, 1 - math.floor(math.log10(abs(value))))
    elif value and math.isfinite(value):
        d = max(d, sig - 1 - math.floor(math.log10(abs(value))))
    return min(d, 8)


def _fmt(x: float, d: int, unit: str = "", signed: bool = False) -> str:
    if not math.isfinite(x):
        return "–"
    r = round(x, d)
    if r == 0:
        return f"0{'.' + '0' * d if d else ''}{unit}"
    text = f"{abs(r):,.{d}f}{unit}"
    if r < 0:
        return MINUS + text
    return ("+" + text) if signed else text


def _with_ci(x: float, lo: float, hi: float, unit: str = "", signed: bool = False) -> str:
    if not math.isfinite(x):
        return "–"
    half = (hi - lo) / 2 if math.isfinite(lo) and math.isfinite(hi) else math.nan
    d = _decimals(x, half)
    text = _fmt(x, d, unit, signed)
    if math.isfinite(half):
        text += f" ({_fmt(lo, d, unit, signed)} to {_fmt(hi, d, unit, signed)})"
    return text


def _format_row(r: Any, scale: Scale) -> dict[str, str]:
    share = scale == "share"
    k = 100.0 if share else 1.0
    arm_unit = "%" if share else ""
    has_effect = math.isfinite(r.effect)
    cf = r.counterfactual
    if has_effect:
        without = _with_ci(cf * k, math.nan, math.nan, arm_unit)
        with_ = _with_ci(r.system * k, math.nan, math.nan, arm_unit)
        if r.comparison == "ratio":
            effect = "×" + _with_ci(r.effect, r.ci_low, r.ci_high)
        else:
            effect = _with_ci(
                r.effect * k, r.ci_low * k, r.ci_high * k, " pp" if share else "", True
            )
        relative = "–"
        if math.isfinite(r.relative):
            if r.comparison == "ratio":
                lo, hi = r.ci_low - 1.0, r.ci_high - 1.0
            else:
                base = abs(cf)
                lo, hi = r.ci_low / base, r.ci_high / base
            relative = _with_ci(100 * r.relative, 100 * lo, 100 * hi, "%", True)
    else:
        without = _with_ci(cf * k, math.nan, math.nan, arm_unit)
        with_ = _with_ci(r.system * k, r.ci_low * k, r.ci_high * k, arm_unit)
        effect = relative = "–"
    return {
        "label": r.label,
        "kind": r.kind,
        "unit": r.unit,
        "without": without,
        "with": with_,
        "effect": effect,
        "relative": relative,
        "note": r.note or "",
    }
