"""Check, size and time the engine on an accelerator (run by benchmarks/gpu.sh).

1. Correctness: small runs of `rongcheng` and the richest preset must match the CPU reference
   (benchmarks/gpu_reference.json, made with --make-reference on the CPU): every count within
   noise of the reference (floating-point rates can round differently on another backend, so
   a few draws may land on the other side of a threshold), and two runs on this device
   identical bit for bit (determinism).
2. Scale: for each size, XLA's plan of device memory (state, donated carry, temporaries; read
   from the compiled program before allocating anything) is checked against the device's
   memory; a size that does not fit is skipped with a message, and the largest size that fits
   is run instead. Each run times a chunk of days after a first, compiling chunk.
3. The README's main job (`socialcredit run rongcheng`) end to end, if the CLI's packages are
   importable here.
Writes results.json (and the caller's log) under --out. Stops starting new steps once
--budget seconds have passed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from socialcredit import load_scenario  # noqa: E402
from socialcredit.compile import compile_scenario  # noqa: E402
from socialcredit.engine.run import initial_state, run_chunk, simulate_arrays  # noqa: E402
from socialcredit.engine.stages.measure import metric_names  # noqa: E402

REFERENCE = HERE / "gpu_reference.json"
CHECKS = (("rongcheng", 20_000, 60), ("xinjiang-informants", 20_000, 60))
RICHEST = "pilots-2021"  # the costliest per agent-day (62 jurisdictions, budgets)
Z_FAIL = 4.0
T0 = time.perf_counter()


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - T0:6.1f}s] {msg}", flush=True)


def run_small(preset: str, agents: int, days: int) -> tuple[np.ndarray, list[np.ndarray], list]:
    spec, params = compile_scenario(load_scenario(preset, agents=agents, days=days, seed=0))
    sample = np.arange(0, agents, 97, dtype=np.int32)
    state, metrics, events, scores, _ = simulate_arrays(
        spec, params, jax.random.key(0), 15, None, sample
    )
    leaves = [np.asarray(x) for x in jax.tree_util.tree_leaves(state)] + [events, scores]
    return metrics, leaves, metric_names(spec)


def digest(arrays: list[np.ndarray]) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def stats(metrics: np.ndarray, names: list[str]) -> dict[str, float]:
    """Run totals of every count and the last day's float sums, over all cells."""
    out = {}
    for i, n in enumerate(names):
        col = metrics[:, :, i]
        out[n] = float(col[-1].sum()) if n.endswith("_sum") else float(col.sum())
    return out


def make_reference() -> None:
    ref = {"machine": machine(), "runs": {}}
    for preset, agents, days in CHECKS:
        m, leaves, names = run_small(preset, agents, days)
        ref["runs"][preset] = {
            "agents": agents,
            "days": days,
            "stats": stats(m, names),
            "digest": digest([m, *leaves]),
        }
        log(f"reference {preset}: digest {ref['runs'][preset]['digest']}")
    REFERENCE.write_text(json.dumps(ref, indent=1) + "\n", encoding="utf-8")


def check_correctness() -> dict:
    ref = json.loads(REFERENCE.read_text(encoding="utf-8"))
    out = {"ok": True, "runs": {}}
    for preset, agents, days in CHECKS:
        r = ref["runs"][preset]
        m1, l1, names = run_small(preset, agents, days)
        m2, l2, _ = run_small(preset, agents, days)
        deterministic = digest([m1, *l1]) == digest([m2, *l2])
        got = stats(m1, names)
        worst, bad = 0.0, []
        for name, want in r["stats"].items():
            have = got.get(name, math.nan)
            if name.endswith("_sum"):
                z = abs(have - want) / max(abs(want) * 1e-3, 1e-6)  # 0.1% of the reference
            else:
                z = abs(have - want) / math.sqrt(max(want, 1.0) + max(have, 1.0))
            worst = max(worst, z)
            if not z <= Z_FAIL:
                bad.append(f"{name}: reference {want:g}, here {have:g}")
        exact = digest([m1, *l1]) == r["digest"]
        ok = deterministic and not bad
        out["runs"][preset] = {
            "deterministic": deterministic,
            "bit_identical_to_cpu_reference": exact,
            "worst_z": worst,
            "disagreements": bad,
            "ok": ok,
        }
        out["ok"] &= ok
        log(
            f"check {preset}: deterministic={deterministic}, identical to the CPU reference="
            f"{exact}, worst |z|={worst:.2f}, disagreements={bad or 'none'}"
        )
    return out


