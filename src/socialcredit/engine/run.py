"""One day as a pipeline of stages, and a run as a chunked `lax.scan` over days.

`day_step` is the day: one line per stage, in order, each stage a function
``(Context, State, Today) -> (State, Today)`` living beside its mechanism in engine/stages/.
`Context` holds what every stage reads (spec, params, key, day); `Today` carries the day's
facts from stage to stage. The order is load-bearing and stays visible here, not in a
registry: stages that read the carried state (budgets, appeals, beliefs for tomorrow, the map,
debts) come before the day's draws, and everything the day learnt is packed at the end.

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
from dataclasses import dataclass, replace
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh

from socialcredit.compile import Params, Spec
from socialcredit.engine.population import synthesize
from socialcredit.engine.shard import agent_mesh, constrain, pad_for, to_host
from socialcredit.engine.stages.approval import approve
from socialcredit.engine.stages.audiences import watch
from socialcredit.engine.stages.behave import behave
from socialcredit.engine.stages.budget import settle_books
from socialcredit.engine.stages.consequences import carry_home_block, live, own_school_block
from socialcredit.engine.stages.cooperate import cooperate
from socialcredit.engine.stages.corporate import trade
from socialcredit.engine.stages.informants import owe, reward_today
from socialcredit.engine.stages.layers import list_layers, on_day, phase
from socialcredit.engine.stages.learn import perceive
from socialcredit.engine.stages.listing import dawn, rank
from socialcredit.engine.stages.measure import measure
from socialcredit.engine.stages.observe import observe
from socialcredit.engine.stages.people import detain, detained
from socialcredit.engine.stages.publicize import look_up
from socialcredit.engine.stages.record import false_active, file_records, review
from socialcredit.engine.stages.repair import settle_debts
from socialcredit.engine.stages.rewards import give
from socialcredit.engine.stages.score import score
from socialcredit.engine.stages.trust import distrust
from socialcredit.engine.state import (
    E2_LOOKED,
    E2_PAID,
    E2_REPAIRED,
    E2_SIGHTED,
    E2_TIPPED,
    NONE,
    Context,
    State,
    Today,
    pack_events,
)


def day_step(
    spec: Spec, params: Params, key: jax.Array, state: State, day: jax.Array
) -> tuple[State, Today]:
    """Advance one day (0-based ``day``); return the new state and the day's facts.

    Today's behaviour uses the perceived risk and trust carried into the day; `perceive` and
    `distrust` fold in yesterday's events for tomorrow. Were their results used the same day,
    XLA would fuse (and recompute) the contact sums into every behaviour's rate.
    """
    if spec.timeline is not None:  # the places' programmes that run today
        params = on_day(spec, params, day)
    ctx, today = Context(spec, params, key, day), Today()
    if spec.timeline is not None:
        state, today = phase(ctx, state, today)  # listings of stopped programmes end
    if spec.budgets is not None:  # the books, before anything changes a tier
        state, today = settle_books(ctx, state, today)
    state, today = review(ctx, state, today)  # yesterday's false records; appeals
    if spec.informants is not None:
        state, today = reward_today(ctx, state, today)  # pay for reports two days ago
    state, today = perceive(ctx, state, today)  # risk, for tomorrow
    state, today = distrust(ctx, state, today)  # trust, for tomorrow (every scenario)
    if spec.approval is not None:
        state, today = approve(ctx, state, today)  # approval of the system, for tomorrow
    state, today = dawn(ctx, state, today)  # tiers at the start of the day
    if spec.detention is not None:
        state, today = detain(ctx, state, today)  # who is taken, who is held today
    if spec.map is not None:
        state, today = look_up(ctx, state, today)  # the deadbeat map
    if spec.court is not None:
        state, today = settle_debts(ctx, state, today)  # debts paid, credit repaired
    state, today = act(ctx, state, today)  # behave, observe
    state, today = file_records(ctx, state, today)  # record
    state, today = rank(ctx, state, today)  # score, tiers, blacklist
    if spec.layers is not None:
        state, today = list_layers(ctx, state, today)  # layered lists: the court's, sectors'
    if spec.audiences is not None:
        state, today = watch(ctx, state, today)  # who sees the shamed: posters, screens, calls
    state, today = live(ctx, state, today)  # consequences
    if spec.rewards is not None:
        state, today = give(ctx, state, today)  # counted rewards, charged to the budget
    if spec.orgs is not None:
        state, today = trade(ctx, state, today)  # businesses and institutions
    if spec.cooperation is not None:
        state, today = cooperate(ctx, state, today)  # the donation game
    state, today = pack(ctx, state, today)  # the day's facts in one word
    if spec.informants is not None:
        state, today = owe(ctx, state, today)  # informants' pay, carried
    if spec.households is not None:
        state, today = carry_home_block(ctx, state, today)  # children's schools, carried
    return close_day(ctx, state, today)


def act(ctx: Context, state: State, today: Today) -> tuple[State, Today]:
    """Stage: the day's acts and records (behave, then observe)."""
    outcome, recorded, channel, points = _acts(ctx.spec, ctx.params, ctx.key, ctx.day, state)
    false_today = recorded & (outcome >= len(ctx.spec.behaviours))
    return state, replace(
        today,
        outcome=outcome,
        recorded=recorded,
        channel=channel,
        points=points,
        false_today=false_today,
    )


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
        if spec.detention is not None:  # the detained do nothing, so nothing is recorded
            outcome = jnp.where(detained(spec, s), jnp.uint8(NONE), outcome)
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


