"""Causes in credit files (issue 14): the ground of each sanction, and the layered lists' events.

For each sampled agent and each sanction of its credit file (a loan refused, a trip blocked, a
child refused a school, a match lost), one row per programme that imposed it that day: the
place's own programme (its tier, or its listing), each layered list the agent was on, or a
memorandum that carried another listing; with the record behind it (the last record on or
before the day the listing began, or the last negative record before the day for a tier). A
child's school refusal comes from the household's standing of the day before: the agent's
own, else its partner's (named by agent index, and grounded where the partner is sampled).
The layered lists' own events (records, listings, departures, payments) are rows too, with
the list as their programme, as are public shaming, the map's sightings and tip-offs, payments
of the court list, and informant rewards (points, and whom the report was about). Stored as
``causes.parquet`` in the run folder.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from socialcredit.compile import Spec
from socialcredit.engine.stages.layers import FACT_BITS, FALSE, LEFT, NEW, PAID, REC
from socialcredit.engine.state import E2_PAID, E2_SIGHTED, E2_TIPPED, event_field
from socialcredit.scenario.model import Consequence, Scenario, tier_floors

CAUSE_COLUMNS = [
    "day", "agent", "kind", "programme", "ground", "record_day", "behaviour", "channel",
    "true", "about", "points",
]  # fmt: skip
# the extra event byte's facts that are events of the file (engine/state.py E2_*)
E2_KINDS = ((E2_SIGHTED, "sighted"), (E2_TIPPED, "tipped_off"), (E2_PAID, "paid"))
SANCTIONS = ("loan_refused", "trip_blocked", "school_refused", "match_lost")
LIST_KINDS = ((REC, "record"), (NEW, "listed"), (LEFT, "delisted"), (PAID, "paid"))


def _imposes(c: Consequence | None, kind: str, base: float) -> bool:
    if c is None:
        return False
    if kind == "trip_blocked":
        return c.travel_ban
    if kind == "loan_refused":
        return c.loan_approval is not None and c.loan_approval < base
    if kind == "school_refused":
        return c.school_block
    if kind == "shamed":
        return c.public_shaming
    return c.matching_penalty > 0 or c.public_shaming


class _Agent:
    """One sampled agent's standing, day by day (0-based days), from the sampled arrays."""

    def __init__(self, ctx: dict, col: int, agent: int):
        self.ctx, self.col, self.agent = ctx, col, agent
        ev = ctx["events"][:, col]
        new = event_field(ev, "newly_listed") == 1
        left = event_field(ev, "delisted") == 1
        # on the list from a day it was newly listed until a day it left (newly listed wins)
        last = np.maximum.accumulate(np.where(new | left, np.arange(len(ev)), -1))
        listed = (last >= 0) & new[np.maximum(last, 0)]
        self.listed, self.start = listed, np.where(listed, last, -1)
        own = ctx["own_records"]  # every agent's records, ordered by agent then day
        lo, hi = np.searchsorted(own["agent"], [agent, agent + 1])
        days = own["day"][lo:hi]
        # plain arrays, for a lookup per sanction without pandas (a shamed agent has one a day)
        self._days = days.astype(np.int64) - 1
        self._neg = np.flatnonzero(own["points"][lo:hi] < 0)
        self._rows = list(
            zip(
                days.astype(int).tolist(),
                own["behaviour"][lo:hi].tolist(),
                own["channel"][lo:hi].tolist(),
                own["true"][lo:hi].tolist(),
                strict=True,
            )
        )
        self._last: dict[tuple[int, bool], dict] = {}

    def last_record(self, until: int, negative: bool = True) -> dict:
        """The agent's last (negative) record on or before 0-based day ``until``; looked up
        once per day and sign (a listed agent's sanctions all ask for the same day)."""
        key = (until, negative)
        if key not in self._last:
            self._last[key] = self._find_last(until, negative)
        return dict(self._last[key])

    def _find_last(self, until: int, negative: bool) -> dict:
        index = self._neg if negative else np.arange(len(self._days))
        n = int(np.searchsorted(self._days[index], until, side="right"))
        if n == 0:
            return {}
        day, behaviour, channel, true = self._rows[int(index[n - 1])]
        return {"record_day": day, "behaviour": behaviour, "channel": channel, "true": true}


