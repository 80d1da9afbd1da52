"""layers: the lists laid over the places' own programmes, and how sanctions combine (issue 14).

Each list (compile/layers.py) works as the court's list does (stages/listing.py), on its own
channels and its own random numbers: an act of one of its grounds is recorded by the list with
the chance its channels catch it, a false record of a ground arrives at its channels' false
rate, and a record lists the person the next day for `term_days` (renewed by a further one;
with `until_paid` only payment ends it). Listed people pay with a daily chance rate *
(wealth / median) ** elasticity, which costs `amount` of wealth and takes them off.

Every list draws its words from a stream folded from its own name (``LayerSpec.streams``), so a
list switched off by the timeline, or removed from the scenario, leaves every other draw of the
run as it was. A list off on a day (outside its timeline span, or outside `where`) records
nobody and holds nobody: its listings end that day.

How sanctions combine, for a person on several lists and under the place's own programme
(`effects`): the sanctions are a union (a travel ban or a school block from any programme
applies); where programmes set the same number the stricter wins (the lowest loan approval,
the highest matching penalty, the largest surcharge); rewards (positive income effects) add
up, the place's own within its budget. A memorandum makes one programme's listing count as a
listing under others, whose `listed` consequences then apply.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import jax
import jax.numpy as jnp

from socialcredit import rng
from socialcredit.compile import Params, Spec
from socialcredit.engine.stages.common import jur_index, lookup, lookup2
from socialcredit.engine.state import NONE, Context, State, Today

# bits of LayerState.facts, per list k at shift FACT_BITS * k
NEW, LEFT, PAID, REC, FALSE, MIS = 1, 2, 4, 8, 16, 32  # FALSE: false or misattached
FACT_BITS = 6
WRONG_LISTING = 8  # LayerState.wrong: bit k pending record wrong, bit 8 + k listing on one
OUTLIVED, REPAIRED, LIFTED = 0, 8, 16  # shifts of LayerState.repair's bits


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class LayerState:
    """Per list and agent: the day the listing began (-1: not listed), and the day's facts."""

    since: jax.Array  # int16 [L, N]
    facts: jax.Array  # uint32 [N] the day's facts of every list (NEW, LEFT, PAID, REC, FALSE, MIS)
    # with a `merge` only (else empty): the day each agent's latest record reaches the list,
    # and whether that record, and the listing, rest on a wrong record (false or misattached)
    pending: jax.Array  # int16 [L, N] (-1 none)
    wrong: jax.Array  # uint16 [N] bit k: pending record wrong; bit 8 + k: listing on one
    # with a `repair_share` only (else empty): the day the list's copy of a locally repaired
    # record is corrected (-1 none), and per list k: bit k the listing has outlived a local
    # repair, bit 8 + k a local repair of a wrongly listed person today, bit 16 + k the
    # listing lifted today by a repair passed on (REPAIR_BITS)
    repair_at: jax.Array  # int16 [L, N]
    repair: jax.Array  # uint32 [N]


def initial_layers(spec: Spec) -> LayerState:
    L, n = spec.layers.L, spec.padded
    m = n * spec.layers.merge  # carried only where some list has a merge
    r = n * spec.layers.repair  # only where some list pairs local repairs
    return LayerState(
        jnp.full((L, n), -1, jnp.int16),
        jnp.zeros(n, jnp.uint32),
        jnp.full((L, m), -1, jnp.int16),
        jnp.zeros(m, jnp.uint16),
        jnp.full((L, r), -1, jnp.int16),
        jnp.zeros(r, jnp.uint32),
    )


def fact(facts: jax.Array, k: int, bit: int) -> jax.Array:
    return (facts >> (FACT_BITS * k)) & bit != 0


def _on(spec: Spec, params: Params, jur: jax.Array, day: jax.Array) -> list[jax.Array]:
    """Whether each list runs today where each agent lives."""
    lp = params.layers
    live = (day >= lp.start) & (day < lp.end)  # [L]
    return [lookup(lp.cover[k], jur) & live[k] for k in range(spec.layers.L)]


