"""record: file today's records in the credit file, and let old records expire.

Records live in a ring of K buckets of `resolution` days (int16 points per bucket and agent),
plus their running sum `raw`. When a new bucket begins, each agent loses the bucket that has
just passed its programme's expiry. A record made on day d therefore stops counting between
expiry - resolution + 1 and expiry days later (exactly `expiry` days when resolution is 1).
"""

from __future__ import annotations

from dataclasses import replace

import jax
import jax.numpy as jnp

from socialcredit import rng
from socialcredit.compile import Params, Spec
from socialcredit.engine.stages.common import by_place, jur_index, lookup2
from socialcredit.engine.state import Context, State, Today, event_field


def expire(spec: Spec, params: Params, day: jax.Array, state: State) -> State:
    """At the start of a bucket, drop the bucket each agent's programme no longer counts."""
    K = spec.buckets
    bucket = day // spec.resolution

    def drop(s: State) -> State:
        if len(spec.jurisdictions) == 1:  # every agent's oldest bucket is the one reused now
            ring = jax.lax.dynamic_update_index_in_dim(
                s.ring, jnp.zeros(s.ring.shape[1:], s.ring.dtype), bucket % K, 0
            )
        else:  # places keep records for different times: zero each agent's expired bucket
            old = (bucket - params.expiry_buckets[s.jur.astype(jnp.int32)]) % K
            slots = jnp.arange(K, dtype=jnp.int32)[:, None]
            ring = jnp.where(slots == old[None, :], jnp.zeros((), s.ring.dtype), s.ring)
        return State(**{**s.__dict__, "ring": ring})

    return jax.lax.cond((day % spec.resolution == 0) & (day > 0), drop, lambda s: s, state)


def false_active(day: jax.Array, state: State) -> jax.Array:
    """Whether each agent's latest false record still counts."""
    return day < state.false_until.astype(jnp.int32)


def remember_false(spec: Spec, params: Params, day: jax.Array, state: State) -> State:
    """Remember yesterday's false record, if any, with the day it stops counting.

    Read from the carried event word rather than from today's draws, which keeps the long
    behave/observe chain from being fused into (and recomputed by) these updates.
    """
    B = len(spec.behaviours)
    outcome = event_field(state.events, "outcome").astype(jnp.int32)
    false = (event_field(state.events, "recorded") == 1) & (outcome >= B) & (outcome < 2 * B)
    jur = jur_index(spec, state.jur)
    points = lookup2(spec, params.points, jur, jnp.clip(outcome - B, 0, B - 1)).astype(jnp.int16)
    K = by_place(spec, params.expiry_buckets, jur)
    made = day - 1
    until = ((made // spec.resolution + K) * spec.resolution).astype(jnp.int16)
    new = {"false_until": jnp.where(false, until, state.false_until)}
    if spec.appeals is not None:  # the points are needed only to undo the record on appeal
        new["false_pts"] = jnp.where(false, points, state.false_pts)
    return State(**{**state.__dict__, **new})


def appeal(
    spec: Spec, params: Params, key: jax.Array, day: jax.Array, state: State
) -> tuple[State, jax.Array]:
    """Appeals against false records: while an agent's latest false record counts, its appeal
    is decided and upheld each day with chance upheld / delay_days (so decisions take
    delay_days on average); an upheld appeal removes the record's points from its bucket and
    from the score. Only the latest false record of an agent is tracked, so an earlier one
    within its expiry is not corrected. Returns the state and who won an appeal today."""
    if spec.appeals is not None:
        return _decide_appeals(spec, params, key, day, state)
    return state, jnp.zeros(state.events.shape, bool)


def _decide_appeals(
    spec: Spec, params: Params, key: jax.Array, day: jax.Array, state: State
) -> tuple[State, jax.Array]:
    (word,) = rng.agent_words(
        rng.stage_seeds(key, day, rng.APPEALS, 1), jnp.arange(spec.padded, dtype=jnp.uint32), 1
    )
    jur = jur_index(spec, state.jur)
    rate = by_place(spec, params.appeals.rate, jur)
    won = false_active(day, state) & (word < rng.threshold(rate))
    pts = jnp.where(won, state.false_pts, jnp.int16(0))
    K_j = by_place(spec, params.expiry_buckets, jur)
    slot = (state.false_until.astype(jnp.int32) // spec.resolution - K_j) % spec.buckets
    rows = [
        state.ring[k] - jnp.where(slot == k, pts, 0).astype(state.ring.dtype)
        for k in range(spec.buckets)
    ]
    new = State(
        **{
            **state.__dict__,
            "ring": jnp.stack(rows),
            "false_until": jnp.where(won, jnp.int16(0), state.false_until),
        }
    )
    return new, won


def record(spec: Spec, params: Params, day: jax.Array, state: State, points: jax.Array) -> State:
    """Add today's points to the current bucket and the running sum."""
    state = expire(spec, params, day, state)
    slot = (day // spec.resolution) % spec.buckets
    row = jax.lax.dynamic_index_in_dim(state.ring, slot, 0, keepdims=False)
    ring = jax.lax.dynamic_update_index_in_dim(state.ring, row + points.astype(row.dtype), slot, 0)
    return State(**{**state.__dict__, "ring": ring})


def review(ctx: Context, state: State, today: Today) -> tuple[State, Today]:
    """Stage: remember yesterday's false record, then decide today's appeals
    (``today.appealed``)."""
    state = remember_false(ctx.spec, ctx.params, ctx.day, state)
    state, appealed = appeal(ctx.spec, ctx.params, ctx.key, ctx.day, state)
    return state, replace(today, appealed=appealed)


def file_records(ctx: Context, state: State, today: Today) -> tuple[State, Today]:
    """Stage: today's records, and the points paid to informants (``today.reward``), into the
    credit file."""
    points = today.points if today.reward is None else today.points + today.reward
    return record(ctx.spec, ctx.params, ctx.day, state, points), today
