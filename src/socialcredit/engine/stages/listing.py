"""list: tiers from the score, and the blacklist.

Tiers are given top first; an agent's tier index is the number of tier floors its score is
below. Agents whose tier is a listed one go on the blacklist; a listing lasts at least
`term_days` and ends on the first day after that on which the agent is out of listed tiers.

The court's list of dishonest debtors (scs-facts section 3) adds listing grounds, removal on
payment and listing until paid: a record of a ground behaviour (refusing to pay when able,
evading enforcement, false litigation...) puts the person on the list the day after it is
recorded, and a further one renews the term; with `until_paid` the term never ends a listing.
Listed debtors pay (`repay`) with a daily chance that grows with wealth and with yesterday's
shaming or sighting on the map, or are made to pay after a tip-off; paying costs wealth, takes
them off the list and clears the debt record (stages/repair.py).
"""

from __future__ import annotations

from dataclasses import replace

import jax
import jax.numpy as jnp

from socialcredit import rng
from socialcredit.compile import Params, Spec
from socialcredit.engine.stages.common import by_place, jur_index, lookup2
from socialcredit.engine.stages.score import score
from socialcredit.engine.state import E2_SIGHTED, Context, State, Today, event_field


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
    court = spec.court
    # yesterday's record of a ground lists the person, or renews the term
    if court is not None and court.grounds:
        ground = grounds_recorded(spec, params, state) & by_place(spec, params.active, jur)
        served = served & ~by_place(spec, params.court.until_paid, jur)
        leave = listed & served & ~in_listed & ~ground
        since = jnp.where(ground, day.astype(jnp.int16), since)
        in_listed = in_listed | ground
    else:
        leave = listed & served & ~in_listed
    enter = ~listed & in_listed
    since = jnp.where(enter, day.astype(jnp.int16), jnp.where(leave, jnp.int16(-1), since))
    return State(**{**state.__dict__, "listed_since": since}), since >= 0, leave


def grounds_recorded(spec: Spec, params: Params, state: State) -> jax.Array:
    """Agents with a record (true or false) of a listing ground yesterday, read from the
    carried event word: false records list people too, as in the Ningbo bulk import."""
    B = len(spec.behaviours)
    outcome = event_field(state.events, "outcome").astype(jnp.int32)
    rec = (event_field(state.events, "recorded") == 1) & (outcome < 2 * B)
    b = jnp.clip(jnp.where(outcome >= B, outcome - B, outcome), 0, B - 1)
    return rec & lookup2(spec, params.court.ground, jur_index(spec, state.jur), b)


def repay(
    spec: Spec,
    params: Params,
    key: jax.Array,
    day: jax.Array,
    state: State,
    tipped: jax.Array | None,
) -> tuple[State, jax.Array, jax.Array]:
    """Listed debtors who pay today: off the list, poorer by the debt. Returns the state, who
    paid, and the points of negative records each payer may clear (for `clear_negative`).

    The daily chance is rate * (wealth / median) ** elasticity (capped at 1), times
    `shamed_factor` after a day on posters or sighted on the map; a tip-off from the map
    (``tipped``) also enforces payment with chance `map.enforcement`."""
    jur = jur_index(spec, state.jur)
    (word,) = rng.agent_words(
        rng.stage_seeds(key, day, rng.REPAY, 1), jnp.arange(spec.padded, dtype=jnp.uint32), 1
    )
    listed = (state.listed_since >= 0) & by_place(spec, params.active, jur)
    rel = jnp.maximum(state.wealth / params.wealth_median, 0.0)
    c = params.court
    p = by_place(spec, c.repay_rate, jur) * rel ** by_place(spec, c.repay_elasticity, jur)
    shamed = event_field(state.events, "shamed") == 1
    if spec.map is not None:
        shamed = shamed | ((state.events2 & E2_SIGHTED) != 0)
    p = jnp.minimum(p * jnp.where(shamed, by_place(spec, c.repay_shamed, jur), 1.0), 1.0)
    if tipped is not None:
        p = 1.0 - (1.0 - p) * (1.0 - jnp.where(tipped, params.map.enforce, 0.0))
    paid = listed & (word < rng.threshold(p))
    wealth = jnp.where(
        paid,
        jnp.maximum(state.wealth - by_place(spec, c.repay_amount, jur), 0.0),
        state.wealth,
    )
    since = jnp.where(paid, jnp.int16(-1), state.listed_since)
    clear = jnp.where(paid, by_place(spec, c.repay_clear, jur), 0).astype(jnp.int32)
    new = State(**{**state.__dict__, "listed_since": since, "wealth": wealth})
    return new, paid, clear


def dawn(ctx: Context, state: State, today: Today) -> tuple[State, Today]:
    """Stage: each agent's tier at the start of the day (``today.tier_before``)."""
    tier = tiers(ctx.spec, ctx.params, state, score(ctx.spec, ctx.params, state))
    return state, replace(today, tier_before=tier)


def rank(ctx: Context, state: State, today: Today) -> tuple[State, Today]:
    """Stage: the score and tier after today's records, and the blacklist."""
    spec, params = ctx.spec, ctx.params
    sc = score(spec, params, state)
    tier = tiers(spec, params, state, sc)
    was_listed = state.listed_since >= 0
    state, listed, delisted = blacklist(spec, params, ctx.day, state, tier)
    return state, replace(
        today, score=sc, tier=tier, was_listed=was_listed, listed=listed, delisted=delisted
    )
