"""The people the essay names (issue 15): occupations and detention.

Occupations (compile/people.py): each agent holds one, drawn once from the run key by group
shares (the rest hold `other`). An occupation multiplies the rates of speech (stages/behave.py),
makes every channel look at its members' acts `monitoring` times (stages/observe.py: the draw
is transformed so that a coverage c becomes 1 - (1 - c) ** monitoring) and may add sanctions
of its own to a tier or listing (`consequences`, here `effects`).

Detention: a free person whose standing at the start of the day (tier, or listing) carries a
`detention` consequence is detained that day with its `rate` and held for `term_days` days,
the day of detention included: on those days they do nothing (no acts, so no records, true or
false), apply for no loan, trip, match or school, receive no tier perk and lose income; their
household's children count as separated from them. State.people.flags carries the day's facts
to `measure`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import jax
import jax.numpy as jnp

from socialcredit import rng
from socialcredit.compile import Params, Spec
from socialcredit.engine.stages.common import by_place, jur_index, lookup, lookup2
from socialcredit.engine.state import (
    TRAIT_CHILDREN,
    TRAIT_HAS_PARTNER,
    Context,
    State,
    Today,
    event_field,
)

DETAINED = 0x01  # held today
TAKEN = 0x02  # detained today (a detention began)


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class PeopleState:
    """Per agent; each array has length 0 where the scenario lacks its mechanism."""

    occupation: jax.Array  # uint8 [N] index into OccupationSpec.names (static)
    until: jax.Array  # int16 [N] first day after the current detention (0: never detained)
    flags: jax.Array  # uint8 [N] the day's facts (DETAINED, TAKEN)


def carried(spec: Spec) -> bool:
    return spec.occupations is not None or spec.detention is not None


def initial_people(spec: Spec, params: Params, key: jax.Array, group: jax.Array) -> PeopleState:
    """Occupations drawn by group share (stage id rng.OCCUPATION: no other draw moves)."""
    n = spec.padded
    occ = jnp.zeros(0, jnp.uint8)
    if spec.occupations is not None:
        idx = jnp.arange(n, dtype=jnp.uint32)
        (word,) = rng.agent_words(rng.stage_seeds(key, 0, rng.OCCUPATION, 1), idx, 1)
        u = rng.unit(word)
        cdf = params.occupations.cdf  # [G, O-1]
        g = group.astype(jnp.int32)
        occ = jnp.zeros(n, jnp.int32)
        for k in range(cdf.shape[1]):  # the count of cumulative shares below the draw
            occ = occ + (u >= lookup(cdf[:, k], g)).astype(jnp.int32)
        occ = occ.astype(jnp.uint8)
    m = n if spec.detention is not None else 0
    return PeopleState(occupation=occ, until=jnp.zeros(m, jnp.int16), flags=jnp.zeros(m, jnp.uint8))


def occupation_of(state: State) -> jax.Array:
    return state.people.occupation.astype(jnp.int32)


def detained(spec: Spec, state: State) -> jax.Array:
    """bool [N]: held today (after `detain` ran)."""
    if spec.detention is not None:
        return (state.people.flags & DETAINED) != 0
    return jnp.zeros(state.events.shape, bool)


def detain(ctx: Context, state: State, today: Today) -> tuple[State, Today]:
    """Stage, after `dawn`: who is taken today, from their standing at the start of the day."""
    spec, p, day = ctx.spec, ctx.params.detention, ctx.day
    n = spec.padded
    (word,) = rng.agent_words(
        rng.stage_seeds(ctx.key, day, rng.DETAIN, 1), jnp.arange(n, dtype=jnp.uint32), 1
    )
    jur = jur_index(spec, state.jur)
    idx = jnp.where(state.listed_since >= 0, spec.max_tiers, today.tier_before.astype(jnp.int32))
    active = by_place(spec, ctx.params.active, jur)
    rate = jnp.where(active, lookup2(spec, p.rate, jur, idx), 0.0)
    until = state.people.until
    held = day < until.astype(jnp.int32)
    real = jnp.arange(n) < spec.agents
    taken = ~held & real & (word < rng.threshold(rate))
    end = jnp.minimum(day + lookup2(spec, p.term, jur, idx), 32767)
    until = jnp.where(taken, end, until).astype(jnp.int16)
    now = day < until.astype(jnp.int32)
    flags = jnp.where(now, jnp.uint8(DETAINED), jnp.uint8(0)) | jnp.where(
        taken, jnp.uint8(TAKEN), jnp.uint8(0)
    )
    return replace(state, people=replace(state.people, until=until, flags=flags)), today


def effects(spec: Spec, params: Params, state: State, tier: jax.Array, listed: jax.Array) -> dict:
    """What occupations and detention do to today's consequences (stages/consequences.py):
    an occupation's loan cap and travel ban at the agent's standing, and who is absent (held)
    with the income they lose a year."""
    n = state.events.shape[0]
    jur = jur_index(spec, state.jur)
    out = {
        "loan_cap": jnp.ones(n, jnp.float32),
        "travel_ban": jnp.zeros(n, bool),
        "absent": detained(spec, state),
        "income_lost": jnp.zeros(n, jnp.float32),
    }
    if spec.occupations is not None:
        o = params.occupations
        n_occ = len(spec.occupations.names)
        col = occupation_of(state) * (spec.max_tiers + 1) + jnp.where(
            listed, spec.max_tiers, tier.astype(jnp.int32)
        )
        flat = (o.loan_cap.shape[0], n_occ * (spec.max_tiers + 1))
        active = by_place(spec, params.active, jur)
        out["loan_cap"] = jnp.where(active, lookup2(spec, o.loan_cap.reshape(flat), jur, col), 1.0)
        out["travel_ban"] = active & lookup2(spec, o.travel_ban.reshape(flat), jur, col)
    if spec.detention is not None:
        lost = by_place(spec, params.detention.income_lost.max(axis=1), jur)
        out["income_lost"] = jnp.where(out["absent"], lost, 0.0)
    return out


# ----------------------------------------------------------------------------- metrics

# per occupation: (metric prefix, what it counts)
OCCUPATION_METRICS = ("members", "speech", "sanctioned", "trips_blocked", "detained")


def people_metric_names(spec: Spec) -> list[str]:
    """`detained`, `detentions`, `children_separated` with detention; per occupation
    `<metric>.<occupation>` (docs/metrics.md)."""
    names = []
    if spec.detention is not None:
        names += ["detained", "detentions", "children_separated"]
    if spec.occupations is not None:
        ms = [m for m in OCCUPATION_METRICS if m != "detained" or spec.detention is not None]
        names += [f"{m}.{o}" for o in spec.occupations.names for m in ms]
    return names


def people_flags(spec: Spec, state: State) -> tuple[list[jax.Array], list[jax.Array]]:
    """(count flags, real-valued terms) in the order of `people_metric_names`; the real terms
    (children separated) are summed apart."""
    flags: list[jax.Array] = []
    reals: list[jax.Array] = []
    held = detained(spec, state)
    if spec.detention is not None:
        flags += [held, (state.people.flags & TAKEN) != 0]
        reals.append(separated_children(spec, state, held).astype(jnp.float32))
    if spec.occupations is not None:
        ev = state.events
        outcome = event_field(ev, "outcome").astype(jnp.int32)
        speech = jnp.zeros(ev.shape, bool)
        for b in spec.occupations.speech:
            speech = speech | (outcome == b)
        occ = occupation_of(state)
        real = jnp.arange(ev.shape[0]) < spec.agents
        sanctioned = event_field(ev, "sanctioned") == 1
        blocked = event_field(ev, "travel_blocked") == 1
        for k in range(len(spec.occupations.names)):
            mine = (occ == k) & real
            flags += [mine, mine & speech, mine & sanctioned, mine & blocked]
            if spec.detention is not None:
                flags.append(mine & held)
    return flags, reals


def separated_children(spec: Spec, state: State, held: jax.Array) -> jax.Array:
    """Children (counted on the household head) of a household whose head or partner is held
    today: children separated from a parent. Zero without households."""
    if spec.households is not None:
        other = held.reshape(-1, 2)[:, ::-1].reshape(-1)  # the partner of 2m is 2m + 1
        partner = ((state.traits & TRAIT_HAS_PARTNER) != 0) & other
        kids = (state.traits & TRAIT_CHILDREN).astype(jnp.int32)
        return jnp.where(held | partner, kids, 0)
    return jnp.zeros(held.shape, jnp.int32)
