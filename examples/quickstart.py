"""Quick start: run a preset and its counterfactual from Python, and read what changed.

python examples/quickstart.py            # 20,000 agents, 180 days, a few seconds
"""

from __future__ import annotations

import socialcredit as sc


def main(agents: int = 20_000, days: int = 180) -> None:
    scenario = sc.load_scenario("rongcheng", agents=agents, days=days)
    result = sc.simulate(scenario, counterfactual=True)
    m = result.metrics  # tidy: day, jurisdiction, group, metric, value
    last = m[m["day"] == m["day"].max()]
    print(last[last["metric"].str.startswith("tier.")].to_string(index=False))
    without = result.counterfactual.summary
    print(f"{'summary figure':<40} {'with':>12} {'without':>12}")
    for name, value in result.summary.items():
        other = without.get(name)
        if isinstance(value, int | float) and isinstance(other, int | float):
            print(f"{name:<40} {value:>12.4g} {other:>12.4g}")


if __name__ == "__main__":
    main()
