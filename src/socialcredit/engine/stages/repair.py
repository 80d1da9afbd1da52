"""repair: clearing negative records, for credit repair and for paying a listed debt.

Credit repair (scs-facts sections 7 and 8: Beijing subway records cleared by volunteering at
stations; credit repair after correction under NDRC Order No. 58): each recorded act of a
programme's repair behaviours clears up to `repair.points` points of the agent's active
negative records. Paying a court-listed debt clears the debt record the same way
(`blacklist.repayment.clears_points`, see `listing.repay`).

Records live summed in expiry buckets (stages/record.py), so a single record cannot be told
apart from others of its bucket: clearing takes points back from buckets whose net points are
negative, oldest first, up to the budget, and never past zero, so repair removes losses and
never turns them into gains. Acts are read from yesterday's carried event word (a one-day lag,
which keeps the day's draws from being fused into these updates, see engine/run.py).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from socialcredit.compile import Params, Spec
from socialcredit.engine.stages.common import by_place, jur_index, lookup2
from socialcredit.engine.state import State, event_field


def repair_budget(spec: Spec, params: Params, state: State) -> jax.Array:
    """int32 points each agent may clear today for yesterday's recorded repairing act."""
    B = len(spec.behaviours)
    outcome = event_field(state.events, "outcome").astype(jnp.int32)
    act = (event_field(state.events, "recorded") == 1) & (outcome < B)
    jur = jur_index(spec, state.jur)
    repairs = act & lookup2(spec, params.repair_mask, jur, jnp.clip(outcome, 0, B - 1))
    return jnp.where(repairs, by_place(spec, params.repair_points, jur), 0).astype(jnp.int32)


def clear_negative(
    spec: Spec, params: Params, day: jax.Array, state: State, budget: jax.Array
) -> tuple[State, jax.Array]:
    """Clear up to ``budget`` points of active negative records per agent, oldest bucket
    first; return the state and the points cleared (int32).

    Run at the start of a day, before `record` lets a bucket expire: the active buckets are
    those of the end of yesterday, the K_j buckets up to (day - 1) // resolution.
    """
    K = spec.buckets
    ref = jnp.maximum(day - 1, 0) // spec.resolution
    K_j = by_place(spec, params.expiry_buckets, jur_index(spec, state.jur))
    left = budget
    ring = state.ring
    for age in reversed(range(K)):  # oldest first
        slot = (ref - age) % K
        row = jax.lax.dynamic_index_in_dim(ring, slot, 0, keepdims=False).astype(jnp.int32)
        fix = jnp.where(age < K_j, jnp.minimum(left, jnp.maximum(-row, 0)), 0)
        left = left - fix
        ring = jax.lax.dynamic_update_index_in_dim(ring, (row + fix).astype(ring.dtype), slot, 0)
    cleared = budget - left
    new = State(**{**state.__dict__, "ring": ring, "raw": state.raw + cleared})
    return new, cleared
