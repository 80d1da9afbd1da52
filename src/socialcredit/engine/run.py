"""One day as a pipeline of stages, and a run as a chunked `lax.scan` over days.

A day ends by packing its facts into one uint32 per agent (`State.events`). The next step
reads them from there: `measure` reduces them to the day's metrics and `learn` turns them into
perceived risk. Reading from the scan's carry matters for speed: XLA fuses cheap producers
into every consumer, and on the CPU a long integer chain (hashes, selects) recomputed inside
dozens of reductions and shifted copies made a day several times slower; a carried buffer is
always materialised.

A chunk is one compiled call of `chunk_days` days; days past the end of the run are skipped
with `lax.cond`, so every chunk has the same shape and compiles once. Randomness depends only
on (key, day, stage, agent), so the chunk size never changes a result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh

from socialcredit.compile import Params, Spec
from socialcredit.engine.population import synthesize
from socialcredit.engine.shard import agent_mesh, constrain, pad_for, to_host
from socialcredit.engine.stages.behave import behave
from socialcredit.engine.stages.budget import rewards_open, settle
from socialcredit.engine.stages.consequences import (
    consequences,
    household_blocked,
    own_school_block,
)
from socialcredit.engine.stages.corporate import organisations
from socialcredit.engine.stages.informants import pay_informants, reward_due, update_trust
from socialcredit.engine.stages.learn import learn
from socialcredit.engine.stages.listing import blacklist, repay, tiers
from socialcredit.engine.stages.measure import measure
from socialcredit.engine.stages.observe import observe
from socialcredit.engine.stages.publicize import publicize
from socialcredit.engine.stages.record import appeal, false_active, record, remember_false
from socialcredit.engine.stages.repair import clear_negative, repair_budget
from socialcredit.engine.stages.score import score
from socialcredit.engine.state import (
    E2_LOOKED,
    E2_PAID,
    E2_REPAIRED,
    E2_SIGHTED,
    E2_TIPPED,
    NONE,
    TRAIT_HOME_BLOCK,
    State,
    Today,
    pack_events,
)


def day_step(
    spec: Spec, params: Params, key: jax.Array, state: State, day: jax.Array
) -> tuple[State, Today]:
    """Advance one day (0-based ``day``); return the new state and the day's facts.

    Today's behaviour uses the perceived risk and trust carried into the day; `learn` and
    `update_trust` then fold in yesterday's events for tomorrow. Were their results used the
    same day, XLA would fuse (and recompute) the contact sums into every behaviour's rate.
    """
    gate = None
    if spec.budgets is not None:  # from the carried state, before anything changes a tier
        state = settle(spec, params, day, state)
        gate = rewards_open(spec, state)
    state = remember_false(spec, params, day, state)
    state, appealed = appeal(spec, params, key, day, state)
    reward = state.pay_due if spec.informants is not None else None  # for reports two days ago
    if reward is not None and gate is not None:  # a spent budget pays no informant
        reward = jnp.where(gate, reward, jnp.int16(0))
    beliefs = learn(spec, params, state)  # for tomorrow
    if spec.informants is not None:
        beliefs = update_trust(spec, params, key, day, beliefs)
    tier_before = tiers(spec, params, state, score(spec, params, state))
    pub = publicize(spec, params, key, day, state, tier_before) if spec.map is not None else None
    state, paid, repaired = _pay_and_repair(spec, params, key, day, state, pub)
    blocked_home = (state.traits & TRAIT_HOME_BLOCK) != 0 if spec.households is not None else None
    outcome, recorded, channel, points = _acts(spec, params, key, day, state)
    false_today = recorded & (outcome >= len(spec.behaviours))
    state = record(spec, params, day, state, points if reward is None else points + reward)
    sc = score(spec, params, state)
    tier = tiers(spec, params, state, sc)
    was_listed = state.listed_since >= 0
    state, listed, delisted = blacklist(spec, params, day, state, tier)
    owner = state.orgs.owner_flag if spec.orgs is not None and spec.orgs.corporate else None
    state, facts = consequences(
        spec,
        params,
        key,
        day,
        state,
        tier,
        listed,
        points < 0,
        blocked_home,
        pub["sighted"] if pub is not None else None,
        gate,
        owner,
    )
    if paid is not None:
        delisted = delisted | paid
    if spec.orgs is not None:  # businesses, institutions and corporate credit
        state = organisations(spec, params, key, day, state)
    today = Today(
        outcome=outcome,
        recorded=recorded,
        channel=channel,
        points=points,
        score=sc,
        tier=tier,
        listed=listed,
        **facts,
    )
    events = pack_events(
        today,
        newly_listed=listed & ~was_listed,
        delisted=delisted,
        tier_up=tier < tier_before,
        tier_down=tier > tier_before,
        sanctioned_false=facts["sanctioned"] & (false_today | false_active(day, state)),
        appeal_upheld=appealed,
        school_block=(
            own_school_block(spec, params, state, tier, listed)
            if spec.households is not None
            else jnp.zeros(outcome.shape, bool)
        ),
        rewarded=(reward > 0) if reward is not None else jnp.zeros(outcome.shape, bool),
    )
    due, pay = state.reward_due, state.pay_due
    if spec.informants is not None:
        pay = pay_informants(spec, params, state)  # yesterday's reports, paid tomorrow
        reported = recorded & (channel == len(spec.channels) - 1)
        due = reward_due(spec, params, state, outcome, reported)
    traits = state.traits
    if spec.households is not None:  # for tomorrow, as a bit of the traits byte
        home = household_blocked(state)
        traits = jnp.where(home, traits | TRAIT_HOME_BLOCK, traits & ~jnp.uint8(TRAIT_HOME_BLOCK))
    new = replace(
        state,
        events=events,
        risk=beliefs.risk,
        trust=beliefs.trust,
        reward_due=due,
        pay_due=pay,
        traits=traits,
        events2=_pack_events2(spec, state, pub, paid, repaired),
        sightings=pub["sightings"] if pub is not None else state.sightings,
    )
    return new, today


def _acts(
    spec: Spec, params: Params, key: jax.Array, day: jax.Array, state: State
) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """The day's acts and records (behave, then observe), computed once and kept in memory.

    XLA's CPU backend would otherwise fuse the whole chain (rates, draws, detection) into
    each of its consumers (the expiry ring, the point sums, the event word) and compute it
    three times over; an optimisation barrier is dropped by its pipeline. The outputs of a
    conditional are always materialised, so the chain runs inside one whose predicate is
    true on every real day (docs/decisions.md).
    """

    def run(s: State) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
        outcome = behave(spec, params, key, day, s)
        return (outcome, *observe(spec, params, key, day, s, outcome))

    def idle(s: State) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
        n = spec.padded
        return (
            jnp.full((n,), NONE, jnp.uint8),
            jnp.zeros((n,), bool),
            jnp.full((n,), -1, jnp.int8),
            jnp.zeros((n,), jnp.int16),
        )

    return jax.lax.cond(day >= 0, run, idle, state)


def _pay_and_repair(
    spec: Spec, params: Params, key: jax.Array, day: jax.Array, state: State, pub: dict | None
) -> tuple[State, jax.Array | None, jax.Array | None]:
    """Court-listed debtors pay (and clear the debt record); yesterday's repairing acts clear
    negative records. Both before today's records, from the carried state."""
    court = spec.court
    if court is None or not court.events2:
        return state, None, None
    paid = repaired = None
    budget = jnp.zeros(state.events.shape, jnp.int32)
    if court.repayment:
        state, paid, budget = repay(
            spec, params, key, day, state, pub["tipped"] if pub is not None else None
        )
    if court.repair:
        repairing = repair_budget(spec, params, state)
        budget = budget + repairing
    state, cleared = clear_negative(spec, params, day, state, budget)
    if court.repair:
        repaired = (repairing > 0) & (cleared > 0)
    return state, paid, repaired


