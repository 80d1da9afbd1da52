"""Stage conformance, in the spirit of scikit-learn's `check_estimator`.

Every stage of the day (`engine.run.DAY`, in day_step's order), jitted on small specs of
several presets, must
- keep the State's tree, dtypes and shapes, and hand on per-agent facts of the padded length;
- leave the padding slots (index >= spec.agents) inert: a ghost's records, listing, events,
  traits and dues stay as they were born (no act, no record, no event: its event word stays
  NONE), and the fields that may drift for a ghost (wealth under its tier's income effect,
  beliefs moved by its contacts) never reach a real agent: garbling them changes no real slot
  of anything the stage returns;
and the stages run in DAY's order must be day_step, bit for bit; `measure` must ignore ghosts
whatever they hold; every stage id in rng.py must be unique. A new stage listed in DAY is
checked by all of this; a new mechanism needs a preset below that has it.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from socialcredit import rng
from socialcredit.compile import compile_scenario
from socialcredit.engine.run import DAY, day_step, initial_state
from socialcredit.engine.stages.layers import on_day
from socialcredit.engine.stages.measure import measure
from socialcredit.engine.state import Context, State, Today
from socialcredit.scenario import load_scenario

LAYERED = Path(__file__).with_name("layered.yaml")
# Together these run every stage of the day (test_every_stage_is_checked_by_some_preset);
# SLOW adds presets that run the same stages with other tables (`make test-slow`).
PRESETS = (
    "rongcheng",
    "xinjiang-informants",
    "hebei-deadbeat-map",
    "pilots-2021",
    "corporate",
    "due-process",
    "cooperation-rongcheng",
    str(LAYERED),  # layered lists, memoranda and the timeline (issue 14), small
)
SLOW = ("court-blacklist", "national")
AGENTS = 600  # padded to 768: 168 ghosts
WARM = 4  # days run before the day whose stages are checked (records, listings, events exist)
# Per-agent fields a ghost may change (never read back by a real agent or a metric).
DRIFTS = ("wealth", "risk", "trust")


@functools.cache
def _walk(name: str):
    """(spec, stage records, day_step's result) for one checked day of a preset."""
    spec, params = compile_scenario(load_scenario(name, agents=AGENTS, days=WARM + 2))
    assert spec.padded > spec.agents  # the test needs ghosts
    key = jax.random.key(7)
    state = initial_state(spec, params, key)
    step = jax.jit(day_step, static_argnums=0)
    for d in range(WARM):
        state, _ = step(spec, params, key, state, jnp.int32(d))
    # under a timeline, day_step hands its stages the day's params (stages/layers.py on_day)
    day_params = on_day(spec, params, jnp.int32(WARM)) if spec.timeline is not None else params
    ctx = Context(spec, day_params, key, jnp.int32(WARM))
    expected = step(spec, params, key, state, jnp.int32(WARM))
    records, today = [], Today()
    for gate, stage in DAY:
        if gate is not None and getattr(spec, gate) is None:
            continue
        new, new_today = jax.jit(stage)(ctx, state, today)
        records.append((stage, ctx, state, today, new, new_today))
        state, today = new, new_today
    return spec, records, expected, (state, today)


def _per_agent(spec, tree) -> dict[str, np.ndarray]:
    """The per-agent arrays (leading axis spec.padded) of a State or Today, by path."""
    out = {}
    for path, leaf in jax.tree_util.tree_leaves_with_path(tree):
        if leaf.ndim >= 1 and leaf.shape[-1] == spec.padded:
            out[jax.tree_util.keystr(path)] = np.asarray(leaf)
    return out


def _cases() -> list:
    """(preset, index in DAY) of every stage each preset runs."""
    out = []
    for name in PRESETS + SLOW:
        spec, _ = compile_scenario(load_scenario(name, agents=AGENTS, days=WARM + 2))
        marks = [pytest.mark.slow] if name in SLOW else []
        for i, (gate, stage) in enumerate(DAY):
            if gate is None or getattr(spec, gate) is not None:
                out.append(
                    pytest.param(name, i, id=f"{Path(name).stem}-{stage.__name__}", marks=marks)
                )
    return out


CASES = _cases()
ALL_PRESETS = [pytest.param(n, id=Path(n).stem) for n in PRESETS] + [
    pytest.param(n, marks=pytest.mark.slow) for n in SLOW
]


def _record(name: str, i: int):
    spec, records, _, _ = _walk(name)
    (record,) = [r for r in records if r[0] is DAY[i][1]]
    return spec, record


@pytest.mark.parametrize(("name", "i"), CASES)
def test_stage_keeps_state_dtypes_and_shapes(name, i):
    spec, (stage, _, state, _, new, today) = _record(name, i)
    assert isinstance(new, State) and isinstance(today, Today)
    old_leaves, old_tree = jax.tree_util.tree_flatten(state)
    new_leaves, new_tree = jax.tree_util.tree_flatten(new)
    assert new_tree == old_tree, stage.__name__
    for a, b in zip(old_leaves, new_leaves, strict=True):
        assert (a.shape, a.dtype) == (b.shape, b.dtype), stage.__name__
    for leaf in jax.tree_util.tree_leaves(today):
        assert leaf.shape == (spec.padded,), stage.__name__


@pytest.mark.parametrize(("name", "i"), CASES)
def test_stage_leaves_padding_inert(name, i):
    spec, (stage, ctx, state, today, new, new_today) = _record(name, i)
    ghost = slice(spec.agents, spec.padded)
    before, after = _per_agent(spec, state), _per_agent(spec, new)
    for path, x in after.items():
        if any(path == f".{f}" for f in DRIFTS):
            continue
        assert np.array_equal(x[..., ghost], before[path][..., ghost]), (stage.__name__, path)
    # garbled ghost wealth and beliefs reach no real agent
    real = slice(0, spec.agents)
    garbled = {}
    for f in DRIFTS:
        x = getattr(state, f)
        if x.shape[0] == spec.padded:
            noise = jnp.linspace(0.0, 1.0, spec.padded - spec.agents).astype(x.dtype)
            garbled[f] = x.at[ghost].set(noise)
    g_new, g_today = jax.jit(stage)(ctx, State(**{**state.__dict__, **garbled}), today)
    for mine, theirs in ((new, g_new), (new_today, g_today)):
        a, b = _per_agent(spec, mine), _per_agent(spec, theirs)
        for path in a:
            assert np.array_equal(a[path][..., real], b[path][..., real]), (stage.__name__, path)
        whole = [
            (jax.tree_util.keystr(p), x)
            for p, x in jax.tree_util.tree_leaves_with_path(mine)
            if not (x.ndim >= 1 and x.shape[-1] == spec.padded)
        ]
        other = dict(
            (jax.tree_util.keystr(p), x) for p, x in jax.tree_util.tree_leaves_with_path(theirs)
        )
        for path, x in whole:
            assert np.array_equal(np.asarray(x), np.asarray(other[path])), (stage.__name__, path)


def _run_day(ctx: Context, state: State) -> tuple[State, Today]:
    """The stages of DAY in their order, as one program."""
    today = Today()
    for gate, stage in DAY:
        if gate is None or getattr(ctx.spec, gate) is not None:
            state, today = stage(ctx, state, today)
    return state, today


@pytest.mark.parametrize("name", ALL_PRESETS)
def test_stages_in_order_are_the_day(name):
    _, records, want, _ = _walk(name)
    ctx, state = records[0][1], records[0][2]
    got = jax.jit(_run_day)(ctx, state)
    want_leaves, want_tree = jax.tree_util.tree_flatten(want)
    got_leaves, got_tree = jax.tree_util.tree_flatten(got)
    assert got_tree == want_tree
    for a, b in zip(want_leaves, got_leaves, strict=True):
        assert np.array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("name", ALL_PRESETS)
def test_ghost_events_are_empty_and_measure_ignores_ghosts(name):
    spec, records, _, (state, _) = _walk(name)
    ghost = slice(spec.agents, spec.padded)
    initial = records[0][2]
    assert np.array_equal(np.asarray(state.events[ghost]), np.asarray(initial.events[ghost]))
    params = records[0][1].params
    # every per-agent field of the ghosts replaced by real agents' values
    n = spec.padded - spec.agents
    garbled = {}
    for f, x in state.__dict__.items():
        if isinstance(x, jax.Array) and x.ndim >= 1 and x.shape[-1] == spec.padded:
            garbled[f] = x.at[..., spec.agents :].set(x[..., :n])
    m = jax.jit(measure, static_argnums=0)
    want = m(spec, params, state)
    got = m(spec, params, State(**{**state.__dict__, **garbled}))
    assert np.array_equal(np.asarray(want), np.asarray(got))


def test_every_stage_is_checked_by_some_preset():
    ran = {r[0] for name in PRESETS for r in _walk(name)[1]}
    missing = [stage.__name__ for _, stage in DAY if stage not in ran]
    assert not missing, f"no preset in PRESETS runs {missing}: add one that has the mechanism"


def test_stage_ids_are_unique():
    ids = {k: v for k, v in vars(rng).items() if k.isupper() and type(v) is int}
    assert len(ids) >= 15
    assert len(set(ids.values())) == len(ids), ids
