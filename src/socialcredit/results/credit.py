"""Credit files: the event log of a sample of agents, decoded into readable rows.

Every run keeps, for a sample of agents, each day's packed event word and end-of-day score.
Small runs keep everyone (up to SAMPLE_MAX agents); larger runs keep every k-th agent with
k = ceil(N / SAMPLE_MAX), which stratifies the sample across jurisdictions and groups because
agents are laid out by (jurisdiction, group). The log is stored in the run folder's
``events.parquet`` (and the sampled agents in ``sample.parquet``), like every other table, and
printed by ``socialcredit explain``; folders written before that keep it in ``credit.duckdb``
(tables ``events`` and ``sample``), which is still read, as data only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from socialcredit.compile import Spec
from socialcredit.engine.state import event_field
from socialcredit.scenario.model import Scenario

SAMPLE_MAX = 20_000
# The event log's columns, in order (events.parquet; credit.duckdb, table events, before).
EVENT_LOG_COLUMNS = [
    "day", "agent", "kind", "behaviour", "channel", "points", "true", "expires_day", "score"
]  # fmt: skip
# each column's type, in a fresh run's log and in one read back from a folder
EVENT_LOG_DTYPES = {
    "day": "int32",
    "agent": "int64",
    "kind": str,
    "behaviour": str,
    "channel": str,
    "points": "int32",
    "true": "boolean",
    "expires_day": "Int32",
    "score": "int32",
}

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
    "school_refused",
    "sanctioned_false",
    "match_lost",
    "appeal_upheld",
    "informant_reward",
)

# event kind -> the words a reader sees (`socialcredit explain` prints the same words)
KIND_TEXT = {
    "record": "record",
    "false_record": "FALSE record",
    "listed": "blacklisted",
    "delisted": "off blacklist",
    "tier_up": "tier up",
    "tier_down": "tier down",
    "loan_refused": "loan refused",
    "trip_blocked": "trip blocked",
    "school_refused": "child refused school",
    "sanctioned_false": "wrong sanction",
    "match_lost": "match lost",
    "appeal_upheld": "appeal upheld",
    "informant_reward": "paid for a report",
    "shamed": "shamed",
    "sighted": "seen on the map",
    "tipped_off": "tipped off",
    "paid": "paid the debt",
}


def credit_sample(agents: int, max_sample: int = SAMPLE_MAX) -> np.ndarray:
    """Indices of the agents whose credit files are kept (documented in the module docstring)."""
    step = max(1, -(-agents // max_sample))
    return np.arange(0, agents, step, dtype=np.int32)


# event-word bit -> kind of credit-file row (besides records), in the order a day lists them
FLAG_KINDS = (
    ("newly_listed", "listed"),
    ("delisted", "delisted"),
    ("tier_up", "tier_up"),
    ("tier_down", "tier_down"),
    ("loan_refused", "loan_refused"),
    ("travel_blocked", "trip_blocked"),
    ("school_refused", "school_refused"),
    ("sanctioned_false", "sanctioned_false"),
    ("match_lost", "match_lost"),
    ("appeal_upheld", "appeal_upheld"),
    ("rewarded", "informant_reward"),
)


def decode_events(
    spec: Spec,
    scenario: Scenario,
    sample: np.ndarray,
    events: np.ndarray,
    scores: np.ndarray,
    layer_listed: np.ndarray | None = None,
) -> pd.DataFrame:
    """[days, S] event words and scores -> one row per event (day is 1-based, as in metrics).
    ``layer_listed`` [days, L, S]: the sampled agents on layered lists, whose loan refusals
    are the system's doing where no programme of their own runs."""
    B = len(spec.behaviours)
    progs = [
        scenario.programmes.get(j.programme) if j.programme else None
        for j in scenario.jurisdictions
    ]
    active = np.array([p is not None for p in progs])
    points = np.array([[p.points.get(b, 0) if p else 0 for b in spec.behaviours] for p in progs])
    expiry = np.array([p.record_expiry_days if p else 0 for p in progs])
    cell_jur = np.repeat(spec.cell_of()[0], spec.cell_sizes())

    parts = []
    for field, kind in (("recorded", None),) + FLAG_KINDS:
        hit = event_field(events, field) == 1
        d, col = np.nonzero(hit)
        agent = sample[col]
        jur = cell_jur[agent]
        if kind == "loan_refused":  # refusals where no programme runs are not the system's doing
            keep = active[jur]
            if layer_listed is not None:  # ... unless a layered list's listing bites
                keep = keep | layer_listed[d, :, col].any(axis=1)
            d, col, agent, jur = d[keep], col[keep], agent[keep], jur[keep]
        part = pd.DataFrame({"day": d + 1, "agent": agent, "score": scores[d, col]})
        if kind is None:  # records: what, through which channel, how many points, until when
            outcome = event_field(events[d, col], "outcome").astype(np.int64)
            false = outcome >= B
            b = np.where(false, outcome - B, outcome)
            channel = event_field(events[d, col], "channel1").astype(np.int64) - 1
            names = np.array(spec.channels + ("",), dtype=object)
            res = spec.resolution
            part["kind"] = np.where(false, "false_record", "record")
            part["behaviour"] = np.array(spec.behaviours, dtype=object)[b]
            part["channel"] = names[np.where(channel >= 0, channel, len(spec.channels))]
            part["points"] = points[jur, b]
            part["true"] = ~false
            # first 1-based day the record no longer counts (bucket rule of engine/stages/record.py)
            part["expires_day"] = pd.array(
                np.where(active[jur], (d // res + expiry[jur] // res) * res + 1, 0), dtype="Int32"
            )
            part.loc[~active[jur], "expires_day"] = pd.NA
        else:
            part["kind"] = kind
            part["behaviour"] = ""
            part["channel"] = ""
            part["points"] = 0
            part["true"] = pd.NA
            part["expires_day"] = pd.NA
        parts.append(part)
    df = pd.concat(parts, ignore_index=True)
    order = {k: i for i, k in enumerate(KINDS)}
    df["_k"] = df["kind"].map(order)
    df = (
        df.sort_values(["agent", "day", "_k"], kind="stable")
        .drop(columns="_k")
        .reset_index(drop=True)
    )
    return df[EVENT_LOG_COLUMNS].astype(EVENT_LOG_DTYPES)


def read_credit_parquet(events: pd.DataFrame) -> pd.DataFrame:
    """The event log as read from ``events.parquet`` (run_id dropped) or an old folder's
    ``credit.duckdb``: its columns in order, each of the type a fresh run's log has. Raises
    ValueError naming missing columns."""
    missing = [c for c in EVENT_LOG_COLUMNS if c not in events.columns]
    if missing:
        raise ValueError(f"has no column {', '.join(missing)} of a credit-file log")
    return events[EVENT_LOG_COLUMNS].astype(EVENT_LOG_DTYPES)


def write_credit_db(path: Path, events: pd.DataFrame, sample: np.ndarray) -> None:
    """Write the event log and the sample into a DuckDB file (the layout of run folders
    written before the log moved to Parquet; kept for tests of old folders)."""
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
    """The event log and the sample from a run's ``credit.duckdb``, read as data only
    (socialcredit/integrity.py): a read-only connection that can reach no other file, and only
    the base tables ``events`` and ``sample`` with their named columns, never a view or a macro.
    Raises ValueError with the reason when the file is not such a database."""
    import duckdb

    from socialcredit.integrity import open_data_only, read_table

    try:
        with open_data_only(path) as con:
            events = read_table(con, "events", EVENT_LOG_COLUMNS, order="agent,day")
            sample = read_table(con, "sample", ["agent"], order="agent")["agent"].to_numpy()
    except duckdb.Error as e:
        raise ValueError(f"is not a DuckDB file this version can read ({_first_line(e)})") from None
    return events, sample


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


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


# `socialcredit explain RUN --find WHAT`: the event kinds each WHAT counts (credit-file events
# and, for listings, the layered lists' events of causes.parquet)
FINDS = {
    "listed": ("listed",),
    "wrongly-sanctioned": ("sanctioned_false",),
    "school-refused": ("school_refused",),
    "most-records": ("record", "false_record"),
}


def find_agents(result, what: str, top: int = 20) -> pd.DataFrame:
    """The sampled agents with the most events of kind ``what`` (FINDS): agent, events, first
    and last day, and for listings the programmes that listed them."""
    if result.events is None:
        raise KeyError(f"run {result.path} has no credit-file log (it predates credit files)")
    kinds = FINDS[what]
    ev = result.events.loc[result.events["kind"].isin(kinds), ["agent", "day"]].assign(
        programmes=""
    )
    if what == "listed":
        own = {j.name: j.programme or "" for j in result.scenario.jurisdictions}
        if result.agents is not None and not ev.empty:
            ev["programmes"] = result.agents["jurisdiction"].iloc[ev["agent"]].map(own).to_numpy()
    causes = getattr(result, "causes", None)
    if causes is not None and what in ("listed", "most-records"):
        more = causes.loc[causes["kind"].isin(kinds), ["agent", "day", "programme"]]
        ev = pd.concat([ev, more.rename(columns={"programme": "programmes"})], ignore_index=True)
    if ev.empty:
        return pd.DataFrame(columns=["agent", "events", "first_day", "last_day", "programmes"])
    g = ev.groupby("agent")
    out = pd.DataFrame(
        {
            "events": g.size(),
            "first_day": g["day"].min(),
            "last_day": g["day"].max(),
            "programmes": g["programmes"].agg(lambda x: ",".join(sorted({p for p in x if p}))),
        }
    ).reset_index()
    out = out.sort_values(["events", "agent"], ascending=[False, True], kind="stable")
    if what != "listed":
        out = out.drop(columns="programmes")
    return out.head(top).reset_index(drop=True)
