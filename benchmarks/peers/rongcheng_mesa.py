"""The `rongcheng` rules as a Mesa model: agent-by-agent Python, as Mesa users write it.

A peer of socialcredit's engine for speed and a check of what it computes. It reads the
fully resolved scenario (JSON, written by compare.py from `socialcredit show rongcheng`) and
derives everything itself: detection chances from channel coverage, false-record rates from
false-positive rates, tier floors, loan approvals. It implements the same day as the engine
(src/socialcredit/engine/run.py, day_step) for a scenario with one jurisdiction, no
informants, households, shaming or appeals:

1. learn: perceived risk moves towards initial + (1 - initial) * min(1, evidence) at the
   learning rate, evidence = own sanction yesterday + social_weight * share of contacts
   sanctioned yesterday; the new risk is used tomorrow (stored as float16, as the engine does).
2. behave: at most one act a day, a categorical draw over behaviours with rates base_rate *
   propensity (where propensity-driven) * exp(-deterrence * pressure * severity) * (1 + virtue
   * pressure * gain), pressure = risk / (1 + wealth / median), capped at 0.5; false records
   of scored behaviours drawn from the top of the same uniform.
3. observe: an act is recorded with the chance that one of the programme's channels covering
   it catches it, credited to the first channel (in scenario order) that does; a false record
   always counts, credited in proportion to false-positive rates.
4. record: points go into a ring of expiry buckets (73 days); at the start of a bucket the
   bucket that passed its expiry is dropped.
5. score = clip(base + points, bounds); tier = number of tier floors below the score;
   blacklist: grade D lists, a listing lasts at least term_days and ends on the first day
   after that out of listed tiers.
6. consequences: one uniform decides a loan application (approved with the tier's or the
   listing's chance, the economy's base rate where the programme sets none; a refusal costs
   wealth), a trip (blocked under a travel ban) or a match attempt; the tier's income effect is
   paid daily. Sanctioned = a record that cost points, a blocked trip or a refused loan that
   the base rate would have approved (the same draw: a refusal that would have happened
   without the system is not the system's doing), which feeds tomorrow's learning.

Contacts: a ring lattice at the engine's signed offsets (local distances spread geometrically
up to `reach`, plus long-range ties at fixed fractions of the population).
Usage: python rongcheng_mesa.py scenario.json --agents 10000 --days 365 --seed 0 --out r.json
"""

from __future__ import annotations

import argparse
import json
import math
import time

import mesa
import numpy as np

NONE = -1
_LONG = (0.6180339887, 0.4142135624, 0.7320508076, 0.2360679775, 0.6457513111, 0.1622776602)


