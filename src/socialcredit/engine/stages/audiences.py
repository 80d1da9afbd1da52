"""audiences: who sees the publicly shamed, and what seeing does to them (issue 15).

Public shaming has the audiences the courts use (scs-facts section 6), each set per tier or
listing under a consequence's `audiences`:

- posters: a poster in the person's village. Each jurisdiction's city plane (the torus of the
  deadbeat map, homes uniform on it: engine/population.homes) is cut into square villages of
  side about `shaming.village_m`; every resident of a village where someone else is on a
  poster sees it that day. Per-village sums by one scatter-add over agents.
- screens: cinema pre-rolls and street screens. Each resident draws one uniform u a day and
  watches the screens of every tier whose share is above u (a bigger share, more screenings,
  more of the same people watching), seeing them if someone other than themselves is shown
  there in their jurisdiction; so the expected viewers are share x residents.
- ringtones: each contact of the person calls them with chance `ringtone_calls` a day and
  hears the tone; a listener with k such contacts hears at least one with chance
  1 - prod (1 - c), summed as logs over the contact offsets (no draw per call).
- map: with a deadbeat map, app users who saw at least one person on it that day.

Each agent carries one byte of what it saw (`State.audience`, AUDIENCE_BITS), measured as
`shaming_viewers.<audience>` and `shaming_viewers` (unique viewers).

Spillovers, both zero by default (then every result is as without the section):
- deterrence: a viewer takes `shaming.deterrence` as evidence of risk the next day, beside
  their own sanctions (stages/learn.py), so misconduct in general falls under the adaptive
  model (perceived risk is one number per agent, not per behaviour).
- shunning: a match's counterpart is a resident of the person's jurisdiction; they have seen
  the person today with chance reach = 1 - prod over audiences (1 - viewers / residents)
  (posters: the village's other residents; screens: the share; ringtones: contacts x call
  rate, expected), and refuse with chance `shaming.shunning` (stages/consequences.py).
"""

from __future__ import annotations

from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np

from socialcredit import rng
from socialcredit.compile import Params, Spec
from socialcredit.engine.population import homes
from socialcredit.engine.stages.common import by_place, jur_index, lookup, lookup2, shifted_sum
from socialcredit.engine.state import Context, State, Today

AUDIENCE_BITS = {"posters": 0x01, "screens": 0x02, "ringtones": 0x04, "map": 0x08}


def residents(spec: Spec) -> np.ndarray:
    """Real agents per jurisdiction (float32 [J]), from the cell layout."""
    G = len(spec.groups)
    return spec.cell_sizes().reshape(-1, G).sum(axis=1).astype(np.float32)


def villages(spec: Spec, key: jax.Array, jur: jax.Array, side: jax.Array) -> jax.Array:
    """Global village id of each agent's home (int32 [N]), villages numbered plane by plane."""
    n_of = np.asarray(spec.audiences.villages, np.int32)
    first_of = np.concatenate([[0], np.cumsum(n_of.astype(np.int64) ** 2)[:-1]]).astype(np.int32)
    n = lookup(jnp.asarray(n_of), jur) if len(n_of) > 1 else jnp.int32(n_of[0])
    first = lookup(jnp.asarray(first_of), jur) if len(n_of) > 1 else jnp.int32(0)
    x, y = homes(key, jnp.arange(spec.padded, dtype=jnp.int32), side)
    cx = jnp.clip(jnp.floor(x / side * n).astype(jnp.int32), 0, n - 1)
    cy = jnp.clip(jnp.floor(y / side * n).astype(jnp.int32), 0, n - 1)
    return first + cy * n + cx


def audiences(
    spec: Spec,
    params: Params,
    key: jax.Array,
    day: jax.Array,
    state: State,
    tier: jax.Array,
    listed: jax.Array,
    sightings: jax.Array | None = None,
) -> tuple[jax.Array, jax.Array]:
    """(uint8 [N] what each agent saw today, AUDIENCE_BITS; float32 [N] the chance that a
    match's counterpart refuses the agent for having seen them shamed)."""
    a, ap = spec.audiences, params.audiences
    N, T, J = spec.padded, spec.max_tiers, len(spec.jurisdictions)
    real = jnp.arange(N) < spec.agents
    jur = jur_index(spec, state.jur)
    jur_all = state.jur.astype(jnp.int32) if J > 1 else jnp.zeros(N, jnp.int32)
    idx = jnp.where(listed, T, tier.astype(jnp.int32))
    shown = by_place(spec, params.active, jur) & real
    pop = by_place(spec, jnp.asarray(residents(spec)), jur)
    bits = jnp.zeros(N, jnp.uint8)
    miss = jnp.ones(N, jnp.float32)  # chance a resident has seen the person by none
    seeds = rng.stage_seeds(key, day, rng.AUDIENCES, 2)
    u_screen, w_ring = rng.agent_words(seeds, jnp.arange(N, dtype=jnp.uint32), 2)

    def mark(saw: jax.Array, name: str) -> jax.Array:
        return bits | jnp.where(saw & real, jnp.uint8(AUDIENCE_BITS[name]), jnp.uint8(0))

    if a.posters:
        on = lookup2(spec, ap.posters, jur, idx) & shown
        v = villages(spec, key, jur_all, lookup(params.side_m, jur_all))
        V = int(sum(n * n for n in a.villages))
        v = jnp.where(real, v, V)  # ghosts live in a village of their own
        on_v = jnp.zeros(V + 1, jnp.int32).at[v].add(on.astype(jnp.int32))
        res_v = jnp.zeros(V + 1, jnp.int32).at[v].add(real.astype(jnp.int32))
        bits = mark(on_v[v] - on.astype(jnp.int32) > 0, "posters")
        others = (res_v[v] - 1).astype(jnp.float32)
        miss = miss * jnp.where(on, 1.0 - jnp.minimum(others / pop, 1.0), 1.0)
    if a.screens:
        share = jnp.where(shown, lookup2(spec, ap.screens, jur, idx), 0.0)
        on = share > 0
        K = T + 1
        count = jnp.zeros(J * K, jnp.int32).at[jur_all * K + idx].add(on.astype(jnp.int32))
        u = rng.unit(u_screen)
        saw = jnp.zeros(N, bool)
        for k in range(K):
            others = lookup(count.reshape(J, K)[:, k], jur_all) - (on & (idx == k))
            saw = saw | ((u < by_place(spec, ap.screens[:, k], jur)) & (others > 0))
        bits = mark(saw, "screens")
        miss = miss * (1.0 - share)
    if a.ringtones:
        calls = jnp.where(shown, lookup2(spec, ap.calls, jur, idx), 0.0)
        offsets = spec.contact_offsets
        log_miss = shifted_sum(jnp.log1p(-calls), offsets, spec.agents)
        hears = w_ring < rng.threshold(1.0 - jnp.exp(log_miss))
        bits = mark(hears, "ringtones")
        miss = miss * (1.0 - jnp.minimum(len(offsets) * calls / pop, 1.0))
    if a.map and sightings is not None:
        bits = mark(sightings > 0, "map")
    return bits, ap.shunning * (1.0 - miss)


def watch(ctx: Context, state: State, today: Today) -> tuple[State, Today]:
    """Stage: today's audiences of shaming, from today's tiers (``state.audience``, read by
    tomorrow's `perceive`; ``today.refusal`` cuts today's matches)."""
    bits, refusal = audiences(
        ctx.spec, ctx.params, ctx.key, ctx.day, state, today.tier, today.listed, today.sightings
    )
    return replace(state, audience=bits), replace(today, refusal=refusal)