def pack(ctx: Context, state: State, today: Today) -> tuple[State, Today]:
    """Stage: the day's facts as one uint32 per agent (``today.events``)."""
    spec, params = ctx.spec, ctx.params
    delisted = today.delisted if today.paid is None else today.delisted | today.paid
    off = jnp.zeros(today.outcome.shape, bool)
    events = pack_events(
        today,
        newly_listed=today.listed & ~today.was_listed,
        delisted=delisted,
        tier_up=today.tier < today.tier_before,
        tier_down=today.tier > today.tier_before,
        sanctioned_false=today.sanctioned & (today.false_today | false_active(ctx.day, state)),
        appeal_upheld=today.appealed,
        school_block=(
            _school_block(spec, params, state, today) if spec.households is not None else off
        ),
        rewarded=(today.reward > 0) if today.reward is not None else off,
    )
    return state, replace(today, events=events)


def _school_block(spec: Spec, params: Params, state: State, today: Today) -> jax.Array:
    """Whether this agent's standing bars its household's children: its own programme's tier
    or listing, or a layered list."""
    own = own_school_block(spec, params, state, today.tier, today.listed)
    return own if today.layer_school is None else own | today.layer_school


def close_day(ctx: Context, state: State, today: Today) -> tuple[State, Today]:
    """Stage: what the day hands to the next: the event words, the beliefs for tomorrow and
    the map's sightings."""
    new = replace(
        state,
        events=today.events,
        risk=today.risk,
        trust=today.trust if today.trust is not None else state.trust,
        approval=today.approval if today.approval is not None else state.approval,
        events2=_pack_events2(ctx.spec, state, today),
        sightings=today.sightings if today.sightings is not None else state.sightings,
    )
    return new, today


# The day's stages in day_step's order, each with the Spec field that gates it (None: every
# scenario), for tests/test_stages.py: it checks each stage's contract and that running them in
# this order is day_step.
DAY = (
    ("timeline", phase),
    ("budgets", settle_books),
    (None, review),
    ("informants", reward_today),
    (None, perceive),
    (None, distrust),
    ("approval", approve),
    (None, dawn),
    ("detention", detain),
    ("map", look_up),
    ("court", settle_debts),
    (None, act),
    (None, file_records),
    (None, rank),
    ("layers", list_layers),
    ("audiences", watch),
    (None, live),
    ("rewards", give),
    ("orgs", trade),
    ("cooperation", cooperate),
    (None, pack),
    ("informants", owe),
    ("households", carry_home_block),
    (None, close_day),
)


def _pack_events2(spec: Spec, state: State, today: Today) -> jax.Array:
    """The extra event byte (State.events2), or the carried empty array where unused."""
    if state.events2.shape[0] == 0:  # not carried: no court repayment, repair or map
        return state.events2
    word = jnp.zeros(state.events.shape, jnp.uint8)
    bits = [(today.paid, E2_PAID), (today.repaired, E2_REPAIRED), (today.looked, E2_LOOKED)]
    bits += [(today.sighted, E2_SIGHTED), (today.tipped, E2_TIPPED)]
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
        # the state describes yesterday: measured under yesterday's programmes
        p = on_day(spec, params, day - 1) if spec.timeline is not None else params
        out = (measure(spec, p, st), st.events[sample], score(spec, p, st)[sample])
        out += org_out(spec, st) + layer_out(spec, st, sample)
        st = jax.lax.cond(
            day < spec.days, lambda s: day_step(spec, params, key, s, day)[0], lambda s: s, st
        )
        return constrain(st, mesh, spec.padded), out

    return jax.lax.scan(body, state, jnp.arange(chunk, dtype=jnp.int32))


def layer_out(spec: Spec, state: State, sample: jax.Array) -> tuple:
    """For credit files' causes: the sampled agents' facts of the layered lists ([S] uint32)
    and their listings ([L, S] bool) where there are lists; their extra event byte ([S]
    uint8: paid, repaired, sighted, tipped off) where it is carried."""
    out: tuple = ()
    if spec.layers is not None:
        out += (state.layers.facts[sample], state.layers.since[:, sample] >= 0)
    if state.events2.shape[0] > 0:  # carried only where the scenario uses it (Spec.events2)
        out += (state.events2[sample],)
    return out


def org_out(spec: Spec, state: State) -> tuple:
    """The day's organisation metrics, flat (firm metrics by sector, then institutions), as a
    one-element tuple; empty without organisations, so their scenarios copy out nothing more."""
    if spec.orgs is not None:
        return (jnp.concatenate([state.orgs.firm_counts.reshape(-1), state.orgs.inst_counts]),)
    return ()


