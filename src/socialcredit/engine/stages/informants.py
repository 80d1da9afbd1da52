"""informants: citizens who report what their contacts do, and what they are paid.

Some agents inform (a share of the eligible groups, scs-facts and the essay's Xinjiang
example). For an act of behaviour b, each informant among the actor's contacts reports it with
chance coverage[b], so the informant channel catches it with 1 - (1 - coverage[b]) ** k, k the
number of informant contacts (`observe`). Informants also file false or malicious reports at a
rate per contact and day, weighted by the target's group (`behave`).

Two days after a report (a report on day d is paid on day d + 2), the first informant among
the reported agent's contacts (in contact order) is paid: `reward_points`, plus `confirmed_points` if the act was real, plus any
targeted reward for that behaviour by a member of that group. Informants among one's contacts
and contacts reported wear down trust (stages/trust.py), and distrust silences speech and
religion (`behave`).

All of it reads yesterday's carried event word and the static traits, so nothing here
recomputes the day's draws (see engine/run.py).
"""

from __future__ import annotations

from dataclasses import replace

import jax
import jax.numpy as jnp

from socialcredit.compile import Params, Spec
from socialcredit.engine.stages.common import (
    by_place,
    contact_shift,
    group_index,
    jur_index,
    lookup,
)
from socialcredit.engine.state import TRAIT_INFORMANT, Context, State, Today, event_field


def is_informant(state: State) -> jax.Array:
    return (state.traits & TRAIT_INFORMANT) != 0


def packed_informants(spec: Spec) -> bool:
    """Whether `State.inf_k` also holds the first informant contact (at most 14 contacts)."""
    return len(spec.contact_offsets) <= 14


def informant_contacts(spec: Spec, state: State) -> jax.Array:
    """Number of informants among each agent's contacts (uint8, counted at the start)."""
    return state.inf_k & 15 if packed_informants(spec) else state.inf_k


def first_informant(spec: Spec, state: State) -> jax.Array:
    """Index in contact_offsets of each agent's first informant contact (uint8, 255 none)."""
    if not packed_informants(spec):
        return state.inf_first
    first = state.inf_k >> 4
    return jnp.where(first == 15, jnp.uint8(255), first)


def reported_yesterday(spec: Spec, state: State) -> jax.Array:
    """Agents on whom an informant filed a report yesterday."""
    k_inf = len(spec.channels) - 1
    return (event_field(state.events, "recorded") == 1) & (
        event_field(state.events, "channel1") == k_inf + 1
    )


def reward_due(
    spec: Spec, params: Params, state: State, outcome: jax.Array, reported: jax.Array
) -> jax.Array:
    """Points owed today to whoever reported each agent: turned into each informant's pay
    tomorrow (`pay_informants`, at the end of the day) and paid the day after (`reward_today`).

    Computed with the day's facts and carried in the state, so tomorrow's payment shifts a
    stored array instead of recomputing the day's draws once per contact offset.
    """
    B = len(spec.behaviours)
    outcome = outcome.astype(jnp.int32)
    real = outcome < B
    b = jnp.clip(jnp.where(real, outcome, outcome - B), 0, B - 1)
    jur = jur_index(spec, state.jur)
    g = group_index(spec, state.group)
    reward = params.informants.reward
    G = reward.shape[2]
    flat = reward.reshape(reward.shape[0], -1)  # [J, B*G]
    if len(spec.jurisdictions) == 1:
        per_report = lookup(flat[0], b * G + g)
    else:
        per_report = flat[jur, b * G + g]
    confirmed = jnp.where(real, by_place(spec, params.informants.confirmed, jur), 0.0)
    return jnp.where(reported, jnp.round(per_report + confirmed), 0.0).astype(jnp.int16)


def pay_informants(spec: Spec, params: Params, state: State) -> jax.Array:
    """int16 points each informant is owed for the reports due in ``state.reward_due``: the
    first informant among the reported agent's contacts (in contact order) is paid.

    Run in the end-of-day position (its result is only carried), because a shifted copy
    fused into the day's record update made that whole loop slow."""
    pay = jnp.zeros(state.reward_due.shape, jnp.int16)
    first = first_informant(spec, state)
    for k, o in enumerate(spec.contact_offsets):
        mine = jnp.where(first == k, state.reward_due, jnp.int16(0))
        pay = pay + contact_shift(mine, o, spec.agents)  # credit agent (i + o) mod agents
    return pay


def reward_today(ctx: Context, state: State, today: Today) -> tuple[State, Today]:
    """Stage: the points informants are paid today for reports two days ago
    (``today.reward``); a spent budget (``today.gate``) pays none."""
    reward = state.pay_due
    if today.gate is not None:
        reward = jnp.where(today.gate, reward, jnp.int16(0))
    return state, replace(today, reward=reward)


def owe(ctx: Context, state: State, today: Today) -> tuple[State, Today]:
    """Stage, at the end of the day: what informants are paid tomorrow for yesterday's reports,
    and what is owed for today's (both carried). A report on day d is so paid on day d + 2."""
    pay = pay_informants(ctx.spec, ctx.params, state)
    reported = today.recorded & (today.channel == len(ctx.spec.channels) - 1)
    due = reward_due(ctx.spec, ctx.params, state, today.outcome, reported)
    return replace(state, reward_due=due, pay_due=pay), today
