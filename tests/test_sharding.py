"""A population sharded over several devices gives the same results as one device.

JAX fixes its device count when it starts, so the check runs in a subprocess that asks XLA
for four CPU devices (``--xla_force_host_platform_device_count``), the way a multi-GPU or
multi-host run would see several devices.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent(
    """
    import json
    import jax
    import numpy as np
    from socialcredit import load_scenario, simulate
    from socialcredit.compile import compile_scenario
    from socialcredit.engine.run import simulate_arrays
    from socialcredit.engine.shard import agent_mesh, pad_for
    from socialcredit.engine.stages.measure import metric_names

    out = {"devices": len(jax.devices())}
    # the richest preset: contact rolls, household pair swaps, informants, trust, dispositions
    spec, params = compile_scenario(load_scenario("xinjiang-informants", agents=3000, days=24))
    key = jax.random.key(11)
    sample = np.arange(0, 3000, 37, dtype=np.int32)

    def run(spec, d):
        return simulate_arrays(spec, params, key, 10, None, sample, devices=d)

    def compare(a, b):
        names = metric_names(spec)
        floats = [i for i, n in enumerate(names) if n.endswith("_sum")]
        counts = [i for i in range(len(names)) if i not in floats]
        state_equal = all(
            bool((np.asarray(x) == np.asarray(y)).all())
            if np.asarray(x).dtype.kind in "iub"
            else bool(np.allclose(np.asarray(x, np.float64), np.asarray(y, np.float64)))
            for x, y in zip(jax.tree_util.tree_leaves(a[0]), jax.tree_util.tree_leaves(b[0]))
        )
        return {
            "state_equal": state_equal,
            "counts_equal": bool((a[1][..., counts] == b[1][..., counts]).all()),
            "floats_close": bool(np.allclose(a[1][..., floats], b[1][..., floats], rtol=1e-5)),
            "sample_equal": bool((a[2] == b[2]).all() and (a[3] == b[3]).all()),
            "acts": float(a[1][..., : len(spec.behaviours)].sum()),
            "sanctioned": float(a[1][..., names.index("sanctioned")].sum()),
        }

    one, four = run(spec, 1), run(spec, 4)
    out["sharding"] = str(four[0].events.sharding)
    out["four"] = compare(one, four)
    # three devices do not divide 256: the padding widens, and the run equals a one-device
    # run with the same (widened) layout
    wide = pad_for(spec, agent_mesh(3))
    out["padded"] = [spec.padded, wide.padded]
    out["three"] = compare(run(wide, 1), run(spec, 3))

    # the public API and the run's info
    sc = load_scenario("rongcheng", agents=2000, days=12)
    r1, r4 = simulate(sc, devices=1), simulate(sc)
    m1, m4 = r1.metrics, r4.metrics
    out["api_devices"] = [r1.info["devices"], r4.info["devices"]]
    out["api_same_rows"] = bool((m1[["day", "metric"]] == m4[["day", "metric"]]).all().all())
    out["api_values_close"] = bool(np.allclose(m1["value"], m4["value"], rtol=1e-5))
    out["api_agents_equal"] = bool(r1.agents.equals(r4.agents))
    print("RESULT " + json.dumps(out))
    """
)


def _run_four_devices() -> dict:
    env = {
        **os.environ,
        "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
        "JAX_PLATFORMS": "cpu",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src"),
    }
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT ") :])


@pytest.mark.slow  # 57 s; the default suite keeps the 3-device case, whose padding widens
def test_sharded_run_equals_one_device() -> None:
    r = _run_four_devices()
    assert r["devices"] == 4
    assert "'agents'" in r["sharding"]  # the state really was split over the mesh
    for case in ("four", "three"):
        got = r[case]
        assert got["state_equal"], case
        assert got["counts_equal"], case
        assert got["floats_close"], case
        assert got["sample_equal"], case
        assert got["acts"] > 0 and got["sanctioned"] > 0, case  # the run did something
    spec_pad, wide_pad = r["padded"]
    assert spec_pad % 256 == 0 and wide_pad % 768 == 0 and wide_pad >= spec_pad
    assert r["api_devices"] == [1, 4]
    assert r["api_same_rows"] and r["api_values_close"] and r["api_agents_equal"]


THREE = textwrap.dedent(
    """
    import json
    import jax
    import numpy as np
    from socialcredit import load_scenario, simulate
    from socialcredit.compile import compile_scenario
    from socialcredit.engine.run import simulate_arrays
    from socialcredit.engine.shard import agent_mesh, pad_for
    from socialcredit.engine.stages.measure import metric_names

    out = {"devices": len(jax.devices())}
    # 1,000 agents pad to 1,024 slots on one device and to 1,536 on three (lcm(256, 3)):
    # the last agents' contacts wrap around the agents, not the padding, so nothing moves
    sc = load_scenario("xinjiang-informants", agents=1000, days=12)
    spec, params = compile_scenario(sc)
    out["padded"] = [spec.padded, pad_for(spec, agent_mesh(3)).padded]
    key = jax.random.key(5)
    sample = np.concatenate([np.arange(0, 1000, 41), np.arange(980, 1000)]).astype(np.int32)
    one = simulate_arrays(spec, params, key, 5, None, sample, devices=1)
    three = simulate_arrays(spec, params, key, 5, None, sample, devices=3)
    names = metric_names(spec)
    floats = [i for i, n in enumerate(names) if n.endswith("_sum")]
    counts = [i for i in range(len(names)) if i not in floats]

    def real(x, n):  # the real agents' part of a per-agent leaf
        x = np.asarray(x)
        return x[..., : spec.agents] if x.ndim and x.shape[-1] == n else x

    leaves = zip(
        jax.tree_util.tree_leaves(one[0]), jax.tree_util.tree_leaves(three[0]), strict=True
    )
    out["state_equal"] = all(
        bool((real(a, spec.padded) == real(b, out["padded"][1])).all())
        if np.asarray(a).dtype.kind in "iub"
        else bool(np.allclose(real(a, spec.padded), real(b, out["padded"][1]), equal_nan=True))
        for a, b in leaves
    )
    out["counts_equal"] = bool((one[1][..., counts] == three[1][..., counts]).all())
    out["floats_close"] = bool(np.allclose(one[1][..., floats], three[1][..., floats], rtol=1e-5))
    out["sample_equal"] = bool((one[2] == three[2]).all() and (one[3] == three[3]).all())
    out["acts"] = float(one[1][..., : len(spec.behaviours)].sum())
    # the public API, per-agent table included
    r1, r3 = simulate(sc, devices=1), simulate(sc, devices=3)
    out["api_values_close"] = bool(
        np.allclose(r1.metrics["value"], r3.metrics["value"], rtol=1e-5)
    )
    out["api_agents_equal"] = bool(r1.agents.equals(r3.agents))
    print("RESULT " + json.dumps(out))
    """
)


@pytest.mark.slow  # 43 s in CI; the default suite keeps the in-process padding checks below
def test_three_devices_equal_one_device_when_the_padding_widens() -> None:
    """Three devices do not divide 256, so the padding widens (1,024 to 1,536 slots for 1,000
    agents); contacts are taken modulo the number of agents, so the run is the one-device run
    (integer state and counts exactly, float sums to rtol 1e-5), the last agents included."""
    env = {
        **os.environ,
        "XLA_FLAGS": "--xla_force_host_platform_device_count=3",
        "JAX_PLATFORMS": "cpu",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src"),
    }
    proc = subprocess.run(
        [sys.executable, "-c", THREE], env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")][-1]
    r = json.loads(line[len("RESULT ") :])
    assert r["devices"] == 3
    assert r["padded"] == [1024, 1536]
    assert r["state_equal"] and r["counts_equal"] and r["floats_close"] and r["sample_equal"]
    assert r["acts"] > 0
    assert r["api_values_close"] and r["api_agents_equal"]


def test_contacts_wrap_around_the_agents_not_the_padding() -> None:
    """A contact sum or shift over the real agents reads no padding slot, whatever the
    padding holds, and equals the sum modulo the number of agents."""
    import jax.numpy as jnp
    import numpy as np

    from socialcredit.engine.stages.common import contact_shift, shifted_sum

    rng = np.random.default_rng(0)
    for agents, n in ((1000, 1024), (1000, 1536), (7, 256), (2048, 2048)):
        offsets = (1, -1, 3, -3, 9, -9) if agents < 10 else (1, -1, 3, -3, 700, -700, 1500, -1500)
        x = rng.integers(0, 5, n).astype(np.int32)
        want = sum(x[(np.arange(agents) - o) % agents] for o in offsets)
        x[agents:] = 99  # padding holds anything
        got = np.asarray(shifted_sum(jnp.asarray(x), offsets, agents))
        assert (got[:agents] == want).all(), (agents, n)
        for o in offsets:
            shifted = np.asarray(contact_shift(jnp.asarray(x), o, agents))
            assert (shifted[:agents] == x[(np.arange(agents) - o) % agents]).all()
            assert (shifted[agents:] == 99).all()  # padding slots keep their own value


def test_population_labels_from_the_index() -> None:
    """Jurisdiction and group labels computed on the device match the cell layout, padding
    slots included, for few cells (comparisons) and many (a sorted search), empty cells too."""
    from dataclasses import replace

    import jax.numpy as jnp
    import numpy as np

    from socialcredit import load_scenario
    from socialcredit.compile import compile_scenario
    from socialcredit.engine.population import _labels

    spec, _ = compile_scenario(load_scenario("rongcheng", agents=1000, days=2))
    rng = np.random.default_rng(0)
    for J, G in ((1, 1), (3, 2), (31, 2)):
        sizes = rng.integers(0, 40, J * G)
        sizes[1:2] = 0  # an empty cell (where there are two)
        starts = tuple(int(x) for x in np.concatenate([[0], np.cumsum(sizes)]))
        agents = starts[-1]
        padded = -(-agents // 256) * 256
        s = replace(
            spec,
            agents=agents,
            padded=padded,
            cell_starts=starts,
            jurisdictions=tuple(f"j{j}" for j in range(J)),
            groups=tuple(f"g{g}" for g in range(G)),
        )
        cells = np.concatenate(
            [np.repeat(np.arange(J * G), sizes), np.full(padded - agents, J * G - 1)]
        )
        jur, group = _labels(s, jnp.arange(padded, dtype=jnp.uint32))
        assert (np.asarray(jur) == cells // G).all() and (np.asarray(group) == cells % G).all()


WORKER = textwrap.dedent(
    """
    import sys
    import jax
    import numpy as np

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    from socialcredit.engine.shard import init_distributed

    init_distributed(coordinator_address=sys.argv[1], num_processes=2, process_id=int(sys.argv[2]))
    from socialcredit import load_scenario, simulate

    r = simulate(load_scenario("xinjiang-informants", agents=2000, days=6))
    m, a = r.metrics, r.agents
    np.savez(
        sys.argv[3],
        devices=r.info["devices"],
        value=m["value"].to_numpy(),
        score=a["score"].to_numpy(),
        listed=a["listed_since"].to_numpy(),
        wealth=a["wealth"].to_numpy(),
    )
    """
)


@pytest.mark.slow  # ~35 s; the default suite keeps the 3-device case (one process)
def test_two_processes_equal_one(tmp_path) -> None:
    """Across hosts: two processes (jax.distributed, two CPU devices each) run one population
    sharded over four devices and both get what one process on one device gets."""
    import socket

    import numpy as np

    from socialcredit import load_scenario, simulate

    with socket.socket() as s:  # a free port for the coordinator
        s.bind(("localhost", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
        "JAX_PLATFORMS": "cpu",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src"),
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, f"localhost:{port}", str(i), str(tmp_path / f"p{i}")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(2)
    ]
    logs = [p.communicate(timeout=600)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), "\n".join(x[-2000:] for x in logs)
    one = simulate(load_scenario("xinjiang-informants", agents=2000, days=6), devices=1)
    for i in range(2):
        got = np.load(tmp_path / f"p{i}.npz")
        assert int(got["devices"]) == 4
        assert np.allclose(got["value"], one.metrics["value"].to_numpy(), rtol=1e-5)
        assert (got["score"] == one.agents["score"].to_numpy()).all()
        assert (got["listed"] == one.agents["listed_since"].to_numpy()).all()
        assert np.allclose(got["wealth"], one.agents["wealth"].to_numpy())
