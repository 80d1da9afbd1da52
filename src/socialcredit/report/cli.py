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

from socialcredit.console import output_path, run_path

if TYPE_CHECKING:  # pragma: no cover
    from socialcredit.result import Result


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _audit_run(path: Path, arm: int) -> Path:
    """The run folder of replicate 0's arm ``arm`` (0: the audited design, 1: the other arm)
    in an audit folder (audit.json ``replicate_runs``)."""
    import json

    from socialcredit.store import RunNotFound

    data = json.loads((path / "audit.json").read_text(encoding="utf-8"))
    runs = [r for r in data.get("replicate_runs") or [] if r.get("replicate") == 0]
    if len(runs) != 2:
        raise RunNotFound(
            f"audit folder {path} keeps no replicate runs (made before they were kept, or "
            "from Python without keep=)"
        )
    return path / runs[arm]["path"]


def _open(path: Path, what: str, arm: int = 0) -> Result:
    """A run folder, or in an audit folder replicate 0's arm ``arm`` (its other replicates
    are run folders under replicates/<r>/<arm>/)."""
    from socialcredit.audit.result import is_audit_folder
    from socialcredit.result import open_run
    from socialcredit.scenario import ScenarioError
    from socialcredit.store import RunNotFound

    try:
        if is_audit_folder(path):
            path = _audit_run(path, arm)
        return open_run(path)
    except RunNotFound as exc:
        raise _fail(f"error: {what}: {exc}", 2) from None
    except (ScenarioError, OSError, ValueError, KeyError, TypeError) as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        raise _fail(f"error: {what}: cannot read the run at {path}: {first}", 2) from None


RunArg = Annotated[
    Path,
    typer.Argument(
        help="Run folder to report on, or its id as `socialcredit runs` prints it.",
        parser=run_path,
        show_default=False,
    ),
]
AgainstOpt = Annotated[
    Path | None,
    typer.Option(
        "--against",
        parser=run_path,
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
    """Write an offline, interactive HTML report (report.html) and PNG figures for a run, or
    rewrite an audit folder's (its table and forest plot, then replicate 0's charts)."""
    from socialcredit.audit.result import is_audit_folder

    if against is None and is_audit_folder(run):
        _report_audit(run, Path(out) if out is not None else Path(run))
        return
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


def _report_audit(path: Path, folder: Path) -> None:
    from socialcredit.atomic import written_whole
    from socialcredit.audit.page import write_audit_report
    from socialcredit.audit.result import AuditResult
    from socialcredit.console import one_line

    try:
        result = AuditResult.open(path)
    except Exception as exc:
        raise _fail(f"error: run: cannot read the audit at {path}: {one_line(exc)}", 2) from None
    try:
        with written_whole(folder) as tmp:
            paths = [folder / p.relative_to(tmp) for p in write_audit_report(result, tmp)]
    except Exception as exc:  # nothing was written
        raise _fail(f"error: cannot write the report to {folder}: {one_line(exc)}", 1) from None
    for p in paths:
        typer.echo(str(p))


def write_report_files(result: Result, other: Result | None, folder: Path) -> list[Path]:
    """report.html and figures/*.png in ``folder``, written whole or not at all
    (socialcredit/atomic.py): the page and its figures are rendered into a temporary folder and
    moved into place only once every file is complete. Returns the final paths."""
    from socialcredit.atomic import written_whole
    from socialcredit.charts.report import phase_days
    from socialcredit.report.figures import (
        FIGURES_DIR,
        figure_data,
        tier_floor_scores,
    )
    from socialcredit.report.html import REPORT_FILE, write_pngs, write_report

    data = figure_data(result, other)
    with written_whole(folder) as tmp:
        report = write_report(result, tmp / REPORT_FILE, other, data=data)
        pngs = write_pngs(
            data,
            tmp / FIGURES_DIR,
            title=result.scenario.metadata.name,
            tier_floors=tier_floor_scores(result.scenario),
            phases=phase_days(result),
        )
    return [folder / p.relative_to(tmp) for p in (report, *pngs)]


RunAArg = Annotated[
    Path,
    typer.Argument(help="First run folder (a), or its id.", parser=run_path, show_default=False),
]
RunBArg = Annotated[
    Path | None,
    typer.Argument(
        help="Second run folder (b), or its id; left out when run a is an audit folder, whose "
        "two arms (replicate 0) are then compared.",
        parser=run_path,
        show_default=False,
    ),
]
CompareOutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out",
        parser=output_path,
        metavar="PATH",
        help="Folder for compare.png, compare.html and compare.md "
        "(default: compare-<a's id>-<b's id> beside run a's folder, never inside it).",
        show_default=False,
    ),
]


