"""The ``sweep`` command (and the progress display that ``optimize`` shares).

Bad input (an unknown field path, a range outside a field's bounds, a lever that is not
numeric, a Sobol size the design does not allow, an unknown outcome, an unreachable
scheduler) exits with code 2 and a located message before anything is written; a failure
while running exits with code 1 and leaves every finished batch on disk, so the same command
resumes.
"""

from __future__ import annotations

import math
import shlex
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from socialcredit.console import one_line, output_path, print_error

MAX_WIDTH = 100

ExecutorOpt = Annotated[
    str,
    typer.Option(
        "--executor",
        help="in-process (default), processes (local worker processes), dask (a Dask "
        "LocalCluster of --workers processes, or --scheduler), slurm (dask-jobqueue).",
    ),
]
WorkersOpt = Annotated[
    int | None, typer.Option("--workers", min=1, help="Worker processes or cluster jobs.")
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option("--scheduler", metavar="tcp://HOST:PORT", help="An existing Dask scheduler."),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", metavar="PATH=VALUE", help="Override a field of the scenario."),
]
BatchSizeOpt = Annotated[
    int | None,
    typer.Option("--batch-size", min=1, help="Runs per vmapped call (default: from memory)."),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print only the folder.")]


def _fmt_s(s: float) -> str:
    if not math.isfinite(s):
        return "?"
    if s < 60:
        return f"{s:.0f} s"
    m, s = divmod(int(s), 60)
    return f"{m} min {s:02d} s" if m < 60 else f"{m // 60} h {m % 60:02d} min"


class Reporter:
    """Progress over batches: a rich bar on a terminal; otherwise (a cluster job's log) one
    plain line per batch with the time left."""

    def __init__(self, what: str = "sweep", quiet: bool = False) -> None:
        self.what, self.quiet = what, quiet
        self.tty = sys.stderr.isatty()
        self.bar = self.task = None

    def __enter__(self) -> Reporter:
        if self.tty and not self.quiet:
            from socialcredit.console import progress_bar

            self.bar = progress_bar("runs", max_width=MAX_WIDTH)
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def __call__(self, s: dict[str, Any]) -> None:
        if self.quiet:
            return
        if self.bar is not None:
            if self.task is None:
                self.task = self.bar.add_task(self.what, total=s["runs"], completed=s["runs_done"])
            desc = f"{self.what}: batch {s['batches_done']}/{s['batches']}"
            self.bar.update(self.task, completed=s["runs_done"], total=s["runs"], description=desc)
            return
        speed = s.get("agent_days_per_s", math.nan)
        line = (
            f"{time.strftime('%H:%M:%S')} {self.what}: batch {s['batches_done']}/{s['batches']}, "
            f"runs {s['runs_done']}/{s['runs']}, elapsed {_fmt_s(s['elapsed_s'])}, "
            f"left {_fmt_s(s['eta_s'])}"
        )
        if math.isfinite(speed):
            line += f", {speed:,.0f} agent-days/s"
        if s.get("first") and s.get("skipped"):
            line += f" ({s['skipped']} batches already done: resuming)"
        print(line, file=sys.stderr, flush=True)


def executor_from(executor: str, workers: int | None, scheduler: str | None):
    """The executor of the options, or exit 2 with one line."""
    from socialcredit.experiments.executors import ExecutorError, make_executor

    if executor not in ("in-process", "processes", "dask", "slurm"):
        print_error(f"error: --executor {executor!r}: use in-process, processes, dask or slurm")
        raise typer.Exit(2)
    try:
        return make_executor(executor, workers, scheduler)
    except ExecutorError as e:
        print_error(f"error: {e}")
        raise typer.Exit(2) from None


def command_line(name: str) -> str:
    """The command as typed, for the manifest."""
    return f"socialcredit {name} " + shlex.join(sys.argv[2:]) if len(sys.argv) > 2 else ""


def run_guarded(what: str, folder: Path, ex, work):
    """Run ``work()``; an interruption exits 130, a failure exits 1, each with one line that
    says the finished batches are kept (the same command resumes); the executor is closed."""
    try:
        return work()
    except KeyboardInterrupt:
        print_error(
            f"interrupted; finished batches are kept in {folder}: run the same command to resume"
        )
        raise typer.Exit(130) from None
    except Exception as e:
        print_error(
            f"error: the {what} failed: {one_line(e)}; finished batches are kept in {folder}"
        )
        raise typer.Exit(1) from None
    finally:
        ex.close()


def sweep_command(
    scenario: Annotated[str, typer.Argument(help="Preset name or scenario YAML file.")],
    experiment: Annotated[
        Path | None,
        typer.Argument(help="Experiment YAML file (factors, outcomes, design, replicates)."),
    ] = None,
    vary: Annotated[
        list[str] | None,
        typer.Option(
            "--vary",
            metavar="PATH=LOW:HIGH:N",
            help="Vary one field over N points (or PATH=A,B,C); repeatable; a full factorial.",
        ),
    ] = None,
    replicates: Annotated[
        int | None, typer.Option("--replicates", "-r", min=1, help="Replicate seeds.")
    ] = None,
    no_counterfactual: Annotated[
        bool, typer.Option("--no-counterfactual", help="Do not run the no-system arm.")
    ] = False,
    agents: Annotated[int | None, typer.Option("--agents", help="Population size.")] = None,
    days: Annotated[int | None, typer.Option("--days", help="Days to simulate.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Root seed.")] = None,
    set_: SetOpt = None,
    out_dir: Annotated[
        Path,
        typer.Option("--out", parser=output_path, metavar="PATH", help="Folder of sweep folders."),
    ] = Path("runs") / "sweeps",
    executor: ExecutorOpt = "in-process",
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    batch_size: BatchSizeOpt = None,
    no_figures: Annotated[
        bool, typer.Option("--no-figures", help="Skip figures and page.")
    ] = False,
    quiet: QuietOpt = False,
) -> None:
    """Run a sweep: every experiment of a design, in vmapped batches, resumable; writes
    experiments.parquet, outcomes.parquet, sensitivity.parquet, figures and index.html.

    Examples:
      socialcredit sweep xinjiang-informants examples/experiments/informants.yaml
      socialcredit sweep rongcheng -r 3 --agents 20000 \\
          --vary channels.court_records.coverage.debt_judgment=0:0.9:10
    """
    from socialcredit.experiments.base import Base
    from socialcredit.experiments.run import resolve_experiment
    from socialcredit.experiments.sweep import make_plan, run_plan
    from socialcredit.scenario import ScenarioError

    if experiment is None and not vary:
        print_error("error: give an experiment file or at least one --vary PATH=LOW:HIGH:N")
        raise typer.Exit(2)
    try:
        exp, line_of, filename = resolve_experiment(
            experiment, vary, replicates, False if no_counterfactual else None
        )
        base = Base.load(scenario, list(set_ or []), agents=agents, days=days, seed=seed)
        plan = make_plan(base, exp, line_of=line_of, filename=filename, batch_size=batch_size)
    except ScenarioError as e:  # ExperimentError too
        print_error(str(e))
        raise typer.Exit(2) from None
    from socialcredit.jit_cache import enable_compile_cache

    enable_compile_cache()  # a resumed or repeated sweep loads its compiled batches
    ex = executor_from(executor, workers, scheduler)
    folder = out_dir / f"{exp.name}-{plan.digest}"
    sc = base.scenario
    if not quiet:
        print(
            f"{exp.name}: {len(plan.design.table):,} experiments x {len(plan.seeds)} replicates "
            f"of {sc.metadata.name} ({sc.population.agents:,} agents x {sc.days:,} days), "
            f"{plan.n_runs:,} runs in {len(plan.batches)} batches on {ex.name} -> {folder}",
            file=sys.stderr,
        )
    t0 = time.perf_counter()

    def work():
        with Reporter("sweep", quiet) as rep:
            return run_plan(plan, folder, ex, rep, command_line("sweep"), figures=not no_figures)

    res = run_guarded("sweep", folder, ex, work)
    if quiet:
        print(folder)
        return
    _print_table(res, time.perf_counter() - t0)


def _print_table(res, wall: float) -> None:
    from rich.table import Table

    from socialcredit.console import capped_console

    o = res.outcomes
    col = {n: ("effect" if g["effect"].notna().any() else "with") for n, g in o.groupby("outcome")}
    t = Table(title=f"Outcomes over {len(res.experiments):,} experiments (mean over replicates)")
    for c in ("outcome", "shown", "min", "median", "max"):
        num = c not in ("outcome", "shown")
        t.add_column(
            c,
            justify="right" if num else "left",
            no_wrap=num,
            overflow="fold",
            min_width=9 if num else None,
            max_width=None if num else 30,
        )
    missing = []
    for name, g in o.groupby("outcome", sort=False):
        m = g.groupby("experiment")[col[name]].mean()
        if m.notna().any():
            t.add_row(name, col[name], f"{m.min():.3g}", f"{m.median():.3g}", f"{m.max():.3g}")
        else:
            missing.append(str(name))
    con = capped_console(MAX_WIDTH)
    con.print(t)
    if missing:
        con.print(
            f"No value (not modelled in this scenario, or undefined): {', '.join(missing)}.",
            soft_wrap=True,
        )
    con.print(f"{res.folder}  ({_fmt_s(wall)}); index.html has the figures", soft_wrap=True)
