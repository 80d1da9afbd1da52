"""The Python API: simulate a scenario and get a Result.

This module is the orchestration (compile, run on the devices, gather the results); the
results themselves are built by ``socialcredit.results`` (metrics, snapshot, summary, credit
files, organisations' tables)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import numpy as np

from socialcredit import __version__
from socialcredit.compile import Params, Spec, compile_scenario
from socialcredit.engine.run import simulate_arrays
from socialcredit.memory import check_fits
from socialcredit.result import Result
from socialcredit.results.credit import credit_sample, decode_events
from socialcredit.results.metrics import tidy_metrics
from socialcredit.results.snapshot import snapshot
from socialcredit.results.summary import summarize
from socialcredit.scenario.model import Scenario


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def simulate(
    scenario: Scenario,
    *,
    chunk_days: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    counterfactual: bool = False,
    devices: int | None = None,
) -> Result:
    """Run a scenario on the JAX devices and return its Result.

    The agent axis is sharded over ``devices`` devices (None: every device JAX sees, which is
    one unless there are several accelerators or hosts; see engine/shard.py). A sharded run
    gives the same results as a one-device run of the same seed.
    ``progress(days_done, days_total)`` is called after each chunk of days. With
    ``counterfactual=True`` the same society is also run without the system
    (``counterfactual_of``: the whole system removed) on the same random numbers, and attached as
    ``result.counterfactual``: differences between the two are the system's effect, not noise.
    """
    if counterfactual:
        result = simulate(scenario, chunk_days=chunk_days, progress=progress, devices=devices)
        result.counterfactual = simulate(
            counterfactual_of(scenario), chunk_days=chunk_days, devices=devices
        )
        return result
    check_fits(scenario.population.agents, devices=devices, scenario=scenario)  # before allocating
    started, t0 = _now(), time.perf_counter()
    spec, params = compile_scenario(scenario)
    key = jax.random.key(scenario.seed)
    sample = credit_sample(spec.agents)
    extras: dict = {}
    out = simulate_arrays(
        spec, params, key, chunk_days, progress, sample, devices=devices, extras=extras
    )
    run = RunArrays.of(*out, extras)
    devs = len(jax.devices()) if devices is None else devices
    info = {"started": started, "t0": t0, "devices": devs}
    return assemble(scenario, spec, params, key, run, sample, info)


class RunArrays(NamedTuple):
    """What the engine hands back for one run, on the host: the final state, metrics
    [days, C, M], the sampled agents' event words and scores [days, S], and the organisation
    metrics [days, M_org] (None without organisations)."""

    state: Any
    raw: np.ndarray
    events: np.ndarray
    scores: np.ndarray
    org_raw: np.ndarray | None
    layer_facts: np.ndarray | None = None  # [days, S] the sampled agents' layered-list facts
    layer_listed: np.ndarray | None = None  # [days, L, S] ... and their listings
    events2: np.ndarray | None = None  # [days, S] their extra event byte, where carried

    @classmethod
    def of(cls, state, raw, events, scores, org_raw, extras: dict) -> RunArrays:
        """From the engine's outputs and its ``extras`` (engine/run.py `RunDone`)."""
        keys = ("layer_facts", "layer_listed", "events2")
        return cls(state, raw, events, scores, org_raw, *(extras.get(k) for k in keys))


