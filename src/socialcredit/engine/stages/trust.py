"""trust: interpersonal trust in every scenario, and what wears it down.

Trust recovers towards a baseline at `trust.learning_rate` a day. The baseline is each
person's initial level times 1 - min(1, informant_weight * share of one's contacts who inform
+ surveillance_weight * known surveillance), known surveillance being the chance that an act
the place's programme scores is recorded (any channel: cameras, police, the informants' own
channel as far as it counts in `detect`). Each contact reported by an informant, sanctioned or
publicly shamed the day before takes a share of trust (`report_shock`, `sanction_shock`,
`shaming_shock`; together at most all of it). Without a system (no programme, no informants,
no sanctions) trust stays at each person's initial level. Distrust silences speech and
religion (`behave`).

Sources: the essay's Ceausescu passage (a lack of interpersonal trust nourished by informants
covertly placed among colleagues); Lichter, Löffler & Siegloch (2021, JEEA) for the size, as a
calibration target (docs/mechanisms.md).
"""

from __future__ import annotations

from dataclasses import replace

import jax
import jax.numpy as jnp

from socialcredit import rng
from socialcredit.compile import Params, Spec
from socialcredit.engine.stages.common import by_place, jur_index, shifted_sum
from socialcredit.engine.stages.informants import informant_contacts, reported_yesterday
from socialcredit.engine.state import Context, State, Today, event_field

SQRT12 = 3.4641016151377544  # a uniform on [-0.5, 0.5) times this has SD 1


def own_initial(spec: Spec, params: Params, key: jax.Array) -> jax.Array:
    """Each person's initial trust (float32, as float16 stores it): `trust.initial`, or with
    `trust.spread` that level plus a uniform spread of that SD, clipped to [0, 1], drawn from
    the run key alone (so a run with and without the system starts from the same people)."""
    level = params.trust_initial.astype(jnp.float32)
    ts = spec.trust
    if ts is not None and ts.spread:  # people's own levels
        idx = jnp.arange(spec.padded, dtype=jnp.uint32)
        (w,) = rng.agent_words(rng.stage_seeds(key, 0, rng.TRUST_LEVEL, 1), idx, 1)
        level = level + params.trust.spread * SQRT12 * (rng.unit(w) - 0.5)
    return jnp.clip(level, 0.0, 1.0).astype(jnp.float16).astype(jnp.float32)


def known_surveillance(spec: Spec, params: Params, jur: jax.Array) -> jax.Array:
    """Per agent: the chance that an act its place's programme scores is recorded (the mean
    over the behaviours it scores; 0 where no programme runs today)."""
    scored = (params.points != 0).astype(jnp.float32)  # [J, B]
    per_place = (params.detect * scored).sum(axis=1) / jnp.maximum(scored.sum(axis=1), 1.0)
    return by_place(spec, per_place, jur)


def update_trust(spec: Spec, params: Params, key: jax.Array, day: jax.Array, state: State) -> State:
    """Trust for tomorrow, from yesterday's events among one's contacts and the place's known
    surveillance (see the module's docstring)."""
    tp = params.trust
    offsets = spec.contact_offsets
    u32 = jnp.uint32
    initial = own_initial(spec, params, key)
    jur = jur_index(spec, state.jur)
    pressure = tp.surveillance_weight * known_surveillance(spec, params, jur)
    trust = state.trust.astype(jnp.float32)
    shock = jnp.zeros((), jnp.float32)
    if offsets:
        ev = state.events
        # three counts in byte lanes of one word: one shifted sum instead of three (degree < 256)
        word = ((event_field(ev, "sanctioned") & 1) << 8) | ((event_field(ev, "shamed") & 1) << 16)
        if spec.informants is not None:
            word = word | reported_yesterday(spec, state).astype(u32)
        seen = shifted_sum(word, offsets, spec.agents)
        counts = [((seen >> (8 * k)) & 255).astype(jnp.float32) for k in range(3)]
        shock = jnp.minimum(1.0, sum(tp.shocks[k] * counts[k] for k in range(3)))
        if spec.informants is not None:
            density = informant_contacts(spec, state).astype(jnp.float32) / len(offsets)
            pressure = pressure + tp.informant_weight * density
    baseline = initial * (1.0 - jnp.minimum(1.0, pressure))
    trust = trust + tp.rate * (baseline - trust) - trust * shock
    (w,) = rng.agent_words(
        rng.stage_seeds(key, day, rng.TRUST, 1), jnp.arange(spec.padded, dtype=jnp.uint32), 1
    )
    return replace(state, trust=rng.round_f16(jnp.clip(trust, 0.0, 1.0), w))


def distrust(ctx: Context, state: State, today: Today) -> tuple[State, Today]:
    """Stage: trust for tomorrow (``today.trust``), from yesterday's events nearby."""
    trust = update_trust(ctx.spec, ctx.params, ctx.key, ctx.day, state).trust
    return state, replace(today, trust=trust)
