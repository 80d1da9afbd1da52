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


# ----------------------------------------------------------------------------- help


def _help_pages() -> dict[str, tuple[str, str]]:
    """Every command's help as rendered at 80 columns: name -> (docstring, output)."""
    import typer
    from typer.testing import CliRunner

    from socialcredit.cli import app

    group = typer.main.get_command(app)
    runner = CliRunner(env={"COLUMNS": "80", "TERMINAL_WIDTH": "80"})
    pages = {"": (group.help or "", runner.invoke(app, ["--help"]).output)}
    import click

    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        res = runner.invoke(app, [name, "--help"])
        assert res.exit_code == 0, (name, res.output)
        pages[name] = (group.get_command(ctx, name).help or "", res.output)
    return pages


def _examples(doc: str) -> list[str]:
    """The lines of a docstring's Example(s) paragraph."""
    import inspect

    for para in inspect.cleandoc(doc).split("\n\n"):
        head, _, rest = para.partition("\n")
        if head.strip() in ("Example:", "Examples:"):
            return [line.strip() for line in rest.splitlines() if line.strip()]
    return []


def test_help_fits_80_columns_with_whole_examples_and_plain_flags():
    pages = _help_pages()
    assert {"run", "show", "describe", "scenarios", "audit", "sweep"} <= set(pages)
    with_examples = 0
    for name, (doc, text) in pages.items():
        lines = text.splitlines()
        long = [line for line in lines if len(line) > 80]
        assert not long, (name, long)
        assert "…" not in text, (name, text)  # nothing cut short
        assert "<bool>" not in text, (name, text)  # flags show as flags
        shown = {line.strip(" │") for line in lines}
        for example in _examples(doc):
            assert example in shown, (name, example)  # one whole line, never wrapped
            with_examples += 1
    assert with_examples >= 15
    # a command's line in the list is its first paragraph, on as few lines as fit
    assert "another design on the same society" in " ".join(pages[""][1].split())


# ----------------------------------------------------------------------------- scenarios


def _invoke(*args: str):
    from typer.testing import CliRunner

    from socialcredit.cli import app

    return CliRunner(env={"COLUMNS": "200"}).invoke(app, list(args))


def test_scenarios_show_size_length_and_an_estimated_run_time():
    from socialcredit.cli import expected_run_seconds
    from socialcredit.scenario import list_presets

    res = _invoke("scenarios")
    assert res.exit_code == 0, res.output
    lines = [line.split("│") for line in res.output.splitlines() if line.count("│") == 6]
    rows = {cells[1].strip(): cells for cells in lines}
    for name, _ in list_presets():
        s = sc.load_scenario(name)
        cells = [c.strip() for c in rows[name][2:5]]
        assert cells[:2] == [f"{s.population.agents:,}", f"{s.days:,}"], name
        assert cells[2].startswith("~"), cells
    assert "an estimate for a first run on a 2-core CPU" in " ".join(res.output.split())
    # calibrated on the README's main job as measured (docs/performance.md): 11.5 s
    assert expected_run_seconds("rongcheng", 714_355, 365) == pytest.approx(11.5, abs=0.1)
    # twice the agent-days, twice the simulated part
    one = expected_run_seconds("national", 100_000, 365)
    two = expected_run_seconds("national", 200_000, 365)
    assert two - one == pytest.approx(100_000 * 365 / 2.23e7)


def test_show_comments_loads_back_the_same_with_descriptions():
    import yaml

    from socialcredit.scenario import resolved_yaml

    res = _invoke("show", "xinjiang-informants", "--comments", "--agents", "1000")
    assert res.exit_code == 0, res.output
    s = sc.load_scenario("xinjiang-informants", agents=1000)
    assert yaml.safe_load(res.output) == yaml.safe_load(resolved_yaml(s))
    # each description once, as a comment, where its field first appears
    assert res.output.count("# Probability per agent per day of doing it, with no system") == 1
    assert "# Points to the informant per report." in res.output


def test_describe_explains_one_field():
    import yaml

    from socialcredit.scenario import preset_path

    res = _invoke("describe", "behaviours.base_rate")
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "Field behaviours.<name>.base_rate" in text
    assert "Expects a number between 0 and 0.5" in text
    assert "Default none: required" in text
    assert "Probability per agent per day of doing it" in text
    raw = yaml.safe_load(preset_path("suzhou-civility-code").read_text())
    rates = ", ".join(yaml.safe_dump(b["base_rate"]).split("\n")[0] for b in raw["behaviours"])
    assert f"suzhou-civility-code │ {rates}" in text

    res = _invoke("describe", "informants.reward_points")
    text = " ".join(res.output.split())
    assert "Default 0" in text and "informant-state │ 3" in text and "rongcheng" not in text

    res = _invoke("describe", "popluation.agents")
    assert res.exit_code == 2
    assert "no field 'popluation' (did you mean 'population'?)" in res.output
    res = _invoke("describe", "programmes.tiers.nam")
    assert res.exit_code == 2 and "did you mean 'name'?" in res.output
