"""Policy search: the Pareto front of a scenario's levers over several outcomes (issue 13).

A search file names ``levers`` (scenario fields with a ``range``, as in an experiment file),
``objectives`` (outcomes from the audit's registry, each minimised or maximised, on the
system's ``effect`` or its value ``with`` the system) and ``constraints`` (an outcome's
``max`` or ``min``). pymoo's NSGA-II searches the levers; every generation's population is
evaluated as one sweep plan over an explicit table of designs (design.explicit_design), so the
designs of a generation run as one vmapped call per compiled shape, on the same replicate seeds
as every other generation (common random numbers: two designs differ by what they set, not by
luck). A design already evaluated is not run again. Example (docs/policy-lab.md)::

    name: informants-due-process
    levers:
      - {field: informants.share, range: [0.0, 0.1]}
      - {field: programmes.xinjiang.points.public_prayer, range: [-40, 0]}
    objectives:
      - {outcome: misconduct.total, direction: minimize}
      - {outcome: chilling.total, direction: maximize}
    constraints:
      - {outcome: false_sanction_share, of: with, max: 0.05}
    replicates: 2
    population: 12
    generations: 6

Folder ``<out>/<name>-<hash>/``: ``search.json`` (the manifest), ``evaluations.parquet``
(every design evaluated, per generation), ``front.parquet`` (the Pareto front over every
design evaluated), ``front.png``, ``index.html``, ``front/design-XX.yaml`` (each front design
as a complete scenario file) and ``generations/`` (each generation's sweep folder, so a search
run again with the same command skips the batches already on disk).

``nsga2`` is the search core without the model: any vectorised function of a design matrix.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from socialcredit.experiments.base import Base, check_factors
from socialcredit.experiments.file import (
    Experiment,
    ExperimentError,
    Factor,
    _issue,
    _Strict,
    parse_model,
)
from socialcredit.scenario.loader import ScenarioIssue

DEFAULT_OUT = Path("runs") / "searches"
WORST = 1e12  # a design whose objective has no value (undefined, not modelled) is the worst


class SearchError(ExperimentError):
    """A search file (or option) that cannot be used, with every problem found."""

    what = "search file"


class Objective(_Strict):
    """An outcome to minimise or maximise, on the system's effect or the value with it."""

    outcome: str = Field(min_length=1, max_length=120)
    direction: Literal["minimize", "maximize"] = Field(
        description="Required: whether less or more of the outcome is better (an outcome's "
        "`kind` does not say: less misconduct is an aim, and so is more volunteering)."
    )
    of: Literal["effect", "with"] | None = Field(
        default=None,
        description="effect (with minus without the system) or with (the value with the "
        "system). Default: effect when the counterfactual is run and the outcome has one.",
    )

    @property
    def column(self) -> str:
        return f"{self.outcome}.{self.of}"


class Constraint(_Strict):
    """An outcome that must stay at most ``max`` and/or at least ``min``."""

    outcome: str = Field(min_length=1, max_length=120)
    of: Literal["effect", "with"] | None = None
    max: float | None = None
    min: float | None = None

    @model_validator(mode="after")
    def _bound(self) -> Constraint:
        if self.max is None and self.min is None:
            raise ValueError("give `max: x` and/or `min: x`")
        if self.max is not None and self.min is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self

    @property
    def column(self) -> str:
        return f"{self.outcome}.{self.of}"


class Search(_Strict):
    """A policy search: levers, objectives, constraints, replicates and NSGA-II's sizes."""

    name: Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9][\w.-]*$")] = (
        "search"
    )
    description: str = Field(default="", max_length=4000)
    set: list[Annotated[str, Field(min_length=3, max_length=2000)]] = Field(
        default_factory=list,
        max_length=100,
        description="Overrides of the base scenario (PATH=VALUE, as --set), before the "
        "command line's --set: e.g. give it a section a lever needs.",
    )
    levers: list[Factor] = Field(min_length=1, max_length=50)
    objectives: list[Objective] = Field(min_length=1, max_length=10)
    constraints: list[Constraint] = Field(default_factory=list, max_length=20)
    replicates: int = Field(default=1, ge=1, le=100)
    counterfactual: bool = True
    population: int = Field(default=16, ge=4, le=1000)
    generations: int = Field(default=10, ge=1, le=1000)
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)


