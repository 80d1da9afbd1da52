"""The data behind every chart of a run report, computed once.

``figure_data`` turns a Result into small tidy tables, one per chart, so that the PNGs, the
HTML page and the tests all read the same numbers. A chart whose inputs a run lacks is left
out of the dict: ``map`` needs ``x`` and ``y`` columns (metres) in the agent snapshot,
``credit_files`` needs a credit-file event log (see ``load_events``).

Every chart is drawn from these frames by one definition in the chart module
(``socialcredit.charts``, HoloViews): ``report.html.write_pngs`` renders it with matplotlib,
the HTML page with bokeh. This module draws nothing, so the charts may read it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from socialcredit.units import DAYS_PER_YEAR

if TYPE_CHECKING:  # pragma: no cover
    from socialcredit.result import Result
    from socialcredit.scenario.model import Scenario

FIGURES_DIR = "figures"  # the PNGs' folder beside a report
CELL_M = 250.0  # side of a map cell, in metres
CELL_KM2 = (CELL_M / 1000.0) ** 2
SCORE_BINS = 50  # aim for about this many bins in the score distribution
MAX_TIER_PLOTS = 12  # tier charts draw at most this many jurisdictions (the largest)
MAX_MAPS = 4  # the map draws at most this many jurisdictions (the largest)
NICE_WIDTHS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000)

# Chart key -> (element id suffix, title). The order is the order of the report.
CHARTS: dict[str, tuple[str, str]] = {
    "tiers_over_time": ("tiers-over-time", "Tier shares over time"),
    "tier_transitions": ("tier-transitions", "Tier transitions"),
    "score_distribution": ("score-distribution", "Score distribution by group"),
    "behaviour_rates": ("behaviour-rates", "Behaviour rates"),
    "trust_chilling": ("trust-chilling", "Trust and chilling over time"),
    "disparity": ("disparity", "Disparity between groups"),
    "lorenz": ("lorenz", "Lorenz curve of wealth"),
    "map": ("map", "Where low scores concentrate"),
    "credit_files": ("credit-files", "Example credit files"),
}
WITH, WITHOUT = "with the system", "without the system"  # the arms, as charts name them
TRANSITION_DAYS = 30  # the tier transition matrix: tier now -> tier this many days later
LORENZ_POINTS = 101  # points of a drawn Lorenz curve (it is exact at each of them)
CHILLING = ("speech", "religion")  # behaviour categories whose fall is a chilling effect

DISPARITY_METRICS: dict[str, str] = {
    "sanctions_per_agent_year": "sanctions per agent-year",
    "listed_share": "listed share",
    "bottom_tier_share": "bottom-tier share",
    "mean_score": "mean score",
}

# Credit-file event logs (socialcredit.results.credit): canonical column -> accepted spellings.
EVENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "agent": ("agent", "agent_id"),
    "day": ("day", "filed_day"),
    "behaviour": ("behaviour", "behavior"),
    "channel": ("channel",),
    "points": ("points", "delta"),
    "false": ("false", "is_false", "false_positive"),
}
RECORD_KINDS = ("record", "false_record")  # event kinds that are records in the file
EVENT_FILES = ("events.parquet", "credit.duckdb")
EVENT_TABLES = ("events", "records", "credit_records", "credit_files", "credit_file")
EXAMPLES = ("listed", "most records", "false records")


def chart_id(key: str) -> str:
    """The HTML element id of a chart: ``chart-tiers-over-time`` for ``tiers_over_time``."""
    return "chart-" + CHARTS[key][0]


def tier_names(scenario: Scenario) -> dict[str, list[str]]:
    """Jurisdiction -> its programme's tier names, top first (jurisdictions with a programme)."""
    out: dict[str, list[str]] = {}
    for j in scenario.jurisdictions:
        if j.programme is not None and j.programme in scenario.programmes:
            out[j.name] = [t.name for t in scenario.programmes[j.programme].tiers]
    return out


