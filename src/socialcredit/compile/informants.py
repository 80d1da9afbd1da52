"""Compile the informants section: coverage, rewards, false reports and strategic reporting
(stages/informants.py, observe.py, behave.py). The trust they wear down is the society's
(compile/trust.py)."""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from socialcredit.compile.core import Tables
from socialcredit.scenario.model import Scenario


@dataclass(frozen=True)
class InformantSpec:
    """Static facts of informants. The channel `informants` is the last of Spec.channels."""

    false_report_behaviour: int  # behaviour that false reports fake, -1 none
    strategic: bool  # informants' coverage follows their pay (adaptive model)


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class InformantParams:
    share: jax.Array  # [G] share of each group who inform
    cov: jax.Array  # [J, B] chance one informant contact reports one act
    false: jax.Array  # [J, G] false reports per informant contact and day, by target group
    reward: jax.Array  # [J, B, G] points per report of b by a member of g
    confirmed: jax.Array  # [J] further points when the act was real
    report_zeal: jax.Array  # [J, B * G] multiplier of coverage (strategic reporting)


def _tables(sc: Scenario, t: Tables) -> dict:
    """Coverage, rewards and false reports, per jurisdiction."""
    f32 = np.float32
    inf, beh, groups = sc.informants, t.behaviours, t.groups
    J, B, G = len(t.progs), len(beh), len(groups)
    out = {
        "cov": np.zeros((J, B), f32),
        "false": np.zeros((J, G), f32),
        "reward": np.zeros((J, B, G), f32),
        "confirmed": np.zeros(J, f32),
    }
    for j, p in enumerate(t.progs):
        if p is None:
            continue
        if "informants" in p.channels:
            for b_i, b in enumerate(beh):
                out["cov"][j, b_i] = inf.coverage.get(b, 0.0)
                out["reward"][j, b_i, :] = inf.reward_points
            for x in inf.targeted_rewards:
                out["reward"][j, beh.index(x.behaviour), groups.index(x.group)] += x.points
            out["confirmed"][j] = inf.confirmed_points
            if inf.false_report_behaviour is not None:
                w = np.array([inf.target_weights.get(g, 1.0) for g in groups], f32)
                out["false"][j] = inf.false_report_rate * w
    return out


def _strategic(sc: Scenario, t: Tables, out: dict) -> np.ndarray:
    """report_zeal [J, B * G]; scales false reports in place (they follow their pay too)."""
    f32 = np.float32
    r, inf = sc.response, sc.informants
    J, B, G = len(t.progs), len(t.behaviours), len(t.groups)
    zeal_all = np.ones((J, B * G), f32)
    if not (r.model == "adaptive" and r.strategic_reporting > 0):
        return zeal_all
    for j, p in enumerate(t.progs):
        if p is None:
            continue
        value = out["reward"][j] + out["confirmed"][j]  # [B, G] points for reporting a real act
        zeal = np.exp(r.strategic_reporting * (value - r.report_cost) / r.severity_scale)
        zeal_all[j] = zeal.reshape(-1)
        fb = inf.false_report_behaviour
        if fb is not None:  # false reports earn the reward without the confirmation
            pay = out["reward"][j, t.behaviours.index(fb)]
            out["false"][j] *= np.exp(
                r.strategic_reporting * (pay - r.report_cost) / r.severity_scale
            ).astype(f32)
    return zeal_all


def compile_informants(
    sc: Scenario, t: Tables
) -> tuple[InformantSpec | None, InformantParams | None]:
    inf = sc.informants
    if inf is None:
        return None, None
    f32 = np.float32
    out = _tables(sc, t)
    zeal = _strategic(sc, t, out)
    share = np.zeros(len(t.groups), f32)
    for g_i, g in enumerate(t.groups):
        if inf.eligible_groups is None or g in inf.eligible_groups:
            share[g_i] = inf.share
    fb = inf.false_report_behaviour
    spec = InformantSpec(
        false_report_behaviour=t.behaviours.index(fb) if fb else -1,
        strategic=bool((zeal != 1).any()),
    )
    a = jnp.asarray
    params = InformantParams(
        share=a(share),
        report_zeal=a(zeal),
        **{k: a(v) for k, v in out.items()},
    )
    return spec, params
