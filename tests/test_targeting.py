"""Group targeting and dispositions: a programme that scores one group's acts puts the burden on
that group, group rate factors multiply base rates, and political and religious dispositions
drive the acts they govern. Each test would fail if its mechanism were removed or miswired."""

from __future__ import annotations

import numpy as np
from metric_sums import rate, total

import socialcredit as sc

N, DAYS = 20_000, 150


def test_minority_carries_the_sanctions(xinjiang):
    m = xinjiang.metrics
    ratio = rate(m, "sanctioned", "minority") / rate(m, "sanctioned", "majority")
    assert ratio > 1.5, ratio
    s = xinjiang.summary["jurisdictions"]["prefecture"]["mean_score_by_group"]
    assert s["minority"] < s["majority"]


def test_without_the_targeted_programme_groups_are_sanctioned_alike():
    """Prayer unscored and not informed on, no false reports, no group difference in rates:
    minority and majority sanction rates agree within noise."""
    ov = [
        "programmes.xinjiang.points.public_prayer=0",
        "informants.coverage.public_prayer=0",
        "informants.false_report_rate=0",
        "informants.targeted_rewards=[]",
        "population.groups.1.wealth_factor=1.0",
        "response.model=fixed",
    ]
    r = sc.simulate(sc.load_scenario("xinjiang-informants", ov, agents=N, days=DAYS))
    m = r.metrics
    a, b = rate(m, "sanctioned", "minority"), rate(m, "sanctioned", "majority")
    n_min, n_maj = total(m, "agents", "minority"), total(m, "agents", "majority")
    se = np.sqrt(a / n_min + b / n_maj) * 3  # counts per agent-day are near Poisson; agents repeat
    assert abs(a - b) < 4 * se + 0.15 * max(a, b), (a, b)


def test_group_rate_factor_multiplies_the_base_rate(xinjiang):
    cf = xinjiang.counterfactual.metrics  # no system: rates untouched by deterrence
    ratio = rate(cf, "acts.public_prayer", "minority") / rate(cf, "acts.public_prayer", "majority")
    assert 6.5 < ratio < 9.5, ratio  # rate_factors: public_prayer x 8


def test_dispositions_have_mean_one_and_drive_rates(xinjiang):
    a = xinjiang.agents
    assert abs(a["political"].mean() - 1) < 0.05 and a["political"].std() > 0.5
    assert abs(a["religiosity"].mean() - 1) < 0.05
    # criticism is driven by the political disposition: those recorded criticising are
    # size-biased towards high values (E[p^2]/E[p] = exp(sigma^2) = e for sigma = 1) ...
    ev = xinjiang.events
    critics = ev.loc[
        (ev["kind"] == "record") & (ev["behaviour"] == "criticise_government"), "agent"
    ]
    assert len(critics) > 100
    assert a["political"].to_numpy()[critics].mean() > 1.6
    # ... while jaywalking is not
    walkers = ev.loc[(ev["kind"] == "record") & (ev["behaviour"] == "jaywalking"), "agent"]
    assert abs(a["political"].to_numpy()[walkers].mean() - 1) < 0.15
    no_spread = sc.simulate(
        sc.load_scenario(
            "xinjiang-informants",
            ["population.political_sigma=0", "population.religiosity_sigma=0"],
            agents=2000,
            days=5,
        )
    )
    assert (no_spread.agents["political"] == 1).all()
