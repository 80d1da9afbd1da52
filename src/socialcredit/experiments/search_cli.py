"""The ``optimize`` command: a policy search (experiments/search.py) from the command line.

Bad input (an unknown field path, a lever without a range, an unknown outcome, an effect the
search cannot take, an unreachable scheduler) exits with code 2 and a located message before
anything is written; a failure while running exits with code 1 and keeps every finished
generation's batches on disk, so the same command resumes.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from socialcredit.console import output_path, print_error
from socialcredit.experiments.cli import (
    MAX_WIDTH,
    BatchSizeOpt,
    ExecutorOpt,
    QuietOpt,
    SchedulerOpt,
    SetOpt,
    WorkersOpt,
    _fmt_s,
    command_line,
    executor_from,
    run_guarded,
)


def _progress(quiet: bool):
    def report(s: dict[str, Any]) -> None:
        if quiet:
            return
        print(
            f"{time.strftime('%H:%M:%S')} optimize: generation {s['generation']}/"
            f"{s['generations']}, {s['new']} new designs ({s['designs']} in all, "
            f"{s['runs']} runs), front {s['front']}, elapsed {_fmt_s(s['elapsed_s'])}",
            file=sys.stderr,
            flush=True,
        )

    return report


def search_command(
    scenario: Annotated[str, typer.Argument(help="Preset name or scenario YAML file.")],
    search: Annotated[
        Path,
        typer.Argument(help="Search YAML file (levers, objectives, constraints, sizes)."),
    ],
    agents: Annotated[int | None, typer.Option("--agents", help="Population size.")] = None,
    days: Annotated[int | None, typer.Option("--days", help="Days to simulate.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Root seed.")] = None,
    set_: SetOpt = None,
    generations: Annotated[
        int | None, typer.Option("--generations", min=1, help="NSGA-II generations.")
    ] = None,
    population: Annotated[
        int | None, typer.Option("--population", min=4, help="Designs per generation.")
    ] = None,
    out_dir: Annotated[
        Path,
        typer.Option("--out", parser=output_path, metavar="PATH", help="Folder of search folders."),
    ] = Path("runs") / "searches",
    executor: ExecutorOpt = "in-process",
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    batch_size: BatchSizeOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Search a scenario's levers (NSGA-II) for the Pareto front of several outcomes; writes
    evaluations.parquet, front.parquet, front.png, index.html and front/design-NN.yaml.

    Example:
      socialcredit optimize xinjiang-informants \\
          examples/searches/informants-due-process.yaml \\
          --agents 5000 --days 180 --generations 5 --population 8
    """
    from socialcredit.experiments.search import plan_search, run_search
    from socialcredit.scenario import ScenarioError

    try:
        checked = plan_search(
            scenario,
            search,
            overrides=list(set_ or []),
            agents=agents,
            days=days,
            seed=seed,
            generations=generations,
            population=population,
        )
    except ScenarioError as e:  # SearchError too
        print_error(str(e))
        raise typer.Exit(2) from None
    ex = executor_from(executor, workers, scheduler)
    s, sc = checked.search, checked.base.scenario
    folder = out_dir / f"{s.name}-{checked.digest}"
    if not quiet:
        print(
            f"{s.name}: NSGA-II, {s.generations} generations of {s.population} designs x "
            f"{s.replicates} replicates of {sc.metadata.name} ({sc.population.agents:,} agents "
            f"x {sc.days:,} days) on {ex.name} -> {folder}",
            file=sys.stderr,
        )
    t0 = time.perf_counter()
    res = run_guarded(
        "search",
        folder,
        ex,
        lambda: run_search(
            checked, folder, ex, _progress(quiet), command_line("optimize"), batch_size=batch_size
        ),
    )
    if quiet:
        print(folder)
        return
    _print_front(res, checked, time.perf_counter() - t0)


def _print_front(res, checked, wall: float) -> None:
    from rich.table import Table

    from socialcredit.console import capped_console

    levers = [f.label for f in checked.search.levers]
    objs = [o.column for o in checked.objectives]
    from rich import box

    t = Table(
        title=f"Pareto front: {len(res.front)} of {len(res.evaluations.design.unique())} designs",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    keys = [f"L{i + 1}" for i in range(len(levers))] + [f"O{i + 1}" for i in range(len(objs))]
    t.add_column("design", justify="right")
    for k in keys:
        t.add_column(k, justify="right", no_wrap=True)
    for _, r in res.front.head(30).iterrows():
        t.add_row(str(int(r["design"])), *(f"{r[c]:.3g}" for c in levers + objs))
    dirs = [f"{o.column} ({o.direction})" for o in checked.objectives]
    legend = ", ".join(f"{k} {name}" for k, name in zip(keys, levers + dirs, strict=True))
    con = capped_console(MAX_WIDTH)
    con.print(t)
    con.print(legend, soft_wrap=False, highlight=False)
    if len(res.front) > 30:
        con.print(f"... {len(res.front) - 30} more in front.parquet", soft_wrap=True)
    con.print(
        f"{res.folder}  ({_fmt_s(wall)}); index.html has the figure, front/ the scenario files",
        soft_wrap=True,
    )
