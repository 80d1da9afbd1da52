"""Peak host memory of `socialcredit run` at two sizes per preset, and a line fitted to each.

Each run is a subprocess (`socialcredit run PRESET --agents N --days 30 --quiet`); its peak
resident set is the kernel's ru_maxrss for that one child (``os.wait4``). Two sizes give each
preset an intercept (Python, JAX, XLA and the compiled program) and a slope (bytes per agent:
the engine's state and the day's temporaries on the CPU, plus the per-agent snapshot). Runs
are made with the snapshot on (the default) and off (``--set record.snapshot=false``), so the
snapshot's share of the slope is measured too. The memory guard's figures in
src/socialcredit/memory.py are meant to be the largest slopes plus a margin; rerun this after a
change to the engine's state or the snapshot (and update the table in docs/reliability.md).

Sizes matter: at 100,000 and 400,000 agents (2026-11-28) the per-agent part of the peak was
30 to 130 MB, no larger than the run-to-run variation of the fixed part (compiling, XLA's
thread pools, the allocator), and the slopes ranged from -183 to 447 bytes per agent: noise,
not a fit. The defaults are therefore 1 and 3 million agents, where the per-agent part is
gigabytes.

    PYTHONPATH=src python benchmarks/memory_fit.py                 # 4 presets, 1M and 3M agents
    PYTHONPATH=src python benchmarks/memory_fit.py --sizes 50000 200000 --presets rongcheng
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile

import numpy as np

PRESETS = ("rongcheng", "xinjiang-informants", "pilots-2021", "corporate")
CLI = "import sys; from socialcredit.cli import app; sys.argv[0] = 'socialcredit'; app()"


def peak_rss(preset: str, agents: int, days: int, snapshot: bool) -> int:
    """Peak resident bytes of one `socialcredit run` in a child process."""
    with tempfile.TemporaryDirectory() as out:
        args = [sys.executable, "-c", CLI, "run", preset, "--agents", str(agents)]
        args += ["--days", str(days), "--quiet", "--out", out]
        if not snapshot:
            args += ["--set", "record.snapshot=false"]
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode() if proc.stderr else ""
        if proc.returncode != 0:
            raise RuntimeError(f"{preset} at {agents:,} agents exited {proc.returncode}: {err}")
    return usage.ru_maxrss * 1024  # kilobytes on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", nargs="+", default=list(PRESETS))
    ap.add_argument("--sizes", nargs="+", type=int, default=[1_000_000, 3_000_000])
    ap.add_argument("--snapshot", choices=["both", "on", "off"], default="both")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--margin", type=float, default=0.15)
    a = ap.parse_args()
    sizes = sorted(a.sizes)
    modes = {"both": (True, False), "on": (True,), "off": (False,)}[a.snapshot]
    rows = []
    for preset in a.presets:
        for snapshot in modes:
            peaks = [peak_rss(preset, n, a.days, snapshot) for n in sizes]
            slope, intercept = np.polyfit(sizes, peaks, 1)  # least squares (exact for two)
            row = {"preset": preset, "snapshot": snapshot}
            row |= {f"peak_{n}": p for n, p in zip(sizes, peaks, strict=True)}
            row |= {"intercept_bytes": round(intercept), "bytes_per_agent": round(slope, 1)}
            rows.append(row)
            shown = "  ".join(
                f"{p / 2**20:6.0f} MiB at {n:,}" for n, p in zip(sizes, peaks, strict=True)
            )
            print(
                f"{preset:20} snapshot={'on ' if snapshot else 'off'} {shown}  "
                f"intercept {intercept / 1e9:5.2f} GB  slope {slope:6.1f} B/agent",
                flush=True,
            )
    on = {r["preset"]: r for r in rows if r["snapshot"]}
    off = {r["preset"]: r for r in rows if not r["snapshot"]}
    m = 1 + a.margin
    if on:
        top = max(r["bytes_per_agent"] for r in on.values())
        print(f"largest slope, snapshot on: {top:.0f} B/agent; x{m:.2f}: {top * m:.0f}")
    if off:
        engine = max(r["bytes_per_agent"] for r in off.values())
        print(f"largest slope, snapshot off (the engine): {engine:.0f} B/agent; "
              f"x{m:.2f}: {engine * m:.0f}")  # fmt: skip
    both = [p for p in on if p in off]
    if both:
        snap = max(on[p]["bytes_per_agent"] - off[p]["bytes_per_agent"] for p in both)
        print(f"largest snapshot share: {snap:.0f} B/agent; x{m:.2f}: {snap * m:.0f}")
    print(f"largest intercept: {max(r['intercept_bytes'] for r in rows) / 1e9:.2f} GB")
    print(
        "RESULT "
        + json.dumps(
            {
                "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores",
                "date": dt.date.today().isoformat(),
                "days": a.days,
                "rows": rows,
            }
        )
    )


if __name__ == "__main__":
    main()
