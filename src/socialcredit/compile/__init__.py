"""Turn a validated scenario into a static Spec and a Params pytree.

The core (compile/core.py: layout, behaviours, channels, tiers, consequences) is built first;
each optional mechanism then builds its own sub-spec and sub-params from the scenario and the
core's tables, one module each (informants, households, court, map, budgets, orgs). `Spec` and
`Params` hold them as fields that are None where the scenario lacks the mechanism, so a stage
is gated by `if spec.map is not None` and reads `params.map.radius`.
"""

from __future__ import annotations

from dataclasses import replace

from socialcredit.compile.approval import ApprovalParams, ApprovalSpec, compile_approval
from socialcredit.compile.audiences import AudienceParams, AudienceSpec, compile_audiences
from socialcredit.compile.budgets import BudgetParams, BudgetSpec, compile_budgets
from socialcredit.compile.cooperation import compile_cooperation
from socialcredit.compile.core import (
    INT32_MIN,
    PAD,
    AdaptiveParams,
    AdaptiveSpec,
    AppealParams,
    AppealSpec,
    GroupRateParams,
    GroupRateSpec,
    Params,
    ShamingParams,
    ShamingSpec,
    Spec,
    compile_core,
    contact_offsets,
)
from socialcredit.compile.court import CourtParams, CourtSpec, compile_court
from socialcredit.compile.households import HouseholdParams, HouseholdSpec, compile_households
from socialcredit.compile.informants import InformantParams, InformantSpec, compile_informants
from socialcredit.compile.layers import (
    LayerParams,
    LayerSpec,
    TimelineParams,
    TimelineSpec,
    compile_layers,
    compile_timeline,
)
from socialcredit.compile.map import MapParams, MapSpec, compile_map, map_users
from socialcredit.compile.orgs import OrgParams, OrgSpec, compile_orgs
from socialcredit.compile.people import (
    DetentionParams,
    DetentionSpec,
    OccupationParams,
    OccupationSpec,
    compile_detention,
    compile_occupations,
)
from socialcredit.compile.rewards import RewardParams, RewardSpec, compile_rewards
from socialcredit.compile.trust import TrustParams, TrustSpec, compile_trust
from socialcredit.scenario.loader import structure_check
from socialcredit.scenario.model import Scenario
from socialcredit.units import DAYS_PER_YEAR

__all__ = [
    "DAYS_PER_YEAR",
    "INT32_MIN",
    "PAD",
    "AdaptiveParams",
    "AdaptiveSpec",
    "AppealParams",
    "AppealSpec",
    "AudienceParams",
    "AudienceSpec",
    "ApprovalParams",
    "ApprovalSpec",
    "BudgetParams",
    "BudgetSpec",
    "CourtParams",
    "CourtSpec",
    "DetentionParams",
    "DetentionSpec",
    "GroupRateParams",
    "GroupRateSpec",
    "HouseholdParams",
    "HouseholdSpec",
    "InformantParams",
    "InformantSpec",
    "LayerParams",
    "LayerSpec",
    "MapParams",
    "MapSpec",
    "OccupationParams",
    "OccupationSpec",
    "OrgParams",
    "OrgSpec",
    "Params",
    "RewardParams",
    "RewardSpec",
    "ShamingParams",
    "ShamingSpec",
    "Spec",
    "TimelineParams",
    "TimelineSpec",
    "TrustParams",
    "TrustSpec",
    "compile_scenario",
    "contact_offsets",
    "map_users",
]

# Each optional mechanism: (Spec and Params field, its compile function).
MECHANISMS = (
    ("informants", compile_informants),
    ("households", compile_households),
    ("court", compile_court),
    ("map", compile_map),
    ("budgets", compile_budgets),
    ("layers", compile_layers),
    ("audiences", compile_audiences),
    ("rewards", compile_rewards),
    ("occupations", compile_occupations),
    ("detention", compile_detention),
    ("trust", compile_trust),  # in every scenario: never None
    ("approval", compile_approval),
)


def compile_scenario(sc: Scenario) -> tuple[Spec, Params]:
    """Validated scenario -> (Spec, Params)."""
    spec, params, tables = compile_core(sc)
    subs = {name: build(sc, tables) for name, build in MECHANISMS}
    # the timeline compiles the numbers each phase sets as scenarios of their own
    subs["timeline"] = compile_timeline(sc, tables, compile_scenario)
    if sc.organisations is not None:
        subs["orgs"] = compile_orgs(sc.organisations, sc.population.agents)
    if sc.cooperation is not None:
        subs["cooperation"] = compile_cooperation(sc.cooperation, spec.agents, spec.padded)
    spec = replace(spec, **{k: s for k, (s, _) in subs.items()})
    params = replace(params, **{k: p for k, (_, p) in subs.items()})
    return spec, params


def _structure(sc: Scenario) -> Spec:
    return compile_scenario(sc)[0]


# validation checks that a phase changes numbers only, with the compiler it cannot import
structure_check(_structure)
