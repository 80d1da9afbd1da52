"""socialcredit: an executable model of a social credit system, to measure what it does.

The public surface is small: load a scenario, simulate it, open a saved run. Names are
imported lazily so that `import socialcredit` (and the CLI's quick commands) do not load JAX.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

__all__ = [
    "Result",
    "audit",
    "compare",
    "report",
    "ScenarioError",
    "__version__",
    "load_scenario",
    "open_run",
    "optimize",
    "simulate",
    "sweep",
]

if TYPE_CHECKING:  # pragma: no cover
    from socialcredit.api import compare, report, simulate
    from socialcredit.audit import audit
    from socialcredit.experiments import optimize, sweep
    from socialcredit.result import Result, open_run
    from socialcredit.scenario import ScenarioError, load_scenario

_WHERE = {
    "simulate": "socialcredit.api",
    "report": "socialcredit.api",
    "compare": "socialcredit.api",
    "audit": "socialcredit.audit",
    "Result": "socialcredit.result",
    "load_scenario": "socialcredit.scenario",
    "ScenarioError": "socialcredit.scenario",
    "open_run": "socialcredit.result",
    "sweep": "socialcredit.experiments",
    "optimize": "socialcredit.experiments",
}


def __getattr__(name: str):
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'socialcredit' has no attribute {name!r}")
