"""Golden results: every preset, a few thousand agents for 30 days, bit for bit.

A refactoring keeps these digests unchanged. A change that means to move results remakes them
(`python tests/golden_digest.py --write`) in a commit of its own that says why. On another JAX
version or processor the digests are not comparable (XLA may fuse float arithmetic
differently), so there the test compares row counts and column sums within a tolerance.
"""

from __future__ import annotations

import json
import math

import pytest
from golden_digest import GOLDEN, environment, run_digest

from socialcredit.scenario import list_presets

GOLD = json.loads(GOLDEN.read_text())
SAME_ENV = GOLD["environment"]["jax"] == environment()["jax"] and (
    GOLD["environment"]["machine"] == environment()["machine"]
)


def test_every_preset_has_a_golden_result():
    assert sorted(GOLD["presets"]) == sorted(name for name, _ in list_presets())


@pytest.mark.parametrize("name", sorted(GOLD["presets"]))
def test_golden(name):
    want = GOLD["presets"][name]
    got = run_digest(name)
    if SAME_ENV:
        assert got["digests"] == want["digests"], (
            f"{name}: results moved; if that is meant, remake tests/golden/digests.json in a "
            "commit of its own that says why"
        )
        assert got["summary"] == want["summary"]
        return
    for table, stats in want["stats"].items():
        if stats is None:
            assert got["stats"][table] is None
            continue
        assert got["stats"][table]["rows"] == stats["rows"], table
        for col, v in stats["sums"].items():
            g = got["stats"][table]["sums"][col]
            assert math.isclose(g, v, rel_tol=0.02, abs_tol=1e-6 + 0.02 * abs(v)), (table, col)
