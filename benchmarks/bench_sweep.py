"""Sweeps (issue 13): a batched sweep against one run, separate commands and EMA Workbench + Mesa.

Everything is measured side by side in one run (the project's rule for ratios on a shared
machine). The sweep varies one lever, `channels.traffic_police.coverage.traffic_violation`,
over N evenly spaced points (a full factorial of one factor: N experiments, 1 replicate,
counterfactual off, so N runs; every outcome of the scenario evaluated, no figures).

1. Batched vs one run: one `simulate` of rongcheng (first call: compile included; second:
   warm) against the sweep (`socialcredit.experiments.sweep`) at the default batch size, in
   agent-days per second. "Warm" sweeps run after a warm-up that compiles each batch shape
   (the batch's populations and its first chunk of days, as the worker sets them up); the
   warm-up's time is reported and added for "including compile". Then the batch sizes of
   --batch-sizes, each warm, at --bs-days days, beside a warm single run at the same days.
2. Separate commands: --commands runs of `socialcredit run` (subprocesses) at the first
   design points, with a fresh compile cache (the first compiles, the next load it, as the
   CLI does by default) and one more with the cache off; the 64-command time is extrapolated
   as first + (N - 1) x the median of the others, against the sweep including compile.
3. The peer: the same design (--peer-experiments points) at --peer-agents agents driven by
   EMA Workbench over the Mesa model (peers/ema_rongcheng.py in the peer's environment, see
   peers/setup.sh) against socialcredit's sweep of the same points and size: warm in this process, and whole as one `socialcredit sweep`
   command with the compile cache off (start-up and compile included; the ratio's basis).
4. Engine probe: the batched engine (vmap, engine/batch.py) against the same runs one after
   another and against `lax.map` over the runs in one call, warm, median of --probe-reps.

Usage: python benchmarks/bench_sweep.py [--quick] [--json out.json] [--skip-peer]
(`make bench-sweep` builds the peer's environment and runs it with the full sizes.)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp

from socialcredit import __version__, load_scenario, simulate
from socialcredit.compile import compile_scenario
from socialcredit.engine.batch import initial_states, run_chunks, stack_params
from socialcredit.engine.run import default_chunk, initial_state, run_chunk
from socialcredit.experiments import sweep
from socialcredit.experiments.base import Base
from socialcredit.experiments.run import resolve_experiment
from socialcredit.experiments.sweep import make_plan
from socialcredit.experiments.worker import scenario_of

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "peers"))
# the model the Mesa peer implements (rongcheng without issue 15's approval and counted
# rewards): the EMA Workbench comparison runs our side on it too
from compare import PEER_SET  # noqa: E402

ROOT = HERE.parent
PRESET = "rongcheng"
CHANNEL, BEHAVIOUR = "traffic_police", "traffic_violation"
LEVER = f"channels.{CHANNEL}.coverage.{BEHAVIOUR}"
LOW, HIGH = 0.1, 0.9

FULL = {
    "agents": 100_000,
    "days": 365,
    "experiments": 64,
    "batch_sizes": [8, 16, 64],
    "bs_days": 73,
    "commands": 4,
    "peer_agents": 10_000,
    "peer_days": 73,
    "peer_experiments": 16,
    "probe_days": 30,
    "probe_runs": 8,
    "probe_reps": 3,
    "primer": 1,
    "cli_sweep": 1,
    "cache_off": 1,
}
QUICK = {
    "agents": 10_000,
    "days": 30,
    "experiments": 8,
    "batch_sizes": [],
    "bs_days": 30,
    "commands": 1,
    "peer_agents": 1_000,
    "peer_days": 10,
    "peer_experiments": 4,
    "probe_days": 10,
    "probe_runs": 4,
    "probe_reps": 2,
    "primer": 0,
    "cli_sweep": 0,
    "cache_off": 0,
}


def machine() -> dict:
    cpu = ""
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    dev = jax.devices()[0]
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu or platform.processor(),
        "ram_gib": round(ram, 1),
        "device": f"{jax.device_count()} {dev.platform} ({dev.device_kind})",
        "socialcredit": __version__,
        "jax": jax.__version__,
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def vary(n: int) -> list[str]:
    return [f"{LEVER}={LOW}:{HIGH}:{n}"]


def points(n: int) -> list[float]:
    return [LOW + (HIGH - LOW) * i / (n - 1) for i in range(n)] if n > 1 else [LOW]


# ----------------------------------------------------------------------------- timing


def single(agents: int, days: int) -> dict:
    """One `simulate`: the first call (compile included) and a second, warm."""
    sc = load_scenario(PRESET, agents=agents, days=days)
    t0 = time.perf_counter()
    simulate(sc)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    simulate(sc)
    warm = time.perf_counter() - t0
    ad = agents * days
    return {
        "agents": agents,
        "days": days,
        "first_s": first,
        "warm_s": warm,
        "rate_warm": ad / warm,
        "rate_first": ad / first,
    }


def plan_of(n: int, agents: int, days: int, batch_size: int | None, overrides=None):
    exp, _, _ = resolve_experiment(None, vary(n), 1, False)
    base = Base.load(PRESET, overrides, agents=agents, days=days, seed=None)
    return make_plan(base, exp, batch_size=batch_size)


def warm_up(
    n: int, agents: int, days: int, batch_size: int | None, overrides=None
) -> tuple[float, list[int]]:
    """Compile every batch shape of the sweep as the worker sets it up: its populations and
    its first chunk of days (worker.run_batch, engine/batch.simulate_batch). Returns the
    seconds it took and the batch sizes of the plan."""
    plan = plan_of(n, agents, days, batch_size, overrides)
    sizes = [len(b.runs) for b in plan.batches]
    t0 = time.perf_counter()
    for size in sorted(set(sizes)):
        b = next(b for b in plan.batches if len(b.runs) == size)
        snap = "wealth_gini" in b.outcomes
        scs = [scenario_of(b.base, r) for r in b.runs]
        scs = [
            s.model_copy(update={"record": s.record.model_copy(update={"snapshot": snap})})
            for s in scs
        ]
        compiled = [compile_scenario(s) for s in scs]
        spec = compiled[0][0]
        params = stack_params([c[1] for c in compiled])
        keys = jnp.stack([jax.random.key(r.seed) for r in b.runs])
        chunk = min(b.chunk_days or default_chunk(spec.days), spec.days)
        state = initial_states(spec, params, keys)
        _, out = run_chunks(spec, chunk, params, state, keys, jnp.int32(0))
        jax.block_until_ready(out)
    return time.perf_counter() - t0, sizes


def timed_sweep(n: int, agents: int, days: int, batch_size: int | None, overrides=None) -> dict:
    """The sweep through the API (a fresh folder), wall time and agent-days per second."""
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as out:
        t0 = time.perf_counter()
        r = sweep(
            PRESET,
            vary=vary(n),
            overrides=overrides,
            agents=agents,
            days=days,
            replicates=1,
            counterfactual=False,
            out=out,
            figures=False,
            batch_size=batch_size,
        )
        wall = time.perf_counter() - t0
    assert r.manifest["runs"] == n, r.manifest
    return {"runs": n, "batches": r.manifest["batches"], "wall_s": wall}


def warm_sweep(
    n: int, agents: int, days: int, batch_size: int | None, primer: int, overrides=None
) -> dict:
    primer_s = 0.0
    if primer:  # the sweep's one-time costs besides the engine (imports, outcome functions)
        t0 = time.perf_counter()
        timed_sweep(2, agents, days, 2, overrides)
        primer_s = time.perf_counter() - t0
    compile_s, sizes = warm_up(n, agents, days, batch_size, overrides)
    row = timed_sweep(n, agents, days, batch_size, overrides)
    ad = n * agents * days
    row.update(
        agents=agents,
        days=days,
        batch_size=batch_size,
        batch_sizes=sizes,
        warm_up_s=compile_s,
        primer_s=primer_s,
        rate_warm=ad / row["wall_s"],
        rate_incl_compile=ad / (row["wall_s"] + compile_s),
    )
    return row


def commands(k: int, n: int, agents: int, days: int, cache_off: int = 1) -> dict:
    """`socialcredit run` as separate subprocesses at the first k design points."""
    exe = Path(sys.executable).with_name("socialcredit")
    base = [str(exe)] if exe.exists() else [sys.executable, "-m", "socialcredit.cli"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    times, off = [], None
    with tempfile.TemporaryDirectory(prefix="bench-cmds-") as tmp:
        cache = Path(tmp) / "cache"
        for i, v in enumerate(points(n)[: k + (1 if cache_off else 0)]):
            cmd = [*base, "run", PRESET, "--agents", str(agents), "--days", str(days)]
            cmd += ["--quiet", "--out", str(Path(tmp) / "runs"), "--set", f"{LEVER}={v!r}"]
            last = i == k  # one more with the compile cache off
            e = {**env, "SOCIALCREDIT_CACHE": "off" if last else str(cache)}
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, env=e)
            dt = time.perf_counter() - t0
            if proc.returncode != 0:
                sys.exit(f"socialcredit run failed:\n{proc.stderr[-2000:]}")
            if last:
                off = dt
            else:
                times.append(dt)
    first, rest = times[0], times[1:]
    per = statistics.median(rest) if rest else first
    return {
        "timed": k + 1,
        "agents": agents,
        "days": days,
        "times_s": times,
        "cache_off_s": off,
        "first_s": first,
        "median_cached_s": per,
        "extrapolated_s": first + (n - 1) * per,
        "extrapolated_cache_off_s": n * off if off is not None else None,
    }


def cli_sweep(n: int, agents: int, days: int, overrides=()) -> dict:
    """`socialcredit sweep` as one command, compile cache off: start-up and compile included."""
    exe = Path(sys.executable).with_name("socialcredit")
    base = [str(exe)] if exe.exists() else [sys.executable, "-m", "socialcredit.cli"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "SOCIALCREDIT_CACHE": "off"}
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        cmd = [*base, "sweep", PRESET, "--vary", vary(n)[0], "--agents", str(agents)]
        cmd += ["--days", str(days), "-r", "1", "--no-counterfactual", "--no-figures", "-q"]
        cmd += ["--out", tmp] + [x for o in overrides for x in ("--set", o)]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"socialcredit sweep failed:\n{proc.stderr[-2000:]}")
    return {"wall_s": wall, "rate": n * agents * days / wall}


def peer(n: int, agents: int, days: int, python: str) -> dict | None:
    """EMA Workbench over the Mesa peer on the same design points."""
    if not Path(python).exists():
        print(f"(peer skipped: {python} is missing; run benchmarks/peers/setup.sh)")
        return None
    sc = load_scenario(PRESET, PEER_SET, agents=agents, days=days)
    with tempfile.TemporaryDirectory(prefix="bench-ema-") as tmp:
        scen, out = Path(tmp) / "scenario.json", Path(tmp) / "ema.json"
        scen.write_text(json.dumps(sc.model_dump(mode="json")), encoding="utf-8")
        cmd = [python, str(HERE / "peers" / "ema_rongcheng.py"), str(scen)]
        cmd += ["--channel", CHANNEL, "--behaviour", BEHAVIOUR, "--agents", str(agents)]
        cmd += ["--days", str(days), "--out", str(out), "--values"]
        cmd += [repr(v) for v in points(n)]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE / "peers")
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.exit(f"EMA Workbench peer failed:\n{proc.stderr[-2000:]}")
        r = json.loads(out.read_text(encoding="utf-8"))
    r["process_wall_s"] = wall
    return r


def engine_probe(agents: int, days: int, runs: int, reps: int) -> dict:
    """The engine alone: vmapped batch vs the runs one after another vs lax.map in one call."""
    sc = load_scenario(PRESET, agents=agents, days=days)
    spec, p = compile_scenario(sc)
    params = stack_params([p] * runs)
    keys = jnp.stack([jax.random.key(i) for i in range(runs)])
    none = jnp.zeros(0, jnp.int32)

    @partial(jax.jit, static_argnums=(0, 1), donate_argnums=(3,))
    def map_chunks(spec, chunk, params, state, keys, day0):
        def one(a):
            return run_chunk(spec, chunk, a[0], a[1], a[2], day0, none)

        return jax.lax.map(one, (params, state, keys))

    def vmapped():
        st = initial_states(spec, params, keys)
        return run_chunks(spec, days, params, st, keys, jnp.int32(0))[1][0]

    def mapped():
        st = initial_states(spec, params, keys)
        return map_chunks(spec, days, params, st, keys, jnp.int32(0))[1][0]

    def sequential():
        outs = []
        for i in range(runs):
            st = initial_state(spec, p, keys[i])
            outs.append(run_chunk(spec, days, p, st, keys[i], jnp.int32(0), none)[1][0])
        return outs

    fns = {"sequential": sequential, "vmap": vmapped, "lax.map": mapped}
    for f in fns.values():  # compile
        jax.block_until_ready(f())
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(reps):  # interleaved, so drift falls on all alike
        for k, f in fns.items():
            t0 = time.perf_counter()
            jax.block_until_ready(f())
            times[k].append(time.perf_counter() - t0)
    ad = runs * agents * days
    return {
        "agents": agents,
        "days": days,
        "runs": runs,
        "times_s": times,
        "rate": {k: ad / statistics.median(v) for k, v in times.items()},
    }


# ----------------------------------------------------------------------------- report


def fmt_rate(x: float) -> str:
    return f"{x:.3g}"


def report(res: dict, a: dict) -> None:
    m = res["machine"]
    print(
        f"\nmachine: {m['nproc']} CPUs ({m['cpu']}), {m['ram_gib']} GiB RAM, {m['device']}; "
        f"socialcredit {m['socialcredit']}, jax {m['jax']}, python {m['python']}; {m['date']}"
    )
    one, sw = res["single"], res["sweep_default"]
    n = a["experiments"]
    print(f"\n1. {n} experiments x {a['agents']:,} agents x {a['days']} days, batched vs one run\n")
    print("| run | wall (s) | agent-days/s | ratio to one run (warm) | target |")
    print("|---|---|---|---|---|")
    print(
        f"| one simulate, warm | {one['warm_s']:.2f} | {fmt_rate(one['rate_warm'])} | 1 | |\n"
        f"| one simulate, first call (incl. compile) | {one['first_s']:.2f} "
        f"| {fmt_rate(one['rate_first'])} | {one['rate_first'] / one['rate_warm']:.2f} | |"
    )
    r1 = sw["rate_warm"] / one["rate_warm"]
    r1c = sw["rate_incl_compile"] / one["rate_first"]
    print(
        f"| sweep, default batch size ({sw['batch_sizes'][0]}, {sw['batches']} batch(es)), warm "
        f"| {sw['wall_s']:.1f} | {fmt_rate(sw['rate_warm'])} | {r1:.2f} "
        f"| >= 0.8: {'met' if r1 >= 0.8 else 'NOT met'} |\n"
        f"| sweep, default, incl. compile (+{sw['warm_up_s']:.1f} s warm-up) "
        f"| {sw['wall_s'] + sw['warm_up_s']:.1f} | {fmt_rate(sw['rate_incl_compile'])} "
        f"| {r1c:.2f} vs one run's first call | |"
    )
    bs, one_bs = res["batch_sizes"], res["single_bs"]
    print(f"\nBatch sizes: {n} experiments x {a['agents']:,} agents x {a['bs_days']} days\n")
    print("| batch size | batches | warm-up (s) | wall warm (s) | agent-days/s | vs one run |")
    print("|---|---|---|---|---|---|")
    print(
        f"| one simulate, warm | | | {one_bs['warm_s']:.2f} | {fmt_rate(one_bs['rate_warm'])} | 1 |"
    )
    for r in bs:
        print(
            f"| {r['batch_size'] or 'default'} ({r['batch_sizes'][0]}) | {r['batches']} "
            f"| {r['warm_up_s']:.1f} | {r['wall_s']:.1f} | {fmt_rate(r['rate_warm'])} "
            f"| {r['rate_warm'] / one_bs['rate_warm']:.2f} |"
        )
    c = res["commands"]
    if c:
        total_sweep = sw["wall_s"] + sw["warm_up_s"]
        r2 = c["extrapolated_s"] / total_sweep
        off = c["extrapolated_cache_off_s"]
        print(f"\n2. {n} separate `socialcredit run` commands vs the sweep (incl. compile)\n")
        cached = len(c["times_s"]) - 1
        basis = f"median of {cached} cached" if cached else "no cached one timed: the first's"
        print("| what | seconds | sweep faster by | target |")
        print("|---|---|---|---|")
        print(
            f"| sweep incl. compile (warm-up + warm sweep) | {total_sweep:.1f} | 1 | |\n"
            f"| {n} commands, compile cache on (default): first {c['first_s']:.1f} s + "
            f"{n - 1} x {c['median_cached_s']:.2f} s "
            f"({basis}) "
            f"| {c['extrapolated_s']:.0f} | {r2:.2f}x | >= 10x: {'met' if r2 >= 10 else 'NOT met'} |"
        )
        if off is not None:
            print(
                f"| {n} commands, cache off: {n} x {c['cache_off_s']:.2f} s (1 timed) "
                f"| {off:.0f} | {off / total_sweep:.2f}x | |"
            )
    p, ours = res["peer"], res["peer_ours"]
    if p and ours:
        label = "`socialcredit sweep` command, cache off (start-up, compile)"
        cli = ours["cli"]
        if cli is None:  # --quick: the in-process sweep's warm-up + warm
            label = "socialcredit sweep in process, incl. compile"
            cli = {"wall_s": ours["wall_s"] + ours["warm_up_s"], "rate": ours["rate_incl_compile"]}
        r3 = cli["rate"] / p["agent_days_per_s"]
        r3w = ours["rate_warm"] / p["agent_days_per_s"]
        print(
            f"\n3. {p['experiments']} experiments x {p['agents']:,} agents x {p['days']} days: "
            "socialcredit sweep vs EMA Workbench over Mesa; both on rongcheng with "
            f"{', '.join(ours.get('overrides') or ['no override'])} (the model the peer implements)\n"
        )
        print("| driver | wall (s) | experiment agent-days/s | ratio to EMA + Mesa | target |")
        print("|---|---|---|---|---|")
        print(
            f"| EMA Workbench {p['ema_workbench']} + Mesa {p['mesa']}, SequentialEvaluator "
            f"| {p['wall_s']:.1f} | {fmt_rate(p['agent_days_per_s'])} | 1 | |\n"
            f"| {label} | {cli['wall_s']:.1f} "
            f"| {fmt_rate(cli['rate'])} | {r3:,.0f}x "
            f"| >= 300x: {'met' if r3 >= 300 else 'NOT met'} |\n"
            f"| socialcredit sweep, warm | {ours['wall_s']:.1f} | {fmt_rate(ours['rate_warm'])} "
            f"| {r3w:,.0f}x | |"
        )
    e = res["engine_probe"]
    if e:
        print(
            f"\n4. Engine only: {e['runs']} runs x {e['agents']:,} agents x {e['days']} days, "
            f"warm, median of {len(e['times_s']['vmap'])}\n"
        )
        print("| how | seconds (each rep) | agent-days/s | vs one after another |")
        print("|---|---|---|---|")
        seq = e["rate"]["sequential"]
        for k, ts in e["times_s"].items():
            print(
                f"| {k} | {', '.join(f'{t:.2f}' for t in ts)} | {fmt_rate(e['rate'][k])} "
                f"| {e['rate'][k] / seq:.2f} |"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a smoke size (about 30 s of CPU)")
    for k, v in FULL.items():
        flag = "--" + k.replace("_", "-")
        if isinstance(v, list):
            ap.add_argument(flag, type=int, nargs="+", default=None)
        else:
            ap.add_argument(flag, type=int, default=None)
    ap.add_argument("--skip-peer", action="store_true")
    ap.add_argument("--skip-commands", action="store_true")
    ap.add_argument("--skip-probe", action="store_true")
    ap.add_argument("--peer-python", default=str(HERE / "peers" / ".venv" / "bin" / "python"))
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--report", metavar="JSON", help="print the tables of an earlier --json")
    ns = ap.parse_args()
    if ns.report:
        res = json.loads(Path(ns.report).read_text(encoding="utf-8"))
        report(res, res["sizes"])
        return
    a = dict(QUICK if ns.quick else FULL)
    for k in FULL:
        if getattr(ns, k) is not None:
            a[k] = getattr(ns, k)
    res: dict = {"machine": machine(), "sizes": a, "quick": ns.quick}
    n, agents, days = a["experiments"], a["agents"], a["days"]

    def step(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)

    step(f"one run: {agents:,} x {days} days")
    res["single"] = single(agents, days)
    step(f"sweep: {n} x {agents:,} x {days} days, default batch size")
    res["sweep_default"] = warm_sweep(n, agents, days, None, a["primer"])
    bs_days = a["bs_days"]
    if a["batch_sizes"]:
        step(f"batch sizes {a['batch_sizes']} at {bs_days} days")
    res["single_bs"] = single(agents, bs_days) if bs_days != days else res["single"]
    res["batch_sizes"] = []
    for b in a["batch_sizes"]:
        res["batch_sizes"].append(warm_sweep(n, agents, bs_days, b, a["primer"]))
    res["commands"] = None
    if not ns.skip_commands:
        step(f"{a['commands'] + 1} separate commands")
        res["commands"] = commands(a["commands"], n, agents, days, a["cache_off"])
    res["peer"] = res["peer_ours"] = None
    if not ns.skip_peer:
        pn, pa, pd = a["peer_experiments"], a["peer_agents"], a["peer_days"]
        step(f"peer: {pn} x {pa:,} x {pd} days, socialcredit then EMA Workbench + Mesa")
        res["peer_ours"] = warm_sweep(pn, pa, pd, None, a["primer"], PEER_SET)
        res["peer_ours"]["cli"] = cli_sweep(pn, pa, pd, PEER_SET) if a["cli_sweep"] else None
        res["peer_ours"]["overrides"] = PEER_SET
        res["peer"] = peer(pn, pa, pd, ns.peer_python)
    res["engine_probe"] = None
    if not (ns.skip_probe or ns.quick):
        step("engine probe: vmap vs lax.map vs one after another")
        res["engine_probe"] = engine_probe(
            agents, a["probe_days"], a["probe_runs"], a["probe_reps"]
        )
    report(res, a)
    if ns.json:
        Path(ns.json).write_text(json.dumps(res, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