def list_layers(ctx: Context, state: State, today: Today) -> tuple[State, Today]:
    """Stage, after the place's own listing: yesterday's records of each list's grounds list
    people today; today's acts are recorded by each list's channels (for tomorrow); listed
    people pay. The day's effect on consequences follows in `effects`."""
    spec, params, key, day = ctx.spec, ctx.params, ctx.key, ctx.day
    lp, ls = params.layers, state.layers
    B = len(spec.behaviours)
    n = spec.padded
    idx = jnp.arange(n, dtype=jnp.uint32)
    jur = jur_index(spec, state.jur)
    jur = jnp.broadcast_to(jur, (n,))
    on = _on(spec, params, jur, day)
    outcome = today.outcome.astype(jnp.int32)
    true_act = outcome < B
    b = jnp.clip(outcome, 0, B - 1)
    real = jnp.arange(n) < spec.agents
    rel = jnp.maximum(state.wealth / params.wealth_median, 0.0)
    since_rows, facts = [], jnp.zeros(n, jnp.uint32)
    pending_rows, wrong = [], ls.wrong
    repair_rows, repair = [], jnp.zeros_like(ls.repair)
    wealth = state.wealth
    merge = spec.layers.merge
    for k in range(spec.layers.L):
        w = 4 if merge else 3  # a fourth word only with a merge: the others' draws stay put
        u_rec, u_false, u_pay, *more = rng.agent_words(
            rng.stage_seeds(key, day, spec.layers.streams[k], w), idx, w
        )
        u_match = more[0] if merge else None
        if merge:  # late adopters: a place's records and people from its adoption day
            on[k] = on[k] & (day >= lookup(lp.adopt[k], jur))
        since = ls.since[k]
        listed = since >= 0
        if merge:  # the latest record reaches the list after the migration delay
            ground = (ls.pending[k].astype(jnp.int32) == day) & on[k]
        else:
            ground = fact(ls.facts, k, REC) & on[k]  # a record yesterday lists (or renews) today
        served = (day - since.astype(jnp.int32)) >= lp.term[k]
        leave = listed & served & ~ground & ~lp.until_paid[k]
        since = jnp.where(ground, day.astype(jnp.int16), since)
        new = ground & ~listed
        since = jnp.where(leave, jnp.int16(-1), since)
        paid = jnp.zeros(n, bool)
        layers = spec.layers
        if layers.repayment:
            p = lp.repay_rate[k] * rel ** lp.repay_elasticity[k]
            paid = (since >= 0) & ~ground & (u_pay < rng.threshold(jnp.minimum(p, 1.0)))
            wealth = jnp.where(paid, jnp.maximum(wealth - lp.repay_amount[k], 0.0), wealth)
            since = jnp.where(paid, jnp.int16(-1), since)
        since = jnp.where(on[k], since, jnp.int16(-1))  # off today: nobody is held
        # today's records by the list's own channels, which list the person tomorrow
        caught = true_act & (u_rec < rng.threshold(lookup2(spec, lp.detect[k], jur, b)))
        false = (u_false < rng.threshold(lookup(lp.false_rate[k], jur))) & ~caught
        rec = (caught | false) & on[k] & real
        wrong_rec, mis = rec & false, jnp.zeros(n, bool)
        if merge:
            rec, wrong_rec, mis, pend, wrong = _merge(
                spec, params, k, day, u_match, rec, false, on[k] & real, ground, since, wrong, ls
            )
            pending_rows.append(pend)
        if layers.repair:
            since, wrong, leave, row, bits = _repair(ctx, today, ls, k, since, wrong, leave, real)
            repair_rows.append(row)
            repair = repair | bits
        word = (
            jnp.where(new, NEW, 0)
            | jnp.where(leave, LEFT, 0)
            | jnp.where(paid, PAID, 0)
            | jnp.where(rec, REC, 0)
            | jnp.where(wrong_rec, FALSE, 0)
            | jnp.where(mis, MIS, 0)
        ).astype(jnp.uint32)
        facts = facts | (word << (FACT_BITS * k))
        since_rows.append(since)
    pending = jnp.stack(pending_rows) if merge else ls.pending
    repair_at = jnp.stack(repair_rows) if repair_rows else ls.repair_at
    layers = LayerState(jnp.stack(since_rows), facts, pending, wrong, repair_at, repair)
    return replace(state, layers=layers, wealth=wealth), today