def _own_causes(ctx: dict, a: _Agent, d: int, kind: str) -> list[dict]:
    sc = ctx["scenario"]
    j = ctx["cell_jur"][a.agent]
    p = ctx["progs"][j]
    if p is None or not ctx["active"](j, d):
        return []
    base = sc.economy.base_loan_approval
    out = []
    memo = _memo_listing(ctx, a, d, sc.jurisdictions[j].programme)
    if memo is not None and not a.listed[d]:  # another list's entry imposes `listed` here
        name, k = memo
        if _imposes(p.consequences.get("listed"), kind, base):
            rec = _list_record(ctx, a, d, k)
            ground = f"memorandum: listed on {name}"
            out.append({"programme": sc.jurisdictions[j].programme, "ground": ground, **rec})
        return out
    if a.listed[d]:
        c = p.consequences.get("listed")
        if _imposes(c, kind, base):
            rec = a.last_record(a.start[d])
            ground = f"listed since day {a.start[d] + 1}"
            out.append({"programme": sc.jurisdictions[j].programme, "ground": ground, **rec})
        return out
    score = int(ctx["scores"][d, a.col])
    floors = tier_floors(p)[:-1]
    t = sum(score < f for f in floors)
    name = p.tiers[t].name
    if _imposes(p.consequences.get(name), kind, base):
        rec = a.last_record(d)
        out.append({"programme": sc.jurisdictions[j].programme, "ground": f"tier {name}", **rec})
    return out


def _memo_listing(ctx: dict, a: _Agent, d: int, programme: str) -> tuple[str, int] | None:
    """(list, index) of a list the agent is on whose memorandum sanctions ``programme``."""
    sc = ctx["scenario"]
    names = list(sc.lists or {})
    if not names or ctx["layer_listed"] is None:
        return None
    for m in sc.memoranda:
        if programme in m.sanctions_of and m.listing in names:
            k = names.index(m.listing)
            if ctx["layer_listed"][d, k, a.col]:
                return m.listing, k
    return None


def _list_causes(ctx: dict, a: _Agent, d: int, kind: str) -> list[dict]:
    sc = ctx["scenario"]
    lists = sc.lists or {}
    if not lists or ctx["layer_listed"] is None:
        return []
    names = list(lists)
    j = ctx["cell_jur"][a.agent]
    place = sc.jurisdictions[j]
    on = ctx["layer_listed"][d, :, a.col]
    base = sc.economy.base_loan_approval
    out = []
    for k, name in enumerate(names):
        x = lists[name]
        covers = x.where is None or place.name in x.where
        if not covers:
            continue
        why = []
        if on[k]:
            why.append((name, f"listed on {name}"))
        for m in sc.memoranda:
            if name in m.sanctions_of:
                if m.listing in lists and on[names.index(m.listing)]:
                    why.append((m.listing, f"memorandum: listed on {m.listing}"))
                elif m.listing == place.programme and a.listed[d]:
                    why.append((m.listing, f"memorandum: listed by {m.listing}"))
        if why and _imposes(x.consequences, kind, base):
            src, ground = why[0]
            rec = _list_record(ctx, a, d, names.index(src)) if src in lists else {}
            out.append({"programme": name, "ground": ground, **rec})
    return out


