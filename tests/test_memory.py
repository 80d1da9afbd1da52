"""The memory estimate refuses what cannot fit and passes what can."""

from __future__ import annotations

import types

import pytest

from socialcredit import load_scenario
from socialcredit.memory import (
    CPU_SNAPSHOT_BYTES_PER_AGENT,
    FIXED_BYTES,
    HOST_BYTES_PER_AGENT,
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
    assert a - b == CPU_SNAPSHOT_BYTES_PER_AGENT * 1000
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


# ----------------------------------------------------------------------------- limits (issue 18)


@pytest.fixture
def fake_limits(tmp_path, monkeypatch):
    """Fake /proc and /sys/fs/cgroup files: 64 GiB available on the machine, no cgroup limit,
    no ulimit; tests write the limits they need."""
    import resource

    from socialcredit import memory

    gib = 2**30
    (tmp_path / "meminfo").write_text(
        f"MemTotal: {128 * gib // 1024} kB\nMemAvailable: {64 * gib // 1024} kB\n"
    )
    (tmp_path / "cgroup").write_text("0::/slurm/job_7\n")
    (tmp_path / "status").write_text(f"Name: python\nVmSize: {gib // 1024} kB\n")
    root = tmp_path / "sys"
    (root / "slurm" / "job_7").mkdir(parents=True)
    monkeypatch.setattr(memory, "MEMINFO", tmp_path / "meminfo")
    monkeypatch.setattr(memory, "PROC_CGROUP", tmp_path / "cgroup")
    monkeypatch.setattr(memory, "CGROUP_ROOT", root)
    monkeypatch.setattr(memory, "PROC_STATUS", tmp_path / "status")
    limits = {"as": resource.RLIM_INFINITY}
    monkeypatch.setattr(resource, "getrlimit", lambda which: (limits["as"], limits["as"]))
    return types.SimpleNamespace(root=root, job=root / "slurm" / "job_7", limits=limits, gib=gib)


def test_the_machines_memory_when_nothing_is_tighter(fake_limits):
    from socialcredit.memory import available_host_memory

    have, how = available_host_memory()
    assert have == 64 * fake_limits.gib and "this machine has" in how


def test_a_cgroup_v2_limit_is_honoured_and_named(fake_limits):
    from socialcredit.memory import available_host_memory

    gib = fake_limits.gib
    (fake_limits.job / "memory.max").write_text(f"{8 * gib}\n")
    (fake_limits.job / "memory.current").write_text(f"{3 * gib}\n")
    (fake_limits.root / "slurm" / "memory.max").write_text("max\n")  # no limit above
    assert available_host_memory()[0] == 5 * gib
    (fake_limits.root / "memory.max").write_text(f"{4 * gib}\n")  # an ancestor is tighter
    (fake_limits.root / "memory.current").write_text(f"{2 * gib}\n")
    assert available_host_memory()[0] == 2 * gib
    with pytest.raises(MemoryTooSmall, match=r"cgroup memory limit leaves 2\.0 GiB"):
        check_fits(100_000_000)


def test_a_cgroup_v1_memory_limit_is_honoured(fake_limits):
    from socialcredit.memory import available_host_memory

    gib = fake_limits.gib
    (fake_limits.root.parent / "cgroup").write_text("4:memory:/job\n0::/\n")
    v1 = fake_limits.root / "memory" / "job"
    v1.mkdir(parents=True)
    (v1 / "memory.limit_in_bytes").write_text(f"{6 * gib}\n")
    (v1 / "memory.usage_in_bytes").write_text(f"{gib}\n")
    (fake_limits.root / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    assert available_host_memory()[0] == 5 * gib


def test_ulimit_v_is_honoured_less_what_is_mapped(fake_limits):
    from socialcredit.memory import available_host_memory

    fake_limits.limits["as"] = 3 * fake_limits.gib  # VmSize is 1 GiB
    have, how = available_host_memory()
    assert have == 2 * fake_limits.gib and "ulimit -v" in how
    with pytest.raises(MemoryTooSmall, match=r"ulimit -v\) leaves 2\.0 GiB"):
        check_fits(100_000_000)


def test_unreadable_or_odd_limit_files_are_ignored(fake_limits):
    from socialcredit.memory import available_host_memory

    (fake_limits.job / "memory.max").write_text("lots\n")
    (fake_limits.root.parent / "cgroup").write_bytes(b"\xff\xfe")
    (fake_limits.root.parent / "status").write_text("VmSize: many kB\n")
    fake_limits.limits["as"] = 1000 * fake_limits.gib
    assert available_host_memory()[0] == 64 * fake_limits.gib
    (fake_limits.root.parent / "meminfo").unlink()
    assert available_host_memory()[0] == 1000 * fake_limits.gib  # the only figure left
