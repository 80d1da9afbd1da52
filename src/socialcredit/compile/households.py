"""Compile households: couples, children and the schools a standing bars them from
(engine/population.py lays the households out; stages/consequences.py applies the block)."""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from socialcredit.compile.core import Tables
from socialcredit.scenario.model import Scenario


@dataclass(frozen=True)
class HouseholdSpec:
    """Agents live in households: a head, perhaps a partner, up to three children."""


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class HouseholdParams:
    school_block: jax.Array  # [J, T+1] bool: the tier (index T: listing) bars good schools
    school_demand: jax.Array  # [] applications per child per day
    partner_pair: jax.Array  # [] chance two neighbouring adults form one household
    children_cdf: jax.Array  # [4] cumulative shares of households with 0..3 children


def compile_households(
    sc: Scenario, t: Tables
) -> tuple[HouseholdSpec | None, HouseholdParams | None]:
    hh = sc.population.households
    if hh is None:
        return None, None
    f32 = np.float32
    school = np.zeros((len(t.progs), t.T + 1), bool)
    for j, p in enumerate(t.progs):
        if p is not None:
            for name, c in p.consequences.items():
                school[j, t.tier_index(p, name)] = c.school_block
    kids = np.asarray(hh.children + [0.0] * (4 - len(hh.children)), np.float64)
    pair = 2 * hh.partner_share / (1 + hh.partner_share)  # couples among pairs of slots
    a = jnp.asarray
    params = HouseholdParams(
        school_block=a(school),
        school_demand=a(f32(hh.school_demand)),
        partner_pair=a(f32(pair)),
        children_cdf=a(np.cumsum(kids / kids.sum()).astype(f32)),
    )
    return HouseholdSpec(), params
