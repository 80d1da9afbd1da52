"""Running one population across several devices: the agent axis sharded over a mesh.

Every per-agent array is split along its last (agent) axis over a one-dimensional
`jax.sharding.Mesh` named ``agents``; parameters, keys and metrics are replicated. Nothing in
the stages changes: XLA's SPMD partitioner turns the shifted contact sums (shifts and slices
of a wrapped copy) into exchanges of the few agents at each shard's edge, and the per-cell
metric reductions into partial sums plus an all-reduce. The population's padding is a multiple
of 256 and of the device count (lcm(256, devices)); contacts wrap around the real agents, not
the padded length (`stages.common.contact_shift`), and padding slots are inert and no one's
contact, so a sharded run is identical to a one-device run of the same seed for any device
count (integer state and counts exactly; float sums up to the order of addition).

Across hosts: call `init_distributed()` (``jax.distributed.initialize``) in every process
before the first JAX call; `jax.devices()` then lists every host's devices and the mesh spans
them all.
"""

from __future__ import annotations

import math
from dataclasses import replace

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from socialcredit.compile import PAD, Spec

AXIS = "agents"


def agent_mesh(devices: int | None = None) -> Mesh | None:
    """A mesh over the first ``devices`` devices (all of them when None); None for one."""
    avail = jax.devices()
    n = len(avail) if devices is None else devices
    if n < 1 or n > len(avail):
        raise ValueError(f"asked for {n} devices, but JAX sees {len(avail)}: {avail}")
    if n == 1:
        return None
    return Mesh(np.asarray(avail[:n]), (AXIS,))


def pad_for(spec: Spec, mesh: Mesh | None) -> Spec:
    """The spec with its padding a multiple of 256 and of the mesh's device count.

    Wider padding changes nothing but the number of inert slots: contacts are taken modulo
    the number of agents, so any device count gives the results of one device."""
    if mesh is None:
        return spec
    unit = math.lcm(PAD, mesh.size)
    padded = -(-spec.agents // unit) * unit
    return spec if padded == spec.padded else replace(spec, padded=padded)


def agent_sharding(mesh: Mesh, ndim: int) -> NamedSharding:
    """Split the last axis (agents) over the mesh; replicate the others."""
    return NamedSharding(mesh, PartitionSpec(*([None] * (ndim - 1)), AXIS))


def constrain(tree, mesh: Mesh | None, n: int):
    """Inside jit: shard every leaf whose last axis has length ``n`` over the mesh."""
    if mesh is None:
        return tree

    def one(x):
        if x.ndim >= 1 and x.shape[-1] == n:
            return jax.lax.with_sharding_constraint(x, agent_sharding(mesh, x.ndim))
        return x

    return jax.tree_util.tree_map(one, tree)


def to_host(x: jax.Array) -> np.ndarray:
    """A device array as NumPy, gathering the shards of other hosts when there are several."""
    if jax.process_count() > 1 and not x.is_fully_addressable:
        from jax.experimental import multihost_utils

        return np.asarray(multihost_utils.process_allgather(x, tiled=True))
    return np.asarray(x)


def init_distributed(**kwargs) -> None:
    """Join a multi-host run: ``jax.distributed.initialize(**kwargs)``, which reads the
    coordinator address, process count and id from the cluster (SLURM, Open MPI, Cloud TPU) or
    from ``kwargs``. Call it once per process, before anything else touches JAX."""
    jax.distributed.initialize(**kwargs)
