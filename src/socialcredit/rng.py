"""Per-agent random words from a counter-based hash, keyed by JAX's threefry.

Every draw comes from the run key: ``stage_seeds(key, day, stage)`` folds in the day and a
fixed stage id with ``jax.random.fold_in`` (threefry), giving a few 32-bit seeds; each agent's
word is then a keyed integer hash of its index. Drawing per-agent words with threefry costs
about 6 ns a word on the 2-core CPU; the hash costs under 1 ns (see docs/decisions.md). Draws
depend only on (key, day, stage, agent index), so results do not depend on how the scan is
chunked, and a run with and without the system shares its random numbers.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

U32 = jnp.uint32
TWO32 = 4294967296.0

# Fixed ids of the stages that draw, so adding a stage never shifts another's numbers.
BEHAVE, OBSERVE, CONSEQUENCES, POPULATION, PLACES, APPEALS = 1, 2, 3, 4, 5, 6
REPAY, MAP = 7, 8
TRUST = 9  # stochastic rounding of trust to float16
# Trust and approval (stages/trust.py, stages/approval.py).
TRUST_LEVEL, APPROVAL = 80, 81  # each person's own initial trust; rounding approval to float16
# Organisations (engine/orgs.py, stages market, inspect, corporate).
MARKET, B2B, INSPECT, INSTITUTIONS, LOANS, ORG_POPULATION = 40, 41, 42, 43, 44, 45
# A local repair passed on to a layered list's copy (stages/layers.py), folded into the key
# before each list's own stream, so lists stay independent of each other.
LAYER_REPAIR = 60
AUDIENCES = 70  # who watches screens and hears ringtones (stages/audiences.py)
# Firm entry, counterfeit exports, inspection capacity, officials' promotions (issue 15).
ENTRY, EXPORT, CAPACITY, PROMOTION = 100, 101, 102, 103
REWARDS = 90  # counted rewards (stages/rewards.py): check-ups and bike rentals
# The people the essay names (engine/stages/people.py): occupations, detention.
OCCUPATION, DETAIN = 110, 111


def _triple32(x: jax.Array) -> jax.Array:
    """Chris Wellons' triple32 integer hash: a bijection on uint32 with near-ideal avalanche."""
    x = x ^ (x >> 17)
    x = x * U32(0xED5EB4A5)
    x = x ^ (x >> 11)
    x = x * U32(0xAC4C1B51)
    x = x ^ (x >> 15)
    x = x * U32(0x31848BAB)
    x = x ^ (x >> 14)
    return x


def stage_seeds(key: jax.Array, day: jax.Array, stage: int, n: int) -> jax.Array:
    """``n + 1`` uint32 seeds for one stage on one day, from threefry."""
    k = jax.random.fold_in(jax.random.fold_in(key, day), stage)
    return jax.random.bits(k, (n + 1,), U32)


def agent_words(seeds: jax.Array, index: jax.Array, n: int) -> list[jax.Array]:
    """``n`` independent-looking uint32 words per agent index (``seeds`` from stage_seeds).

    One keyed round mixes the index with the first seed; each word is a second keyed round.
    """
    base = _triple32(index.astype(U32) ^ seeds[0])
    return [_triple32(base ^ seeds[i + 1]) for i in range(n)]


def threshold(p: jax.Array) -> jax.Array:
    """A probability as a uint32 threshold: ``word < threshold(p)`` happens with chance p."""
    return jnp.minimum(p.astype(jnp.float32) * TWO32, 4294967295.0).astype(U32)


def unit(word: jax.Array) -> jax.Array:
    """A uint32 word as a float32 in [0, 1) with 24 bits of resolution."""
    return (word >> 8).astype(jnp.float32) * (1.0 / 16777216.0)


def round_f16(x: jax.Array, word: jax.Array) -> jax.Array:
    """float32 -> float16, rounded up or down at random in proportion to the distance, so that
    the expected value is ``x``. Round-to-nearest would drop every daily change smaller than
    half a float16 step (about 2.4e-4 near 0.7), which froze slow beliefs in place."""
    near = x.astype(jnp.float16)
    near32 = near.astype(jnp.float32)
    toward = jnp.where(x > near32, jnp.inf, -jnp.inf).astype(jnp.float16)
    other = jnp.nextafter(near, toward)
    gap = other.astype(jnp.float32) - near32
    frac = jnp.where(gap != 0, (x - near32) / jnp.where(gap != 0, gap, 1.0), 0.0)
    return jnp.where(unit(word) < frac, other, near)
