"""behave: what each agent does today.

Each agent does at most one scored act a day, drawn as a categorical over behaviours from one
random word: with daily rates of 1e-5 to 1e-2 the chance of two acts on one day is negligible,
and the model stays exactly analysable (mean points per day = sum of rate * detection * points).
False records are drawn from the same word, as outcomes B..2B-1, counting down from the top of
its range, so acts land on the same words whether or not a programme makes false records.

Rates: base_rate, times the agent's propensity for misconduct, times (adaptive model)
deterrence exp(-deterrence * risk * vulnerability * severity) for behaviours that cost points
and strategic virtue 1 + virtue * risk * vulnerability * gain for those that earn them.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from socialcredit import rng
from socialcredit.compile import Params, Spec
from socialcredit.engine.stages.common import by_place, group_index, jur_index, lookup, trust_of
from socialcredit.engine.stages.informants import informant_contacts
from socialcredit.engine.state import NONE, State


def vulnerability(state: State, params: Params) -> jax.Array:
    """Economic vulnerability in (0, 1]: the poor feel sanctions most (survival, not ideology)."""
    return 1.0 / (1.0 + state.wealth / params.wealth_median)


def rates(spec: Spec, params: Params, state: State) -> list[jax.Array]:
    """Per-agent daily probability of each behaviour (a list over behaviours of [N] arrays)."""
    jur = jur_index(spec, state.jur)
    prop = state.propensity.astype(jnp.float32)
    adaptive = params.adaptive
    if spec.adaptive is not None:
        pressure = state.risk.astype(jnp.float32) * vulnerability(state, params)
    g = group_index(spec, state.group)
    dispositions = {1: state.political, 2: state.religiosity}
    chill = spec.trust is not None and spec.trust.speech_chill
    if chill:
        distrust = params.trust.chill * (1.0 - trust_of(spec, params, state))
    out = []
    for b in range(len(spec.behaviours)):
        p = params.base_rate[b] * jnp.where(params.driven[b] > 0, prop, 1.0)
        if spec.group_rates is not None:
            p = p * lookup(params.group_rates.factor[:, b], g)
        if spec.occupations is not None:  # journalists speak more
            p = p * lookup(params.occupations.rate[:, b], state.people.occupation.astype(jnp.int32))
        disposition = spec.dispositions[b]
        if disposition:
            p = p * dispositions[disposition].astype(jnp.float32)
        if chill:  # who trusts no one speaks less (the chilling effect)
            p = p * (1.0 - distrust * by_place(spec, params.trust.chill_mask[:, b], jur))
        if spec.adaptive is not None:
            sev = by_place(spec, adaptive.severity[:, b], jur)
            gain = by_place(spec, adaptive.gain[:, b], jur)
            p = p * jnp.exp(-adaptive.deterrence * pressure * sev)
            p = p * (1.0 + adaptive.virtue * pressure * gain)
        out.append(jnp.minimum(p, 0.5))
    return out


def false_report_rate(spec: Spec, params: Params, state: State) -> jax.Array:
    """Daily chance of being falsely reported: k informant contacts, each at the group's rate."""
    k = informant_contacts(spec, state).astype(jnp.float32)
    if len(spec.jurisdictions) == 1:
        per = lookup(params.informants.false[0], group_index(spec, state.group))
    else:
        per = params.informants.false[state.jur.astype(jnp.int32), group_index(spec, state.group)]
    return 1.0 - (1.0 - per) ** k


def behave(spec: Spec, params: Params, key: jax.Array, day: jax.Array, state: State) -> jax.Array:
    """The day's outcome per agent (uint8): act b, false record B + b, or NONE."""
    n = spec.padded
    B = len(spec.behaviours)
    (word,) = rng.agent_words(
        rng.stage_seeds(key, day, rng.BEHAVE, 1), jnp.arange(n, dtype=jnp.uint32), 1
    )
    jur = jur_index(spec, state.jur)
    p = rates(spec, params, state)
    outcome = jnp.full((n,), NONE, jnp.uint8)
    # acts from the bottom of the word's range, rarest first, so that they fall on the same
    # words with and without a programme (false records are zero without one)
    cum = jnp.zeros((n,), jnp.float32)
    for b in spec.outcome_order:
        cum = cum + p[b]
        outcome = jnp.where((outcome == NONE) & (word < rng.threshold(cum)), jnp.uint8(b), outcome)
    # false records from the top of the range: ~word counts down from 2**32 - 1, exactly
    top = ~word
    false_b = spec.informants.false_report_behaviour if spec.informants is not None else -1
    cum = jnp.zeros((n,), jnp.float32)
    for b in spec.outcome_order:
        cum = cum + by_place(spec, params.false_rate[:, b], jur)
        if b == false_b:  # informants' false and malicious reports
            cum = cum + false_report_rate(spec, params, state)
        outcome = jnp.where(
            (outcome == NONE) & (top < rng.threshold(cum)), jnp.uint8(B + b), outcome
        )
    ghosts = n - spec.agents
    if ghosts:  # ghosts do nothing
        outcome = jnp.where(jnp.arange(n) < spec.agents, outcome, jnp.uint8(NONE))
    return outcome