@partial(jax.jit, static_argnums=(0,), static_argnames=("mesh",))
def initial_state(spec: Spec, params: Params, key: jax.Array, mesh: Mesh | None = None) -> State:
    """The synthetic population, born sharded over ``mesh`` when one is given (so a population
    larger than one device's memory never sits on one device)."""
    return constrain(synthesize(spec, params, key), mesh, spec.padded)


def default_chunk(days: int) -> int:
    """About 20 progress updates, at most 30 days a chunk."""
    return max(1, min(30, -(-days // 20)))


@dataclass(frozen=True)
class ChunkDone:
    """What `run_chunks` yields after each chunk: the days done, the (padded) spec, and the
    host copies of the chunks' outputs so far (`metrics_so_far` decodes the metrics)."""

    done: int
    spec: Spec
    parts: list

    def metrics_so_far(self) -> np.ndarray:
        """The metrics of the days done but the last, which the next chunk's first entry describes
        (entry i of a chunk describes day i - 1)."""
        return np.concatenate([p[0] for p in self.parts])[1 : self.done]


@dataclass(frozen=True)
class RunDone:
    """What `run_chunks` yields last: the final state and the run's outputs on the host."""

    state: State
    metrics: np.ndarray
    events: np.ndarray
    scores: np.ndarray
    org: np.ndarray | None
    extras: dict


def run_chunks(
    spec: Spec,
    params: Params,
    key: jax.Array,
    chunk_days: int | None = None,
    sample: np.ndarray | None = None,
    devices: int | None = 1,
):
    """The engine's loop over chunks of days, as a generator: a `ChunkDone` after each chunk
    (a caller may pause or stop between them: the dashboard does) and a `RunDone` at the end.
    `simulate_arrays` is this loop run to its end; both give the same arrays.

    With layered lists the sampled agents' list facts [days, S] and listings [days, L, S] are
    in ``RunDone.extras`` (``layer_facts``, ``layer_listed``), and where carried their extra
    event byte [days, S] (``events2``).
    """
    # no longer than the run: a longer chunk compiles and scans days that are all skipped
    # (the chunk size never changes a result, so clamping it is safe)
    chunk = min(chunk_days or default_chunk(spec.days), spec.days)
    mesh = agent_mesh(devices)
    spec = pad_for(spec, mesh)
    state = initial_state(spec, params, key, mesh=mesh)
    idx = jnp.asarray(sample if sample is not None else np.zeros(0, np.int32), jnp.int32)
    parts: list[tuple] = []
    for day0 in range(0, spec.days, chunk):
        state, out = run_chunk(spec, chunk, params, state, key, jnp.int32(day0), idx, mesh=mesh)
        parts.append(tuple(to_host(x) for x in out))  # waits: the progress bar tells the truth
        yield ChunkDone(min(day0 + chunk, spec.days), spec, parts)
    if day0 + chunk == spec.days:
        # the last chunk ended on the last day, which is described by the entry after it: one
        # more call of the compiled chunk (every day skipped), which costs a few
        # measurements, not a second compilation
        state, out = run_chunk(
            spec, chunk, params, state, key, jnp.int32(spec.days), idx, mesh=mesh
        )
        parts.append(tuple(to_host(x)[:1] for x in out))
    # entry i describes day i - 1: drop the entry before day 0 and the skipped days' repeats
    keep = list(range(1, spec.days + 1))
    metrics, events, scores, *rest = (
        np.concatenate([p[k] for p in parts])[keep] for k in range(len(parts[0]))
    )
    org = rest.pop(0) if spec.orgs is not None else None
    extras: dict = {}
    if spec.layers is not None:  # the sampled agents' lists
        extras["layer_facts"], extras["layer_listed"] = rest[:2]
        rest = rest[2:]
    if rest:  # ... and their extra event byte, the last output where it is carried
        extras["events2"] = rest[0]
    yield RunDone(state, metrics, events, scores, org, extras)


def simulate_arrays(
    spec: Spec,
    params: Params,
    key: jax.Array,
    chunk_days: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    sample: np.ndarray | None = None,
    devices: int | None = 1,
    extras: dict | None = None,
) -> tuple[State, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Run the whole scenario on the device (or ``devices`` devices, None for all of them,
    the agent axis sharded over them; the spec's padding is widened if the count needs it).

    Returns the final state, metrics [days, C, M], the sampled agents' event words and
    end-of-day scores [days, S] (S = 0 without a sample), and the organisation metrics
    [days, M_org] (None without organisations), all on the host. An ``extras`` dict receives
    `RunDone.extras` (the sampled agents' layered lists and extra event byte, where carried).
    """
    for item in run_chunks(spec, params, key, chunk_days, sample, devices):
        if isinstance(item, ChunkDone):
            if progress is not None:
                progress(item.done, item.spec.days)
            continue
        if extras is not None:
            extras.update(item.extras)
        return item.state, item.metrics, item.events, item.scores, item.org
    raise AssertionError("run_chunks ended without its RunDone")
