"""Helpers shared by stages.

XLA's CPU gather is slow for per-agent lookups into tiny tables (about 0.7 ms per 1e6
agents), while a chain of selects fuses into the surrounding loop; `lookup` picks the chain for
small tables. Per-jurisdiction tables need no lookup at all when there is one jurisdiction.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from socialcredit.compile import Spec

SELECT_CHAIN_MAX = 24
# Up to this many (jurisdiction, group) cells, per-cell sums are static slices (fast to run);
# above it, prefix sums (a slice per cell and metric took 72 s to compile for the 62 zones of
# pilots-2021, see docs/decisions.md).
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


def group_index(spec: Spec, group_u8: jax.Array) -> jax.Array:
    """Per-agent group index (int32), or 0 when the scenario has one group (and stores none)."""
    if len(spec.groups) == 1:
        return jnp.zeros((), jnp.int32)
    return group_u8.astype(jnp.int32)


def trust_of(spec: Spec, params, state) -> jax.Array:
    """Interpersonal trust (float32): stored per agent in every scenario (stages/trust.py); a
    state without it (length 0) reads the scenario's initial level, rounded as stored."""
    if state.trust.shape[0] > 0:
        return state.trust.astype(jnp.float32)
    return params.trust_initial.astype(jnp.float16).astype(jnp.float32)


def contact_shift(x: jax.Array, o: int, agents: int) -> jax.Array:
    """x[(i - o) mod agents] for the real agents i < agents; padding slots keep their own value.

    Contacts wrap around the real agents, never the padded length, so a padding slot is no
    one's contact and the contacts do not depend on how much padding there is (a device count
    that does not divide 256 widens it). Along the last axis, as ``jnp.roll`` but modulo
    ``agents``: one concatenation of slices, as a roll is."""
    n = x.shape[-1]
    s = o % agents if agents else 0
    if s == 0:
        return x
    parts = [x[..., agents - s : agents], x[..., : agents - s]]
    if agents < n:
        parts.append(x[..., agents:])
    return jnp.concatenate(parts, axis=-1)


def shifted_sum(x: jax.Array, offsets: tuple[int, ...], agents: int) -> jax.Array:
    """sum_k x[(i - offsets[k]) mod agents] for each real agent i (`contact_shift`).

    Short offsets read slices of one copy wrapped around the real agents; long-range ones are
    shifts of their own. What padding slots get is unspecified (they are inert); it never
    depends on them, and they are no one's contact."""
    n = x.shape[0]
    signed = [(o % agents) - agents if o % agents > agents // 2 else o % agents for o in offsets]
    near = [o for o in signed if abs(o) <= 1024]
    far = [o for o in signed if o not in near]
    total = sum((contact_shift(x, o, agents) for o in far), jnp.zeros_like(x))
    if near:
        pad = max(abs(o) for o in near)
        # wrapped[pad + m] = x[m mod agents] for -pad <= m < agents + pad; padding slots after
        wrapped = jnp.concatenate([x[agents - pad : agents], x[:agents], x[:pad], x[agents:]])
        total = total + sum(jax.lax.slice_in_dim(wrapped, pad - o, pad - o + n) for o in near)
    return total


def many_cells(spec: Spec) -> bool:
    return spec.n_cells > SLICE_CELLS_MAX


def prefix_cell_sums(spec: Spec, xs: list[jax.Array], counts: bool = False) -> jax.Array:
    """[C, len(xs)] sums over cells from prefix sums, in a fixed number of operations
    whatever the number of cells (a slice per cell and metric took 72 s to compile for 62
    zones; a segment sum ran 20 times slower than slices).

    Cells are contiguous, so a cell's sum is prefix(end) - prefix(start). Prefixes are
    cumulative sums of 128-agent block sums, plus the part of the boundary's block before it
    (one gather of 128 agents per boundary). With ``counts``, boolean flags are packed four to
    a uint32 in byte lanes (a block of 128 cannot overflow a lane) and counted exactly."""
    bounds = np.asarray(spec.cell_starts)
    n = xs[0].shape[0]
    blk = 128  # n is a multiple of PAD (256)
    first = bounds // blk
    idx = first[:, None] * blk + np.arange(blk)[None, :]  # [C+1, blk]
    mask = jnp.asarray(idx < bounds[:, None])
    idx = jnp.asarray(np.minimum(idx, n - 1))
    # each quantity is reduced on its own: stacking them first into one [K, n] array made
    # XLA's CPU backend copy everything and ran ten times slower
    if counts:
        rows = [
            sum(xs[g + i].astype(jnp.uint32) << (8 * i) for i in range(min(4, len(xs) - g)))
            for g in range(0, len(xs), 4)
        ]
        zero, kw = jnp.uint32(0), {"dtype": jnp.uint32}
    else:
        rows = [x.astype(jnp.float32) for x in xs]
        zero, kw = jnp.float32(0), {}
    blocks = jnp.stack([r.reshape(n // blk, blk).sum(axis=1, **kw) for r in rows])  # [W, nb]
    part = jnp.stack([jnp.where(mask, r[idx], zero).sum(axis=1, **kw) for r in rows])  # [W, C+1]
    if counts:  # unpack the byte lanes: [W, m] -> [len(xs), m] int32

        def unpack(w: jax.Array) -> jax.Array:
            lanes = jnp.stack([(w >> (8 * i)) & 255 for i in range(4)], axis=1)  # [W, 4, m]
            return lanes.reshape(-1, w.shape[-1])[: len(xs)].astype(jnp.int32)

        blocks, part = unpack(blocks), unpack(part)
    csum = jnp.concatenate([jnp.zeros_like(blocks[:, :1]), jnp.cumsum(blocks, axis=1)], axis=1)
    prefix = csum[:, jnp.asarray(first)] + part  # [len(xs), C+1]
    return (prefix[:, 1:] - prefix[:, :-1]).T
