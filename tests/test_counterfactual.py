"""The counterfactual removes the whole system and keeps the society (issue 12, "Audits you
can trust").

- Every top-level section of a Scenario (and of its organisations) is classified as system,
  society or run in ``api.SECTIONS``: a new section must be classified before it can be audited.
- Over every preset, the compiled counterfactual has no mechanism of the system active and the
  same society (agents, groups, households, contacts, places, economy, organisations' market).
- The xinjiang-informants audit has no informants without the system.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

from socialcredit.api import ORG_SECTIONS, SECTIONS, counterfactual_of
from socialcredit.compile import compile_scenario
from socialcredit.scenario import list_presets, load_scenario
from socialcredit.scenario.model import Organisations, Scenario

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
    for mechanism in ("informants", "map", "budgets", "court", "shaming", "appeals"):
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
    assert cf.trust == s.trust and cf.response == s.response and cf.seed == s.seed
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
