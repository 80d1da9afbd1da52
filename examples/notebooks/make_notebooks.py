"""Writes the example notebooks in this folder (without outputs), so that their text lives in
one reviewable Python file: `python examples/notebooks/make_notebooks.py`.

Each notebook uses small sizes so that it executes in well under a minute on two cores; the
test suite checks them (tests/test_example_notebooks.py) and `make test-notebooks` runs them.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent

FIRST_RUN = [
    new_markdown_cell(
        "# A first run and its counterfactual\n\n"
        "Rongcheng's personal credit points on a small synthetic town (3,000 people, 60 days), "
        "and the same society with no system at all, on the same random numbers: the "
        "difference between the two is what the system does, not noise. Every person here is "
        "synthetic."
    ),
    new_code_cell(
        "import socialcredit as sc\n\n"
        'scenario = sc.load_scenario("rongcheng", agents=3_000, days=60)\n'
        "result = sc.simulate(scenario, counterfactual=True)\n"
        "result  # a run displays as a table of its summary"
    ),
    new_markdown_cell(
        "Records per agent-year of each behaviour, with the system and without it. Without a "
        "system nothing is recorded; the acts are what the system changes."
    ),
    new_code_cell(
        "import pandas as pd\n\n"
        "acts = pd.DataFrame(\n"
        "    {\n"
        '        "with the system": result.summary["acts_per_agent_year"],\n'
        '        "without": result.counterfactual.summary["acts_per_agent_year"],\n'
        "    }\n"
        ")\n"
        'acts["effect"] = acts["with the system"] - acts["without"]\n'
        "acts.round(4)"
    ),
    new_markdown_cell(
        "The daily metrics as an xarray Dataset (day x jurisdiction x group). Counts add up "
        "over cells; means are weighted by the cells' agents (each variable's "
        '`attrs["aggregation"]` says which).'
    ),
    new_code_cell(
        "ds = result.to_xarray()\n"
        'tiers = [name for name in ds.data_vars if name.startswith("tier.")]\n'
        'shares = ds[tiers].sum(("jurisdiction", "group")) / ds["agents"].sum(("jurisdiction", "group"))\n'
        "shares.to_dataframe().tail()"
    ),
    new_code_cell(
        'score = ds["mean_score"].weighted(ds["agents"].fillna(0)).mean(("jurisdiction", "group"))\n'
        'score.plot.line(x="day");'
    ),
    new_markdown_cell(
        "Saved, a run is a folder that `sc.open_run` reads back and `sc.report` turns into an "
        "offline HTML report."
    ),
    new_code_cell(
        'path = result.save("runs")\n'
        "again = sc.open_run(path)\n"
        "paths = sc.report(again)\n"
        "[p.name for p in paths][:3]"
    ),
]

AUDIT = [
    new_markdown_cell(
        "# An audit\n\n"
        "The volunteer informant system against the same society without it, over two "
        "replicate seeds: each outcome's effect with a 95% interval. Small sizes (2,000 "
        "people, 60 days) so it runs in seconds; the command line's `socialcredit audit` does "
        "the same at any size."
    ),
    new_code_cell(
        "import socialcredit as sc\n\n"
        'scenario = sc.load_scenario("xinjiang-informants", agents=2_000, days=60)\n'
        "audit = sc.audit(scenario, replicates=2)\n"
        "audit  # the table: without and with the system, the effect and its interval"
    ),
    new_code_cell(
        'cols = ["label", "counterfactual", "system", "effect", "ci_low", "ci_high"]\n'
        'audit.table[cols].dropna(subset=["effect"]).head(10)'
    ),
    new_markdown_cell("One outcome's row, by its name in the registry (docs/audit.md):"),
    new_code_cell('audit.row("false_sanction_share")'),
]

SWEEP = [
    new_markdown_cell(
        "# A sweep\n\n"
        "How the court list's reach changes what it does: the coverage of debt judgments by "
        "court records varied over three levels, two replicates each, every experiment against "
        "the same society without the system. Small sizes (1,000 people, 45 days)."
    ),
    new_code_cell(
        "import socialcredit as sc\n\n"
        "sweep = sc.sweep(\n"
        '    "rongcheng",\n'
        '    vary=["channels.court_records.coverage.debt_judgment=0:0.9:3"],\n'
        "    replicates=2,\n"
        "    agents=1_000,\n"
        "    days=45,\n"
        '    out="runs/sweeps",\n'
        "    figures=False,\n"
        ")\n"
        "sweep  # each outcome's range over the experiments"
    ),
    new_code_cell("sweep.experiments"),
    new_code_cell(
        "effects = sweep.outcomes.query(\"outcome == 'records'\")\n"
        'effects.groupby("experiment")[["with", "without", "effect"]].mean()'
    ),
]

NOTEBOOKS = {
    "01-first-run.ipynb": FIRST_RUN,
    "02-audit.ipynb": AUDIT,
    "03-sweep.ipynb": SWEEP,
}


def main() -> None:
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook(cells=cells)
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        nb.metadata["language_info"] = {"name": "python"}
        nbformat.validate(nb)
        nbformat.write(nb, HERE / name)
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
