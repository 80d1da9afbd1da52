"""The ``report`` and ``compare`` commands: plain functions with typer annotations, registered
on the main CLI with ``app.command("report")(report_command)`` and
``app.command("compare")(compare_command)``. They can be called from Python as well.

A run folder that is missing or cannot be read exits with code 2 and one line on stderr, and
so does an empty ``--out``; a failure while writing exits with code 1 and leaves the report or
comparison as it was (their files are written whole or not at all: socialcredit/atomic.py).
Neither prints a traceback. Heavy imports (pandas, matplotlib, bokeh) happen inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from socialcredit.console import output_path

if TYPE_CHECKING:  # pragma: no cover
    from socialcredit.result import Result


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _open(path: Path, what: str) -> Result:
    from socialcredit.result import open_run
    from socialcredit.scenario import ScenarioError
    from socialcredit.store import RunNotFound

    try:
        return open_run(path)
    except RunNotFound as exc:
        raise _fail(f"error: {what}: {exc}", 2) from None
    except (ScenarioError, OSError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        raise _fail(f"error: {what}: cannot read the run at {path}: {first}", 2) from None


RunArg = Annotated[
    Path,
    typer.Argument(
        help="Run folder to report on (the folder `socialcredit run` printed, under runs/).",
        show_default=False,
    ),
]
AgainstOpt = Annotated[
    Path | None,
    typer.Option(
        "--against",
        help="Another run folder to set this one against, usually the same society with no "
        "system (e.g. a `socialcredit run no-system` run with the same agents, days and seed). "
        "Adds its behaviour rates and a side-by-side summary to the report.",
        show_default=False,
    ),
]
ReportOutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out",
        parser=output_path,
        metavar="PATH",
        help="Folder for report.html and figures/*.png (default: the run folder).",
        show_default=False,
    ),
]


def report_command(run: RunArg, against: AgainstOpt = None, out: ReportOutOpt = None) -> None:
    """Write an offline, interactive HTML report (report.html) and PNG figures for a run."""
    result = _open(run, "run")
    other = _open(against, "--against run") if against is not None else None
    folder = Path(out) if out is not None else Path(run)
    try:
        paths = write_report_files(result, other, folder)
    except Exception as exc:  # nothing was written: the report is whole or absent
        from socialcredit.console import one_line

        raise _fail(f"error: cannot write the report to {folder}: {one_line(exc)}", 1) from None
    for path in paths:
        typer.echo(str(path))


def write_report_files(result: Result, other: Result | None, folder: Path) -> list[Path]:
    """report.html and figures/*.png in ``folder``, written whole or not at all
    (socialcredit/atomic.py): the page and its figures are rendered into a temporary folder and
    moved into place only once every file is complete. Returns the final paths."""
    from socialcredit.atomic import written_whole
    from socialcredit.report.figures import (
        FIGURES_DIR,
        figure_data,
        tier_floor_scores,
        write_pngs,
    )
    from socialcredit.report.html import REPORT_FILE, write_report

    data = figure_data(result, other)
    with written_whole(folder) as tmp:
        report = write_report(result, tmp / REPORT_FILE, other, data=data)
        pngs = write_pngs(
            data,
            tmp / FIGURES_DIR,
            title=result.scenario.metadata.name,
            tier_floors=tier_floor_scores(result.scenario),
        )
    return [folder / p.relative_to(tmp) for p in (report, *pngs)]


RunAArg = Annotated[Path, typer.Argument(help="First run folder (a).", show_default=False)]
RunBArg = Annotated[Path, typer.Argument(help="Second run folder (b).", show_default=False)]
CompareOutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out",
        parser=output_path,
        metavar="PATH",
        help="Folder for compare.png, compare.html and compare.md "
        "(default: compare-<b's folder name> inside run a's folder).",
        show_default=False,
    ),
]


def compare_command(run_a: RunAArg, run_b: RunBArg, out: CompareOutOpt = None) -> None:
    """Compare two runs' summary numbers (a - b): a bar chart, an offline HTML page, Markdown."""
    from socialcredit.atomic import written_whole
    from socialcredit.report.comparison import write_compare

    a = _open(run_a, "run a")
    b = _open(run_b, "run b")
    folder = Path(out) if out is not None else Path(run_a) / f"compare-{Path(run_b).resolve().name}"
    try:
        with written_whole(folder) as tmp:
            paths = [folder / p.relative_to(tmp) for p in write_compare(a, b, tmp)]
    except Exception as exc:  # nothing was written
        from socialcredit.console import one_line

        raise _fail(f"error: cannot write the comparison to {folder}: {one_line(exc)}", 1) from None
    for path in paths:
        typer.echo(str(path))