def _pack_events2(
    spec: Spec, state: State, pub: dict | None, paid: jax.Array | None, rep: jax.Array | None
) -> jax.Array:
    """The extra event byte (State.events2), or the carried empty array where unused."""
    if not spec.events2:
        return state.events2
    word = jnp.zeros(state.events.shape, jnp.uint8)
    bits = [(paid, E2_PAID), (rep, E2_REPAIRED)]
    if pub is not None:
        bits += [(pub["looked"], E2_LOOKED), (pub["sighted"], E2_SIGHTED)]
        bits += [(pub["tipped"], E2_TIPPED)]
    for flag, bit in bits:
        if flag is not None:
            word = word | jnp.where(flag, jnp.uint8(bit), jnp.uint8(0))
    return word


@partial(jax.jit, static_argnums=(0, 1), static_argnames=("mesh",), donate_argnums=(3,))
def run_chunk(
    spec: Spec,
    chunk: int,
    params: Params,
    state: State,
    key: jax.Array,
    day0: jax.Array,
    sample: jax.Array,
    mesh: Mesh | None = None,
) -> tuple[State, tuple[jax.Array, jax.Array, jax.Array]]:
    """Run days day0 .. day0 + chunk - 1 (those past the end are skipped).

    Returns the state and, per day, metrics [chunk, C, M] and the event words and scores of
    the sampled agents [chunk, S]; entry d describes day day0 + d - 1 (the day the incoming
    state ended). The last day is described by the first entry of the next call (whose days, past
    the end, are skipped; see `simulate_arrays`). With a ``mesh`` the carried
    state stays sharded over it along the agent axis (engine/shard.py).
    """

    def body(st: State, d: jax.Array):
        day = day0 + d
        out = (measure(spec, params, st), st.events[sample], score(spec, params, st)[sample])
        out += org_out(spec, st)
        st = jax.lax.cond(
            day < spec.days, lambda s: day_step(spec, params, key, s, day)[0], lambda s: s, st
        )
        return constrain(st, mesh, spec.padded), out

    return jax.lax.scan(body, state, jnp.arange(chunk, dtype=jnp.int32))


