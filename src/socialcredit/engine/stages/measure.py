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
from socialcredit.engine.stages.budget import measure_budget
from socialcredit.engine.stages.common import by_place, jur_index, many_cells, prefix_cell_sums
from socialcredit.engine.stages.listing import tiers
from socialcredit.engine.stages.people import people_flags, people_metric_names
from socialcredit.engine.stages.rewards import reward_metric_names
from socialcredit.engine.stages.score import score
from socialcredit.engine.state import (
    E2_LOOKED,
    E2_PAID,
    E2_REPAIRED,
    E2_SIGHTED,
    E2_TIPPED,
    TRAIT_CHILDREN,
    TRAIT_INFORMANT,
    State,
    event_field,
)

BLOCK = 255  # agents per block: a byte lane holds at most 255 ones


# Counts read straight from the event word: (metric, event field, the Spec field of the
# mechanism it needs, or None). One table, so `metric_names` and `measure` cannot drift apart.
EVENT_COUNTS = (
    ("newly_listed", "newly_listed", None),
    ("loans_applied", "loan_applied", None),
    ("loans_refused", "loan_refused", None),
    ("trips", "travelled", None),
    ("trips_blocked", "travel_blocked", None),
    ("sanctioned", "sanctioned", None),
    ("sanctioned_false", "sanctioned_false", None),
    ("tier_up", "tier_up", None),
    ("tier_down", "tier_down", None),
    ("delisted", "delisted", None),
    ("match_attempts", "match_attempted", None),
    ("matches_lost", "match_lost", None),
    ("informant_rewards", "rewarded", "informants"),
    ("school_applications", "school_applied", "households"),
    ("children_excluded", "school_refused", "households"),
    ("shamed", "shamed", "shaming"),
    ("appeals_upheld", "appeal_upheld", "appeals"),
)
# Output metrics of each optional mechanism (as named in the tidy table).
FEATURE_METRICS = {
    "informants": ("informant_rewards", "false_reports", "informants"),
    "households": ("children", "school_applications", "children_excluded"),
    "shaming": ("shamed",),
    "appeals": ("appeals_upheld",),
    "budgets": ("budget_spend", "reward_spend", "rewards_withheld", "mean_coverage"),
}


def absent_metrics(spec: Spec) -> set[str]:
    """Metrics of mechanisms the scenario does not have: reported as no rows, not as zeros."""
    return {m for f, names in FEATURE_METRICS.items() if getattr(spec, f) is None for m in names}


def metric_names(spec: Spec) -> list[str]:
    """Names of the raw per-cell measurements, in the order `measure` returns them."""
    B = spec.behaviours
    names = [f"acts.{b}" for b in B] + [f"records.{b}" for b in B]
    names += [f"records_by.{c}" for c in spec.channels]
    names += [f"tier.{t}" for t in range(spec.max_tiers)]
    names += ["false_records", "listed", "false_reports", "informants"]
    names += [name for name, _, _ in EVENT_COUNTS]
    names += ["score_sum", "risk_sum", "wealth_sum", "trust_sum", "children_sum"]
    names += ["budget_spend", "reward_spend", "rewards_withheld", "coverage_sum"]
    sightings = ["sightings"] if spec.map is not None else []
    names += [name for name, _ in _events2_flags(spec)] + sightings + layer_metric_names(spec)
    names += audience_metric_names(spec) + reward_metric_names(spec)
    names += people_metric_names(spec)
    return names + approval_metric_names(spec)


def audience_metric_names(spec: Spec) -> list[str]:
    """Viewers of shaming (stages/audiences.py): unique, then per audience; none without."""
    if spec.audiences is not None:
        return ["shaming_viewers"] + [f"shaming_viewers.{n}" for n in spec.audiences.names]
    return []


