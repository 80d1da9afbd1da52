"""Compile the people the essay names (issue 15): occupations (journalists: more speech,
closer monitoring, sanctions of their own) and detention (a term out of daily life, children
separated). engine/stages/people.py applies them."""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from socialcredit.compile.core import Tables
from socialcredit.scenario.model import Scenario

f32 = np.float32


@dataclass(frozen=True)
class OccupationSpec:
    """The occupations, in scenario order, then `other` (everyone else)."""

    names: tuple[str, ...]
    speech: tuple[int, ...]  # behaviours of category speech (counted by occupation)


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class OccupationParams:
    cdf: jax.Array  # [G, O-1] cumulative shares of the listed occupations in each group
    rate: jax.Array  # [O, B] multiplier of each behaviour's rate (speech_factor on speech)
    monitoring: jax.Array  # [O] each channel looks this many times at an act
    loan_cap: jax.Array  # [J, O, T+1] cap on loan approval (1: none; index T: listed)
    travel_ban: jax.Array  # [J, O, T+1] bool


@dataclass(frozen=True)
class DetentionSpec:
    """Some tier or listing detains people."""


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class DetentionParams:
    rate: jax.Array  # [J, T+1] chance per day that a free person of the standing is detained
    term: jax.Array  # [J, T+1] int32 days a detention lasts
    income_lost: jax.Array  # [J, T+1] median incomes per year lost while detained


def compile_occupations(
    sc: Scenario, t: Tables
) -> tuple[OccupationSpec | None, OccupationParams | None]:
    occs = sc.population.occupations
    if not occs:
        return None, None
    names = [o.name for o in occs] + ["other"]
    n_occ, B, J = len(names), len(sc.behaviours), len(t.progs)
    shares = np.array([[o.shares.get(g, 0.0) for o in occs] for g in t.groups], np.float64)
    rate = np.ones((n_occ, B), f32)
    for k, o in enumerate(occs):
        for b, beh in enumerate(sc.behaviours):
            if beh.category == "speech":
                rate[k, b] = o.speech_factor
    monitoring = np.array([o.monitoring for o in occs] + [1.0], f32)
    loan_cap = np.ones((J, n_occ, t.T + 1), f32)
    ban = np.zeros((J, n_occ, t.T + 1), bool)
    for j, p in enumerate(t.progs):
        if p is None:
            continue
        for tier, c in p.consequences.items():
            k = t.tier_index(p, tier)
            for occ, terms in c.occupations.items():
                o = names.index(occ)
                ban[j, o, k] = terms.travel_ban
                if terms.loan_approval is not None:
                    loan_cap[j, o, k] = terms.loan_approval
    a = jnp.asarray
    params = OccupationParams(
        cdf=a(np.cumsum(shares, axis=1).astype(f32)),
        rate=a(rate),
        monitoring=a(monitoring),
        loan_cap=a(loan_cap),
        travel_ban=a(ban),
    )
    speech = tuple(b for b, beh in enumerate(sc.behaviours) if beh.category == "speech")
    return OccupationSpec(tuple(names), speech), params


def compile_detention(
    sc: Scenario, t: Tables
) -> tuple[DetentionSpec | None, DetentionParams | None]:
    J = len(t.progs)
    rate = np.zeros((J, t.T + 1), f32)
    term = np.ones((J, t.T + 1), np.int32)
    lost = np.zeros((J, t.T + 1), f32)
    for j, p in enumerate(t.progs):
        if p is None:
            continue
        for tier, c in p.consequences.items():
            if c.detention is not None:
                k = t.tier_index(p, tier)
                rate[j, k] = c.detention.rate
                term[j, k] = c.detention.term_days
                lost[j, k] = c.detention.income_lost
    if not rate.any():
        return None, None
    a = jnp.asarray
    return DetentionSpec(), DetentionParams(rate=a(rate), term=a(term), income_lost=a(lost))
