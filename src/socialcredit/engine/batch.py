"""Several runs of one compiled shape in one go: a sweep's batch.

A sweep's experiments that share a `Spec` (the static facts: sizes, layout, which mechanisms
run) differ only in their `Params` and seeds, so their `Params` are stacked along a new
leading axis (`stack_params`) and the batch runs with one compiled chunk: on an accelerator
side by side, `run_chunk` under `jax.vmap`; on the CPU small runs side by side and large
ones one after another through the ordinary compiled chunk, which is faster there
(`micro_batch` has the measurements). Every
`lax.cond` of a day has a predicate that depends on the day alone, so it stays a conditional
under `vmap`; each run's results are those of running it alone (tests/test_sweep.py).

No credit-file sample is kept and the agent axis is not sharded over devices: a batch is a
sweep's unit of work, and batches spread over devices or machines through the sweep's
executors (experiments/executors.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from socialcredit.compile import Params, Spec
from socialcredit.engine.population import synthesize
from socialcredit.engine.run import default_chunk, run_chunk, simulate_arrays
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


IN_TURN_FROM = 20_000  # agents: on the CPU, runs at least this large go in turn


def micro_batch(spec: Spec) -> int:
    """How a batch advances its runs: side by side (``0``: one `vmap` over the batch), or one
    after another through the same compiled chunk (``1``). Accelerators: side by side. The
    CPU: side by side below IN_TURN_FROM agents, in turn from there.

    On the CPU, measured side by side (2026-11-28, 2-core machine, `rongcheng`, 30 days,
    agent-days per second in turn / side by side): 64 runs of 1,000 agents 1.1e6 / 1.1e7;
    16 of 10,000 8.4e6 / 1.6e7; 8 of 30,000 2.1e7 / 1.2e7; 8 of 100,000 4.2e7 / 1.5e7 (a
    `lax.map` over the batch inside one call: 3.0e7). Small runs are dominated by the host's
    dispatch of each chunk, which `vmap` shares; a large run's arrays fill the processor's
    caches and the engine's CPU-specific fusion choices (buffers materialised by conditionals,
    cheap shifts along one axis) are tuned for one run, so a batch axis only multiplies the
    working set, and two cores have no width for it to fill. An accelerator has the width.
    Either way a shape compiles once and no run pays a start-up."""
    if jax.default_backend() == "cpu" and spec.padded >= IN_TURN_FROM:
        return 1
    return 0


@partial(jax.jit, static_argnums=(0, 1), donate_argnums=(3,))
def run_chunks(
    spec: Spec, chunk: int, params: Params, state: State, keys: jax.Array, day0: jax.Array
) -> tuple[State, tuple[jax.Array, ...]]:
    """`run_chunk` for every run of a batch, side by side under `vmap`: days day0 .. day0 +
    chunk - 1."""
    none = jnp.zeros(0, jnp.int32)

    def one(p: Params, s: State, k: jax.Array):
        return run_chunk(spec, chunk, p, s, k, day0, none)

    return jax.vmap(one)(params, state, keys)


def simulate_batch(
    spec: Spec,
    params: Params,
    seeds: Sequence[int],
    chunk_days: int | None = None,
    micro: int | None = None,
) -> tuple[State, np.ndarray, np.ndarray | None]:
    """Run a batch of variants of ``spec`` (stacked ``params``, one seed each) to the end.

    ``micro``: 0 to vmap the batch, 1 to run it in turn (default: `micro_batch`).
    Returns the final states (stacked), metrics [B, days, C, M] and the organisation metrics
    [B, days, M_org] (None without organisations) on the host.
    """
    micro = micro_batch(spec) if micro is None else micro
    if micro == 1:
        return _in_turn(spec, params, seeds, chunk_days)
    keys = jnp.stack([jax.random.key(s) for s in seeds])
    chunk = min(chunk_days or default_chunk(spec.days), spec.days)
    state = initial_states(spec, params, keys)
    parts: list[tuple[np.ndarray, ...]] = []
    day0 = 0
    for day0 in range(0, spec.days, chunk):
        state, out = run_chunks(spec, chunk, params, state, keys, jnp.int32(day0))
        org = out[3:4] if spec.orgs is not None else ()
        parts.append((np.asarray(out[0]), *(np.asarray(x) for x in org)))
    # the day bookkeeping is `simulate_arrays`': entry i of a chunk describes day day0 + i - 1,
    # and the last day is described by one more (skipped) call
    if day0 + chunk == spec.days:
        state, out = run_chunks(spec, chunk, params, state, keys, jnp.int32(spec.days))
        org = out[3:4] if spec.orgs is not None else ()
        parts.append((np.asarray(out[0])[:, :1], *(np.asarray(x)[:, :1] for x in org)))
    keep = list(range(1, spec.days + 1))
    metrics, *org = (
        np.concatenate([p[k] for p in parts], axis=1)[:, keep] for k in range(len(parts[0]))
    )
    return state, metrics, (org[0] if org else None)


def _in_turn(
    spec: Spec, params: Params, seeds: Sequence[int], chunk_days: int | None
) -> tuple[State, np.ndarray, np.ndarray | None]:
    """The runs of a batch one after another through the same compiled chunk: each is exactly
    `simulate_arrays` of that run alone."""
    runs = [
        simulate_arrays(spec, take(params, i), jax.random.key(s), chunk_days, None, None, devices=1)
        for i, s in enumerate(seeds)
    ]
    state = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *[r[0] for r in runs])
    metrics = np.stack([r[1] for r in runs])
    org = None if runs[0][4] is None else np.stack([r[4] for r in runs])
    return state, metrics, org


def take(tree, i: int):
    """Run ``i`` of a batched pytree (its state or params), on the host."""
    return jax.tree_util.tree_map(lambda x: x[i], tree)
