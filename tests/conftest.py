"""Strict JAX for every test, as Equinox's test suite does: what is merely a warning or a silent
convenience in a user's session is an error here.

- Rank promotion raises: adding a [J] table to an [N] array by broadcasting a size-1 axis is
  a bug waiting for J == N, so every broadcast in the engine is written out.
- Key reuse raises: a PRNG key consumed twice gives correlated draws. The engine derives every
  draw from `fold_in(key, day)` and a stage id (rng.py), and this keeps it honest.

Strict dtype promotion is not on: the engine mixes bool masks, narrow integers and float32 on
purpose (docs/decisions.md, "Strict JAX in the tests").
"""

from __future__ import annotations

import jax
import pytest

jax.config.update("jax_numpy_rank_promotion", "raise")
jax.config.update("jax_debug_key_reuse", True)


@pytest.fixture(scope="session")
def xinjiang():
    """`xinjiang-informants` at 20,000 agents for 150 days with its counterfactual: one run that
    the targeting, informant and household tests all read (made once per session)."""
    import socialcredit as sc

    scenario = sc.load_scenario("xinjiang-informants", agents=20_000, days=150)
    return sc.simulate(scenario, counterfactual=True)


# `make test` runs the suite on two processes (pytest-xdist, --dist loadgroup). A module's tests
# stay together, so its module-scoped fixtures are made once; modules that share a session
# fixture share a group, so the fixture is made once too.
SHARED = {
    "test_golden": "golden_runs",  # test_docs reads the golden runs (golden_digest.golden_run)
    "test_docs": "golden_runs",
    "test_presets": "golden_runs",
    "test_targeting": "xinjiang",  # the `xinjiang` fixture above
    "test_informants": "xinjiang",
    "test_households": "xinjiang",
    "test_metrics_aggregation": "xinjiang",
}


def pytest_itemcollected(item):
    """Each test's group, as it is collected: xdist reads the groups in its own
    `pytest_collection_modifyitems` on each worker, which ran before a modifyitems hook here
    (the groups were then silently ignored, and module fixtures made on both workers)."""
    if item.get_closest_marker("xdist_group") is None:
        name = item.module.__name__.rpartition(".")[2]
        item.add_marker(pytest.mark.xdist_group(SHARED.get(name, name)))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Make the groups count on pytest 9.2+. xdist (3.8) marks a grouped test by renaming it
    `id@group` through `item._nodeid`, which pytest 9.2 no longer reads (the id lives in
    `item._id`), so --dist loadgroup silently spread each group over both workers: module
    fixtures were made twice and the shared golden runs once per worker. Where xdist's rename
    took, the id already has its `@`, and nothing is done here."""
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        names = {str(m.args[0]) if m.args else "default" for m in item.iter_markers("xdist_group")}
        if not names or "@" in item.nodeid:
            continue
        new = f"{item.nodeid}@{'_'.join(sorted(names))}"
        if hasattr(item, "_id"):
            from _pytest.nodes import coerce_node_id

            item._id = coerce_node_id(new)
        else:
            item._nodeid = new
