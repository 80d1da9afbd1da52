"""budget: what a programme's yearly money pays for, and what stops when it runs out.

Each budgeted programme has money per resident and year (`programmes.*.budget`). Its channels
are paid first, at compile time: a budget short of their yearly cost (`channels.*.cost_per_year`
per covered resident) scales their coverage and false-positive rates down in proportion
(`params.budgets.coverage_scale`, see compile/budgets.py). What is left pays the year's rewards: points paid to
informants (`budget.point_cost` per point) and tier perks (a positive income effect, valued at
`economy.median_income`). Rewards are paid while the year's reward money lasts; once it is spent
they are withheld until the year turns (day 365, 730, ...), when spending starts again from 0.

The spend accumulator is per jurisdiction (`State.spent`), so jurisdictions that share a
programme keep their own books. It is updated at the start of each day from the carried state
only, never from the day's draws (see engine/run.py): today's informant payments
(`State.pay_due`) are charged at once; perks are charged the day after they are enjoyed, from
yesterday's tier and yesterday's gate, so a year's spending can overshoot its money by at most
one day of perks. Measured per cell: money spent, rewards withheld, funded coverage
(docs/metrics.md).
"""

from __future__ import annotations

from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np

from socialcredit.compile import Params, Spec
from socialcredit.engine.stages.common import (
    by_place,
    jur_index,
    lookup2,
    many_cells,
    prefix_cell_sums,
)
from socialcredit.engine.stages.listing import tiers
from socialcredit.engine.stages.score import score
from socialcredit.engine.state import Context, State, Today
from socialcredit.units import DAYS_PER_YEAR


def cell_sums(spec: Spec, state: State, xs: list[jax.Array]) -> list[jax.Array]:
    """float32 [C] sums of per-agent arrays over each (jurisdiction, group) cell."""
    if many_cells(spec):
        out = prefix_cell_sums(spec, xs)
        return [out[:, k] for k in range(len(xs))]
    return [
        jnp.stack(
            [
                x.astype(jnp.float32)[spec.cell_starts[c] : spec.cell_starts[c + 1]].sum()
                for c in range(spec.n_cells)
            ]
        )
        for x in xs
    ]


def by_jurisdiction(spec: Spec, per_cell: jax.Array) -> jax.Array:
    """[C] per-cell values -> [J] per-jurisdiction sums (cell c = j * G + g)."""
    return per_cell.reshape(len(spec.jurisdictions), len(spec.groups)).sum(axis=1)


def residents(spec: Spec) -> np.ndarray:
    """Agents per jurisdiction (static)."""
    return spec.cell_sizes().reshape(len(spec.jurisdictions), len(spec.groups)).sum(axis=1)


def perk_today(spec: Spec, params: Params, state: State) -> jax.Array:
    """Money per agent per day that the tier (or listing) held by ``state`` is entitled to."""
    jur = jur_index(spec, state.jur)
    tier = tiers(spec, params, state, score(spec, params, state)).astype(jnp.int32)
    idx = jnp.where(state.listed_since >= 0, spec.max_tiers, tier)
    return lookup2(spec, params.budgets.perk_cost, jur, idx)


def settle(spec: Spec, params: Params, day: jax.Array, state: State) -> State:
    """Start of day ``day``: charge yesterday's perks, turn the year if it is due, decide
    whether rewards are paid today (``State.budget_open``) and charge today's informant
    payments. Reads only the carried state."""
    jur = jur_index(spec, state.jur)
    # yesterday's perks (the carried state holds yesterday's tier and gate)
    was_open = by_place(spec, state.budget_open, jur)
    perks = jnp.where(was_open & (day > 0), perk_today(spec, params, state), 0.0)
    spent = state.spent + by_jurisdiction(spec, cell_sums(spec, state, [perks])[0])
    spent = jnp.where(day % int(DAYS_PER_YEAR) == 0, 0.0, spent)  # a new year, new money
    b = params.budgets
    money = b.reward_budget * jnp.asarray(residents(spec), jnp.float32)
    is_open = ~b.budgeted | (spent < money)
    paid_c = withheld_c = jnp.zeros(spec.n_cells, jnp.float32)
    # today's payments for reports two days ago (stages/informants.py)
    if spec.informants is not None:
        open_a = by_place(spec, is_open, jur)
        pay = jnp.where(open_a, state.pay_due, jnp.int16(0)).astype(jnp.float32)
        paid_c, withheld_c = cell_sums(
            spec,
            state,
            [pay * by_place(spec, b.point_cost, jur), ~open_a & (state.pay_due > 0)],
        )
        spent = spent + by_jurisdiction(spec, paid_c)
    return replace(
        state, spent=spent, budget_open=is_open, budget_day=jnp.stack([paid_c, withheld_c])
    )


def rewards_open(spec: Spec, state: State) -> jax.Array:
    """Per agent: whether its jurisdiction pays rewards today."""
    return by_place(spec, state.budget_open, jur_index(spec, state.jur))


def measure_budget(spec: Spec, params: Params, state: State) -> jax.Array:
    """float32 [C, 4]: money spent (channels and rewards), money spent on rewards, rewards
    withheld, and the sum of funded coverage, for the day that ``state`` ends."""
    if spec.budgets is not None:
        return _budget_sums(spec, params, state)
    return jnp.zeros((spec.n_cells, 4), jnp.float32)


def _budget_sums(spec: Spec, params: Params, state: State) -> jax.Array:
    jur = jur_index(spec, state.jur)
    perk = perk_today(spec, params, state)
    is_open = rewards_open(spec, state)
    real = jnp.arange(spec.padded) < spec.agents
    perks_c, withheld_perk_c, cover_c = cell_sums(
        spec,
        state,
        [
            jnp.where(is_open, perk, 0.0),
            ~is_open & (perk > 0),
            jnp.where(real, by_place(spec, params.budgets.coverage_scale, jur), 0.0),
        ],
    )
    sizes = jnp.asarray(spec.cell_sizes(), jnp.float32)
    cj, _ = spec.cell_of()
    channels_c = params.budgets.channel_spend[jnp.asarray(cj)] * sizes
    rewards_c = perks_c + state.budget_day[0]
    withheld_c = withheld_perk_c + state.budget_day[1]
    return jnp.stack([channels_c + rewards_c, rewards_c, withheld_c, cover_c], axis=1)


def settle_books(ctx: Context, state: State, today: Today) -> tuple[State, Today]:
    """Stage: the budget's books, from the carried state before anything changes a tier;
    ``today.gate``: whether each agent's jurisdiction still pays rewards today."""
    state = settle(ctx.spec, ctx.params, ctx.day, state)
    return state, replace(today, gate=rewards_open(ctx.spec, state))
