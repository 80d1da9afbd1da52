"""consequences: what a tier or a listing does to a person's material life.

Each day an agent may apply for a loan (approved with the chance its tier, or listing,
allows; a refusal costs wealth) or want a long trip (blocked under a travel ban). Each tier
also carries an income effect: rewards such as discounts and free services are gains,
surcharges are losses. Where no programme runs, loans are approved at the base rate.
One random word per agent decides both demands and the approval.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from socialcredit import rng
from socialcredit.compile import Params, Spec
from socialcredit.engine.stages.common import by_place, jur_index, lookup2
from socialcredit.engine.state import State

DAYS_PER_YEAR = 365.0


def consequences(
    spec: Spec,
    params: Params,
    key: jax.Array,
    day: jax.Array,
    state: State,
    tier: jax.Array,
    listed: jax.Array,
    recorded_loss: jax.Array,
) -> tuple[State, dict[str, jax.Array]]:
    n = spec.padded
    T = spec.max_tiers
    (word,) = rng.agent_words(
        rng.stage_seeds(key, day, rng.CONSEQUENCES, 1), jnp.arange(n, dtype=jnp.uint32), 1
    )
    jur = jur_index(spec, state.jur)
    active = by_place(spec, params.active, jur)
    idx = jnp.where(listed, T, tier.astype(jnp.int32))
    approval = lookup2(spec, params.loan_approval, jur, idx)
    ban = lookup2(spec, params.travel_ban, jur, idx)
    effect = lookup2(spec, params.income_effect, jur, idx)
    approval = jnp.where(active, approval, params.base_loan_approval)
    ban = ban & active
    effect = jnp.where(active, effect, 0.0)
    # one word: [0, loan) applies for a loan; [loan, loan + travel) wants a trip
    loan_t = rng.threshold(params.loan_demand)
    trip_t = rng.threshold(params.loan_demand + params.travel_demand)
    real = jnp.arange(n) < spec.agents  # ghosts neither borrow nor travel
    applied = (word < loan_t) & real
    within = word.astype(jnp.float32) / jnp.maximum(
        loan_t.astype(jnp.float32), 1.0
    )  # uniform in [0,1) given applied
    refused = applied & (within >= approval)
    travelled = (word >= loan_t) & (word < trip_t) & real
    blocked = travelled & ban
    wealth = (
        state.wealth + effect / DAYS_PER_YEAR - jnp.where(refused, params.loan_refusal_cost, 0.0)
    )
    wealth = jnp.maximum(wealth, 0.0)
    sanctioned = recorded_loss | blocked | (refused & active)
    facts = {
        "loan_applied": applied,
        "loan_refused": refused,
        "travelled": travelled,
        "travel_blocked": blocked,
        "sanctioned": sanctioned,
    }
    return State(**{**state.__dict__, "wealth": wealth}), facts
