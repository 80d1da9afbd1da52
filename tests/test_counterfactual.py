"""The counterfactual removes the whole system and keeps the society; unset consequences are
neutral (issue 12, "Audits you can trust").

- Every top-level section of a Scenario (and of its organisations) is classified as system,
  society or run in ``api.SECTIONS``: a new section must be classified before it can be audited.
- Over every preset, the compiled counterfactual has no mechanism of the system active and the
  same society (agents, groups, households, contacts, places, economy, organisations' market).
- The xinjiang-informants audit has no informants without the system.
- A consequence left unset changes nothing: a programme whose tiers and listing set no
  consequence, with no points and no channels, gives the same loans, trips, income, schools and
  matches as the same society with no programme.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

import socialcredit as sc
from socialcredit.api import ORG_SECTIONS, SECTIONS, counterfactual_of
from socialcredit.compile import compile_scenario
from socialcredit.scenario import list_presets, load_scenario
from socialcredit.scenario.model import Consequence, Organisations, Scenario

PRESETS = [name for name, _ in list_presets()]
KINDS = {"system", "society", "run", "mixed"}


def test_every_section_is_classified():
    assert set(SECTIONS) == set(Scenario.model_fields), (
        "classify every top-level Scenario section in api.SECTIONS (system, society, run or "
        "mixed) and say so in docs/audit.md"
    )
    assert set(SECTIONS.values()) <= KINDS
    assert set(ORG_SECTIONS) == set(Organisations.model_fields)
    assert set(ORG_SECTIONS.values()) <= {"system", "society"}


def _same(a, b) -> bool:
    """Two pytrees (or None) hold equal arrays."""
    if a is None or b is None:
        return a is None and b is None
    la, ta = jax.tree_util.tree_flatten(a)
    lb, tb = jax.tree_util.tree_flatten(b)
    return ta == tb and all(np.array_equal(x, y) for x, y in zip(la, lb, strict=True))


ECONOMY = (
    "base_rate",
    "driven",
    "propensity_sigma",
    "base_loan_approval",
    "loan_demand",
    "loan_refusal_cost",
    "travel_demand",
    "match_demand",
    "match_success",
    "shunning",
    "wealth_median",
    "wealth_sigma",
    "wealth_factor",
    "initial_risk",
    "side_m",
    "political_sigma",
    "religiosity_sigma",
    "trust_initial",
)


@pytest.mark.parametrize("name", PRESETS)
def test_counterfactual_has_no_system_and_the_same_society(name):
    s = load_scenario(name, agents=3000, days=5)
    cf = counterfactual_of(s)
    spec, params = compile_scenario(s)
    cspec, cparams = compile_scenario(cf)
    # no mechanism of the system
    assert not np.asarray(cparams.active).any()
    for mechanism in ("informants", "map", "budgets", "court", "shaming", "appeals", "audiences"):
        assert getattr(cspec, mechanism) is None, mechanism
        assert getattr(cparams, mechanism) is None, mechanism
    assert not np.asarray(cparams.detect).any()
    assert not np.asarray(cparams.points).any()
    assert not np.asarray(cparams.false_rate).any()
    assert not np.asarray(cparams.blacklist_on).any()
    assert all(t == () for t in cspec.tier_names)
    assert cf.programmes == {} and cf.channels == [] and cf.informants is None
    # the same society
    for field in (
        "agents",
        "days",
        "padded",
        "behaviours",
        "jurisdictions",
        "groups",
        "cell_starts",
        "contact_offsets",
        "outcome_order",
        "dispositions",
        "households",
        "group_rates",
        "adaptive",
    ):
        assert getattr(cspec, field) == getattr(spec, field), field
    for field in ECONOMY:
        assert _same(getattr(cparams, field), getattr(params, field)), field
    if spec.households is not None:  # who lives with whom; only the school block is the system's
        for k in ("school_demand", "partner_pair", "children_cdf"):
            assert _same(getattr(cparams.households, k), getattr(params.households, k)), k
        assert not np.asarray(cparams.households.school_block).any()
    assert _same(cparams.group_rates, params.group_rates)
    assert cf.population == s.population and cf.economy == s.economy
    assert cf.trust == s.trust and cf.seed == s.seed
    # people respond as they did; how informants follow their pay goes with the informants
    kept = s.response.model_copy(update={"strategic_reporting": 0.0, "report_cost": 0.0})
    assert cf.response == kept
    assert [j.model_copy(update={"programme": None}) for j in s.jurisdictions] == cf.jurisdictions
    assert (cspec.orgs is None) == (spec.orgs is None)
    if spec.orgs is not None:  # organisations keep their market and institutions
        assert not cspec.orgs.inspections and not cspec.orgs.corporate
        assert cspec.orgs.lists == () and cspec.orgs.grades == ()
        for k in ("firms", "sectors", "sector_starts", "institutions", "party", "candidates"):
            assert getattr(cspec.orgs, k) == getattr(spec.orgs, k), k
        o, co = s.organisations, cf.organisations
        assert (co.sectors, co.firms, co.market, co.institutions) == (
            o.sectors,
            o.firms,
            o.market,
            o.institutions,
        )
    assert counterfactual_of(cf).model_dump(exclude={"metadata"}) == cf.model_dump(
        exclude={"metadata"}
    )


def test_xinjiang_informants_vanish_without_the_system():
    from socialcredit.audit import audit

    s = load_scenario("xinjiang-informants", agents=3000, days=30, seed=1)
    a = audit(s, 2)
    row = a.row("informant_density")
    assert row["counterfactual"] == 0.0
    assert row["system"] > 0.01
    cf = a.example.counterfactual
    assert cf.metrics.query("metric == 'informants'")["value"].sum() == 0


# ----------------------------------------------------------------------------- neutral defaults

# How each consequence field reaches the compiled tables: (Params attribute, value of a
# jurisdiction without a programme). A new Consequence field must be entered here.
COMPILED = {
    "loan_approval": ("loan_approval", "base"),
    "travel_ban": ("travel_ban", False),
    "income_effect": ("income_effect", 0.0),
    "matching_penalty": ("matching_penalty", 0.0),
    "public_shaming": ("shaming", "off"),  # "off": the mechanism is absent or marks nobody
    "school_block": ("households.school_block", "off"),
    "on_map": ("map", "off"),
    "audiences": ("audiences", "off"),
    "occupations": ("occupations.travel_ban", "off"),  # no occupation sanctioned
    "detention": ("detention", "off"),
}

# metrics that exist only where a programme runs, or count what it does by design
SYSTEM_ONLY = ("tier.", "tier_up", "tier_down", "listed", "newly_listed", "delisted", "mean_score")


def _neutral(base_score: int, days: int = 20, agents: int = 2000) -> Scenario:
    """The xinjiang society (households, adaptive response) under a programme that scores
    nothing, observes nothing and whose tiers and listing set no consequence. With
    ``base_score`` 0 everybody sits in the bottom tier and is listed; with 100, in the top."""
    s = counterfactual_of(load_scenario("xinjiang-informants", agents=agents, days=days, seed=2))
    programme = {
        "base_score": base_score,
        "bounds": [0, 100],
        "points": {},
        "channels": [],
        "record_expiry_days": 30,
        "tiers": [
            {"name": "high", "min": 50, "max": None},
            {"name": "low", "min": None, "max": 49},
        ],
        "blacklist": {"tiers": ["low"], "term_days": 30},
        "consequences": {"high": {}, "low": {}, "listed": {}},
    }
    data = s.model_dump()
    data["programmes"] = {"empty": programme}
    data["jurisdictions"] = [{**j, "programme": "empty"} for j in data["jurisdictions"]]
    return Scenario.model_validate(data, strict=False)


def _lookup(params, path: str):
    x = params
    for part in path.split("."):
        x = None if x is None else getattr(x, part, None)
    return x


def test_every_consequence_field_has_a_neutral_default():
    assert set(COMPILED) == set(Consequence.model_fields), (
        "say in COMPILED how a new consequence field compiles and what it is without a programme"
    )
    s = _neutral(0)
    _, params = compile_scenario(s)
    base = s.economy.base_loan_approval
    for field, (attr, without) in COMPILED.items():
        value = _lookup(params, attr)
        if without == "off":
            assert value is None or not np.asarray(value).any(), field
        else:
            expected = base if without == "base" else without
            np.testing.assert_allclose(np.asarray(value, np.float64), expected, err_msg=field)


@pytest.mark.parametrize("base_score", [0, 100])
def test_unset_consequences_change_nothing(base_score):
    s = _neutral(base_score)
    with_programme = sc.simulate(s).metrics
    without = sc.simulate(counterfactual_of(s)).metrics
    if base_score == 0:
        assert with_programme.query("metric == 'listed'")["value"].iloc[-1] > 0
    keep = lambda m: m[~m["metric"].str.startswith(SYSTEM_ONLY)]  # noqa: E731
    a = keep(with_programme).set_index(["day", "jurisdiction", "group", "metric"])["value"]
    b = keep(without).set_index(["day", "jurisdiction", "group", "metric"])["value"]
    for metric in (
        "loans_applied",
        "loans_refused",
        "trips",
        "trips_blocked",
        "mean_wealth",
        "school_applications",
        "children_excluded",
        "match_attempts",
        "matches_lost",
        "sanctioned",
        "mean_risk",
    ):
        assert metric in a.index.get_level_values("metric"), metric
    common = a.index.intersection(b.index)
    assert len(common) == len(b)
    diff = (a[common] - b[common]).abs()
    assert (diff == 0).all(), diff[diff != 0].groupby(level="metric").size().to_dict()


def test_xinjiang_trust_effect_is_the_whole_systems():
    """Without informants trust stays at its initial level, so the audit has a trust effect."""
    from socialcredit.audit import audit

    s = load_scenario("xinjiang-informants", agents=3000, days=30, seed=1)
    row = audit(s, 2).row("mean_trust")
    assert row["counterfactual"] == pytest.approx(s.trust.initial, abs=1e-3)
    assert row["effect"] < 0