def _merge(spec, params, k, day, u, rec, false, held, ground, since, wrong, ls):
    """A list's records through the merge: a record matches its person's national identity
    with chance `match_share`; an unmatched one is attached to a namesake (the next agent) with
    chance `misattached_share`, else dropped; what arrives lists the person `delay_days` later.
    Returns (records today, of them wrong ones, misattached ones received, pending, wrong)."""
    from socialcredit.engine.stages.common import contact_shift

    lp = params.layers
    m = lp.match[k]
    matched = u < rng.threshold(m)
    to_other = ~matched & (u < rng.threshold(m + (1.0 - m) * lp.misattach[k]))
    mis = contact_shift(rec & to_other, 1, spec.agents) & held  # i receives i - 1's record
    own = rec & matched
    rec = own | mis
    wrong_rec = (own & false) | mis
    pend = jnp.where(rec, (day + 1 + lp.delay[k]).astype(jnp.int16), ls.pending[k])
    bit, lbit = jnp.uint16(1 << k), jnp.uint16(1 << (WRONG_LISTING + k))
    was_wrong = (wrong & bit) != 0  # the pending record that lists today
    listing_wrong = jnp.where(ground, was_wrong, (wrong & lbit) != 0) & (since >= 0)
    wrong = jnp.where(rec, jnp.where(wrong_rec, wrong | bit, wrong & ~bit), wrong)
    wrong = jnp.where(listing_wrong, wrong | lbit, wrong & ~lbit)
    return rec, wrong_rec, mis, pend, wrong


def _repair(ctx, today, ls, k, since, wrong, leave, real):
    """A local repair paired with the list's copy: when the place's own programme upholds a
    person's appeal against a false record (``today.appealed``) while the person is on list
    k on a false or misattached record, the list's copy is corrected with chance
    `repair_share`, ending the listing `repair_delay_days` later (0: today); otherwise, and
    until then, the listing outlives the local repair. A listing is counted once, at its first
    local repair. Returns (since, wrong, leave, the list's repair days, today's repair bits)."""
    spec, lp, day = ctx.spec, ctx.params.layers, ctx.day
    n = spec.padded
    (u,) = rng.agent_words(
        rng.stage_seeds(
            jax.random.fold_in(ctx.key, rng.LAYER_REPAIR), day, spec.layers.streams[k], 1
        ),
        jnp.arange(n, dtype=jnp.uint32),
        1,
    )
    lbit = jnp.uint16(1 << (WRONG_LISTING + k))
    wrongly = ((wrong & lbit) != 0) & (since >= 0)
    outlived = ((ls.repair >> (OUTLIVED + k)) & 1) != 0  # yesterday's
    at = ls.repair_at[k]
    fixed = today.appealed & wrongly & ~outlived & real
    passed = fixed & (u < rng.threshold(lp.repair_share[k]))
    at = jnp.where(passed, (day + lp.repair_delay[k]).astype(jnp.int16), at)
    lift = wrongly & (at.astype(jnp.int32) == day)
    since = jnp.where(lift, jnp.int16(-1), since)
    wrong = jnp.where(lift, wrong & ~lbit, wrong)
    at = jnp.where(since >= 0, at, jnp.int16(-1))
    outlived = (outlived | fixed) & (since >= 0)
    bits = (
        (outlived.astype(jnp.uint32) << (OUTLIVED + k))
        | (fixed.astype(jnp.uint32) << (REPAIRED + k))
        | (lift.astype(jnp.uint32) << (LIFTED + k))
    )
    return since, wrong, leave | lift, at, bits


