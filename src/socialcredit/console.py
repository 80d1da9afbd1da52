"""The command line's console helpers, shared by every command (cli.py, audit/cli.py):
rich consoles capped in width so tables stay readable, error lines printed as they are, and the
progress bar of a long command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def capped_console(max_width: int = 100, stderr: bool = False, **kw: Any) -> Console:
    """A console no wider than ``max_width`` (or the terminal, if narrower)."""
    con = Console(stderr=stderr, **kw)
    if con.width > max_width:
        con.width = max_width
    return con


def plain_console(max_width: int = 100, stderr: bool = True) -> Console:
    """A console that prints text as it is: loader messages hold brackets
    ("[population.agents=-5]") and colons, which must not be read as markup or highlighted."""
    return capped_console(max_width, stderr=stderr, markup=False, highlight=False, emoji=False)


def print_error(message: str) -> None:
    """One message on stderr, as it is, never wrapped."""
    plain_console().print(message, soft_wrap=True)


def one_line(exc: BaseException) -> str:
    """An exception as one line: its type and the first line of its message."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def progress_bar(unit: str, *columns: ProgressColumn, max_width: int = 100) -> Progress:
    """A progress bar on stderr: description, bar, done/total ``unit``, then ``columns``, then
    the time left and the time elapsed."""
    return Progress(
        TextColumn("[progress.description]{task.description:<10}"),
        BarColumn(bar_width=30),
        MofNCompleteColumn(),
        TextColumn(unit),
        *columns,
        TimeRemainingColumn(),
        TimeElapsedColumn(),
        console=capped_console(max_width, stderr=True),
    )


def output_path(value: str | Path) -> Path:
    """The ``--out`` options' parser: a path, never the empty one.

    ``Path('')`` is the current folder, so ``--out ''`` (an unset shell variable, say) would
    write there; it is refused as a usage error (exit 2) naming the option and the fix."""
    import typer

    if not str(value).strip():
        raise typer.BadParameter(
            "an empty path would write into the current folder; "
            "give a folder (use --out . to mean the current one)"
        )
    return Path(value)


RUNS_ROOT_ENV = "SOCIALCREDIT_RUNS"  # where a bare run id is looked up (default: runs)


def run_path(value: str | Path) -> Path:
    """The run arguments' parser: a folder path as given, or a run, audit or sweep id as
    `socialcredit runs` prints it, looked up under ``runs/`` (or $SOCIALCREDIT_RUNS) down to
    three levels. A value that is neither stays as given, so the command's own message about
    a missing folder names it."""
    import os

    path = Path(value)
    text = str(value)
    if path.exists() or not text or "/" in text or os.sep in text or text.startswith("."):
        return path
    root = Path(os.environ.get(RUNS_ROOT_ENV) or "runs")
    for depth in ("{}", "*/{}", "*/*/{}"):
        found = [p for p in root.glob(depth.format(glob_escape(text))) if p.is_dir()]
        found = [
            p for p in found if not any(part.startswith(".") for part in p.relative_to(root).parts)
        ]
        if len(found) == 1:
            return found[0]
    return path


def glob_escape(text: str) -> str:
    """``text`` with glob's special characters taken literally."""
    import glob

    return glob.escape(text)


def command_overrides(set_: list[str] | None, **options: int | None) -> dict[str, list[str] | int]:
    """What the command line changed in the scenario, for the run's manifest: the ``--set``
    overrides as given (key ``set``) and the options given (``agents``, ``days``, ``seed``)."""
    found: dict[str, list[str] | int] = {k: v for k, v in options.items() if v is not None}
    if set_:
        found = {"set": list(set_), **found}
    return found
