"""Throughput and memory of the engine: agent-days per second for a preset at several sizes.

Steady state: the median of a few chunk calls after the first (which compiles). For each size
also: the first chunk's time (compilation included), bytes of persistent state per agent, the
compiled day's own plan of device memory (arguments + outputs - donated + temporaries, read
from XLA's memory analysis before anything is allocated), and the peak resident memory of
the process. Each size runs in its own process (so peak memory is that size's). Prints a
Markdown table for docs/performance.md.

Usage: python benchmarks/bench_engine.py [--preset xinjiang-informants]
[--agents 100000 1000000 10000000] [--chunk 30] [--repeats 3] [--large 5000000]
[--large-chunk 10] [--large-repeats 1] [--devices N] [--json out.json]
Sizes from --large on run --large-chunk days per chunk and --large-repeats timed chunks
(20 days in all by default), so that 1e7 agents take tens of seconds on the 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time

import jax
import jax.numpy as jnp

from socialcredit import __version__, load_scenario
from socialcredit.compile import compile_scenario
from socialcredit.engine.run import initial_state, run_chunk
from socialcredit.engine.shard import agent_mesh, pad_for
from socialcredit.engine.state import state_bytes_per_agent
from socialcredit.results.credit import credit_sample

RICHEST = "pilots-2021"  # the costliest per agent-day (62 jurisdictions, budgets)


def memory_plan(preset: str, agents: int, chunk: int, devices: int | None = 1) -> dict:
    """Device memory the compiled chunk needs, from XLA before allocating anything."""
    sc = load_scenario(preset, agents=agents, days=chunk * 2)
    spec, params = compile_scenario(sc)
    mesh = agent_mesh(devices)
    spec = pad_for(spec, mesh)
    key = jax.random.key(0)
    state = jax.eval_shape(lambda p, k: initial_state(spec, p, k, mesh=mesh), params, key)
    sample = jnp.zeros(0, jnp.int32)
    compiled = run_chunk.lower(
        spec, chunk, params, state, key, jnp.int32(0), sample, mesh=mesh
    ).compile()
    m = compiled.memory_analysis()
    state_bytes = sum(x.size * x.dtype.itemsize for x in jax.tree_util.tree_leaves(state))
    peak = m.argument_size_in_bytes + m.output_size_in_bytes - m.alias_size_in_bytes
    peak += m.temp_size_in_bytes
    return {
        "state_bytes": state_bytes,
        "state_bytes_per_agent": state_bytes / agents,
        "temp_bytes_per_agent": m.temp_size_in_bytes / agents,
        "device_bytes": peak,
        "device_bytes_per_agent": peak / agents,
    }


def bench(preset: str, agents: int, chunk: int, repeats: int, devices: int | None = 1) -> dict:
    """Steady-state agent-days per second of ``preset`` at ``agents`` agents."""
    sc = load_scenario(preset, agents=agents, days=chunk * (repeats + 1))
    spec, params = compile_scenario(sc)
    mesh = agent_mesh(devices)
    spec = pad_for(spec, mesh)
    key = jax.random.key(0)
    sample = jnp.asarray(credit_sample(agents))
    t0 = time.perf_counter()
    state = initial_state(spec, params, key, mesh=mesh)
    state, (m, *_) = run_chunk(spec, chunk, params, state, key, jnp.int32(0), sample, mesh=mesh)
    m.block_until_ready()
    first = time.perf_counter() - t0
    times = []
    for r in range(repeats):
        t = time.perf_counter()
        state, (m, *_) = run_chunk(
            spec, chunk, params, state, key, jnp.int32(chunk * (r + 1)), sample, mesh=mesh
        )
        m.block_until_ready()
        times.append((time.perf_counter() - t) / chunk)
    per_day = statistics.median(times)
    return {
        "preset": preset,
        "agents": agents,
        "days_timed": chunk * repeats,
        "ms_per_day": per_day * 1e3,
        "agent_days_per_s": agents / per_day,
        "first_chunk_s": first,
        "bytes_per_agent": state_bytes_per_agent(state),
    }


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def machine() -> str:
    dev = jax.devices()[0]
    return (
        f"{platform.machine()} {platform.processor() or ''}, {jax.device_count()} {dev.platform} "
        f"device(s) ({dev.device_kind}); socialcredit {__version__}, jax {jax.__version__}, "
        f"python {platform.python_version()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )


def one(a: argparse.Namespace, n: int) -> dict:
    large = n >= a.large
    chunk = a.large_chunk if large else a.chunk
    repeats = a.large_repeats if large else a.repeats
    r = bench(a.preset, n, chunk, repeats, a.devices)  # first: its first chunk compiles
    r.update(memory_plan(a.preset, n, chunk, a.devices))
    r["peak_rss_bytes"] = peak_rss_bytes()
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default=RICHEST)
    ap.add_argument("--agents", type=float, nargs="+", default=[1e5, 1e6, 1e7])
    ap.add_argument("--chunk", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--large", type=float, default=5e6)
    ap.add_argument("--large-chunk", type=int, default=10)
    ap.add_argument("--large-repeats", type=int, default=1)
    ap.add_argument("--devices", type=int, default=1)
    ap.add_argument("--json", help="also write the rows to this file")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    sizes = [int(n) for n in a.agents]
    if a.child:  # one size in this process; print its row as JSON
        print("ROW " + json.dumps(one(a, sizes[0])), flush=True)
        return
    print(f"machine: {machine()}\n")
    print(
        "| preset | agents | days timed | ms per day | agent-days per second "
        "| first chunk (s, incl. compile) | state bytes/agent | device plan bytes/agent "
        "| peak RSS (GB) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    rows = []
    for n in sizes:
        args = [a for a in sys.argv[1:] if a != "--child"]
        # replace the size list with this one size
        cmd = [sys.executable, __file__, "--child", *strip_agents(args), "--agents", str(n)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"| {a.preset} | {n:,} | failed: {proc.stderr.strip().splitlines()[-1:]} |")
            continue
        r = json.loads([x for x in proc.stdout.splitlines() if x.startswith("ROW ")][-1][4:])
        rows.append(r)
        print(
            f"| {r['preset']} | {n:,} | {r['days_timed']} | {r['ms_per_day']:.1f} "
            f"| {r['agent_days_per_s']:.3g} | {r['first_chunk_s']:.1f} | {r['bytes_per_agent']} "
            f"| {r['device_bytes_per_agent']:.0f} | {r['peak_rss_bytes'] / 1e9:.2f} |",
            flush=True,
        )
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump({"machine": machine(), "rows": rows}, f, indent=1)


def strip_agents(args: list[str]) -> list[str]:
    """The command line without its --agents list (and --json, written by the parent)."""
    out, skip = [], False
    for x in args:
        if x in ("--agents", "--json"):
            skip = True
            continue
        if skip and not x.startswith("--"):
            continue
        skip = False
        out.append(x)
    return out


if __name__ == "__main__":
    main()
