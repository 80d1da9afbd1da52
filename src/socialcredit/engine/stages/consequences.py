"""consequences: what a tier or a listing does to a person's material life.

Each day an agent may apply for a loan (approved with the chance its tier, or listing,
allows; a refusal costs wealth) or want a long trip (blocked under a travel ban). Each tier
also carries an income effect: rewards such as discounts and free services are gains,
surcharges are losses. Where no programme runs, loans are approved at the base rate,
and a refusal counts as a sanction only where the base rate would have approved the loan.
One random word per agent decides both demands and the approval.
"""

from __future__ import annotations

from dataclasses import replace

import jax
import jax.numpy as jnp

from socialcredit import rng
from socialcredit.compile import Params, Spec
from socialcredit.engine.stages.common import by_place, jur_index, lookup2
from socialcredit.engine.state import (
    TRAIT_CHILDREN,
    TRAIT_HAS_PARTNER,
    TRAIT_HOME_BLOCK,
    Context,
    State,
    Today,
    event_field,
)
from socialcredit.units import DAYS_PER_YEAR


def _terms(spec, params, jur, idx, active, rewards_open, owner, layers):
    """Each agent's loan approval, travel ban, income effect and whether a refusal is the
    system's doing: the place's tier (or listing) terms, then joint punishment of firms'
    owners, then the layered lists' (combined by the rule in stages/layers.py)."""
    approval = lookup2(spec, params.loan_approval, jur, idx)
    ban = lookup2(spec, params.travel_ban, jur, idx)
    effect = lookup2(spec, params.income_effect, jur, idx)
    approval = jnp.where(active, approval, params.base_loan_approval)
    ban = ban & active
    effect = jnp.where(active, effect, 0.0)
    if rewards_open is not None:  # a spent budget pays no perks; surcharges still bite
        effect = jnp.where(rewards_open | (effect < 0), effect, 0.0)
    if owner is not None:  # joint punishment reaches the owners of listed firms
        approval = jnp.where(
            owner, jnp.minimum(approval, params.orgs.owner_loan_approval), approval
        )
        ban = ban | (owner & params.orgs.owner_travel_ban)
    bites = active if owner is None else active | owner  # a refusal is the system's doing
    if layers is not None:  # sanctions a union, the stricter number wins, rewards add up
        approval = jnp.minimum(approval, layers["loan_cap"])
        ban = ban | layers["travel_ban"]
        effect = jnp.minimum(effect, 0.0) + layers["surcharge"] + jnp.maximum(effect, 0.0)
        effect = effect + layers["reward"]
        bites = bites | layers["bites"]
    return approval, ban, effect, bites


def consequences(
    spec: Spec,
    params: Params,
    key: jax.Array,
    day: jax.Array,
    state: State,
    tier: jax.Array,
    listed: jax.Array,
    recorded_loss: jax.Array,
    household_blocked: jax.Array | None = None,
    sighted: jax.Array | None = None,
    rewards_open: jax.Array | None = None,
    owner: jax.Array | None = None,
    layers: dict[str, jax.Array] | None = None,
    refusal: jax.Array | None = None,
    people: dict[str, jax.Array] | None = None,
) -> tuple[State, dict[str, jax.Array]]:
    """Loans, trips, schools and income; ``household_blocked``: the household's children are
    refused good schools (the standing of the head or partner at the start of the day);
    ``sighted``: seen on the deadbeat map today, so shunned like the publicly shamed;
    ``rewards_open``: whether the programme's budget still pays perks today (stages/budget.py);
    ``owner``: the agent owns a firm whose listing sanctions its owner (organisations);
    ``layers``: what layered lists and memoranda do today (stages/layers.py `effects`),
    combined with the place's own programme by the rule stated there; ``refusal``: the chance
    that a match's counterpart, having seen the person shamed, refuses (stages/audiences.py);
    ``people``: an
    occupation's own sanctions and who is detained (stages/people.py `effects`)."""
    n = spec.padded
    T = spec.max_tiers
    (word,) = rng.agent_words(
        rng.stage_seeds(key, day, rng.CONSEQUENCES, 1), jnp.arange(n, dtype=jnp.uint32), 1
    )
    jur = jur_index(spec, state.jur)
    active = by_place(spec, params.active, jur)
    idx = jnp.where(listed, T, tier.astype(jnp.int32))
    approval, ban, effect, bites = _terms(
        spec, params, jur, idx, active, rewards_open, owner, layers
    )
    # one word: [0, loan) applies for a loan; [loan, loan + travel) wants a trip
    loan_t = rng.threshold(params.loan_demand)
    trip_t = rng.threshold(params.loan_demand + params.travel_demand)
    real = jnp.arange(n) < spec.agents  # ghosts neither borrow nor travel
    if people is not None:  # an occupation's sanctions; the detained do none of it
        approval = jnp.minimum(approval, people["loan_cap"])
        ban = ban | people["travel_ban"]
        real = real & ~people["absent"]
        effect = jnp.where(people["absent"], -people["income_lost"], effect)
    applied = (word < loan_t) & real
    within = word.astype(jnp.float32) / jnp.maximum(
        loan_t.astype(jnp.float32), 1.0
    )  # uniform in [0,1) given applied
    refused = applied & (within >= approval)
    # the system's refusals: those the base rate would have approved (same draw, so a refusal
    # that would have happened without the system is not felt as a sanction)
    refused_by_system = refused & (within < params.base_loan_approval)
    travelled = (word >= loan_t) & (word < trip_t) & real
    blocked = travelled & ban
    wealth = (
        state.wealth + effect / DAYS_PER_YEAR - jnp.where(refused, params.loan_refusal_cost, 0.0)
    )
    wealth = jnp.maximum(wealth, 0.0)
    households = spec.households is not None
    if households:
        # [trip, trip + children * demand): one of the household's children applies to school
        kids = (state.traits & TRAIT_CHILDREN).astype(jnp.float32)
        school_t = rng.threshold(
            params.loan_demand + params.travel_demand + kids * params.households.school_demand
        )
        school_applied = (word >= trip_t) & (word < school_t) & real
        school_refused = school_applied & household_blocked
    else:
        school_applied = school_refused = jnp.zeros(word.shape, bool)
    # [school, school + match): a dating or job match attempt; its success is cut by the tier's
    # algorithmic penalty and, for the publicly shamed, by shunning
    base_t = school_t if households else trip_t
    match_t = rng.threshold(
        (params.loan_demand + params.travel_demand + params.match_demand)
        + (kids * params.households.school_demand if households else 0.0)
    )
    attempted = (word >= base_t) & (word < match_t) & real
    span = jnp.maximum((match_t - base_t).astype(jnp.float32), 1.0)
    u_match = (word - base_t).astype(jnp.float32) / span  # uniform in [0, 1) given attempted
    penalty = jnp.where(active, lookup2(spec, params.matching_penalty, jur, idx), 0.0)
    shamed = (
        (lookup2(spec, params.shaming.shamed, jur, idx) & active & real)
        if spec.shaming is not None
        else jnp.zeros(word.shape, bool)
    )
    if layers is not None:
        penalty = jnp.maximum(penalty, layers["matching"])
        shamed = shamed | (layers["shamed"] & real)
    shunned = shamed if sighted is None else shamed | sighted
    chance = params.match_success * (1.0 - penalty) * (1.0 - params.shunning * shunned)
    if refusal is not None:  # viewers of shaming met in a match refuse (stages/audiences.py)
        chance = chance * (1.0 - refusal)
    lost = attempted & (u_match >= jnp.clip(chance, 0.0, 1.0)) & (u_match < params.match_success)
    sanctioned = (
        recorded_loss | blocked | (refused_by_system & bites) | school_refused | lost | shunned
    )
    if people is not None:
        sanctioned = sanctioned | people["absent"]
    facts = {
        "match_attempted": attempted,
        "match_lost": lost,
        "shamed": shamed,
        "school_applied": school_applied,
        "school_refused": school_refused,
        "loan_applied": applied,
        "loan_refused": refused,
        "travelled": travelled,
        "travel_blocked": blocked,
        "sanctioned": sanctioned,
    }
    if spec.rewards is not None and "matches" in spec.rewards.kinds:  # matches gained
        facts["match_u"] = u_match
    return State(**{**state.__dict__, "wealth": wealth}), facts


