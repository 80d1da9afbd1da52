"""Per-place parameters on the CPU: separate gathers of small tables against one row gather.

With 62 jurisdictions each per-agent lookup of a per-place table is a gather, which XLA's CPU
backend materialises. This times 20 such lookups over 1e6 agents (sorted by place, as the
engine lays them out), done as 20 separate gathers and as one gather of the stacked [J, 20]
table, [N, 20] or [20, N] (docs/performance.md, the 1e8 target).

Usage: python benchmarks/micro_gathers.py [--agents 1000192] [--places 62] [--tables 20]
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=1_000_192)
    ap.add_argument("--places", type=int, default=62)
    ap.add_argument("--tables", type=int, default=20)
    a = ap.parse_args()
    n, J, P = a.agents, a.places, a.tables
    rng = np.random.default_rng(0)
    jur = jnp.asarray(np.sort(rng.integers(0, J, n)).astype(np.uint8))
    tabs = jnp.asarray(rng.random((P, J)).astype(np.float32))
    x = jnp.asarray(rng.random(n).astype(np.float32))

    def chain(x, col):  # each table used twice, as a stage's rates would
        acc = x
        for p in range(P):
            acc = acc * col(p) + col((p + 1) % P)
        return acc

    def separate(t, j, x):  # arrays as arguments: closed over, they become constants
        ji = j.astype(jnp.int32)
        return chain(x, lambda p: t[p][ji])

    def rows(t, j, x):
        r = t.T[j.astype(jnp.int32)]  # [N, P]
        return chain(x, lambda p: r[:, p])

    def columns(t, j, x):
        r = jnp.take(t, j.astype(jnp.int32), axis=1)  # [P, N]
        return chain(x, lambda p: r[p])

    print(f"{n:,} agents, {J} places, {P} tables, {jax.devices()[0]}")
    ref = None
    for f in (separate, rows, columns):
        g = jax.jit(f)
        out = g(tabs, jur, x).block_until_ready()
        ref = out if ref is None else ref
        assert np.allclose(out, ref)
        ts = []
        for _ in range(5):
            t0 = time.perf_counter()
            g(tabs, jur, x).block_until_ready()
            ts.append(time.perf_counter() - t0)
        print(f"{f.__name__:9s} {min(ts) * 1e3:7.2f} ms (best of 5)")


if __name__ == "__main__":
    main()
