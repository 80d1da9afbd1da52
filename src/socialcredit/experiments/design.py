"""Designs: the experiments drawn from an experiment file's factors.

``full_factorial`` crosses every factor's points (a range's ``levels`` evenly spaced points, or
its listed values); ``lhs`` (Latin hypercube), ``sobol`` (Saltelli's scheme for Sobol indices)
and ``morris`` (elementary-effect trajectories) are SALib's samplers over the factors' ranges.
A factor given as a list of ``values`` is sampled as an index into the list. Integer fields
are rounded. The design's random numbers come from the sweep's root seed, so the same file and
seed give the same experiments.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from socialcredit.experiments.file import MAX_EXPERIMENTS, Experiment, ExperimentError, Factor
from socialcredit.scenario.loader import ScenarioIssue


@dataclass
class Design:
    """The experiments of a sweep: ``table`` (one row per experiment, one column per factor,
    in the factors' own values), and for SALib's analyses the ``problem`` and the unit sample
    ``X`` they were drawn as (None for full factorial and Latin hypercube)."""

    table: pd.DataFrame
    method: str
    problem: dict[str, Any] | None
    X: np.ndarray | None
    second_order: bool = False


def _problem(factors: list[Factor]) -> dict[str, Any]:
    bounds = [list(f.range) if f.range is not None else [0.0, 1.0] for f in factors]
    return {"num_vars": len(factors), "names": [f.label for f in factors], "bounds": bounds}


def _decode(factors: list[Factor], kinds: dict[str, str], X: np.ndarray) -> pd.DataFrame:
    cols: dict[str, Any] = {}
    for j, f in enumerate(factors):
        x = X[:, j]
        if f.values is not None:
            idx = np.minimum((x * len(f.values)).astype(int), len(f.values) - 1)
            cols[f.label] = [f.values[i] for i in idx]
        elif kinds.get(f.label) == "int":
            cols[f.label] = np.clip(
                np.round(x), math.ceil(f.range[0]), math.floor(f.range[1])
            ).astype(np.int64)
        else:
            cols[f.label] = x.astype(np.float64)
    return pd.DataFrame(cols)


def _points(f: Factor, levels: int, kind: str) -> list[Any]:
    if f.values is not None:
        return list(f.values)
    n = f.levels or levels
    pts = np.linspace(f.range[0], f.range[1], n)
    if kind == "int":
        return sorted({int(round(p)) for p in pts})
    return [float(p) for p in pts]


def make_design(
    exp: Experiment,
    kinds: dict[str, str],
    seed: int,
    line_of: dict | None = None,
    filename: str = "",
) -> Design:
    """The experiments of ``exp`` (raises ExperimentError for a design the factors don't allow)."""
    factors = [f for _, f in exp.factors]
    d = exp.design
    line_of = line_of or {}

    def fail(key: str, value: Any, msg: str) -> ExperimentError:
        line = line_of.get(("design", key), line_of.get(("design",)))
        issue = ScenarioIssue(filename, line, f"design.{key}", value, msg)
        return ExperimentError([issue], filename)

    if not factors:
        issue = ScenarioIssue(
            filename,
            None,
            "levers",
            None,
            "nothing is varied: give `uncertainties:` or `levers:` (or --vary PATH=LOW:HIGH:N)",
        )
        raise ExperimentError([issue], filename)
    if d.method == "full_factorial":
        pts = [_points(f, d.levels, kinds.get(f.label, "float")) for f in factors]
        n = math.prod(len(p) for p in pts)
        if n > MAX_EXPERIMENTS:
            raise fail(
                "levels",
                d.levels,
                f"a full factorial of these factors has {n:,} experiments (at most {MAX_EXPERIMENTS:,}); use fewer levels or a sampled design (lhs, sobol)",
            )
        table = pd.DataFrame(list(itertools.product(*pts)), columns=[f.label for f in factors])
        return Design(table, d.method, None, None)
    if d.samples is None:
        need = {
            "lhs": "experiments",
            "sobol": "the base sample N, a power of 2",
            "morris": "trajectories",
        }[d.method]
        raise fail("samples", None, f"design {d.method} needs `samples:` ({need})")
    problem = _problem(factors)
    D, N = len(factors), d.samples
    if d.method == "lhs":
        from SALib.sample import latin

        X = latin.sample(problem, N, seed=seed)
    elif d.method == "sobol":
        if N & (N - 1):
            lo = 1 << (N.bit_length() - 1)
            raise fail(
                "samples",
                N,
                f"Saltelli's scheme needs a power of 2 for the base sample; use {lo} or {lo * 2}",
            )
        n = N * (2 * D + 2 if d.second_order else D + 2)
        if n > MAX_EXPERIMENTS:
            raise fail(
                "samples",
                N,
                f"{n:,} experiments (at most {MAX_EXPERIMENTS:,}); use a smaller base sample",
            )
        if D < 2:
            raise fail("method", d.method, "Sobol indices need at least two factors")
        from SALib.sample import sobol

        X = sobol.sample(problem, N, calc_second_order=d.second_order, seed=seed)
    else:  # morris
        if d.levels % 2:
            raise fail(
                "levels", d.levels, "Morris needs an even number of grid levels (4 is usual)"
            )
        n = N * (D + 1)
        if n > MAX_EXPERIMENTS:
            raise fail(
                "samples",
                N,
                f"{n:,} experiments (at most {MAX_EXPERIMENTS:,}); use fewer trajectories",
            )
        from SALib.sample import morris

        X = morris.sample(problem, N, num_levels=d.levels, seed=seed)
    if len(X) > MAX_EXPERIMENTS:
        raise fail("samples", N, f"{len(X):,} experiments (at most {MAX_EXPERIMENTS:,})")
    return Design(_decode(factors, kinds, X), d.method, problem, np.asarray(X), d.second_order)


def explicit_design(table: pd.DataFrame) -> Design:
    """A design that is a given table of experiments (one row per experiment, one column per
    factor label, in the factors' own values): what a policy search hands a sweep, one
    generation of designs at a time (experiments/search.py)."""
    return Design(table.reset_index(drop=True), "explicit", None, None)
