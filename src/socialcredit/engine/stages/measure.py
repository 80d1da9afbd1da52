"""measure: the day's metrics, reduced on the device to one number per (cell, metric).

Agents are laid out by (jurisdiction, group) cell, so each cell is a static slice and its
sums are plain reductions (no scatter, which the GPU serialises on a few addresses).
Counts are int32; sums of scores, risk and wealth are float32. docs/metrics.md defines each.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from socialcredit.compile import Params, Spec
from socialcredit.engine.state import State, Today


def metric_names(spec: Spec) -> list[str]:
    """Names of the raw per-cell measurements, in the order `measure` returns them."""
    B = spec.behaviours
    names = [f"acts.{b}" for b in B] + [f"records.{b}" for b in B]
    names += [f"records_by.{c}" for c in spec.channels]
    names += [f"tier.{t}" for t in range(spec.max_tiers)]
    names += ["false_records", "listed", "newly_listed", "loans_applied", "loans_refused",
              "trips", "trips_blocked", "sanctioned", "score_sum", "risk_sum", "wealth_sum"]
    return names


def _cell_sums(spec: Spec, x: jax.Array) -> jax.Array:
    """Sum of x (first axis = agents) over each cell slice -> [C, ...]."""
    s = spec.cell_starts
    return jnp.stack([x[s[c] : s[c + 1]].sum(axis=0) for c in range(spec.n_cells)])


def measure(spec: Spec, params: Params, state: State, today: Today, newly_listed: jax.Array) -> jax.Array:
    """float32 [C, M] measurements for today (M = len(metric_names(spec)))."""
    B = len(spec.behaviours)
    K = len(spec.channels)
    T = spec.max_tiers
    i32 = jnp.int32
    # one-hot columns, reduced per cell in one pass each
    out_codes = jnp.arange(B, dtype=jnp.uint8)
    acts = (today.outcome[:, None] == out_codes[None, :]).astype(i32)
    rec_b = jnp.where(today.outcome >= B, today.outcome.astype(i32) - B, today.outcome.astype(i32))
    recs = (today.recorded[:, None] & (rec_b[:, None] == jnp.arange(B)[None, :])).astype(i32)
    by_chan = (today.channel[:, None] == jnp.arange(K, dtype=jnp.int8)[None, :]).astype(i32)
    tiers = (today.tier[:, None] == jnp.arange(T, dtype=jnp.uint8)[None, :]).astype(i32)
    flags = jnp.stack(
        [
            today.recorded & (today.outcome >= B) & (today.outcome < 2 * B),
            today.listed,
            newly_listed,
            today.loan_applied,
            today.loan_refused,
            today.travelled,
            today.travel_blocked,
            today.sanctioned,
        ],
        axis=1,
    ).astype(i32)
    counts = jnp.concatenate([acts, recs, by_chan, tiers, flags], axis=1)
    count_sums = _cell_sums(spec, counts).astype(jnp.float32)
    jur = state.jur.astype(i32)
    base = params.base_score[jur] if len(spec.jurisdictions) > 1 else params.base_score[0]
    reals = jnp.stack(
        [
            (today.score.astype(i32) - base).astype(jnp.float32),
            state.risk.astype(jnp.float32),
            state.wealth,
        ],
        axis=1,
    )
    real_sums = _cell_sums(spec, reals)
    return jnp.concatenate([count_sums, real_sums], axis=1)