def memory_plan(preset: str, agents: int, chunk: int) -> dict:
    """Device bytes that initialising and running a chunk need, from XLA, before allocating."""
    spec, params = compile_scenario(load_scenario(preset, agents=agents, days=2 * chunk))
    key = jax.random.key(0)
    init = initial_state.lower(spec, params, key).compile().memory_analysis()
    state = jax.eval_shape(lambda p, k: initial_state(spec, p, k), params, key)
    sample = jnp.zeros(1000, jnp.int32)
    m = (
        run_chunk.lower(spec, chunk, params, state, key, jnp.int32(0), sample)
        .compile()
        .memory_analysis()
    )
    state_bytes = sum(x.size * x.dtype.itemsize for x in jax.tree_util.tree_leaves(state))
    if m is None or init is None:  # a backend without memory analysis: state only
        return {
            "state_bytes_per_agent": state_bytes / agents,
            "run_bytes_per_agent": math.nan,
            "init_bytes_per_agent": math.nan,
            "need_bytes": 2 * state_bytes,  # at least the state in and out
        }
    run_peak = (
        m.argument_size_in_bytes
        + m.output_size_in_bytes
        - m.alias_size_in_bytes
        + m.temp_size_in_bytes
    )
    init_peak = init.output_size_in_bytes + init.temp_size_in_bytes
    return {
        "state_bytes_per_agent": state_bytes / agents,
        "run_bytes_per_agent": run_peak / agents,
        "init_bytes_per_agent": init_peak / agents,
        "need_bytes": max(run_peak, init_peak),
    }


