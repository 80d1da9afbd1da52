"""Running an audit: the scenario and its counterfactual on R replicate seeds.

The two runs of a replicate share their seed and so their random numbers, so the difference
between them is the system's effect on those people, not noise; the spread of that difference
across replicates gives a 95% interval (``statistics``).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from socialcredit.audit.catalogue import outcomes_for
from socialcredit.audit.outcome import (
    NOT_MODELLED,
    Counted,
    Family,
    NotModelled,
    Outcome,
    Undefined,
)
from socialcredit.audit.result import TABLE_COLUMNS, VALUE_COLUMNS, AuditResult
from socialcredit.audit.statistics import counts_ci, difference_ci, mean_ci, replicate_seeds

if TYPE_CHECKING:
    from socialcredit.result import Result
    from socialcredit.scenario.model import Scenario


def _evaluate(outcome: Outcome, result: Result) -> tuple[float, str | None, bool]:
    """(value, reason, modelled): NaN with a reason when not modelled or undefined. The value
    keeps its counts when the formula returns a ``Counted``. An arm lacking the mechanism an
    outcome measures (``without_system``: informants, the map) takes that value in ``audit``."""
    try:
        value = outcome.formula(result)
        value = value if isinstance(value, Counted) else float(value)
    except NotModelled as e:
        return math.nan, str(e), False
    except Undefined as e:
        return math.nan, str(e) or "a denominator was zero", True
    return value, None, True


def _parts(value: float) -> tuple[float, float, str | None]:
    """(num, den, kind) of a Counted value, NaNs and None otherwise."""
    if isinstance(value, Counted):
        return value.num, value.den, value.kind
    return math.nan, math.nan, None


class DesignsDiffer(ValueError):
    """Two designs set against each other differ in their society (or horizon): the message
    names the differing fields (``api.society_differences``)."""


def arm_names(a: str, b: str) -> tuple[str, str]:
    """Names of the two arms, told apart where the designs share a name."""
    return (a, b) if a != b else (f"a-{a}", f"b-{b}")


def audit(
    scenario: Scenario | str,
    replicates: int = 5,
    *,
    against: Scenario | str | None = None,
    progress: Callable[[int, int], None] | None = None,
    root_seed: int | None = None,
    outcomes: Iterable[Outcome | Family] | None = None,
    keep: Callable[[int, Result, Result], None] | None = None,
) -> AuditResult:
    """Audit a scenario against its counterfactual (or, with ``against``, against another
    design) on ``replicates`` paired seeds.

    Replicate seeds come from ``root_seed`` (default: the scenario's seed) through
    ``replicate_seeds``. Each replicate runs the scenario and the other arm (the
    counterfactual, ``api.counterfactual_of``, or ``against``) with the replicate's seed: both
    arms share their random numbers. ``against`` must share the scenario's society
    (``api.society_differences``; ``DesignsDiffer`` names the differing fields otherwise).
    ``progress(done, total)`` is called before the first and after each replicate.
    ``outcomes`` replaces the registry (default: every registered outcome). ``keep(replicate,
    result, other)`` is called with each replicate's two runs before they are dropped (the
    CLI saves them as run folders).
    """
    from socialcredit import __version__
    from socialcredit.api import counterfactual_of, simulate, society_differences

    if isinstance(scenario, str):
        from socialcredit.scenario import load_scenario

        scenario = load_scenario(scenario)
    if isinstance(against, str):
        from socialcredit.scenario import load_scenario

        against = load_scenario(against)
    if replicates < 1:
        raise ValueError("an audit needs at least one replicate")
    if against is not None:
        diff = society_differences(scenario, against)
        if diff:
            raise DesignsDiffer(
                f"{scenario.metadata.name} and {against.metadata.name} differ in their "
                f"society, so their difference would not be the design's: {'; '.join(diff)}"
            )
    from socialcredit.scenario import scenario_hash

    other = counterfactual_of(scenario) if against is None else against
    arms = list(arm_names(scenario.metadata.name, other.metadata.name))
    root = scenario.seed if root_seed is None else root_seed
    seeds = replicate_seeds(root, replicates)
    defs = outcomes_for(scenario, outcomes)
    if against is not None:  # outcomes of both designs (a family's members may differ)
        known = {o.name for o in defs}
        defs += [o for o in outcomes_for(against, outcomes) if o.name not in known]
        # a figure of one system is a difference between two
        defs = [
            replace(o, comparison="difference") if o.comparison == "system" else o for o in defs
        ]
    started, t0 = dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), time.perf_counter()

    rows: list[dict[str, Any]] = []
    state = _Seen({o.name: False for o in defs}, {}, {})
    modelled, reasons, counted = state.modelled, state.reasons, state.counted
    if progress:
        progress(0, replicates)
    for i, seed in enumerate(seeds):
        if against is None:  # the counterfactual, as simulate makes it
            result = simulate(scenario.model_copy(update={"seed": seed}), counterfactual=True)
            cf = result.counterfactual
        else:
            result = simulate(scenario.model_copy(update={"seed": seed}))
            cf = simulate(against.model_copy(update={"seed": seed}))
            result.counterfactual = cf
        if i == 0:
            example = result
        rows += _replicate_rows(defs, i, seed, result, cf, against is not None, state)
        if keep is not None:
            keep(i, result, cf)
        if i > 0:
            result.counterfactual = None
        del result, cf
        if progress:
            progress(i + 1, replicates)

    values = pd.DataFrame(rows, columns=VALUE_COLUMNS)
    table = pd.DataFrame(
        [
            _summarise(o, values, modelled[o.name], reasons, replicates, counted.get(o.name), arms)
            for o in defs
        ],
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
        "arms": arms,
        "against": None if against is None else against.metadata.name,
        "against_hash": None if against is None else scenario_hash(against),
    }
    return AuditResult(
        scenario, replicates, seeds, table, values, defs, info, example, against=against
    )


@dataclass
class _Seen:
    """What the replicates showed of each outcome so far: modelled in some arm, the last
    reason for a NaN per (outcome, arm), and the kind of counts its formula returns."""

    modelled: dict[str, bool]
    reasons: dict[tuple[str, str], str]
    counted: dict[str, str]


def _replicate_rows(
    defs: list[Outcome],
    i: int,
    seed: int,
    result: Result,
    cf: Result,
    paired_designs: bool,
    seen: _Seen,
) -> list[dict[str, Any]]:
    """The values of one replicate: one row per outcome (VALUE_COLUMNS). ``cf`` is the other
    arm; ``paired_designs``: it is a design (``--against``), not the counterfactual."""
    modelled, reasons, counted = seen.modelled, seen.reasons, seen.counted
    out: list[dict[str, Any]] = []
    for o in defs:
        sys_v, sys_why, sys_ok = _evaluate(o, result)
        cf_v, cf_why, cf_ok = _evaluate(o, cf)
        # an arm without the mechanism an outcome measures takes its value without it
        # (nobody informs where there are no informants)
        if sys_ok and not cf_ok and o.without_system is not None:
            cf_v, cf_why, cf_ok = _without(o, cf)
        elif cf_ok and not sys_ok and o.without_system is not None and paired_designs:
            sys_v, sys_why, sys_ok = _without(o, result)
        ok = sys_ok or (paired_designs and cf_ok)
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
        sys_num, sys_den, sys_kind = _parts(sys_v)
        cf_num, cf_den, cf_kind = _parts(cf_v)
        if sys_kind or cf_kind:
            counted[o.name] = sys_kind or cf_kind
        out.append(
            {
                "outcome": o.name,
                "replicate": i,
                "seed": seed,
                "system": float(sys_v),
                "counterfactual": float(cf_v),
                "effect": float(effect),
                "system_num": sys_num,
                "system_den": sys_den,
                "counterfactual_num": cf_num,
                "counterfactual_den": cf_den,
            }
        )
    return out


def _without(o: Outcome, result: Result) -> tuple[float, str | None, bool]:
    v = o.without_system
    return (v(result.scenario) if callable(v) else v), None, True


def _varies(x: pd.Series) -> bool:
    """Whether the replicates' values differ by more than the rounding of float sums (the
    same count of events summed in another order differs in its last bits)."""
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return True
    return bool(x.max() - x.min() > 1e-9 * max(abs(x.max()), abs(x.min()), 1e-300))


def _pooled(v: pd.DataFrame, arm: str, among: pd.Series) -> tuple[float, float]:
    """An arm's counts summed over the replicates selected by ``among``."""
    rows = v[among & v[f"{arm}_num"].notna()]
    return float(rows[f"{arm}_num"].sum()), float(rows[f"{arm}_den"].sum())


