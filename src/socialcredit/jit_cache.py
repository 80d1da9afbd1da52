"""A persistent cache of compiled programs for the command line.

Compiling the day's program is most of the time to first result on a small machine (about 5 s
of the main job's first chunk on the 2-core machine); JAX can keep compiled executables on
disk, keyed by the program, the backend and the flags, so a second run of the same scenario
shape loads it instead. The library (``socialcredit.simulate``) leaves JAX's configuration
alone; the CLI turns the cache on. Each population size compiles its own program (0.3 to 1 MB
on disk); JAX can bound the folder (`jax_compilation_cache_max_size`) only with the `filelock`
package, which is not a dependency, so the folder is left unbounded: delete it to reclaim space.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "SOCIALCREDIT_CACHE"  # a folder, or "off"


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
    return folder
