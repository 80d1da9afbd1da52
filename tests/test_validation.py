"""Scenario loading: every malformed file in tests/corpus is rejected with a message that says
what is wrong, where (dotted path and line), and what would be valid."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from socialcredit.scenario import (
    Scenario,
    ScenarioError,
    ScenarioIssue,
    json_schema,
    list_presets,
    load_scenario,
    preset_path,
    resolved_yaml,
    scenario_hash,
)
from socialcredit.scenario.loader import COMMAND_LINE, load_yaml_with_lines, parse_scenario

CORPUS = Path(__file__).parent / "corpus"
BASE = CORPUS / "_valid_base.yaml"
CASES = sorted(CORPUS.glob("[0-9][0-9]-*.yaml"))


def _header(path: Path) -> dict[str, str]:
    """The `# expect:`, `# path:` and `# line:` comments at the top of a corpus file."""
    out = {}
    for line in path.read_text().splitlines():
        m = re.match(r"# (expect|path|line):\s?(.*)$", line)
        if not m:
            break
        out[m.group(1)] = m.group(2).strip()
    return out


def _errors(target, *args, **kw) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(target, *args, **kw)
    return info.value


def test_corpus_is_big_enough():
    assert len(CASES) >= 35
    assert sum("line" in _header(p) for p in CASES) >= 10


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_malformed_scenario_is_rejected(path: Path):
    head = _header(path)
    assert "expect" in head and "path" in head, f"{path.name} lacks its # expect/# path header"
    err = _errors(path)
    matching = [i for i in err.issues if head["expect"] in i.message]
    assert matching, f"no issue says {head['expect']!r}:\n{err}"
    at_path = [i for i in matching if i.path == head["path"]]
    assert at_path, f"no {head['expect']!r} issue at path {head['path']!r}:\n{err}"
    if "line" in head:
        assert any(i.line == int(head["line"]) for i in at_path), str(err)
    assert path.name in str(err)
    assert str(err).startswith(f"invalid scenario {path}: {len(err.issues)} problem")
    assert all(i.file == str(path) for i in err.issues)


def test_valid_base_validates():
    s = load_scenario(BASE)
    assert s.population.agents == 1000 and s.days == 365


@pytest.mark.parametrize("name", [n for n, _ in list_presets()])
def test_every_preset_validates(name: str):
    s = load_scenario(name)
    assert isinstance(s, Scenario)
    assert s == load_scenario(preset_path(name))


def test_list_presets_has_descriptions():
    presets = dict(list_presets())
    assert "rongcheng" in presets
    assert all(desc for desc in presets.values())
    assert list(presets) == sorted(presets)


@pytest.mark.parametrize("target", [str(BASE), *(n for n, _ in list_presets())])
def test_resolved_yaml_round_trips(target: str):
    s = load_scenario(target)
    text = resolved_yaml(s)
    assert parse_scenario(text, "resolved.yaml") == s
    assert "record:" in text and "economy:" in text  # defaults are written out
    assert text.index("metadata:") < text.index("population:") < text.index("days:")


def test_overrides_apply():
    s = load_scenario(
        BASE,
        [
            "population.agents=500",
            "jurisdictions.0.share=0.5",
            "jurisdictions.1.share=0.5",
            "programmes.points.points.littering=-20",
            "programmes.points.channels=[cameras]",
            "response.model=fixed",
            "population.propensity_sigma=0.5",
            "agents=400",
        ],
    )
    assert s.population.agents == 400
    assert [j.share for j in s.jurisdictions] == [0.5, 0.5]
    assert s.programmes["points"].points["littering"] == -20
    assert s.programmes["points"].channels == ["cameras"]
    assert s.response.model == "fixed"
    assert s.population.propensity_sigma == 0.5


def test_bad_override_value_is_reported_on_the_command_line():
    err = _errors(BASE, ["population.agents=lots", "days=0"])
    by_path = {i.path: i for i in err.issues}
    agents = by_path["population.agents"]
    assert agents.file == COMMAND_LINE and agents.line is None
    assert agents.override == "population.agents=lots"
    assert "expected an integer" in agents.message
    assert str(agents).startswith("<command line> [population.agents=lots]: population.agents")
    assert by_path["days"].file == COMMAND_LINE
    assert str(BASE) in str(err)  # the header still names the scenario file


def test_override_through_missing_container_is_reported():
    err = _errors(
        BASE, ["population.nonexistent.x=1", "jurisdictions.9.share=1", "days.x=3", "oops"]
    )
    assert len(err.issues) == 4
    assert all(i.file == COMMAND_LINE and i.override for i in err.issues)
    messages = "\n".join(i.message for i in err.issues)
    assert "no field 'nonexistent'" in messages
    assert "use an index from 0 to 1" in messages
    assert "not a mapping or list" in messages
    assert "expected path=value" in messages


def test_override_new_key_is_left_to_validation():
    err = _errors(BASE, ["population.colour=red"])
    (issue,) = err.issues
    assert issue.path == "population.colour" and issue.file == COMMAND_LINE
    assert "unknown field 'colour'" in issue.message


def test_override_semantic_issue_keeps_yaml_line_of_untouched_fields():
    err = _errors(BASE, ["programmes.points.tiers.1.max=1060"])
    (issue,) = err.issues
    assert issue.path == "programmes.points.tiers.1.max"
    assert issue.override == "programmes.points.tiers.1.max=1060"
    assert "overlaps tier A" in issue.message


def test_agents_days_seed_keywords():
    s = load_scenario(BASE, agents=123, days=10, seed=99)
    assert (s.population.agents, s.days, s.seed) == (123, 10, 99)
    same = load_scenario(BASE, agents=None, days=None, seed=None)
    assert same == load_scenario(BASE)
    err = _errors(BASE, agents=0)
    assert err.issues[0].file == COMMAND_LINE and err.issues[0].override == "agents=0"
    with pytest.raises(TypeError):
        load_scenario(BASE, population=5)


def test_unknown_preset_lists_presets():
    err = _errors("no-such-preset")
    message = str(err)
    assert "no-such-preset" in message
    for name, _ in list_presets():
        assert name in message
    assert "path" in message
    with pytest.raises(ScenarioError):
        preset_path("../../etc/passwd")


def test_all_issues_reported_at_once():
    err = _errors(CORPUS / "41-three-problems.yaml")
    assert len(err.issues) >= 3
    assert {i.path for i in err.issues} >= {"colour", "channels.0.coverage.littering", "days"}
    assert len(str(err).splitlines()) == len(err.issues) + 1


def test_duplicate_keys_and_validation_reported_together():
    text = BASE.read_text().replace("\nseed: 7", "\nseed: 7\nseed: 8\ncolour: red")
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "dup.yaml")
    messages = [i.message for i in info.value.issues]
    assert any("duplicate key 'seed'" in m for m in messages)
    assert any("unknown field 'colour'" in m for m in messages)


def test_load_yaml_with_lines_maps_paths_to_lines():
    data, line_of = load_yaml_with_lines(BASE.read_text(), "base.yaml")
    lines = BASE.read_text().splitlines()
    assert data["population"]["agents"] == 1000
    assert "agents: 1000" in lines[line_of[("population", "agents")] - 1]
    assert "name: banks" in lines[line_of[("channels", 1)] - 1]
    assert "max: 1049" in lines[line_of[("programmes", "points", "tiers", 1, "max")] - 1]
    with pytest.raises(ScenarioError, match="duplicate key"):
        load_yaml_with_lines("a: 1\na: 2\n", "x.yaml")


def test_issue_str_format():
    issue = ScenarioIssue(
        "rongcheng.yaml", 57, "programmes.rongcheng.tiers.2.max", 1040, "tier A overlaps"
    )
    assert (
        str(issue) == "rongcheng.yaml:57: programmes.rongcheng.tiers.2.max = 1040: tier A overlaps"
    )
    err = ScenarioError([issue, issue])
    assert str(err).splitlines()[0] == "invalid scenario rongcheng.yaml: 2 problems"


def test_scenario_hash_is_stable_and_sensitive():
    a, b = load_scenario(BASE), load_scenario(BASE)
    h = scenario_hash(a)
    assert re.fullmatch(r"[0-9a-f]{16}", h)
    assert h == scenario_hash(b)
    assert h == scenario_hash(parse_scenario(resolved_yaml(a)))
    assert h != scenario_hash(load_scenario(BASE, seed=8))
    assert h != scenario_hash(load_scenario(BASE, ["programmes.points.points.fraud=-51"]))


def test_json_schema():
    schema = json_schema()
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["title"]
    assert "population" in schema["properties"]


def test_override_inside_a_section_the_file_leaves_to_defaults():
    """`record:` is absent from the preset; record.snapshot=false still sets it."""
    from socialcredit import load_scenario

    assert load_scenario("rongcheng").record.snapshot is True
    sc = load_scenario("rongcheng", ["record.snapshot=false", "record.metrics_every=7"])
    assert sc.record.snapshot is False and sc.record.metrics_every == 7
    err = _errors(BASE, ["record.snapshoot=false"])  # a typo inside it is still an error
    assert err.issues[0].override == "record.snapshoot=false"
    assert "snapshoot" in err.issues[0].message
