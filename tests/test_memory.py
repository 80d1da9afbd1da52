"""The memory estimate refuses what cannot fit and passes what can."""

from __future__ import annotations

import pytest

from socialcredit import load_scenario
from socialcredit.memory import (
    FIXED_BYTES,
    HOST_BYTES_PER_AGENT,
    SNAPSHOT_BYTES_PER_AGENT,
    MemoryTooSmall,
    check_fits,
    device_plan_bytes,
)


def test_estimate_and_refusal():
    need = check_fits(1000, available=10**12)
    assert need == int(FIXED_BYTES + HOST_BYTES_PER_AGENT * 1000)
    with pytest.raises(MemoryTooSmall, match=r"needs about .* GiB .* has 1\.0 GiB available"):
        check_fits(10_000_000, available=2**30)


def test_the_suggested_size_fits():
    have = 4 * 2**30
    with pytest.raises(MemoryTooSmall) as e:
        check_fits(100_000_000, available=have)
    suggested = int(str(e.value).split("--agents ")[1].split(" ")[0].replace(",", ""))
    assert check_fits(suggested, available=have) <= have


def test_a_run_without_snapshot_needs_less_and_the_refusal_says_so():
    with_snap = load_scenario("rongcheng", agents=1000)
    without = load_scenario("rongcheng", ["record.snapshot=false"], agents=1000)
    a = check_fits(1000, available=10**12, scenario=with_snap)
    b = check_fits(1000, available=10**12, scenario=without)
    assert a - b == SNAPSHOT_BYTES_PER_AGENT * 1000
    with pytest.raises(MemoryTooSmall, match="record.snapshot=false"):
        check_fits(10**8, available=2**30, scenario=with_snap)


def test_device_need_is_xlas_plan_for_the_scenario():
    """The device check compiles the scenario's chunk and compares XLA's plan with the limit
    (on the CPU only when a limit is given, as a test; accelerators report their own)."""
    sc = load_scenario("rongcheng", agents=20_000, days=10)
    plan = device_plan_bytes(sc)
    assert plan is not None and 20 * 20_000 < plan < 1000 * 20_000  # state is 30 B/agent
    assert check_fits(20_000, available=10**12, scenario=sc, device_limit=2 * plan)
    with pytest.raises(MemoryTooSmall, match=r"XLA's plan for this scenario") as e:
        check_fits(20_000, available=10**12, scenario=sc, device_limit=plan // 2)
    suggested = int(str(e.value).split("--agents ")[1].split(" ")[0].replace(",", ""))
    assert 5_000 < suggested < 10_000
