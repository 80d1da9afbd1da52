"""Honest audit intervals: scipy's quantiles, exact intervals from pooled counts where the
replicates do not vary, intervals that stay where the values can lie, readable units, and a
calibration: placebo audits cover a true effect of 0 about 95% of the time, and a planted
effect of known size is recovered.

The audits here are small (3,000 agents, 30 days) and seeded, so every test is deterministic.
"""

from __future__ import annotations

import math
import pickle
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from socialcredit.audit import Outcome, audit, replicate_seeds
from socialcredit.audit.catalogue import outcomes_for
from socialcredit.audit.formatting import MINUS, format_row
from socialcredit.audit.formulas import div, per_agent_year, share_of
from socialcredit.audit.outcome import Counted, Undefined
from socialcredit.audit.result import VALUE_COLUMNS
from socialcredit.audit.runner import _summarise
from socialcredit.audit.statistics import binomial_ci, difference_ci, poisson_ci
from socialcredit.scenario import load_scenario

# ----------------------------------------------------------------------------- exact intervals


@pytest.mark.parametrize("k", [0, 1, 7, 250])
def test_poisson_interval_is_the_exact_garwood_interval(k):
    exposure = 40.0
    lo, hi = poisson_ci(k, exposure)
    # the upper end is the rate at which seeing k or fewer events has chance 2.5%, and the
    # lower end the rate at which seeing k or more has chance 2.5%
    assert stats.poisson.cdf(k, hi * exposure) == pytest.approx(0.025, abs=1e-9)
    if k == 0:
        assert lo == 0.0 and hi == pytest.approx(-math.log(0.025) / exposure)  # 3.69 / E
    else:
        assert stats.poisson.sf(k - 1, lo * exposure) == pytest.approx(0.025, abs=1e-9)
    assert lo <= k / exposure <= hi


@pytest.mark.parametrize(("x", "n"), [(0, 50), (3, 50), (50, 50), (400, 1000)])
def test_binomial_interval_is_clopper_pearson_and_inside_0_1(x, n):
    lo, hi = binomial_ci(x, n)
    assert 0.0 <= lo <= x / n <= hi <= 1.0
    if x < n:
        assert stats.binom.cdf(x, n, hi) == pytest.approx(0.025, abs=1e-9)
    else:
        assert hi == 1.0
    if x > 0:
        assert stats.binom.sf(x - 1, n, lo) == pytest.approx(0.025, abs=1e-9)
    else:
        assert lo == 0.0


def test_difference_interval_is_every_difference_both_arms_allow():
    lo, hi = difference_ci("rate", 0, 100.0, 0, 100.0)
    assert (lo, hi) == pytest.approx((-0.03689, 0.03689), abs=1e-5)
    a, b = poisson_ci(30, 10.0), poisson_ci(10, 10.0)
    assert difference_ci("rate", 30, 10.0, 10, 10.0) == (a[0] - b[1], a[1] - b[0])
    lo, hi = difference_ci("share", 5, 10, 5, 10)
    assert -1.0 <= lo < 0.0 < hi <= 1.0
    with pytest.raises(ValueError):
        difference_ci("mean", 1, 1, 1, 1)


# ----------------------------------------------------------------------------- counts


def _fake(**totals: float) -> SimpleNamespace:
    rows = [("agents", 365.0 * 10)] + list(totals.items())  # 10 agent-years
    metrics = pd.DataFrame(
        {
            "day": 1,
            "jurisdiction": "j",
            "group": "g",
            "metric": [m for m, _ in rows],
            "value": [v for _, v in rows],
        }
    )
    return SimpleNamespace(metrics=metrics, scenario=None)


