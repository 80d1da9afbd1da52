"""A persistent cache of compiled programs for the command line.

Compiling the day's program is most of the time to first result on a small machine (about 5 s
of the main job's first chunk on the 2-core machine); JAX can keep compiled executables on
disk, keyed by the program, the backend and the flags, so a second run of the same scenario
shape loads it instead. The library (``socialcredit.simulate``) leaves JAX's configuration
alone; the CLI turns the cache on. Each population size compiles its own program (0.3 to 1 MB
on disk); JAX can bound the folder (`jax_compilation_cache_max_size`) only with the `filelock`
package, which is not a dependency, so the folder is left unbounded: delete it to reclaim space.

A damaged entry (a disk error, a killed writer on a file system without atomic renames, a
file edited by hand) is not fatal: JAX warns and compiles again, but it never overwrites an
entry that exists, so the warning came back on every run. `enable_compile_cache` therefore
watches for that warning: it removes the damaged program's entries before JAX writes the
fresh one, so the fresh compilation replaces the entry, and prints one line saying so.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

ENV = "SOCIALCREDIT_CACHE"  # a folder, or "off"
# JAX's warning for an entry it could not read: "...entry for '<program or key>': <error>"
READ_ERROR = "Error reading persistent compilation cache entry for '"


def cache_dir() -> Path | None:
    """Where compiled programs are kept: $SOCIALCREDIT_CACHE, else the user's cache folder."""
    value = os.environ.get(ENV, "")
    if value.lower() in ("0", "off", "no", "false"):
        return None
    if value:
        return Path(value)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "socialcredit" / "jax"


def enable_compile_cache() -> Path | None:
    """Turn on JAX's persistent compilation cache (before the first compilation)."""
    folder = cache_dir()
    if folder is None:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # an unwritable home: run without the cache
        return None
    import jax

    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    _repair_damaged_entries(folder)
    return folder


def remove_entries(folder: Path, name: str) -> list[Path]:
    """Remove the cache files of program ``name`` (``jit_run_chunk``, or a whole cache key):
    every ``<name>-*`` file, whichever shape it was compiled for. Returns what was removed."""
    removed = []
    if not name or "/" in name or name.startswith("."):
        return removed
    for path in folder.glob(f"{name}-*"):
        try:
            path.unlink()
            removed.append(path)
        except FileNotFoundError:  # another process removed it first
            pass
        except OSError:  # unwritable: JAX keeps warning, the run goes on
            pass
    return removed


def _repair_damaged_entries(folder: Path) -> None:
    """On JAX's "Error reading persistent compilation cache entry" warning, remove that
    program's entries (JAX then writes the program it is compiling anyway in their place) and
    say so in one line instead of the warning. Installed once per process."""
    current = warnings.showwarning
    if getattr(current, "_socialcredit_repair", False):
        return
    warnings.filterwarnings("always", message=f"^{READ_ERROR[:20]}", category=UserWarning)

    def showwarning(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001
        text = str(message)
        if text.startswith(READ_ERROR):
            name = text[len(READ_ERROR) :].split("'", 1)[0]
            remove_entries(folder, name)
            print(
                f"note: the compile cache entry for {name} in {folder} was damaged; "
                "compiled again and replaced",
                file=sys.stderr,
            )
            return
        current(message, category, filename, lineno, file, line)

    showwarning._socialcredit_repair = True  # type: ignore[attr-defined]
    warnings.showwarning = showwarning
