"""Compile programmes' counted rewards (docs/mechanisms.md "Rewards people can count"):
free check-ups, deposit-free bike rental, interest-free or discounted loans and better matches,
each per (jurisdiction, tier) as in the core's consequence tables (index T, the listed, is
never entitled). Money is in economy.money_unit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np

from socialcredit.scenario.model import Scenario

if TYPE_CHECKING:
    from socialcredit.compile.core import Tables

KINDS = ("checkups", "bikes", "loans", "matches")


@dataclass(frozen=True)
class RewardSpec:
    """Which kinds of reward some programme gives (the others compile away)."""

    kinds: tuple[str, ...]


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class RewardParams:
    checkup_rate: jax.Array  # [J, T+1] chance per entitled person and day of a free check-up
    checkup_cost: jax.Array  # [J] money per check-up, charged to the budget
    bike_rate: jax.Array  # [J, T+1] chance per entitled person and day of a deposit-free rental
    bike_deposit: jax.Array  # [J] deposit waived per rental (money saved by the renter)
    bike_cost: jax.Array  # [J] money per rental, charged to the budget
    loan_on: jax.Array  # [J, T+1] bool: an approved loan is interest-free or discounted
    loan_saved: jax.Array  # [J] interest saved per rewarded loan, charged to the budget
    loan_wealth: jax.Array  # [J] the same in median annual incomes (added to wealth)
    match_boost: jax.Array  # [J, T+1] relative rise of the chance a match succeeds
    match_cost: jax.Array  # [J] money per match gained, charged to the budget


def compile_rewards(sc: Scenario, t: Tables) -> tuple[RewardSpec | None, RewardParams | None]:
    f32 = np.float32
    J, T = len(t.progs), t.T
    rate = {k: np.zeros((J, T + 1), f32) for k in ("checkups", "bikes", "loans", "matches")}
    money = {k: np.zeros(J, f32) for k in ("checkup", "deposit", "bike", "loan", "match")}
    kinds: set[str] = set()
    for j, p in enumerate(t.progs):
        if p is None or p.rewards is None:
            continue
        for kind, r in p.rewards.kinds().items():
            kinds.add(kind)
            value = {"checkups": "take_up", "bikes": "take_up", "matches": "boost"}.get(kind)
            for name in r.tiers:
                rate[kind][j, t.tier_index(p, name)] = 1.0 if value is None else getattr(r, value)
        rw = p.rewards
        if rw.checkups is not None:
            money["checkup"][j] = rw.checkups.cost
        if rw.bikes is not None:
            money["deposit"][j], money["bike"][j] = rw.bikes.deposit, rw.bikes.cost
        if rw.loans is not None:
            money["loan"][j] = rw.loans.interest_saved()
        if rw.matches is not None:
            money["match"][j] = rw.matches.cost
    if not kinds:
        return None, None
    a = jnp.asarray
    params = RewardParams(
        checkup_rate=a(rate["checkups"]),
        checkup_cost=a(money["checkup"]),
        bike_rate=a(rate["bikes"]),
        bike_deposit=a(money["deposit"]),
        bike_cost=a(money["bike"]),
        loan_on=a(rate["loans"] > 0),
        loan_saved=a(money["loan"]),
        loan_wealth=a(money["loan"] / f32(sc.economy.median_income)),
        match_boost=a(rate["matches"]),
        match_cost=a(money["match"]),
    )
    return RewardSpec(kinds=tuple(k for k in KINDS if k in kinds)), params
