"""approval: each person's approval of the system, moved by what it does to them and to
those around them.

From yesterday's event word: approval a becomes
a + rate * (a0 - a) - a * min(1, sanction * sanctioned + wrongful * sanctioned on a false
record + contact_sanction * contacts sanctioned) + (1 - a) * min(1, reward * rewarded +
contact_reward * contacts rewarded), with a0 the starting level of one's group and
"rewarded" rising a tier or being paid for a report. Without a system nothing happens and
approval stays at its start. Stored as float16, rounded stochastically (rng.APPROVAL).
"""

from __future__ import annotations

from dataclasses import replace

import jax
import jax.numpy as jnp

from socialcredit import rng
from socialcredit.compile import Params, Spec
from socialcredit.engine.stages.common import group_index, lookup, shifted_sum
from socialcredit.engine.state import Context, State, Today, event_field


def initial_approval(spec: Spec, params: Params, group: jax.Array) -> jax.Array:
    """float16 [N] each person's starting approval (their group's)."""
    g = group_index(spec, group)
    start = lookup(params.approval.initial, jnp.broadcast_to(g, (spec.padded,)))
    return start.astype(jnp.float16)


def update_approval(spec: Spec, params: Params, key: jax.Array, day: jax.Array, state: State):
    ap = params.approval
    ev = state.events
    sanctioned = (event_field(ev, "sanctioned") & 1).astype(jnp.float32)
    wrongful = (event_field(ev, "sanctioned_false") & 1).astype(jnp.float32)
    rewarded = ((event_field(ev, "tier_up") | event_field(ev, "rewarded")) & 1).astype(jnp.uint32)
    loss = ap.losses[0] * sanctioned + ap.losses[1] * wrongful
    gain = ap.gains[0] * rewarded.astype(jnp.float32)
    offsets = spec.contact_offsets
    if offsets:  # two counts in byte lanes of one word (degree < 256)
        word = (event_field(ev, "sanctioned") & 1) | (rewarded << 8)
        seen = shifted_sum(word, offsets, spec.agents)
        loss = loss + ap.losses[2] * (seen & 255).astype(jnp.float32)
        gain = gain + ap.gains[1] * ((seen >> 8) & 255).astype(jnp.float32)
    a = state.approval.astype(jnp.float32)
    start = initial_approval(spec, params, state.group).astype(jnp.float32)
    a = a + ap.rate * (start - a) - a * jnp.minimum(1.0, loss) + (1 - a) * jnp.minimum(1.0, gain)
    (w,) = rng.agent_words(
        rng.stage_seeds(key, day, rng.APPROVAL, 1), jnp.arange(spec.padded, dtype=jnp.uint32), 1
    )
    return rng.round_f16(jnp.clip(a, 0.0, 1.0), w)


def approve(ctx: Context, state: State, today: Today) -> tuple[State, Today]:
    """Stage: approval for tomorrow (``today.approval``), from yesterday's events."""
    return state, replace(
        today, approval=update_approval(ctx.spec, ctx.params, ctx.key, ctx.day, state)
    )
