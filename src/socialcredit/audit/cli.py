"""The ``audit`` command: a scenario against its counterfactual, over replicate seeds.

``audit_command`` is a plain function with typer annotations; the main app registers it with
``app.command("audit")(audit_command)``. Errors in the scenario exit with code 2 and the
loader's located messages, and so does a population this machine cannot hold (refused before
anything runs, as ``run`` refuses it); a failure while simulating exits with code 1. Neither
prints a traceback. The audit machinery (pandas, JAX) is imported only when the command runs.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.markup import escape
from rich.text import Text

from socialcredit.atomic import TMP_PREFIX, fsync_dir
from socialcredit.console import (
    capped_console,
    command_overrides,
    one_line,
    output_path,
    print_error,
    progress_bar,
)

MAX_WIDTH = 100  # the table fits a terminal of 100 columns


def _folder(out: Path, name: str) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "scenario"
    folder = out / f"audit-{name}-{stamp}"
    k = 2
    while folder.exists():
        folder = out / f"audit-{name}-{stamp}-{k}"
        k += 1
    return folder


def audit_command(
    scenario: Annotated[str, typer.Argument(help="Preset name or scenario YAML file.")],
    replicates: Annotated[
        int,
        typer.Option(
            "--replicates",
            "-r",
            min=1,
            help="Replicates: paired runs (with and without the system) on independent seeds.",
        ),
    ] = 5,
    against: Annotated[
        str | None,
        typer.Option(
            "--against",
            metavar="SCENARIO",
            help="Another design (preset or YAML) to set this one against instead of the "
            "counterfactual: the same society and random numbers, effect = this - that. "
            "--agents, --days, --seed and --set apply to both.",
        ),
    ] = None,
    agents: Annotated[
        int | None, typer.Option("--agents", help="Population size (sets population.agents).")
    ] = None,
    days: Annotated[int | None, typer.Option("--days", help="Days to simulate.")] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            help="Root seed; each replicate's seed derives from it (default: the scenario's seed).",
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="PATH=VALUE",
            help="Override one field, e.g. --set response.model=fixed (value parsed as YAML; "
            "repeatable).",
        ),
    ] = None,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            parser=output_path,
            metavar="PATH",
            help="Folder under which the audit folder is written.",
        ),
    ] = Path("runs"),
) -> None:
    """Audit a scenario against its counterfactual (or, with --against, another design on the
    same society): effects on stated aims and harms, with 95% intervals over replicates;
    saves the table, a report with a forest plot and every replicate's runs under --out.

    Examples:
      socialcredit audit xinjiang-informants -r 5
      socialcredit audit due-process --against xinjiang-informants -r 5
      socialcredit audit rongcheng --agents 20000 --days 180 -r 3
    """
    sc, other = _designs(scenario, against, list(set_ or []), agents, days, seed)

    from socialcredit.audit.runner import arm_names, audit

    con = capped_console(MAX_WIDTH)
    if other is None:
        arms_text = "with and without the system"
        arms = arm_names(sc.metadata.name, sc.metadata.name + "-counterfactual")
    else:
        arms = arm_names(sc.metadata.name, other.metadata.name)
        arms_text = f"{escape(arms[0])} and {escape(arms[1])}"
    con.print(
        f"[bold]audit {escape(sc.metadata.name)}"
        f"{' against ' + escape(other.metadata.name) if other is not None else ''}[/]: "
        f"{sc.population.agents:,} agents × {sc.days:,} days, {replicates} "
        f"replicate{'s' if replicates != 1 else ''} × 2 runs ({arms_text}), root seed {sc.seed}",
        highlight=False,
        soft_wrap=True,
    )
    name = sc.metadata.name if other is None else f"{sc.metadata.name}-vs-{other.metadata.name}"
    folder = _folder(out, name)
    staging = folder.with_name(f"{TMP_PREFIX}{folder.name}")
    keep = replicate_keeper(staging, folder.name, arms)
    progress = progress_bar("replicates", max_width=MAX_WIDTH)
    try:
        with progress:
            task = progress.add_task("compiling", total=replicates)

            def on_progress(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total, description="simulating")

            result = audit(sc, replicates, against=other, progress=on_progress, keep=keep)
            progress.update(task, description="done")
        overrides = command_overrides(set_, agents=agents, days=days, seed=seed)
        result.info["overrides"] = overrides | {"replicates": replicates}
        if against is not None:
            result.info["overrides"]["against"] = against
        result.info["replicate_runs"] = keep.runs
        result.save(staging)
        os.rename(staging, folder)  # the folder appears whole, with its manifest
        fsync_dir(folder.parent)
    except BaseException as e:
        shutil.rmtree(staging, ignore_errors=True)  # nothing half-written
        _fail(e)
    con.print()
    con.print(result.rich_table(con.width), highlight=False)
    con.print(Text.assemble(("Audit folder  ", "bold"), str(folder)), soft_wrap=True)


def _designs(
    scenario: str,
    against: str | None,
    sets: list[str],
    agents: int | None,
    days: int | None,
    seed: int | None,
):
    """The design to audit and the one it is set against (None: its counterfactual), loaded
    with the same overrides and checked before anything runs: a bad scenario, designs whose
    society differs, a population this machine cannot hold exit with code 2."""
    from socialcredit.scenario import ScenarioError, load_scenario

    try:
        sc = load_scenario(scenario, sets, agents=agents, days=days, seed=seed)
    except ScenarioError as e:
        print_error(str(e))
        raise typer.Exit(2) from None
    other = None
    if against is not None:
        try:
            other = load_scenario(against, sets, agents=agents, days=days, seed=seed)
        except ScenarioError as e:
            print_error(f"--against {against}: {one_line_text(str(e))}")
            raise typer.Exit(2) from None
        from socialcredit.api import society_differences

        diff = society_differences(sc, other)
        if diff:
            print_error(
                f"error: --against {against}: {sc.metadata.name} and {other.metadata.name} "
                "differ in their society, so their difference would not be the design's; "
                f"differing fields: {'; '.join(diff)} (--agents, --days and --set apply to both)"
            )
            raise typer.Exit(2) from None

    from socialcredit.memory import MemoryTooSmall, check_fits

    try:  # an input this machine cannot take: refused before starting, as `run` refuses it
        for design in (sc, other) if other is not None else (sc,):
            check_fits(design.population.agents, scenario=design)
    except MemoryTooSmall as e:
        print_error(f"error: {e}")
        raise typer.Exit(2) from None

    return sc, other


def _fail(e: BaseException) -> NoReturn:
    """Exit for an audit that failed while running: nothing was saved."""
    from socialcredit.memory import MemoryTooSmall
    from socialcredit.scenario import ScenarioError

    try:
        raise e
    except KeyboardInterrupt:
        print_error("interrupted; nothing was saved")
        raise typer.Exit(130) from None
    except ScenarioError as e:  # a problem only compiling the scenario could find
        print_error(str(e))
        raise typer.Exit(2) from None
    except MemoryTooSmall as e:  # the same refusal, from inside a replicate
        print_error(f"error: {e}")
        raise typer.Exit(2) from None
    except Exception as e:
        print_error(f"error: audit failed: {one_line(e)}")
        raise typer.Exit(1) from None


def one_line_text(text: str) -> str:
    """A loader's message as one line (its lines joined)."""
    return "; ".join(line.strip() for line in text.strip().splitlines() if line.strip())


class replicate_keeper:  # noqa: N801 - used as a callback
    """Saves each replicate's two runs as run folders under ``<audit>/replicates/<r>/<arm>/``
    as the audit goes (``audit(keep=...)``), so that `report`, `compare` and `explain` open
    any replicate; ``runs`` lists what was written (for audit.json)."""

    def __init__(self, staging: Path, audit_id: str, arms: tuple[str, str]) -> None:
        self.staging, self.audit_id, self.arms = staging, audit_id, arms
        self.runs: list[dict] = []

    def __call__(self, i: int, result, other) -> None:
        from socialcredit.store.runs import write_run_folder

        for arm, run in zip(self.arms, (result, other), strict=True):
            safe = re.sub(r"[^A-Za-z0-9._-]+", "-", arm).strip("-.") or "arm"
            rel = Path("replicates") / str(i) / safe
            run_id = f"{self.audit_id}.r{i}.{safe}"
            write_run_folder(run, run_id, self.staging / rel)
            self.runs.append(
                {"replicate": i, "arm": arm, "seed": run.scenario.seed, "run_id": run_id,
                 "path": rel.as_posix()}
            )  # fmt: skip
        os.utime(self.staging)  # alive: not a dead writer's temporary (atomic.sweep_stale)
