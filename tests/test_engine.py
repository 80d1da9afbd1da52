"""The engine against exact analytic results, and its determinism.

Scenarios here are small and built as dicts, so each expected number can be derived by hand:
with the `fixed` response model and homogeneous agents (propensity_sigma 0) every agent-day is
an independent categorical draw (at most one outcome a day), so the mean score, the whole score
distribution (hence tier shares) and the effect of expiry follow in closed form. Simulated
figures must match within a few standard errors; the seeds are fixed, so the tests are
deterministic.

Runs that several tests share are module-scoped fixtures, and scenarios that differ only in
numbers (bounds, terms) keep the same compiled shape (Spec), so the file compiles few programs.
"""

from __future__ import annotations

import copy
import math

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from socialcredit import rng
from socialcredit.api import simulate
from socialcredit.compile import compile_scenario
from socialcredit.engine.run import initial_state
from socialcredit.engine.stages.record import record
from socialcredit.engine.state import raw_points
from socialcredit.scenario import Scenario, load_scenario

# ----------------------------------------------------------------------------- helpers


def _scenario(d: dict) -> Scenario:
    sc = Scenario.model_validate(d)
    assert sc.semantic_issues() == [], sc.semantic_issues()
    return sc


def analytic_dict(agents: int = 100_000, days: int = 100) -> dict:
    """One jurisdiction, homogeneous agents, fixed response; expiry beyond the run."""
    return {
        "metadata": {"name": "analytic", "description": "closed-form checks"},
        "population": {
            "agents": agents,
            "groups": [{"name": "majority", "share": 0.7}, {"name": "minority", "share": 0.3}],
            "propensity_sigma": 0.0,
        },
        "jurisdictions": [{"name": "town", "share": 1.0, "programme": "points"}],
        "behaviours": [
            {"name": "littering", "base_rate": 0.03},
            {"name": "volunteering", "base_rate": 0.04, "propensity_driven": False},
            {"name": "walking", "base_rate": 0.02},  # observed, but worth no points
        ],
        "channels": [
            {
                "name": "camera",
                "coverage": {"littering": 0.5, "walking": 0.9},
                "false_positive_rate": 0.001,
            },
            {
                "name": "committee",
                "coverage": {"volunteering": 0.8, "littering": 0.2},
                "false_positive_rate": 0.0005,
            },
            {"name": "unused", "coverage": {"littering": 1.0}, "false_positive_rate": 0.1},
        ],
        "programmes": {
            "points": {
                "base_score": 1000,
                "bounds": [0, 2000],
                "points": {"littering": -10, "volunteering": 5},
                "channels": ["camera", "committee"],
                "record_expiry_days": 400,
                "expiry_resolution_days": 100,
                "tiers": [
                    {"name": "A", "min": 1010, "max": None},
                    {"name": "B", "min": 990, "max": 1009},
                    {"name": "C", "min": 970, "max": 989},
                    {"name": "D", "min": None, "max": 969},
                ],
                "blacklist": {"tiers": ["D"], "term_days": 30},
                "consequences": {"D": {"loan_approval": 0.5}, "listed": {"travel_ban": True}},
            }
        },
        "response": {"model": "fixed"},
        "days": days,
        "seed": 3,
    }


def expiry_dict(resolution: int, expiry: int = 10, days: int = 43, agents: int = 50_000) -> dict:
    """One behaviour that is always recorded: the score is a sliding window of daily points."""
    return {
        "metadata": {"name": "expiry", "description": "expiry window"},
        "population": {"agents": agents, "groups": [{"name": "all", "share": 1.0}]},
        "jurisdictions": [{"name": "town", "share": 1.0, "programme": "p"}],
        "behaviours": [{"name": "fraud", "base_rate": 0.05}],
        "channels": [{"name": "court", "coverage": {"fraud": 1.0}}],
        "programmes": {
            "p": {
                "base_score": 1000,
                "bounds": [0, 2000],
                "points": {"fraud": -20},
                "channels": ["court"],
                "record_expiry_days": expiry,
                "expiry_resolution_days": resolution,
                "tiers": [
                    {"name": "A", "min": 1000, "max": None},
                    {"name": "B", "min": None, "max": 999},
                ],
            }
        },
        "response": {"model": "fixed"},
        "days": days,
        "seed": 11,
    }


