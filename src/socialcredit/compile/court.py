"""Compile the court list and credit repair: listing grounds, repayment, repair
(stages/listing.py, stages/repair.py)."""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from socialcredit.compile.core import Tables
from socialcredit.scenario.model import Scenario


@dataclass(frozen=True)
class CourtSpec:
    """Which of the court list's and credit repair's parts the scenario has (at least one)."""

    grounds: bool  # some blacklist lists people for records of its grounds
    repayment: bool  # some blacklist's debtors pay to leave it (or the map enforces payment)
    repair: bool  # some programme clears negative records for restorative acts

    @property
    def events2(self) -> bool:
        """Whether its facts need the extra event byte (State.events2)."""
        return self.repayment or self.repair


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class CourtParams:
    ground: jax.Array  # [J, B] bool: a record of b puts the person on the list (court grounds)
    until_paid: jax.Array  # [J] bool: listings end only on payment
    repay_rate: jax.Array  # [J] daily chance a listed debtor of median wealth pays
    repay_elasticity: jax.Array  # [J]
    repay_amount: jax.Array  # [J] wealth lost on paying
    repay_shamed: jax.Array  # [J] multiplier of the chance after being shamed or sighted
    repay_clear: jax.Array  # [J] int32 points of negative records cleared on paying
    repair_mask: jax.Array  # [J, B] bool: a recorded act of b repairs the credit file
    repair_points: jax.Array  # [J] int32 points cleared per repairing act


def _tables(sc: Scenario, t: Tables) -> dict:
    f32 = np.float32
    beh = t.behaviours
    J, B = len(t.progs), len(beh)
    out = {
        "ground": np.zeros((J, B), bool),
        "until_paid": np.zeros(J, bool),
        "repay_rate": np.zeros(J, f32),
        "repay_elasticity": np.zeros(J, f32),
        "repay_amount": np.zeros(J, f32),
        "repay_shamed": np.ones(J, f32),
        "repay_clear": np.zeros(J, np.int32),
        "repair_mask": np.zeros((J, B), bool),
        "repair_points": np.zeros(J, np.int32),
    }
    for j, p in enumerate(t.progs):
        if p is None:
            continue
        bl = p.blacklist
        if bl is not None:
            for b in bl.grounds:
                out["ground"][j, beh.index(b)] = True
            out["until_paid"][j] = bl.until_paid
            if bl.repayment is not None:
                rp = bl.repayment
                out["repay_rate"][j] = rp.rate
                out["repay_elasticity"][j] = rp.wealth_elasticity
                out["repay_amount"][j] = rp.amount
                out["repay_shamed"][j] = rp.shamed_factor
                out["repay_clear"][j] = rp.clears_points
        if p.repair is not None:
            for b in p.repair.behaviours:
                out["repair_mask"][j, beh.index(b)] = True
            out["repair_points"][j] = p.repair.points
    return out


def compile_court(sc: Scenario, t: Tables) -> tuple[CourtSpec | None, CourtParams | None]:
    out = _tables(sc, t)
    enforce = sc.map.enforcement if sc.map is not None else 0.0  # the map's tip-offs
    court = CourtSpec(
        grounds=bool(out["ground"].any()),
        repayment=bool((out["repay_rate"] > 0).any() or enforce > 0),
        repair=bool(out["repair_mask"].any()),
    )
    if not (court.grounds or court.repayment or court.repair):
        return None, None
    return court, CourtParams(**{k: jnp.asarray(v) for k, v in out.items()})
