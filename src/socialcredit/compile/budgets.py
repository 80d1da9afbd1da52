"""Compile programme budgets (docs/mechanisms.md "Budgets"): money per resident, in
economy.money_unit. The share of full channel coverage a budget pays for is applied to the
core's detection tables (`funded_share`, read by compile/core.py); the rest pays rewards."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np

from socialcredit.scenario.model import Programme, Scenario
from socialcredit.units import DAYS_PER_YEAR

if TYPE_CHECKING:
    from socialcredit.compile.core import Tables


@dataclass(frozen=True)
class BudgetSpec:
    """Some programme has a yearly budget (stages/budget.py)."""


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class BudgetParams:
    budgeted: jax.Array  # [J] bool, the programme has a budget (elsewhere nothing is costed)
    coverage_scale: jax.Array  # [J] share of its channels' full coverage the budget pays for
    channel_spend: jax.Array  # [J] money per resident per day spent on channels
    reward_budget: jax.Array  # [J] money per resident per year left for rewards
    point_cost: jax.Array  # [J] money per point paid to an informant
    perk_cost: jax.Array  # [J, T+1] money per day a tier's (or listing's) perk costs


def _channel_cost(p: Programme, used: list) -> tuple[float, float]:
    """(money per resident and year, yearly cost of the programme's channels)."""
    return p.budget.per_resident_year, math.fsum(c.cost_per_year for c in used)


def funded_share(p: Programme, used: list) -> float:
    """Share of full channel coverage that the programme's budget pays for (1 unbudgeted)."""
    if p.budget is None:
        return 1.0
    money, cost = _channel_cost(p, used)
    return 1.0 if cost <= money else money / cost


def compile_budgets(sc: Scenario, t: Tables) -> tuple[BudgetSpec | None, BudgetParams | None]:
    f32 = np.float32
    J, T = len(t.progs), t.T
    budgeted = np.zeros(J, bool)
    coverage_scale = np.ones(J, f32)
    channel_spend = np.zeros(J, f32)
    reward_budget = np.zeros(J, f32)
    point_cost = np.zeros(J, f32)
    perk = np.zeros((J, T + 1), f32)
    for j, p in enumerate(t.progs):
        if p is None:
            coverage_scale[j] = 0.0  # no channels run here
            continue
        if p.budget is None:
            continue
        used = [c for c in sc.channels if c.name in p.channels]
        money, cost = _channel_cost(p, used)
        budgeted[j] = True
        coverage_scale[j] = funded_share(p, used)
        channel_spend[j] = min(cost, money) / DAYS_PER_YEAR
        reward_budget[j] = max(money - cost, 0.0)
        point_cost[j] = p.budget.point_cost
        # a perk (a positive income effect) is paid by the programme
        perk[j] = np.maximum(t.income[j], 0.0) * sc.economy.median_income / DAYS_PER_YEAR
    if not budgeted.any():
        return None, None
    a = jnp.asarray
    params = BudgetParams(
        budgeted=a(budgeted),
        coverage_scale=a(coverage_scale),
        channel_spend=a(channel_spend),
        reward_budget=a(reward_budget),
        point_cost=a(point_cost),
        perk_cost=a(perk),
    )
    return BudgetSpec(), params