def parse_search(text: str, filename: str = "<string>") -> tuple[Search, dict]:
    """A Search from YAML text, with the line of every key."""
    subs = {"levers": Factor, "objectives": Objective, "constraints": Constraint}
    return parse_model(text, filename, Search, SearchError, subs)


def load_search(path: str | Path) -> tuple[Search, dict]:
    p = Path(path)
    if not p.is_file():
        what = "a directory" if p.is_dir() else "not found"
        issue = ScenarioIssue(str(path), None, "", None, f"{what}; give a search YAML file")
        raise SearchError([issue], str(path))
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        issue = ScenarioIssue(str(path), None, "", None, f"cannot read the file: {e}")
        raise SearchError([issue], str(path)) from None
    return parse_search(text, str(path))


def resolve_search(
    search: str | Path | Search | dict,
    *,
    generations: int | None = None,
    population: int | None = None,
) -> tuple[Search, dict, str]:
    """(search, line map, file name) of a file, a dict or a Search, with the options applied."""
    line_of: dict = {}
    filename = "<search>"
    if isinstance(search, Search):
        s = search
    elif isinstance(search, dict):
        import yaml

        s, line_of = parse_search(yaml.safe_dump(search, sort_keys=False), filename)
    else:
        s, line_of = load_search(search)
        filename = str(search)
    update = {k: v for k, v in (("generations", generations), ("population", population)) if v}
    if update:
        s = Search.model_validate({**s.model_dump(), **update})
    return s, line_of, filename


# ----------------------------------------------------------------------------- the core


@dataclass
class Front:
    """What ``nsga2`` found: every design evaluated (X, F, G, generation) and the indices of
    the nondominated feasible ones among them (``front``)."""

    X: np.ndarray
    F: np.ndarray
    G: np.ndarray
    generation: np.ndarray
    front: np.ndarray


Evaluate = Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]


def pareto_front(F: np.ndarray, G: np.ndarray | None = None) -> np.ndarray:
    """Indices of the rows of F (minimised) that no feasible row dominates, among the feasible
    rows (G <= 0 everywhere); if no row is feasible, the least violating ones."""
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    n = len(F)
    if n == 0:
        return np.zeros(0, np.int64)
    cv = np.zeros(n) if G is None or G.size == 0 else np.maximum(G, 0).sum(axis=1)
    ok = np.flatnonzero(cv <= 0)
    if len(ok) == 0:
        return np.flatnonzero(cv == cv.min())
    first = NonDominatedSorting().do(F[ok], only_non_dominated_front=True)
    return np.sort(ok[np.asarray(first, np.int64)])


def nsga2(
    evaluate: Evaluate,
    lower: np.ndarray,
    upper: np.ndarray,
    n_obj: int,
    *,
    n_constr: int = 0,
    population: int = 16,
    generations: int = 10,
    seed: int = 0,
    on_generation: Callable[[int, Front], None] | None = None,
) -> Front:
    """NSGA-II (pymoo) over the box [lower, upper], every objective minimised.

    ``evaluate(X, generation)`` takes a whole population (one design per row) and returns
    (F: n x n_obj, G: n x n_constr, G <= 0 is feasible): one call per generation. The front
    is taken over every design evaluated, not only the last population."""
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.problem import Problem
    from pymoo.optimize import minimize

    lower, upper = np.asarray(lower, float), np.asarray(upper, float)
    xs: list[np.ndarray] = []
    fs: list[np.ndarray] = []
    gs: list[np.ndarray] = []
    gens: list[np.ndarray] = []
    count = {"gen": 0}

    def record() -> Front:
        X, F = np.concatenate(xs), np.concatenate(fs)
        G = np.concatenate(gs)
        return Front(X, F, G, np.concatenate(gens), pareto_front(F, G))

    class _Problem(Problem):
        def __init__(self) -> None:
            super().__init__(
                n_var=len(lower), n_obj=n_obj, n_ieq_constr=n_constr, xl=lower, xu=upper
            )

        def _evaluate(self, x, out, *args, **kwargs):
            g = count["gen"]
            F, G = evaluate(np.asarray(x, float), g)
            F = np.where(np.isfinite(F), F, WORST)
            G = np.where(np.isfinite(G), G, WORST) if n_constr else np.zeros((len(x), 0))
            xs.append(np.array(x, float))
            fs.append(np.array(F, float))
            gs.append(np.array(G, float).reshape(len(x), n_constr))
            gens.append(np.full(len(x), g, np.int64))
            out["F"] = F
            if n_constr:
                out["G"] = G
            count["gen"] += 1
            if on_generation is not None:
                on_generation(g, record())

    algorithm = NSGA2(pop_size=population, eliminate_duplicates=True)
    minimize(_Problem(), algorithm, ("n_gen", generations), seed=seed, verbose=False)
    return record()


