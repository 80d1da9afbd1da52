"""Estimate the memory a run needs before allocating it, and refuse one that cannot fit.

Host memory, measured on the 2-core machine (2026-11-27, JAX 0.10.2 on the CPU, 30-day runs at
200,000 and 3,000,000 agents): about 0.6 GB of fixed cost (Python, JAX, XLA); on the CPU the
engine's state and the day's temporaries add 82 bytes per agent for `rongcheng` (XLA's plan
ranges from 78 to 245 bytes per agent over the presets), and the per-agent snapshot 86 more
(a 66-byte DataFrame and the copies that build it). On an accelerator the state and temporaries
live on the device, so the host holds only the snapshot (with a copy of the final state) and
the fixed cost. Device memory on an accelerator is XLA's own plan for the scenario's compiled
chunk (arguments + outputs - donated + temporaries, per device when sharded), read from the
compiled program before anything is allocated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import jax

if TYPE_CHECKING:
    from socialcredit.scenario.model import Scenario

FIXED_BYTES = 0.7e9
CPU_ENGINE_BYTES_PER_AGENT = 250  # XLA's plan: 78 to 245 B/agent over the presets
SNAPSHOT_BYTES_PER_AGENT = 100  # measured 86 on the CPU, plus a margin
SNAPSHOT_STATE_COPY_BYTES_PER_AGENT = 64  # accelerators: the final state comes to the host
HOST_BYTES_PER_AGENT = CPU_ENGINE_BYTES_PER_AGENT + SNAPSHOT_BYTES_PER_AGENT  # CPU, snapshot on
DEVICE_BYTES_PER_AGENT = 200  # accelerators, when XLA gives no plan


class MemoryTooSmall(RuntimeError):
    """The run would not fit in this machine's memory."""


def _available_host_bytes() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def host_bytes_per_agent(on_cpu: bool, snapshot: bool) -> int:
    """Host bytes per agent of a run: the engine's arrays on the CPU, the snapshot if kept."""
    per = CPU_ENGINE_BYTES_PER_AGENT if on_cpu else 0
    if snapshot:
        per += SNAPSHOT_BYTES_PER_AGENT + (0 if on_cpu else SNAPSHOT_STATE_COPY_BYTES_PER_AGENT)
    return per


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
    have = _available_host_bytes() if available is None else available
    gib = 2**30
    if have is not None and need > have:
        fits = max(0, int((have - FIXED_BYTES) / per)) if per else 0
        hint = ", or --set record.snapshot=false (no per-agent table)" if snapshot else ""
        raise MemoryTooSmall(
            f"a run of {agents:,} agents needs about {need / gib:.1f} GiB of memory "
            f"({FIXED_BYTES / gib:.1f} GiB fixed + ~{per} bytes per agent), but "
            f"this machine has {have / gib:.1f} GiB available; use --agents {fits:,} or fewer"
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
