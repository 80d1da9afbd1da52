"""One day as a pipeline of stages, and a run as a chunked `lax.scan` over days.

A chunk is one compiled call of `chunk_days` days; days past the end of the run are skipped
with `lax.cond`, so every chunk has the same shape and compiles once. Randomness depends only
on (key, day, stage, agent), so the chunk size never changes a result.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from socialcredit.compile import Params, Spec
from socialcredit.engine.stages.behave import behave
from socialcredit.engine.stages.consequences import consequences
from socialcredit.engine.stages.learn import learn
from socialcredit.engine.stages.listing import blacklist, tiers
from socialcredit.engine.stages.measure import measure, metric_names
from socialcredit.engine.stages.observe import observe
from socialcredit.engine.stages.record import record
from socialcredit.engine.stages.score import score
from socialcredit.engine.state import State, Today
from socialcredit.population import synthesize


def day_step(spec: Spec, params: Params, key: jax.Array, state: State, day: jax.Array) -> tuple[State, Today, jax.Array]:
    """Advance one day (0-based ``day``); return the new state, the day's facts and metrics."""
    outcome = behave(spec, params, key, day, state)
    recorded, channel, points = observe(spec, params, key, day, state, outcome)
    state = record(spec, params, day, state, points)
    sc = score(spec, params, state)
    tier = tiers(spec, params, state, sc)
    was_listed = state.listed_since >= 0
    state, listed = blacklist(spec, params, day, state, tier)
    state, facts = consequences(spec, params, key, day, state, tier, listed, points < 0)
    state = learn(spec, params, state, facts["sanctioned"])
    today = Today(outcome=outcome, recorded=recorded, channel=channel, points=points, score=sc,
                  tier=tier, listed=listed, **facts)
    metrics = measure(spec, params, state, today, listed & ~was_listed)
    return state, today, metrics


@partial(jax.jit, static_argnums=(0, 1), donate_argnums=(3,))
def run_chunk(spec: Spec, chunk: int, params: Params, state: State, key: jax.Array, day0: jax.Array) -> tuple[State, jax.Array]:
    """Run days day0 .. day0 + chunk - 1 (those past the end are skipped); metrics [chunk, C, M]."""
    n_metrics = len(metric_names(spec))
    empty = jnp.zeros((spec.n_cells, n_metrics), jnp.float32)

    def body(st: State, d: jax.Array) -> tuple[State, jax.Array]:
        day = day0 + d

        def step(s: State) -> tuple[State, jax.Array]:
            s, _, m = day_step(spec, params, key, s, day)
            return s, m

        return jax.lax.cond(day < spec.days, step, lambda s: (s, empty), st)

    return jax.lax.scan(body, state, jnp.arange(chunk, dtype=jnp.int32))


@partial(jax.jit, static_argnums=(0,))
def initial_state(spec: Spec, params: Params, key: jax.Array) -> State:
    return synthesize(spec, params, key)


def default_chunk(days: int) -> int:
    """About 20 progress updates, at most 30 days a chunk."""
    return max(1, min(30, -(-days // 20)))


def simulate_arrays(
    spec: Spec,
    params: Params,
    key: jax.Array,
    chunk_days: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[State, np.ndarray]:
    """Run the whole scenario; return the final state and metrics [days, C, M] on the host."""
    chunk = chunk_days or default_chunk(spec.days)
    state = initial_state(spec, params, key)
    out = []
    for day0 in range(0, spec.days, chunk):
        state, m = run_chunk(spec, chunk, params, state, key, jnp.int32(day0))
        out.append(np.asarray(m))  # waits for the chunk: the progress bar tells the truth
        if progress is not None:
            progress(min(day0 + chunk, spec.days), spec.days)
    metrics = np.concatenate(out, axis=0)[: spec.days]
    return state, metrics