# ----------------------------------------------------------------------------- the model


@dataclass
class SearchResult:
    """What a search leaves: its folder and its tables."""

    folder: Path
    evaluations: pd.DataFrame
    front: pd.DataFrame
    manifest: dict[str, Any]

    def _repr_html_(self) -> str:
        from socialcredit.display import search_html

        return search_html(self)


@dataclass
class _Checked:
    base: Base
    search: Search
    kinds: dict[str, str]
    objectives: list[Objective]
    constraints: list[Constraint]
    outcomes: list[str]
    info: dict[str, dict]
    digest: str


def _check(base: Base, s: Search, line_of: dict, filename: str) -> _Checked:
    """Check a search against its scenario (raises SearchError, every problem at once)."""
    import difflib

    from socialcredit.audit.catalogue import outcomes_for

    found: list[ScenarioIssue] = []
    for i, f in enumerate(s.levers):
        if f.range is None:
            line = line_of.get(("levers", i, "values"), line_of.get(("levers", i)))
            found.append(
                ScenarioIssue(
                    filename,
                    line,
                    f"levers.{i}.values",
                    f.values,
                    "a search lever needs `range: [low, high]` (NSGA-II searches numbers)",
                )
            )
    if found:
        raise SearchError(found, filename)
    try:
        kinds = check_factors(base, Experiment(levers=s.levers), line_of, filename, sampled=True)
    except ExperimentError as e:  # reported with the outcomes' problems
        kinds = {}
        found.extend(e.issues)
    defs = {o.name: o for o in outcomes_for(base.scenario)}

    def resolve(section: str, i: int, item: Any) -> Any:
        loc = (section, i)
        if item.outcome not in defs:
            close = difflib.get_close_matches(item.outcome, list(defs), n=3)
            hint = f"did you mean {', '.join(close)}?" if close else "docs/audit.md lists them"
            found.append(
                _issue(
                    filename,
                    line_of,
                    loc + ("outcome",),
                    item.outcome,
                    f"no outcome of this name for this scenario; {hint}",
                )
            )
            return item
        has_effect = s.counterfactual and defs[item.outcome].comparison != "system"
        of = item.of or ("effect" if has_effect else "with")
        if of == "effect" and not has_effect:
            why = (
                "the search runs no counterfactual (counterfactual: false)"
                if not s.counterfactual
                else "this outcome is a figure of the system arm only (comparison: system)"
            )
            found.append(
                _issue(
                    filename,
                    line_of,
                    loc + ("of",),
                    of,
                    f"no effect to take: {why}; use `of: with`",
                )
            )
        return item.model_copy(update={"of": of})

    objectives = [resolve("objectives", i, o) for i, o in enumerate(s.objectives)]
    constraints = [resolve("constraints", i, c) for i, c in enumerate(s.constraints)]
    cols = [o.column for o in objectives]
    for i, c in enumerate(cols):
        if c in cols[:i]:
            found.append(
                _issue(filename, line_of, ("objectives", i), c, "this objective is listed twice")
            )
    if found:
        raise SearchError(found, filename)
    outcomes = list(dict.fromkeys([o.outcome for o in objectives + constraints]))
    info = {
        n: {
            "label": defs[n].title,
            "unit": defs[n].unit,
            "kind": defs[n].kind,
            "comparison": defs[n].comparison,
        }
        for n in outcomes
    }
    return _Checked(base, s, kinds, objectives, constraints, outcomes, info, _digest(base, s))


def _digest(base: Base, s: Search) -> str:
    return base.digest(search=s.model_dump(mode="json"))


