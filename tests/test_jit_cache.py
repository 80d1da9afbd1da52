"""The CLI keeps compiled programs on disk, so a second run of the same shape skips compiling."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from socialcredit.jit_cache import cache_dir

ROOT = Path(__file__).resolve().parents[1]


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("SOCIALCREDIT_CACHE", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.setenv("SOCIALCREDIT_CACHE", "off")
    assert cache_dir() is None
    monkeypatch.delenv("SOCIALCREDIT_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "socialcredit" / "jax"


def test_run_writes_the_compiled_day_to_the_cache(tmp_path) -> None:
    cache = tmp_path / "cache"
    env = {**os.environ, "SOCIALCREDIT_CACHE": str(cache), "PYTHONPATH": str(ROOT / "src")}
    cmd = [sys.executable, "-c", "from socialcredit.cli import app; app()", "run", "rongcheng"]
    cmd += ["--agents", "3000", "--days", "10", "-q", "--out", str(tmp_path / "runs")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert any("run_chunk" in p.name for p in cache.iterdir())  # the day's program was kept