def test_formulas_of_counts_return_their_counts():
    r = _fake(**{"acts.littering": 4.0, "loans_refused": 3.0, "loans_applied": 12.0})
    rate = per_agent_year(["acts.littering"])(r)
    assert isinstance(rate, Counted) and isinstance(rate, float)
    assert (float(rate), rate.num, rate.den, rate.kind) == (0.4, 4.0, 10.0, "rate")
    share = share_of("loans_refused", "loans_applied", "none")(r)
    assert (float(share), share.num, share.den, share.kind) == (0.25, 3.0, 12.0, "share")
    back = pickle.loads(pickle.dumps(share))
    assert (back, back.num, back.den, back.kind) == (0.25, 3.0, 12.0, "share")
    assert rate + 1 == pytest.approx(1.4) and not isinstance(rate + 1, Counted)
    assert type(div(1.0, 2.0, "x")) is float  # without a kind: a plain number
    with pytest.raises(Undefined):
        div(1.0, 0.0, "x", "rate")


# ----------------------------------------------------------------------------- table rows


def _values(name: str, sys: list, cf: list) -> pd.DataFrame:
    """Replicate values of one outcome; each arm a list of (num, den) counts or floats."""
    rows = []
    for i, (s, c) in enumerate(zip(sys, cf, strict=True)):
        row = {"outcome": name, "replicate": i, "seed": i}
        for arm, x in (("system", s), ("counterfactual", c)):
            if isinstance(x, tuple):
                row.update({arm: x[0] / x[1], f"{arm}_num": x[0], f"{arm}_den": x[1]})
            else:
                row.update({arm: x, f"{arm}_num": math.nan, f"{arm}_den": math.nan})
        row["effect"] = row["system"] - row["counterfactual"]
        rows.append(row)
    return pd.DataFrame(rows, columns=VALUE_COLUMNS)


def _outcome(name, unit="acts per agent-year", comparison="difference", scale="number"):
    return Outcome(name, "aim", unit, "A test outcome.", lambda r: 0.0, comparison, scale=scale)


def test_rare_event_seen_in_no_replicate_gets_the_interval_its_counts_allow():
    """The issue's "Commercial fraud 0 (0 to 0)": now 0 with what 0 events in 3 x 250
    agent-years allow, and "no variation across 3 replicates" in words."""
    o = _outcome("misconduct.commercial_fraud")
    v = _values(o.name, [(0, 250.0)] * 3, [(0, 250.0)] * 3)
    row = _summarise(o, v, True, {}, 3, "rate")
    assert row["effect"] == 0.0
    upper = -math.log(0.025) / 750  # 3.69 events over the pooled 750 agent-years
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((-upper, upper))
    assert row["interval"] == "pooled counts, exact Poisson"
    assert "no variation across 3 replicates" in row["note"]
    text = format_row(SimpleNamespace(**row), "number")
    assert text["unit"] == "acts per 1,000 agent-years"
    assert text["effect"] == f"0 ({MINUS}5 to +5)", text  # 3.69 / 750 = 4.9 per 1,000
    assert text["without"] == text["with"] == "0"


def test_no_variation_without_counts_gives_no_interval_and_says_so():
    o = _outcome("wealth_gini", unit="Gini coefficient (0-1)")
    v = _values(o.name, [0.4, 0.41, 0.42], [0.4, 0.41, 0.42])
    row = _summarise(o, v, True, {}, 3, None)
    assert row["effect"] == 0.0 and math.isnan(row["ci_low"]) and math.isnan(row["ci_high"])
    assert row["interval"] == "" and "no variation across 3 replicates" in row["note"]
    text = format_row(SimpleNamespace(**row), "number")
    assert text["effect"] == "0"  # no "(0 to 0)"


def test_no_pooled_interval_unless_both_arms_have_counts():
    o = _outcome("mixed")
    v = _values(o.name, [(0, 10.0)] * 3, [0.0] * 3)  # the counterfactual is a plain number
    row = _summarise(o, v, True, {}, 3, "rate")
    assert row["effect"] == 0.0 and math.isnan(row["ci_low"]) and row["interval"] == ""
    assert row["note"] == "no variation across 3 replicates; no interval"


def test_varying_replicates_keep_the_t_interval():
    o = _outcome("misconduct.littering")
    sys, cf = [(40, 100.0), (52, 100.0), (47, 100.0)], [(50, 100.0), (55, 100.0), (49, 100.0)]
    row = _summarise(o, _values(o.name, sys, cf), True, {}, 3, "rate")
    eff = np.array([-0.10, -0.03, -0.02])
    half = stats.t.ppf(0.975, 2) * eff.std(ddof=1) / math.sqrt(3)
    assert row["interval"] == "t" and row["note"] == ""
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((eff.mean() - half, eff.mean() + half))