def _audience_counts(spec: Spec, state: State) -> list[jax.Array]:
    if spec.audiences is not None:
        from socialcredit.engine.stages.audiences import AUDIENCE_BITS

        saw = state.audience
        flags = [saw != 0] + [(saw & AUDIENCE_BITS[n]) != 0 for n in spec.audiences.names]
        if many_cells(spec):
            return [prefix_cell_sums(spec, flags, counts=True).astype(jnp.float32)]
        return [_packed_counts(spec, flags).astype(jnp.float32)]
    return []


def approval_metric_names(spec: Spec) -> list[str]:
    """`approval_sum` (the mean is approval by group) and `approval_tier.<t>`, approval
    summed over the agents in tier t (over tier.<t>: approval by tier); none without the
    approval section."""
    names = []
    if spec.approval is not None:
        names = ["approval_sum"] + [f"approval_tier.{t}" for t in range(spec.max_tiers)]
    return names


def _approval_sums(spec: Spec, state: State, tier: jax.Array) -> list[jax.Array]:
    out = []
    if spec.approval is not None:
        a = state.approval.astype(jnp.float32)
        xs = [a] + [jnp.where(tier == t, a, 0.0) for t in range(spec.max_tiers)]
        out.append((prefix_cell_sums if many_cells(spec) else _real_sums)(spec, xs))
    return out


# Per layered list (stages/layers.py): metric prefix and the fact it counts (None: listed).
LAYER_METRICS = (
    ("listed", None),
    ("newly_listed", "NEW"),
    ("delisted", "LEFT"),
    ("paid", "PAID"),
    ("records", "REC"),
    ("false_records", "FALSE"),
)


def layer_metric_names(spec: Spec) -> list[str]:
    """`listed_any` (on the place's own list or any layered list), then `<metric>.<list>` for
    each list; none without lists."""
    layers = spec.layers
    if layers is None:
        return []
    names = ["listed_any"]
    for name in layers.names:
        names += [f"{m}.{name}" for m, _ in LAYER_METRICS]
        if layers.merge:
            names += [f"misattached.{name}", f"wrongly_listed.{name}"]
        if layers.repair:  # a local repair paired with the list's copy
            names += [f"repaired_locally.{name}", f"lifted.{name}", f"outlived.{name}"]
    return names


def _layer_flags(spec: Spec, state: State) -> list[jax.Array]:
    from socialcredit.engine.stages import layers as lay

    since, facts = state.layers.since, state.layers.facts
    flags = [(state.listed_since >= 0) | (since >= 0).any(axis=0)]
    for k in range(spec.layers.L):
        for _, bit in LAYER_METRICS:
            flags.append(since[k] >= 0 if bit is None else lay.fact(facts, k, getattr(lay, bit)))
        if state.layers.pending.shape[-1]:  # a merge: misattached records, wrongful listings
            lbit = 1 << (lay.WRONG_LISTING + k)
            flags += [lay.fact(facts, k, lay.MIS), (state.layers.wrong & lbit) != 0]
        if state.layers.repair.shape[-1]:
            rep = state.layers.repair
            flags += [((rep >> (shift + k)) & 1) != 0 for shift in (lay.REPAIRED, lay.LIFTED)]
            flags.append(((rep >> (lay.OUTLIVED + k)) & 1) != 0)
    return flags


