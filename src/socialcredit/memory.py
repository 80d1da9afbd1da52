"""Estimate the memory a run needs before allocating it, and refuse one that cannot fit.

Host memory, fitted to measured peaks (benchmarks/memory_fit.py, 2026-11-28, the 2-core
machine, JAX 0.10.2 on the CPU, 30-day runs at 1,000,000 and 3,000,000 agents; peak resident set
of each `socialcredit run`; intercept and bytes per agent of the line through the two sizes):

| preset | snapshot on | snapshot off |
|---|---|---|
| rongcheng | 0.62 GB + 154 B/agent | 0.44 GB + 100 B/agent |
| xinjiang-informants | 0.59 GB + 189 B/agent | 0.46 GB + 109 B/agent |
| pilots-2021 | 0.69 GB + 177 B/agent | 0.43 GB + 184 B/agent |
| corporate | 0.74 GB + 139 B/agent | 0.57 GB + 59 B/agent |

The guard takes the largest of each, plus 15%: 0.85 GB fixed, 212 bytes per agent without the
snapshot and 218 with it. The snapshot is built once the day's temporaries are freed, so it
adds much less to the peak than its own size (at most 81 B/agent over the presets, 0 for
pilots-2021, whose peak is the day's). The earlier figures (250 + 100 B/agent) were about twice
these, and refused runs that fit. At 100,000 and 400,000 agents the per-agent part of the peak
was smaller than the run-to-run variation of the fixed part: a fit needs millions of agents. On an
accelerator the state and temporaries
live on the device, so the host holds only the snapshot (with a copy of the final state) and
the fixed cost. Device memory on an accelerator is XLA's own plan for the scenario's compiled
chunk (arguments + outputs - donated + temporaries, per device when sharded), read from the
compiled program before anything is allocated.

What the host can give is the least of three figures: the machine's MemAvailable, the
headroom of the cgroup limits this process is under (v2 memory.max - memory.current, or v1
limit_in_bytes - usage_in_bytes, from its own cgroup up to the root: a container or a Slurm
job), and RLIMIT_AS (``ulimit -v``) less the address space already mapped. A run refused
against the tighter limit is told which one.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import jax

if TYPE_CHECKING:
    from socialcredit.scenario.model import Scenario

FIXED_BYTES = 0.85e9  # largest measured intercept (0.74 GB, corporate) + 15%
CPU_ENGINE_BYTES_PER_AGENT = 212  # largest measured slope without the snapshot (184) + 15%
CPU_SNAPSHOT_BYTES_PER_AGENT = 6  # with it, 189 + 15% = 218: what the snapshot adds to the peak
SNAPSHOT_BYTES_PER_AGENT = 95  # the snapshot's own size on the host (largest share 81) + 15%
SNAPSHOT_STATE_COPY_BYTES_PER_AGENT = 64  # accelerators: the final state comes to the host
HOST_BYTES_PER_AGENT = CPU_ENGINE_BYTES_PER_AGENT + CPU_SNAPSHOT_BYTES_PER_AGENT  # CPU, snapshot on
DEVICE_BYTES_PER_AGENT = 200  # accelerators, when XLA gives no plan


class MemoryTooSmall(RuntimeError):
    """The run would not fit in this machine's memory."""


# Where the limits are read (module constants, so tests can point them at fake files).
MEMINFO = Path("/proc/meminfo")
PROC_CGROUP = Path("/proc/self/cgroup")
CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_STATUS = Path("/proc/self/status")
UNLIMITED = 2**60  # cgroup v1 writes 'no limit' as a number near 2**63


