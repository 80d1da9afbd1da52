"""Behaviours the essay lists that the pilots score: booking a restaurant and not showing up,
and eating on fast public transit (pilots-2021, the city-score family)."""

from __future__ import annotations

from metric_sums import total

import socialcredit as sc

NEW = {"restaurant_no_show": "city_platform", "eating_on_transit": "transit_gates"}


def test_no_shows_and_eating_on_transit_occur_and_are_recorded():
    """In a short run both behaviours occur everywhere, and are recorded by the channel that
    observes them, with the city-score family's -5 points, only in the zones whose programme
    scores them (a city score that uses that channel)."""
    scenario = sc.load_scenario("pilots-2021", agents=6200, days=60)
    r = sc.simulate(scenario)
    scoring = {
        j.name
        for j in scenario.jurisdictions
        if all(
            scenario.programmes[j.programme].points.get(b, 0) == -5
            and ch in scenario.programmes[j.programme].channels
            for b, ch in NEW.items()
        )
    }
    assert 10 < len(scenario.jurisdictions) - len(scoring) < len(scenario.jurisdictions) - 10
    zone = r.agents.set_index("agent")["jurisdiction"].astype(str)
    ev = r.events
    for b, ch in NEW.items():
        acts, records = total(r.metrics, f"acts.{b}"), total(r.metrics, f"records.{b}")
        assert acts > 50 and 5 <= records < acts, (b, acts, records)
        rec = ev[(ev["behaviour"] == b) & (ev["kind"] == "record")]
        assert len(rec) == records  # the credit files hold every record
        assert set(rec["channel"]) == {ch} and set(rec["points"]) == {-5}, b
        assert set(zone.loc[rec["agent"]]) <= scoring, b
