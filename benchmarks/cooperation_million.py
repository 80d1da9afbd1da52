"""The cooperation step (engine/cooperation.py) at a million agents, public mode (issue 17).

    PYTHONPATH=src python benchmarks/cooperation_million.py

Prints seconds per step for an institution of 1 and of 5 observers (docs/science.md quotes
it). Not a test: speed is measured here, never asserted.
"""

from __future__ import annotations

import time

import jax
import numpy as np

from socialcredit.engine import cooperation as co

N, STEPS = 1_000_000, 10


def per_step(observers: int) -> float:
    spec = co.CoopSpec(
        agents=N, mode="public", observers=observers, imitations=10_000, mutations=10_000
    )
    p = co.make_params("stern_judging", mutation=0.01)
    st = co.initial(spec, jax.random.key(0), (0.1, 0.1, 0.8))
    jax.block_until_ready(co.run_jit(spec, p, jax.random.key(1), st, STEPS))  # compile
    t = time.perf_counter()
    _, m = co.run_jit(spec, p, jax.random.key(2), st, STEPS)
    jax.block_until_ready(m)
    print(f"  good share after {STEPS} steps: {np.asarray(m)[-1, 10]:.4f}")
    return (time.perf_counter() - t) / STEPS


if __name__ == "__main__":
    for q in (1, 5):
        print(f"{N:,} agents, public, Q={q}: {per_step(q):.3f} s a step")
