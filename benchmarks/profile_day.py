"""Where a day's time goes: each stage compiled and timed alone, against the fused day.

XLA fuses stages into each other, so the parts need not add up to the whole: a part that costs
more inside the day than alone is being recomputed by its consumers (docs/decisions.md). Each
stage runs on the state of a population a few days into the run. Optionally writes the
optimised HLO of the day (``--dump DIR``, XLA's ``--xla_dump_to``) to read which fusions the
compiler made. Prints a Markdown table.

Usage: python benchmarks/profile_day.py [--preset xinjiang-informants] [--agents 1000000]
[--repeats 5] [--dump /tmp/hlo]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="xinjiang-informants")
    ap.add_argument("--agents", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--dump", help="write XLA's optimised HLO of every program here")
    a = ap.parse_args()
    if a.dump:  # must be set before JAX starts
        os.environ["XLA_FLAGS"] = (
            os.environ.get("XLA_FLAGS", "") + f" --xla_dump_to={a.dump} --xla_dump_hlo_as_text"
        )
    import jax
    import jax.numpy as jnp

    from socialcredit import load_scenario
    from socialcredit.compile import compile_scenario
    from socialcredit.engine.run import day_step, initial_state, run_chunk
    from socialcredit.engine.stages import consequences as cq
    from socialcredit.engine.stages import informants as inf
    from socialcredit.engine.stages.behave import behave
    from socialcredit.engine.stages.learn import learn
    from socialcredit.engine.stages.listing import blacklist, tiers
    from socialcredit.engine.stages.measure import measure
    from socialcredit.engine.stages.observe import observe
    from socialcredit.engine.stages.record import record, remember_false
    from socialcredit.engine.stages.score import score
    from socialcredit.engine.state import TRAIT_HOME_BLOCK

    spec, params = compile_scenario(load_scenario(a.preset, agents=a.agents, days=40))
    key = jax.random.key(0)
    state = initial_state(spec, params, key)
    state, _ = run_chunk(spec, 10, params, state, key, jnp.int32(0), jnp.zeros(0, jnp.int32))
    day = jnp.int32(10)
    outcome = jax.jit(lambda s: behave(spec, params, key, day, s))(state)
    rec, chan, pts = jax.jit(lambda s, o: observe(spec, params, key, day, s, o))(state, outcome)
    sc = jax.jit(lambda s: score(spec, params, s))(state)
    tier = jax.jit(lambda s, c: tiers(spec, params, s, c))(state, sc)
    listed = state.listed_since >= 0

    # each part takes its inputs as one argument: arrays closed over would become constants
    x0 = {"s": state, "out": outcome, "pts": pts, "tier": tier, "listed": listed, "rec": rec}
    parts = {
        "remember_false": lambda x: remember_false(spec, params, day, x["s"]),
        "learn (contact sums, risk)": lambda x: learn(spec, params, x["s"]),
        "score + tiers": lambda x: tiers(spec, params, x["s"], score(spec, params, x["s"])),
        "behave (rates, categorical draw)": lambda x: behave(spec, params, key, day, x["s"]),
        "observe (detection, channel)": lambda x: observe(spec, params, key, day, x["s"], x["out"]),
        "record (expiry ring)": lambda x: record(spec, params, day, x["s"], x["pts"]),
        "blacklist": lambda x: blacklist(spec, params, day, x["s"], x["tier"]),
        "consequences": lambda x: cq.consequences(
            spec,
            params,
            key,
            day,
            x["s"],
            x["tier"],
            x["listed"],
            x["pts"] < 0,
            (x["s"].traits & TRAIT_HOME_BLOCK) != 0,
        ),
        "measure (metrics of the day)": lambda x: measure(spec, params, x["s"]),
    }
    if spec.informants is not None:
        parts["update_trust"] = lambda x: inf.update_trust(spec, params, key, day, x["s"])
        parts["pay_informants"] = lambda x: inf.pay_informants(spec, params, x["s"])
        parts["reward_due"] = lambda x: inf.reward_due(spec, params, x["s"], x["out"], x["rec"])
    if spec.households is not None:
        parts["household_blocked"] = lambda x: cq.household_blocked(x["s"])
    parts["the whole day_step"] = lambda x: day_step(spec, params, key, x["s"], day)[0]

    def timed(fn) -> float:
        f = jax.jit(fn)
        jax.block_until_ready(f(x0))  # compile
        ts = []
        for _ in range(a.repeats):
            t = time.perf_counter()
            jax.block_until_ready(f(x0))
            ts.append(time.perf_counter() - t)
        return statistics.median(ts) * 1e3

    print(f"{a.preset}, {a.agents:,} agents, jax {jax.__version__}, {jax.devices()[0]}\n")
    print("| stage (compiled alone) | ms |")
    print("|---|---|")
    total = 0.0
    for name, fn in parts.items():
        ms = timed(fn)
        if name != "the whole day_step":
            total += ms
        print(f"| {name} | {ms:.2f} |", flush=True)
    print(f"| sum of the stages alone | {total:.2f} |")
    chunk = 10
    st = state

    def one_chunk():
        nonlocal st
        st, out = run_chunk(spec, chunk, params, st, key, jnp.int32(20), jnp.zeros(0, jnp.int32))
        return out

    jax.block_until_ready(one_chunk())
    ts = []
    for _ in range(max(1, a.repeats // 2)):
        t = time.perf_counter()
        jax.block_until_ready(one_chunk())
        ts.append((time.perf_counter() - t) / chunk)
    print(f"| a day inside the scanned chunk (with measure) | {statistics.median(ts) * 1e3:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
