"""Experiments: sweeps over a scenario's factors (uncertainties and levers), sensitivity
analysis, and policy search, run in vmapped batches on any executor (docs/experiments.md)."""

from socialcredit.experiments.base import Base
from socialcredit.experiments.file import (
    Experiment,
    ExperimentError,
    Factor,
    load_experiment,
    parse_experiment,
    parse_vary,
)
from socialcredit.experiments.run import sweep
from socialcredit.experiments.search import Search, SearchError, SearchResult, nsga2, optimize
from socialcredit.experiments.sweep import SweepResult, make_plan, run_plan

__all__ = [
    "Base",
    "Experiment",
    "ExperimentError",
    "Factor",
    "Search",
    "SearchError",
    "SearchResult",
    "SweepResult",
    "load_experiment",
    "make_plan",
    "nsga2",
    "optimize",
    "parse_experiment",
    "parse_vary",
    "run_plan",
    "sweep",
]