def own_school_block(
    spec: Spec, params: Params, state: State, tier: jax.Array, listed: jax.Array
) -> jax.Array:
    """Whether this agent's tier or listing would bar its household's children from good
    schools (packed into the day's event word, read the next day by `household_blocked`)."""
    T = spec.max_tiers
    jur = jur_index(spec, state.jur)
    idx = jnp.where(listed, T, tier.astype(jnp.int32))
    block = lookup2(spec, params.households.school_block, jur, idx)
    return block & by_place(spec, params.active, jur)


def household_blocked(state: State) -> jax.Array:
    """Children inherit their parents' standing: the head's or the partner's block, from the
    carried event word. Computed in the end-of-day position and carried (a bit of `State.traits`):
    the swap within pairs, fused into the day's consequences, made that loop slow."""
    own = event_field(state.events, "school_block") == 1
    # couples are agents (2m, 2m+1): the partner of i is i ^ 1, a swap within pairs (no
    # shifted copy, which XLA's CPU backend fuses into slow, unvectorised loops)
    other = own.reshape(-1, 2)[:, ::-1].reshape(-1)
    partner = ((state.traits & TRAIT_HAS_PARTNER) != 0) & other
    return own | partner


def live(ctx: Context, state: State, today: Today) -> tuple[State, Today]:
    """Stage: loans, trips, schools, matches and income under today's tier or listing."""
    spec = ctx.spec
    home = (state.traits & TRAIT_HOME_BLOCK) != 0 if spec.households is not None else None
    owner = state.orgs.owner_flag if spec.orgs is not None and spec.orgs.corporate else None
    listed, layers, more = today.listed, None, {}
    if spec.layers is not None:
        from socialcredit.engine.stages.layers import effects

        layers = effects(spec, ctx.params, state, today.listed)
        listed = layers["own"]  # a memorandum can impose the place's own `listed` column
        more["layer_school"] = layers["school_block"]
    if spec.occupations is not None or spec.detention is not None:
        from socialcredit.engine.stages.people import effects as people_effects

        more_people = people_effects(spec, ctx.params, state, today.tier, listed)
    else:
        more_people = None
    state, facts = consequences(
        spec,
        ctx.params,
        ctx.key,
        ctx.day,
        state,
        today.tier,
        listed,
        today.points < 0,
        home,
        today.sighted,
        today.gate,
        owner,
        layers,
        today.refusal,
        people=more_people,
    )
    return state, replace(today, **facts, **more)


def carry_home_block(ctx: Context, state: State, today: Today) -> tuple[State, Today]:
    """Stage, at the end of the day: whether the household's children are barred tomorrow, as a
    bit of the traits byte (from the carried event word, before today's replaces it)."""
    home, traits = household_blocked(state), state.traits
    traits = jnp.where(home, traits | TRAIT_HOME_BLOCK, traits & ~jnp.uint8(TRAIT_HOME_BLOCK))
    return replace(state, traits=traits), today
