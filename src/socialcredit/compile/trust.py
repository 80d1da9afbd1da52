"""Compile the trust section: interpersonal trust in every scenario, what wears it down
(known surveillance, informants among one's contacts, contacts reported, sanctioned or
shamed) and the chilling of speech and prayer it drives (stages/trust.py, behave.py).

Trust is the society's, not the informants': it exists in every scenario, so `Spec.trust` is
never None, and a run without the system keeps the same society with its trust at the
baseline."""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from socialcredit.compile.core import Tables
from socialcredit.scenario.model import Scenario


@dataclass(frozen=True)
class TrustSpec:
    """Static facts of trust."""

    speech_chill: bool  # distrust silences some behaviour somewhere
    spread: bool  # people start from their own levels (trust.spread > 0)


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class TrustParams:
    rate: jax.Array  # [] share of the gap to the baseline recovered each day
    chill: jax.Array  # [] how much distrust silences speech and religion
    informant_weight: jax.Array  # [] the baseline falls with informants among contacts
    surveillance_weight: jax.Array  # [] ... and with the place's known surveillance
    shocks: jax.Array  # [3] share of trust lost per contact reported, sanctioned, shamed
    spread: jax.Array  # [] SD of each person's initial trust
    chill_mask: jax.Array  # [J, B] 1 where distrust silences the behaviour


def chill_mask(sc: Scenario, t: Tables) -> np.ndarray:
    """[J, B] 1 for speech and religious behaviours a place's programme scores down or has
    informants report: those distrust silences."""
    J, B = len(t.progs), len(t.behaviours)
    out = np.zeros((J, B), np.float32)
    inf = sc.informants
    for j, p in enumerate(t.progs):
        if p is None:
            continue
        informed = inf is not None and "informants" in p.channels
        for b_i, b in enumerate(sc.behaviours):
            covered = informed and inf.coverage.get(b.name, 0.0) > 0
            if b.category in ("speech", "religion") and (t.points[j, b_i] < 0 or covered):
                out[j, b_i] = 1.0
    return out


def compile_trust(sc: Scenario, t: Tables) -> tuple[TrustSpec, TrustParams]:
    f32 = np.float32
    tr = sc.trust
    mask = chill_mask(sc, t)
    a = jnp.asarray
    spec = TrustSpec(speech_chill=bool(mask.any()), spread=tr.spread > 0)
    params = TrustParams(
        rate=a(f32(tr.learning_rate)),
        chill=a(f32(tr.chill)),
        informant_weight=a(f32(tr.informant_weight)),
        surveillance_weight=a(f32(tr.surveillance_weight)),
        shocks=a(np.array([tr.report_shock, tr.sanction_shock, tr.shaming_shock], f32)),
        spread=a(f32(tr.spread)),
        chill_mask=a(mask),
    )
    return spec, params