def contact_offsets(degree: int, reach: int, long_range: int, agents: int) -> list[int]:
    """The engine's small world: geometric local distances plus long-range ties."""
    long_offsets = []
    for k in range(long_range):
        if agents > 2 * reach + 2:
            f = _LONG[k % len(_LONG)] / (1 + k // len(_LONG))
            long_offsets.append(reach + 1 + int(f * (agents - 2 * reach - 2)))
    half = degree // 2 - len(long_offsets)
    if half <= 0:
        return [x for d in long_offsets for x in (d, -d)]
    dists = sorted({max(1, round(reach ** (i / max(half - 1, 1)))) for i in range(half)})
    d = 1
    while len(dists) < half:
        if d not in dists:
            dists.append(d)
        d += 1
    dists = sorted(dists)[:half] + long_offsets
    return [x for d in dists for x in (d, -d)]


class Resident(mesa.Agent):
    """One adult of Rongcheng with a credit file."""

    def __init__(self, model: RongchengModel, index: int) -> None:
        super().__init__(model)
        self.index = index
        m = model
        sigma_w = m.sc["population"]["wealth"]["sigma"]
        self.wealth = m.wealth_median * math.exp(sigma_w * self.random.gauss(0.0, 1.0))
        sig = m.sc["population"]["propensity_sigma"]
        self.propensity = float(
            np.float16(math.exp(sig * self.random.gauss(0.0, 1.0) - sig**2 / 2))
        )
        self.risk = float(np.float16(m.initial_risk))
        self.ring = [0] * m.buckets
        self.points = 0
        self.listed_since = -1
        self.sanctioned = False  # yesterday
        self.contacts: list[Resident] = []
        self.next_risk = self.risk
        self.next_sanctioned = False
        self.counts: dict[str, int] = {}

    def count(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def tier_of(self, score: int) -> int:
        return sum(1 for f in self.model.floors if score < f)

    def step(self) -> None:
        m = self.model
        day = m.day
        # learn (for tomorrow)
        seen = sum(1 for c in self.contacts if c.sanctioned)
        evidence = float(self.sanctioned) + m.social_weight * seen / len(self.contacts)
        target = m.initial_risk + (1.0 - m.initial_risk) * min(evidence, 1.0)
        self.next_risk = float(np.float16(self.risk + m.learning_rate * (target - self.risk)))

        # behave
        pressure = self.risk / (1.0 + self.wealth / m.wealth_median) if m.adaptive else 0.0
        u = self.random.random()
        outcome, false = NONE, False
        cum = 0.0
        for b in m.order:
            beh = m.behaviours[b]
            p = beh["base_rate"] * (self.propensity if beh["propensity_driven"] else 1.0)
            if m.adaptive:
                p *= math.exp(-m.deterrence * pressure * m.severity[b])
                p *= 1.0 + m.virtue * pressure * m.gain[b]
            cum += min(p, 0.5)
            if u < cum:
                outcome = b
                break
        if outcome == NONE:
            cum = 0.0
            for b in m.order:
                cum += m.false_rate[b]
                if 1.0 - u < cum:
                    outcome, false = b, True
                    break

        # observe
        points = 0
        if outcome != NONE:
            if not false:
                self.count(f"acts.{m.names[outcome]}")
            v = self.random.random()
            detected = false or v < m.detect[outcome]
            if detected and m.points[outcome] != 0:
                points = m.points[outcome]
                self.count(f"records.{m.names[outcome]}")
                cums = m.false_cum[outcome] if false else m.chan_cum[outcome]
                channel = next(k for k, c in enumerate(cums) if v < c or k == len(cums) - 1)
                self.count(f"records_by.{m.channels[channel]}")
                if false:
                    self.count("false_records")

        # record, with expiry at the start of each bucket
        bucket = day // m.resolution
        if day % m.resolution == 0 and day > 0:
            old = (bucket - m.expiry_buckets) % m.buckets
            self.points -= self.ring[old]
            self.ring[bucket % m.buckets] = 0
        self.ring[bucket % m.buckets] += points
        self.points += points

        # score, tier, blacklist
        score = min(max(m.base_score + self.points, m.lo), m.hi)
        tier = self.tier_of(score)
        in_listed = tier in m.listed_tiers
        if self.listed_since >= 0:
            if day - self.listed_since >= m.term and not in_listed:
                self.listed_since = -1
        elif in_listed:
            self.listed_since = day
        listed = self.listed_since >= 0
        self.score, self.tier = score, tier

        # consequences
        idx = len(m.floors) + 1 if listed else tier
        w = self.random.random()
        refused = blocked = by_system = False
        if w < m.loan_demand:
            self.count("loans_applied")
            within = w / m.loan_demand
            refused = within >= m.approval[idx]
            by_system = refused and within < m.base_approval
            if refused:
                self.count("loans_refused")
        elif w < m.loan_demand + m.travel_demand:
            self.count("trips")
            blocked = m.travel_ban[idx]
            if blocked:
                self.count("trips_blocked")
        self.wealth += m.income_effect[idx] / 365.0 - (m.refusal_cost if refused else 0.0)
        self.wealth = max(self.wealth, 0.0)
        sanctioned = points < 0 or blocked or by_system
        if sanctioned:
            self.count("sanctioned")
        self.next_sanctioned = sanctioned

    def advance(self) -> None:
        self.risk = self.next_risk
        self.sanctioned = self.next_sanctioned


class RongchengModel(mesa.Model):
    """Rongcheng's personal credit points on a synthetic population."""

    def __init__(self, sc: dict, agents: int, seed: int) -> None:
        super().__init__(rng=seed)
        self.sc = sc
        self.day = 0
        (jur,) = sc["jurisdictions"]
        prog = sc["programmes"][jur["programme"]]
        self.behaviours = sc["behaviours"]
        self.names = [b["name"] for b in self.behaviours]
        self.order = sorted(range(len(self.names)), key=lambda b: self.behaviours[b]["base_rate"])
        chans = [c for c in sc["channels"] if c["name"] in prog["channels"]]
        self.channels = [c["name"] for c in sc["channels"]]
        self.points = [prog["points"].get(n, 0) for n in self.names]
        self.detect, self.chan_cum, self.false_rate, self.false_cum = [], [], [], []
        for n, pts in zip(self.names, self.points, strict=True):
            miss, fmiss, cum, fcum = 1.0, 1.0, [], []
            for c in sc["channels"]:
                if c in chans and n in c["coverage"]:
                    miss *= 1.0 - c["coverage"][n]
                    fmiss *= 1.0 - c["false_positive_rate"]
                cum.append(1.0 - miss)
                fcum.append(1.0 - fmiss)
            self.detect.append(1.0 - miss)
            self.chan_cum.append(cum)
            total_false = 1.0 - fmiss
            self.false_rate.append(total_false if pts != 0 else 0.0)
            self.false_cum.append([x / total_false if total_false > 0 else 1.0 for x in fcum])
        self.base_score = prog["base_score"]
        self.lo, self.hi = prog["bounds"]
        tiers = prog["tiers"]
        self.floors = [t["min"] for t in tiers[:-1]]  # floors of all but the bottom tier
        self.resolution = prog["expiry_resolution_days"]
        self.buckets = prog["record_expiry_days"] // self.resolution
        self.expiry_buckets = self.buckets
        names = [t["name"] for t in tiers]
        bl = prog["blacklist"]
        self.listed_tiers = {names.index(t) for t in bl["tiers"]} if bl else set()
        self.term = bl["term_days"] if bl else 1
        cons = prog["consequences"]
        keys = names + ["listed"]
        eco = sc["economy"]
        self.base_approval = eco["base_loan_approval"]
        self.approval = [
            cons[k]["loan_approval"]
            if k in cons and cons[k].get("loan_approval") is not None
            else self.base_approval
            for k in keys
        ]
        self.travel_ban = [cons[k]["travel_ban"] if k in cons else False for k in keys]
        self.income_effect = [cons[k]["income_effect"] if k in cons else 0.0 for k in keys]
        eco, resp = sc["economy"], sc["response"]
        self.loan_demand, self.travel_demand = eco["loan_demand"], eco["travel_demand"]
        self.refusal_cost = eco["loan_refusal_cost"]
        self.adaptive = resp["model"] == "adaptive"
        self.initial_risk, self.learning_rate = resp["initial_risk"], resp["learning_rate"]
        self.social_weight, self.deterrence = resp["social_weight"], resp["deterrence"]
        self.virtue, scale = resp["virtue"], resp["severity_scale"]
        self.severity = [-p / scale if p < 0 else 0.0 for p in self.points]
        self.gain = [p / scale if p > 0 else 0.0 for p in self.points]
        self.wealth_median = sc["population"]["wealth"]["median"]
        residents = [Resident(self, i) for i in range(agents)]
        c = sc["population"]["contacts"]
        offsets = contact_offsets(c["degree"], c["reach"], c["long_range"], agents)
        for r in residents:
            r.contacts = [residents[(r.index - o) % agents] for o in offsets]
        self.residents = residents

    def step(self) -> None:
        self.agents.do("step")
        self.agents.do("advance")
        self.day += 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario")
    ap.add_argument("--agents", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    with open(a.scenario, encoding="utf-8") as f:
        sc = json.load(f)
    t0 = time.perf_counter()
    model = RongchengModel(sc, a.agents, a.seed)
    t1 = time.perf_counter()
    for _ in range(a.days):
        model.step()
    t2 = time.perf_counter()
    rs = model.residents
    names = sorted({k for r in rs for k in r.counts})
    per_agent = {k: np.array([r.counts.get(k, 0) for r in rs], np.float64) for k in names}
    tiers = np.array([r.tier for r in rs])
    (jur,) = sc["jurisdictions"]
    tier_names = [t["name"] for t in sc["programmes"][jur["programme"]]["tiers"]]
    out = {
        "mesa": mesa.__version__,
        "agents": a.agents,
        "days": a.days,
        "setup_s": t1 - t0,
        "steps_s": t2 - t1,
        "agent_days_per_s": a.agents * a.days / (t2 - t1),
        "counts": {k: [float(v.sum()), float(v.var())] for k, v in per_agent.items()},
        "tiers": {t: int((tiers == i).sum()) for i, t in enumerate(tier_names)},
        "listed": int(sum(r.listed_since >= 0 for r in rs)),
        "means": {
            k: [float(np.mean(v)), float(np.std(v))]
            for k, v in {
                "score": np.array([r.score for r in rs], np.float64),
                "risk": np.array([r.risk for r in rs], np.float64),
                "wealth": np.array([r.wealth for r in rs], np.float64),
            }.items()
        },
    }
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
