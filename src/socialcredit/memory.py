"""Estimate the memory a run needs before allocating it, and refuse one that cannot fit.

Measured on the 2-core machine (2026-11-26, rongcheng, JAX 0.10.2 on the CPU): peak resident
memory was 0.65 GB at 200,000 agents and 1.09 GB at 2,000,000, i.e. about 0.6 GB of fixed
cost (Python, JAX, XLA) plus about 250 bytes per agent (device state and the day's temporaries,
the per-agent snapshot on the host, the credit-file sample). The estimate uses those figures with
a margin; on an accelerator the device's own limit is checked against the state and temporaries.
"""

from __future__ import annotations

import jax

FIXED_BYTES = 0.7e9
HOST_BYTES_PER_AGENT = 300  # measured ~250, plus a margin
DEVICE_BYTES_PER_AGENT = 200  # persistent state (about 48 B) doubled by the scan, plus temporaries


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


def check_fits(agents: int, available: int | None = None, devices: int | None = None) -> int:
    """Raise MemoryTooSmall if a run of ``agents`` cannot fit; return the host estimate.

    On accelerators the agents are split over ``devices`` devices (None: all of them, as
    `simulate` does), so each needs its share of the per-agent bytes."""
    need = int(FIXED_BYTES + HOST_BYTES_PER_AGENT * agents)
    have = _available_host_bytes() if available is None else available
    gib = 2**30
    if have is not None and need > have:
        fits = max(0, int((have - FIXED_BYTES) / HOST_BYTES_PER_AGENT))
        raise MemoryTooSmall(
            f"a run of {agents:,} agents needs about {need / gib:.1f} GiB of memory "
            f"({FIXED_BYTES / gib:.1f} GiB fixed + ~{HOST_BYTES_PER_AGENT} bytes per agent), but "
            f"this machine has {have / gib:.1f} GiB available; use --agents {fits:,} or fewer, "
            "or a bigger machine"
        )
    try:
        dev = jax.devices()[0]
    except RuntimeError:  # no usable backend: the run itself will fail and say why
        return need
    limit = (dev.memory_stats() or {}).get("bytes_limit") if dev.platform != "cpu" else None
    n_dev = max(1, len(jax.devices()) if devices is None else devices)
    if limit and DEVICE_BYTES_PER_AGENT * agents / n_dev > limit:
        on = f"each of {n_dev} {dev.device_kind}s" if n_dev > 1 else f"the {dev.device_kind}"
        raise MemoryTooSmall(
            f"a run of {agents:,} agents needs about "
            f"{DEVICE_BYTES_PER_AGENT * agents / n_dev / gib:.1f} GiB on {on}, which "
            f"has {limit / gib:.1f} GiB; use --agents "
            f"{int(limit * n_dev / DEVICE_BYTES_PER_AGENT):,} or fewer, or more devices"
        )
    return need
