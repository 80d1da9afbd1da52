"""observe: which acts the authority learns of, and through which channel.

An act of behaviour b is recorded with the chance that at least one of the programme's
channels covering b catches it; the record is credited to the first channel (in scenario
order) that does. False records (drawn in `behave`) are credited to a channel in proportion
to its false-positive rate. One random word per agent decides both.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from socialcredit import rng
from socialcredit.compile import Params, Spec
from socialcredit.engine.stages.behave import false_report_rate
from socialcredit.engine.stages.common import group_index, jur_index, lookup, lookup2
from socialcredit.engine.stages.informants import informant_contacts
from socialcredit.engine.state import NONE, State


def observe(
    spec: Spec, params: Params, key: jax.Array, day: jax.Array, state: State, outcome: jax.Array
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """(recorded bool, channel int8, points int16) per agent."""
    n = spec.padded
    B = len(spec.behaviours)
    K = params.chan_cum.shape[-1]
    (word,) = rng.agent_words(
        rng.stage_seeds(key, day, rng.OBSERVE, 1), jnp.arange(n, dtype=jnp.uint32), 1
    )
    u = rng.unit(word)
    jur = jur_index(spec, state.jur)
    none = outcome == NONE
    is_false = (outcome >= B) & ~none
    b = jnp.where(
        none, 0, jnp.where(is_false, outcome.astype(jnp.int32) - B, outcome.astype(jnp.int32))
    )
    if spec.occupations is not None:  # closer monitoring: each channel looks m times
        m = lookup(params.occupations.monitoring, state.people.occupation.astype(jnp.int32))
        looked = 1.0 - (1.0 - u) ** (1.0 / m)
        u = jnp.where(is_false | (m == 1.0), u, looked)
    pts = lookup2(spec, params.points, jur, b)
    d_mon = lookup2(spec, params.detect, jur, b)
    inf = spec.informants
    km = K - 1 if inf is not None else K  # monitoring channels come first
    u_mon = u  # the draw as seen by the monitoring channels' cumulative shares
    if inf is not None:
        # acts: monitors catch it with d_mon; failing that, one of k informant contacts
        k_inf = informant_contacts(spec, state).astype(jnp.float32)
        cov = lookup2(spec, params.informants.cov, jur, b)
        if inf.strategic:  # informants report more where reports pay more
            G = len(spec.groups)
            zeal = params.informants.report_zeal
            zeal = lookup2(spec, zeal, jur, b * G + group_index(spec, state.group))
            cov = jnp.minimum(cov * zeal, 1.0)
        p_inf = 1.0 - (1.0 - cov) ** k_inf
        d_act = 1.0 - (1.0 - d_mon) * (1.0 - p_inf)
        # false records: from monitors or from informants, in proportion to their rates
        f_mon = lookup2(spec, params.false_rate, jur, b)
        f_inf = jnp.where(
            b == inf.false_report_behaviour, false_report_rate(spec, params, state), 0.0
        )
        mon_share = f_mon / jnp.maximum(f_mon + f_inf, 1e-30)
        by_inf = jnp.where(is_false, u >= mon_share, u >= d_mon)
        u_mon = jnp.where(is_false, u / jnp.maximum(mon_share, 1e-30), u)
    else:
        d_act = d_mon
        by_inf = jnp.zeros(outcome.shape, bool)
    detected = jnp.where(is_false, True, u < d_act) & ~none
    recorded = detected & (pts != 0)
    # the first monitoring channel whose cumulative share exceeds the draw made the record
    channel = jnp.zeros(outcome.shape, jnp.int32)
    for k in range(km - 1):
        cum_k = jnp.where(
            is_false,
            lookup2(spec, params.false_cum[:, :, k], jur, b),
            lookup2(spec, params.chan_cum[:, :, k], jur, b),
        )
        channel = channel + (u_mon >= cum_k).astype(jnp.int32)
    channel = jnp.where(by_inf, K - 1, channel)
    channel = jnp.where(recorded, channel, -1).astype(jnp.int8)
    points = jnp.where(recorded, pts, 0).astype(jnp.int16)
    return recorded, channel, points
