"""learn: the `adaptive` model's perceived risk.

Each day an agent weighs yesterday's evidence that the system bites: its own sanctions (a
record that cost points, a refused loan, a blocked trip, a child refused a school) and the
share of its contacts who were sanctioned, times `social_weight`; it acts on the updated
belief the next day (see engine/run.py for why). Perceived risk moves towards
initial_risk + (1 - initial_risk) * min(1, evidence) at `learning_rate`: it rises after
sanctions nearby and sinks back to baseline awareness when nothing happens. Contacts are a
small world over the agent order (kin and neighbours at nearby indices, a few long-range
ties), so looking at them is a shift of the array, not a random gather.
"""

from __future__ import annotations

from dataclasses import replace

import jax
import jax.numpy as jnp

from socialcredit.compile import Params, Spec
from socialcredit.engine.stages.common import shifted_sum
from socialcredit.engine.state import Context, State, Today, event_field


def contact_share(spec: Spec, flag: jax.Array) -> jax.Array:
    """Share of each agent's contacts for whom ``flag`` holds."""
    offsets = spec.contact_offsets
    if not offsets:
        return jnp.zeros(flag.shape, jnp.float32)
    total = shifted_sum(flag.astype(jnp.uint8), offsets, spec.agents)
    return total.astype(jnp.float32) / len(offsets)


def learn(spec: Spec, params: Params, state: State) -> State:
    """Update perceived risk from yesterday's sanctions; the result guides tomorrow (under the
    adaptive response model; a fixed perceived risk stays as it is)."""
    if spec.adaptive is not None:
        return _learned_risk(spec, params, state)
    return state


def _learned_risk(spec: Spec, params: Params, state: State) -> State:
    a = params.adaptive
    sanctioned = event_field(state.events, "sanctioned").astype(jnp.uint8)
    evidence = sanctioned.astype(jnp.float32) + a.social_weight * contact_share(spec, sanctioned)
    if spec.audiences is not None:  # having seen someone shamed (stages/audiences.py)
        evidence = evidence + params.audiences.deterrence * (state.audience != 0)
    target = params.initial_risk + (1.0 - params.initial_risk) * jnp.minimum(evidence, 1.0)
    risk = state.risk.astype(jnp.float32)
    risk = risk + a.learning_rate * (target - risk)
    return State(**{**state.__dict__, "risk": risk.astype(state.risk.dtype)})


def perceive(ctx: Context, state: State, today: Today) -> tuple[State, Today]:
    """Stage: perceived risk for tomorrow (``today.risk``); today's behaviour uses the carried
    one (engine/run.py says why)."""
    return state, replace(today, risk=learn(ctx.spec, ctx.params, state).risk)
