"""EMA Workbench driving the Mesa peer over a sweep's design: the peer's way to run a sweep.

An EMA Workbench `Model` whose function builds the Mesa model of `rongcheng`
(rongcheng_mesa.py) with one channel's coverage of one behaviour set to the experiment's
value, steps it for the given days and returns a few outcomes (mean score, listed share,
records per agent). The experiments are the given values (the same points as socialcredit's
sweep, passed by benchmarks/bench_sweep.py), run by a SequentialEvaluator. Writes the wall
time of `perform_experiments` (building each model included: that is part of an experiment)
and the experiments' agent-days per second. Runs in the peer's own environment (setup.sh).

Usage: python ema_rongcheng.py scenario.json --channel traffic_police --behaviour
traffic_violation --values 0.1 0.2 ... --agents 10000 --days 73 --seed 0 --out r.json
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import time
import warnings

warnings.filterwarnings("ignore", message="ipyparallel not installed")

from ema_workbench import (  # noqa: E402
    Constant,
    Model,
    RealParameter,
    ScalarOutcome,
    Scenario,
    SequentialEvaluator,
    ema_logging,
)
from rongcheng_mesa import RongchengModel, mesa  # noqa: E402


def make_function(sc: dict, channel: str, behaviour: str):
    """The function EMA calls once per experiment."""

    def rongcheng(coverage: float, agents: int, days: int, seed: int) -> dict:
        s = copy.deepcopy(sc)
        (c,) = [c for c in s["channels"] if c["name"] == channel]
        c["coverage"][behaviour] = float(coverage)
        model = RongchengModel(s, int(agents), int(seed))
        for _ in range(int(days)):
            model.step()
        rs = model.residents
        return {
            "mean_score": sum(r.score for r in rs) / len(rs),
            "listed_share": sum(r.listed_since >= 0 for r in rs) / len(rs),
            "records_per_agent": sum(
                v for r in rs for k, v in r.counts.items() if k.startswith("records.")
            )
            / len(rs),
        }

    return rongcheng


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario")
    ap.add_argument("--channel", required=True)
    ap.add_argument("--behaviour", required=True)
    ap.add_argument("--values", type=float, nargs="+", required=True)
    ap.add_argument("--agents", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    with open(a.scenario, encoding="utf-8") as f:
        sc = json.load(f)
    ema_logging.log_to_stderr(logging.WARNING)
    model = Model("rongcheng", function=make_function(sc, a.channel, a.behaviour))
    model.uncertainties = [RealParameter("coverage", min(a.values), max(a.values))]
    model.constants = [
        Constant("agents", a.agents),
        Constant("days", a.days),
        Constant("seed", a.seed),
    ]
    model.outcomes = [
        ScalarOutcome("mean_score"),
        ScalarOutcome("listed_share"),
        ScalarOutcome("records_per_agent"),
    ]
    scenarios = [Scenario(f"e{i}", coverage=v) for i, v in enumerate(a.values)]
    t0 = time.perf_counter()
    with SequentialEvaluator(model) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(scenarios=scenarios)
    wall = time.perf_counter() - t0
    import ema_workbench

    n = len(experiments)
    out = {
        "mesa": mesa.__version__,
        "ema_workbench": ema_workbench.__version__,
        "experiments": n,
        "agents": a.agents,
        "days": a.days,
        "wall_s": wall,
        "agent_days_per_s": n * a.agents * a.days / wall,
        "coverage": [float(x) for x in experiments["coverage"]],
        "outcomes": {k: [float(x) for x in v] for k, v in outcomes.items()},
    }
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
