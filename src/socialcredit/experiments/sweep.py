"""A sweep: plan the runs of an experiment, run them in batches, keep every finished batch,
and write the outputs.

Plan. Every experiment runs on the same ``replicates`` seeds (``replicate_seeds`` of the root
seed: common random numbers across experiments, so two designs differ by what they change,
not by luck). With ``counterfactual`` each run is paired with the same variant without the
system on the same seed; variants that differ only in levers share one society, so their
counterfactual is one run, run once. Runs are grouped by their compiled shape (``Spec``) and
cut into batches of at most ``batch_size`` runs; each batch is one vmapped call, and each shape
compiles once per worker.

Folder. ``<out>/<name>-<plan hash>/``: ``plan.json`` (what was asked), ``batches/`` (one Parquet
file per finished batch, written atomically), ``series/`` (daily metrics if asked),
``experiments.parquet``, ``outcomes.parquet``, ``sensitivity.parquet`` (Sobol and Morris
designs), ``figures/``, ``index.html`` and ``sweep.json`` (the manifest the catalog lists). A
sweep killed at any point and run again with the same command finds its folder by the plan's
hash, skips the batches on disk and ends with the same outputs as an uninterrupted one.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from socialcredit.atomic import sweep_stale, write_parquet_atomic, write_text_atomic
from socialcredit.experiments.base import Base, check_factors
from socialcredit.experiments.design import Design, make_design
from socialcredit.experiments.file import Experiment, ExperimentError
from socialcredit.experiments.worker import VALUE_COLUMNS, Batch, BatchResult, RunSpec
from socialcredit.scenario.loader import ScenarioError, ScenarioIssue

OUTCOME_COLUMNS = ["experiment", "replicate", "seed", "outcome", "with", "without", "effect"]
MAX_BATCH = 256  # runs in one call, whatever memory allows


@dataclass
class Plan:
    """Everything a sweep will run, decided before anything runs."""

    base: Base
    experiment: Experiment
    design: Design
    seeds: list[int]
    root_seed: int
    outcomes: list[str]
    runs: dict[tuple[int, int], tuple[str, str | None]]  # (experiment, replicate) -> (system, cf)
    batches: list[Batch]
    digest: str

    @property
    def n_runs(self) -> int:
        return sum(len(b.runs) for b in self.batches)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def batch_size_for(spec) -> int:
    """How many runs of ``spec`` one call holds: a quarter of the memory available now, at
    the engine's planned bytes per agent (memory.py) plus the daily metrics kept."""
    from socialcredit.memory import CPU_ENGINE_BYTES_PER_AGENT, _available_host_bytes

    avail = _available_host_bytes() or 4e9
    per_run = (
        spec.padded * CPU_ENGINE_BYTES_PER_AGENT + spec.days * max(spec.n_cells, 1) * 64 * 4 * 3
    )
    return int(max(1, min(MAX_BATCH, avail * 0.25 // per_run)))


def _unknown_outcomes(names: list[str], known: list[str], line_of: dict, filename: str) -> None:
    import difflib

    bad = []
    for i, n in enumerate(names):
        if n not in known:
            close = difflib.get_close_matches(n, known, n=3)
            hint = (
                f"did you mean {', '.join(close)}?"
                if close
                else "`socialcredit audit --help` and docs/audit.md list them"
            )
            line = line_of.get(("outcomes", i), line_of.get(("outcomes",)))
            bad.append(
                ScenarioIssue(
                    filename,
                    line,
                    f"outcomes.{i}",
                    n,
                    f"no outcome of this name for this scenario; {hint}",
                )
            )
    if bad:
        raise ExperimentError(bad, filename)


def make_plan(
    base: Base,
    exp: Experiment,
    *,
    line_of: dict | None = None,
    filename: str = "<experiment>",
    batch_size: int | None = None,
    chunk_days: int | None = None,
    outcomes_extra: list[str] | None = None,
    design: Design | None = None,
) -> Plan:
    """Check an experiment against its scenario and plan its runs (raises ExperimentError or
    ScenarioError, before anything is run or written). ``design``: run this table of
    experiments (design.explicit_design) instead of drawing one from ``exp.design``."""
    from socialcredit.api import counterfactual_of
    from socialcredit.audit.catalogue import outcomes_for
    from socialcredit.audit.statistics import replicate_seeds
    from socialcredit.compile import compile_scenario
    from socialcredit.scenario import scenario_hash

    line_of = line_of or {}
    d = exp.design
    kinds = check_factors(base, exp, line_of, filename, sampled=d.method != "full_factorial")
    root = exp.seed if exp.seed is not None else base.scenario.seed
    if design is None:
        design = make_design(exp, kinds, root, line_of, filename)
    known = [o.name for o in outcomes_for(base.scenario)]
    names = list(exp.outcomes) if exp.outcomes is not None else known
    _unknown_outcomes(names, known, line_of, filename)
    seeds = replicate_seeds(root, exp.replicates)
    fields = {f.label: f.field for _, f in exp.factors}

    shapes: dict[Any, list[RunSpec]] = {}
    runs: dict[tuple[int, int], tuple[str, str | None]] = {}
    cf_shapes: dict[str, Any] = {}  # a counterfactual society's hash -> its compiled shape
    planned_cf: set[str] = set()
    variant_problems: list[ScenarioIssue] = []
    for e, row in enumerate(design.table.itertuples(index=False)):
        values = tuple((fields[c], v) for c, v in zip(design.table.columns, row, strict=True))
        try:
            sc = base.variant(dict(values))
        except ScenarioError as err:  # a combination the endpoints allowed, the scenario not
            first = err.issues[0] if err.issues else None
            msg = f"{first.path}: {first.message}" if first else str(err)
            variant_problems.append(
                ScenarioIssue(filename, None, f"experiment {e}", dict(values), msg)
            )
            if len(variant_problems) >= 10:
                break
            continue
        spec = compile_scenario(sc)[0]
        if exp.counterfactual:
            cf = counterfactual_of(sc)
            cf_hash = scenario_hash(cf.model_copy(update={"seed": 0}))[:12]
            if cf_hash not in cf_shapes:  # lever-only variants share one society: compile once
                cf_shapes[cf_hash] = compile_scenario(cf)[0]
        for r, seed in enumerate(seeds):
            key = f"e{e}r{r}"
            shapes.setdefault(spec, []).append(RunSpec(key, values, seed))
            cf_key = None
            if exp.counterfactual:
                cf_key = f"c{cf_hash}r{r}"
                if cf_key not in planned_cf:
                    planned_cf.add(cf_key)
                    run = RunSpec(cf_key, values, seed, True)
                    shapes.setdefault(cf_shapes[cf_hash], []).append(run)
            runs[(e, r)] = (key, cf_key)
    if variant_problems:
        raise ExperimentError(variant_problems, filename)
    out_names = names + [n for n in (outcomes_extra or []) if n not in names]
    batches: list[Batch] = []
    for spec, items in shapes.items():
        size = batch_size or batch_size_for(spec)
        for i in range(0, len(items), size):
            batches.append(
                Batch(
                    len(batches),
                    base,
                    tuple(items[i : i + size]),
                    tuple(out_names),
                    exp.series,
                    chunk_days,
                )
            )
    digest = _digest(base, exp, out_names, batch_size, chunk_days, design)
    return Plan(base, exp, design, seeds, root, out_names, runs, batches, digest)


def _digest(
    base: Base, exp: Experiment, outcomes: list[str], batch_size, chunk_days, design=None
) -> str:
    extra = {}
    if design is not None and design.method == "explicit":  # the table is the design
        extra["explicit"] = design.table.to_json(orient="split", double_precision=15)
    return base.digest(
        **extra,
        experiment=exp.model_dump(mode="json"),
        outcomes=outcomes,
        batch_size=batch_size,
        chunk_days=chunk_days,
    )


# ----------------------------------------------------------------------------- the folder


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    write_parquet_atomic(path, df)


def _write_json(obj: Any, path: Path) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, default=_json_default) + "\n")


def _json_default(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, Path):
        return str(v)
    raise TypeError(f"not JSON: {type(v).__name__}")


def _batch_path(folder: Path, index: int) -> Path:
    return folder / "batches" / f"batch-{index:05d}.parquet"


def _write_batch(folder: Path, plan: Plan, res: BatchResult) -> None:
    """Series first, then the batch's values: the values file is the batch's proof of being
    done, so a batch killed between the two is simply run again."""
    if res.series:
        owners: dict[str, list[tuple[int, int, str]]] = {}
        for (e, r), (s, c) in plan.runs.items():
            owners.setdefault(s, []).append((e, r, "system"))
            if c is not None:
                owners.setdefault(c, []).append((e, r, "counterfactual"))
        for key, df in res.series.items():
            for e, r, arm in owners.get(key, []):
                d = folder / "series" / f"arm={arm}" / f"experiment={e}"
                d.mkdir(parents=True, exist_ok=True)
                _write_parquet(df.assign(replicate=r), d / f"replicate-{r}.parquet")
    _write_parquet(res.values, _batch_path(folder, res.index))


def _done_batches(folder: Path) -> set[int]:
    d = folder / "batches"
    if not d.is_dir():
        return set()
    done = set()
    for p in d.glob("batch-*.parquet"):
        try:
            done.add(int(p.stem.split("-")[1]))
        except ValueError:
            continue
    return done


def combine(plan: Plan, values: pd.DataFrame) -> pd.DataFrame:
    """The outcomes table: one row per (experiment, replicate, outcome), with and without the
    system and the effect (the outcome's comparison: a difference or a ratio)."""
    from socialcredit.audit.catalogue import outcomes_for

    defs = {o.name: o for o in outcomes_for(plan.base.scenario)}
    cols = ("run", "outcome", "value", "modelled", "fallback")
    v = {  # (run, outcome) -> (value, modelled, fallback); the first row of a pair counts
        (k, o): (float(x), bool(m), float(f))
        for k, o, x, m, f in reversed(list(zip(*(values[c] for c in cols), strict=True)))
    }
    rows = []
    for (e, r), (s, c) in plan.runs.items():
        for name in plan.outcomes:
            sv = v.get((s, name))
            with_ = sv[0] if sv is not None else math.nan
            without = math.nan
            cv = v.get((c, name)) if c is not None else None
            if cv is not None:
                without = cv[0]
                if not cv[1] and sv is not None and sv[1]:
                    without = cv[2]
            comparison = defs[name].comparison if name in defs else "difference"
            if comparison == "system":  # a figure of the system arm only (the audit's rule)
                without = math.nan
            effect = math.nan
            if comparison == "difference":
                effect = with_ - without
            elif comparison == "ratio" and without:
                effect = with_ / without
            rows.append((e, r, plan.seeds[r], name, with_, without, effect))
    out = pd.DataFrame(rows, columns=OUTCOME_COLUMNS)
    return out.astype({"experiment": "int64", "replicate": "int64", "seed": "int64"})


def experiments_table(plan: Plan) -> pd.DataFrame:
    t = plan.design.table.copy()
    t.insert(0, "experiment", np.arange(len(t), dtype=np.int64))
    t["seed"] = np.int64(plan.root_seed)
    return t


def sensitivity(plan: Plan, outcomes: pd.DataFrame) -> pd.DataFrame | None:
    """Sobol S1/ST (with 95% intervals) or Morris mu*/sigma of each outcome's mean over
    replicates (the effect where there is one, else the value with the system)."""
    from socialcredit.experiments.analysis import analyse

    return analyse(plan.design, outcomes, plan.root_seed)


# ----------------------------------------------------------------------------- running


@dataclass
class SweepResult:
    """What a sweep leaves: its folder and its tables."""

    folder: Path
    experiments: pd.DataFrame
    outcomes: pd.DataFrame
    sensitivity: pd.DataFrame | None
    manifest: dict[str, Any]

    def _repr_html_(self) -> str:
        from socialcredit.display import sweep_html

        return sweep_html(self)


Progress = Callable[[dict[str, Any]], None]


def run_plan(
    plan: Plan,
    folder: Path,
    executor=None,
    progress: Progress | None = None,
    command: str = "",
    figures: bool = True,
) -> SweepResult:
    """Run what is not yet done in ``folder``, then write the outputs."""
    from socialcredit import __version__
    from socialcredit.experiments.executors import InProcess

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "batches").mkdir(exist_ok=True)
    # what a killed writer left half-written: one sweep is run by one process at a time
    sweep_stale(folder / "batches", max_age_s=0)
    sweep_stale(folder, max_age_s=0)
    sc = plan.base.scenario
    manifest = {
        "kind": "sweep",
        "id": folder.name,
        "name": plan.experiment.name,
        "scenario_name": sc.metadata.name,
        "scenario_hash": __import__(
            "socialcredit.scenario", fromlist=["scenario_hash"]
        ).scenario_hash(sc),
        "created": _now(),
        "ended": None,
        "status": "running",
        "design": plan.design.method,
        "experiments": len(plan.design.table),
        "replicates": len(plan.seeds),
        "runs": plan.n_runs,
        "batches": len(plan.batches),
        "agents": sc.population.agents,
        "days": sc.days,
        "root_seed": plan.root_seed,
        "seed": plan.root_seed,
        "overrides": {
            "set": list(plan.base.overrides),
            **{
                k: v
                for k, v in (
                    ("agents", plan.base.agents),
                    ("days", plan.base.days),
                    ("seed", plan.base.seed),
                )
                if v is not None
            },
        },
        "seeds": plan.seeds,
        "counterfactual": plan.experiment.counterfactual,
        "outcomes": plan.outcomes,
        "factors": _factors(plan),
        "plan": plan.digest,
        "command": command,
        "version": __version__,
        "wall_s": None,
    }
    old = folder / "sweep.json"
    if old.is_file():
        try:
            manifest["created"] = json.loads(old.read_text())["created"]
        except (OSError, ValueError, KeyError):
            pass
    _write_json(
        {"experiment": plan.experiment.model_dump(mode="json"), "plan": plan.digest},
        folder / "plan.json",
    )
    _write_json(manifest, old)
    done = _done_batches(folder)
    todo = [b for b in plan.batches if b.index not in done]
    t0 = time.perf_counter()
    executor = executor or InProcess()
    state = {
        "batches_done": len(plan.batches) - len(todo),
        "batches": len(plan.batches),
        "runs_done": sum(len(b.runs) for b in plan.batches if b.index in done),
        "runs": plan.n_runs,
        "skipped": len(plan.batches) - len(todo),
        "elapsed_s": 0.0,
        "agent_days_per_s": math.nan,
        "eta_s": math.nan,
        "workers": getattr(executor, "workers", 1),
    }
    if progress:
        progress({**state, "first": True})
    agent_days = 0.0
    for res in executor.run(todo):
        _write_batch(folder, plan, res)
        agent_days += res.agent_days
        state["batches_done"] += 1
        state["runs_done"] += res.runs
        el = time.perf_counter() - t0
        done_new = state["runs_done"] - sum(len(b.runs) for b in plan.batches if b.index in done)
        left = state["runs"] - state["runs_done"]
        state.update(
            elapsed_s=el,
            agent_days_per_s=agent_days / el if el > 0 else math.nan,
            eta_s=el / done_new * left if done_new else math.nan,
        )
        if progress:
            progress(dict(state))
    return finish(plan, folder, manifest, time.perf_counter() - t0, figures)