def _decode(c: _Checked, X: np.ndarray) -> pd.DataFrame:
    """Lever values of a design matrix: within each range, integer fields rounded."""
    cols: dict[str, Any] = {}
    for j, f in enumerate(c.search.levers):
        lo, hi = f.range
        x = np.clip(X[:, j], lo, hi)
        if c.kinds.get(f.label) == "int":
            cols[f.label] = np.clip(np.round(x), math.ceil(lo), math.floor(hi)).astype(np.int64)
        else:
            cols[f.label] = x.astype(np.float64)
    return pd.DataFrame(cols)


def _key(row: tuple) -> tuple:
    return tuple(round(float(v), 12) for v in row)


class _Evaluator:
    """Evaluates a generation's designs as one sweep plan, caching every design's values."""

    def __init__(self, c: _Checked, folder: Path, executor, batch_size, progress, t0):
        self.c, self.folder, self.executor = c, folder, executor
        self.batch_size, self.progress, self.t0 = batch_size, progress, t0
        self.cache: dict[tuple, dict[str, float]] = {}
        self.ids: dict[tuple, int] = {}
        self.rows: list[dict[str, Any]] = []
        self.runs = 0

    def __call__(self, X: np.ndarray, generation: int) -> tuple[np.ndarray, np.ndarray]:
        from socialcredit.experiments.design import explicit_design
        from socialcredit.experiments.sweep import make_plan, run_plan

        c = self.c
        table = _decode(c, X)
        keys = [_key(r) for r in table.itertuples(index=False)]
        new = list(dict.fromkeys(k for k in keys if k not in self.cache))
        if new:
            rows = [keys.index(k) for k in new]
            # pad to the population with repeats of the first new design: every generation's
            # batch then has one shape, compiled once for the whole search (a recompile costs
            # more than a few runs of a small model; the repeats' values are not used)
            rows += [rows[0]] * max(0, min(len(keys), self.c.search.population) - len(rows))
            todo = table.iloc[rows].reset_index(drop=True)
            exp = Experiment(
                name=f"{c.search.name}-gen",
                levers=c.search.levers,
                outcomes=c.outcomes,
                replicates=c.search.replicates,
                counterfactual=c.search.counterfactual,
                seed=c.search.seed,
            )
            plan = make_plan(
                c.base,
                exp,
                batch_size=self.batch_size,
                outcomes_extra=None,
                design=explicit_design(todo),
            )
            self.runs += plan.n_runs
            sub = self.folder / "generations" / f"gen-{generation:03d}-{plan.digest}"
            res = run_plan(plan, sub, self.executor, None, figures=False)
            means = res.outcomes.groupby(["experiment", "outcome"])[["with", "effect"]].mean()
            for e, k in enumerate(new):
                vals = {}
                for item in c.objectives + c.constraints:
                    idx = (e, item.outcome)
                    vals[item.column] = (
                        float(means.loc[idx, item.of]) if idx in means.index else math.nan
                    )
                self.cache[k] = vals
                self.ids[k] = len(self.ids)
        F = np.empty((len(keys), len(c.objectives)))
        G = np.empty(
            (len(keys), sum((k.max is not None) + (k.min is not None) for k in c.constraints))
        )
        fresh = set(new)
        for i, k in enumerate(keys):
            vals = self.cache[k]
            for j, o in enumerate(c.objectives):
                v = vals[o.column]
                F[i, j] = v if o.direction == "minimize" else -v
            j = 0
            for con in c.constraints:
                v = vals[con.column]
                if con.max is not None:
                    G[i, j] = v - con.max
                    j += 1
                if con.min is not None:
                    G[i, j] = con.min - v
                    j += 1
            row = {"generation": generation, "design": self.ids[k]}
            row.update({n: table[n].iloc[i] for n in table.columns})  # ints stay ints
            row.update(vals)
            cv = float(np.maximum(np.nan_to_num(G[i], nan=WORST), 0).sum()) if G.shape[1] else 0.0
            row.update(violation=cv, feasible=cv <= 0, cached=k not in fresh)
            fresh.discard(k)
            self.rows.append(row)
        return F, G