def assemble(
    scenario: Scenario,
    spec: Spec,
    params: Params,
    key: jax.Array,
    run: RunArrays,
    sample: np.ndarray,
    info: dict[str, Any],
    table: bool = True,
) -> Result:
    """The Result of one run from the engine's arrays (``simulate``; a sweep's batches, whose
    experiments are assembled one by one from a batched call: experiments/batch.py).
    ``info`` gives started, t0 (``time.perf_counter()`` when the run began) and devices.
    ``table=False`` (a sweep's worker, which only evaluates outcomes): no tidy metrics table
    (``metrics`` is None); the outcome formulas' view is built from the cells directly."""
    from socialcredit.scenario import scenario_hash

    bases = np.asarray(params.base_score)
    every = scenario.record.metrics_every
    metrics = tidy_metrics(spec, run.raw, bases, every) if table else None
    agents = snapshot(spec, run.state, params, key) if scenario.record.snapshot else None
    summary = summarize(spec, run.raw, bases)
    org_metrics = firms = None
    if spec.orgs is not None:  # businesses and institutions: their own tables
        from socialcredit.results.orgs import firms_table, summarize_orgs, tidy_org_metrics

        org_metrics = tidy_org_metrics(spec, run.org_raw, scenario.record.metrics_every)
        firms = firms_table(spec, params, run.state)
        summary["organisations"] = summarize_orgs(org_metrics, spec.orgs.grades)
    if spec.cooperation is not None:  # the donation game: its final day
        from socialcredit.results.cooperation import summarize_cooperation

        summary["cooperation"] = summarize_cooperation(spec, run.state)
    info = {
        "scenario_name": scenario.metadata.name,
        "scenario_hash": scenario_hash(scenario),
        "seed": scenario.seed,
        "version": __version__,
        "started": info["started"],
        "ended": _now(),
        "wall_s": round(time.perf_counter() - info["t0"], 3),
        "agents": spec.agents,
        "days": spec.days,
        "status": "done",
        "device": str(jax.devices()[0].platform),
        "devices": info["devices"],
    }
    if scenario.timeline is not None:  # the phases, for charts that mark them (issue 14)
        info["phases"] = scenario.timeline.table()
    events = (
        decode_events(spec, scenario, sample, run.events, run.scores, run.layer_listed)
        if len(sample)
        else None
    )
    causes = None
    if events is not None:
        from socialcredit.results.causes import credit_causes

        causes = credit_causes(
            spec,
            scenario,
            sample,
            run.events,
            run.scores,
            events,
            run.layer_facts,
            run.layer_listed,
            run.events2,
            agents,
        )
    result = Result(
        scenario=scenario,
        metrics=metrics,
        agents=agents,
        summary=summary,
        info=info,
        # a sweep's runs keep no credit files (an empty sample): nothing to decode
        events=events,
        causes=causes,
        sample=sample,
        org_metrics=org_metrics,
        firms=firms,
    )
    if not table:
        from socialcredit.audit.formulas import MetricView, keep_view
        from socialcredit.results.metrics import metric_cells

        _, cells = metric_cells(spec, run.raw, bases, every)
        keep_view(result, MetricView.from_cells(result, spec.jurisdictions, spec.groups, cells))
    return result


# What the counterfactual does with each top-level section of a Scenario (docs/audit.md): the
# society is kept, the system removed, the run's settings kept; a mixed section keeps its
# society and loses its system (see _strip). A new section must be entered here: a test
# (tests/test_counterfactual.py) fails on a section this table does not classify.
SECTIONS: dict[str, str] = {
    "metadata": "run",  # kept, the name marked "-counterfactual"
    "population": "society",  # people, groups, dispositions, wealth, contacts, households
    "jurisdictions": "mixed",  # the places kept; their `programme` removed
    "programmes": "system",  # scores, tiers, consequences, lists, appeals, repair, budgets
    "behaviours": "society",
    "channels": "system",  # cameras, data feeds, grid workers: what the system observes with
    "informants": "system",  # informants, their rewards and reports
    "trust": "society",  # how people trust (what erodes it is the system's)
    # how people come to approve of a system (inert without one: approval stays at its start)
    "approval": "society",
    "economy": "society",  # loans, trips, matches at their base rates; shunning
    # how people respond to a system (inert without one); how informants follow their pay
    # (strategic_reporting, report_cost) belongs to the informants' design and is removed
    "response": "mixed",
    "days": "run",
    "seed": "run",  # the same random numbers
    "record": "run",
    "map": "system",  # the deadbeat map
    # the donation game between people; with `assessment: tiers` and no system every tier is
    # the top one and nobody is listed, so discriminators help everyone
    "cooperation": "society",
    "organisations": "mixed",  # sectors, firms, market, institutions kept; the rest removed
    "lists": "system",  # layered lists: the court's national list, sector lists (issue 14)
    "memoranda": "system",  # joint punishment for people
    "timeline": "system",  # the phases of the system (issue 14)
    "shaming": "system",  # what seeing the shamed does to viewers: none without the system
}

# The same for the organisations section: the economy of firms and institutions is society;
# inspections (with their fines and bribes) and corporate credit are the system.
ORG_SECTIONS: dict[str, str] = {
    "sectors": "society",
    "firms": "society",
    "market": "society",
    "institutions": "society",
    "entry": "society",  # new firms enter with or without a system
    "inspections": "system",
    "corporate": "system",
}

_EMPTY = {
    "programmes": {},
    "channels": [],
    "informants": None,
    "map": None,
    "lists": None,
    "memoranda": [],
    "timeline": None,
    "shaming": None,
}


