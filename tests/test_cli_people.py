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


# ----------------------------------------------------------------------------- after a run


def test_first_chunk_and_steady_state_speed_are_shown_apart():
    from socialcredit.cli import ChunkClock, speed_rows

    clock = ChunkClock()
    clock.start(t=100.0)
    # 1,000 agents; chunks of 10 days: the first (compiling) takes 5 s, the next two 0.1 s each
    for days, t in ((10, 105.0), (20, 105.1), (30, 105.2)):
        clock.mark(days, t=t)
    rows = dict(speed_rows(clock, 1000))
    assert rows["First chunk"] == "5.0 s for days 1-10 (incl. compiling)"
    # 20 days x 1,000 agents in 0.2 s = 100,000 agent-days/s
    assert rows["Steady-state speed"] == "100 k agent-days/s (days 11-30 in 200 ms)"

    one = ChunkClock()
    one.start(t=0.0)
    one.mark(30, t=2.0)
    assert "one chunk" in dict(speed_rows(one, 1000))["Steady-state speed"]
    assert speed_rows(ChunkClock(), 1000) == []  # --quiet: no marks, no rows


def test_behaviour_table_says_how_many_records_were_false():
    import pandas as pd
    from rich.console import Console

    from socialcredit.cli import _behaviour_table

    # one cell of 365 agents for one day: one agent-year
    rows = [("agents", 365.0), ("records.littering", 30.0), ("records.fraud", 10.0)]
    rows += [("false_records", 8.0)]
    m = pd.DataFrame(
        [(1, "town", "all", k, v) for k, v in rows],
        columns=["day", "jurisdiction", "group", "metric", "value"],
    )
    s = {"acts_per_agent_year": {"littering": 25.0, "fraud": 12.0}}
    con = Console(width=200, record=True)
    con.print(_behaviour_table(m, s))
    text = con.export_text()
    assert "False records" in text
    all_row = next(line for line in text.splitlines() if "│ all" in line)
    cells = [c.strip() for c in all_row.split("│")[1:-1]]
    assert cells == ["all", "37", "40", "8"]
    assert "20.0% of records were false" in " ".join(text.split())
