"""Credit files: the event log of a sample of agents, decoded into readable rows.

Every run keeps, for a sample of agents, each day's packed event word and end-of-day score.
Small runs keep everyone (up to SAMPLE_MAX agents); larger runs keep every k-th agent with
k = ceil(N / SAMPLE_MAX), which stratifies the sample across jurisdictions and groups because
agents are laid out by (jurisdiction, group). The log is stored in the run folder's
``credit.duckdb`` (tables ``events`` and ``sample``) and printed by ``socialcredit explain``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from socialcredit.compile import Spec
from socialcredit.engine.state import event_field
from socialcredit.scenario.model import Scenario

SAMPLE_MAX = 20_000

# event kinds, in the order a day's events are listed
KINDS = (
    "record",
    "false_record",
    "listed",
    "delisted",
    "tier_up",
    "tier_down",
    "loan_refused",
    "trip_blocked",
    "sanctioned_false",
    "match_lost",
    "appeal_upheld",
    "informant_reward",
)


def credit_sample(agents: int, max_sample: int = SAMPLE_MAX) -> np.ndarray:
    """Indices of the agents whose credit files are kept (documented in the module docstring)."""
    step = max(1, -(-agents // max_sample))
    return np.arange(0, agents, step, dtype=np.int32)


def decode_events(
    spec: Spec, scenario: Scenario, sample: np.ndarray, events: np.ndarray, scores: np.ndarray
) -> pd.DataFrame:
    """[days, S] event words and scores -> one row per event (day is 1-based, as in metrics)."""
    B = len(spec.behaviours)
    flags = (
        "newly_listed",
        "delisted",
        "tier_up",
        "tier_down",
        "loan_refused",
        "travel_blocked",
        "match_lost",
        "appeal_upheld",
        "rewarded",
    )
    interesting = event_field(events, "recorded") == 1
    for name in flags:
        interesting |= event_field(events, name) == 1
    days_idx, col = np.nonzero(interesting)
    ev = events[days_idx, col]
    agent = sample[col]
    score = scores[days_idx, col]
    cj = np.repeat(*spec.cell_of()[:1], spec.cell_sizes())
    jur = cj[agent]
    progs = [
        scenario.programmes.get(j.programme) if j.programme else None
        for j in scenario.jurisdictions
    ]
    rows = []
    outcome = event_field(ev, "outcome")
    recorded = event_field(ev, "recorded") == 1
    channel = event_field(ev, "channel1").astype(int) - 1
    for name, kind in (
        ("newly_listed", "listed"),
        ("delisted", "delisted"),
        ("tier_up", "tier_up"),
        ("tier_down", "tier_down"),
        ("loan_refused", "loan_refused"),
        ("travel_blocked", "trip_blocked"),
        ("sanctioned_false", "sanctioned_false"),
        ("match_lost", "match_lost"),
        ("appeal_upheld", "appeal_upheld"),
        ("rewarded", "informant_reward"),
    ):
        hit = event_field(ev, name) == 1
        if kind == "loan_refused":  # only refusals where a programme runs are the system's doing
            hit &= np.array([progs[j] is not None for j in jur], bool) if len(jur) else hit
        for i in np.nonzero(hit)[0]:
            rows.append((days_idx[i] + 1, agent[i], kind, "", "", 0, None, None, score[i]))
    for i in np.nonzero(recorded)[0]:
        o = int(outcome[i])
        is_false = o >= B
        b = o - B if is_false else o
        p = progs[jur[i]]
        pts = p.points.get(spec.behaviours[b], 0) if p else 0
        d0 = int(days_idx[i])
        expires = None
        if p is not None:
            res = spec.resolution
            expires = (
                d0 // res + p.record_expiry_days // res
            ) * res + 1  # first 1-based day without it
        chan = spec.channels[channel[i]] if 0 <= channel[i] < len(spec.channels) else ""
        rows.append(
            (
                d0 + 1,
                agent[i],
                "false_record" if is_false else "record",
                spec.behaviours[b],
                chan,
                pts,
                not is_false,
                expires,
                score[i],
            )
        )
    df = pd.DataFrame(
        rows,
        columns=[
            "day",
            "agent",
            "kind",
            "behaviour",
            "channel",
            "points",
            "true",
            "expires_day",
            "score",
        ],
    )
    order = {k: i for i, k in enumerate(KINDS)}
    df["_k"] = df["kind"].map(order)
    df = (
        df.sort_values(["agent", "day", "_k"], kind="stable")
        .drop(columns="_k")
        .reset_index(drop=True)
    )
    df["day"] = df["day"].astype("int32")
    df["agent"] = df["agent"].astype("int64")
    df["points"] = df["points"].astype("int32")
    df["score"] = df["score"].astype("int32")
    df["expires_day"] = df["expires_day"].astype("Int32")
    df["true"] = df["true"].astype("boolean")
    return df


def write_credit_db(path: Path, events: pd.DataFrame, sample: np.ndarray) -> None:
    """Write the event log and the sample into a DuckDB file."""
    import duckdb

    con = duckdb.connect(str(path))
    try:
        con.register("sample_df", pd.DataFrame({"agent": sample.astype(np.int64)}))
        con.register("events_df", events)
        con.execute("CREATE TABLE sample AS SELECT * FROM sample_df")
        con.execute("CREATE TABLE events AS SELECT * FROM events_df")
    finally:
        con.close()


def read_credit_db(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        events = con.execute("SELECT * FROM events ORDER BY agent, day").df()
        sample = con.execute("SELECT agent FROM sample ORDER BY agent").df()["agent"].to_numpy()
    finally:
        con.close()
    return events, sample


def credit_file(result, agent: int) -> tuple[dict, pd.DataFrame]:
    """One agent's credit file: facts about the agent, and its events in order.

    Raises KeyError with a message saying which agents have files when ``agent`` has none.
    """
    if result.events is None or result.sample is None:
        raise KeyError(f"run {result.path} has no credit-file log (it predates credit files)")
    sample = np.asarray(result.sample)
    n = int(result.info.get("agents", 0) or 0)
    if n and not 0 <= agent < n:
        raise KeyError(f"no agent {agent}: this run has agents 0 to {n - 1}")
    if agent not in set(sample.tolist()):
        step = int(sample[1] - sample[0]) if len(sample) > 1 else 1
        near = sample[np.argsort(np.abs(sample - agent))[:3]]
        raise KeyError(
            f"agent {agent} is not in this run's credit-file sample: files are kept for every "
            f"{step}{'st' if step == 1 else 'th'} agent (0, {step}, {2 * step}, ...) of "
            f"{result.info.get('agents', '?')}; nearest: {', '.join(str(int(a)) for a in sorted(near))}"
        )
    facts: dict = {"agent": agent}
    if result.agents is not None:
        row = result.agents.iloc[agent]
        facts.update(
            jurisdiction=str(row["jurisdiction"]),
            group=str(row["group"]),
            score=int(row["score"]),
            tier=str(row["tier"]),
            listed=bool(row["listed"]),
            wealth=float(row["wealth"]),
        )
    ev = result.events[result.events["agent"] == agent].reset_index(drop=True)
    return facts, ev
