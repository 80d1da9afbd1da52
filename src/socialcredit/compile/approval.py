"""Compile the approval section: each person's approval of the system (stages/approval.py)."""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from socialcredit.compile.core import Tables
from socialcredit.scenario.model import Scenario


@dataclass(frozen=True)
class ApprovalSpec:
    """Static facts of approval (none yet: its presence is the gate)."""


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class ApprovalParams:
    initial: jax.Array  # [G] starting approval by group
    rate: jax.Array  # [] share of the gap to the start recovered each day
    losses: jax.Array  # [3] share lost: sanctioned, wrongfully, per contact sanctioned
    gains: jax.Array  # [2] share of the gap to 1 gained: rewarded, per contact rewarded


def compile_approval(sc: Scenario, t: Tables) -> tuple[ApprovalSpec | None, ApprovalParams | None]:
    ap = sc.approval
    if ap is None:
        return None, None
    f32 = np.float32
    a = jnp.asarray
    initial = np.array([ap.by_group.get(g, ap.initial) for g in t.groups], f32)
    params = ApprovalParams(
        initial=a(initial),
        rate=a(f32(ap.learning_rate)),
        losses=a(np.array([ap.sanction, ap.wrongful, ap.contact_sanction], f32)),
        gains=a(np.array([ap.reward, ap.contact_reward], f32)),
    )
    return ApprovalSpec(), params
