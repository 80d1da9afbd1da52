"""Several runs of one compiled shape as one call: `run_chunk` under `jax.vmap`.

A sweep's experiments that share a `Spec` (the static facts: sizes, layout, which mechanisms
run) differ only in their `Params` and seeds, so their `Params` are stacked along a new
leading axis (`stack_params`) and the runs advance together, a chunk of days per compiled
call, exactly as `simulate_arrays` advances one. Every `lax.cond` of a day has a predicate
that depends on the day alone, so it stays a conditional under `vmap`; the results of each
run are those of running it alone (tests/test_sweep.py checks this).

No credit-file sample is kept and the agent axis is not sharded over devices: a batch is a
sweep's unit of work, and several batches spread over devices or machines through the
sweep's executors (experiments/executors.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from socialcredit.compile import Params, Spec
from socialcredit.engine.population import synthesize
from socialcredit.engine.run import default_chunk, run_chunk
from socialcredit.engine.state import State


def stack_params(items: Sequence[Params]) -> Params:
    """The Params of several variants of one Spec, stacked along a new leading axis.

    Raises ValueError if their trees differ (variants of different Specs cannot share a call).
    """
    first = jax.tree_util.tree_structure(items[0])
    for p in items[1:]:
        if jax.tree_util.tree_structure(p) != first:
            raise ValueError("these variants have different parameter trees; batch them apart")
    return jax.tree_util.tree_map(lambda *xs: jnp.stack([jnp.asarray(x) for x in xs]), *items)


@partial(jax.jit, static_argnums=(0,))
def initial_states(spec: Spec, params: Params, keys: jax.Array) -> State:
    """The synthetic populations of a batch (one per row of ``params`` and ``keys``)."""
    return jax.vmap(lambda p, k: synthesize(spec, p, k))(params, keys)


@partial(jax.jit, static_argnums=(0, 1), donate_argnums=(3,))
def run_chunks(
    spec: Spec, chunk: int, params: Params, state: State, keys: jax.Array, day0: jax.Array
) -> tuple[State, tuple[jax.Array, ...]]:
    """`run_chunk` for every run of a batch: days day0 .. day0 + chunk - 1."""
    none = jnp.zeros(0, jnp.int32)

    def one(p: Params, s: State, k: jax.Array):
        return run_chunk(spec, chunk, p, s, k, day0, none)

    return jax.vmap(one)(params, state, keys)


def simulate_batch(
    spec: Spec,
    params: Params,
    keys: jax.Array,
    chunk_days: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[State, np.ndarray, np.ndarray | None]:
    """Run a batch of variants of ``spec`` (stacked ``params``, one key each) to the end.

    Returns the final states (batched, on the device), metrics [B, days, C, M] and the
    organisation metrics [B, days, M_org] (None without organisations) on the host. The day
    bookkeeping is `simulate_arrays`': entry i of a chunk's output describes day day0 + i - 1.
    """
    chunk = min(chunk_days or default_chunk(spec.days), spec.days)
    state = initial_states(spec, params, keys)
    parts: list[tuple[np.ndarray, ...]] = []
    day0 = 0
    for day0 in range(0, spec.days, chunk):
        state, out = run_chunks(spec, chunk, params, state, keys, jnp.int32(day0))
        parts.append((np.asarray(out[0]), *(np.asarray(x) for x in out[3:])))
        if progress is not None:
            progress(min(day0 + chunk, spec.days), spec.days)
    if day0 + chunk == spec.days:  # the last day is described by one more (skipped) call
        state, out = run_chunks(spec, chunk, params, state, keys, jnp.int32(spec.days))
        parts.append((np.asarray(out[0])[:, :1], *(np.asarray(x)[:, :1] for x in out[3:])))
    keep = list(range(1, spec.days + 1))
    metrics, *org = (
        np.concatenate([p[k] for p in parts], axis=1)[:, keep] for k in range(len(parts[0]))
    )
    return state, metrics, (org[0] if org else None)


def take(tree, i: int):
    """Run ``i`` of a batched pytree (its state or params), on the host."""
    return jax.tree_util.tree_map(lambda x: x[i], tree)
