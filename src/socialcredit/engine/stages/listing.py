"""list: tiers from the score, and the blacklist.

Tiers are given top first; an agent's tier index is the number of tier floors its score is
below. Agents whose tier is a listed one go on the blacklist; a listing lasts at least
`term_days` and ends on the first day after that on which the agent is out of listed tiers.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from socialcredit.compile import Params, Spec
from socialcredit.engine.stages.common import by_place, jur_index, lookup2
from socialcredit.engine.state import State


def tiers(spec: Spec, params: Params, state: State, score: jax.Array) -> jax.Array:
    """uint8 tier index per agent, 0 = top tier."""
    jur = jur_index(spec, state.jur)
    s = score.astype(jnp.int32)
    t = jnp.zeros(score.shape, jnp.uint8)
    for k in range(params.floors.shape[1]):
        t = t + (s < by_place(spec, params.floors[:, k], jur)).astype(jnp.uint8)
    return t


def blacklist(
    spec: Spec, params: Params, day: jax.Array, state: State, tier: jax.Array
) -> tuple[State, jax.Array, jax.Array]:
    """Update listings; return the new state, who is listed today and who left the list."""
    jur = jur_index(spec, state.jur)
    in_listed = lookup2(spec, params.listed_tier, jur, tier.astype(jnp.int32))
    in_listed = (
        in_listed & by_place(spec, params.blacklist_on, jur) & by_place(spec, params.active, jur)
    )
    since = state.listed_since
    listed = since >= 0
    served = (day - since.astype(jnp.int32)) >= by_place(spec, params.term, jur)
    leave = listed & served & ~in_listed
    enter = ~listed & in_listed
    since = jnp.where(enter, day.astype(jnp.int16), jnp.where(leave, jnp.int16(-1), since))
    return State(**{**state.__dict__, "listed_since": since}), since >= 0, leave
