"""Helpers shared by stages."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from socialcredit.compile import Spec


def by_place(spec: Spec, table: jax.Array, jur: jax.Array) -> jax.Array:
    """Per-agent value of a per-jurisdiction table ([J] -> [N]); no gather with one place."""
    if len(spec.jurisdictions) == 1:
        return table[0]
    return table[jur]


def jur_index(spec: Spec, jur_u8: jax.Array) -> jax.Array:
    return jnp.zeros((), jnp.int32) if len(spec.jurisdictions) == 1 else jur_u8.astype(jnp.int32)
