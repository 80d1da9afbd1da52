"""What the reproduced theory says about a credit authority (docs/science.md, last section):
the institution's quorum Q and strictness q under a scoring-like rule, on the engine.

``python -m socialcredit.science.implications`` prints the table the docs quote."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from socialcredit.engine import cooperation as co
from socialcredit.science import theory

SHARES = (0.05, 0.05, 0.90)  # a few unconditional helpers and refusers among discriminators


def trap(norm: str, observers: int, strictness: float, start_good: bool, agents=20_000, days=200):
    """(broadcast good share, cooperation) on the engine after ``days``, everyone starting
    good or everyone starting blacklisted; and the closed form's fixed point from the same
    start."""
    spec = co.CoopSpec(agents=agents, mode="public", observers=observers)
    p = co.make_params(norm, strictness=strictness)
    st = co.initial(spec, jax.random.key(0), SHARES)
    if not start_good:
        st = co.CoopState(st.strategy, jnp.zeros_like(st.view), st.payoff, st.given, st.board)
    _, m = co.run_jit(spec, p, jax.random.key(1), st, days)
    m = np.asarray(m)[-50:].mean(0)
    closed = _closed(norm, observers, strictness, 1.0 if start_good else 0.0)
    return float(m[10]), float(m[9]), closed


def _closed(norm, observers, strictness, start):
    """The institution equations iterated from broadcast good share ``start``."""
    good = np.asarray(co.NORMS[norm][0][4:], float)
    r = 0.98 * good + 0.02 * (1 - good)
    cg, cb = 0.98 * r[3] + 0.02 * r[2], 0.98 * r[1] + 0.02 * r[0]
    k = int(np.floor(strictness * observers)) + 1
    big = start
    for _ in range(5000):
        p = [big * cg + (1 - big) * cb, big * r[2] + (1 - big) * r[0], big * cg + (1 - big) * r[0]]
        big = sum(f * theory.binom_tail(observers, x, k) for f, x in zip(SHARES, p, strict=True))
    return big


def main() -> None:
    print("norm, Q, q, start: engine good share, engine cooperation, closed form")
    for norm in ("scoring", "stern_judging"):
        for q_obs, q in ((1, 0.5), (5, 0.5), (5, 0.7), (5, 0.9), (11, 0.9)):
            for start in (True, False):
                g, c, closed = trap(norm, q_obs, q, start)
                s = "all good" if start else "all blacklisted"
                print(f"{norm}, Q={q_obs}, q={q}, {s}: {g:.4f}, {c:.4f}, {closed:.4f}")


if __name__ == "__main__":
    main()
