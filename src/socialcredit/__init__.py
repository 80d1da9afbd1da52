"""socialcredit: an executable model of a social credit system, to measure what it does.

The public surface is small: load a scenario, simulate it, open a saved run.
"""

__version__ = "0.1.0"

from socialcredit.api import simulate  # noqa: E402
from socialcredit.result import Result  # noqa: E402

__all__ = ["__version__", "Result", "load_scenario", "open_run", "simulate", "ScenarioError"]


def __getattr__(name: str):
    # loader and store are imported lazily so `import socialcredit` stays light
    if name in ("load_scenario", "ScenarioError"):
        from socialcredit import scenario

        return getattr(scenario, name)
    if name == "open_run":
        from socialcredit.store import open_run

        return open_run
    raise AttributeError(name)