def _strip(section: str, value):
    """The society part of a section (``value``: its model_dump)."""
    if SECTIONS[section] == "system":
        return _EMPTY[section]
    if section == "jurisdictions":
        return [{**j, "programme": None} for j in value]
    if section == "organisations" and value is not None:
        return {k: (None if ORG_SECTIONS[k] == "system" else v) for k, v in value.items()}
    if section == "response":
        return {**value, "strategic_reporting": 0.0, "report_cost": 0.0}
    return value


def counterfactual_of(scenario: Scenario) -> Scenario:
    """The same society with no system: every section that SECTIONS calls the system removed
    (programmes with their tiers, consequences, lists, appeals, repair and budgets; channels;
    informants and their rewards; the map; inspections and corporate credit), the society kept
    (people, dispositions, households, contacts, places, behaviours, trust, the economy, the
    organisations' market and institutions), and the run's seed and length kept."""
    data = scenario.model_dump()
    data = {k: _strip(k, v) for k, v in data.items()}
    data["metadata"]["name"] = (scenario.metadata.name + "-counterfactual")[:60]
    return Scenario.model_validate(data, strict=False)


# What two designs set against each other must share (``socialcredit audit A --against B``):
# the society (what the counterfactual keeps of every section) and the run's horizon and
# recording, so that the difference between them is the designs' and nothing else's.
SHARED_RUN = ("days", "record")


def _leaves(value, path: str):
    """(dotted path, value) of every leaf of a model_dump; a list of named items is keyed by
    name (``jurisdictions.prefecture.share``), other lists by index."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, f"{path}.{k}" if path else str(k))
    elif (
        isinstance(value, list)
        and value
        and all(isinstance(v, dict) and isinstance(v.get("name"), str) for v in value)
    ):
        names = [v["name"] for v in value]
        if len(set(names)) == len(names):
            for v in value:
                yield from _leaves(v, f"{path}.{v['name']}")
        else:
            for i, v in enumerate(value):
                yield from _leaves(v, f"{path}.{i}")
    elif isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        for i, v in enumerate(value):
            yield from _leaves(v, f"{path}.{i}")
    else:
        yield path, value


def society_differences(a: Scenario, b: Scenario) -> list[str]:
    """Where two designs differ in what they must share to be set against each other: the
    society (``population`` and every section ``SECTIONS`` calls society, and the society part
    of the mixed sections: the places, the organisations' market) and ``SHARED_RUN``. One
    ``path: a vs b`` per differing field (``population.agents: 50000 vs 20000``; ``(absent)``
    for a field one of them lacks); empty when they share them."""
    da, db = a.model_dump(), b.model_dump()
    out: list[str] = []
    for section, kind in SECTIONS.items():
        if kind not in ("society", "mixed") and section not in SHARED_RUN:
            continue
        sa = _strip(section, da[section]) if kind == "mixed" else da[section]
        sb = _strip(section, db[section]) if kind == "mixed" else db[section]
        if sa == sb:
            continue
        la, lb = dict(_leaves(sa, section)), dict(_leaves(sb, section))
        for path in sorted(set(la) | set(lb), key=lambda p: (p not in la, p)):
            va, vb = la.get(path, "(absent)"), lb.get(path, "(absent)")
            if va != vb:
                out.append(f"{path}: {_show(va)} vs {_show(vb)}")
    return out


def _show(value) -> str:
    return "null" if value is None else str(value)


def _as_result(run) -> Result:
    if isinstance(run, Result):
        return run
    from socialcredit.result import open_run

    return open_run(run)


def report(run, against=None, out=None) -> list:
    """Write report.html and figures/*.png for a run (a Result or a run folder), set against
    another run if given; into ``out`` (default: the run's folder). Returns the paths."""
    from pathlib import Path

    from socialcredit.report.cli import write_report_files

    result = _as_result(run)
    other = _as_result(against) if against is not None else None
    folder = Path(out) if out is not None else result.path
    if folder is None:
        raise ValueError("this Result has no folder (it was not saved): give out=")
    return write_report_files(result, other, Path(folder))


def compare(a, b, out) -> list:
    """Compare two runs (Results or run folders): compare.png, compare.html and compare.md in
    ``out``. Returns the paths."""
    from socialcredit.report.comparison import write_compare

    return write_compare(_as_result(a), _as_result(b), out)
