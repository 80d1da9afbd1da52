"""Synthetic individuals: who lives where, their wealth and their propensity to misbehave.

Everything is drawn on the device from the run key, so a population of any size costs no
host memory and a run with and without the system starts from the same people.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from socialcredit import rng
from socialcredit.compile import Params, Spec
from socialcredit.engine.state import NONE, State


def _normal(word: jax.Array) -> jax.Array:
    u = (rng.unit(word) + (0.5 / 16777216.0)).astype(jnp.float32)  # in (0, 1)
    return jax.scipy.special.ndtri(u)


def synthesize(spec: Spec, params: Params, key: jax.Array) -> State:
    """The initial state: agents laid out by (jurisdiction, group) cell."""
    n = spec.padded
    idx = jnp.arange(n, dtype=jnp.uint32)
    w_wealth, w_prop = rng.agent_words(rng.stage_seeds(key, 0, rng.POPULATION, 2), idx, 2)
    cj, cg = spec.cell_of()
    sizes = spec.cell_sizes()
    ghosts = n - spec.agents  # padding slots take the last cell's labels, outside every cell
    jur = jnp.asarray(
        np.concatenate([np.repeat(cj, sizes), np.full(ghosts, cj[-1])]).astype(np.uint8)
    )
    group = jnp.asarray(
        np.concatenate([np.repeat(cg, sizes), np.full(ghosts, cg[-1])]).astype(np.uint8)
    )
    wealth = params.wealth_median * jnp.exp(params.wealth_sigma * _normal(w_wealth))
    sig = params.propensity_sigma
    propensity = jnp.exp(sig * _normal(w_prop) - 0.5 * sig * sig)
    return State(
        raw=jnp.zeros(n, jnp.int32),
        ring=jnp.zeros((spec.buckets, n), spec.ring_dtype),
        listed_since=jnp.full(n, -1, jnp.int16),
        wealth=wealth.astype(jnp.float32),
        risk=jnp.full(n, params.initial_risk, jnp.float16),
        propensity=propensity.astype(jnp.float16),
        jur=jur,
        group=group,
        events=jnp.full(n, NONE, jnp.uint32),
        false_until=jnp.zeros(n, jnp.int16),
        false_pts=jnp.zeros(n, jnp.int16),
    )
