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

from dataclasses import replace

import jax
import jax.numpy as jnp

from socialcredit.compile import Params, Spec
from socialcredit.engine.stages.common import by_place, jur_index, lookup2
from socialcredit.engine.stages.listing import repay
from socialcredit.engine.state import Context, State, Today, event_field


def repair_budget(spec: Spec, params: Params, state: State) -> jax.Array:
    """int32 points each agent may clear today for yesterday's recorded repairing act."""
    B = len(spec.behaviours)
    outcome = event_field(state.events, "outcome").astype(jnp.int32)
    act = (event_field(state.events, "recorded") == 1) & (outcome < B)
    jur = jur_index(spec, state.jur)
    repairs = act & lookup2(spec, params.court.repair_mask, jur, jnp.clip(outcome, 0, B - 1))
    return jnp.where(repairs, by_place(spec, params.court.repair_points, jur), 0).astype(jnp.int32)


def clear_negative(
    spec: Spec, params: Params, day: jax.Array, state: State, budget: jax.Array
) -> tuple[State, jax.Array]:
    """Clear up to ``budget`` points of active negative records per agent, oldest bucket
    first; return the state and the points cleared (int32).

    Run at the start of a day, before `record` lets a bucket expire: the active buckets are
    those of the end of yesterday, the K_j buckets up to (day - 1) // resolution.
    """
    return jax.lax.cond(
        jnp.any(budget > 0),
        lambda st: _clear(spec, params, day, st, budget),
        lambda st: (st, jnp.zeros_like(budget)),
        state,
    )  # most days at small sizes nobody pays or repairs: skip the two ring copies


def _clear(
    spec: Spec, params: Params, day: jax.Array, state: State, budget: jax.Array
) -> tuple[State, jax.Array]:
    K = spec.buckets
    ref = jnp.maximum(day - 1, 0) // spec.resolution
    K_j = by_place(spec, params.expiry_buckets, jur_index(spec, state.jur))
    # row a of `by_age` is the bucket of age a (slot (ref - a) % K), and the same formula maps
    # each slot back to its age: two row gathers of the ring. Measured at 1e6 agents on the
    # 2-core CPU (court-blacklist, one day): updating the ring slot by slot (K dynamic
    # updates) took 236 ms, rotating by slices of a doubled ring 176 ms, these gathers 32 ms.
    perm = (ref - jnp.arange(K, dtype=jnp.int32)) % K
    by_age = jnp.take(state.ring, perm, axis=0)
    left = budget
    rows = [by_age[0]] * K
    for age in reversed(range(K)):  # oldest first
        row = by_age[age].astype(jnp.int32)
        fix = jnp.where(age < K_j, jnp.minimum(left, jnp.maximum(-row, 0)), 0)
        left = left - fix
        rows[age] = (row + fix).astype(state.ring.dtype)
    ring = jnp.take(jnp.stack(rows), perm, axis=0)
    cleared = budget - left
    new = State(**{**state.__dict__, "ring": ring})
    return new, cleared


def settle_debts(ctx: Context, state: State, today: Today) -> tuple[State, Today]:
    """Stage: court-listed debtors pay (and clear the debt record); yesterday's repairing acts
    clear negative records. Before today's records, from the carried state (``today.paid``,
    ``today.repaired``)."""
    spec, params, key, day = ctx.spec, ctx.params, ctx.key, ctx.day
    court = spec.court
    if not court.events2:  # listing grounds only: nothing to pay or repair
        return state, today
    paid = repaired = None
    budget = jnp.zeros(state.events.shape, jnp.int32)
    if court.repayment:
        state, paid, budget = repay(spec, params, key, day, state, today.tipped)
    if court.repair:
        repairing = repair_budget(spec, params, state)
        budget = budget + repairing
    state, cleared = clear_negative(spec, params, day, state, budget)
    if court.repair:
        repaired = (repairing > 0) & (cleared > 0)
    return state, replace(today, paid=paid, repaired=repaired)