def test_intervals_of_shares_stay_inside_0_1_and_of_rates_above_0():
    """The issue's "children refused 0.019% (-0.219% to 0.256%)": a share's interval now
    starts at 0; so does that of a rate, and an effect on a share stays within +-100 pp."""
    share = _outcome("children_excluded", "share of school applications", scale="share")
    v = _values(share.name, [(0, 1000), (0, 1000), (0.57, 1000)], [math.nan] * 3)
    row = _summarise(share, v, True, {}, 3, "share")
    assert math.isnan(row["effect"]) and row["interval"] == "t"
    assert row["ci_low"] == 0.0 < row["system"] < row["ci_high"] < 1.0
    text = format_row(SimpleNamespace(**row), "share")
    assert MINUS not in text["with"] and "-" not in text["with"], text

    rate = _outcome("tier_mobility", "tier moves per agent-year", comparison="system")
    v = _values(rate.name, [(0, 10.0), (0, 10.0), (3, 10.0)], [math.nan] * 3)
    row = _summarise(rate, v, True, {}, 3, "rate")
    assert row["ci_low"] == 0.0 < row["ci_high"]

    loans = _outcome("loan_refusal_rate", "share of loan applications", scale="share")
    v = _values(loans.name, [(9, 10), (1, 10), (10, 10)], [(0, 10), (1, 10), (0, 10)])
    row = _summarise(loans, v, True, {}, 3, "share")
    assert -1.0 <= row["ci_low"] and row["ci_high"] == 1.0  # t alone would pass +100 pp

    ratio = _outcome("disparate.x", "ratio, minority / largest group", comparison="within")
    v = _values(ratio.name, [0.1, 0.2, 3.0], [math.nan] * 3)
    assert _summarise(ratio, v, True, {}, 3, None)["ci_low"] == 0.0


# ----------------------------------------------------------------------------- units


def _row(cf, sys, effect, lo, hi, unit="acts per agent-year", label="Fraud acts per agent-year"):
    return SimpleNamespace(
        counterfactual=cf,
        system=sys,
        effect=effect,
        ci_low=lo,
        ci_high=hi,
        relative=effect / cf if cf else math.nan,
        comparison="difference",
        unit=unit,
        label=label,
        kind="aim",
        note="",
    )


def test_small_rates_print_per_1000_or_per_100000_agent_years():
    f = format_row(_row(0.0032, 0.0024, -0.0008, -0.0011, -0.0005), "number")
    assert f["unit"] == "acts per 1,000 agent-years"
    assert f["label"] == "Fraud acts per 1,000 agent-years"
    assert (f["without"], f["with"]) == ("3.20", "2.40")
    assert f["effect"] == f"{MINUS}0.80 ({MINUS}1.10 to {MINUS}0.50)"
    f = format_row(_row(4e-6, 3e-6, -1.4e-7, -2e-7, -0.8e-7), "number")
    assert f["unit"] == "acts per 100,000 agent-years"
    assert f["effect"] == f"{MINUS}0.014 ({MINUS}0.020 to {MINUS}0.008)"
    assert "0.0000" not in " ".join(f.values())
    f = format_row(_row(0.2, 0.1, -0.1, -0.12, -0.08), "number")  # large enough: unchanged
    assert f["unit"] == "acts per agent-year" and f["effect"].startswith(f"{MINUS}0.10")
    f = format_row(
        _row(0.004, 0.003, -0.001, -0.002, 0.0, "bribes per firm-year", "Bribes"), "number"
    )
    assert f["label"] == "Bribes (per 1,000 firm-years)"


