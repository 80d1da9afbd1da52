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
from typing import TYPE_CHECKING, Any

import pandas as pd

from socialcredit.audit.catalogue import outcomes_for
from socialcredit.audit.outcome import NOT_MODELLED, Family, NotModelled, Outcome, Undefined
from socialcredit.audit.result import TABLE_COLUMNS, VALUE_COLUMNS, AuditResult
from socialcredit.audit.statistics import mean_ci, replicate_seeds

if TYPE_CHECKING:
    from socialcredit.result import Result
    from socialcredit.scenario.model import Scenario


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
