"""observe: which acts the authority learns of, and through which channel.

An act of behaviour b is recorded with the chance that at least one of the programme's
channels covering b catches it; the record is credited to the first channel (in scenario
order) that does. False records (drawn in `behave`) are credited to a channel in proportion
to its false-positive rate. One random word per agent decides both.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from socialcredit import rng
from socialcredit.compile import Params, Spec
from socialcredit.engine.stages.common import jur_index, lookup2
from socialcredit.engine.state import NONE, State


def observe(
    spec: Spec, params: Params, key: jax.Array, day: jax.Array, state: State, outcome: jax.Array
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """(recorded bool, channel int8, points int16) per agent."""
    n = spec.padded
    B = len(spec.behaviours)
    K = params.chan_cum.shape[-1]
    (word,) = rng.agent_words(
        rng.stage_seeds(key, day, rng.OBSERVE, 1), jnp.arange(n, dtype=jnp.uint32), 1
    )
    u = rng.unit(word)
    jur = jur_index(spec, state.jur)
    none = outcome == NONE
    is_false = (outcome >= B) & ~none
    b = jnp.where(
        none, 0, jnp.where(is_false, outcome.astype(jnp.int32) - B, outcome.astype(jnp.int32))
    )
    pts = lookup2(spec, params.points, jur, b)
    detected = jnp.where(is_false, True, u < lookup2(spec, params.detect, jur, b)) & ~none
    recorded = detected & (pts != 0)
    # the first channel whose cumulative share exceeds the draw made the record
    channel = jnp.zeros(outcome.shape, jnp.int32)
    for k in range(K - 1):
        cum_k = jnp.where(
            is_false,
            lookup2(spec, params.false_cum[:, :, k], jur, b),
            lookup2(spec, params.chan_cum[:, :, k], jur, b),
        )
        channel = channel + (u >= cum_k).astype(jnp.int32)
    channel = jnp.where(recorded, channel, -1).astype(jnp.int8)
    points = jnp.where(recorded, pts, 0).astype(jnp.int16)
    return recorded, channel, points
