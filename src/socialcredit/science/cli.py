"""The ``science`` command: run the validation cases and print, for each quantity, the
published value, ours, the tolerance, pass or fail and the source.

Registered by the main app with ``app.command("science")(science_command)``. An unknown case
exits with code 2 naming the valid ones; any failing quantity makes the exit code 1.
"""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer

from socialcredit.console import capped_console, print_error

MAX_WIDTH = 100


def science_command(
    case: Annotated[
        list[str] | None,
        typer.Option("--case", help="Run only this case (repeatable); default: all of them."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON rows only.")] = False,
    size: Annotated[
        float,
        typer.Option(
            "--size",
            min=0.05,
            max=10.0,
            help="Scale of the simulations (populations, steps, runs); 1 is the documented "
            "suite, less is quicker and looser.",
        ),
    ] = 1.0,
) -> None:
    """Reproduce published results of the science of cooperation (docs/science.md)."""
    from socialcredit.science.cases import CASES

    names = case or list(CASES)
    unknown = [c for c in names if c not in CASES]
    if unknown:
        print_error(
            f"--case {unknown[0]}: no such case; choose one of {', '.join(CASES)}",
        )
        raise typer.Exit(2)
    rows, times = [], {}
    for name in names:
        t0 = time.perf_counter()
        rows += CASES[name](size)
        times[name] = time.perf_counter() - t0
    failed = [r for r in rows if not r.passed]
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in rows], indent=1))
    else:
        _print(rows, times)
    if failed:
        raise typer.Exit(1)


def _print(rows, times) -> None:
    from rich.table import Table

    out = capped_console(MAX_WIDTH)
    for name, secs in times.items():
        t = Table(title=f"{name} ({secs:.0f} s)", title_justify="left", expand=False)
        for col, just in (
            ("quantity", "left"),
            ("published", "right"),
            ("ours", "right"),
            ("tolerance", "right"),
            ("", "left"),
        ):
            t.add_column(col, justify=just)
        mine = [r for r in rows if r.case == name]
        for r in mine:
            t.add_row(
                r.quantity,
                f"{r.published:.6g}",
                f"{r.ours:.6g}",
                f"{r.tolerance:.2g}",
                "pass" if r.passed else "FAIL",
            )
        out.print(t, highlight=False)
        sources = dict.fromkeys(r.source for r in mine)
        for s in sources:
            out.print(f"  source: {s}", highlight=False)
        notes = dict.fromkeys(r.note for r in mine)
        for n in notes:
            out.print(f"  sample: {n}", highlight=False)
    passed = sum(r.passed for r in rows)
    out.print(f"{passed} of {len(rows)} quantities within tolerance", highlight=False)
