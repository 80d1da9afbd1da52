"""Rich consoles for the command line, capped in width so tables stay readable."""

from __future__ import annotations

from typing import Any

from rich.console import Console


def capped_console(max_width: int = 100, stderr: bool = False, **kw: Any) -> Console:
    """A console no wider than ``max_width`` (or the terminal, if narrower)."""
    con = Console(stderr=stderr, **kw)
    if con.width > max_width:
        con.width = max_width
    return con