def _bounds(o: Outcome, kind: str | None) -> tuple[float, float]:
    """Where the outcome's values can lie: [0, 1] for shares, [0, inf) for rates of counts and
    ratios (of nonnegative figures, as every ratio outcome is)."""
    if o.scale == "share" or kind == "share":
        return 0.0, 1.0
    if kind == "rate" or o.unit.startswith("ratio"):
        return 0.0, math.inf
    return -math.inf, math.inf


def _clip(lo: float, hi: float, low: float, high: float) -> tuple[float, float]:
    if math.isfinite(lo):
        lo = min(max(lo, low), high)
    if math.isfinite(hi):
        hi = min(max(hi, low), high)
    return lo, hi


_METHOD = {"rate": "pooled counts, exact Poisson", "share": "pooled counts, exact binomial"}


def _summarise(
    o: Outcome,
    values: pd.DataFrame,
    modelled: bool,
    reasons: dict,
    replicates: int,
    kind: str | None = None,
    arms: list[str] | None = None,
) -> dict[str, Any]:
    """One row of the table. The interval is Student's t over replicates; where the replicates
    do not vary at all it is that of the pooled counts (``counts_ci``, ``difference_ci``) for
    an outcome made of counts, and none otherwise; the note says so in words. Intervals of
    values stay where the values can lie (``_bounds``); of effects on shares, in [-1, 1].
    ``arms``: the two arms' names, given when the other arm is a design, not the
    counterfactual (the notes then name them). An outcome undefined everywhere gets advice:
    what would define it."""
    against = arms is not None and not arms[1].endswith("-counterfactual")
    other = f"in {arms[1]}" if against else "without the system"
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
        "interval": "",
    }
    if not modelled:
        why = reasons.get((o.name, "system"))
        row["note"] = f"{NOT_MODELLED}: {why}" if why else NOT_MODELLED
        return row
    v = values[values["outcome"] == o.name]
    sys_m, sys_lo, sys_hi, n_sys = mean_ci(v["system"])
    cf_m, _, _, n_cf = mean_ci(v["counterfactual"])
    eff_m, eff_lo, eff_hi, n_eff = mean_ci(v["effect"])
    low, high = _bounds(o, kind)
    notes = []
    row.update(system=sys_m, counterfactual=cf_m)
    if n_eff:
        method = "t"
        if n_eff >= 2 and not _varies(v["effect"]):
            notes.append(f"no variation across {n_eff} replicates")
            both = v["effect"].notna()
            counts = v.loc[both, ["system_num", "counterfactual_num"]].notna().all(axis=None)
            if kind and o.comparison == "difference" and counts:
                eff_lo, eff_hi = difference_ci(
                    kind, *_pooled(v, "system", both), *_pooled(v, "counterfactual", both)
                )
                method = _METHOD[kind]
                notes.append("the interval is what the counts pooled over them allow")
            else:
                method = ""
                eff_lo = eff_hi = math.nan
                notes.append("no interval")
        if o.comparison == "difference" and (o.scale == "share" or kind == "share"):
            eff_lo, eff_hi = _clip(eff_lo, eff_hi, -1.0, 1.0)
        elif o.comparison == "ratio":
            eff_lo, eff_hi = _clip(eff_lo, eff_hi, 0.0, math.inf)
        row.update(effect=eff_m, ci_low=eff_lo, ci_high=eff_hi, replicates_defined=n_eff)
        row["interval"] = method if math.isfinite(eff_lo) else ""
        if o.comparison == "ratio":
            row["relative"] = eff_m - 1.0
        elif cf_m and math.isfinite(cf_m):
            row["relative"] = eff_m / abs(cf_m)
        n = n_eff
    else:
        method = "t"
        if n_sys >= 2 and not _varies(v["system"]):
            notes.append(f"no variation across {n_sys} replicates")
            if kind and v.loc[v["system"].notna(), "system_num"].notna().all():
                sys_lo, sys_hi = counts_ci(kind, *_pooled(v, "system", v["system"].notna()))
                method = _METHOD[kind]
                notes.append("the interval is what the counts pooled over them allow")
            else:
                method = ""
                sys_lo = sys_hi = math.nan
                notes.append("no interval")
        sys_lo, sys_hi = _clip(sys_lo, sys_hi, low, high)
        row.update(ci_low=sys_lo, ci_high=sys_hi, replicates_defined=n_sys)
        row["interval"] = method if math.isfinite(sys_lo) else ""
        n = n_sys
        if o.comparison in ("difference", "ratio"):
            why = reasons.get((o.name, "counterfactual"), "")
            notes.append(
                f"no value {other}{' (' + why + ')' if why else ''}; "
                f"the interval is of the value {'in ' + arms[0] if against else 'with the system'}"
            )
        elif o.comparison == "within":
            notes.append(
                "compares groups within each run; the interval is of the value with the system"
            )
        else:
            notes.append("a figure of the system only; the interval is of that value")
    if n_sys == 0 and n_cf == 0:
        why = reasons.get((o.name, "system")) or reasons.get(
            (o.name, "counterfactual"), "a denominator was zero"
        )
        notes = [f"undefined: {why}{' in either arm' if against else ''}; {_advice(o)}"]
    elif n_sys == 0:
        why = reasons.get((o.name, "system"), "a denominator was zero")
        arm = f"in {arms[0]}" if against else "with the system"
        notes = [f"undefined {arm}: {why}; {_advice(o)}"]
    elif n < replicates:
        why = reasons.get((o.name, "system")) or reasons.get((o.name, "counterfactual"), "")
        notes.append(f"defined in {n} of {replicates} replicates{' (' + why + ')' if why else ''}")
    if n == 1 and replicates == 1:
        notes.append("one replicate: no interval")
    row["note"] = "; ".join(notes)
    return row


def _advice(o: Outcome) -> str:
    """What would define an outcome that was 0/0 in every replicate."""
    if o.comparison == "within":
        need = "enough people of each group to reach it"
    else:
        need = "it to happen"
    return f"run longer (--days) or with more agents (--agents) for {need}"