def test_small_shares_print_per_mille_and_tiny_numbers_with_a_power_of_ten():
    r = _row(0.0, 0.0004, 0.0004, 0.0003, 0.0005, "share of agent-days", "Sanctioned")
    f = format_row(r, "share")
    assert f["with"] == "0.400‰" and f["effect"] == "+0.40‰ (+0.30‰ to +0.50‰)"
    assert "per mille" in f["unit"]
    gini = _row(0.43, 0.43, -1.4e-8, -4.6e-8, 3.3e-8, "Gini coefficient (0-1)", "Gini")
    f = format_row(gini, "number")
    assert f["effect"] == f"{MINUS}1.4 ({MINUS}4.6 to +3.3) ×10⁻⁸", f["effect"]


# ----------------------------------------------------------------------------- calibration

AGENTS, DAYS = 3_000, 30


class _Arms:
    """Stands in for socialcredit.api.simulate in an audit: the counterfactual arm is
    ``other(scenario)`` instead of the scenario without its system."""

    def __init__(self, other):
        import socialcredit.api

        self.real, self.other = socialcredit.api.simulate, other

    def __call__(self, scenario, counterfactual=False, **kw):
        result = self.real(scenario, **kw)
        if counterfactual:
            result.counterfactual = self.real(self.other(scenario), **kw)
        return result


def _independent(scenario):
    """The same scenario on a seed independent of the replicate's: a placebo arm."""
    return scenario.model_copy(update={"seed": replicate_seeds(scenario.seed, 1)[0]})


@pytest.fixture(scope="module")
def placebo_audits():
    """40 audits of no-system against itself on independent seeds, 3 replicates each: 640
    intervals, 96.9% of them covering 0 when written (533 by t: 96.2%)."""
    sc = load_scenario("no-system", agents=AGENTS, days=DAYS)
    with pytest.MonkeyPatch.context() as mp:
        import socialcredit.api

        mp.setattr(socialcredit.api, "simulate", _Arms(_independent))
        return [audit(sc, 3, root_seed=1000 + i) for i in range(40)]


def test_placebo_intervals_cover_zero_about_95_percent_of_the_time(placebo_audits):
    t = pd.concat([a.table for a in placebo_audits], ignore_index=True)
    t = t[t["ci_low"].notna() & t["effect"].notna()]
    covered = (t["ci_low"] <= 0.0) & (t["ci_high"] >= 0.0)
    assert len(t) >= 600
    assert 0.90 <= covered.mean() <= 0.99, (len(t), covered.mean())
    by_t = covered[t["interval"] == "t"]
    assert len(by_t) >= 500 and 0.90 <= by_t.mean() <= 0.99, (len(by_t), by_t.mean())
    # the arms did differ: these are intervals of independent runs, not of identical ones
    v = pd.concat([a.values for a in placebo_audits])
    acts = v[v["outcome"] == "misconduct.total"]
    assert len(acts) == 120 and (acts["system"] != acts["counterfactual"]).mean() > 0.8


def test_planted_effect_of_a_base_rate_is_recovered():
    """Volunteering 0.012 a day against 0.010, on the same people and random numbers: 0.002 x
    365 = 0.73 more acts per agent-year (not propensity-driven, so exactly that in
    expectation); every other behaviour is drawn from the same words, and stays the same."""
    base = load_scenario("no-system", agents=AGENTS, days=DAYS)
    planted = load_scenario("no-system", ["behaviours.8.base_rate=0.012"], agents=AGENTS, days=DAYS)
    wanted = [o for o in outcomes_for(planted) if o.name.startswith(("prosocial", "misconduct"))]
    with pytest.MonkeyPatch.context() as mp:
        import socialcredit.api

        same_seed = _Arms(lambda s: base.model_copy(update={"seed": s.seed}))
        mp.setattr(socialcredit.api, "simulate", same_seed)
        a = audit(planted, 5, root_seed=7, outcomes=wanted)
    row = a.row("prosocial.volunteering")
    truth = 0.002 * 365
    assert row["interval"] == "t" and row["ci_low"] <= truth <= row["ci_high"], row
    assert row["ci_low"] > 0 and row["ci_high"] - row["ci_low"] < 0.5 * truth
    assert row["effect"] == pytest.approx(truth, rel=0.1)
    assert a.row("misconduct.total")["effect"] == 0.0
