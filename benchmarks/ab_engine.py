"""Speed of two versions of the engine, side by side in one run (before and after a change).

Each version is a git revision checked out in a temporary worktree (or a folder holding a
checkout); both are timed with their own `benchmarks/bench_engine.py::bench` (so a change of
internal interfaces between them does not matter), alternately, in fresh processes, for
several rounds, so that drift of the machine's speed falls on both alike. Prints a Markdown
table: median ms per day of each, and the ratio after / before with the spread of the rounds.

Usage: python benchmarks/ab_engine.py --before REV [--after REV_OR_DIR] [--presets rongcheng
pilots-2021] [--agents 1e6] [--rounds 3] [--chunk 10] [--repeats 3] [--json out.json]
(--after defaults to this checkout's working tree.)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("bench_engine", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
row = mod.bench(sys.argv[2], int(float(sys.argv[3])), int(sys.argv[4]), int(sys.argv[5]))
print("ROW " + json.dumps(row), flush=True)
"""


def checkout(rev_or_dir: str, tmp: Path) -> Path:
    """A folder holding the version: the folder itself, or a detached worktree of the rev."""
    if Path(rev_or_dir).is_dir():
        return Path(rev_or_dir).resolve()
    where = tmp / rev_or_dir.replace("/", "_")
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(where), rev_or_dir],
        check=True,
    )
    return where


def time_once(tree: Path, preset: str, agents: float, chunk: int, repeats: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    script = str(tree / "benchmarks" / "bench_engine.py")
    args = [script, preset, str(agents), str(chunk), str(repeats)]
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, *args], capture_output=True, text=True, env=env, cwd=tree
    )
    if proc.returncode != 0:
        sys.exit(f"{tree}: {preset} failed:\n{proc.stderr[-2000:]}")
    return json.loads([x for x in proc.stdout.splitlines() if x.startswith("ROW ")][-1][4:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", default=str(ROOT))
    ap.add_argument("--presets", nargs="+", default=["rongcheng", "pilots-2021"])
    ap.add_argument("--agents", type=float, default=1e6)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--chunk", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ab-engine-") as tmp:
        trees = {"before": checkout(a.before, Path(tmp)), "after": checkout(a.after, Path(tmp))}
        try:
            rows = []
            for preset in a.presets:
                ms: dict[str, list[float]] = {"before": [], "after": []}
                for r in range(a.rounds):
                    order = ("before", "after") if r % 2 == 0 else ("after", "before")
                    for side in order:
                        row = time_once(trees[side], preset, a.agents, a.chunk, a.repeats)
                        ms[side].append(row["ms_per_day"])
                ratios = [x / y for x, y in zip(ms["after"], ms["before"], strict=True)]
                rows.append({"preset": preset, "agents": a.agents, **ms, "ratios": ratios})
        finally:
            for side in ("before", "after"):
                if Path(tmp) in trees[side].parents:
                    subprocess.run(
                        ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(trees[side])]
                    )
    print(f"before: {a.before}; after: {a.after}; {a.rounds} rounds, alternating\n")
    print("| preset | agents | before ms/day (median) | after ms/day (median) | after / before |")
    print("|---|---|---|---|---|")
    for r in rows:
        b, f = statistics.median(r["before"]), statistics.median(r["after"])
        lo, hi = min(r["ratios"]), max(r["ratios"])
        print(
            f"| {r['preset']} | {r['agents']:,.0f} | {b:.1f} | {f:.1f} "
            f"| {statistics.median(r['ratios']):.3f} ({lo:.3f} to {hi:.3f}) |"
        )
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
