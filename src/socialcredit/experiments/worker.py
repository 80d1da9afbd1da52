"""A batch: the unit of work a sweep hands to an executor, and the function that runs it.

A batch is a list of runs (an experiment's variant of the scenario on one replicate seed, or
a counterfactual: that variant without the system) that share one compiled shape. The worker
rebuilds each run's Scenario from the base's text and the run's values, compiles them, runs
them as one vmapped call (engine/batch.py), assembles each run's Result exactly as `simulate`
does (api.assemble) and evaluates the outcomes on it. A batch and what it returns are plain
picklable data, so any executor (a process, a Dask worker on another machine) can run it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from socialcredit.experiments.base import Base

VALUE_COLUMNS = ["run", "outcome", "value", "num", "den", "modelled", "fallback"]


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: its key, the factor values (field path -> value), the seed, and
    whether it is the counterfactual (the variant with the whole system removed)."""

    key: str
    values: tuple[tuple[str, Any], ...]
    seed: int
    counterfactual: bool = False


@dataclass(frozen=True)
class Batch:
    """Runs of one compiled shape, run as one call."""

    index: int
    base: Base
    runs: tuple[RunSpec, ...]
    outcomes: tuple[str, ...]
    series: bool = False
    chunk_days: int | None = None
    extra: dict = field(default_factory=dict, compare=False)


@dataclass
class BatchResult:
    index: int
    values: pd.DataFrame  # VALUE_COLUMNS, one row per (run, outcome)
    series: dict[str, pd.DataFrame] | None  # run key -> tidy metrics
    wall_s: float
    runs: int
    agent_days: float


def scenario_of(base: Base, run: RunSpec):
    """The validated Scenario of one run."""
    from socialcredit.api import counterfactual_of

    sc = base.variant({**dict(run.values), "seed": run.seed})
    return counterfactual_of(sc) if run.counterfactual else sc


def run_batch(batch: Batch) -> BatchResult:
    """Run a batch and evaluate its outcomes (this is what executors call)."""
    import jax

    from socialcredit.api import RunArrays, assemble
    from socialcredit.audit.catalogue import outcomes_for
    from socialcredit.compile import compile_scenario
    from socialcredit.engine.batch import simulate_batch, stack_params, take

    t0 = time.perf_counter()
    scenarios = [scenario_of(batch.base, r) for r in batch.runs]
    # no per-agent snapshot: the only outcome that reads one (`wealth_gini`) reads its wealth,
    # which is taken from the final state below (the snapshot's wealth column is that array)
    need_wealth = "wealth_gini" in batch.outcomes
    scenarios = [
        s.model_copy(update={"record": s.record.model_copy(update={"snapshot": False})})
        for s in scenarios
    ]
    compiled = [compile_scenario(s) for s in scenarios]
    spec = compiled[0][0]
    if any(c[0] != spec for c in compiled):
        raise ValueError(f"batch {batch.index} mixes compiled shapes; the planner groups by shape")
    params = stack_params([c[1] for c in compiled])
    seeds = [r.seed for r in batch.runs]
    state, metrics, org = simulate_batch(spec, params, seeds, batch.chunk_days)
    rows: list[tuple] = []
    series: dict[str, pd.DataFrame] | None = {} if batch.series else None
    empty = np.zeros((spec.days, 0), np.uint32)
    info = {"started": "", "t0": t0, "devices": 1}
    host = jax.device_get(state) if spec.orgs is not None else None  # once, not per run
    wealth = np.asarray(jax.device_get(state.wealth))[:, : spec.agents] if need_wealth else None
    for i, (run, sc, (_, p)) in enumerate(zip(batch.runs, scenarios, compiled, strict=True)):
        st = take(host, i) if host is not None else None
        arrays = RunArrays(
            st, metrics[i], empty, empty.astype(np.int32), None if org is None else org[i]
        )
        result = assemble(
            sc, spec, p, jax.random.key(run.seed), arrays, np.zeros(0, np.int32), info, batch.series
        )
        if wealth is not None:
            result.agents = pd.DataFrame({"wealth": wealth[i]})
        defs = {o.name: o for o in outcomes_for(sc)}
        for name in batch.outcomes:
            rows.append((run.key, name, *_value(defs.get(name), result, run.counterfactual)))
        if series is not None:
            series[run.key] = result.metrics
    values = pd.DataFrame(rows, columns=VALUE_COLUMNS)
    agent_days = float(spec.agents) * spec.days * len(batch.runs)
    return BatchResult(
        batch.index, values, series, time.perf_counter() - t0, len(batch.runs), agent_days
    )


def _value(o, result, counterfactual: bool) -> tuple[float, float, float, bool, float]:
    """(value, num, den, modelled, fallback) of one outcome on one run. ``fallback`` is the
    value without the system of an outcome whose mechanism the counterfactual lacks (the
    audit's ``without_system``); the sweep uses it where the system arm models the outcome."""
    from socialcredit.audit.outcome import Counted, NotModelled, Undefined

    nan = math.nan
    if o is None:  # the outcome does not exist for this variant (a family member it lacks)
        return nan, nan, nan, False, nan
    fallback = nan
    if counterfactual and o.without_system is not None:
        v = o.without_system
        fallback = float(v(result.scenario) if callable(v) else v)
    try:
        value = o.formula(result)
    except NotModelled:
        return nan, nan, nan, False, fallback
    except Undefined:
        return nan, nan, nan, True, fallback
    if isinstance(value, Counted):
        return float(value), value.num, value.den, True, fallback
    return float(value), nan, nan, True, fallback
