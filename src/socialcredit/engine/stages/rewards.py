"""rewards: what the well-rated are given, counted, and charged to the programme's budget.

Four kinds (programmes.*.rewards, docs/mechanisms.md "Rewards people can count"):

- free health check-ups: each entitled person takes one with chance `take_up` a day;
- deposit-free bike rental: likewise, each rental saving the renter the deposit;
- interest-free or discounted loans: an approved loan (stages/consequences.py) of an entitled
  person saves its interest, which the programme pays and the borrower keeps (wealth);
- better matches: a dating or job match attempt of an entitled person succeeds with chance
  match_success x (1 + boost); one won above the base chance is a match gained (the same
  uniform draw as consequences' matches lost).

Entitlement is by today's tier where the place's programme runs; the listed never are. Where
the programme has a budget (stages/budget.py), rewards are given only while the year's reward
money lasts: on the day it runs out they are given in agent order until the next would
overspend (so a budget that pays exactly K rewards gives K), and none after that until the year
turns. Each day's counts per cell are carried in `State.rewards` for `measure`.
"""

from __future__ import annotations

from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np

from socialcredit import rng
from socialcredit.compile import Spec
from socialcredit.engine.stages.budget import by_jurisdiction, cell_sums, residents
from socialcredit.engine.stages.common import by_place, jur_index, lookup2
from socialcredit.engine.state import Context, State, Today

# The day's measurements of each kind, then those of every kind (docs/metrics.md).
KIND_METRICS = {
    "checkups": ("checkups", "checkup_spend"),
    "bikes": ("bike_rentals", "deposit_saved"),
    "loans": ("reward_loans", "interest_saved"),
    "matches": ("matches_gained",),
}
COMMON_METRICS = ("rewards_given", "rewarded", "rewards_cost", "rewards_rationed")
ALL_METRICS = tuple(m for k in KIND_METRICS.values() for m in k) + COMMON_METRICS


def reward_metric_names(spec: Spec) -> list[str]:
    """The metrics of the kinds some programme gives (none without rewards)."""
    if spec.rewards is not None:
        names = [m for k in spec.rewards.kinds for m in KIND_METRICS[k]]
        return names + list(COMMON_METRICS)
    return []


def initial_rewards(spec: Spec) -> jax.Array:
    return jnp.zeros((spec.n_cells, len(reward_metric_names(spec))), jnp.float32)


def _jurisdiction_starts(spec: Spec) -> np.ndarray:
    """First agent of each jurisdiction (cells c = j * G + g are laid out in order)."""
    G = len(spec.groups)
    return np.asarray(spec.cell_starts, np.int64)[::G][: len(spec.jurisdictions)]


def _ration(spec: Spec, ctx: Context, state: State, today: Today, cost: jax.Array, jur):
    """Which wanted rewards the budget pays today, and the money left after them: while the
    jurisdiction's gate is open, in agent order until the next would overspend."""
    b = ctx.params.budgets
    money = b.reward_budget * jnp.asarray(residents(spec), jnp.float32)
    left = jnp.where(b.budgeted, money - state.spent, jnp.inf)  # [J]
    cum = jnp.cumsum(cost)
    before = (cum - cost)[jnp.asarray(_jurisdiction_starts(spec))]  # spent by earlier places
    within = (cum - by_place(spec, before, jur)) <= by_place(spec, left, jur)
    return today.gate & within