def _meminfo_available() -> int | None:
    try:
        with open(MEMINFO, encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _read_int(path: Path) -> int | None:
    """A cgroup file's number; None for 'max', a missing or unreadable file."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def _cgroup_paths() -> tuple[list[str], list[str]]:
    """This process's cgroup v2 path and its cgroup v1 memory path (from /proc/self/cgroup),
    each as a list of parts ([] for the root or when not named)."""
    v2 = v1 = ""
    try:
        for line in PROC_CGROUP.read_text(encoding="ascii").splitlines():
            number, _, rest = line.partition(":")
            controllers, _, path = rest.partition(":")
            if number == "0" and controllers == "":
                v2 = path
            elif "memory" in controllers.split(","):
                v1 = path
    except (OSError, UnicodeDecodeError):
        pass

    def parts(path: str) -> list[str]:
        return [p for p in path.strip().split("/") if p and p not in (".", "..")]

    return parts(v2), parts(v1)


def _cgroup_available() -> int | None:
    """The least headroom (limit - usage) of the cgroups this process is in, from its own up
    to the root (a limit anywhere on the way applies): cgroup v2's memory.max and
    memory.current, or cgroup v1's memory.limit_in_bytes and memory.usage_in_bytes."""
    v2, v1 = _cgroup_paths()
    chains = [
        (CGROUP_ROOT, v2, "memory.max", "memory.current"),
        (CGROUP_ROOT / "memory", v1, "memory.limit_in_bytes", "memory.usage_in_bytes"),
    ]
    best = None
    for base, parts, limit_file, usage_file in chains:
        for i in range(len(parts), -1, -1):
            folder = base.joinpath(*parts[:i])
            limit = _read_int(folder / limit_file)
            if limit is None or limit >= UNLIMITED:
                continue
            room = max(limit - (_read_int(folder / usage_file) or 0), 0)
            best = room if best is None else min(best, room)
    return best


def _rlimit_available() -> int | None:
    """RLIMIT_AS (``ulimit -v``) less the address space this process already maps."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError):
        return None
    if soft == resource.RLIM_INFINITY or soft < 0:
        return None
    size = 0
    try:
        for line in PROC_STATUS.read_text(encoding="ascii").splitlines():
            if line.startswith("VmSize:"):
                size = int(line.split()[1]) * 1024
    except (OSError, UnicodeDecodeError, ValueError, IndexError):
        pass
    return max(soft - size, 0)


def available_host_memory() -> tuple[int | None, str]:
    """(bytes this process can still use, what sets it): the least of the machine's
    MemAvailable, the cgroup limit's headroom (v2 or v1: a container or a Slurm job) and RLIMIT_AS
    (``ulimit -v``) less what is mapped; (None, "") when none can be read."""
    found = [
        (_meminfo_available(), "this machine has {} available"),
        (_cgroup_available(), "this process's cgroup memory limit leaves {}"),
        (_rlimit_available(), "this process's address-space limit (ulimit -v) leaves {}"),
    ]
    found = [(b, how) for b, how in found if b is not None]
    if not found:
        return None, ""
    return min(found, key=lambda x: x[0])


def _available_host_bytes() -> int | None:
    return available_host_memory()[0]


def host_bytes_per_agent(on_cpu: bool, snapshot: bool) -> int:
    """Host bytes per agent of a run: the engine's arrays on the CPU, the snapshot if kept."""
    if on_cpu:
        return CPU_ENGINE_BYTES_PER_AGENT + (CPU_SNAPSHOT_BYTES_PER_AGENT if snapshot else 0)
    return SNAPSHOT_BYTES_PER_AGENT + SNAPSHOT_STATE_COPY_BYTES_PER_AGENT if snapshot else 0


def device_plan_bytes(scenario: Scenario, devices: int | None = None) -> int | None:
    """Bytes per device that XLA plans for one chunk of ``scenario`` (None if the backend
    gives no plan). Compiles the chunk without allocating the population."""
    import jax.numpy as jnp

    from socialcredit.compile import compile_scenario
    from socialcredit.engine.run import default_chunk, initial_state, run_chunk
    from socialcredit.engine.shard import agent_mesh, pad_for
    from socialcredit.results.credit import credit_sample

    spec, params = compile_scenario(scenario)
    mesh = agent_mesh(devices)
    spec = pad_for(spec, mesh)
    key = jax.random.key(scenario.seed)
    state = jax.eval_shape(lambda p, k: initial_state(spec, p, k, mesh=mesh), params, key)
    sample = jnp.zeros(len(credit_sample(spec.agents)), jnp.int32)
    chunk = default_chunk(spec.days)
    lowered = run_chunk.lower(spec, chunk, params, state, key, jnp.int32(0), sample, mesh=mesh)
    m = lowered.compile().memory_analysis()
    if m is None:
        return None
    run = m.argument_size_in_bytes + m.output_size_in_bytes - m.alias_size_in_bytes
    return int(run + m.temp_size_in_bytes)


def check_fits(
    agents: int,
    available: int | None = None,
    devices: int | None = None,
    *,
    scenario: Scenario | None = None,
    device_limit: int | None = None,
) -> int:
    """Raise MemoryTooSmall if a run of ``agents`` cannot fit; return the host estimate.

    With a ``scenario``, the host estimate counts the snapshot only if the scenario keeps one,
    and on an accelerator (or with ``device_limit``, bytes per device, for tests) the device
    need is XLA's plan for that scenario. Agents are split over ``devices`` devices (None: all
    of them, as `simulate` does)."""
    try:
        dev = jax.devices()[0]
    except RuntimeError:  # no usable backend: the run itself will fail and say why
        dev = None
    on_cpu = dev is None or dev.platform == "cpu"
    snapshot = scenario.record.snapshot if scenario is not None else True
    per = host_bytes_per_agent(on_cpu, snapshot)
    need = int(FIXED_BYTES + per * agents)
    have, how = available_host_memory() if available is None else (available, "")
    how = how or "this machine has {} available"
    gib = 2**30
    if have is not None and need > have:
        fits = max(0, int((have - FIXED_BYTES) / per)) if per else 0
        hint = ", or --set record.snapshot=false (no per-agent table)" if snapshot else ""
        raise MemoryTooSmall(
            f"a run of {agents:,} agents needs about {need / gib:.1f} GiB of memory "
            f"({FIXED_BYTES / gib:.1f} GiB fixed + ~{per} bytes per agent), but "
            f"{how.format(f'{have / gib:.1f} GiB')}; use --agents {fits:,} or fewer"
            f"{hint}, or a bigger machine"
        )
    if dev is None:
        return need
    limit = device_limit
    if limit is None and not on_cpu:
        limit = (dev.memory_stats() or {}).get("bytes_limit")
    if not limit:
        return need
    n_dev = max(1, len(jax.devices()) if devices is None else devices)
    plan = device_plan_bytes(scenario, devices) if scenario is not None else None
    if plan is None:
        plan = int(DEVICE_BYTES_PER_AGENT * agents / n_dev)
        how = f"about {DEVICE_BYTES_PER_AGENT} bytes per agent"
    else:
        how = f"XLA's plan for this scenario, {plan * n_dev / agents:.0f} bytes per agent"
    if plan > limit:
        on = f"each of {n_dev} {dev.device_kind}s" if n_dev > 1 else f"the {dev.device_kind}"
        fits = int(agents * limit / plan * 0.97)
        raise MemoryTooSmall(
            f"a run of {agents:,} agents needs about {plan / gib:.1f} GiB on {on} ({how}), "
            f"which has {limit / gib:.1f} GiB; use --agents {fits:,} or fewer, or more devices"
        )
    return need