def effects(spec: Spec, params: Params, state: State, own_listed: jax.Array) -> dict:
    """What the lists (and memoranda) do to each agent today: whether the place's own `listed`
    consequences apply through a memorandum (``own``), and the lists' combined loan cap, travel
    ban, school block, shaming, matching penalty, surcharge and reward."""
    lp = params.layers
    L = spec.layers.L
    jur = jnp.broadcast_to(jur_index(spec, state.jur), own_listed.shape)
    listed = [state.layers.since[k] >= 0 for k in range(L)]
    own = own_listed
    applies = list(listed)
    # memoranda are numbers (Params), so a sweep or a phase may add one without recompiling
    for dst in range(L):
        for src in range(L):
            if src != dst:
                applies[dst] = applies[dst] | (listed[src] & lp.memo_ll[src, dst])
        applies[dst] = applies[dst] | (own_listed & lookup(lp.memo_ml[:, dst], jur))
    for k in range(L):
        own = own | (listed[k] & lookup(lp.memo_lm[k], jur))
    on = [applies[k] & lookup(lp.cover[k], jur) for k in range(L)]
    one = jnp.ones(own_listed.shape, jnp.float32)
    zero = jnp.zeros(own_listed.shape, jnp.float32)
    off = jnp.zeros(own_listed.shape, bool)
    cap, pen, neg, pos = one, zero, zero, zero
    ban = school = shamed = any_on = off
    for k in range(L):
        cap = jnp.minimum(cap, jnp.where(on[k], lp.loan[k], 1.0))
        pen = jnp.maximum(pen, jnp.where(on[k], lp.matching[k], 0.0))
        neg = jnp.minimum(neg, jnp.where(on[k], jnp.minimum(lp.income[k], 0.0), 0.0))
        pos = pos + jnp.where(on[k], jnp.maximum(lp.income[k], 0.0), 0.0)
        ban = ban | (on[k] & lp.travel[k])
        school = school | (on[k] & lp.school[k])
        shamed = shamed | (on[k] & lp.shamed[k])
        any_on = any_on | on[k]
    return {
        "own": own,
        "loan_cap": cap,
        "travel_ban": ban,
        "school_block": school,
        "shamed": shamed,
        "matching": pen,
        "surcharge": neg,
        "reward": pos,
        "bites": any_on,
    }


def any_listed(state: State) -> jax.Array:
    """On at least one layered list."""
    return (state.layers.since >= 0).any(axis=0)


__all__ = ["NONE", "LayerState", "any_listed", "effects", "initial_layers", "list_layers"]


def on_day(spec: Spec, params: Params, day: jax.Array) -> Params:
    """The Params of one day under the timeline: a place's own programme outside its span
    runs nowhere (no records, no false records, no score, no consequences), as a place without
    a programme. Numbers that phases set take the value in force today (compile_timeline)."""
    tp = params.timeline
    rows = dict(zip(spec.timeline.leaves, tp.values, strict=True))  # leaf -> values by regime
    if rows:  # phases set numbers: today's regime is the last one begun
        regime = jnp.sum(day >= tp.set_from)
        flat, tree = jax.tree_util.tree_flatten_with_path(params)
        flat = [
            x if (k := jax.tree_util.keystr(p)) not in rows else rows[k][regime] for p, x in flat
        ]
        params = jax.tree_util.tree_unflatten(tree, flat)
        tp = params.timeline
    live = params.active & (day >= tp.start) & (day < tp.end)
    return replace(
        params,
        active=live,
        points=jnp.where(live[:, None], params.points, 0),
        detect=jnp.where(live[:, None], params.detect, 0.0),
        false_rate=jnp.where(live[:, None], params.false_rate, 0.0),
    )


def phase(ctx: Context, state: State, today: Today) -> tuple[State, Today]:
    """Stage, first of the day under a timeline: listings of a place's own programme that is
    not running today end (its records stay in the ring but count for nothing: no score)."""
    jur = jur_index(ctx.spec, state.jur)
    live = lookup(ctx.params.active, jnp.broadcast_to(jur, state.listed_since.shape))
    return replace(state, listed_since=jnp.where(live, state.listed_since, jnp.int16(-1))), today
