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


def test_run_writes_the_compiled_day_to_the_cache_and_replaces_a_damaged_entry(tmp_path) -> None:
    cache = tmp_path / "cache"
    env = {**os.environ, "SOCIALCREDIT_CACHE": str(cache), "PYTHONPATH": str(ROOT / "src")}
    cmd = [sys.executable, "-c", "from socialcredit.cli import app; app()", "run", "rongcheng"]
    cmd += ["--agents", "500", "--days", "5", "-q", "--out", str(tmp_path / "runs")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    entries = sorted(cache.iterdir())
    assert any("run_chunk" in p.name for p in entries)  # the day's program was kept
    garbage = b"not a compiled program" * 3
    for entry in entries:  # issue 18: damaged entries are replaced, not fatal, not kept
        entry.write_bytes(garbage)
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and "UserWarning" not in proc.stderr
    assert "compile cache entry for jit_run_chunk" in proc.stderr and "replaced" in proc.stderr
    replaced = [p for p in cache.iterdir() if "run_chunk" in p.name]
    assert replaced and all(p.read_bytes() != garbage for p in replaced)


def test_remove_entries_keeps_to_the_program_named(tmp_path) -> None:
    from socialcredit.jit_cache import remove_entries

    for name in ("jit_run_chunk-aa-cache", "jit_run_chunk-bb-cache", "jit_run-cc-cache"):
        (tmp_path / name).write_bytes(b"x")
    assert len(remove_entries(tmp_path, "jit_run_chunk")) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["jit_run-cc-cache"]
    assert remove_entries(tmp_path, "../x") == [] and remove_entries(tmp_path, "") == []
