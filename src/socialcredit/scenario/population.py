"""The scenario language, part one: the society a programme is laid over.

The people (their number, groups, wealth, households and contacts), the places they live in
(jurisdictions), what they do (behaviours), the everyday demand that consequences bite on
(economy) and how they respond to being watched (response, trust). Each section checks its own
cross-field rules in an ``issues`` method beside its fields (see ``rules``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import Field

from .rules import FieldPath, Issue, Refs, duplicate_names, sum_to_one
from .types import (
    MAX_AGENTS,
    SCORE_LIMIT,
    Identifier,
    NonNegFloat,
    PositiveFloat,
    Probability,
    Strict,
)

# ----------------------------------------------------------------------------- population


class Group(Strict):
    name: Identifier
    share: Probability
    rate_factors: dict[Identifier, NonNegFloat] = Field(
        default_factory=dict,
        description="Behaviour -> multiplier of its base rate in this group (e.g. a minority "
        "that prays in public more often).",
    )
    wealth_factor: PositiveFloat = Field(
        default=1.0, description="Multiplier of the group's wealth (1 = the population's)."
    )

    def issues(self, path: FieldPath, refs: Refs) -> list[Issue]:
        return refs.behaviours.check_keys(path + ("rate_factors",), self.rate_factors)


class Lognormal(Strict):
    """Wealth in units of the median annual income: median 1 by default."""

    distribution: Literal["lognormal"]
    median: PositiveFloat = 1.0
    sigma: Annotated[float, Field(ge=0.0, le=5.0)] = 0.8


class Contacts(Strict):
    """A fixed-degree small world over the agent order: most contacts sit close (kin,
    neighbours), a few are long-range ties that cross groups and places."""

    degree: Annotated[int, Field(ge=0, le=64, multiple_of=2)] = 8
    reach: Annotated[int, Field(ge=1, le=10_000)] = 50
    long_range: Annotated[int, Field(ge=0, le=32)] = Field(
        default=1,
        description="Pairs of the degree that are long-range ties (to agents anywhere in the "
        "population, so groups and places mix); the rest are local. Moot with degree 0.",
    )

    def issues(self, path: FieldPath, agents: int) -> list[Issue]:
        out: list[Issue] = []
        if self.degree >= agents and self.degree:
            out.append(
                (
                    path + ("degree",),
                    self.degree,
                    f"contact degree must be below the number of agents ({agents})",
                )
            )
        if 0 < self.degree < self.long_range * 2:
            out.append(
                (
                    path + ("long_range",),
                    self.long_range,
                    f"at most degree/2 = {self.degree // 2} long-range pairs",
                )
            )
        if self.degree and self.reach * 2 < self.degree:
            out.append(
                (
                    path + ("reach",),
                    self.reach,
                    f"reach must be at least degree/2 = {self.degree // 2}",
                )
            )
        return out


class Households(Strict):
    """Adults live in households of one or two; children are counted on the household head.

    Children are not scored; they inherit consequences (school and university access) from
    their parents' standing, as in the Hengshui school letters (scs-facts.md section 6).
    """

    partner_share: Probability = Field(
        default=0.6, description="Share of households with two adults (the head and a partner)."
    )
    children: list[Probability] = Field(
        default_factory=lambda: [0.4, 0.4, 0.15, 0.05],
        min_length=1,
        max_length=4,
        description="Share of households with 0, 1, 2, 3 children.",
    )
    school_demand: Probability = Field(
        default=1.0 / 365.0,
        description="Applications to a good school or university per child per day.",
    )


class Occupation(Strict):
    """An occupation some people hold (issue 15): journalists speak more, are watched more
    closely and may carry sanctions of their own (a programme's consequence `occupations`).
    People not in any listed occupation hold the implicit occupation `other`."""

    name: Identifier
    shares: dict[Identifier, Probability] = Field(
        description="Group -> share of the group in this occupation (groups left out: 0)."
    )
    speech_factor: NonNegFloat = Field(
        default=1.0,
        description="Multiplier of the daily rate of every behaviour of category `speech`.",
    )
    monitoring: Annotated[float, Field(ge=1.0, le=100.0)] = Field(
        default=1.0,
        description="Closer monitoring: each channel looks this many times (independently) at "
        "an act, so a coverage c becomes 1 - (1 - c) ** monitoring.",
    )


class Population(Strict):
    agents: Annotated[int, Field(ge=1, le=MAX_AGENTS)]
    groups: list[Group] = Field(min_length=1, max_length=16)
    wealth: Lognormal = Lognormal(distribution="lognormal")
    propensity_sigma: Annotated[float, Field(ge=0.0, le=3.0)] = Field(
        default=0.0,
        description="Spread (lognormal sigma) of each agent's propensity to misbehave; the "
        "multiplier has mean 1, so base rates stay population means.",
    )
    political_sigma: Annotated[float, Field(ge=0.0, le=3.0)] = Field(
        default=0.0,
        description="Spread (lognormal sigma, mean 1) of each agent's propensity to speak about "
        "the government; multiplies behaviours with disposition `political`.",
    )
    religiosity_sigma: Annotated[float, Field(ge=0.0, le=3.0)] = Field(
        default=0.0,
        description="Spread (lognormal sigma, mean 1) of each agent's religiosity; multiplies "
        "behaviours with disposition `religiosity`.",
    )
    contacts: Contacts = Contacts()
    households: Households | None = None
    occupations: list[Occupation] = Field(
        default_factory=list,
        max_length=15,
        description="Occupations (e.g. journalist) by group; the rest of each group holds the "
        "implicit occupation `other`.",
    )

    def name_issues(self, path: FieldPath) -> list[Issue]:
        """Groups have unique names and shares that sum to one."""
        groups = path + ("groups",)
        names = [g.name for g in self.groups]
        return [
            *duplicate_names(groups, names, "group", "; names must be unique"),
            *sum_to_one(groups, [g.share for g in self.groups], "group shares"),
        ]

    def contact_issues(self, path: FieldPath) -> list[Issue]:
        return self.contacts.issues(path + ("contacts",), self.agents)

    def reference_issues(self, path: FieldPath, refs: Refs) -> list[Issue]:
        """What the groups name in other sections (behaviours)."""
        out = [i for k, g in enumerate(self.groups) for i in g.issues(path + ("groups", k), refs)]
        occ = path + ("occupations",)
        out += duplicate_names(occ, [o.name for o in self.occupations], "occupation")
        for k, o in enumerate(self.occupations):
            if o.name == "other":
                msg = "`other` is the implicit occupation of everyone else; choose another name"
                out.append((occ + (k, "name"), o.name, msg))
            out += refs.groups.check_keys(occ + (k, "shares"), o.shares)
        for g in self.groups:
            total = math.fsum(o.shares.get(g.name, 0.0) for o in self.occupations)
            if total > 1.0 + 1e-9:
                msg = f"occupation shares of group {g.name!r} sum to {total:g}; at most 1"
                out.append((occ, total, msg))
        return out


# ----------------------------------------------------------------------------- places


class Jurisdiction(Strict):
    name: Identifier
    share: Probability
    programme: Identifier | None = Field(
        description="Key into `programmes`, or null for no system in this jurisdiction."
    )
    area_km2: Annotated[float, Field(gt=0.0, le=1e7)] = Field(
        default=100.0,
        description="Area of the jurisdiction's city plane; homes are spread uniformly over a "
        "square of this area (synthetic places, not real ones).",
    )

    def issues(self, path: FieldPath, refs: Refs) -> list[Issue]:
        if self.programme is None:
            return []
        return refs.programmes.check(path + ("programme",), self.programme)

    @staticmethod
    def list_issues(path: FieldPath, jurisdictions: Sequence[Jurisdiction]) -> list[Issue]:
        """Jurisdictions have unique names and shares that sum to one."""
        return [
            *duplicate_names(
                path, [j.name for j in jurisdictions], "jurisdiction", "; names must be unique"
            ),
            *sum_to_one(path, [j.share for j in jurisdictions], "jurisdiction shares"),
        ]


# ----------------------------------------------------------------------------- behaviour


class Behaviour(Strict):
    name: Identifier
    description: str = ""
    base_rate: Annotated[float, Field(ge=0.0, le=0.5)] = Field(
        description="Probability per agent per day of doing it, with no system in place."
    )
    category: Literal["misconduct", "prosocial", "speech", "religion"] = Field(
        default="misconduct",
        description="What kind of act it is: misconduct (the system's stated targets), "
        "prosocial (volunteering, donating blood), speech (criticising or praising the "
        "government) or religion (public prayer). Audits group effects by category.",
    )
    propensity_driven: bool = Field(
        default=True,
        description="Whether the agent's propensity multiplier applies (misconduct: yes; "
        "civic acts: usually no).",
    )
    disposition: Literal["none", "political", "religiosity"] = Field(
        default="none",
        description="A disposition that also multiplies the rate: `political` (criticising or "
        "praising the government), `religiosity` (public prayer).",
    )

    @staticmethod
    def name_issues(path: FieldPath, behaviours: Sequence[Behaviour]) -> list[Issue]:
        names = [b.name for b in behaviours]
        return duplicate_names(path, names, "behaviour", "; names must be unique")

    @staticmethod
    def rate_issues(path: FieldPath, behaviours: Sequence[Behaviour]) -> list[Issue]:
        """An agent does at most one scored act a day, so base rates must leave room for none."""
        total_rate = math.fsum(b.base_rate for b in behaviours)
        if total_rate > 0.5:
            return [
                (
                    path,
                    total_rate,
                    f"base rates sum to {total_rate:g} per day; an agent does at most one scored "
                    "act a day, so keep the sum at or below 0.5",
                )
            ]
        return []


# ----------------------------------------------------------------------------- economy, response, trust


class Economy(Strict):
    """Everyday demand that consequences bite on."""

    base_loan_approval: Probability = Field(
        default=0.95, description="Chance a loan is approved where no programme runs."
    )
    loan_demand: Probability = Field(default=0.002, description="Loan applications per agent-day.")
    loan_refusal_cost: NonNegFloat = Field(
        default=0.05, description="Wealth lost (in median annual incomes) when a loan is refused."
    )
    travel_demand: Probability = Field(default=0.01, description="Long trips per agent-day.")
    match_demand: Probability = Field(
        default=0.005, description="Attempts at a dating or job match per agent-day."
    )
    match_success: Probability = Field(
        default=0.5, description="Chance a match attempt succeeds with no penalty."
    )
    shunning: Probability = Field(
        default=0.5,
        description="How much being publicly shamed cuts one's chance of a match (contacts "
        "keep away).",
    )
    money_unit: str = Field(
        default="median incomes",
        min_length=1,
        max_length=40,
        description="What budgets and costs are counted in, e.g. yuan (a label).",
    )
    median_income: PositiveFloat = Field(
        default=1.0,
        description="One median annual income in money_unit: converts tier perks (income "
        "effects) into what they cost a programme's budget.",
    )


class Response(Strict):
    """How agents respond to the system."""

    model: Literal["fixed", "adaptive"] = "fixed"
    initial_risk: Probability = Field(
        default=0.1, description="Perceived risk at the start (awareness of the system)."
    )
    learning_rate: Probability = Field(
        default=0.02, description="Weight of today's evidence in perceived risk."
    )
    social_weight: NonNegFloat = Field(
        default=1.0, description="Weight of contacts' sanctions against one's own."
    )
    deterrence: NonNegFloat = Field(
        default=3.0,
        description="Strength of deterrence: rate multiplier exp(-deterrence*risk*vulnerability*severity).",
    )
    virtue: NonNegFloat = Field(
        default=1.0,
        description="Strength of strategic virtue for behaviours that earn points.",
    )
    severity_scale: PositiveFloat = Field(
        default=50.0, description="Points that count as severity 1."
    )
    strategic_reporting: NonNegFloat = Field(
        default=0.0,
        description="(adaptive; inert under fixed) How strongly informants follow the pay: the chance of reporting "
        "an act of b by a member of g is multiplied by exp(strategic_reporting * (reward - "
        "report_cost) / severity_scale), reward = the points the report earns. 0: off.",
    )
    report_cost: Annotated[float, Field(ge=0.0, le=float(SCORE_LIMIT))] = Field(
        default=0.0,
        description="What making a report costs an informant, in points (time, risk, stigma).",
    )

    def issues(self, path: FieldPath, refs: Refs) -> list[Issue]:
        # Under `fixed` it is inert, like deterrence and virtue (compile/informants.py), so a
        # preset that sets it can still be run with `response.model=fixed`.
        if self.strategic_reporting > 0 and not refs.informants:
            return [
                (
                    path + ("strategic_reporting",),
                    self.strategic_reporting,
                    "strategic reporting needs an `informants` section; set it to 0 otherwise",
                )
            ]
        return []


class Trust(Strict):
    """Interpersonal trust, in every scenario (the society's, not the informants'): it recovers
    slowly towards a baseline that surveillance people know of lowers (the programme's
    recording of the acts it scores, and informants among one's contacts), and each contact
    reported, sanctioned or shamed the day before takes a share of it (the essay's Ceausescu
    passage: the lack of interpersonal trust nourished by informants and surveillance). Without
    a system the baseline is each person's initial level, so the counterfactual keeps the same
    society at that level."""

    initial: Probability = 0.7
    spread: Annotated[float, Field(ge=0.0, le=0.5)] = Field(
        default=0.0,
        description="Standard deviation of each person's own initial trust around `initial` "
        "(a uniform spread, clipped to [0, 1]); 0: everyone starts at `initial`.",
    )
    surveillance_weight: NonNegFloat = Field(
        default=0.2,
        description="The baseline also falls by surveillance_weight * the chance an act the "
        "place's programme scores is recorded (known surveillance, any channel).",
    )
    learning_rate: Probability = Field(
        default=0.002,
        description="Share of the gap to the baseline that trust recovers each day.",
    )
    informant_weight: NonNegFloat = Field(
        default=0.8,
        description="The baseline is initial * (1 - min(1, informant_weight * share of one's "
        "contacts who inform + surveillance_weight * known surveillance)).",
    )
    report_shock: Probability = Field(
        default=0.3,
        description="Share of trust lost for each contact an informant reported the day before.",
    )
    sanction_shock: Probability = Field(
        default=0.05,
        description="Share of trust lost for each contact sanctioned the day before.",
    )
    shaming_shock: Probability = Field(
        default=0.05,
        description="Further share lost for each contact publicly shamed the day before.",
    )
    chill: Probability = Field(
        default=0.8,
        description="How much distrust silences speech and religion: rate multiplier "
        "1 - chill * (1 - trust) for such behaviours that are scored down or informed on.",
    )
