"""Time to first result of the README's main job, `socialcredit run rongcheng`.

Two measurements:
1. The command itself, as a user runs it (a fresh process, compilation included): wall time to
   the first progress update (the first chunk of days done) and to the end, read from a
   timestamped copy of its output.
2. The same job in this process, phase by phase (imports, scenario, compile and simulate,
   tidy metrics, snapshot, credit files, saving), so that the cost outside the per-day step
   is visible.
Prints Markdown tables for docs/performance.md.
Usage: python benchmarks/first_result.py [--preset rongcheng] [--agents N] [--days N]
[--repeats 1] [--phases-only | --command-only]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def command(preset: str, extra: list[str], out: str, cache: str) -> dict:
    """Run the CLI in a fresh process; times to the first progress update and to the end."""
    exe = Path(sys.executable).parent / "socialcredit"
    cmd = [
        str(exe) if exe.exists() else sys.executable,
        *([] if exe.exists() else ["-m", "socialcredit.cli"]),
    ]
    cmd += ["run", preset, "--out", out, *extra]
    env = {**os.environ, "COLUMNS": "120", "FORCE_COLOR": "1", "TERM": "xterm"}  # live bar
    env["SOCIALCREDIT_CACHE"] = cache  # the CLI's persistent compilation cache
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=False, bufsize=0
    )
    first = None
    buf = b""
    assert proc.stdout is not None
    while True:
        chunk = proc.stdout.read1(4096) if hasattr(proc.stdout, "read1") else proc.stdout.read(1)
        if not chunk:
            break
        buf += chunk
        if first is None and b"simulating" in buf:
            first = time.perf_counter() - t0
    rc = proc.wait()
    wall = time.perf_counter() - t0
    if rc != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({rc}):\n{buf.decode(errors='replace')[-2000:]}")
    return {"first_progress_s": first, "wall_s": wall}


def phases(preset: str, agents: int | None, days: int | None, out: str) -> list[tuple[str, float]]:
    """The main job's steps in this process, each timed (the first call compiles)."""
    t = time.perf_counter()
    marks: list[tuple[str, float]] = []

    def mark(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        marks.append((name, now - t))
        t = now

    import jax
    import numpy as np

    mark("import jax")
    from socialcredit import load_scenario
    from socialcredit.compile import compile_scenario
    from socialcredit.engine.run import simulate_arrays
    from socialcredit.results.credit import credit_sample, decode_events
    from socialcredit.results.metrics import tidy_metrics
    from socialcredit.results.snapshot import snapshot
    from socialcredit.results.summary import summarize
    from socialcredit.store import save_run

    mark("import socialcredit (pandas, pyarrow, duckdb, ...)")
    sc = load_scenario(preset, agents=agents, days=days)
    mark("load and validate the scenario")
    spec, params = compile_scenario(sc)
    key = jax.random.key(sc.seed)
    sample = credit_sample(spec.agents)
    mark("compile the scenario (Spec, Params)")
    state, raw, ev, scores, _ = simulate_arrays(spec, params, key, None, None, sample)
    mark(f"simulate {spec.days} days (incl. JIT compile)")
    metrics = tidy_metrics(spec, raw, np.asarray(params.base_score))
    mark("tidy metrics table")
    agents_df = snapshot(spec, state, params, key)
    mark("per-agent snapshot")
    events = decode_events(spec, sc, sample, ev, scores)
    mark("credit-file events of the sample")
    summary = summarize(spec, raw, np.asarray(params.base_score))
    mark("summary")
    from socialcredit.result import Result

    result = Result(sc, metrics, agents_df, summary, {"wall_s": 0.0}, events=events, sample=sample)
    save_run(result, out)
    mark("save the run folder (Parquet, DuckDB)")
    return marks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="rongcheng")
    ap.add_argument("--agents", type=int)
    ap.add_argument("--days", type=int)
    ap.add_argument("--repeats", type=int, default=2, help="runs of the command (first: cold)")
    ap.add_argument("--phases-only", action="store_true")
    ap.add_argument("--command-only", action="store_true")
    a = ap.parse_args()
    extra = []
    if a.agents:
        extra += ["--agents", str(a.agents)]
    if a.days:
        extra += ["--days", str(a.days)]
    print(
        f"machine: {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} CPUs, "
        f"python {platform.python_version()}; date {time.strftime('%Y-%m-%d', time.gmtime())}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        if not a.phases_only:
            print(f"\n`socialcredit run {a.preset} {' '.join(extra)}` in a fresh process\n")
            print("| run | first progress update (s) | wall, to the summary (s) |")
            print("|---|---|---|")
            cache = str(Path(tmp) / "cache")  # empty at first: the first run compiles
            for r in range(a.repeats):
                got = command(a.preset, extra, str(Path(tmp) / f"cmd{r}"), cache)
                fp = got["first_progress_s"]
                run = (
                    "first (compiles; empty cache)" if r == 0 else f"{r + 1} (compiled day cached)"
                )
                fps = f"{fp:.1f}" if fp else "-"
                print(f"| {run} | {fps} | {got['wall_s']:.1f} |", flush=True)
        if not a.command_only:
            print("\nThe same job in one process, phase by phase\n")
            print("| phase | seconds |")
            print("|---|---|")
            marks = phases(a.preset, a.agents, a.days, str(Path(tmp) / "phases"))
            for name, s in marks:
                print(f"| {name} | {s:.2f} |")
            print(f"| total | {sum(s for _, s in marks):.2f} |")


if __name__ == "__main__":
    main()
