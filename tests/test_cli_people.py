"""The command line as people use it (issue 16): did-you-mean for unknown names, help at 80
columns, the run's timings and behaviour table, preset sizes, `show --comments`, `describe`."""

from __future__ import annotations

import pytest

import socialcredit as sc
from socialcredit.scenario import ScenarioError

# ----------------------------------------------------------------------------- did you mean


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        # a behaviour named in a programme's points table (checked by the cross-field rules)
        (
            "programmes.rongcheng.points.litterin=-20",
            "unknown behaviour 'litterin' (did you mean 'littering'?)",
        ),
        # a programme named by a jurisdiction
        (
            "jurisdictions.0.programme=rongchen",
            "unknown programme 'rongchen' (did you mean 'rongcheng'?)",
        ),
        # a channel or a behaviour named in a --set path (list items by name)
        (
            "channels.court_record.coverage.debt_judgment=0.5",
            "no item 'court_record' (did you mean 'court_records'?)",
        ),
        ("behaviours.litterin.base_rate=0.1", "no item 'litterin' (did you mean 'littering'?)"),
        # a programme named in a --set path: refused, not started as a new half-empty programme
        ("programmes.rongchen.base_score=900", "no field 'rongchen' (did you mean 'rongcheng'?)"),
    ],
)
def test_unknown_names_get_a_did_you_mean(override, expected):
    with pytest.raises(ScenarioError) as e:
        sc.load_scenario("rongcheng", [override])
    assert len(e.value.issues) == 1, str(e.value)
    assert expected in str(e.value)


def test_a_name_with_nothing_close_gets_no_guess():
    with pytest.raises(ScenarioError) as e:
        sc.load_scenario("rongcheng", ["jurisdictions.0.programme=zzz"])
    assert "unknown programme 'zzz'; defined: ['rongcheng']" in str(e.value)
    assert "did you mean" not in str(e.value)