def per_day_outcomes(d: dict, programme: str) -> list[tuple[int, float]]:
    """(points, probability per agent-day) of each outcome that changes the score.

    Derived from the scenario text alone: an act of b is recorded with 1 - prod(1 - coverage)
    over the programme's channels covering b; a false record of b occurs with
    1 - prod(1 - false_positive_rate) over the same channels (behaviours with points only).
    Both land on the same points, so they add.
    """
    p = d["programmes"][programme]
    used = [c for c in d["channels"] if c["name"] in p["channels"]]
    prop = d["population"].get("propensity_sigma", 0.0)
    assert prop == 0.0 and d["response"]["model"] == "fixed"
    out = []
    for b in d["behaviours"]:
        pts = p["points"].get(b["name"], 0)
        if pts == 0:
            continue
        cov = [c for c in used if b["name"] in c["coverage"]]
        detect = 1.0 - math.prod(1.0 - c["coverage"][b["name"]] for c in cov)
        false = 1.0 - math.prod(1.0 - c.get("false_positive_rate", 0.0) for c in cov)
        out.append((pts, b["base_rate"] * detect + false))
    return out


def daily_moments(outcomes: list[tuple[int, float]]) -> tuple[float, float]:
    """Mean and variance of one agent-day's points."""
    mean = sum(p * q for p, q in outcomes)
    second = sum(p * p * q for p, q in outcomes)
    return mean, second - mean * mean


def score_pmf(outcomes: list[tuple[int, float]], days: int) -> tuple[np.ndarray, int]:
    """Exact distribution of the summed points after ``days`` days: (pmf, offset), value = i + offset."""
    lo = min(0, *(p for p, _ in outcomes)) * days
    hi = max(0, *(p for p, _ in outcomes)) * days
    pmf = np.zeros(hi - lo + 1)
    pmf[-lo] = 1.0
    stay = 1.0 - sum(q for _, q in outcomes)
    for _ in range(days):
        nxt = pmf * stay
        for pts, q in outcomes:
            nxt += q * np.roll(pmf, pts)  # the ends stay zero: the grid spans every reachable sum
        pmf = nxt
    return pmf, lo


