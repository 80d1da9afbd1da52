"""Sensitivity analysis of a sweep's outcomes with SALib: Sobol first-order and total indices
(S1, ST, with 95% bootstrap intervals) for a Sobol design, Morris' mu* and sigma (mu* with its
95% interval) for a Morris design. Each outcome is analysed on its mean over replicates: the
effect of the system where the outcome has one, else its value with the system. An outcome
with a missing value in any experiment is left out (SALib needs every point of the design).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from socialcredit.experiments.design import Design

SENSITIVITY_COLUMNS = ["outcome", "factor", "method", "index", "value", "low", "high", "column"]


def response(outcomes: pd.DataFrame, n_experiments: int) -> dict[str, tuple[str, np.ndarray]]:
    """outcome -> (column analysed: 'effect' or 'with', mean over replicates per experiment)."""
    out = {}
    for name, g in outcomes.groupby("outcome", sort=False):
        col = "effect" if np.isfinite(g["effect"].to_numpy(float)).any() else "with"
        y = g.groupby("experiment")[col].mean().reindex(range(n_experiments)).to_numpy(float)
        out[str(name)] = (col, y)
    return out


def analyse(design: Design, outcomes: pd.DataFrame, seed: int = 0) -> pd.DataFrame | None:
    """The sensitivity table (SENSITIVITY_COLUMNS), or None for a design without one."""
    if design.method not in ("sobol", "morris") or design.problem is None:
        return None
    problem = design.problem
    names = problem["names"]
    rows = []
    for name, (col, y) in response(outcomes, len(design.table)).items():
        if not np.isfinite(y).all():
            continue
        if design.method == "sobol":
            from SALib.analyze import sobol

            second = design.second_order
            res = sobol.analyze(
                problem,
                y,
                calc_second_order=second,
                conf_level=0.95,
                print_to_console=False,
                seed=seed,
            )
            for idx in ("S1", "ST"):
                for j, f in enumerate(names):
                    v, c = float(res[idx][j]), float(res[f"{idx}_conf"][j])
                    rows.append((name, f, "sobol", idx, v, v - c, v + c, col))
        else:
            from SALib.analyze import morris

            res = morris.analyze(
                problem, design.X, y, conf_level=0.95, print_to_console=False, seed=seed
            )
            for j, f in enumerate(names):
                ms, c = float(res["mu_star"][j]), float(res["mu_star_conf"][j])
                rows.append((name, f, "morris", "mu_star", ms, ms - c, ms + c, col))
                rows.append(
                    (name, f, "morris", "sigma", float(res["sigma"][j]), math.nan, math.nan, col)
                )
                rows.append((name, f, "morris", "mu", float(res["mu"][j]), math.nan, math.nan, col))
    return pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS)