def _objective_matrix(c: _Checked, df: pd.DataFrame) -> np.ndarray:
    cols = []
    for o in c.objectives:
        v = df[o.column].to_numpy(float)
        cols.append(v if o.direction == "minimize" else -v)
    F = np.stack(cols, axis=1)
    return np.where(np.isfinite(F), F, WORST)


def optimize(
    scenario: str | Path,
    search: str | Path | Search | dict,
    *,
    overrides: list[str] | None = None,
    agents: int | None = None,
    days: int | None = None,
    seed: int | None = None,
    generations: int | None = None,
    population: int | None = None,
    out: str | Path = DEFAULT_OUT,
    executor: Any = None,
    batch_size: int | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
    figures: bool = True,
    command: str = "",
) -> SearchResult:
    """Search a scenario's levers for the Pareto front of the search's objectives.

    ``search``: a search file, a dict of the same fields, or a Search; ``generations`` and
    ``population`` override the file's. ``executor``: one of experiments/executors.py
    (default: this process). ``progress`` is called once per generation with a dict
    (generation, generations, designs, new, runs, front, elapsed_s). Raises SearchError or
    ScenarioError for bad input, before anything is run or written.
    """
    checked = plan_search(
        scenario,
        search,
        overrides=overrides,
        agents=agents,
        days=days,
        seed=seed,
        generations=generations,
        population=population,
    )
    folder = Path(out) / f"{checked.search.name}-{checked.digest}"
    return run_search(checked, folder, executor, progress, command, figures, batch_size)


def plan_search(
    scenario: str | Path,
    search: str | Path | Search | dict,
    *,
    overrides: list[str] | None = None,
    agents: int | None = None,
    days: int | None = None,
    seed: int | None = None,
    generations: int | None = None,
    population: int | None = None,
) -> _Checked:
    """The checked search (raises SearchError or ScenarioError); nothing is run."""
    s, line_of, filename = resolve_search(search, generations=generations, population=population)
    sets = list(s.set) + list(overrides or [])
    base = Base.load(str(scenario), sets, agents=agents, days=days, seed=seed)
    return _check(base, s, line_of, filename)


def run_search(
    c: _Checked,
    folder: Path,
    executor=None,
    progress=None,
    command: str = "",
    figures: bool = True,
    batch_size: int | None = None,
) -> SearchResult:
    from socialcredit import __version__
    from socialcredit.experiments.executors import InProcess
    from socialcredit.experiments.sweep import _now, _write_json
    from socialcredit.scenario import scenario_hash

    s, sc = c.search, c.base.scenario
    folder.mkdir(parents=True, exist_ok=True)
    root = s.seed if s.seed is not None else sc.seed
    manifest: dict[str, Any] = {
        "kind": "search",
        "id": folder.name,
        "name": s.name,
        "scenario_name": sc.metadata.name,
        "scenario_hash": scenario_hash(sc),
        "created": _now(),
        "ended": None,
        "status": "running",
        "experiments": 0,
        "runs": 0,
        "replicates": s.replicates,
        "agents": sc.population.agents,
        "days": sc.days,
        "wall_s": None,
        "version": __version__,
        "generations": s.generations,
        "population": s.population,
        "root_seed": root,
        "counterfactual": s.counterfactual,
        "objectives": [o.model_dump(mode="json") for o in c.objectives],
        "constraints": [k.model_dump(mode="json") for k in c.constraints],
        "levers": [
            {
                "name": f.label,
                "field": f.field,
                "low": f.range[0],
                "high": f.range[1],
                "kind": c.kinds.get(f.label),
            }
            for f in s.levers
        ],
        "search": c.digest,
        "command": command,
    }
    old = folder / "search.json"
    if old.is_file():
        try:
            manifest["created"] = json.loads(old.read_text())["created"]
        except (OSError, ValueError, KeyError):
            pass
    _write_json(manifest, old)
    t0 = time.perf_counter()
    ev = _Evaluator(c, folder, executor or InProcess(), batch_size, progress, t0)
    n_constr = sum((k.max is not None) + (k.min is not None) for k in c.constraints)

    def on_generation(g: int, front: Front) -> None:
        if progress is not None:
            new = sum(1 for r in ev.rows if r["generation"] == g and not r["cached"])
            progress(
                {
                    "generation": g + 1,
                    "generations": s.generations,
                    "designs": len(ev.ids),
                    "new": new,
                    "runs": ev.runs,
                    "front": len(front.front),
                    "elapsed_s": time.perf_counter() - t0,
                }
            )

    lower = np.array([f.range[0] for f in s.levers], float)
    upper = np.array([f.range[1] for f in s.levers], float)
    nsga2(
        ev,
        lower,
        upper,
        len(c.objectives),
        n_constr=n_constr,
        population=s.population,
        generations=s.generations,
        seed=root,
        on_generation=on_generation,
    )
    return _finish(c, folder, manifest, ev, time.perf_counter() - t0, figures)