def org_out(spec: Spec, state: State) -> tuple:
    """The day's organisation metrics, flat (firm metrics by sector, then institutions), as a
    one-element tuple; empty without organisations, so their scenarios copy out nothing more."""
    if spec.orgs is None:
        return ()
    return (jnp.concatenate([state.orgs.firm_counts.reshape(-1), state.orgs.inst_counts]),)


@partial(jax.jit, static_argnums=(0,), static_argnames=("mesh",))
def initial_state(spec: Spec, params: Params, key: jax.Array, mesh: Mesh | None = None) -> State:
    """The synthetic population, born sharded over ``mesh`` when one is given (so a population
    larger than one device's memory never sits on one device)."""
    return constrain(synthesize(spec, params, key), mesh, spec.padded)


def default_chunk(days: int) -> int:
    """About 20 progress updates, at most 30 days a chunk."""
    return max(1, min(30, -(-days // 20)))


def simulate_arrays(
    spec: Spec,
    params: Params,
    key: jax.Array,
    chunk_days: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    sample: np.ndarray | None = None,
    devices: int | None = 1,
) -> tuple[State, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Run the whole scenario on the device (or ``devices`` devices, None for all of them,
    the agent axis sharded over them; the spec's padding is widened if the count needs it).

    Returns the final state, metrics [days, C, M], the sampled agents' event words and
    end-of-day scores [days, S] (S = 0 without a sample), and the organisation metrics
    [days, M_org] (None without organisations), all on the host.
    """
    chunk = chunk_days or default_chunk(spec.days)
    mesh = agent_mesh(devices)
    spec = pad_for(spec, mesh)
    state = initial_state(spec, params, key, mesh=mesh)
    idx = jnp.asarray(sample if sample is not None else np.zeros(0, np.int32), jnp.int32)
    parts: list[tuple] = []
    for day0 in range(0, spec.days, chunk):
        state, out = run_chunk(spec, chunk, params, state, key, jnp.int32(day0), idx, mesh=mesh)
        parts.append(tuple(to_host(x) for x in out))  # waits: the progress bar tells the truth
        if progress is not None:
            progress(min(day0 + chunk, spec.days), spec.days)
    if spec.days % chunk == 0:
        # the last day is described by the entry after it: one more call of the compiled chunk
        # (every day skipped), which costs a few measurements, not a second compilation
        state, out = run_chunk(
            spec, chunk, params, state, key, jnp.int32(spec.days), idx, mesh=mesh
        )
        parts.append(tuple(to_host(x)[:1] for x in out))
    # entry i describes day i - 1: drop the entry before day 0 and the skipped days' repeats
    keep = list(range(1, spec.days + 1))
    metrics, events, scores, *org = (
        np.concatenate([p[k] for p in parts])[keep] for k in range(len(parts[0]))
    )
    return state, metrics, events, scores, (org[0] if org else None)
