"""Helpers shared by stages.

XLA's CPU gather is slow for per-agent lookups into tiny tables (about 0.7 ms per 1e6
agents), while a chain of selects fuses into the surrounding loop; `lookup` picks the chain for
small tables. Per-jurisdiction tables need no lookup at all when there is one jurisdiction.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from socialcredit.compile import Spec

SELECT_CHAIN_MAX = 24
# Up to this many (jurisdiction, group) cells, per-cell sums are static slices (fast to run);
# above it, one segment sum over all cells (a slice per cell and metric took 72 s to compile
# for the 62 zones of pilots-2021, see docs/decisions.md).
SLICE_CELLS_MAX = 16


def lookup(table: jax.Array, idx: jax.Array) -> jax.Array:
    """``table[idx]`` for a 1-D table, as a select chain when the table is small."""
    n = table.shape[0]
    if n == 1:
        return jnp.broadcast_to(table[0], idx.shape)
    if n > SELECT_CHAIN_MAX:
        return table[idx]
    out = jnp.broadcast_to(table[0], idx.shape)
    for k in range(1, n):
        out = jnp.where(idx == k, table[k], out)
    return out


def lookup2(spec: Spec, table: jax.Array, jur: jax.Array, idx: jax.Array) -> jax.Array:
    """``table[jur, idx]`` for a per-jurisdiction table [J, n]."""
    if len(spec.jurisdictions) == 1:
        return lookup(table[0], idx)
    J, n = table.shape
    if J * n <= SELECT_CHAIN_MAX:
        return lookup(table.reshape(-1), jur * n + idx)
    return table[jur, idx]


def by_place(spec: Spec, table: jax.Array, jur: jax.Array) -> jax.Array:
    """Per-agent value of a per-jurisdiction table ([J] -> [N], or a scalar with one place)."""
    if len(spec.jurisdictions) == 1:
        return table[0]
    return lookup(table, jur)


def jur_index(spec: Spec, jur_u8: jax.Array) -> jax.Array:
    return jnp.zeros((), jnp.int32) if len(spec.jurisdictions) == 1 else jur_u8.astype(jnp.int32)


def shifted_sum(x: jax.Array, offsets: tuple[int, ...]) -> jax.Array:
    """sum_k x[(i - offsets[k]) mod N], as ``jnp.roll`` would give.

    Short offsets read slices of one wrapped copy; long-range ones are plain rolls.
    """
    n = x.shape[0]
    near = [o for o in offsets if abs(o) <= 1024 and abs(o) < n]
    far = [o for o in offsets if o not in near]
    total = sum((jnp.roll(x, o) for o in far), jnp.zeros_like(x))
    if near:
        pad = max(abs(o) for o in near)
        wrapped = jnp.concatenate([x[n - pad :], x, x[:pad]])
        total = total + sum(jax.lax.slice_in_dim(wrapped, pad - o, pad - o + n) for o in near)
    return total


def many_cells(spec: Spec) -> bool:
    return spec.n_cells > SLICE_CELLS_MAX


def cell_ids(spec: Spec, jur: jax.Array, group: jax.Array) -> jax.Array:
    """int32 cell index of each agent (j * G + g); padding slots get C, which sums drop."""
    c = jur.astype(jnp.int32) * len(spec.groups) + group.astype(jnp.int32)
    return jnp.where(jnp.arange(jur.shape[0]) < spec.agents, c, spec.n_cells)


def segment_cell_sums(spec: Spec, ids: jax.Array, xs: list[jax.Array], dtype=jnp.float32):
    """[C, len(xs)] sums of per-agent arrays over cells, by one segment sum."""
    data = jnp.stack([x.astype(dtype) for x in xs], axis=1)
    return jax.ops.segment_sum(data, ids, num_segments=spec.n_cells)
