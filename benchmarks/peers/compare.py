"""socialcredit against its Mesa peer on the `rongcheng` rules, side by side in one process tree.

Runs the Mesa model (rongcheng_mesa.py, in its own virtual environment, see setup.sh) as a
child process at a size it finishes in tens of seconds, then socialcredit at the same size and
at a size where it is fast; checks that the two compute the same thing (tier shares, listings,
behaviour and record rates, loans, trips, sanctions, mean score, risk and wealth agree within
noise); prints the comparison and the speed ratio. Exits 1 if any statistic disagrees.

Statistics: every count is a sum over agents, and the Mesa run gives each one's per-agent
variance, so under "the models are the same" the difference of the per-agent means has the
standard error sqrt(var * (1/n_mesa + 1/n_ours)); the test fails at |z| > 4 (about one chance
in 400 of a false alarm over the ~40 statistics). Tier shares use the pooled binomial variance.
Throughput is agent-days per second of the simulation loop: Mesa's steps after building the
agents, socialcredit's steady-state chunks after the first (which compiles); socialcredit's
whole run at Mesa's size, compilation included, is reported too.

Usage: python benchmarks/peers/compare.py [--mesa-agents 10000] [--ours-agents 1000000]
[--days 365] [--seed 0]  (run with the project's Python; `make peer` does it all)
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jax

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench_engine import bench  # noqa: E402

from socialcredit import __version__, load_scenario, simulate  # noqa: E402

Z_FAIL = 4.0
# The peer implements rongcheng's day as it was before issue 15: without approval of the
# system and counted rewards (and without trust, which every scenario now updates but which
# feeds nothing in rongcheng's behaviour). Statistics are compared on that model; the
# throughput below is of the full preset, which does more work per agent-day than the peer.
PEER_SET = ["approval=null", "programmes.rongcheng.rewards=null"]


def ours_stats(agents: int, days: int, seed: int) -> dict:
    """socialcredit's run of rongcheng, reduced to the statistics the peer reports."""
    sc = load_scenario("rongcheng", PEER_SET, agents=agents, days=days, seed=seed)
    t0 = time.perf_counter()
    r = simulate(sc)
    wall = time.perf_counter() - t0
    m = r.metrics
    totals = m.groupby("metric")["value"].sum()
    last = m[m["day"] == m["day"].max()].groupby("metric")["value"].sum()
    counts = {k: float(v) for k, v in totals.items() if k.split(".")[0] in COUNTED}
    tiers = {k.split(".", 1)[1]: float(v) for k, v in last.items() if k.startswith("tier.")}
    a = r.agents
    return {
        "agents": agents,
        "wall_s": wall,
        "counts": counts,
        "tiers": tiers,
        "listed": float(last["listed"]),
        "means": {k: float(a[k].mean()) for k in ("score", "risk", "wealth")},
    }


COUNTED = {
    "acts",
    "records",
    "records_by",
    "false_records",
    "loans_applied",
    "loans_refused",
    "trips",
    "trips_blocked",
    "sanctioned",
}


def compare(mesa: dict, ours: dict) -> list[tuple[str, float, float, float]]:
    """(statistic, Mesa per agent, ours per agent, z) for every statistic."""
    n1, n2 = mesa["agents"], ours["agents"]
    rows = []
    for k in sorted(set(mesa["counts"]) | set(ours["counts"])):
        total, var = mesa["counts"].get(k, (0.0, 0.0))  # absent: never happened in Mesa
        m1, m2 = total / n1, ours["counts"].get(k, 0.0) / n2
        se = math.sqrt(max(var, 1.0 / n1) * (1 / n1 + 1 / n2))
        rows.append((f"{k} per agent", m1, m2, (m2 - m1) / se))
    shares = {**{f"tier {t}": v for t, v in mesa["tiers"].items()}, "listed": mesa["listed"]}
    theirs = {**{f"tier {t}": v for t, v in ours["tiers"].items()}, "listed": ours["listed"]}
    for k, v in shares.items():
        p1, p2 = v / n1, theirs.get(k, 0.0) / n2
        p = (v + theirs.get(k, 0.0)) / (n1 + n2)
        se = math.sqrt(max(p * (1 - p), 1.0 / (n1 + n2)) * (1 / n1 + 1 / n2))
        rows.append((f"share {k}", p1, p2, (p2 - p1) / se))
    for k, (mean, sd) in mesa["means"].items():
        o = ours["means"][k]
        se = max(sd, 1e-12) * math.sqrt(1 / n1 + 1 / n2)
        rows.append((f"mean {k}", mean, o, (o - mean) / se))
    return rows


