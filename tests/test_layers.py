"""Several programmes per place (issue 14): layered lists, how their sanctions combine,
memoranda and the timeline. Known answers: two independent lists give the union's share; a
list switched off on day t leaves the days after t as a run that never had it, on the same
random numbers."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml

import socialcredit as sc
from socialcredit.scenario import ScenarioError
from socialcredit.scenario.loader import parse_scenario

DAYS = 100
AGENTS = 4000
RA, CA, RB, CB = 0.004, 0.5, 0.006, 0.5  # daily act rates and channel coverage of two grounds

BASE = {
    "metadata": {"name": "two-lists", "description": "two independent lists"},
    "population": {
        "agents": AGENTS,
        "groups": [{"name": "all", "share": 1.0}],
        "wealth": {"distribution": "lognormal", "median": 1.0, "sigma": 0.5},
        "propensity_sigma": 0.0,
        "contacts": {"degree": 4, "reach": 10},
    },
    "jurisdictions": [{"name": "city", "share": 1.0, "programme": None}],
    "behaviours": [
        {"name": "a", "base_rate": RA},
        {"name": "b", "base_rate": RB},
    ],
    "channels": [
        {"name": "ca", "coverage": {"a": CA}},
        {"name": "cb", "coverage": {"b": CB}},
    ],
    "lists": {
        "alpha": {
            "channels": ["ca"],
            "grounds": ["a"],
            "term_days": 5000,
            "consequences": {"travel_ban": True},
        },
        "beta": {
            "channels": ["cb"],
            "grounds": ["b"],
            "term_days": 5000,
            "consequences": {"loan_approval": 0.3},
        },
    },
    "response": {"model": "fixed"},
    "economy": {"loan_demand": 0.01, "travel_demand": 0.02},
    # both lists run from day 0: variants that stop one (below) keep the compiled shape
    "timeline": {"phases": [{"name": "lists", "day": 0, "start": ["alpha", "beta"]}]},
    "days": DAYS,
}


def scenario(data: dict):
    return parse_scenario(yaml.safe_dump(data, sort_keys=False), "test.yaml")


def last(m, name):
    v = m[m["metric"] == name].groupby("day")["value"].sum()
    return float(v.iloc[-1])


def series(m, name):
    return m[m["metric"] == name].groupby("day")["value"].sum()


@pytest.fixture(scope="module")
def two_lists():
    return sc.simulate(scenario(BASE))


def test_two_independent_lists_give_the_unions_share(two_lists):
    """A record on day d lists the person on day d + 1 and the term outlasts the run, so after
    D days a person is on list A with chance 1 - (1 - rA cA)^(D-1). Acts are one per agent and
    day at most, so the union is 1 - (1 - rA cA - rB cB)^(D-1) (within 1e-5 of the
    independent lists' 1 - (1 - pA)(1 - pB)); tolerance four standard errors."""
    m = two_lists.metrics
    n = DAYS - 1
    pa = 1 - (1 - RA * CA) ** n
    pb = 1 - (1 - RB * CB) ** n
    union = 1 - (1 - RA * CA - RB * CB) ** n
    assert abs(union - (1 - (1 - pa) * (1 - pb))) < 1e-3
    se = np.sqrt(union * (1 - union) / AGENTS)
    for got, want in (
        (last(m, "listed.alpha") / AGENTS, pa),
        (last(m, "listed.beta") / AGENTS, pb),
        (last(m, "listed_any") / AGENTS, union),
    ):
        assert abs(got - want) < 4 * se, (got, want)
    # people on both lists: pA + pB - union
    both = (last(m, "listed.alpha") + last(m, "listed.beta") - last(m, "listed_any")) / AGENTS
    assert both > 0.02
    assert abs(both - (pa + pb - union)) < 4 * se


def test_sanctions_are_the_union_of_the_lists(two_lists):
    """Trips are blocked only by alpha (travel ban), loans refused only by beta (approval 0.3
    against the base 0.9): blocked trips / trips is alpha's listed share at the start of the
    day, loans refused over the base rate follow beta's share."""
    m = two_lists.metrics
    trips, blocked = series(m, "trips"), series(m, "trips_blocked")
    listed_a = series(m, "listed.alpha").shift(1).fillna(0) / AGENTS
    expected = (trips * listed_a).sum()
    assert blocked.sum() > 200
    assert abs(blocked.sum() - expected) < 4 * np.sqrt(expected), (blocked.sum(), expected)
    applied, refused = series(m, "loans_applied"), series(m, "loans_refused")
    listed_b = series(m, "listed.beta").shift(1).fillna(0) / AGENTS
    base = 0.95  # economy.base_loan_approval's default
    want = (applied * ((1 - base) + listed_b * (base - 0.3))).sum()
    assert abs(refused.sum() - want) < 4 * np.sqrt(want), (refused.sum(), want)


def test_the_stricter_number_wins_and_a_memorandum_carries_a_listing():
    """Both lists set loan approval (0.6 and 0.3): someone on both gets 0.3. A memorandum
    makes alpha's entry a sanction of beta: alpha's listed are refused as beta's are."""
    data = copy.deepcopy(BASE)
    data["lists"]["alpha"]["consequences"] = {"loan_approval": 0.0}
    data["memoranda"] = [{"listing": "alpha", "sanctions_of": ["beta"]}]
    data["lists"]["beta"]["consequences"] = {"travel_ban": True}
    r = sc.simulate(scenario(data))
    m = r.metrics
    trips, blocked = series(m, "trips"), series(m, "trips_blocked")
    # beta's travel ban reaches everyone on alpha (by the memorandum) or on beta: the union
    share = series(m, "listed_any").shift(1).fillna(0) / AGENTS
    expected = (trips * share).sum()
    assert abs(blocked.sum() - expected) < 4 * np.sqrt(expected), (blocked.sum(), expected)


def stopped(t: int | None) -> dict:
    """BASE with alpha stopped on day t (None: alpha removed from the scenario)."""
    data = copy.deepcopy(BASE)
    if t is None:
        del data["lists"]["alpha"]
        data["timeline"]["phases"][0]["start"] = ["beta"]
    else:
        data["timeline"]["phases"].append({"name": "end_alpha", "day": t, "stop": ["alpha"]})
    return data


# Interpersonal trust remembers: sanctions seen among contacts before t eroded it, and it
# recovers slowly (stages/trust.py), so it is the one metric a list's past still moves.
REMEMBERS = ("mean_trust",)


def assert_same_after(a, b, t):
    """Every metric but alpha's own and trust is equal, value for value, on the 1-based days
    after t (day t, 0-based, is the 1-based day t + 1); trust is lower where alpha ran."""
    trust_a, trust_b = series(a, "mean_trust"), series(b, "mean_trust")
    assert trust_a.loc[t + 1] < trust_b.loc[t + 1]  # the memory is real, and of the list
    keep_a = ~a["metric"].str.endswith(".alpha") & ~a["metric"].isin(REMEMBERS)
    keep_b = ~b["metric"].str.endswith(".alpha") & ~b["metric"].isin(REMEMBERS)
    a, b = a[keep_a], b[keep_b]
    after_a = a[a["day"] > t].reset_index(drop=True)
    after_b = b[b["day"] > t].reset_index(drop=True)
    assert len(after_a) == len(after_b) > 0
    np.testing.assert_array_equal(after_a["metric"].to_numpy(), after_b["metric"].to_numpy())
    np.testing.assert_array_equal(after_a["value"].to_numpy(), after_b["value"].to_numpy())


def test_a_list_stopped_on_day_t_leaves_the_days_after_as_never_having_it():
    """Each list draws on a stream folded from its own name, so stopping alpha on day t moves
    nobody else's random numbers: after t the run is the run in which alpha never ran."""
    t = 40
    a = sc.simulate(scenario(stopped(t))).metrics
    never = sc.simulate(scenario(stopped(0))).metrics
    assert last(a, "listed.alpha") == 0 and series(a, "listed.alpha").max() > 100
    assert series(never, "listed.alpha").max() == 0
    assert_same_after(a, never, t)
    # before t alpha blocked trips; the run without it blocks none (beta bans no travel)
    assert series(a, "trips_blocked").loc[:t].sum() > 0
    assert series(never, "trips_blocked").sum() == 0


@pytest.mark.slow
def test_stopping_a_list_equals_removing_it_from_the_scenario():
    """The same against a scenario without alpha at all (another compiled shape)."""
    t = 40
    a = sc.simulate(scenario(stopped(t))).metrics
    gone = sc.simulate(scenario(stopped(None))).metrics
    assert_same_after(a, gone, t)


@pytest.mark.slow
def test_national_lists_debtors_and_blocks_trips():
    r = sc.simulate(sc.load_scenario("national", agents=6200, days=120))
    m = r.metrics
    assert series(m, "newly_listed.court").sum() > 0
    assert last(m, "listed.court") > 0
    assert series(m, "trips_blocked").sum() > 0


@pytest.mark.parametrize(
    ("path", "value", "words"),
    [
        ("lists.alpha.grounds.0", "nope", "unknown behaviour 'nope'"),
        ("lists.alpha.channels.0", "nope", "unknown channel 'nope'"),
        ("lists.alpha.where.0", "nowhere", "unknown jurisdiction 'nowhere'"),
        ("memoranda.0.listing", "gamma", "unknown list or programme 'gamma'"),
    ],
)
def test_bad_references_are_located(path, value, words):
    data = copy.deepcopy(BASE)
    data["lists"]["alpha"]["where"] = ["city"]
    data["memoranda"] = [{"listing": "alpha", "sanctions_of": ["beta"]}]
    with pytest.raises(ScenarioError) as e:
        parse_scenario(yaml.safe_dump(data, sort_keys=False), "test.yaml", [f"{path}={value}"])
    assert words in str(e.value)


# ----------------------------------------------------------------------------- causes


def test_the_two_lists_sanctions_name_their_list_and_record(two_lists):
    """In the two-list run, every blocked trip is grounded on alpha (the only travel ban) and
    every loan refused over the base rate on beta, each with the record that listed them."""
    ev, c = two_lists.events, two_lists.causes
    for kind, name in (("trip_blocked", "alpha"), ("loan_refused", "beta")):
        rows = c[c["kind"] == kind]
        assert set(rows["programme"]) == {name}
        assert (rows["ground"] == f"listed on {name}").all()
        assert rows["record_day"].notna().all() and (rows["record_day"] < rows["day"]).all()
    trips = ev[ev["kind"] == "trip_blocked"]
    got = c[c["kind"] == "trip_blocked"]
    assert len(trips) > 100 and len(got) == len(trips)
    ground = {"a": "alpha", "b": "beta"}
    recs = c[c["kind"] == "record"]
    assert (recs["programme"] == recs["behaviour"].map(ground)).all()


@pytest.mark.slow
def test_each_sanction_names_its_programme_ground_and_record(tmp_path):
    """tests/layered.yaml: the city's own programme (tier `low`: a surcharge; `listed`: loans
    at 0.1), list alpha (travel ban, school block, shaming; its entry a sanction of the city and
    of beta by memorandum). Every trip blocked is grounded on alpha; every cause names a
    programme that imposes it; list events and causes survive the run folder (Parquet)."""
    from pathlib import Path

    layered = Path(__file__).with_name("layered.yaml")
    r = sc.simulate(sc.load_scenario(layered, ["timeline.phases.1.day=30"], days=40))
    c = r.causes
    ev = r.events
    trips = ev[ev["kind"] == "trip_blocked"]
    assert len(trips) > 5
    tc = c[c["kind"] == "trip_blocked"]
    # one cause per blocked trip at least, and all of them the list alpha (the only travel ban)
    assert set(map(tuple, trips[["agent", "day"]].to_numpy())) <= set(
        map(tuple, tc[["agent", "day"]].to_numpy())
    )
    assert set(tc["programme"]) == {"alpha"}
    assert tc["record_day"].notna().all() and (tc["record_day"] < tc["day"]).all()
    # loans refused in the city: by its `listed` column, directly or through the memorandum
    lc = c[(c["kind"] == "loan_refused") & (c["programme"] == "city")]
    assert len(lc) > 0 and lc["ground"].str.startswith(("listed", "memorandum")).all()
    # the layered lists' own events are in the file
    assert {"record", "listed"} <= set(c.loc[c["programme"] == "alpha", "kind"])
    # children refused schools: the ground names the parent's or the partner's standing
    sc_rows = c[c["kind"] == "school_refused"]
    if len(sc_rows):
        assert sc_rows["about"].notna().all()
    saved = sc.open_run(r.save(tmp_path))
    assert saved.causes is not None and len(saved.causes) == len(c)


@pytest.mark.slow
def test_national_explain_gives_the_court_and_the_city_score_causes(tmp_path):
    """Issue 14's case: a person listed by the court and low in the merged score is refused a
    loan; `explain` names both grounds, and `--find listed` finds them."""
    from typer.testing import CliRunner

    from socialcredit.cli import app

    ov = [
        "behaviours.2.base_rate=0.003",
        "behaviours.0.base_rate=0.003",
        "economy.loan_demand=0.05",
    ]
    r = sc.simulate(sc.load_scenario("national", ov, agents=3100, days=60))
    c = r.causes[r.causes["kind"] == "loan_refused"]
    by = c.groupby(["agent", "day"])["programme"].agg(set)
    both = by[by.apply(lambda s: {"court", "national"} <= s)]
    assert len(both) > 0
    agent = int(both.index[0][0])
    grounds = set(c.loc[c["agent"] == agent, "ground"])
    assert "listed on court" in grounds and any(g.startswith("tier ") for g in grounds)
    folder = r.save(tmp_path)
    out = CliRunner().invoke(app, ["explain", str(folder), "--agent", str(agent)])
    assert out.exit_code == 0, out.output
    assert "listed on court" in out.output and "tier " in out.output
    found = CliRunner().invoke(app, ["explain", str(folder), "--find", "listed"])
    assert found.exit_code == 0 and "court" in found.output


def test_the_readmes_explain_example_is_in_its_main_runs_sample():
    """README: `make run` is rongcheng at full size; its `explain --agent N` example must name
    an agent whose credit file that run keeps."""
    import re
    from pathlib import Path

    from socialcredit.results.credit import credit_sample

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    (agent,) = re.findall(r"socialcredit explain RUN_ID --agent (\d+)", readme)
    agents = sc.load_scenario("rongcheng").population.agents
    assert int(agent) in set(credit_sample(agents).tolist())


# ----------------------------------------------------------------------------- the merge


def merged(match: float, mis: float, delay: int = 0) -> dict:
    data = copy.deepcopy(BASE)
    data["lists"]["alpha"]["merge"] = {
        "match_share": match,
        "misattached_share": mis,
        "delay_days": delay,
    }
    return data


@pytest.mark.slow
def test_the_merge_attaches_records_to_the_wrong_person_at_the_known_rate():
    """Of alpha's records, a share (1 - match) x misattached lands on a namesake: the share of
    misattached records among all that arrive is (1-m) w / (m + (1-m) w); every listing on
    one is wrongful, and the migration delay lists people `delay_days` later."""
    m, w, delay = 0.6, 0.5, 7
    r = sc.simulate(scenario(merged(m, w, delay)))
    x = r.metrics
    recs, mis = series(x, "records.alpha").sum(), series(x, "misattached.alpha").sum()
    want = (1 - m) * w / (m + (1 - m) * w)
    se = np.sqrt(want * (1 - want) / recs)
    assert recs > 300 and abs(mis / recs - want) < 4 * se, (mis / recs, want)
    wrong = series(x, "wrongly_listed.alpha")
    assert wrong.iloc[-1] > 0
    # a perfect merge lists nobody wrongly (alpha's channel has no false positives)
    clean = sc.simulate(scenario(merged(1.0, 0.0, delay))).metrics
    assert series(clean, "wrongly_listed.alpha").sum() == 0
    assert series(clean, "misattached.alpha").sum() == 0
    # the delay: the first listing comes delay_days after the day-after rule's first
    first = series(clean, "newly_listed.alpha")
    base = series(two_lists_metrics(), "newly_listed.alpha")
    assert first[first > 0].index.min() == base[base > 0].index.min() + delay


def two_lists_metrics():
    return sc.simulate(scenario(BASE)).metrics


def test_informant_rewards_are_events_with_points_and_whom_they_were_about():
    """From the golden run (no extra simulation): each informant reward of the credit files is
    a causes row on the same agent and day, naming the agent reported two days before."""
    from golden_digest import golden_run

    r = golden_run("xinjiang-informants")
    c, ev = r.causes, r.events
    rows = c[c["kind"] == "informant_reward"]
    log = ev[ev["kind"] == "informant_reward"]
    assert len(log) > 5
    got = set(map(tuple, rows[["agent", "day"]].to_numpy()))
    assert got == set(map(tuple, log[["agent", "day"]].to_numpy()))
    assert (rows["points"] > 0).all() and (rows["record_day"] == rows["day"] - 2).all()
    reported = ev[ev["channel"] == "informants"].set_index(["agent", "day"])
    for r_ in rows.itertuples(index=False):
        assert (int(r_.about), int(r_.record_day)) in reported.index


@pytest.mark.slow
def test_map_sightings_and_payments_are_events_of_the_file():
    r = sc.simulate(sc.load_scenario("hebei-deadbeat-map", agents=4000, days=120))
    c, m = r.causes, r.metrics
    for kind, metric in (("sighted", "sighted"), ("paid", "delisted_paid")):
        assert (c["kind"] == kind).sum() == m.loc[m["metric"] == metric, "value"].sum()
    assert (c["kind"] == "sighted").sum() > 10