def _events2_flags(spec: Spec) -> list[tuple[str, int]]:
    """(metric, State.events2 bit) of the court list, credit repair and the map; only the
    scenario's own mechanisms, so other scenarios measure nothing more."""
    out = []
    if spec.map is not None:
        out += [("map_lookups", E2_LOOKED), ("sighted", E2_SIGHTED), ("tip_offs", E2_TIPPED)]
    court = spec.court
    if court is not None and court.repayment:
        out += [("delisted_paid", E2_PAID), ("delisted_term", 0)]  # 0: delisted, not paid
    if court is not None and court.repair:
        out += [("repairs", E2_REPAIRED)]
    return out


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
    off = jnp.zeros(ev.shape, bool)  # a constant, so XLA drops the work of absent mechanisms
    if spec.informants is not None:
        k_inf = len(spec.channels) - 1
        flags += [
            recorded & (outcome >= B) & (channel == k_inf),
            (state.traits & TRAIT_INFORMANT) != 0,
        ]
    else:
        flags += [off, off]
    flags += [
        event_field(ev, field) == 1
        if feature is None or getattr(spec, feature) is not None
        else off
        for _, field, feature in EVENT_COUNTS
    ]
    many = many_cells(spec)
    if many:
        counts = prefix_cell_sums(spec, flags, counts=True).astype(jnp.float32)
    else:
        counts = _packed_counts(spec, flags).astype(jnp.float32)
    base = by_place(spec, params.base_score, jur_index(spec, state.jur))
    reals = (prefix_cell_sums if many else _real_sums)(
        spec,
        [
            (sc.astype(i32) - base).astype(jnp.float32),
            state.risk.astype(jnp.float32),
            state.wealth,
            state.trust.astype(jnp.float32),
            (state.traits & TRAIT_CHILDREN).astype(jnp.float32)
            if spec.households is not None
            else jnp.zeros(ev.shape, jnp.float32),
        ],
    )
    extra = _events2_flags(spec)
    approval = _approval_sums(spec, state, tier)
    if not extra:
        cols = [counts, reals, measure_budget(spec, params, state)]
        cols += _layer_counts(spec, state) + _audience_counts(spec, state) + _rewards(spec, state)
        cols += _people(spec, state) + approval
        return jnp.concatenate(cols, axis=1)
    e2 = state.events2
    delisted = event_field(ev, "delisted") == 1
    flags = [(e2 & bit) != 0 if bit else delisted & ((e2 & E2_PAID) == 0) for _, bit in extra]
    cols = [
        counts,
        reals,
        measure_budget(spec, params, state),
        _packed_counts(spec, flags).astype(jnp.float32),
    ]
    if spec.map is not None:  # sightings per cell of the users, summed exactly in int32
        sums = [
            state.sightings[spec.cell_starts[c] : spec.cell_starts[c + 1]].sum(dtype=jnp.int32)
            for c in range(spec.n_cells)
        ]
        cols.append(jnp.stack(sums).astype(jnp.float32)[:, None])
    cols += (
        _layer_counts(spec, state)
        + _audience_counts(spec, state)
        + _rewards(spec, state)
        + _people(spec, state)
        + approval
    )
    return jnp.concatenate(cols, axis=1)


def _people(spec: Spec, state: State) -> list[jax.Array]:
    """Detention's and occupations' metrics (stages/people.py), in `people_metric_names` order:
    the detained and detentions begun, children separated (a sum), then the occupations'."""
    if state.people is None:
        return []
    flags, reals = people_flags(spec, state)
    many = many_cells(spec)
    count = (
        (lambda xs: prefix_cell_sums(spec, xs, counts=True)) if many else _packed_counts_for(spec)
    )
    sums = prefix_cell_sums if many else _real_sums
    out = []
    if spec.detention is not None:
        out += [count(flags[:2]).astype(jnp.float32), sums(spec, reals)]
        flags = flags[2:]
    if flags:
        out.append(count(flags).astype(jnp.float32))
    return out


def _packed_counts_for(spec: Spec):
    return lambda xs: _packed_counts(spec, xs)


def _layer_counts(spec: Spec, state: State) -> list[jax.Array]:
    layers = spec.layers
    if layers is None:
        return []
    flags = _layer_flags(spec, state)
    if many_cells(spec):
        return [prefix_cell_sums(spec, flags, counts=True).astype(jnp.float32)]
    return [_packed_counts(spec, flags).astype(jnp.float32)]


def _rewards(spec: Spec, state: State) -> list[jax.Array]:
    """The day's counted rewards per cell, carried by stages/rewards.py (none without them)."""
    return [state.rewards] if spec.rewards is not None else []