def print_table(title: str, rows: list[tuple[str, float, float, float]]) -> bool:
    print(f"\n{title}\n")
    print("| statistic | Mesa | socialcredit | z |")
    print("|---|---|---|---|")
    ok = True
    for name, a, b, z in rows:
        bad = not abs(z) <= Z_FAIL
        ok &= not bad
        print(f"| {name} | {a:.6g} | {b:.6g} | {z:+.2f}{'  **DISAGREES**' if bad else ''} |")
    return ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mesa-agents", type=int, default=10_000)
    ap.add_argument("--ours-agents", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--python", default=str(HERE / ".venv" / "bin" / "python"))
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument(
        "--check-only", action="store_true", help="only the agreement at Mesa's size (a test)"
    )
    a = ap.parse_args()

    dev = jax.devices()[0]
    print(
        f"machine: {platform.machine()}, {platform.processor() or ''} {dev.platform} "
        f"({dev.device_kind}); socialcredit {__version__}, jax {jax.__version__}, "
        f"python {platform.python_version()}; date {time.strftime('%Y-%m-%d', time.gmtime())}"
    )
    sc = load_scenario("rongcheng", PEER_SET, agents=a.mesa_agents, days=a.days, seed=a.seed)
    with tempfile.TemporaryDirectory() as tmp:
        scen = Path(tmp) / "scenario.json"
        scen.write_text(json.dumps(sc.model_dump(mode="json")), encoding="utf-8")
        out = Path(tmp) / "mesa.json"
        cmd = [a.python, str(HERE / "rongcheng_mesa.py"), str(scen), "--agents"]
        cmd += [str(a.mesa_agents), "--days", str(a.days), "--seed", str(a.seed), "--out", str(out)]
        print(f"Mesa: {a.mesa_agents:,} agents x {a.days} days ...", flush=True)
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True)
        mesa_wall = time.perf_counter() - t0
        mesa = json.loads(out.read_text(encoding="utf-8"))
    print("socialcredit: the same size, whole run ...", flush=True)
    small = ours_stats(a.mesa_agents, a.days, a.seed)
    if a.check_only:
        title = f"Agreement, Mesa vs socialcredit, {a.mesa_agents:,} agents x {a.days} days"
        if not print_table(title, compare(mesa, small)):
            print("\nFAIL: the peer and socialcredit disagree beyond noise", file=sys.stderr)
            sys.exit(1)
        print("\nOK: the peer and socialcredit agree within noise")
        return
    print(f"socialcredit: {a.ours_agents:,} agents, whole run ...", flush=True)
    big = ours_stats(a.ours_agents, a.days, a.seed)
    print("socialcredit: steady-state throughput ...", flush=True)
    speed_small = bench("rongcheng", a.mesa_agents, 30, 3)
    speed_big = bench("rongcheng", a.ours_agents, 30, 3)

    ok = print_table(
        f"Agreement, Mesa {a.mesa_agents:,} agents vs socialcredit {a.mesa_agents:,} "
        f"(|z| > {Z_FAIL} fails)",
        compare(mesa, small),
    )
    ok &= print_table(
        f"Agreement, Mesa {a.mesa_agents:,} agents vs socialcredit {a.ours_agents:,}",
        compare(mesa, big),
    )
    m_rate = mesa["agent_days_per_s"]
    print(f"\nThroughput, rongcheng, {a.days} days (agent-days per second)\n")
    print("| run | agents | agent-days/s | ratio to Mesa |")
    print("|---|---|---|---|")
    rows = [
        (f"Mesa {mesa['mesa']} (steps only)", a.mesa_agents, m_rate),
        (
            "socialcredit, whole run incl. compile",
            a.mesa_agents,
            a.mesa_agents * a.days / small["wall_s"],
        ),
        ("socialcredit, steady state", a.mesa_agents, speed_small["agent_days_per_s"]),
        ("socialcredit, steady state", a.ours_agents, speed_big["agent_days_per_s"]),
    ]
    for name, n, rate in rows:
        print(f"| {name} | {n:,} | {rate:.3g} | {rate / m_rate:,.0f}x |")
    print(f"\n(Mesa wall time including Python start-up and building agents: {mesa_wall:.1f} s)")
    if a.json:
        Path(a.json).write_text(
            json.dumps(
                {"mesa": mesa, "ours_small": small, "ours_big": big, "rows": rows, "ok": ok},
                indent=1,
            ),
            encoding="utf-8",
        )
    if not ok:
        print("\nFAIL: the peer and socialcredit disagree beyond noise", file=sys.stderr)
        sys.exit(1)
    print("\nOK: the peer and socialcredit agree within noise")


if __name__ == "__main__":
    main()
