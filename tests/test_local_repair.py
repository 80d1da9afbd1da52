"""A local repair paired with the list's copy (issue 14, the merge is not free): when a place's
own programme upholds an appeal against a person's false record while the person is on a
layered list on a false record, the list's copy is corrected with chance `repair_share` after
`repair_delay_days`; otherwise the listing outlives the local repair. Known answers: with share
1 and no delay nothing outlives its repair; with share 0 every listing on a corrected record
outlives it, and nothing else of the run moves."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml

import socialcredit as sc
from socialcredit.scenario.loader import parse_scenario

BASE = {
    "metadata": {"name": "local-repair", "description": "a city score with appeals under a list"},
    "population": {
        "agents": 1000,
        "groups": [{"name": "all", "share": 1.0}],
        "wealth": {"distribution": "lognormal", "median": 1.0, "sigma": 0.5},
        "contacts": {"degree": 4, "reach": 10},
    },
    "jurisdictions": [{"name": "city", "share": 1.0, "programme": "score"}],
    "behaviours": [{"name": "a", "base_rate": 0.002}],
    "channels": [
        {"name": "local", "coverage": {"a": 0.5}, "false_positive_rate": 0.02},
        {"name": "national", "coverage": {"a": 0.5}, "false_positive_rate": 0.01},
    ],
    "programmes": {
        "score": {
            "base_score": 100,
            "bounds": [0, 200],
            "points": {"a": -10},
            "channels": ["local"],
            "record_expiry_days": 30,
            "tiers": [
                {"name": "ok", "min": 50, "max": None},
                {"name": "low", "min": None, "max": 49},
            ],
            "appeals": {"upheld": 1.0, "delay_days": 2},
        }
    },
    "lists": {
        "alpha": {
            "channels": ["national"],
            "grounds": ["a"],
            "term_days": 5000,
            "consequences": {"travel_ban": True},
            "merge": {"match_share": 1.0},
        }
    },
    "response": {"model": "fixed"},
    "days": 40,
}


def run(share: float | None, delay: int = 0):
    data = copy.deepcopy(BASE)
    if share is not None:
        data["lists"]["alpha"]["merge"] |= {"repair_share": share, "repair_delay_days": delay}
    text = yaml.safe_dump(data, sort_keys=False)
    return sc.simulate(parse_scenario(text, "test.yaml"))


def series(m, name):
    return m[m["metric"] == name].groupby("day")["value"].sum()


@pytest.fixture(scope="module")
def never_passed_on_run():
    return run(0.0)


@pytest.fixture(scope="module")
def never_passed_on(never_passed_on_run):
    return never_passed_on_run.metrics


def outcome(result) -> float:
    from socialcredit.audit.catalogue import _repairs_outlived

    return float(_repairs_outlived(result))


def test_a_repair_always_passed_on_at_once_leaves_no_listing_outliving_it():
    r = run(1.0)
    assert outcome(r) == 0.0  # the audit's harm: listings outliving a local repair
    m = r.metrics
    fixed, lifted = series(m, "repaired_locally.alpha"), series(m, "lifted.alpha")
    assert fixed.sum() > 10
    np.testing.assert_array_equal(lifted.to_numpy(), fixed.to_numpy())
    assert series(m, "outlived.alpha").max() == 0


def test_a_repair_never_passed_on_leaves_every_corrected_listing_running(
    never_passed_on, never_passed_on_run
):
    """Term 5000 days, no payment: no listing ends, so those outliving their repair on the
    last day are all the listings on corrected records."""
    m = never_passed_on
    assert outcome(never_passed_on_run) == 1.0
    fixed = series(m, "repaired_locally.alpha")
    assert fixed.sum() > 10 and series(m, "lifted.alpha").sum() == 0
    assert series(m, "outlived.alpha").iloc[-1] == fixed.sum()
    np.testing.assert_array_equal(series(m, "outlived.alpha").to_numpy(), fixed.cumsum().to_numpy())


@pytest.mark.slow
def test_pairing_that_passes_nothing_on_moves_nothing_else(never_passed_on):
    """repair_share 0 draws on its own stream and lifts nobody: every other metric is the run
    without the pairing, value for value; a delay keeps listings outliving for its days."""
    plain = run(None).metrics
    new = ("repaired_locally.", "lifted.", "outlived.")
    kept = never_passed_on[~never_passed_on["metric"].str.startswith(new)].reset_index(drop=True)
    np.testing.assert_array_equal(kept["metric"].to_numpy(), plain["metric"].to_numpy())
    np.testing.assert_array_equal(kept["value"].to_numpy(), plain["value"].to_numpy())
    late = run(1.0, delay=5).metrics
    fixed, lifted = series(late, "repaired_locally.alpha"), series(late, "lifted.alpha")
    assert lifted.sum() > 0 and lifted.sum() <= fixed.sum()
    assert series(late, "outlived.alpha").max() > 0
    assert (
        series(late, "wrongly_listed.alpha").iloc[-1]
        < series(never_passed_on, "wrongly_listed.alpha").iloc[-1]
    )
