"""Throughput of the engine: agent-days per second for a preset at several sizes.

Steady state: the median of a few chunk calls after the first (which compiles). Also reports
the time to first result and persistent state bytes per agent. Prints a Markdown table for
docs/performance.md. Usage: python benchmarks/bench_engine.py [--preset rongcheng]
[--agents 100000 1000000] [--chunk 30] [--repeats 3]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import jax
import jax.numpy as jnp

from socialcredit import load_scenario
from socialcredit.compile import compile_scenario
from socialcredit.credit import credit_sample
from socialcredit.engine.run import initial_state, run_chunk
from socialcredit.engine.state import state_bytes_per_agent


def bench(preset: str, agents: int, chunk: int, repeats: int) -> dict:
    sc = load_scenario(preset, agents=agents, days=chunk * (repeats + 1))
    spec, params = compile_scenario(sc)
    key = jax.random.key(0)
    sample = jnp.asarray(credit_sample(agents))
    t0 = time.perf_counter()
    state = initial_state(spec, params, key)
    state, (m, *_) = run_chunk(spec, chunk, params, state, key, jnp.int32(0), sample)
    m.block_until_ready()
    first = time.perf_counter() - t0
    times = []
    for r in range(repeats):
        t = time.perf_counter()
        state, (m, *_) = run_chunk(
            spec, chunk, params, state, key, jnp.int32(chunk * (r + 1)), sample
        )
        m.block_until_ready()
        times.append((time.perf_counter() - t) / chunk)
    per_day = statistics.median(times)
    return {
        "preset": preset,
        "agents": agents,
        "ms_per_day": per_day * 1e3,
        "agent_days_per_s": agents / per_day,
        "first_chunk_s": first,
        "bytes_per_agent": state_bytes_per_agent(state),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--preset", default="rongcheng")
    ap.add_argument("--agents", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--chunk", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    dev = jax.devices()[0]
    print(
        f"machine: {platform.machine()} {platform.processor() or ''}, {jax.device_count()} {dev.platform} "
        f"device(s) ({dev.device_kind}), jax {jax.__version__}, python {platform.python_version()}"
    )
    print()
    print(
        "| preset | agents | ms per day | agent-days per second | first chunk (s, incl. compile) | state bytes/agent |"
    )
    print("|---|---|---|---|---|---|")
    for n in a.agents:
        r = bench(a.preset, n, a.chunk, a.repeats)
        print(
            f"| {r['preset']} | {n:.0e} | {r['ms_per_day']:.2f} | {r['agent_days_per_s']:.3g} | "
            f"{r['first_chunk_s']:.1f} | {r['bytes_per_agent']} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