def _list_record(ctx: dict, a: _Agent, d: int, k: int) -> dict:
    """The list's record behind its listing on day d: its last record before that day."""
    facts = ctx["layer_facts"][: d + 1, a.col] >> (FACT_BITS * k)
    days = np.nonzero(facts & REC)[0]
    days = days[days < d] if len(days) and days[-1] == d else days
    if not len(days):
        return {}
    r = int(days[-1])
    false = bool(facts[r] & FALSE)
    spec = ctx["spec"]
    B = len(spec.behaviours)
    outcome = int(event_field(ctx["events"][r, a.col], "outcome"))
    x = list((ctx["scenario"].lists or {}).values())[k]
    b = x.grounds[0] if false or outcome >= B else spec.behaviours[outcome]
    return {"record_day": r + 1, "behaviour": b, "channel": ",".join(x.channels), "true": not false}


def _records_by_agent(records: pd.DataFrame) -> dict[str, np.ndarray]:
    """The event log's records as arrays ordered by agent, then day (ties in log order): an
    agent's records are one slice, found by binary search (a group-by into one frame per
    agent took seconds for a sample of 20,000)."""
    agent = records["agent"].to_numpy(np.int64)
    day = records["day"].to_numpy(np.int64)
    order = np.lexsort((day, agent))  # stable: ties keep the log's order
    return {
        "agent": agent[order],
        "day": day[order],
        "points": records["points"].to_numpy(np.int64)[order],
        "behaviour": records["behaviour"].to_numpy(object)[order],
        "channel": records["channel"].to_numpy(object)[order],
        "true": records["true"].astype(bool).to_numpy(bool)[order],
    }