def _factors(plan: Plan) -> list[dict[str, Any]]:
    out = []
    for role, f in plan.experiment.factors:
        lo, hi = f.range if f.range is not None else (None, None)
        out.append(
            {
                "name": f.label,
                "field": f.field,
                "role": role,
                "low": lo,
                "high": hi,
                "values": f.values,
            }
        )
    return out


def finish(
    plan: Plan, folder: Path, manifest: dict, wall_s: float, figures: bool = True
) -> SweepResult:
    """Read every batch, write the outputs and mark the sweep done."""
    from socialcredit.audit.catalogue import outcomes_for

    parts = [pd.read_parquet(_batch_path(folder, b.index)) for b in plan.batches]
    values = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=VALUE_COLUMNS)
    outcomes = combine(plan, values)
    experiments = experiments_table(plan)
    sens = sensitivity(plan, outcomes)
    _write_parquet(experiments, folder / "experiments.parquet")
    _write_parquet(outcomes, folder / "outcomes.parquet")
    if sens is not None:
        _write_parquet(sens, folder / "sensitivity.parquet")
    manifest.update(status="done", ended=_now(), wall_s=round(wall_s, 3))
    if figures:
        info = {
            o.name: {"label": o.title, "unit": o.unit, "kind": o.kind, "comparison": o.comparison}
            for o in outcomes_for(plan.base.scenario)
        }
        _figures(folder, experiments, outcomes, sens, manifest, info)
    _write_json(manifest, folder / "sweep.json")
    return SweepResult(folder, experiments, outcomes, sens, manifest)


def _figures(folder, experiments, outcomes, sens, manifest, info) -> None:
    from socialcredit.experiments import figures

    made = figures.write_figures(
        folder, experiments, outcomes, sens, manifest["factors"], info, manifest
    )
    figures.write_page(
        folder, experiments, outcomes, sens, manifest["factors"], info, manifest, made
    )