def _finish(c: _Checked, folder, manifest, ev: _Evaluator, wall_s, figures) -> SearchResult:
    from socialcredit.atomic import write_bytes_atomic, write_text_atomic
    from socialcredit.experiments.sweep import _now, _write_json, _write_parquet
    from socialcredit.scenario.loader import resolved_yaml

    labels = [f.label for f in c.search.levers]
    evaluations = pd.DataFrame(ev.rows)
    evaluations = evaluations.astype({"generation": "int64", "design": "int64"})
    designs = evaluations.drop_duplicates("design").sort_values("design").reset_index(drop=True)
    F = _objective_matrix(c, designs)
    G = designs[["violation"]].to_numpy(float)
    idx = pareto_front(F, G)
    front = designs.iloc[idx].drop(columns=["generation", "cached"]).reset_index(drop=True)
    _write_parquet(evaluations, folder / "evaluations.parquet")
    _write_parquet(front, folder / "front.parquet")
    fdir = folder / "front"
    fdir.mkdir(exist_ok=True)
    for old in fdir.glob("design-*.yaml"):
        old.unlink()
    fields = {f.label: f.field for f in c.search.levers}
    width = max(2, len(str(int(designs["design"].max()))))
    for _, row in front.iterrows():
        values = {fields[n]: _plain(row[n], c.kinds.get(n)) for n in labels}
        sc = c.base.variant(values)
        head = (
            f"# Search {c.search.name} ({folder.name}): front design {int(row['design'])}\n"
            + "".join(f"#   {n} = {values[fields[n]]!r}\n" for n in labels)
            + "".join(f"#   {o.column} = {row[o.column]:.6g}\n" for o in c.objectives)
        )
        text = head + resolved_yaml(sc)
        path = fdir / f"design-{int(row['design']):0{width}d}.yaml"
        write_text_atomic(path, text)
    manifest.update(
        status="done",
        ended=_now(),
        wall_s=round(wall_s, 3),
        experiments=len(designs),
        runs=ev.runs,
        front=len(front),
    )
    if figures:
        png = front_figure(c, designs, front)
        write_bytes_atomic(folder / "front.png", png)
        page = front_page(c, manifest, front, png)
        write_text_atomic(folder / "index.html", page)
    _write_json(manifest, folder / "search.json")
    return SearchResult(folder, evaluations, front, manifest)


def _plain(v: Any, kind: str | None) -> Any:
    if kind == "int":
        return int(round(float(v)))
    return float(v)


# ----------------------------------------------------------------------------- figure and page


def _axis_label(c: _Checked, o: Objective) -> str:
    info = c.info.get(o.outcome, {})
    unit = f" ({info['unit']})" if info.get("unit") else ""
    arrow = "lower is better" if o.direction == "minimize" else "higher is better"
    return f"{o.outcome} [{o.of}]{unit}\n{arrow}"


