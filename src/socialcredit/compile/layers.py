"""Compile the layered lists and the memoranda for people (issue 14; stages/layers.py).

A scenario's `lists` are programmes laid over the places' own: each has its own channels (so
its own records), grounds, term, repayment, consequences and budget. Their number is static
(`LayerSpec.names`); every number is in `LayerParams`, so sweeps vary them without
recompiling. Each list draws on random numbers folded from its own name (`LayerSpec.streams`),
so adding, removing or switching off one list never moves another's draws.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from socialcredit.compile.core import Tables
from socialcredit.scenario.loader import regimes, without_sets
from socialcredit.scenario.model import Scenario

f32 = np.float32
# stage ids of the lists' random streams: LAYER_STREAM + a 16-bit hash of the list's name, far
# above the engine's own ids (rng.py)
LAYER_STREAM = 1 << 20
NO_END = 2**31 - 1


@dataclass(frozen=True)
class LayerSpec:
    """Names of the layered lists (their order is the order of every [L, ...] table)."""

    names: tuple[str, ...]
    streams: tuple[int, ...]  # stage id of each list's random numbers
    repayment: bool  # some list's debtors pay to leave it
    school: bool  # some list bars the listed's children from good schools
    merge: bool = False  # some list has a `merge` (identity matching, delay, late adopters)
    repair: bool = False  # some list's merge pairs local repairs with its copy (repair_share)

    @property
    def L(self) -> int:
        return len(self.names)


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class LayerParams:
    cover: jax.Array  # [L, J] bool: the list runs in this jurisdiction
    detect: jax.Array  # [L, J, B] P(an act of b is recorded by the list), 0 off its grounds
    false_rate: jax.Array  # [L, J] P(a false record of a ground) per agent-day
    false_b: jax.Array  # [L] int32 behaviour a false record names (the first ground)
    term: jax.Array  # [L] int32
    until_paid: jax.Array  # [L] bool
    repay_rate: jax.Array  # [L]
    repay_elasticity: jax.Array  # [L]
    repay_amount: jax.Array  # [L]
    loan: jax.Array  # [L] loan approval of the listed (1.0: the list does not set it)
    travel: jax.Array  # [L] bool
    school: jax.Array  # [L] bool
    income: jax.Array  # [L] income effect of the listed
    matching: jax.Array  # [L] matching penalty of the listed
    shamed: jax.Array  # [L] bool
    memo_ll: jax.Array  # [L, L] bool: on list a -> list b's consequences (a, b)
    memo_lm: jax.Array  # [L, J] bool: on list l -> the place's own `listed` consequences
    memo_ml: jax.Array  # [J, L] bool: on the place's own list -> list l's consequences
    start: jax.Array  # [L] int32 first day the list runs (the timeline; 0 without one)
    end: jax.Array  # [L] int32 first day it no longer runs
    match: jax.Array  # [L] share of records matching the right identity (merge)
    misattach: jax.Array  # [L] share of unmatched records attached to a namesake
    delay: jax.Array  # [L] int32 days a record takes to reach the list
    adopt: jax.Array  # [L, J] int32 first day a place's records reach the list
    repair_share: jax.Array  # [L] P(a local repair is passed on to the list's copy)
    repair_delay: jax.Array  # [L] int32 days it takes


def stream_id(name: str) -> int:
    return LAYER_STREAM + (zlib.crc32(name.encode()) & 0xFFFF)


def compile_layers(sc: Scenario, t: Tables) -> tuple[LayerSpec | None, LayerParams | None]:
    lists = sc.lists or {}
    if not lists:
        return None, None
    names = tuple(lists)
    L, J, B = len(names), len(t.progs), len(t.behaviours)
    places = [j.name for j in sc.jurisdictions]
    chans = {c.name: c for c in sc.channels}
    out = {
        "cover": np.zeros((L, J), bool),
        "detect": np.zeros((L, J, B), f32),
        "false_rate": np.zeros((L, J), f32),
        "false_b": np.zeros(L, np.int32),
        "term": np.ones(L, np.int32),
        "until_paid": np.zeros(L, bool),
        "repay_rate": np.zeros(L, f32),
        "repay_elasticity": np.zeros(L, f32),
        "repay_amount": np.zeros(L, f32),
        "loan": np.ones(L, f32),
        "travel": np.zeros(L, bool),
        "school": np.zeros(L, bool),
        "income": np.zeros(L, f32),
        "matching": np.zeros(L, f32),
        "shamed": np.zeros(L, bool),
        "memo_ll": np.zeros((L, L), bool),
        "memo_lm": np.zeros((L, J), bool),
        "memo_ml": np.zeros((J, L), bool),
        "start": np.zeros(L, np.int32),
        "end": np.full(L, NO_END, np.int32),
        "match": np.ones(L, f32),
        "misattach": np.zeros(L, f32),
        "delay": np.zeros(L, np.int32),
        "adopt": np.zeros((L, J), np.int32),
        "repair_share": np.zeros(L, f32),
        "repair_delay": np.zeros(L, np.int32),
    }
    for i, x in enumerate(lists.values()):
        where = x.where if x.where is not None else places
        out["cover"][i] = [p in where for p in places]
        used = [chans[c] for c in x.channels]
        funded = 1.0
        if x.budget is not None:
            cost = math.fsum(c.cost_per_year for c in used)
            money = x.budget.per_resident_year
            funded = 1.0 if cost <= money else money / cost
        false_miss = 1.0
        for c in used:
            if any(g in c.coverage for g in x.grounds):
                false_miss *= 1.0 - c.false_positive_rate * funded
        for g in x.grounds:
            b = t.behaviours.index(g)
            miss = math.prod(1.0 - c.coverage.get(g, 0.0) * funded for c in used)
            out["detect"][i, :, b] = (1.0 - miss) * out["cover"][i]
        out["false_rate"][i] = (1.0 - false_miss) * out["cover"][i]
        out["false_b"][i] = t.behaviours.index(x.grounds[0])
        out["term"][i] = x.term_days
        out["until_paid"][i] = x.until_paid
        if x.repayment is not None:
            out["repay_rate"][i] = x.repayment.rate
            out["repay_elasticity"][i] = x.repayment.wealth_elasticity
            out["repay_amount"][i] = x.repayment.amount
        c = x.consequences
        if c.loan_approval is not None:
            out["loan"][i] = c.loan_approval
        out["travel"][i] = c.travel_ban
        out["school"][i] = c.school_block
        out["income"][i] = c.income_effect
        out["matching"][i] = c.matching_penalty
        out["shamed"][i] = c.public_shaming
        if x.merge is not None:
            out["match"][i] = x.merge.match_share
            out["misattach"][i] = x.merge.misattached_share
            out["delay"][i] = x.merge.delay_days
            for place, d in x.merge.adopt_days.items():
                out["adopt"][i, places.index(place)] = d
            if x.merge.repair_share is not None:
                out["repair_share"][i] = x.merge.repair_share
                out["repair_delay"][i] = x.merge.repair_delay_days
    own = [j.programme for j in sc.jurisdictions]
    for m in sc.memoranda:
        for dst in m.sanctions_of:
            if m.listing in lists and dst in lists:
                out["memo_ll"][names.index(m.listing), names.index(dst)] = True
            elif m.listing in lists:  # a list's entry sanctions a place's own programme
                out["memo_lm"][names.index(m.listing)] = [p == dst for p in own]
            elif dst in lists:  # a place's own listing sanctions under a list
                out["memo_ml"][:, names.index(dst)] = [p == m.listing for p in own]
    if sc.timeline is not None:
        for i, name in enumerate(names):
            out["start"][i], out["end"][i] = sc.timeline.span(name, sc.days)
    spec = LayerSpec(
        names=names,
        streams=tuple(stream_id(n) for n in names),
        repayment=bool((out["repay_rate"] > 0).any()),
        school=bool(out["school"].any()),
        merge=any(x.merge is not None for x in lists.values()),
        repair=any(
            x.merge is not None and x.merge.repair_share is not None for x in lists.values()
        ),
    )
    return spec, LayerParams(**{k: jnp.asarray(v) for k, v in out.items()})


@dataclass(frozen=True)
class TimelineSpec:
    """The scenario has a timeline: places' own programmes run over spans of days, and the
    Params leaves (jax key paths) whose values phases change part-way (`set`)."""

    leaves: tuple[str, ...] = ()


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class TimelineParams:
    start: jax.Array  # [J] int32 first day the place's own programme runs
    end: jax.Array  # [J] int32 first day it no longer runs
    # the numbers phases set: regime r (0: the scenario as written) is in force from day
    # set_from[r - 1]; values[i] is [R + 1, ...] for TimelineSpec.leaves[i]
    set_from: jax.Array | None = None  # [R] int32
    values: tuple[jax.Array, ...] = ()


def compile_timeline(
    sc: Scenario, t: Tables, compile_scenario: Callable
) -> tuple[TimelineSpec | None, TimelineParams | None]:
    """Spans of the places' own programmes (the lists' spans are in LayerParams), and the
    values phases set: each regime is compiled as a scenario of its own, and the Params leaves
    that differ from the scenario as written are stacked, so `on_day` picks the day's row."""
    if sc.timeline is None:
        return None, None
    spans = [
        sc.timeline.span(j.programme, sc.days) if j.programme else (0, NO_END)
        for j in sc.jurisdictions
    ]
    start = np.array([s for s, _ in spans], np.int32)
    end = np.array([e for _, e in spans], np.int32)
    found, issues = regimes(sc)
    if issues:  # validation reports these with their lines; compiled directly, refuse
        raise ValueError(f"timeline.phases: {issues[0][2]}")
    if not found:
        return TimelineSpec(), TimelineParams(jnp.asarray(start), jnp.asarray(end))
    base = compile_scenario(Scenario.model_validate(without_sets(sc.model_dump(mode="json"))))[1]
    rows = [compile_scenario(s)[1] for _, s in found]
    flat = [jax.tree_util.tree_flatten_with_path(p)[0] for p in [base, *rows]]
    leaves, values = [], []
    for k, (path, _) in enumerate(flat[0]):
        name = jax.tree_util.keystr(path)
        if name.startswith(".timeline"):
            continue
        xs = [np.asarray(f[k][1]) for f in flat]
        if any(not np.array_equal(xs[0], y) for y in xs[1:]):
            leaves.append(name)
            values.append(jnp.asarray(np.stack(xs)))
    set_from = jnp.asarray(np.array([d for d, _ in found], np.int32))
    params = TimelineParams(jnp.asarray(start), jnp.asarray(end), set_from, tuple(values))
    return TimelineSpec(tuple(leaves)), params
