"""The ``audit`` command: a scenario against its counterfactual, over replicate seeds.

``audit_command`` is a plain function with typer annotations; the main app registers it with
``app.command("audit")(audit_command)``. Errors in the scenario exit with code 2 and the
loader's located messages, and so does a population this machine cannot hold (refused before
anything runs, as ``run`` refuses it); a failure while simulating exits with code 1. Neither
prints a traceback. The audit machinery (pandas, JAX) is imported only when the command runs.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.text import Text

from socialcredit.console import (
    capped_console,
    command_overrides,
    one_line,
    output_path,
    print_error,
    progress_bar,
)

MAX_WIDTH = 120


def _folder(out: Path, name: str) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
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
    """Audit a scenario against its counterfactual: effects on stated aims and harms, with 95%
    intervals over replicates; saves audit.md, audit.json and audit.parquet under --out."""
    from socialcredit.scenario import ScenarioError, load_scenario

    try:
        sc = load_scenario(scenario, list(set_ or []), agents=agents, days=days, seed=seed)
    except ScenarioError as e:
        print_error(str(e))
        raise typer.Exit(2) from None

    from socialcredit.memory import MemoryTooSmall, check_fits

    try:  # an input this machine cannot take: refused before starting, as `run` refuses it
        check_fits(sc.population.agents, scenario=sc)
    except MemoryTooSmall as e:
        print_error(f"error: {e}")
        raise typer.Exit(2) from None

    from socialcredit.audit.runner import audit

    con = capped_console(MAX_WIDTH)
    con.print(
        f"[bold]audit {escape(sc.metadata.name)}[/]: {sc.population.agents:,} agents × "
        f"{sc.days:,} days, {replicates} replicate{'s' if replicates != 1 else ''} × 2 runs "
        f"(with and without the system), root seed {sc.seed}",
        highlight=False,
        soft_wrap=True,
    )
    progress = progress_bar("replicates", max_width=MAX_WIDTH)
    try:
        with progress:
            task = progress.add_task("compiling", total=replicates)

            def on_progress(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total, description="simulating")

            result = audit(sc, replicates, progress=on_progress)
            progress.update(task, description="done")
        overrides = command_overrides(set_, agents=agents, days=days, seed=seed)
        result.info["overrides"] = overrides | {"replicates": replicates}
        folder = result.save(_folder(out, sc.metadata.name))
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

    con.print()
    con.print(result.rich_table(), highlight=False)
    con.print(Text.assemble(("Audit folder  ", "bold"), str(folder)), soft_wrap=True)
