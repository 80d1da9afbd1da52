"""measure: the day's metrics, reduced on the device to one number per (cell, metric).

Agents are laid out by (jurisdiction, group) cell, so each cell is a static slice and its
sums need no scatter (which the GPU serialises on a few addresses). Count metrics are
indicator sums; XLA's CPU backend runs many separate reductions slowly, so indicators are
packed four to a uint32 (one byte lane each) and summed in blocks of 255 agents, which cannot
overflow a lane; the block sums are then unpacked. Sums of scores, risk and wealth are float32.
docs/metrics.md defines each metric.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from socialcredit.compile import Params, Spec
from socialcredit.engine.stages.common import by_place, jur_index
from socialcredit.engine.stages.listing import tiers
from socialcredit.engine.stages.score import score
from socialcredit.engine.state import TRAIT_CHILDREN, TRAIT_INFORMANT, State, event_field

BLOCK = 255  # agents per block: a byte lane holds at most 255 ones


def metric_names(spec: Spec) -> list[str]:
    """Names of the raw per-cell measurements, in the order `measure` returns them."""
    B = spec.behaviours
    names = [f"acts.{b}" for b in B] + [f"records.{b}" for b in B]
    names += [f"records_by.{c}" for c in spec.channels]
    names += [f"tier.{t}" for t in range(spec.max_tiers)]
    names += [
        "false_records",
        "listed",
        "newly_listed",
        "loans_applied",
        "loans_refused",
        "trips",
        "trips_blocked",
        "sanctioned",
        "sanctioned_false",
        "tier_up",
        "tier_down",
        "delisted",
        "informant_rewards",
        "school_applications",
        "children_excluded",
        "false_reports",
        "informants",
        "match_attempts",
        "matches_lost",
        "shamed",
        "appeals_upheld",
        "score_sum",
        "risk_sum",
        "wealth_sum",
        "trust_sum",
        "children_sum",
    ]
    return names


def _packed_counts(spec: Spec, flags: list[jax.Array]) -> jax.Array:
    """Per-cell counts of each boolean indicator -> int32 [C, len(flags)]."""
    out = []
    for g in range(0, len(flags), 4):
        word = sum(
            flags[g + i].astype(jnp.uint32) << (8 * i) for i in range(min(4, len(flags) - g))
        )
        per_cell = []
        for c in range(spec.n_cells):
            s, e = spec.cell_starts[c], spec.cell_starts[c + 1]
            full = (e - s) // BLOCK * BLOCK
            blocks = word[s : s + full].reshape(-1, BLOCK).sum(axis=1, dtype=jnp.uint32)
            if e - s - full:
                tail = word[s + full : e].sum(dtype=jnp.uint32)[None]
                blocks = jnp.concatenate([blocks, tail])
            lanes = [
                ((blocks >> (8 * i)) & 255).astype(jnp.int32).sum()
                for i in range(min(4, len(flags) - g))
            ]
            per_cell.append(jnp.stack(lanes))
        out.append(jnp.stack(per_cell))
    return jnp.concatenate(out, axis=1)


def _real_sums(spec: Spec, xs: list[jax.Array]) -> jax.Array:
    return jnp.stack(
        [
            jnp.stack([x[spec.cell_starts[c] : spec.cell_starts[c + 1]].sum() for x in xs])
            for c in range(spec.n_cells)
        ]
    )


def measure(spec: Spec, params: Params, state: State) -> jax.Array:
    """float32 [C, M] measurements of the day that ``state`` ends (M = len(metric_names(spec))).

    Reads the day's facts from the packed event word and the end-of-day state.
    """
    B = len(spec.behaviours)
    i32 = jnp.int32
    ev = state.events
    outcome = event_field(ev, "outcome").astype(i32)
    recorded = event_field(ev, "recorded") == 1
    channel = event_field(ev, "channel1").astype(i32) - 1
    sc = score(spec, params, state)
    tier = tiers(spec, params, state, sc)
    rec_b = jnp.where(outcome >= B, outcome - B, outcome)
    flags = [outcome == b for b in range(B)]
    flags += [recorded & (rec_b == b) for b in range(B)]
    flags += [channel == k for k in range(len(spec.channels))]
    flags += [tier == t for t in range(spec.max_tiers)]
    flags += [recorded & (outcome >= B) & (outcome < 2 * B), state.listed_since >= 0]
    flags += [
        event_field(ev, name) == 1
        for name in (
            "newly_listed",
            "loan_applied",
            "loan_refused",
            "travelled",
            "travel_blocked",
            "sanctioned",
            "sanctioned_false",
            "tier_up",
            "tier_down",
            "delisted",
            "rewarded",
            "school_applied",
            "school_refused",
        )
    ]
    if spec.informants:
        k_inf = len(spec.channels) - 1
        flags += [
            recorded & (outcome >= B) & (channel == k_inf),
            (state.traits & TRAIT_INFORMANT) != 0,
        ]
    else:
        flags += [jnp.zeros(ev.shape, bool)] * 2
    absent = {"rewarded"} if not spec.informants else set()
    absent |= {"school_applied", "school_refused"} if not spec.households else set()
    n_named = len(flags) - 2 - 3  # index of "rewarded" among the flags
    for i, name in enumerate(("rewarded", "school_applied", "school_refused")):
        if name in absent:  # a constant, so XLA drops the work
            flags[n_named + i] = jnp.zeros(ev.shape, bool)
    flags += [
        event_field(ev, name) == 1
        for name in ("match_attempted", "match_lost", "shamed", "appeal_upheld")
    ]
    if not spec.shaming:
        flags[-2] = jnp.zeros(ev.shape, bool)
    if not spec.appeals:
        flags[-1] = jnp.zeros(ev.shape, bool)
    counts = _packed_counts(spec, flags).astype(jnp.float32)
    base = by_place(spec, params.base_score, jur_index(spec, state.jur))
    reals = _real_sums(
        spec,
        [
            (sc.astype(i32) - base).astype(jnp.float32),
            state.risk.astype(jnp.float32),
            state.wealth,
            state.trust.astype(jnp.float32)
            if spec.informants
            else jnp.zeros(ev.shape, jnp.float32),
            (state.traits & TRAIT_CHILDREN).astype(jnp.float32)
            if spec.households
            else jnp.zeros(ev.shape, jnp.float32),
        ],
    )
    return jnp.concatenate([counts, reals], axis=1)
