"""record: file today's records in the credit file, and let old records expire.

Records live in a ring of K buckets of `resolution` days (int16 points per bucket and agent),
plus their running sum `raw`. When a new bucket begins, each agent loses the bucket that has
just passed its programme's expiry. A record made on day d therefore stops counting between
expiry - resolution + 1 and expiry days later (exactly `expiry` days when resolution is 1).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from socialcredit.compile import Params, Spec
from socialcredit.engine.state import State


def expire(spec: Spec, params: Params, day: jax.Array, state: State) -> State:
    """At the start of a bucket, drop the bucket each agent's programme no longer counts."""
    K = spec.buckets
    bucket = day // spec.resolution

    def drop(s: State) -> State:
        if len(spec.jurisdictions) == 1:
            old = (bucket - params.expiry_buckets[0]) % K
            lost = jax.lax.dynamic_index_in_dim(s.ring, old, 0, keepdims=False)
        else:
            old = (bucket - params.expiry_buckets[s.jur.astype(jnp.int32)]) % K
            lost = jnp.take_along_axis(s.ring, old[None, :], axis=0)[0]
        raw = s.raw - lost.astype(jnp.int32)
        ring = jax.lax.dynamic_update_index_in_dim(
            s.ring, jnp.zeros(s.ring.shape[1:], s.ring.dtype), bucket % K, 0
        )
        return State(**{**s.__dict__, "raw": raw, "ring": ring})

    return jax.lax.cond((day % spec.resolution == 0) & (day > 0), drop, lambda s: s, state)


def record(spec: Spec, params: Params, day: jax.Array, state: State, points: jax.Array) -> State:
    """Add today's points to the current bucket and the running sum."""
    state = expire(spec, params, day, state)
    slot = (day // spec.resolution) % spec.buckets
    row = jax.lax.dynamic_index_in_dim(state.ring, slot, 0, keepdims=False)
    ring = jax.lax.dynamic_update_index_in_dim(state.ring, row + points.astype(row.dtype), slot, 0)
    return State(**{**state.__dict__, "raw": state.raw + points.astype(jnp.int32), "ring": ring})
