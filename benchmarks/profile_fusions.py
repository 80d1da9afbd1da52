"""Where the scanned day's time goes, fusion by fusion, and which source lines each one runs.

`profile_day.py` times stages compiled alone; this profiles the real program (a chunk of days
in `lax.scan`) with `jax.profiler`, whose trace on the CPU records every XLA fusion it runs,
and reads XLA's optimised HLO (dumped with `--xla_dump_to`) to name the source lines of the
operations fused into the costliest ones. A stage whose lines appear in several costly fusions
is being recomputed by each of them (docs/performance.md, "The day's acts computed once").

Usage: python benchmarks/profile_fusions.py [--preset rongcheng] [--agents 1000000] [--top 12]
"""

from __future__ import annotations

import argparse
import collections
import glob
import gzip
import json
import os
import re
import tempfile


def source_lines(hlo_text: str, fusion: str, top: int = 6) -> list[tuple[int, str]]:
    """(count, "file:line(function)") of the operations fused into ``fusion``, most first."""
    lines = hlo_text.splitlines()
    tables: dict[str, dict] = {s: {} for s in ("FileNames", "FunctionNames", "FileLocations")}
    frames: dict[str, tuple[str, str]] = {}
    section = None
    for ln in lines:
        if ln in (*tables, "StackFrames"):
            section = ln
            continue
        if section and not ln.strip():
            section = None
        elif section in ("FileNames", "FunctionNames"):
            i, name = ln.split(" ", 1)
            tables[section][i] = name.strip('"').rsplit("/", 1)[-1]
        elif section == "FileLocations":
            m = re.match(r"(\d+) \{file_name_id=(\d+) function_name_id=(\d+) line=(\d+)", ln)
            if m:
                f, fn = tables["FileNames"][m[2]], tables["FunctionNames"][m[3]]
                tables[section][m[1]] = f"{f}:{m[4]}({fn})"
        elif section == "StackFrames":
            m = re.match(r"(\d+) \{file_location_id=(\d+) parent_frame_id=(\d+)", ln)
            if m:
                frames[m[1]] = (m[2], m[3])
    call = next((ln for ln in lines if re.search(rf"\s%{re.escape(fusion)} = ", ln)), None)
    if call is None:
        return []
    m = re.search(r"calls=%([\w.\-]+)", call)
    body, inside = [call], False
    if m:
        body = []
        for ln in lines:
            if ln.startswith(f"%{m[1]} "):
                inside = True
            elif inside and ln.startswith("}"):
                break
            elif inside:
                body.append(ln)
    count: collections.Counter = collections.Counter()
    for ln in body:
        f = re.search(r"stack_frame_id=(\d+)", ln)
        if f and f[1] in frames:
            count[tables["FileLocations"].get(frames[f[1]][0], "?")] += 1
    return [(c, k) for k, c in count.most_common(top)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="rongcheng")
    ap.add_argument("--agents", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=10, help="days in the profiled chunk")
    ap.add_argument("--top", type=int, default=12)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="socialcredit-profile-")
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "")
        + f" --xla_dump_to={work}/hlo --xla_dump_hlo_as_text --xla_dump_hlo_pass_re=NONE"
    )
    import jax  # after XLA_FLAGS
    import jax.numpy as jnp

    from socialcredit import load_scenario
    from socialcredit.compile import compile_scenario
    from socialcredit.engine.run import initial_state, run_chunk

    spec, params = compile_scenario(load_scenario(a.preset, agents=a.agents, days=4 * a.days))
    key = jax.random.key(0)
    state = initial_state(spec, params, key)
    none = jnp.zeros(0, jnp.int32)
    chunk = jax.jit(
        lambda p, s, d: run_chunk(spec, a.days, p, s, key, d, none), donate_argnums=(1,)
    )
    for d in (0, a.days):  # compile, then one warm chunk
        state, _ = chunk(params, state, jnp.int32(d))
    jax.block_until_ready(state)
    jax.profiler.start_trace(f"{work}/trace")
    state, out = chunk(params, state, jnp.int32(2 * a.days))
    jax.block_until_ready((state, out))
    jax.profiler.stop_trace()

    trace = json.load(gzip.open(glob.glob(f"{work}/trace/**/*.trace.json.gz", recursive=True)[0]))
    total: collections.Counter = collections.Counter()
    for e in trace["traceEvents"]:
        name = e.get("name", "")
        if e.get("ph") == "X" and not name.startswith(("Thunk", "$", "while")):
            total[name] += e["dur"]
    hlo_files = glob.glob(f"{work}/hlo/*run_chunk*cpu_after_optimizations.txt") or glob.glob(
        f"{work}/hlo/*lambda*cpu_after_optimizations.txt"
    )
    hlo = open(max(hlo_files, key=os.path.getsize)).read() if hlo_files else ""
    print(f"{a.preset}, {a.agents:,} agents, {jax.devices()[0]}; ms per day by fusion")
    print("(a conditional is listed beside the fusions it runs: their times overlap)\n")
    for name, us in total.most_common(a.top):
        print(f"{us / 1000 / a.days:8.2f} ms  {name}")
        for c, where in source_lines(hlo, name, 4):
            print(f"{'':14}{c:4d} ops from {where}")
    print(f"\ntrace and HLO in {work}")


if __name__ == "__main__":
    main()