def credit_causes(
    spec: Spec,
    scenario: Scenario,
    sample: np.ndarray,
    words: np.ndarray,
    scores: np.ndarray,
    events: pd.DataFrame,
    layer_facts: np.ndarray | None = None,
    layer_listed: np.ndarray | None = None,
    events2: np.ndarray | None = None,
    agents: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Rows of ``CAUSE_COLUMNS`` for the sampled agents (days 1-based, as in the event log)."""
    progs = [
        scenario.programmes.get(j.programme) if j.programme else None
        for j in scenario.jurisdictions
    ]
    spans = [
        scenario.timeline.span(j.programme, scenario.days)
        if scenario.timeline and j.programme
        else (0, 2**31)
        for j in scenario.jurisdictions
    ]
    col_of = {int(a): i for i, a in enumerate(sample)}
    records = events[events["kind"].isin(["record", "false_record"])]
    ctx = {
        "scenario": scenario,
        "spec": spec,
        "progs": progs,
        "active": lambda j, d: spans[j][0] <= d < spans[j][1],
        "cell_jur": np.repeat(spec.cell_of()[0], spec.cell_sizes()),
        "events": words,
        "scores": scores,
        "layer_facts": layer_facts,
        "layer_listed": layer_listed,
        "own_records": _records_by_agent(records),
    }
    rows: list[dict] = []
    sanctions = events[events["kind"].isin(SANCTIONS)]
    cache: dict[int, _Agent] = {}

    def agent(a: int) -> _Agent:
        if a not in cache:
            cache[a] = _Agent(ctx, col_of[a], a)
        return cache[a]

    # shaming is in the event word (not in the event log): a sanction row of its own
    d_sh, c_sh = np.nonzero(event_field(words, "shamed") == 1)
    shamed = pd.DataFrame(
        {"day": d_sh + 1, "agent": sample[c_sh].astype(np.int64), "kind": "shamed"}
    )
    sanctions = pd.concat([sanctions[["day", "agent", "kind"]], shamed], ignore_index=True)
    for r in sanctions.itertuples(index=False):
        a, d, kind = agent(int(r.agent)), int(r.day) - 1, r.kind
        base = {"day": int(r.day), "agent": a.agent, "kind": kind}
        if kind == "school_refused":  # the household's standing of the day before
            own = d > 0 and event_field(words[d - 1, a.col], "school_block") == 1
            who = a if own else None
            about = a.agent if own else a.agent + 1
            if not own and about in col_of:
                who = agent(about)
            found = []
            if who is not None and d > 0:
                found = _own_causes(ctx, who, d - 1, kind) + _list_causes(ctx, who, d - 1, kind)
            for c in found or [{"programme": "", "ground": "partner's standing"}]:
                g = c.get("ground", "")
                c["ground"] = g if own else f"partner (agent {about}): {g}"
                rows.append({**base, **c, "about": about})
            continue
        for c in _own_causes(ctx, a, d, kind) + _list_causes(ctx, a, d, kind):
            rows.append({**base, **c, "about": a.agent})
    if layer_facts is not None:
        names = list(scenario.lists or {})
        for k, name in enumerate(names):
            f = (layer_facts >> (FACT_BITS * k)) & 31
            for bit, kind in LIST_KINDS:
                d, col = np.nonzero(f & bit)
                for dd, cc in zip(d, col, strict=True):
                    row = {"day": int(dd) + 1, "agent": int(sample[cc]), "programme": name}
                    if kind == "record":
                        false = bool(f[dd, cc] & FALSE)
                        rec = _list_record(ctx, agent(int(sample[cc])), int(dd) + 1, k)
                        row.update(rec, kind="false_record" if false else "record")
                    else:
                        row.update(kind=kind, ground=f"{kind} on {name}")
                    rows.append({**row, "about": row["agent"]})
    if events2 is not None:  # the map's sightings and tip-offs, payments of the court list
        for bit, kind in E2_KINDS:
            d, col = np.nonzero(events2 & bit)
            for dd, cc in zip(d, col, strict=True):
                a = int(sample[cc])
                rows.append(
                    {
                        "day": int(dd) + 1,
                        "agent": a,
                        "kind": kind,
                        "programme": scenario.jurisdictions[ctx["cell_jur"][a]].programme or "",
                        "about": a,
                    }
                )
    rows += _informant_rows(scenario, spec, sample, events, agents)
    df = pd.DataFrame(rows, columns=CAUSE_COLUMNS)
    df = df.sort_values(["agent", "day"], kind="stable").reset_index(drop=True)
    for col in ("programme", "ground", "behaviour", "channel", "kind"):
        df[col] = df[col].astype(object).where(df[col].notna(), "").astype(str)
    return df.astype(
        {
            "day": "int32",
            "agent": "int64",
            "record_day": "Int32",
            "true": "boolean",
            "about": "Int64",
            "points": "Int32",
        }
    )


def _informant_rows(scenario, spec, sample, events, agents) -> list[dict]:
    """An informant's reward as an event of their file: paid two days after the report, to
    the first informant among the reported agent's contacts (stages/informants.py), with the
    points (reward, confirmed if the act was real, targeted) and whom the report was about.
    Needs the snapshot's informant flags; only informants in the sample get rows."""
    inf = scenario.informants
    if inf is None or agents is None or "informant" not in agents.columns:
        return []
    informant = agents["informant"].to_numpy()
    groups = agents["group"].to_numpy()
    n = spec.agents
    sampled = {int(a) for a in sample}
    reports = events[events["channel"] == "informants"]
    extra: dict[tuple[str, str], int] = {}
    for t in inf.targeted_rewards:
        extra[t.behaviour, t.group] = extra.get((t.behaviour, t.group), 0) + t.points
    rows = []
    for r in reports.itertuples(index=False):
        j = int(r.agent)
        who = next(((j + o) % n for o in spec.contact_offsets if informant[(j + o) % n]), None)
        if who is None or who not in sampled or r.day + 2 > scenario.days:
            continue
        pts = inf.reward_points + (inf.confirmed_points if r.true else 0)
        pts += extra.get((r.behaviour, str(groups[j])), 0)
        rows.append(
            {
                "day": int(r.day) + 2,
                "agent": who,
                "kind": "informant_reward",
                "ground": f"report on agent {j}",
                "record_day": int(r.day),
                "behaviour": r.behaviour,
                "channel": "informants",
                "true": bool(r.true),
                "about": j,
                "points": pts,
            }
        )
    return rows