def front_figure(c: _Checked, designs: pd.DataFrame, front: pd.DataFrame) -> bytes:
    """PNG of the objective space: every design evaluated faint, the front highlighted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    objs = c.objectives
    k = len(objs)
    feasible = designs["feasible"].to_numpy(bool)
    if k == 1:
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        o = objs[0]
        ax.scatter(
            designs["design"], designs[o.column], s=12, c="0.6", alpha=0.5, label="evaluated"
        )
        ax.scatter(front["design"], front[o.column], s=40, c="C3", label="best")
        ax.set_xlabel("design (in order of evaluation)")
        ax.set_ylabel(_axis_label(c, o))
        ax.legend(fontsize=8)
    elif k == 2:
        fig, ax = plt.subplots(figsize=(6.4, 5.0))
        a, b = objs
        ax.scatter(
            designs.loc[feasible, a.column],
            designs.loc[feasible, b.column],
            s=14,
            c="0.55",
            alpha=0.35,
            label="evaluated",
        )
        if (~feasible).any():
            ax.scatter(
                designs.loc[~feasible, a.column],
                designs.loc[~feasible, b.column],
                s=14,
                marker="x",
                c="0.7",
                alpha=0.5,
                label="infeasible",
            )
        f = front.sort_values(a.column)
        ax.plot(f[a.column], f[b.column], "-o", c="C3", ms=6, lw=1.2, label="Pareto front")
        ax.set_xlabel(_axis_label(c, a))
        ax.set_ylabel(_axis_label(c, b))
        ax.legend(fontsize=8)
    else:
        fig, axes = plt.subplots(k, k, figsize=(2.6 * k, 2.6 * k))
        for i, oi in enumerate(objs):
            for j, oj in enumerate(objs):
                ax = axes[i, j]
                if i == j:
                    ax.hist(designs[oi.column].dropna(), bins=15, color="0.7")
                    ax.hist(front[oi.column].dropna(), bins=15, color="C3", alpha=0.8)
                else:
                    ax.scatter(designs[oj.column], designs[oi.column], s=8, c="0.55", alpha=0.35)
                    ax.scatter(front[oj.column], front[oi.column], s=18, c="C3")
                if i == k - 1:
                    ax.set_xlabel(_axis_label(c, oj), fontsize=7)
                if j == 0:
                    ax.set_ylabel(_axis_label(c, oi), fontsize=7)
                ax.tick_params(labelsize=7)
    fig.suptitle(
        f"{c.search.name}: {len(designs)} designs evaluated, {len(front)} on the front",
        fontsize=10,
    )
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def front_page(c: _Checked, manifest: dict, front: pd.DataFrame, png: bytes) -> str:
    """An offline page: the manifest's facts, the figure (inline) and the front's table."""
    e = html.escape
    cols = [f.label for f in c.search.levers] + [o.column for o in c.objectives]
    cols += [k.column for k in c.constraints if k.column not in cols]
    head = "".join(f"<th>{e(str(x))}</th>" for x in ["design", *cols])
    body = []
    for _, r in front.iterrows():
        cells = [f"<td>{int(r['design'])}</td>"]
        for col in cols:
            v = r[col]
            cells.append(f"<td>{e(f'{v:.4g}' if isinstance(v, float) else str(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    objectives = "".join(
        f"<li>{e(o.direction)} {e(o.outcome)} ({e(o.of or '')})</li>" for o in c.objectives
    )
    constraints = (
        "".join(
            f"<li>{e(k.outcome)} ({e(k.of or '')})"
            + (f" &le; {k.max:g}" if k.max is not None else "")
            + (f" &ge; {k.min:g}" if k.min is not None else "")
            + "</li>"
            for k in c.constraints
        )
        or "<li>none</li>"
    )
    img = base64.b64encode(png).decode("ascii")
    m = manifest
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{e(m["name"])}: policy search</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:1em auto;padding:0 1em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 6px;text-align:right}}
</style></head><body>
<h1>{e(m["name"])}: policy search on {e(m["scenario_name"])}</h1>
<p>{e(c.search.description)}</p>
<p>{m["experiments"]} designs evaluated over {m["generations"]} generations of
{m["population"]} (NSGA-II), {m["replicates"]} replicate(s) each on common random numbers,
{m["agents"]:,} agents &times; {m["days"]:,} days; {m["runs"]} runs in {m["wall_s"]} s.
Folder {e(m["id"])}, version {e(str(m["version"]))}.</p>
<h2>Objectives</h2><ul>{objectives}</ul>
<h2>Constraints</h2><ul>{constraints}</ul>
<img alt="{e("Objective space: every design evaluated, the Pareto front highlighted")}"
 src="data:image/png;base64,{img}" style="max-width:100%">
<h2>The front</h2>
<p>Each design is a complete scenario file in <code>front/design-NN.yaml</code>.</p>
<table><tr>{head}</tr>{"".join(body)}</table>
</body></html>
"""
