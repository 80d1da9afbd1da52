"""``sweep``: the Python face of ``socialcredit sweep``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from socialcredit.experiments.base import Base
from socialcredit.experiments.file import Experiment, load_experiment, parse_experiment, parse_vary
from socialcredit.experiments.sweep import Progress, SweepResult, make_plan, run_plan

DEFAULT_OUT = Path("runs") / "sweeps"


def resolve_experiment(
    experiment: str | Path | Experiment | dict | None,
    vary: list[str] | None = None,
    replicates: int | None = None,
    counterfactual: bool | None = None,
) -> tuple[Experiment, dict, str]:
    """(experiment, line map, file name) from a file, a dict, an Experiment and/or --vary
    options (which add levers; without a file they make a full factorial)."""
    line_of: dict = {}
    filename = "<experiment>"
    if experiment is None:
        exp = Experiment()
    elif isinstance(experiment, Experiment):
        exp = experiment
    elif isinstance(experiment, dict):
        import yaml

        exp, line_of = parse_experiment(yaml.safe_dump(experiment), filename)
    else:
        exp, line_of, _ = load_experiment(experiment)
        filename = str(experiment)
    update: dict[str, Any] = {}
    if vary:
        update["levers"] = list(exp.levers) + [parse_vary(v) for v in vary]
    if replicates is not None:
        update["replicates"] = replicates
    if counterfactual is not None:
        update["counterfactual"] = counterfactual
    if update:
        exp = Experiment.model_validate({**exp.model_dump(), **{k: v for k, v in update.items()}})
    return exp, line_of, filename


def sweep(
    scenario: str | Path,
    experiment: str | Path | Experiment | dict | None = None,
    *,
    vary: list[str] | None = None,
    overrides: list[str] | None = None,
    agents: int | None = None,
    days: int | None = None,
    seed: int | None = None,
    replicates: int | None = None,
    counterfactual: bool | None = None,
    out: str | Path = DEFAULT_OUT,
    executor: Any = None,
    batch_size: int | None = None,
    chunk_days: int | None = None,
    progress: Progress | None = None,
    figures: bool = True,
    command: str = "",
) -> SweepResult:
    """Run an experiment over a scenario and return its tables (and folder).

    ``experiment``: an experiment file, a dict of the same fields, or an Experiment; ``vary``
    adds levers in the quick form ``path=low:high:n`` or ``path=a,b,c``. ``executor``: one of
    experiments/executors.py (default: this process). The sweep's folder is
    ``out/<name>-<plan hash>``: running the same sweep again resumes it (sweep.py).
    Raises ExperimentError or ScenarioError for bad input, before anything is written.
    """
    exp, line_of, filename = resolve_experiment(experiment, vary, replicates, counterfactual)
    base = Base.load(str(scenario), overrides, agents=agents, days=days, seed=seed)
    plan = make_plan(
        base, exp, line_of=line_of, filename=filename, batch_size=batch_size, chunk_days=chunk_days
    )
    folder = Path(out) / f"{exp.name}-{plan.digest}"
    return run_plan(plan, folder, executor, progress, command, figures)