def window_length(day: int, expiry: int, resolution: int) -> int:
    """Days whose records still count at the end of 0-based ``day``.

    A record made on day d sits in bucket d // R; the bucket is dropped at the start of day
    (d // R + E / R) * R, so at the end of ``day`` the records of days
    max(0, (day // R - E / R + 1) * R) .. day count.
    """
    first = max(0, (day // resolution - expiry // resolution + 1) * resolution)
    return day - first + 1


def total(metrics: pd.DataFrame, name: str, day: int | None = None) -> float:
    """A count metric summed over cells (and over days unless ``day`` is given)."""
    m = metrics[metrics.metric == name]
    if day is not None:
        m = m[m.day == day]
    return float(m.value.sum())


def weighted_mean(metrics: pd.DataFrame, name: str, day: int, where: dict | None = None) -> float:
    """A `mean_*` metric over several cells, weighted by the cells' agents."""
    m = metrics[metrics.day == day]
    for col, val in (where or {}).items():
        m = m[m[col] == val]
    wide = m.pivot_table(index=["jurisdiction", "group"], columns="metric", values="value")
    return float((wide[name] * wide["agents"]).sum() / wide["agents"].sum())


def within(actual: float, expected: float, se: float, k: float, what: str) -> None:
    assert abs(actual - expected) <= k * se, (
        f"{what}: simulated {actual:.6g}, expected {expected:.6g} "
        f"(diff {(actual - expected) / se:+.2f} SE, allowed {k})"
    )


# ----------------------------------------------------------------------------- shared runs


@pytest.fixture(scope="module")
def analytic():
    d = analytic_dict()
    return d, simulate(_scenario(d))


@pytest.fixture(scope="module")
def rongcheng_small():
    """The Rongcheng preset at 20,000 agents and 60 days (adaptive response, as shipped)."""
    sc = load_scenario("rongcheng", agents=20_000, days=60)
    return sc, simulate(sc)


# ----------------------------------------------------------------------------- mean score


def test_mean_score_matches_closed_form(analytic):
    d, res = analytic
    T, N = d["days"], d["population"]["agents"]
    mu, _ = daily_moments(per_day_outcomes(d, "points"))
    expected = d["programmes"]["points"]["base_score"] + T * mu
    scores = res.agents["score"].to_numpy().astype(np.float64)
    assert len(scores) == N
    se = scores.std(ddof=1) / math.sqrt(N)
    within(scores.mean(), expected, se, 3, "mean score (snapshot)")
    metric_mean = weighted_mean(res.metrics, "mean_score", T)
    assert metric_mean == pytest.approx(scores.mean(), abs=1e-3)
    within(metric_mean, expected, se, 3, "mean score (metrics)")
    # the drift is real: far more than 3 SE away from the base score
    assert abs(expected - 1000) > 20 * se


def test_acts_records_and_channels_match_rates(analytic):
    """Acts happen at base_rate, records at rate * detection + false rate, and each record is
    credited to the first channel (in scenario order) that catches it."""
    d, res = analytic
    T, N = d["days"], d["population"]["agents"]
    m = res.metrics
    p = d["programmes"]["points"]
    used = [c for c in d["channels"] if c["name"] in p["channels"]]
    by_channel = {c["name"]: 0.0 for c in d["channels"]}
    expected_false = 0.0
    for b in d["behaviours"]:
        name, rate = b["name"], b["base_rate"]
        n_acts = total(m, f"acts.{name}")
        within(n_acts, rate * N * T, math.sqrt(rate * (1 - rate) * N * T), 4, f"acts.{name}")
        cov = [c for c in used if name in c["coverage"]]
        scored = p["points"].get(name, 0) != 0
        # acts: channel k is credited with prob prod_{k' < k}(1 - cov_k') * cov_k
        miss = 1.0
        for c in cov:
            by_channel[c["name"]] += scored * rate * miss * c["coverage"][name] * N * T
            miss *= 1.0 - c["coverage"][name]
        false = (1.0 - math.prod(1.0 - c["false_positive_rate"] for c in cov)) if scored else 0.0
        expected_false += false * N * T
        # false records: credited in proportion to the steps of 1 - prod(1 - fpr)
        prev = 0.0
        fmiss = 1.0
        for c in cov:
            fmiss *= 1.0 - c["false_positive_rate"]
            step = (1.0 - fmiss) - prev
            prev = 1.0 - fmiss
            if false > 0:
                by_channel[c["name"]] += false * N * T * step / false
        q = (rate * (1.0 - miss) + false) if scored else 0.0
        n_rec = total(m, f"records.{name}")
        if q == 0:
            assert n_rec == 0, f"records.{name} must be zero (no points)"
        else:
            within(n_rec, q * N * T, math.sqrt(q * (1 - q) * N * T), 4, f"records.{name}")
    for c, exp in by_channel.items():
        got = total(m, f"records_by.{c}")
        if exp == 0:
            assert got == 0, f"records_by.{c} must be zero (the programme does not use it)"
        else:
            within(got, exp, math.sqrt(exp), 4, f"records_by.{c}")
    within(total(m, "false_records"), expected_false, math.sqrt(expected_false), 4, "false_records")


# ----------------------------------------------------------------------------- tier shares


def test_tier_shares_match_exact_score_distribution(analytic):
    d, res = analytic
    T, N = d["days"], d["population"]["agents"]
    p = d["programmes"]["points"]
    pmf, offset = score_pmf(per_day_outcomes(d, "points"), T)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
    values = np.arange(len(pmf)) + offset + p["base_score"]
    values = np.clip(values, *p["bounds"])
    shares_seen = []
    for t in p["tiers"]:
        lo = -math.inf if t["min"] is None else t["min"]
        hi = math.inf if t["max"] is None else t["max"]
        expected = float(pmf[(values >= lo) & (values <= hi)].sum())
        got = total(res.metrics, f"tier.{t['name']}", day=T) / N
        se = math.sqrt(expected * (1 - expected) / N)
        assert abs(got - expected) <= 4 * se + 1e-3, (
            f"tier {t['name']}: {got:.5f} vs {expected:.5f}"
        )
        # the snapshot agrees with the metrics
        assert (res.agents["tier"] == t["name"]).sum() == total(
            res.metrics, f"tier.{t['name']}", day=T
        )
        shares_seen.append(expected)
    assert min(shares_seen) > 0.01, "tiers should split the population to make the check bite"


# ----------------------------------------------------------------------------- bounds


def test_bounds_clip_scores_to_exact_distribution():
    """Bounds near the base bind: no score outside them, and the mass at each bound is the
    probability that the unclipped sum lies beyond it (same compiled shape as `analytic`)."""
    d = analytic_dict()
    lo, hi = 985, 1005
    d["programmes"]["points"]["bounds"] = [lo, hi]
    res = simulate(_scenario(d))
    T, N = d["days"], d["population"]["agents"]
    scores = res.agents["score"].to_numpy()
    assert scores.min() >= lo and scores.max() <= hi
    pmf, offset = score_pmf(per_day_outcomes(d, "points"), T)
    raw = np.arange(len(pmf)) + offset + 1000
    for bound, mask in ((hi, raw >= hi), (lo, raw <= lo)):
        expected = float(pmf[mask].sum())
        got = float((scores == bound).mean())
        assert expected > 0.05, "the bound should bind for a good share of agents"
        assert abs(got - expected) <= 4 * math.sqrt(expected * (1 - expected) / N) + 1e-3, (
            f"share at bound {bound}: {got:.4f} vs {expected:.4f}"
        )
    expected_mean = float((pmf * np.clip(raw, lo, hi)).sum())
    se = scores.std(ddof=1) / math.sqrt(N)
    within(scores.mean(), expected_mean, se, 4, "mean clipped score")
    assert weighted_mean(res.metrics, "mean_score", T) == pytest.approx(scores.mean(), abs=1e-3)


def test_large_point_sums_do_not_wrap():
    d = {
        "metadata": {"name": "overflow", "description": "large points"},
        "population": {"agents": 2000, "groups": [{"name": "all", "share": 1.0}]},
        "jurisdictions": [{"name": "town", "share": 1.0, "programme": "p"}],
        "behaviours": [{"name": "fraud", "base_rate": 0.5}],
        "channels": [{"name": "court", "coverage": {"fraud": 1.0}}],
        "programmes": {
            "p": {
                "base_score": 0,
                "bounds": [-30000, 30000],
                "points": {"fraud": -20000},
                "channels": ["court"],
                "record_expiry_days": 50,
                "tiers": [
                    {"name": "A", "min": 0, "max": None},
                    {"name": "B", "min": None, "max": -1},
                ],
            }
        },
        "response": {"model": "fixed"},
        "days": 10,
    }
    res = simulate(_scenario(d))
    # every agent has had at least one record (P(none in 10 days) = 2**-10): points only fall
    assert (res.agents["score"] <= 0).all(), res.agents["score"].value_counts().head()


# ----------------------------------------------------------------------------- blacklist


def test_blacklist_follows_tiers_and_terms(analytic):
    d, res = analytic
    T = d["days"]
    bl = d["programmes"]["points"]["blacklist"]
    term = bl["term_days"]
    a = res.agents
    in_listed_tier = a["tier"].isin(bl["tiers"]).to_numpy()
    listed = a["listed"].to_numpy()
    since = a["listed_since"].to_numpy().astype(np.int64)
    last_day = T - 1  # 0-based day of the final snapshot
    assert listed.sum() > 0
    assert total(res.metrics, "listed", day=T) == listed.sum()
    assert (listed == (since >= 0)).all()
    assert (since[listed] <= last_day).all()
    # everyone in a listed tier is listed; anyone listed outside one is still within the term
    assert listed[in_listed_tier].all()
    outside = listed & ~in_listed_tier
    assert outside.sum() > 0, "some listed agents should have climbed out of the tier"
    assert (last_day - since[outside] < term).all()
    # daily: a listing lasts at least the term, so today's listed include every listing of
    # the last `term` days; and nobody is listed who was never newly listed
    listed_d = res.metrics[res.metrics.metric == "listed"].groupby("day").value.sum()
    new_d = res.metrics[res.metrics.metric == "newly_listed"].groupby("day").value.sum()
    recent = new_d.rolling(term, min_periods=1).sum()
    assert (listed_d >= recent).all()
    assert (listed_d <= new_d.cumsum()).all()
    assert (listed_d < new_d.cumsum()).any(), "some listings should have ended"
    # agents still listed since day s were among the newly listed of day s + 1 (1-based)
    still = pd.Series(since[listed]).value_counts()
    assert all(still[s] <= new_d[s + 1] for s in still.index)


def test_blacklist_longer_than_run_never_ends():
    d = analytic_dict()
    d["programmes"]["points"]["blacklist"]["term_days"] = 1000  # same compiled shape
    res = simulate(_scenario(d))
    m = res.metrics
    listed_d = m[m.metric == "listed"].groupby("day").value.sum()
    new_d = m[m.metric == "newly_listed"].groupby("day").value.sum()
    assert (listed_d == new_d.cumsum()).all()
    assert listed_d.is_monotonic_increasing and listed_d.iloc[-1] > 0
    # listed agents who left the tier are kept: more listed than in the listed tier
    assert listed_d.iloc[-1] > total(m, "tier.D", day=d["days"])


# ----------------------------------------------------------------------------- expiry


def test_record_expiry_at_array_level():
    """A record made on day d counts until the start of day (d // R + E / R) * R, exactly."""
    for R in (1, 5):
        E = 10
        days = 3 * E
        d = expiry_dict(R, E, days=days, agents=2 * R + 3)
        d["population"]["contacts"] = {"degree": 0, "reach": 1}
        spec, params = compile_scenario(_scenario(d))
        state = initial_state(spec, params, jax.random.key(0))
        n = spec.agents
        record_day = np.arange(spec.padded)  # agent i gets one record of -7 on day i
        seen = np.zeros((days, n), np.int64)
        for day in range(days):
            pts = jnp.asarray(np.where(record_day == day, -7, 0).astype(np.int16))
            state = record(spec, params, jnp.int32(day), state, pts)
            seen[day] = np.asarray(raw_points(state))[:n]
        for i in range(n):
            gone = (i // R + E // R) * R
            expected = np.where((np.arange(days) >= i) & (np.arange(days) < gone), -7, 0)
            assert (seen[:, i] == expected).all(), f"R={R}: record of day {i}: {seen[:, i]}"
            assert E - R + 1 <= gone - i <= E


@pytest.mark.parametrize("resolution", [1, 5])
def test_expiry_window_in_daily_mean_score(resolution):
    """After E days the score is a sliding window of recorded points: its mean follows the
    window length day by day (a sawtooth between E - R + 1 and E days when R > 1)."""
    E = 10
    d = expiry_dict(resolution, E)
    res = simulate(_scenario(d))
    N, D = d["population"]["agents"], d["days"]
    mu, var = daily_moments(per_day_outcomes(d, "p"))
    lengths = []
    for day in range(1, D + 1):
        L = window_length(day - 1, E, resolution)
        lengths.append(L)
        se = math.sqrt(L * var / N)
        within(
            weighted_mean(res.metrics, "mean_score", day),
            1000 + L * mu,
            se,
            4.5,
            f"day {day} (L={L})",
        )
    assert max(lengths) == E and min(lengths[E:]) == E - resolution + 1
    # final day from the snapshot, within 3 SE
    scores = res.agents["score"].to_numpy().astype(np.float64)
    L = window_length(D - 1, E, resolution)
    within(scores.mean(), 1000 + L * mu, scores.std(ddof=1) / math.sqrt(N), 3, "final mean score")
    if resolution > 1:
        assert L < E  # day 43 sits mid-bucket: the check distinguishes the window from E days


def test_expiry_per_jurisdiction_and_a_place_without_programme():
    """Three places in one run: two programmes with different expiry, one with none."""
    d = expiry_dict(5, 10, days=43, agents=90_000)
    d["jurisdictions"] = [
        {"name": "short", "share": 1 / 3, "programme": "p"},
        {"name": "long", "share": 1 / 3, "programme": "q"},
        {"name": "none", "share": 1 / 3, "programme": None},
    ]
    q = copy.deepcopy(d["programmes"]["p"])
    q["record_expiry_days"] = 20
    q["points"] = {"fraud": -30}
    d["programmes"]["q"] = q
    d["jurisdictions"][2]["share"] = 1 - 2 * (1 / 3)
    res = simulate(_scenario(d))
    m = res.metrics
    sizes = m[(m.metric == "agents") & (m.day == 1)].set_index("jurisdiction").value
    for place, prog, E in (("short", "p", 10), ("long", "q", 20)):
        mu, var = daily_moments(per_day_outcomes(d, prog))
        n = sizes[place]
        for day in range(1, d["days"] + 1):
            L = window_length(day - 1, E, 5)
            got = weighted_mean(m, "mean_score", day, {"jurisdiction": place})
            within(got, 1000 + L * mu, math.sqrt(L * var / n), 4.5, f"{place} day {day}")
    none = m[m.jurisdiction == "none"]
    assert set(none.metric) >= {"acts.fraud", "records.fraud", "agents"}
    assert not none.metric.str.startswith("tier.").any()
    assert "mean_score" not in set(none.metric) and "listed" not in set(none.metric)
    assert none[none.metric.str.startswith("records")].value.sum() == 0
    assert none[none.metric == "acts.fraud"].value.sum() > 0
    a = res.agents
    assert (a.loc[a.jurisdiction == "none", "score"] == 0).all()
    assert a.loc[a.jurisdiction == "none", "tier"].fillna("").eq("").all()


# ----------------------------------------------------------------------------- consistency


@pytest.mark.parametrize("which", ["analytic", "rongcheng_small"])
def test_metric_consistency(which, request):
    _, res = request.getfixturevalue(which)
    m = res.metrics
    wide = m.pivot_table(index=["day", "jurisdiction", "group"], columns="metric", values="value")
    tiers = [c for c in wide.columns if c.startswith("tier.")]
    assert tiers
    assert (wide[tiers].sum(axis=1) == wide["agents"]).all()
    records = wide[[c for c in wide.columns if c.startswith("records.")]].sum(axis=1)
    by_channel = wide[[c for c in wide.columns if c.startswith("records_by.")]].sum(axis=1)
    assert (records == by_channel).all()
    assert (wide["false_records"] <= records).all()
    assert (wide["loans_refused"] <= wide["loans_applied"]).all()
    assert (wide["trips_blocked"] <= wide["trips"]).all()
    assert (wide["newly_listed"] <= wide["listed"]).all()
    acts = wide[[c for c in wide.columns if c.startswith("acts.")]].sum(axis=1)
    assert (acts + wide["false_records"] <= wide["agents"]).all()  # at most one outcome a day
    assert sorted(m.day.unique()) == list(range(1, res.scenario.days + 1))


# ----------------------------------------------------------------------------- determinism


def test_same_seed_same_run(rongcheng_small):
    sc, first = rongcheng_small
    again = simulate(sc)
    pd.testing.assert_frame_equal(first.metrics, again.metrics)
    pd.testing.assert_frame_equal(first.agents, again.agents)
    assert first.summary == again.summary


def test_chunk_size_does_not_change_results(rongcheng_small):
    sc, default = rongcheng_small
    for chunk in (1, 7):
        other = simulate(sc, chunk_days=chunk)
        pd.testing.assert_frame_equal(
            default.metrics, other.metrics, obj=f"metrics, chunk_days={chunk}"
        )
        pd.testing.assert_frame_equal(
            default.agents, other.agents, obj=f"agents, chunk_days={chunk}"
        )


def test_different_seeds_differ(rongcheng_small):
    sc, first = rongcheng_small
    other = simulate(sc.model_copy(update={"seed": sc.seed + 1}))
    assert not first.metrics.equals(other.metrics)
    assert not np.array_equal(first.agents["wealth"], other.agents["wealth"])


@pytest.mark.slow  # ~30 s; `make test-slow` (replicate seeds are also checked in test_audit)
def test_replicates_are_independent():
    """Daily act counts of different seeds are uncorrelated (fixed model: no common trend)."""
    base = load_scenario("rongcheng", ["response.model=fixed"], agents=20_000, days=120)
    series = []
    for seed in range(10):
        m = simulate(base.model_copy(update={"seed": seed})).metrics
        series.append(m[m.metric.str.startswith("acts.")].groupby("day").value.sum().to_numpy())
    x = np.array(series)
    days = x.shape[1]
    corr = np.corrcoef(x)
    assert abs(corr[0, 1]) < 4 / math.sqrt(days), corr[0, 1]
    pairs = corr[np.triu_indices(len(series), 1)]
    assert abs(pairs.mean()) < 0.1, pairs.mean()
    assert len({tuple(s) for s in series}) == len(series)


# ----------------------------------------------------------------------------- counterfactual


def _acts(res) -> pd.Series:
    m = res.metrics
    return (
        m[m.metric.str.startswith("acts.")]
        .set_index(["day", "jurisdiction", "group", "metric"])
        .value
    )


NO_FALSE_RECORDS = [f"channels.{i}.false_positive_rate=0.0" for i in range(5)]


def test_no_system_preset_is_rongcheng_without_a_programme():
    a, b = load_scenario("no-system"), load_scenario("rongcheng")
    for field in ("population", "behaviours", "channels", "economy", "response", "days", "seed"):
        assert getattr(a, field) == getattr(b, field), field
    assert [j.programme for j in a.jurisdictions] == [None]
    assert a.programmes == {}
    assert [j.name for j in a.jurisdictions] == [j.name for j in b.jurisdictions]
    assert {u.field for u in a.metadata.uncertain} >= {
        "population.agents",
        "behaviours",
        "population.groups",
    }
    assert not any(u.field.startswith("programmes") for u in a.metadata.uncertain)


@pytest.fixture(scope="module")
def fixed_pair():
    """rongcheng and no-system, fixed response, false records switched off."""
    ov = ["response.model=fixed", *NO_FALSE_RECORDS]
    return (
        simulate(load_scenario("rongcheng", ov, agents=20_000, days=60)),
        simulate(load_scenario("no-system", ov, agents=20_000, days=60)),
    )


def test_counterfactual_shares_acts_when_behaviour_is_fixed(fixed_pair):
    """Common random numbers: with the fixed model the system does not change behaviour, so
    the acts of both runs are identical day by day; only the system's records differ."""
    sys_run, none_run = fixed_pair
    pd.testing.assert_series_equal(_acts(sys_run), _acts(none_run))
    assert total(sys_run.metrics, "acts.volunteering") > 0
    assert sum(total(sys_run.metrics, f"records.{b.name}") for b in sys_run.scenario.behaviours) > 0
    assert np.array_equal(sys_run.agents["propensity"], none_run.agents["propensity"])


def test_no_system_has_no_records_tiers_or_sanctions(fixed_pair):
    _, none_run = fixed_pair
    m = none_run.metrics
    names = set(m.metric)
    assert not any(n.startswith("tier.") for n in names)
    assert not names & {"mean_score", "listed", "newly_listed"}
    zero = [n for n in names if n.startswith(("records.", "records_by."))]
    zero += ["false_records", "trips_blocked", "sanctioned"]
    for n in zero:
        assert total(m, n) == 0, n
    applied, refused = total(m, "loans_applied"), total(m, "loans_refused")
    q = 1 - none_run.scenario.economy.base_loan_approval
    within(
        refused, q * applied, math.sqrt(q * (1 - q) * applied), 4, "loans refused at the base rate"
    )
    assert (none_run.agents["score"] == 0).all() and not none_run.agents["listed"].any()


def test_counterfactual_acts_identical_with_false_records():
    ov = ["response.model=fixed"]
    sys_run = simulate(load_scenario("rongcheng", ov, agents=20_000, days=60))
    none_run = simulate(load_scenario("no-system", ov, agents=20_000, days=60))
    assert total(sys_run.metrics, "false_records") >= 0
    pd.testing.assert_series_equal(_acts(sys_run), _acts(none_run))


def test_adaptive_system_deters_misconduct(rongcheng_small):
    sc, sys_run = rongcheng_small
    none_run = simulate(load_scenario("no-system", agents=20_000, days=60))
    points = sc.programmes["rongcheng"].points
    bad = [b for b, p in points.items() if p < 0]
    with_system, without = (
        sum(total(r.metrics, f"acts.{b}") for b in bad) for r in (sys_run, none_run)
    )
    assert with_system < without, (with_system, without)
    assert total(sys_run.metrics, "sanctioned") > 0
    # perceived risk rises above awareness where sanctions happen, and nowhere else
    assert weighted_mean(sys_run.metrics, "mean_risk", sc.days) > weighted_mean(
        none_run.metrics, "mean_risk", sc.days
    )


# ----------------------------------------------------------------------------- rng


def _words(day: int, stage: int, n: int = 1_000_000, k: int = 1) -> list[np.ndarray]:
    seeds = rng.stage_seeds(jax.random.key(0), jnp.int32(day), stage, k)
    return [np.asarray(w) for w in rng.agent_words(seeds, jnp.arange(n, dtype=jnp.uint32), k)]


def _chi2_64(bins: np.ndarray) -> float:
    counts = np.bincount(bins.astype(np.int64), minlength=64)
    exp = len(bins) / 64
    return float(((counts - exp) ** 2 / exp).sum())


CHI2_63_999 = 103.4  # 99.9% quantile of chi-square with 63 degrees of freedom


def test_agent_words_are_uniform():
    for w in (*_words(0, rng.BEHAVE, k=2), _words(5, rng.OBSERVE)[0]):
        assert _chi2_64(w >> np.uint32(26)) < CHI2_63_999  # top bits (thresholds use these)
        assert _chi2_64(w & np.uint32(63)) < CHI2_63_999  # low bits
        assert _chi2_64((w >> np.uint32(13)) & np.uint32(63)) < CHI2_63_999
        u = w / 2.0**32
        assert abs(u.mean() - 0.5) < 5 * math.sqrt(1 / 12 / len(u))


def test_agent_words_are_uncorrelated():
    def unit(w):
        return w.astype(np.float64) / 2.0**32

    day0 = unit(_words(0, rng.BEHAVE)[0])
    first, second = (unit(w) for w in _words(0, rng.POPULATION, k=2))
    assert abs(np.corrcoef(first, second)[0, 1]) < 0.005, "two words of one agent"
    pairs = {
        "consecutive days": unit(_words(1, rng.BEHAVE)[0]),
        "behave vs observe": unit(_words(0, rng.OBSERVE)[0]),
        "behave vs consequences": unit(_words(0, rng.CONSEQUENCES)[0]),
        "neighbouring agent": np.roll(day0, 1),
    }
    for what, other in pairs.items():
        c = np.corrcoef(day0, other)[0, 1]
        assert abs(c) < 0.005, f"{what}: corr {c:.4f}"