def _replicate_pairs(path: Path, what: str) -> list[tuple[Result, Result]]:
    """(arm 0, arm 1) runs of every replicate an audit folder keeps, in replicate order."""
    import json

    data = json.loads((path / "audit.json").read_text(encoding="utf-8"))
    runs = data.get("replicate_runs") or []
    reps = sorted({r.get("replicate") for r in runs if r.get("replicate") is not None})
    out = []
    for r in reps:
        arms = [x for x in runs if x.get("replicate") == r]  # in arm order, as _audit_run reads
        if len(arms) == 2:
            out.append((_open(path / arms[0]["path"], what), _open(path / arms[1]["path"], what)))
    return out


def _id(result: Result, fallback: Path) -> str:
    return str((result.info or {}).get("run_id") or Path(fallback).resolve().name)


def compare_command(run_a: RunAArg, run_b: RunBArg = None, out: CompareOutOpt = None) -> None:
    """Compare two runs' summary numbers (a - b): a bar chart, an offline HTML page, Markdown.
    An audit folder alone compares its two arms over every replicate, and two audit folders
    pair their replicates: both give 95% intervals. One run against one run has none (a
    warning says so)."""
    from socialcredit.atomic import written_whole
    from socialcredit.audit.result import is_audit_folder
    from socialcredit.report.comparison import ONE_SEED, write_compare

    if run_b is None and not is_audit_folder(run_a):
        raise _fail(f"error: run b: missing (only an audit folder is compared alone: {run_a})", 2)
    a = _open(run_a, "run a")
    b = _open(run_a, "run b", arm=1) if run_b is None else _open(run_b, "run b")
    pairs = None
    try:
        if run_b is None:
            pairs = [(x, y) for x, y in _replicate_pairs(Path(run_a), "run a")]
        elif is_audit_folder(run_a) and is_audit_folder(run_b):
            left = [x for x, _ in _replicate_pairs(Path(run_a), "run a")]
            right = [x for x, _ in _replicate_pairs(Path(run_b), "run b")]
            pairs = list(zip(left, right, strict=False))
    except (OSError, ValueError, KeyError) as exc:
        raise _fail(f"error: run a: cannot read the audit's replicates: {exc}", 2) from None
    if out is not None:
        folder = Path(out)
    else:
        ida = _id(a, run_a) if not is_audit_folder(run_a) else Path(run_a).resolve().name
        idb = (
            f"{ida}-arms"
            if run_b is None
            else (_id(b, run_b) if not is_audit_folder(run_b) else Path(run_b).resolve().name)
        )
        name = f"compare-{ida}-{idb}" if run_b is not None else f"compare-{idb}"
        folder = Path(run_a).resolve().parent / name
    try:
        with written_whole(folder) as tmp:
            paths = [folder / p.relative_to(tmp) for p in write_compare(a, b, tmp, pairs)]
    except Exception as exc:  # nothing was written
        from socialcredit.console import one_line

        raise _fail(f"error: cannot write the comparison to {folder}: {one_line(exc)}", 1) from None
    if pairs is None or len(pairs) < 2:
        typer.echo(f"warning: {ONE_SEED}", err=True)
    for path in paths:
        typer.echo(str(path))