def tier_colours(names: list[str]) -> dict[str, str]:
    """Green for the top tier through yellow to red for the bottom one (hex colours)."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    cmap = colormaps["RdYlGn"]
    n = len(names)
    stops = [0.5] if n == 1 else np.linspace(0.92, 0.05, n)
    return {name: to_hex(cmap(float(s))) for name, s in zip(names, stops, strict=True)}


# ----------------------------------------------------------------------------- figure data


def figure_data(result: Result, counterfactual: Result | None = None) -> dict[str, pd.DataFrame]:
    """The data behind every chart of a report, one tidy DataFrame per chart.

    Keys (only those the run has data for):

    - ``tiers_over_time``: day, jurisdiction, tier, count, share (of the jurisdiction's agents;
      the tiers of a jurisdiction sum to 1 each day). Jurisdictions with a programme.
    - ``score_distribution``: group, score_min, score_max (inclusive bin edges), count, share
      (of the group's agents in jurisdictions with a programme; sums to 1 per group). From the
      agent snapshot.
    - ``behaviour_rates``: behaviour, category, system (acts per agent-year), and with a
      counterfactual also counterfactual (acts per agent-year) and difference (system minus
      counterfactual).
    - ``disparity``: group, agents, metric, value, ratio (value / the largest group's value; 1
      where both are 0, NaN where only the largest group's is 0). Metrics: sanctions per
      agent-year (agent-days on which a sanction bit), listed share, bottom-tier share and mean
      score on the last day (jurisdictions with a programme).
    - ``map``: jurisdiction, x_min, y_min (metres on the jurisdiction's plane, the cell's
      lower-left corner), agents, low (agents in their programme's two lowest tiers or
      listed), density (low per km^2), radius_m (the scenario's deadbeat-map radius, NaN
      without a map), for every occupied 250 m cell of every jurisdiction with a programme;
      only when the snapshot has x and y columns and somebody is low.
    - ``credit_files``: example, agent, day, kind, behaviour, channel, points, false, score
      (those the log has, then its other columns), final_score, final_tier: every event in the
      credit files of up to three example agents (one listed, the one with most records, the
      one with most false records); only when the run has an event log (``load_events``).

    - ``tier_transitions``: jurisdiction, from_tier, to_tier, count, share (of the row: the
      agent-days that started in ``from_tier``), days (the horizon, ``TRANSITION_DAYS`` or
      the run's length if shorter), agents (the credit-file sample): how often an agent in a
      tier on one day is in each tier ``days`` later, pooled over every start day. The engine
      records tier moves only as daily counts, so each sampled agent's daily tier is rebuilt
      from its credit file (``tier_paths``).
    - ``trust_chilling``: day, series (``trust``: agent-weighted mean trust, every scenario;
      ``chilling``: speech and religious acts per agent-year that day), arm (``WITH`` or
      ``WITHOUT``), value. A stored counterfactual without the metric (made before trust was
      in every scenario) is drawn at trust's initial level, as the audit's ``mean_trust``.
    - ``lorenz``: arm, population_share, wealth_share, gini: the Lorenz curve of final wealth
      (agent snapshot) at ``LORENZ_POINTS`` population shares, per arm.

    ``counterfactual`` defaults to ``result.counterfactual``. ``absent_reasons`` says in
    words why a chart is missing.
    """
    if counterfactual is None:
        counterfactual = result.counterfactual
    builders = {
        "tiers_over_time": lambda: tiers_over_time(result),
        "tier_transitions": lambda: tier_transitions(result),
        "score_distribution": lambda: score_distribution(result),
        "behaviour_rates": lambda: behaviour_rates(result, counterfactual),
        "trust_chilling": lambda: trust_chilling(result, counterfactual),
        "disparity": lambda: disparity(result),
        "lorenz": lambda: lorenz(result, counterfactual),
        "map": lambda: low_score_map(result),
        "credit_files": lambda: credit_files(result),
    }
    out: dict[str, pd.DataFrame] = {}
    for key, build in builders.items():
        df = build()
        if df is not None and not df.empty:
            out[key] = df.reset_index(drop=True)
    return out


NO_ACTS = "every rate is zero: no acts in this run, so no log scale"
NO_COUNTERFACTUAL = (
    "with the system only: no run of the same society without it was given (pass one with "
    "`socialcredit report RUN --against OTHER_RUN`, or audit the scenario, whose report shows "
    "both arms)"
)


def chart_title(key: str, df: pd.DataFrame | None = None) -> str:
    """A chart's title, true to its data: behaviour rates say whether the arm without the
    system is drawn."""
    if key == "behaviour_rates" and df is not None:
        if "counterfactual" in df:
            return "Behaviour rates, with the system and without it"
        return "Behaviour rates, with the system only (no counterfactual)"
    if key == "tier_transitions" and df is not None and not df.empty:
        return f"Tier transitions over {int(df['days'].iloc[0])} days"
    return CHARTS[key][1]


def absent_reasons(
    result: Result, counterfactual: Result | None, data: Mapping[str, pd.DataFrame]
) -> dict[str, str]:
    """Chart key -> why the chart is not drawn, for every chart missing from ``data``."""
    scenario = result.scenario
    has_tiers = bool(tier_names(scenario))
    agents = result.agents
    no_programme = "no jurisdiction of this scenario runs a programme, so nobody has a tier"
    no_snapshot = "the run kept no per-agent snapshot (record.snapshot is false)"
    no_log = "the run kept no credit-file log (events.parquet) to read people's files from"
    reasons: dict[str, str] = {}
    for key in CHARTS:
        if key in data:
            continue
        why = "the run has no data for it"
        if key in ("tiers_over_time", "tier_transitions", "score_distribution", "map"):
            if not has_tiers:
                why = no_programme
            elif key != "tiers_over_time" and agents is None:
                why = no_snapshot
            elif key == "tier_transitions":
                why = no_log
            elif key == "map" and not {"x", "y"} <= set(agents.columns):
                why = "the agent snapshot has no home locations (x, y)"
            elif key == "map":
                why = (
                    "nobody was in the two lowest tiers or on the blacklist at the end of the "
                    "run, so there is nobody to map"
                )
        elif key == "behaviour_rates":
            why = "the scenario has no behaviours"
        elif key == "trust_chilling":
            why = (
                "the run measured no trust (a run stored before trust was modelled in every "
                "scenario) and the scenario has no speech or religious behaviours"
            )
        elif key == "lorenz":
            why = no_snapshot if agents is None else "total wealth at the end is not positive"
        elif key == "credit_files":
            why = no_log
        reasons[key] = why
    return reasons


def _metric(metrics: pd.DataFrame, name: str) -> pd.DataFrame:
    return metrics[metrics["metric"] == name]


def _days(result: Result) -> int:
    return int(result.info.get("days") or result.scenario.days)


def tiers_over_time(result: Result) -> pd.DataFrame | None:
    tiers = tier_names(result.scenario)
    m = result.metrics
    if not tiers or m is None or m.empty:
        return None
    agents = _metric(m, "agents").groupby(["day", "jurisdiction"])["value"].sum()
    sub = m[m["metric"].str.startswith("tier.")]
    counts = sub.groupby(["day", "jurisdiction", "metric"])["value"].sum()
    present = set(agents.index.get_level_values("jurisdiction"))
    pairs = [(j, t) for j, names in tiers.items() if j in present for t in names]
    if not pairs:
        return None
    days = np.sort(m["day"].unique()).astype(np.int64)
    df = pd.DataFrame(
        {
            "day": np.tile(days, len(pairs)),
            "jurisdiction": np.repeat([j for j, _ in pairs], len(days)),
            "tier": np.repeat([t for _, t in pairs], len(days)),
        }
    )
    keys = pd.MultiIndex.from_arrays([df["day"], df["jurisdiction"], "tier." + df["tier"]])
    df["count"] = counts.reindex(keys, fill_value=0.0).to_numpy(np.float64)
    size = agents.reindex(pd.MultiIndex.from_frame(df[["day", "jurisdiction"]])).to_numpy()
    df["share"] = np.where(size > 0, df["count"] / np.where(size > 0, size, 1.0), 0.0)
    return df


def charted_jurisdictions(df: pd.DataFrame, limit: int = MAX_TIER_PLOTS) -> list[str]:
    """The jurisdictions a tier chart draws: all, or the ``limit`` most populous, in order."""
    order = list(dict.fromkeys(df["jurisdiction"]))
    if len(order) <= limit:
        return order
    first = df[df["day"] == df["day"].min()].groupby("jurisdiction")["count"].sum()
    keep = set(first.sort_values(ascending=False, kind="stable").index[:limit])
    return [j for j in order if j in keep]


def _bin_width(lo: int, hi: int) -> int:
    raw = max(1, math.ceil((hi - lo + 1) / SCORE_BINS))
    return next((w for w in NICE_WIDTHS if w >= raw), raw)


def score_distribution(result: Result) -> pd.DataFrame | None:
    agents = result.agents
    tiers = tier_names(result.scenario)
    if agents is None or agents.empty or not tiers or "score" not in agents:
        return None
    a = agents[agents["jurisdiction"].astype(str).isin(tiers)]
    if a.empty:
        return None
    score = a["score"].to_numpy(np.int64)
    width = _bin_width(int(score.min()), int(score.max()))
    lo = (int(score.min()) // width) * width
    n_bins = (int(score.max()) - lo) // width + 1
    k = (score - lo) // width
    groups = a["group"].astype(str).to_numpy()
    order = [g.name for g in result.scenario.population.groups]
    order += sorted(set(groups) - set(order))
    rows = []
    for g in order:
        mask = groups == g
        total = int(mask.sum())
        if not total:
            continue
        counts = np.bincount(k[mask], minlength=n_bins)
        for b, c in enumerate(counts):
            smin = lo + b * width
            rows.append((g, smin, smin + width - 1, int(c), c / total))
    return pd.DataFrame(rows, columns=["group", "score_min", "score_max", "count", "share"])


def acts_per_agent_year(result: Result) -> dict[str, float]:
    """Behaviour -> acts per agent-year: from the daily metrics when every day was kept (the
    same formula as the summary's), else the summary's own figure."""
    m = result.metrics
    days = _days(result)
    if m is None or m.empty or m["day"].nunique() != days:
        return {k: float(v) for k, v in result.summary.get("acts_per_agent_year", {}).items()}
    last = m["day"].max()
    agents = _metric(m, "agents")
    agent_years = agents.loc[agents["day"] == last, "value"].sum() * days / DAYS_PER_YEAR
    acts = m[m["metric"].str.startswith("acts.")].groupby("metric")["value"].sum()
    if not agent_years:
        return {}
    return {
        b.name: float(acts.get(f"acts.{b.name}", 0.0)) / agent_years
        for b in result.scenario.behaviours
    }


def behaviour_rates(result: Result, counterfactual: Result | None = None) -> pd.DataFrame | None:
    rates = acts_per_agent_year(result)
    if not rates:
        return None
    category = {b.name: getattr(b, "category", "misconduct") for b in result.scenario.behaviours}
    df = pd.DataFrame(
        {
            "behaviour": list(rates),
            "category": [category.get(b, "") for b in rates],
            "system": list(rates.values()),
        }
    )
    if counterfactual is not None:
        other = acts_per_agent_year(counterfactual)
        df["counterfactual"] = [other.get(b, np.nan) for b in rates]
        df["difference"] = df["system"] - df["counterfactual"]
    return df


def _ratio(value: float, ref: float) -> float:
    if ref:
        return value / ref
    return 1.0 if value == 0 else float("nan")


def disparity(result: Result) -> pd.DataFrame | None:
    m = result.metrics
    if m is None or m.empty:
        return None
    tiers = tier_names(result.scenario)
    last = m[m["day"] == m["day"].max()]
    kept_days = m["day"].nunique()
    size = _metric(last, "agents").groupby("group")["value"].sum()
    size = size[size > 0]
    if size.empty:
        return None
    prog = last[last["jurisdiction"].isin(tiers)]
    prog_size = _metric(prog, "agents").groupby("group")["value"].sum()

    values: dict[str, pd.Series] = {}
    sanctioned = _metric(m, "sanctioned").groupby("group")["value"].sum()
    # mean agents sanctioned per kept day, per agent, times a year
    values["sanctions_per_agent_year"] = (
        sanctioned.reindex(size.index, fill_value=0.0) / kept_days / size * DAYS_PER_YEAR
    )
    if tiers and not prog_size.empty:
        listed = _metric(prog, "listed").groupby("group")["value"].sum()
        values["listed_share"] = listed.reindex(prog_size.index, fill_value=0.0) / prog_size
        bottom = pd.concat(
            [
                prog[(prog["jurisdiction"] == j) & (prog["metric"] == f"tier.{names[-1]}")]
                for j, names in tiers.items()
            ]
        )
        bottom = bottom.groupby("group")["value"].sum()
        values["bottom_tier_share"] = bottom.reindex(prog_size.index, fill_value=0.0) / prog_size
        mean = _metric(prog, "mean_score").set_index(["jurisdiction", "group"])["value"]
        weight = _metric(prog, "agents").set_index(["jurisdiction", "group"])["value"]
        weighted = (mean * weight.reindex(mean.index)).groupby(level="group").sum()
        values["mean_score"] = weighted.reindex(prog_size.index) / prog_size

    largest = size.idxmax()
    order = [g.name for g in result.scenario.population.groups if g.name in size.index]
    order += [g for g in size.index if g not in order]
    rows = []
    for metric, series in values.items():
        if largest not in series.index:
            continue
        ref = float(series[largest])
        for g in order:
            if g in series.index and not np.isnan(series[g]):
                v = float(series[g])
                rows.append((g, float(size[g]), metric, v, _ratio(v, ref)))
    return pd.DataFrame(rows, columns=["group", "agents", "metric", "value", "ratio"])


def _arms(result: Result, counterfactual: Result | None) -> list[tuple[str, Result]]:
    return [(WITH, result)] + ([(WITHOUT, counterfactual)] if counterfactual is not None else [])


def chilling_behaviours(scenario: Scenario) -> list[str]:
    return [b.name for b in scenario.behaviours if getattr(b, "category", "") in CHILLING]


def _weighted_mean_by_day(m: pd.DataFrame, name: str) -> pd.Series:
    keys = ["day", "jurisdiction", "group"]
    mean = _metric(m, name).set_index(keys)["value"]
    weight = _metric(m, "agents").set_index(keys)["value"].reindex(mean.index).fillna(0.0)
    total = weight.groupby(level="day").sum()
    return ((mean * weight).groupby(level="day").sum() / total.where(total > 0)).dropna()


def initial_trust(scenario: Scenario) -> float | None:
    """Trust without informants: its initial level as the engine stores it (the audit
    registry's ``mean_trust`` says the same for the arm without the system)."""
    from socialcredit.audit.catalogue import outcomes_for

    for o in outcomes_for(scenario):
        if o.name == "mean_trust" and o.without_system is not None:
            w = o.without_system
            return float(w(scenario) if callable(w) else w)
    return None


def trust_chilling(result: Result, counterfactual: Result | None = None) -> pd.DataFrame | None:
    frames = []
    for arm, r in _arms(result, counterfactual):
        m = r.metrics
        if m is None or m.empty:
            continue
        agents = _metric(m, "agents").groupby("day")["value"].sum()
        agents = agents[agents > 0]
        trust = _weighted_mean_by_day(m, "mean_trust")
        if trust.empty and arm == WITHOUT and frames and (frames[0]["series"] == "trust").any():
            level = initial_trust(result.scenario)
            if level is not None:
                trust = pd.Series(level, index=agents.index)
        if not trust.empty:
            frames.append(pd.DataFrame({"day": trust.index, "series": "trust", "value": trust}))
            frames[-1]["arm"] = arm
        chill = chilling_behaviours(r.scenario) or chilling_behaviours(result.scenario)
        if chill:
            names = [f"acts.{b}" for b in chill]
            acts = m[m["metric"].isin(names)].groupby("day")["value"].sum()
            rate = acts.reindex(agents.index, fill_value=0.0) / agents * DAYS_PER_YEAR
            frames.append(
                pd.DataFrame({"day": rate.index, "series": "chilling", "value": rate, "arm": arm})
            )
    if not frames:
        return None
    df = pd.concat(frames, ignore_index=True)[["day", "series", "arm", "value"]]
    df["day"] = df["day"].astype(np.int64)
    return df


def lorenz(result: Result, counterfactual: Result | None = None) -> pd.DataFrame | None:
    from socialcredit.audit.formulas import gini

    grid = np.linspace(0.0, 1.0, LORENZ_POINTS)
    frames = []
    for arm, r in _arms(result, counterfactual):
        if r.agents is None or "wealth" not in r.agents:
            continue
        w = np.sort(r.agents["wealth"].to_numpy(np.float64))
        w = w[np.isfinite(w)]
        if w.size == 0 or w.sum() <= 0:
            continue
        cum = np.concatenate([[0.0], np.cumsum(w)]) / w.sum()
        share = np.interp(grid, np.linspace(0.0, 1.0, w.size + 1), cum)
        frames.append(
            pd.DataFrame(
                {"arm": arm, "population_share": grid, "wealth_share": share, "gini": gini(w)}
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else None


def tier_of_score(scores: np.ndarray, floors: list[int]) -> np.ndarray:
    """Tier index (0 = top) of each score: how many tier floors it is below, as the engine's
    ``list`` stage computes it (``floors``: every tier's but the bottom one's, top first)."""
    s = np.asarray(scores, dtype=np.int64)
    return sum((s < f).astype(np.int64) for f in floors) if floors else np.zeros(s.shape, int)


def tier_paths(result: Result) -> dict[str, tuple[list[str], np.ndarray]] | None:
    """Jurisdiction -> (tier names, ``[agents, days + 1]`` tier index of each credit-file
    sample agent at the start (column 0) and at the end of every day), rebuilt from the event
    log: an agent starts in the tier of its programme's base score and is in the tier of its
    end-of-day score from each ``tier_up`` or ``tier_down`` event on. None without a log, a
    sample or a snapshot (which says where each sampled agent lives)."""
    from socialcredit.scenario.programme import tier_floors

    events = load_events(result)
    agents = result.agents
    sample = getattr(result, "sample", None)
    if events is None or agents is None or sample is None or "score" not in events:
        return None
    if "kind" not in events or "jurisdiction" not in agents:
        return None
    sample = np.asarray(sample, dtype=np.int64)
    days = int(max(_days(result), int(events["day"].max()) if len(events) else 0))
    jur = agents.set_index("agent")["jurisdiction"].astype(str).reindex(sample).to_numpy()
    moves = events[events["kind"].isin(["tier_up", "tier_down"])]
    moves = moves.sort_values(["agent", "day"], kind="stable")
    out: dict[str, tuple[list[str], np.ndarray]] = {}
    for j in result.scenario.jurisdictions:
        if j.programme is None or j.programme not in result.scenario.programmes:
            continue
        prog = result.scenario.programmes[j.programme]
        floors = tier_floors(prog)[:-1]
        mine = sample[jur == j.name]
        if mine.size == 0:
            continue
        row = pd.Series(np.arange(mine.size), index=mine)
        change = np.full((mine.size, days + 1), -1, np.int64)
        change[:, 0] = int(tier_of_score(np.array([prog.base_score]), floors)[0])
        mv = moves[moves["agent"].isin(mine)]
        r = row.reindex(mv["agent"].to_numpy()).to_numpy()
        d = mv["day"].to_numpy(np.int64)
        ok = (d >= 1) & (d <= days)
        change[r[ok], d[ok]] = tier_of_score(mv["score"].to_numpy()[ok], floors)
        col = np.where(change >= 0, np.arange(days + 1), 0)
        col = np.maximum.accumulate(col, axis=1)
        out[j.name] = ([t.name for t in prog.tiers], np.take_along_axis(change, col, axis=1))
    return out or None


def tier_transitions(result: Result, horizon: int = TRANSITION_DAYS) -> pd.DataFrame | None:
    paths = tier_paths(result)
    if paths is None:
        return None
    rows = []
    for j, (names, path) in paths.items():
        days = path.shape[1] - 1
        h = min(horizon, days)
        if h < 1:
            continue
        n = len(names)
        start, end = path[:, : days + 1 - h].ravel(), path[:, h:].ravel()
        counts = np.bincount(start * n + end, minlength=n * n).reshape(n, n)
        total = counts.sum(axis=1)
        for a in range(n):
            for b in range(n):
                share = counts[a, b] / total[a] if total[a] else np.nan
                rows.append((j, names[a], names[b], int(counts[a, b]), share, h, path.shape[0]))
    if not rows:
        return None
    cols = ["jurisdiction", "from_tier", "to_tier", "count", "share", "days", "agents"]
    df = pd.DataFrame(rows, columns=cols)
    keep = mapped_jurisdictions(df.assign(agents=df["agents"]), MAX_MAPS)
    return df[df["jurisdiction"].isin(keep)]


def low_score_mask(agents: pd.DataFrame, scenario: Scenario) -> np.ndarray:
    """Agents in their programme's two lowest tiers, or listed."""
    low = np.zeros(len(agents), bool)
    if "listed" in agents:
        low |= agents["listed"].fillna(False).to_numpy(bool)
    if "tier" in agents:
        jur = agents["jurisdiction"].astype(str).to_numpy()
        for j, names in tier_names(scenario).items():
            low |= (jur == j) & agents["tier"].isin(names[-2:]).fillna(False).to_numpy(bool)
    return low


def low_score_map(result: Result) -> pd.DataFrame | None:
    """Low-score agents per 250 m cell, per jurisdiction with a programme (each jurisdiction
    has its own plane, so cells are never merged across jurisdictions)."""
    agents = result.agents
    tiers = tier_names(result.scenario)
    if agents is None or agents.empty or not tiers or not {"x", "y"} <= set(agents.columns):
        return None
    x = agents["x"].to_numpy(np.float64)
    y = agents["y"].to_numpy(np.float64)
    jur = agents["jurisdiction"].astype(str).to_numpy()
    ok = np.isfinite(x) & np.isfinite(y) & np.isin(jur, list(tiers))
    if not ok.any():
        return None
    low = low_score_mask(agents, result.scenario)[ok]
    cells = pd.DataFrame(
        {
            "jurisdiction": jur[ok],
            "x_min": np.floor(x[ok] / CELL_M) * CELL_M,
            "y_min": np.floor(y[ok] / CELL_M) * CELL_M,
            "agents": 1,
            "low": low.astype(np.int64),
        }
    )
    keys = ["jurisdiction", "x_min", "y_min"]
    df = cells.groupby(keys, as_index=False, sort=False)[["agents", "low"]].sum()
    order = {j: i for i, j in enumerate(tiers)}
    df = df.sort_values(keys, key=lambda c: c.map(order) if c.name == "jurisdiction" else c)
    df["density"] = df["low"] / CELL_KM2
    if not df["low"].any():  # nobody low: an all-black square would say nothing
        return None
    df["radius_m"] = result.scenario.map.radius_m if result.scenario.map is not None else np.nan
    return df


def map_radius(df: pd.DataFrame) -> float | None:
    """The deadbeat map's look-up radius in metres (None: the scenario has no map)."""
    if "radius_m" not in df or df.empty or not np.isfinite(df["radius_m"].iloc[0]):
        return None
    return float(df["radius_m"].iloc[0])


def mapped_jurisdictions(df: pd.DataFrame, limit: int = MAX_MAPS) -> list[str]:
    """The jurisdictions the map draws: all, or the ``limit`` most populous, in order."""
    order = list(dict.fromkeys(df["jurisdiction"]))
    if len(order) <= limit:
        return order
    size = df.groupby("jurisdiction")["agents"].sum().sort_values(ascending=False, kind="stable")
    keep = set(size.index[:limit])
    return [j for j in order if j in keep]


# ----------------------------------------------------------------------------- credit files


def load_events(result: Result) -> pd.DataFrame | None:
    """The run's credit-file event log, if it has one, with canonical column names.

    Looked for, in order: a ``result.events`` attribute (a DataFrame, an Arrow table or
    anything with ``to_pandas``/``df``, or a callable returning one); ``events.parquet`` in the
    run folder; a DuckDB file ``credit.duckdb`` in the run folder, table ``events`` (or
    ``records``, ``credit_records``, ``credit_files``, ``credit_file``, or its only table with
    an ``agent`` column; folders written before the log moved to Parquet). ``socialcredit.open_run``
    already loads either into ``result.events`` (schema in ``socialcredit.results.credit``: day, agent, kind, behaviour, channel,
    points, true, expires_day, score). Columns are renamed to agent, day, behaviour, channel,
    points (see ``EVENT_COLUMNS`` for the spellings accepted); ``kind`` and a boolean ``false``
    (a record of an act that never happened) are derived when missing. A log without agent
    and day columns is ignored.
    """
    events: Any = getattr(result, "events", None)
    if callable(events) and not isinstance(events, pd.DataFrame):
        events = events()
    if events is None and result.path is not None:
        folder = Path(result.path)
        if (folder / EVENT_FILES[0]).is_file():
            events = pd.read_parquet(folder / EVENT_FILES[0])
        elif (folder / EVENT_FILES[1]).is_file():
            events = _read_duckdb_events(folder / EVENT_FILES[1])
    if events is None:
        return None
    if not isinstance(events, pd.DataFrame):
        if hasattr(events, "to_pandas"):
            events = events.to_pandas()
        elif hasattr(events, "df"):
            events = events.df()
        else:
            events = pd.DataFrame(events)
    return _normalise_events(events)


def _read_duckdb_events(file: Path) -> pd.DataFrame | None:
    """The event table of a DuckDB file, read as data only (socialcredit/integrity.py): base
    tables only, names quoted; a view, a macro or a computed column is never run. A file that
    cannot be read so gives no events."""
    import duckdb

    from socialcredit.integrity import base_tables, open_data_only, read_table

    try:
        with open_data_only(file) as con:
            tables = base_tables(con)
            name = next((t for t in EVENT_TABLES if t in tables), None)
            if name is None:
                with_agent = [t for t in tables if "agent" in _columns_or_none(con, t)]
                name = with_agent[0] if len(with_agent) == 1 else None
            return None if name is None else read_table(con, name)
    except (duckdb.Error, ValueError, OSError):
        return None


def _columns_or_none(con: Any, table: str) -> list[str]:
    from socialcredit.integrity import table_columns

    try:
        return table_columns(con, table)
    except ValueError:  # computed columns: not read
        return []


def _normalise_events(events: pd.DataFrame) -> pd.DataFrame | None:
    """Canonical columns; ``kind`` (record, false_record, listed, ...) and a boolean ``false``
    (a record of an act that did not happen) are filled in when the log lacks them."""
    events = events.copy()
    rename = {}
    for canonical, spellings in EVENT_COLUMNS.items():
        found = next((s for s in spellings if s in events.columns), None)
        if found is not None and canonical not in events.columns:
            rename[found] = canonical
    events = events.rename(columns=rename)
    if not {"agent", "day"} <= set(events.columns):
        return None
    if "false" in events:
        false = events["false"].fillna(False).astype(bool)
    elif "kind" in events:
        false = events["kind"] == "false_record"
    elif "true" in events:  # only record rows say whether they are true
        false = events["true"].astype("boolean").eq(False).fillna(False).astype(bool)
    else:
        false = pd.Series(False, index=events.index)
    events["false"] = false.to_numpy(bool)
    if "kind" not in events:
        events["kind"] = np.where(events["false"], "false_record", "record")
    events["kind"] = events["kind"].astype(str)
    for col in ("behaviour", "channel"):
        if col in events:
            events[col] = events[col].astype(str)
    return events


def _pick(counts: pd.Series, taken: list[int]) -> int | None:
    """The agent with the highest count, preferring one not already taken."""
    if counts.empty:
        return None
    fresh = counts.drop(index=[a for a in taken if a in counts.index])
    return int((fresh if not fresh.empty else counts).idxmax())


def credit_files(result: Result) -> pd.DataFrame | None:
    """The credit files (every event) of three example agents from the run's event log:
    ``listed`` (a listed agent, the one with most records among them), ``most records`` and
    ``false records`` (the one with most false records), each a different agent where the
    log allows; an example nobody fits is left out."""
    events = load_events(result)
    if events is None or events.empty:
        return None
    is_record = events["kind"].isin(RECORD_KINDS)
    records = events[is_record].groupby("agent").size()
    in_log = pd.Index(events["agent"].unique())
    agents = result.agents
    chosen: list[tuple[str, int]] = []

    def take(label: str, counts: pd.Series) -> None:
        a = _pick(counts, [c for _, c in chosen])
        if a is not None:
            chosen.append((label, a))

    listed = set(events.loc[events["kind"] == "listed", "agent"])
    if agents is not None and "listed" in agents:
        listed |= set(agents.loc[agents["listed"].fillna(False).astype(bool), "agent"])
    listed_in_log = in_log[in_log.isin(list(listed))]
    take(EXAMPLES[0], records.reindex(listed_in_log, fill_value=0))
    take(EXAMPLES[1], records)
    take(EXAMPLES[2], events[is_record & events["false"]].groupby("agent").size())
    if not chosen:
        return None
    first = ["agent", "day", "kind", "behaviour", "channel", "points", "false", "score"]
    columns = [c for c in first if c in events]
    columns += [c for c in events.columns if c not in columns]
    frames = [
        events.loc[events["agent"] == a, columns]
        .sort_values("day", kind="stable")
        .assign(example=label)
        for label, a in chosen
    ]
    df = pd.concat(frames, ignore_index=True)[["example", *columns]]
    if agents is not None:
        final = agents.set_index("agent")
        if "score" in final:
            df["final_score"] = df["agent"].map(final["score"])
        if "tier" in final:
            df["final_tier"] = df["agent"].map(final["tier"]).astype("string")
    return df


# ----------------------------------------------------------------------------- PNG figures


def percent(value: float) -> str:
    """A share as a percentage with up to four significant digits: 0.0001 -> '0.01%'."""
    return f"{100 * value:.4g}%"


def tier_floor_scores(scenario: Scenario) -> dict[str, int]:
    """Tier name -> lowest score, for every programme's tiers except each bottom tier."""
    out: dict[str, int] = {}
    for p in scenario.programmes.values():
        for t in p.tiers:
            if t.min is not None:
                out[t.name] = t.min
    return out