def give(ctx: Context, state: State, today: Today) -> tuple[State, Today]:
    """Stage, after consequences: the day's counted rewards, charged to the budget."""
    spec, params = ctx.spec, ctx.params
    rp, kinds = params.rewards, spec.rewards.kinds
    n, T = spec.padded, spec.max_tiers
    jur = jur_index(spec, state.jur)
    real = jnp.arange(n) < spec.agents
    runs = by_place(spec, params.active, jur) & real
    idx = jnp.where(today.listed, T, today.tier.astype(jnp.int32))
    unit_cost = dict.fromkeys(KIND_METRICS, jnp.zeros((), jnp.float32))
    if "checkups" in kinds:
        unit_cost["checkups"] = by_place(spec, rp.checkup_cost, jur)
    if "bikes" in kinds:
        unit_cost["bikes"] = by_place(spec, rp.bike_cost, jur)
    if "loans" in kinds:
        unit_cost["loans"] = by_place(spec, rp.loan_saved, jur)
    if "matches" in kinds:
        unit_cost["matches"] = by_place(spec, rp.match_cost, jur)
    want = _wants(ctx, state, today, runs, idx)
    cost = sum(jnp.where(want[k], unit_cost[k], 0.0) for k in KIND_METRICS)
    wanted = want["checkups"] | want["bikes"] | want["loans"] | want["matches"]
    paid = wanted
    if spec.budgets is not None:
        paid = wanted & _ration(spec, ctx, state, today, jnp.where(wanted, cost, 0.0), jur)
    given = {k: want[k] & paid for k in KIND_METRICS}
    charged = jnp.where(paid, cost, 0.0)
    n_given = sum(given[k].astype(jnp.float32) for k in KIND_METRICS)
    n_rationed = sum((want[k] & ~paid).astype(jnp.float32) for k in KIND_METRICS)
    xs = {
        "checkups": given["checkups"],
        "checkup_spend": jnp.where(given["checkups"], unit_cost["checkups"], 0.0),
        "bike_rentals": given["bikes"],
        "deposit_saved": jnp.where(given["bikes"], by_place(spec, rp.bike_deposit, jur), 0.0),
        "reward_loans": given["loans"],
        "interest_saved": jnp.where(given["loans"], unit_cost["loans"], 0.0),
        "matches_gained": given["matches"],
        "rewards_given": n_given,
        "rewarded": n_given > 0,
        "rewards_cost": charged,
        "rewards_rationed": n_rationed,
    }
    names = reward_metric_names(spec)
    sums = cell_sums(spec, state, [xs[m] for m in names])
    day = jnp.stack(sums, axis=1)
    new = {"rewards": day}
    if "loans" in kinds:  # the borrower keeps the interest saved
        gain = jnp.where(given["loans"], by_place(spec, rp.loan_wealth, jur), 0.0)
        new["wealth"] = state.wealth + gain
    if spec.budgets is not None:  # charged now; counted in reward_spend and rewards_withheld
        cost_c, rationed_c = day[:, names.index("rewards_cost")], day[:, -1]
        new["spent"] = state.spent + by_jurisdiction(spec, cost_c)
        new["budget_day"] = state.budget_day + jnp.stack([cost_c, rationed_c])
    return replace(state, **new), today


def _wants(
    ctx: Context, state: State, today: Today, runs: jax.Array, idx: jax.Array
) -> dict[str, jax.Array]:
    """Who would get each kind of reward today, budget aside ([N] bool per kind).

    Computed once and kept in memory: a dozen per-cell sums read these, and XLA's CPU
    backend would otherwise fuse the draws and tier lookups into each of them (as in run.py's
    `_acts`, the outputs of a conditional are always materialised; its predicate holds on
    every day)."""
    spec, params = ctx.spec, ctx.params
    rp, kinds = params.rewards, spec.rewards.kinds
    n = spec.padded
    jur = jur_index(spec, state.jur)

    def run(_) -> dict[str, jax.Array]:
        w_check, w_bike = rng.agent_words(
            rng.stage_seeds(ctx.key, ctx.day, rng.REWARDS, 2), jnp.arange(n, dtype=jnp.uint32), 2
        )
        off = jnp.zeros(n, bool)
        want = dict.fromkeys(KIND_METRICS, off)
        if "checkups" in kinds:
            rate = lookup2(spec, rp.checkup_rate, jur, idx)
            want["checkups"] = runs & (w_check < rng.threshold(rate))
        if "bikes" in kinds:
            rate = lookup2(spec, rp.bike_rate, jur, idx)
            want["bikes"] = runs & (w_bike < rng.threshold(rate))
        if "loans" in kinds:
            approved = today.loan_applied & ~today.loan_refused
            want["loans"] = runs & approved & lookup2(spec, rp.loan_on, jur, idx)
        if "matches" in kinds:
            boost = lookup2(spec, rp.match_boost, jur, idx)
            base = params.match_success
            chance = jnp.minimum(base * (1.0 + boost), 1.0)
            u = today.match_u
            want["matches"] = runs & today.match_attempted & (u >= base) & (u < chance)
        return want

    def idle(_) -> dict[str, jax.Array]:
        return dict.fromkeys(KIND_METRICS, jnp.zeros(n, bool))

    return jax.lax.cond(ctx.day > jnp.int32(-(2**30)), run, idle, None)
