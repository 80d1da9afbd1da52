"""Sanctions on people beyond loans and travel: matching penalties in dating and jobs, public
shaming and the shunning it brings, and appeals that remove false records."""

from __future__ import annotations

import numpy as np
import pytest
from metric_sums import total

import socialcredit as sc

N, DAYS = 20_000, 150


def test_matching_penalty_costs_the_share_it_says():
    """Every tier penalised by p: lost matches / attempts = success * p, within noise."""
    p, success = 0.4, 0.5
    tiers = ("A", "B", "C", "D", "listed")
    ov = [f"programmes.xinjiang.consequences.{t}.matching_penalty={p}" for t in tiers]
    ov += ["economy.match_demand=0.02", f"economy.match_success={success}", "response.model=fixed"]
    r = sc.simulate(sc.load_scenario("xinjiang-informants", ov, agents=N, days=60))
    attempts, lost = total(r.metrics, "match_attempts"), total(r.metrics, "matches_lost")
    expected = success * p
    se = np.sqrt(expected * (1 - expected) / attempts)
    assert attempts > 10_000
    assert abs(lost / attempts - expected) < 4 * se


@pytest.mark.slow  # heavy (30 s); shunning stays covered by test_publicity and test_audiences
def test_public_shaming_makes_contacts_shun():
    """Shamed agents (tier B on posters) lose matches at success * shunning; nobody else does."""
    ov = [
        "programmes.xinjiang.consequences.B.public_shaming=true",
        "economy.match_demand=0.02",
        "economy.shunning=0.6",
        "response.model=fixed",
    ]
    r = sc.simulate(sc.load_scenario("xinjiang-informants", ov, agents=N, days=90))
    ev = r.events
    assert total(r.metrics, "shamed") > 0
    lost = ev[ev["kind"] == "match_lost"]
    assert len(lost) > 0
    # every lost match belongs to someone shamed that day: their score was in tier B (900-999)
    assert ((lost["score"] >= 900) & (lost["score"] <= 999)).all()
    off = sc.simulate(sc.load_scenario("xinjiang-informants", ov[1:], agents=N, days=90))
    assert total(off.metrics, "shamed") == 0 and total(off.metrics, "matches_lost") == 0


def test_upheld_appeals_remove_false_records_exactly():
    """Appeals decided the next day and always upheld: no false record counts at the end, and
    each final score is the base plus the true records still counting."""
    ov = [
        "channels.0.false_positive_rate=0.001",
        "programmes.xinjiang.appeals={upheld: 1.0, delay_days: 1.0}",
        "response.model=fixed",
        "informants.share=0",  # informants' rewards would add points that are not records
    ]
    r = sc.simulate(sc.load_scenario("xinjiang-informants", ov, agents=8000, days=60))
    ev = r.events
    false = ev[ev["kind"] == "false_record"]
    assert len(false) > 50
    upheld = ev[ev["kind"] == "appeal_upheld"]
    # every false record but those of the last day was appealed successfully the next day
    assert len(upheld) >= (false["day"] < 60).sum() - 5
    p = r.scenario.programmes["xinjiang"]
    true = ev[(ev["kind"] == "record") & (ev["expires_day"] > 60)]
    last_day_false = false[false["day"] == 60]
    raw = (
        true.groupby("agent")["points"]
        .sum()
        .add(last_day_false.groupby("agent")["points"].sum(), fill_value=0)
    )
    raw = raw.reindex(range(8000), fill_value=0).to_numpy()
    assert (r.agents["score"].to_numpy() == np.clip(p.base_score + raw, *p.bounds)).all()


def test_appeals_cut_mistaken_sanctions():
    base = ["channels.0.false_positive_rate=0.001", "response.model=fixed"]
    no = sc.simulate(sc.load_scenario("xinjiang-informants", base, agents=N, days=90))
    yes = sc.simulate(
        sc.load_scenario(
            "xinjiang-informants",
            base + ["programmes.xinjiang.appeals={upheld: 0.8, delay_days: 10.0}"],
            agents=N,
            days=90,
        )
    )
    assert total(yes.metrics, "appeals_upheld") > 0 and total(no.metrics, "appeals_upheld") == 0
    # sanctions on the day of a false record cannot be appealed in time; later ones can
    assert total(yes.metrics, "sanctioned_false") < 0.95 * total(no.metrics, "sanctioned_false")
