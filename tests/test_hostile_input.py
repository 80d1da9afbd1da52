"""Hostile and careless scenario input: files built to exhaust memory or the stack, numbers
written as other tools write them, thousands of mistakes at once, and paths that are not files.
Each is refused (or accepted) with a located message, in bounded time and memory, and the
command line exits 2 without a traceback. docs/reliability.md lists these promises."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from socialcredit.scenario import ScenarioError, load_scenario
from socialcredit.scenario.loader import (
    MAX_REPORTED,
    MAX_YAML_DEPTH,
    MAX_YAML_VALUES,
    _Loader,
    load_yaml_with_lines,
    parse_scenario,
    preset_path,
)

CORPUS = Path(__file__).parent / "corpus"
BASE = (CORPUS / "_valid_base.yaml").read_text()


def cli(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "socialcredit.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
    )


def refused(proc: subprocess.CompletedProcess) -> str:
    """The stderr of a command that refused its scenario as it should: exit 2, no traceback."""
    assert proc.returncode == 2, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr and "Error:" not in proc.stderr.split("\n")[0]
    return proc.stderr


def _error(text: str, name: str = "hostile.yaml") -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, name)
    return info.value


# ----------------------------------------------------------------------------- alias bombs

# "Billion laughs": 9 aliases of 9 aliases, 9 levels deep, is 9**9 (387 million) values
# from 400 bytes of text.
BOMB = "metadata: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"k{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n" for i in range(1, 10)
)


def test_alias_bomb_is_refused_at_the_alias_in_bounded_time():
    assert len(BOMB) < 600
    t = time.perf_counter()
    err = _error(BOMB)
    assert time.perf_counter() - t < 10  # generous: the refusal comes before any expansion
    (issue,) = err.issues
    # a4 stands for 9 + 9**2 + ... + 9**5 + 1 = 66,430 values; the fifth line's aliases reach
    # 7,381 each, so the sixth line (k5) is where the total passes the limit
    assert issue.line == 6, str(err)
    assert f"more than {MAX_YAML_VALUES:,} values" in issue.message
    assert "*a4" in issue.message and "billion laughs" in issue.message
    assert "without aliases of aliases" in issue.message  # the fix


def test_alias_bomb_on_the_command_line_exits_2_without_traceback(tmp_path: Path):
    f = tmp_path / "bomb.yaml"
    f.write_text(BOMB)
    for command in ("validate", "show"):
        err = refused(cli(command, f))
        assert f"{f}:6: the YAML expands to more than {MAX_YAML_VALUES:,} values" in err


def test_alias_bomb_in_a_merge_key_is_refused():
    text = "a0: &a0 {x: 1, y: 2, z: 3, w: 4, v: 5, u: 6, t: 7, s: 8, r: 9}\n" + "".join(
        f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n" for i in range(1, 8)
    )
    text += "m:\n  <<: *a7\n"
    err = _error(text)
    assert err.issues[0].line == 6 and "more than" in err.issues[0].message


def test_alias_that_contains_itself_is_refused():
    err = _error(BASE + "extra: &loop\n  - 1\n  - *loop\n")
    (issue,) = err.issues
    assert issue.line == BASE.count("\n") + 3
    assert "the alias *loop refers to the list or mapping it is in" in issue.message
    assert "write the value out" in issue.message


def test_ordinary_aliases_still_work():
    text = BASE.replace("\ndays: 365", "\ndays: &d 365").replace("seed: 7", "seed: *d")
    assert load_yaml_with_lines(text, "x.yaml")[0]["seed"] == 365


def test_every_preset_is_far_below_the_limits():
    """The limits leave room for scenarios many times the largest preset (pilots-2021)."""
    for path in sorted(preset_path("rongcheng").parent.glob("*.yaml")):
        loader = _Loader(path.read_text(), path.name)
        try:
            loader.get_single_node()
        finally:
            loader.dispose()
        assert loader._values * 50 < MAX_YAML_VALUES, path.name
    assert load_scenario("pilots-2021").metadata.name


# ----------------------------------------------------------------------------- deep nesting


@pytest.mark.parametrize(
    "text, line",
    [
        ("days: " + "[" * 10_000 + "]" * 10_000 + "\n", 1),
        ("days: " + "{a: " * 10_000 + "1" + "}" * 10_000 + "\n", 1),
        # block mappings: each level on its own line, indented one more space
        ("".join(" " * i + "a:\n" for i in range(1_500)) + " " * 1_500 + "1\n", MAX_YAML_DEPTH),
    ],
    ids=["flow-lists", "flow-mappings", "block-mappings"],
)
def test_deep_nesting_is_refused_not_a_recursion_error(text: str, line: int):
    err = _error(text)
    (issue,) = err.issues
    assert issue.line == line, str(err)
    assert f"nests more than {MAX_YAML_DEPTH} levels deep" in issue.message
    assert "unclosed '['" in issue.message  # the likely fix


def test_deep_nesting_on_the_command_line_exits_2(tmp_path: Path):
    f = tmp_path / "deep.yaml"
    f.write_text("days: " + "[" * 10_000 + "]" * 10_000 + "\n")
    assert f"{f}:1: the YAML nests more than {MAX_YAML_DEPTH} levels" in refused(cli("validate", f))


def test_deep_nesting_in_an_override_is_refused():
    with pytest.raises(ScenarioError) as info:
        parse_scenario(BASE, "x.yaml", ["days=" + "[" * 5_000])
    (issue,) = info.value.issues
    assert issue.override and f"more than {MAX_YAML_DEPTH} levels" in issue.message


# ----------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    "written, value",
    [("1e-5", 1e-5), ("1E5", 1e5), ("-2e+3", -2e3), ("2.5e3", 2.5e3), ("+1e0", 1.0), (".5e1", 5.0)],
)
def test_floats_as_yaml_1_2_and_json_write_them(written: str, value: float):
    data, _ = load_yaml_with_lines(f"x: {written}\n", "x.yaml")
    assert data["x"] == value and isinstance(data["x"], float)


@pytest.mark.parametrize(
    "written, value",
    [("'1e-5'", "1e-5"), ('"1E5"', "1E5"), ("1e5x", "1e5x"), ("e5", "e5"), ("12", 12)]
    + [("1_000", 1000), ("0x1f", 31), ("1.5", 1.5), ("1.0e-5", 1e-5), (".inf", float("inf"))],
)
def test_strings_ints_and_yaml_1_1_floats_are_unchanged(written: str, value: object):
    data, _ = load_yaml_with_lines(f"x: {written}\n", "x.yaml")
    assert data["x"] == value and type(data["x"]) is type(value)


def test_exponent_without_a_point_validates_in_a_scenario_and_an_override():
    rate = "base_rate: 0.001"
    assert rate in BASE
    s = parse_scenario(BASE.replace(rate, "base_rate: 2e-3", 1), "x.yaml")
    assert s.behaviours[0].base_rate == 0.002
    s = parse_scenario(BASE, "x.yaml", ["economy.loan_demand=1e-3"])
    assert s.economy.loan_demand == 0.001


def test_a_quoted_exponent_is_still_a_string_with_the_right_hint():
    err = _error(BASE.replace("base_rate: 0.001", "base_rate: '2e-3'", 1))
    (issue,) = err.issues
    assert "got a string '2e-3' (remove the quotes)" in issue.message


# ----------------------------------------------------------------------------- many problems


def test_a_hundred_thousand_unknown_keys_are_counted_not_listed(tmp_path: Path):
    n = 100_000
    f = tmp_path / "many.yaml"
    f.write_text(BASE + "".join(f"k{i}: 1\n" for i in range(n)))
    first = BASE.count("\n") + 1
    t = time.perf_counter()
    proc = cli("validate", f, timeout=300)  # generous; only guards against minutes
    assert time.perf_counter() - t < 240
    err = refused(proc)
    lines = err.rstrip("\n").split("\n")
    assert lines[0] == f"invalid scenario {f}: {n:,} problems"
    assert len(lines) == 1 + MAX_REPORTED + 1
    assert lines[1].startswith(f"  {f}:{first}: k0 = 1: unknown field 'k0'")
    assert lines[MAX_REPORTED].startswith(f"  {f}:{first + MAX_REPORTED - 1}: k49 = 1:")
    rest = n - MAX_REPORTED
    assert lines[-1] == (
        f"  ... and {rest:,} more problems not shown (only the first {MAX_REPORTED} are"
        " listed); fix these and validate again"
    )


def test_the_first_problems_in_file_order_are_the_ones_shown():
    text = "".join(f"k{i}: 1\n" for i in range(80)) + BASE.replace("agents: 1000", "agents: 0")
    err = _error(text)
    assert len(err.issues) == MAX_REPORTED and err.more == 80 + 1 - MAX_REPORTED
    assert [i.line for i in err.issues] == list(range(1, MAX_REPORTED + 1))
    assert all(i.message for i in err.issues)
    restored = pickle_roundtrip(err)
    assert restored.more == err.more and str(restored) == str(err)


def pickle_roundtrip(err: ScenarioError) -> ScenarioError:
    import pickle

    return pickle.loads(pickle.dumps(err))


# ----------------------------------------------------------------------------- not a file


def test_a_directory_is_named_as_one(tmp_path: Path):
    err = refused(cli("validate", tmp_path))
    assert f"{tmp_path}: this is a directory, not a scenario file;" in err
    assert "no scenario file or preset named" not in err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_fifo_is_named_as_one_and_not_read(tmp_path: Path):
    fifo = tmp_path / "scenario.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ScenarioError) as info:
        load_scenario(fifo)  # reading it would block forever
    (issue,) = info.value.issues
    assert issue.file == str(fifo) and issue.line is None
    assert issue.message.startswith("this is a named pipe (FIFO), not a scenario file;")
    assert "scenario YAML file or a preset name" in issue.message


def test_a_preset_name_wins_over_a_directory_of_that_name(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rongcheng").mkdir()
    assert load_scenario("rongcheng").metadata.name == "rongcheng"
    with pytest.raises(ScenarioError) as info:
        load_scenario("nonexistent")
    assert "no scenario file or preset named 'nonexistent'" in str(info.value)


# ----------------------------------------------------------------------------- numbers that
# validate but break the arithmetic


@pytest.mark.parametrize("written", [".inf", "-.inf", ".nan", ".NaN", "+.INF"])
@pytest.mark.parametrize(
    "old, field, line",
    [
        ("base_rate: 0.001", "behaviours.0.base_rate", 16),
        ("median: 1.0", "population.wealth.median", 10),
        ("false_positive_rate: 0.0001", "channels.1.false_positive_rate", 25),
        ("income_effect: 0.01", "programmes.points.consequences.A.income_effect", 40),
    ],
)
def test_non_finite_numbers_are_refused_in_every_section(old, field, line, written):
    assert BASE.splitlines()[line - 1].count(old) == 1
    key = old.split(":")[0]
    err = _error(BASE.replace(old, f"{key}: {written}", 1))
    (issue,) = err.issues
    assert (issue.path, issue.line) == (field, line), str(err)
    assert issue.message.startswith("must be a finite number (.inf and .nan break the arithmetic)")
    assert "; expected a number" in issue.message  # what would be valid


def test_non_finite_numbers_are_refused_in_fields_with_no_bounds():
    """Fields with no bounds of their own (a weight, an amount of money) are finite too."""
    for override in ("response.deterrence=.inf", "economy.median_income=.nan"):
        with pytest.raises(ScenarioError) as info:
            parse_scenario(BASE, "x.yaml", [override])
        (issue,) = info.value.issues
        assert issue.override == override and "must be a finite number" in issue.message


@pytest.mark.parametrize(
    "override",
    ["population.wealth.median=1e308", "response.deterrence=1e39", "economy.median_income=4e38"],
)
def test_numbers_past_float32_are_refused(override: str):
    with pytest.raises(ScenarioError) as info:
        parse_scenario(BASE, "x.yaml", [override])
    (issue,) = info.value.issues
    assert issue.override == override
    assert issue.message == (
        "must be a finite number at most 3.403e+38 in size, the most the engine's 32-bit floats hold"
    )


def test_the_largest_float32_is_accepted():
    s = parse_scenario(BASE, "x.yaml", ["response.deterrence=3.4e38"])
    assert s.response.deterrence == 3.4e38


def test_bounds_are_derived_from_the_engine_dtypes():
    import numpy as np

    from socialcredit.scenario import types

    assert types.DTYPE_MAX["int16"] == np.iinfo(np.int16).max == types.INT16_MAX
    assert types.DTYPE_MAX["float32"] == np.finfo(np.float32).max
    assert types.SCORE_LIMIT == 30_000 <= types.INT16_MAX  # the bound messages have always shown
    assert types.MAX_DAYS < types.INT16_MAX and types.MAX_AGENTS <= np.iinfo(np.int32).max
    schema = load_scenario("rongcheng").model_json_schema()
    assert schema["$defs"]["Tier"]["properties"]["min"]["anyOf"][0]["maximum"] == types.SCORE_LIMIT


def _with_days(days: int, expiry: int, resolution: int) -> list[str]:
    programme = "programmes.points."
    return [
        f"days={days}",
        f"{programme}record_expiry_days={expiry}",
        f"{programme}expiry_resolution_days={resolution}",
    ]


def test_days_plus_record_expiry_fit_the_int16_day_counters():
    # 32,767 is the last day an int16 holds: a record made on the last day may expire on it
    assert parse_scenario(BASE, "x.yaml", _with_days(20_000, 12_767, 751)).days == 20_000
    with pytest.raises(ScenarioError) as info:
        parse_scenario(BASE, "x.yaml", _with_days(20_000, 12_768, 399))
    (issue,) = info.value.issues
    assert issue.path == "programmes.points.record_expiry_days" and issue.value == 12_768
    assert issue.message == (
        "record expiry of 12,768 days in a run of 20,000 days reaches day 32,768, past 32,767, "
        "the last day the engine's 16-bit day counters hold; make it at most 12,767 days, or the "
        "run at most 19,999 days"
    )


def test_days_plus_record_expiry_is_located_in_the_file():
    text = (
        BASE.replace("\ndays: 365", "\ndays: 20000")
        .replace("record_expiry_days: 360", "record_expiry_days: 14400")
        .replace("expiry_resolution_days: 30", "expiry_resolution_days: 360")
    )
    err = _error(text)
    (issue,) = err.issues
    assert issue.line == 32 and "16-bit day counters" in issue.message


INFORMANTS = (
    "informants: {share: 0.1, coverage: {fraud: 0.5}, reward_points: %d, confirmed_points: %d}\n"
)


def _with_informants(reward: int, confirmed: int = 0, extra: str = "") -> str:
    text = BASE.replace("channels: [cameras, banks]", "channels: [cameras, banks, informants]")
    return text.replace("response:\n", INFORMANTS % (reward, confirmed) + extra + "response:\n")


def test_a_days_informant_pay_fits_int16():
    # 8 contacts; the largest record is 50 points: 8 x 4,089 + 50 = 32,762 fits
    assert parse_scenario(_with_informants(4_000, 89), "x.yaml").informants.reward_points == 4_000
    err = _error(_with_informants(4_000, 90))
    (issue,) = err.issues
    assert issue.path == "informants.reward_points" and issue.line == 43
    assert issue.message == (
        "an informant's pay for one day can reach 8 contacts x 4,090 points per report = 32,720 "
        "points, which with a record of 50 points the same day passes 32,767, the most the "
        "engine's 16-bit points hold; keep the points of one report (reward_points + "
        "confirmed_points + targeted_rewards) at most 4,089"
    )


def test_targeted_rewards_and_negative_rewards_count_towards_the_pay():
    targeted = ", targeted_rewards: [{behaviour: fraud, group: minority, points: %d}]}"
    # 1,000 + 3,000 targeted + 89 confirmed = 4,089 per report fits; one point more does not
    fits = _with_informants(1_000, 89).replace("89}", "89" + targeted % 3_000)
    assert parse_scenario(fits, "x.yaml").informants.targeted_rewards[0].points == 3_000
    err = _error(_with_informants(1_000, 89).replace("89}", "89" + targeted % 3_001))
    assert "8 contacts x 4,090 points per report" in err.issues[0].message
    # negative pay wraps as well: -30,000 - 3,000 a report, 8 times
    (issue,) = _error(_with_informants(-30_000, -3_000)).issues
    assert "8 contacts x 33,000 points per report = 264,000 points" in issue.message


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("5[4-9]-*.yaml")))
def test_new_corpus_files_exit_2_on_the_command_line(name: str):
    path = CORPUS / name
    line = next(x for x in path.read_text().splitlines() if x.startswith("# line: "))[8:]
    err = refused(cli("validate", path))
    assert f"{path}:{line}: " in err


def test_a_corporate_lists_term_plus_days_fit_the_int16_day_counters():
    term = "organisations.corporate.lists.0.term_days"
    assert load_scenario("corporate", ["days=20000", f"{term}=12767"]).days == 20_000
    with pytest.raises(ScenarioError) as info:
        load_scenario("corporate", ["days=20000", f"{term}=12768"])
    (issue,) = info.value.issues
    assert issue.path == term and issue.override == f"{term}=12768"
    assert issue.message.startswith("a listing's term of 12,768 days in a run of 20,000 days")
    assert "make it at most 12,767 days, or the run at most 19,999 days" in issue.message


# ----------------------------------------------------------------------------- overrides


def test_a_set_that_breaks_a_sum_is_named_beside_the_files_line(tmp_path: Path):
    """A rule about a whole list (shares sum to one) points at the list's line in the file and
    names the --set that changed an item of it, instead of blaming the file alone."""
    with pytest.raises(ScenarioError) as info:
        load_scenario("rongcheng", ["population.groups.0.share=0.5", "seed=3"])
    (issue,) = info.value.issues
    lines = preset_path("rongcheng").read_text(encoding="utf-8").splitlines()
    groups = next(n for n, line in enumerate(lines, 1) if line.strip() == "groups:")
    assert (issue.file, issue.line) == ("rongcheng.yaml", groups)
    assert issue.override == "population.groups.0.share=0.5"
    assert str(issue).startswith(
        f"rongcheng.yaml:{groups} [population.groups.0.share=0.5]: "
        "population.groups = [0.5, 0.01]: group shares sum to 0.51; they must sum to 1"
    )
    err = refused(cli("show", "rongcheng", "--set", "jurisdictions.0.share=0.9"))
    places = lines.index("jurisdictions:") + 1
    assert f"rongcheng.yaml:{places} [jurisdictions.0.share=0.9]: jurisdictions = [0.9]:" in err
