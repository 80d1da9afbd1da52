"""State of the population (carried from day to day), Today (one day's facts, handed from
stage to stage) and Context (what every stage reads).

Struct-of-arrays with the narrowest dtype that holds each value: memory per agent is what
limits a national run. Agents are laid out by (jurisdiction, group) cell, so a cell is a
contiguous slice and per-cell sums need no scatter.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import jax

if TYPE_CHECKING:
    from socialcredit.compile import Params, Spec


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class State:
    """What persists between days, per agent (N agents, K expiry buckets)."""

    # int16 [K, N] points per expiry bucket (int32 if a bucket could overflow); their sum is
    # the agent's running total (`raw_points`), not stored: 4 bytes per agent less
    ring: jax.Array
    listed_since: jax.Array  # int16 [N] day the listing began, -1 when not listed
    wealth: jax.Array  # float32 [N] in median annual incomes
    risk: jax.Array  # float16 [N] perceived risk of sanction (adaptive model)
    propensity: jax.Array  # float16 [N] multiplier of misconduct rates, mean 1
    jur: jax.Array  # uint8 [N] jurisdiction index
    group: jax.Array  # uint8 [N] group index
    events: jax.Array  # uint32 [N] yesterday's facts, packed (see pack_events)
    false_until: jax.Array  # int16 [N] first day the agent's latest false record no longer counts
    false_pts: jax.Array  # int16 [N] points of that false record (read by appeals only)
    political: jax.Array  # float16 [N] propensity to speak about the government, mean 1
    religiosity: jax.Array  # float16 [N] mean 1
    trust: jax.Array  # float16 [N] interpersonal trust in [0, 1]
    traits: jax.Array  # uint8 [N] static bits, see TRAIT_* below
    # uint8 [N] informants among the agent's contacts (static); where an agent has at most
    # 14 contacts, the high nibble holds the index (in contact_offsets) of the first informant
    # contact, 15 none, and `inf_first` is empty (stages/informants.py reads both)
    inf_k: jax.Array
    inf_first: jax.Array  # uint8 [N] that index, 255 none, where contacts are more than 14
    reward_due: jax.Array  # int16 [N] points owed to whoever reported this agent today
    pay_due: jax.Array  # int16 [N] points this informant is paid tomorrow (yesterday's reports)
    # Only where the scenario uses the mechanisms (Spec.events2, spec.map); length 0 otherwise,
    # so other scenarios carry nothing.
    events2: jax.Array  # uint8 [N] yesterday's extra facts (E2_* bits below)
    sightings: jax.Array  # uint16 [N] listed people this app user saw on the map yesterday
    # Budgets (stages/budget.py): per jurisdiction or per cell, not per agent
    spent: jax.Array  # float32 [J] reward money spent so far this year
    budget_open: jax.Array  # bool [J] rewards were paid today (the year's money not yet spent)
    budget_day: jax.Array  # float32 [2, C] today's informant payments (money), and withheld
    orgs: Any = None  # engine.orgs.Orgs: businesses and institutions (None: no organisations)
    coop: Any = None  # engine.cooperation.CoopState: the donation game (None: no game)
    layers: Any = None  # stages.layers.LayerState: layered lists (None: no lists)
    audience: Any = None  # uint8 [N] what the agent saw shamed today (stages/audiences.py)
    rewards: Any = None  # float32 [C, M] the day's counted rewards (stages/rewards.py)
    people: Any = None  # stages.people.PeopleState: occupations, detention (None: neither)
    approval: Any = None  # float16 [N] approval of the system (None: no approval section)


# Bits of State.traits (static over a run, except TRAIT_HOME_BLOCK, set each day).
TRAIT_CHILDREN = 0x03  # children of the household, counted on its head (0..3)
TRAIT_HAS_PARTNER = 0x04  # the next agent is this head's partner
TRAIT_IS_PARTNER = 0x08  # this agent is the partner of the previous one
TRAIT_INFORMANT = 0x10
TRAIT_HOME_BLOCK = 0x20  # the household's children are barred from good schools (daily)

# Bits of State.events2: the day's facts of the court list, credit repair and the map (the
# packed event word is full).
E2_LOOKED = 0x01  # this app user looked at the map
E2_SIGHTED = 0x02  # seen on the map by at least one user (shunned)
E2_TIPPED = 0x04  # reported to the court by at least one user
E2_PAID = 0x08  # paid the debt and left the list
E2_REPAIRED = 0x10  # negative records cleared by credit repair


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class Today:
    """One day's facts, handed from stage to stage and then dropped (not carried). A stage
    fills the fields it knows; a field stays None where the day has not reached it yet or the
    scenario lacks the mechanism that makes it."""

    # budgets (stages/budget.py)
    gate: jax.Array | None = None  # bool [N] the jurisdiction still pays rewards today
    # records (stages/record.py) and informants (stages/informants.py)
    appealed: jax.Array | None = None  # bool [N] a false record was removed on appeal today
    reward: jax.Array | None = None  # int16 [N] points an informant is paid today
    # beliefs for tomorrow (stages/learn.py; trust: stages/informants.py)
    risk: jax.Array | None = None  # float16 [N]
    trust: jax.Array | None = None  # float16 [N]
    approval: jax.Array | None = None  # float16 [N] (stages/approval.py)
    tier_before: jax.Array | None = None  # uint8 [N] tier at the start of the day
    # the map (stages/publicize.py)
    looked: jax.Array | None = None  # bool [N] this app user looked at the map
    sighted: jax.Array | None = None  # bool [N] seen on the map by at least one user
    tipped: jax.Array | None = None  # bool [N] reported to the court by at least one user
    sightings: jax.Array | None = None  # uint16 [N] listed people this user saw
    refusal: jax.Array | None = None  # float32 [N] chance a match refuses one seen shamed
    # the court list and credit repair (stages/repair.py)
    paid: jax.Array | None = None  # bool [N] paid the debt and left the list
    repaired: jax.Array | None = None  # bool [N] negative records cleared by credit repair
    # acts and records (behave, observe: engine/run.py `act`)
    outcome: jax.Array | None = None  # uint8 [N]: b < B act of b; B + b false record of b; NONE
    recorded: jax.Array | None = None  # bool [N] a record was made (true or false)
    channel: jax.Array | None = None  # int8 [N] channel that made the record, -1 none
    points: jax.Array | None = None  # int16 [N] points of today's record
    false_today: jax.Array | None = None  # bool [N] today's record is a false one
    # standing (stages/listing.py)
    score: jax.Array | None = None  # int16 [N] score at the end of the day
    tier: jax.Array | None = None  # uint8 [N] tier index, 0 = top
    was_listed: jax.Array | None = None  # bool [N] on the blacklist before today's update
    listed: jax.Array | None = None  # bool [N] on the blacklist
    delisted: jax.Array | None = None  # bool [N] left the blacklist today (term served)
    # consequences (stages/consequences.py)
    loan_applied: jax.Array | None = None  # bool [N]
    loan_refused: jax.Array | None = None  # bool [N]
    travelled: jax.Array | None = None  # bool [N] wanted to take a long trip
    travel_blocked: jax.Array | None = None  # bool [N]
    sanctioned: jax.Array | None = None  # bool [N] felt the system bite today
    school_applied: jax.Array | None = None  # bool [N] a child of the household applied
    school_refused: jax.Array | None = None  # bool [N] ... and was refused for its standing
    match_attempted: jax.Array | None = None  # bool [N] sought a dating or job match
    match_lost: jax.Array | None = None  # bool [N] ... and lost it to a penalty or shunning
    match_u: jax.Array | None = None  # float32 [N] the attempt's uniform draw (rewards only)
    shamed: jax.Array | None = None  # bool [N] publicly shamed today
    # layered lists (stages/layers.py): their combined effects, from `live` to `pack`
    layer_school: jax.Array | None = None  # bool [N] a list bars the household's children
    events: jax.Array | None = None  # uint32 [N] the day's facts, packed (pack_events)


@partial(
    jax.tree_util.register_dataclass, data_fields=["params", "key", "day"], meta_fields=["spec"]
)
@dataclass(frozen=True)
class Context:
    """What every stage reads: the static Spec, the Params, the run key and the day (0-based)."""

    spec: Spec
    params: Params
    key: jax.Array
    day: jax.Array


NONE = 127  # outcome code for "nothing today" (codes 0..2B-1 with B <= 32 stay below it)

# Bit layout of the packed event word that carries a day's facts to the next step, where
# `learn` and `measure` read them from a materialised buffer (see engine/run.py).
_FIELDS = (
    ("outcome", 7),
    ("recorded", 1),
    ("channel1", 6),  # channel + 1, 0 = none
    ("newly_listed", 1),
    ("loan_applied", 1),
    ("loan_refused", 1),
    ("travelled", 1),
    ("travel_blocked", 1),
    ("sanctioned", 1),
    ("sanctioned_false", 1),  # sanctioned while holding an active false record
    ("tier_up", 1),
    ("tier_down", 1),
    ("delisted", 1),
    ("rewarded", 1),  # paid for an informant report
    ("school_applied", 1),
    ("school_refused", 1),
    ("school_block", 1),  # the agent's standing at the end of the day blocks its children
    ("match_attempted", 1),
    ("match_lost", 1),  # a dating or job match failed that would have succeeded unpenalised
    ("shamed", 1),  # on a poster or screen today
    ("appeal_upheld", 1),  # a false record was removed on appeal today
)
_SHIFT = {}
_pos = 0
for _name, _bits in _FIELDS:
    _SHIFT[_name] = (_pos, (1 << _bits) - 1)
    _pos += _bits


def pack_events(today: Today, **more: jax.Array) -> jax.Array:
    """One uint32 per agent holding the day's facts (``more``: further named bits)."""
    import jax.numpy as jnp

    vals = {
        "outcome": today.outcome,
        "recorded": today.recorded,
        "channel1": today.channel.astype(jnp.int32) + 1,
        "loan_applied": today.loan_applied,
        "loan_refused": today.loan_refused,
        "travelled": today.travelled,
        "travel_blocked": today.travel_blocked,
        "sanctioned": today.sanctioned,
        "school_applied": today.school_applied,
        "school_refused": today.school_refused,
        "match_attempted": today.match_attempted,
        "match_lost": today.match_lost,
        "shamed": today.shamed,
        **more,
    }
    word = jnp.zeros(today.outcome.shape, jnp.uint32)
    for name, v in vals.items():
        word = word | (v.astype(jnp.uint32) << _SHIFT[name][0])
    return word


def event_field(events: jax.Array, name: str) -> jax.Array:
    """Unpack one field of the event word (as uint32)."""
    shift, mask = _SHIFT[name]
    return (events >> shift) & mask


def raw_points(state: State) -> jax.Array:
    """int32 sum of the points of each agent's active records: the sum of its expiry ring.

    Summed when needed instead of stored: K reads of int16 a day against 4 bytes per agent
    of state (docs/decisions.md). The sum cannot overflow int32."""
    return state.ring.astype("int32").sum(axis=0)


def state_bytes_per_agent(state: State) -> int:
    """Bytes of persistent state per agent (the figure docs/performance.md reports)."""
    n = state.events.shape[0]
    return sum(x.size * x.dtype.itemsize for x in jax.tree_util.tree_leaves(state)) // n
