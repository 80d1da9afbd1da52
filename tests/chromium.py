"""Debian's Chromium for the browser tests (the report page, the dashboard): where it is and
the flags it needs on a machine with no network (no background connections, no sandbox as
root, a fresh profile per launch)."""

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