def time_size(preset: str, agents: int, chunk: int) -> dict:
    spec, params = compile_scenario(load_scenario(preset, agents=agents, days=2 * chunk))
    key = jax.random.key(0)
    sample = jnp.asarray(np.arange(0, agents, max(1, agents // 1000), dtype=np.int32))
    t0 = time.perf_counter()
    state = initial_state(spec, params, key)
    state, (m, *_) = run_chunk(spec, chunk, params, state, key, jnp.int32(0), sample)
    m.block_until_ready()
    first = time.perf_counter() - t0
    t = time.perf_counter()
    state, (m, *_) = run_chunk(spec, chunk, params, state, key, jnp.int32(chunk), sample)
    m.block_until_ready()
    per_day = (time.perf_counter() - t) / chunk
    del state, m
    return {
        "ms_per_day": per_day * 1e3,
        "agent_days_per_s": agents / per_day,
        "first_chunk_s": first,
    }


def device_memory() -> dict:
    try:
        s = jax.devices()[0].memory_stats() or {}
    except Exception:  # the CPU backend has none
        s = {}
    return {k: s[k] for k in ("bytes_limit", "bytes_in_use", "peak_bytes_in_use") if k in s}


def machine() -> str:
    d = jax.devices()[0]
    return (
        f"{d.device_kind} ({d.platform}, {jax.device_count()} device(s)); jax {jax.__version__}, "
        f"python {platform.python_version()}, {platform.machine()}; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )


def main_job(extra: list[str]) -> dict:
    """`socialcredit run rongcheng` in a fresh process, if the CLI's packages are here (its
    compiled programs may already sit in the persistent cache from the checks above)."""
    try:
        import duckdb  # noqa: F401
        import pandas  # noqa: F401
        import pyarrow  # noqa: F401
        import rich  # noqa: F401
        import typer  # noqa: F401
    except ImportError as e:
        return {"skipped": f"the CLI needs {e.name}, which is not installed here"}
    cmd = [sys.executable, "-c", "from socialcredit.cli import app; app()", "run", "rongcheng"]
    cmd += ["--out", "/tmp/socialcredit-gpu-runs", "-q", *extra]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        return {"failed": proc.stderr[-2000:], "wall_s": wall}
    return {"wall_s": wall, "command": "socialcredit run rongcheng " + " ".join(extra)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="gpu-out")
    ap.add_argument("--preset", default=RICHEST)
    ap.add_argument("--sizes", type=float, nargs="+", default=[1e7, 1e8, 1.4e9])
    ap.add_argument("--chunk", type=int, default=5, help="days per chunk (two chunks a size)")
    ap.add_argument("--budget", type=float, default=420.0, help="seconds before skipping steps")
    ap.add_argument(
        "--also",
        nargs="*",
        default=[],
        metavar="PRESET:SIZE",
        help="further runs after --sizes, e.g. national:1.4e9 (the country's population)",
    )
    ap.add_argument("--main-job-args", default="", help="e.g. '--agents 20000 --days 30'")
    ap.add_argument("--make-reference", action="store_true")
    ap.add_argument(
        "--limit-bytes", type=float, help="pretend the device has this much memory (a test)"
    )
    a = ap.parse_args()
    if a.make_reference:
        make_reference()
        return
    out_dir = Path(a.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    res: dict = {"machine": machine(), "device_memory_start": device_memory(), "sizes": []}
    log(res["machine"])

    def save() -> None:
        (out_dir / "results.json").write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")

    res["correctness"] = check_correctness()
    save()
    limit = a.limit_bytes or device_memory().get("bytes_limit")
    runs = [(a.preset, int(x)) for x in a.sizes]
    runs += [(p, int(float(s))) for p, s in (x.split(":") for x in a.also)]
    for preset, n in runs:
        if time.perf_counter() - T0 > a.budget:
            res["sizes"].append({"preset": preset, "agents": n, "skipped": "time budget spent"})
            log(f"{preset}, {n:,} agents: skipped, the time budget is spent")
            continue
        row: dict = {"preset": preset, "agents": n, "days_timed": a.chunk}
        try:
            t = time.perf_counter()
            plan = memory_plan(preset, n, a.chunk)
            row.update(plan, compile_s=time.perf_counter() - t)  # the plan compiles both programs
            log(
                f"{n:,} agents: state {plan['state_bytes_per_agent']:.1f} B/agent, the compiled "
                f"day needs {plan['run_bytes_per_agent']:.0f} B/agent "
                f"({plan['need_bytes'] / 2**30:.1f} GiB with initialisation)"
            )
            if limit and plan["need_bytes"] > 0.97 * limit:
                per = plan["need_bytes"] / n
                fit = int(0.95 * limit / per)
                fit -= fit % (2**20 if fit > 2**24 else 256)  # a round size
                row["skipped"] = (
                    f"needs {plan['need_bytes'] / 2**30:.3g} GiB, the device has "
                    f"{limit / 2**30:.3g} GiB; the largest size that fits is about {fit:,}"
                )
                log(f"{n:,} agents: SKIPPED, {row['skipped']}")
                res["sizes"].append(row)
                if fit > 0:
                    n, row = fit, {"preset": preset, "agents": fit, "largest_that_fits": True}
                    row["days_timed"] = a.chunk
                    row.update(memory_plan(preset, n, a.chunk))
                else:
                    continue
            row.update(time_size(preset, n, a.chunk))
            row["device_memory"] = device_memory()
            log(
                f"{n:,} agents: {row['ms_per_day']:.1f} ms per day, "
                f"{row['agent_days_per_s']:.3g} agent-days/s, compile {row.get('compile_s', 0):.1f} s, "
                f"first chunk {row['first_chunk_s']:.1f} s"
            )
        except Exception as e:  # out of memory, or anything else: record it, go on
            row["error"] = f"{type(e).__name__}: {str(e)[:500]}"
            log(f"{n:,} agents: FAILED {row['error']}")
            traceback.print_exc()
        res["sizes"].append(row)
        save()
    if time.perf_counter() - T0 < a.budget:
        log("the README's main job ...")
        res["main_job"] = main_job(a.main_job_args.split())
        log(f"main job: {res['main_job']}")
    else:
        res["main_job"] = {"skipped": "time budget spent"}
    res["total_s"] = time.perf_counter() - T0
    save()
    print("\n| preset | agents | ms per day | agent-days/s | state B/agent | device plan B/agent |")
    print("|---|---|---|---|---|---|")
    for r in res["sizes"]:
        if "agent_days_per_s" in r:
            print(
                f"| {r['preset']} | {r['agents']:,}{' (largest that fits)' if r.get('largest_that_fits') else ''} "
                f"| {r['ms_per_day']:.1f} | {r['agent_days_per_s']:.3g} "
                f"| {r['state_bytes_per_agent']:.1f} | {r['run_bytes_per_agent']:.0f} |"
            )
        else:
            print(
                f"| {r.get('preset', '')} | {r['agents']:,} | {r.get('skipped') or r.get('error')} | | | |"
            )
    ok = res["correctness"]["ok"]
    print(f"\ncorrectness: {'OK' if ok else 'FAILED'}; results in {out_dir / 'results.json'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
