"""The engine's first day: synthetic individuals, who lives where, their wealth and their
propensity to misbehave.

Everything is drawn on the device from the run key, so a population of any size costs no
host memory and a run with and without the system starts from the same people.
"""

from __future__ import annotations

from dataclasses import replace

import jax
import jax.numpy as jnp

from socialcredit import rng
from socialcredit.compile import Params, Spec
from socialcredit.engine.cooperation import start as coop_initial
from socialcredit.engine.orgs import synthesize_orgs
from socialcredit.engine.stages.approval import initial_approval
from socialcredit.engine.stages.common import contact_shift, shifted_sum
from socialcredit.engine.stages.informants import packed_informants
from socialcredit.engine.stages.layers import initial_layers
from socialcredit.engine.stages.people import carried as people_carried
from socialcredit.engine.stages.people import initial_people
from socialcredit.engine.stages.rewards import initial_rewards
from socialcredit.engine.stages.trust import own_initial
from socialcredit.engine.state import (
    NONE,
    TRAIT_HAS_PARTNER,
    TRAIT_INFORMANT,
    TRAIT_IS_PARTNER,
    State,
)


def _normal(word: jax.Array) -> jax.Array:
    u = (rng.unit(word) + (0.5 / 16777216.0)).astype(jnp.float32)  # in (0, 1)
    return jax.scipy.special.ndtri(u)


def carried(spec: Spec) -> dict[str, bool]:
    """Which of the optional per-agent arrays a scenario needs in its state.

    The others are stored with length 0 (as `events2` and `sightings` are): a national run is
    limited by bytes per agent, and most scenarios lack informants, households, dispositions,
    several jurisdictions or several groups. Readers use `jur_index`/`group_index` (a single
    place or group is index 0) and `trust_of`; the snapshot regenerates the static ones from
    the run key (`synthesize(..., slim=False)`). See docs/decisions.md.
    """
    inf = spec.informants is not None
    return {
        "jur": len(spec.jurisdictions) > 1,
        "group": len(spec.groups) > 1,
        "political": 1 in spec.dispositions,
        "religiosity": 2 in spec.dispositions,
        "trust": True,  # in every scenario (stages/trust.py)
        "inf_k": inf,
        "inf_first": inf and not packed_informants(spec),
        "reward_due": inf,
        "pay_due": inf,
        "false_pts": spec.appeals is not None,  # only an appeal needs the false record's points
    }


def synthesize(spec: Spec, params: Params, key: jax.Array, slim: bool = True) -> State:
    """The initial state: agents laid out by (jurisdiction, group) cell.

    With ``slim`` (the engine's state), arrays the scenario does not use have length 0 (see
    `carried`); without it every field is full length, for the per-agent snapshot."""
    n = spec.padded
    idx = jnp.arange(n, dtype=jnp.uint32)
    w_wealth, w_prop, w_pol, w_rel, w_inf, w_pair, w_kids = rng.agent_words(
        rng.stage_seeds(key, 0, rng.POPULATION, 7), idx, 7
    )
    jur, group = _labels(spec, idx)
    g = group.astype(jnp.int32)
    wealth = params.wealth_median * jnp.exp(params.wealth_sigma * _normal(w_wealth))
    wealth = wealth * params.wealth_factor[g]

    def lognormal(word: jax.Array, sig: jax.Array) -> jax.Array:
        return jnp.exp(sig * _normal(word) - 0.5 * sig * sig)  # mean 1

    propensity = lognormal(w_prop, params.propensity_sigma)
    traits = households(spec, params, idx, jur, group, w_pair, w_kids)
    real = idx < spec.agents
    informant = jnp.zeros(n, bool)
    if spec.informants is not None:
        informant = (rng.unit(w_inf) < params.informants.share[g]) & real
    traits = traits | jnp.where(informant, jnp.uint8(TRAIT_INFORMANT), jnp.uint8(0))
    state = State(
        ring=jnp.zeros((spec.buckets, n), spec.ring_dtype),
        listed_since=jnp.full(n, -1, jnp.int16),
        wealth=wealth.astype(jnp.float32),
        risk=jnp.full(n, params.initial_risk, jnp.float16),
        propensity=propensity.astype(jnp.float16),
        jur=jur,
        group=group,
        events=jnp.full(n, NONE, jnp.uint32),
        false_until=jnp.zeros(n, jnp.int16),
        false_pts=jnp.zeros(n, jnp.int16),
        political=lognormal(w_pol, params.political_sigma).astype(jnp.float16),
        religiosity=lognormal(w_rel, params.religiosity_sigma).astype(jnp.float16),
        trust=jnp.broadcast_to(own_initial(spec, params, key), (n,)).astype(jnp.float16),
        traits=traits,
        inf_k=_informant_word(spec, informant),
        inf_first=_first_contact(spec, informant),
        reward_due=jnp.zeros(n, jnp.int16),
        pay_due=jnp.zeros(n, jnp.int16),
        events2=jnp.zeros(n * spec.events2, jnp.uint8),
        sightings=jnp.zeros(n * (spec.map is not None), jnp.uint16),
        spent=jnp.zeros(len(spec.jurisdictions), jnp.float32),
        budget_open=jnp.ones(len(spec.jurisdictions), bool),
        budget_day=jnp.zeros((2, spec.n_cells), jnp.float32),
        orgs=(
            synthesize_orgs(spec.orgs, params.orgs, key, spec.agents, n)
            if spec.orgs is not None
            else None
        ),
        coop=coop_initial(spec.cooperation, key) if spec.cooperation is not None else None,
        layers=initial_layers(spec) if spec.layers is not None else None,
        audience=jnp.zeros(n, jnp.uint8) if spec.audiences is not None else None,
        rewards=initial_rewards(spec) if spec.rewards is not None else None,
        people=initial_people(spec, params, key, group) if people_carried(spec) else None,
        approval=initial_approval(spec, params, group) if spec.approval is not None else None,
    )
    if not slim:
        return state
    absent = {k: jnp.zeros(0, getattr(state, k).dtype) for k, v in carried(spec).items() if not v}
    return replace(state, **absent)


def _labels(spec: Spec, idx: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Jurisdiction and group of each slot (uint8), from the cell boundaries. Padding slots
    take the last cell's labels but lie outside every cell.

    Computed from the index rather than built on the host: a host array would be embedded in
    the program as a constant of N bytes (gigabytes at national scale) and could not be born
    sharded across devices."""
    starts = spec.cell_starts[1:-1]  # the boundaries between cells
    if len(starts) <= 32:
        cell = sum((idx >= s).astype(jnp.int32) for s in starts) if starts else 0
        cell = jnp.zeros(idx.shape, jnp.int32) + cell
    else:
        cell = jnp.searchsorted(jnp.asarray(starts, jnp.uint32), idx, side="right")
        cell = cell.astype(jnp.int32)
    G = len(spec.groups)
    return (cell // G).astype(jnp.uint8), (cell % G).astype(jnp.uint8)


def _informant_word(spec: Spec, informant: jax.Array) -> jax.Array:
    """`State.inf_k`: the count of informant contacts, with the first one's index in the high
    nibble where it fits (see `packed_informants`)."""
    count = _count_contacts(spec, informant)
    if not packed_informants(spec):
        return count
    first = jnp.minimum(_first_contact(spec, informant), 15)
    return count | (first << 4)


def _first_contact(spec: Spec, flag: jax.Array) -> jax.Array:
    """Index (in contact order) of each agent's first contact with ``flag``; 255 if none."""
    first = jnp.full(flag.shape, 255, jnp.uint8)
    for k, o in reversed(list(enumerate(spec.contact_offsets))):
        # contact at (i + o) mod agents
        first = jnp.where(contact_shift(flag, -o, spec.agents), jnp.uint8(k), first)
    return first


def _count_contacts(spec: Spec, flag: jax.Array) -> jax.Array:
    """How many of each agent's contacts have ``flag`` (static, so counted once)."""
    offsets = spec.contact_offsets
    if not offsets:
        return jnp.zeros(flag.shape, jnp.uint8)
    return shifted_sum(flag.astype(jnp.uint8), offsets, spec.agents)


def households(
    spec: Spec, params: Params, idx: jax.Array, jur: jax.Array, group: jax.Array, w_pair, w_kids
) -> jax.Array:
    """Household bits: agents 2m and 2m+1 of one cell form a couple with the chance that gives
    `partner_share` two-adult households; every head holds the household's children."""
    if spec.households is not None:
        return _household_bits(spec, params, idx, jur, group, w_pair, w_kids)
    return jnp.zeros(idx.shape, jnp.uint8)


def _household_bits(
    spec: Spec, params: Params, idx: jax.Array, jur: jax.Array, group: jax.Array, w_pair, w_kids
) -> jax.Array:
    even = (idx % 2) == 0
    same_cell = (
        (jur == jnp.roll(jur, -1)) & (group == jnp.roll(group, -1)) & (idx + 1 < spec.agents)
    )
    couple = even & same_cell & (rng.unit(w_pair) < params.households.partner_pair)
    partner = jnp.roll(couple, 1) & ~even  # agent 2m+1 of a couple
    kids = jnp.sum(
        rng.unit(w_kids)[:, None] >= params.households.children_cdf[None, :3], axis=1
    ).astype(jnp.uint8)
    head = ~partner & (idx < spec.agents)
    bits = jnp.where(head, kids, 0).astype(jnp.uint8)
    bits = bits | jnp.where(couple, jnp.uint8(TRAIT_HAS_PARTNER), jnp.uint8(0))
    bits = bits | jnp.where(partner, jnp.uint8(TRAIT_IS_PARTNER), jnp.uint8(0))
    return bits


def homes(key: jax.Array, index: jax.Array, side_m: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Home location (x, y) in metres on the agent's jurisdiction plane, uniform over a square
    of side ``side_m``. Stateless: derived from the run key and the agent index, so positions
    cost no memory and any stage can recompute them."""
    wx, wy = rng.agent_words(rng.stage_seeds(key, 0, rng.PLACES, 2), index.astype(jnp.uint32), 2)
    return rng.unit(wx) * side_m, rng.unit(wy) * side_m
