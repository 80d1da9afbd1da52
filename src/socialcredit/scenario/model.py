"""The scenario language: pydantic models for one YAML scenario file.

Every model forbids unknown keys and coerces nothing (strict mode), so a typo or a quoted number
is an error that names its field instead of a silent default. Cross-field rules (tiers that
tile the score range, references to behaviours and channels, shares that sum to one) live in
``semantic_issues`` so that each problem is reported with the exact field path it concerns.

Later sections (households, informants, organisations, ...) are added as new optional fields
with defaults, so existing files keep validating.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegFloat = Annotated[float, Field(ge=0.0)]
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=60)]
Score = Annotated[int, Field(ge=-30000, le=30000)]

# Largest population one run accepts; int32 agent indices and counts stay exact below it.
MAX_AGENTS = 2_000_000_000
MAX_DAYS = 20_000


class Strict(BaseModel):
    """Base for every section: unknown keys and type coercion are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# ----------------------------------------------------------------------------- metadata


class Source(Strict):
    """A citation that figures in the scenario rest on."""

    id: Identifier
    citation: str = Field(min_length=1)
    verified: bool = Field(
        description="True when the figure was seen in the cited source ([V]); false for "
        "secondary ([S]) or unverified ([U]) figures."
    )


class UncertainFigure(Strict):
    """A figure that nobody could confirm; reports flag results that depend on it."""

    field: str = Field(
        min_length=1, description="Dotted path of the field, e.g. programmes.rongcheng.tiers"
    )
    note: str = Field(min_length=1)
    source: Identifier | None = None


class Metadata(Strict):
    name: Slug
    description: str = Field(min_length=1)
    sources: list[Source] = Field(default_factory=list)
    uncertain: list[UncertainFigure] = Field(default_factory=list)
    harms: str | None = Field(
        default=None,
        description="For presets that model repressive practice: what harm it is there to measure.",
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
    wealth_factor: Annotated[float, Field(gt=0.0)] = Field(
        default=1.0, description="Multiplier of the group's wealth (1 = the population's)."
    )


class Lognormal(Strict):
    """Wealth in units of the median annual income: median 1 by default."""

    distribution: Literal["lognormal"]
    median: Annotated[float, Field(gt=0.0)] = 1.0
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


class Channel(Strict):
    name: Identifier
    description: str = ""
    coverage: dict[Identifier, Probability] = Field(
        description="Behaviour -> probability that one act is recorded through this channel."
    )
    false_positive_rate: Probability = Field(
        default=0.0,
        description="Probability per agent per day, for each covered behaviour, of a record "
        "for an act that did not happen.",
    )
    cost_per_year: NonNegFloat = Field(
        default=0.0,
        description="Yearly cost of running the channel at full coverage, per resident of a "
        "jurisdiction it covers, in economy.money_unit (cameras, grid workers, data feeds). "
        "A programme's budget pays it first; a budget short of its channels' cost scales "
        "their coverage down in proportion.",
    )


# ----------------------------------------------------------------------------- programme


class Tier(Strict):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9+\-]+$", max_length=8)]
    min: Score | None = Field(description="Lowest score in the tier (null: open below).")
    max: Score | None = Field(description="Highest score in the tier (null: open above).")


class Repayment(Strict):
    """Listed debtors pay what they owe, which takes them off the list (the court list's
    removal on performance, scs-facts section 3)."""

    rate: Probability = Field(
        description="Chance per day that a listed debtor of median wealth pays (and is removed)."
    )
    wealth_elasticity: Annotated[float, Field(ge=0.0, le=5.0)] = Field(
        default=1.0,
        description="The daily chance is rate * (wealth / median) ** elasticity (capped at 1): "
        "the richer pay sooner.",
    )
    amount: NonNegFloat = Field(
        default=0.5, description="What paying costs, in median annual incomes (wealth lost)."
    )
    shamed_factor: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        default=1.0,
        description="Multiplier of the chance for a debtor shamed or sighted on the map the day "
        "before (the payment conversion of public shaming).",
    )
    clears_points: Annotated[int, Field(ge=0, le=30000)] = Field(
        default=0,
        description="Points of active negative records that paying clears, oldest first (the "
        "debt record; use the points of the listing ground).",
    )


class Blacklist(Strict):
    tiers: list[str] = Field(
        default_factory=list,
        description="Tiers whose members are listed (may be empty when `grounds` list people).",
    )
    term_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] = Field(
        description="Days a listing lasts at least; it ends on the first day after the term "
        "on which the person is no longer in a listed tier."
    )
    grounds: list[Identifier] = Field(
        default_factory=list,
        description="Behaviours whose record puts the person on the list the next day (the court "
        "list's grounds: refusing to pay when able, evading enforcement, false litigation...); "
        "a further record renews the term.",
    )
    until_paid: bool = Field(
        default=False,
        description="Listings end only on payment, never at the end of the term (ground 1 of the "
        "court list: listed until performance).",
    )
    repayment: Repayment | None = None


class Repair(Strict):
    """Credit repair: restorative acts clear negative records (Beijing subway records cleared
    by volunteering; NDRC Order No. 58, scs-facts sections 7 and 8)."""

    behaviours: list[Identifier] = Field(
        min_length=1, description="Behaviours whose recorded act repairs the credit file."
    )
    points: Annotated[int, Field(ge=1, le=30000)] = Field(
        description="Points of active negative records each recorded act clears, oldest first."
    )


class Consequence(Strict):
    """What a tier (or a listing) does to a person's material life, and their children's."""

    school_block: bool = Field(
        default=False,
        description="The household's children are refused good schools and universities.",
    )
    loan_approval: Probability = Field(
        default=1.0, description="Chance that a loan application is approved."
    )
    travel_ban: bool = Field(
        default=False, description="Flight and high-speed train tickets blocked."
    )
    income_effect: Annotated[float, Field(ge=-1.0, le=1.0)] = Field(
        default=0.0,
        description="Share of daily income gained (rewards, discounts) or lost (surcharges).",
    )
    matching_penalty: Annotated[float, Field(ge=-1.0, le=1.0)] = Field(
        default=0.0,
        description="Algorithmic penalty in dating and job matching: the chance a match "
        "succeeds is multiplied by 1 - penalty (negative: a boost, as a reward).",
    )
    public_shaming: bool = Field(
        default=False,
        description="Name and face shown on village posters, cinema and street screens: "
        "contacts shun the person (see economy.shunning).",
    )
    on_map: bool = Field(
        default=False,
        description="Shown on the deadbeat map: app users within `map.radius_m` of where they "
        "stand see the person (see the `map` section).",
    )


class Appeals(Strict):
    """Wrongful records can be appealed and corrected (the objection procedure of the court
    list; credit repair under NDRC Order No. 58, scs-facts section 8)."""

    upheld: Probability = Field(description="Share of appeals against false records upheld.")
    delay_days: Annotated[float, Field(ge=1.0, le=MAX_DAYS)] = Field(
        description="Mean days until an appeal is decided (decisions arrive at random)."
    )


class Budget(Strict):
    """A programme's yearly money, per resident, so it holds at any number of agents.

    Channels are paid first (their coverage is scaled down when the budget cannot pay for
    them); what is left pays rewards during the year (informant payments and tier perks),
    which stop when it is spent and resume when the year turns (the essay: cities run the
    system "employing varying punishments and benefits in line with local budgets").
    """

    per_resident_year: NonNegFloat = Field(
        description="Money per resident per year, in economy.money_unit."
    )
    point_cost: NonNegFloat = Field(
        default=0.0, description="Money per point paid to an informant for a report."
    )


class Programme(Strict):
    description: str = ""
    base_score: Score
    bounds: list[Score] = Field(min_length=2, max_length=2, description="[lowest, highest] score.")
    points: dict[Identifier, Score] = Field(description="Behaviour -> points per record.")
    channels: list[Identifier] = Field(description="Channels the authority draws on.")
    record_expiry_days: Annotated[int, Field(ge=1, le=MAX_DAYS)]
    expiry_resolution_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] = Field(
        default=1,
        description="Records expire in buckets of this many days (memory: one int16 per bucket).",
    )
    tiers: list[Tier] = Field(min_length=1, max_length=16)
    blacklist: Blacklist | None = None
    consequences: dict[str, Consequence] = Field(
        default_factory=dict, description="Tier name (or `listed`) -> consequence."
    )
    appeals: Appeals | None = None
    repair: Repair | None = None
    budget: Budget | None = Field(
        default=None,
        description="Yearly money of the programme (null: unlimited, nothing is costed).",
    )


# ----------------------------------------------------------------------------- informants


class TargetedReward(Strict):
    """Extra points for reporting one behaviour by members of one group (e.g. the Xinjiang
    programme that rewards majority citizens for reporting minority public prayer)."""

    behaviour: Identifier
    group: Identifier
    points: Score


class Informants(Strict):
    """Citizens who report what their contacts do. Reports are a channel named `informants`
    that programmes may list; each report earns the informant points."""

    share: Probability = Field(description="Share of eligible agents who inform.")
    eligible_groups: list[Identifier] | None = Field(
        default=None, description="Groups whose members may inform (null: every group)."
    )
    coverage: dict[Identifier, Probability] = Field(
        description="Behaviour -> chance that one informant contact reports one act."
    )
    false_report_rate: Probability = Field(
        default=0.0,
        description="Chance per informant, per contact and day, of a false or malicious report.",
    )
    false_report_behaviour: Identifier | None = Field(
        default=None, description="What false reports accuse people of."
    )
    target_weights: dict[Identifier, NonNegFloat] = Field(
        default_factory=dict,
        description="Group -> relative chance of being falsely reported (default 1 each).",
    )
    reward_points: Score = Field(default=0, description="Points to the informant per report.")
    confirmed_points: Score = Field(
        default=0, description="Further points per report of an act that really happened."
    )
    targeted_rewards: list[TargetedReward] = Field(default_factory=list)


class Trust(Strict):
    """Interpersonal trust (scenarios with informants): it recovers slowly towards a baseline
    that informants among one's contacts lower, and each contact reported, sanctioned or
    shamed the day before takes a share of it (the essay's Ceausescu passage: the lack of
    interpersonal trust nourished by informants and surveillance)."""

    initial: Probability = 0.7
    learning_rate: Probability = Field(
        default=0.002,
        description="Share of the gap to the baseline that trust recovers each day.",
    )
    informant_weight: NonNegFloat = Field(
        default=10.0,
        description="The baseline is initial * (1 - min(1, informant_weight * share of one's "
        "contacts who inform)).",
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


# ----------------------------------------------------------------------------- economy, response


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
    median_income: Annotated[float, Field(gt=0.0)] = Field(
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
    severity_scale: Annotated[float, Field(gt=0.0)] = Field(
        default=50.0, description="Points that count as severity 1."
    )
    strategic_reporting: NonNegFloat = Field(
        default=0.0,
        description="(adaptive) How strongly informants follow the pay: the chance of reporting "
        "an act of b by a member of g is multiplied by exp(strategic_reporting * (reward - "
        "report_cost) / severity_scale), reward = the points the report earns. 0: off.",
    )
    report_cost: Annotated[float, Field(ge=0.0, le=30000.0)] = Field(
        default=0.0,
        description="What making a report costs an informant, in points (time, risk, stigma).",
    )


class DeadbeatMap(Strict):
    """A map app that shows listed or low-scored people near where its user stands (the Hebei
    High People's Court's 'deadbeat map', scs-facts section 5). Who is shown: consequences with
    `on_map`. The city plane of each jurisdiction is a torus, so every user sees uniform density."""

    app_share: Probability = Field(
        description="Share of citizens who use the app (a fixed set, the same for every seed)."
    )
    radius_m: Annotated[float, Field(gt=0.0, le=100_000.0)] = Field(
        default=500.0, description="Radius of the look-up around where the user stands, metres."
    )
    lookups_per_day: Probability = Field(
        default=1.0,
        description="Chance per user and day of looking at the map: each day round(lookups_per_day "
        "* users) of them look, a systematic sample with a random start.",
    )
    wander_m: NonNegFloat = Field(
        default=0.0,
        description="Users stand at home plus a displacement uniform in a square of half-side "
        "wander_m, drawn anew each day (0: at home).",
    )
    tip_off: Probability = Field(
        default=0.0,
        description="Chance per sighting that the user reports the debtor's whereabouts or "
        "assets to the court (one click in the app).",
    )
    enforcement: Probability = Field(
        default=0.0,
        description="Chance that a tip-off leads to enforced payment that day (needs "
        "blacklist.repayment; the debtor pays and leaves the list).",
    )


class Record(Strict):
    """What a run keeps."""

    snapshot: bool = True
    metrics_every: Annotated[int, Field(ge=1, le=MAX_DAYS)] = 1


# ----------------------------------------------------------------------------- scenario


class Scenario(Strict):
    metadata: Metadata
    population: Population
    jurisdictions: list[Jurisdiction] = Field(min_length=1, max_length=250)
    programmes: dict[Identifier, Programme] = Field(default_factory=dict)
    behaviours: list[Behaviour] = Field(min_length=1, max_length=32)
    channels: list[Channel] = Field(default_factory=list, max_length=31)
    informants: Informants | None = None
    trust: Trust = Trust()
    economy: Economy = Economy()
    response: Response = Response()
    days: Annotated[int, Field(ge=1, le=MAX_DAYS)]
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0
    record: Record = Record()
    map: DeadbeatMap | None = None
    organisations: Organisations | None = Field(
        default=None,
        description="Businesses, government institutions, the market and corporate credit "
        "(scenario/orgs.py); null: no organisations.",
    )

    # ------------------------------------------------------------------ cross-field rules
    def semantic_issues(self) -> list[tuple[tuple[str | int, ...], object, str]]:
        """Return (field path, value, message) for every rule that spans fields."""
        out: list[tuple[tuple[str | int, ...], object, str]] = []
        behaviours = [b.name for b in self.behaviours]
        channels = [c.name for c in self.channels]

        def shares(path: tuple[str, ...], items: list, what: str) -> None:
            total = math.fsum(x.share for x in items)
            if abs(total - 1.0) > 1e-6:
                out.append(
                    (
                        path,
                        [x.share for x in items],
                        f"{what} shares sum to {total:g}; they must sum to 1",
                    )
                )

        def unique(path: tuple[str, ...], names: list[str], what: str) -> None:
            seen: set[str] = set()
            for i, n in enumerate(names):
                if n in seen:
                    out.append(
                        (
                            path + (i, "name"),
                            n,
                            f"duplicate {what} name {n!r}; names must be unique",
                        )
                    )
                seen.add(n)

        unique(("population", "groups"), [g.name for g in self.population.groups], "group")
        shares(("population", "groups"), self.population.groups, "group")
        unique(("jurisdictions",), [j.name for j in self.jurisdictions], "jurisdiction")
        shares(("jurisdictions",), self.jurisdictions, "jurisdiction")
        unique(("behaviours",), behaviours, "behaviour")
        unique(("channels",), channels, "channel")
        if (
            self.population.contacts.degree >= self.population.agents
            and self.population.contacts.degree
        ):
            out.append(
                (
                    ("population", "contacts", "degree"),
                    self.population.contacts.degree,
                    f"contact degree must be below the number of agents ({self.population.agents})",
                )
            )
        if 0 < self.population.contacts.degree < self.population.contacts.long_range * 2:
            out.append(
                (
                    ("population", "contacts", "long_range"),
                    self.population.contacts.long_range,
                    f"at most degree/2 = {self.population.contacts.degree // 2} long-range pairs",
                )
            )
        if (
            self.population.contacts.degree
            and self.population.contacts.reach * 2 < self.population.contacts.degree
        ):
            out.append(
                (
                    ("population", "contacts", "reach"),
                    self.population.contacts.reach,
                    f"reach must be at least degree/2 = {self.population.contacts.degree // 2}",
                )
            )

        total_rate = math.fsum(b.base_rate for b in self.behaviours)
        if total_rate > 0.5:
            out.append(
                (
                    ("behaviours",),
                    total_rate,
                    f"base rates sum to {total_rate:g} per day; an agent does at most one scored act a "
                    "day, so keep the sum at or below 0.5",
                )
            )

        groups = [g.name for g in self.population.groups]
        for g_i, g in enumerate(self.population.groups):
            for b in g.rate_factors:
                if b not in behaviours:
                    out.append(
                        (
                            ("population", "groups", g_i, "rate_factors", b),
                            b,
                            f"unknown behaviour {b!r}; defined: {behaviours}",
                        )
                    )
        if "informants" in channels:
            k = channels.index("informants")
            out.append(
                (
                    ("channels", k, "name"),
                    "informants",
                    "the channel name 'informants' is reserved for the informants section",
                )
            )
        inf = self.informants
        if inf is not None:
            base_i = ("informants",)
            for b in inf.coverage:
                if b not in behaviours:
                    out.append(
                        (
                            base_i + ("coverage", b),
                            b,
                            f"unknown behaviour {b!r}; defined: {behaviours}",
                        )
                    )
            for k, g in enumerate(inf.eligible_groups or []):
                if g not in groups:
                    out.append(
                        (
                            base_i + ("eligible_groups", k),
                            g,
                            f"unknown group {g!r}; defined: {groups}",
                        )
                    )
            for g in inf.target_weights:
                if g not in groups:
                    out.append(
                        (
                            base_i + ("target_weights", g),
                            g,
                            f"unknown group {g!r}; defined: {groups}",
                        )
                    )
            if inf.false_report_rate > 0 and inf.false_report_behaviour is None:
                out.append(
                    (
                        base_i + ("false_report_behaviour",),
                        None,
                        f"false reports need a behaviour they accuse people of; name one of {behaviours}",
                    )
                )
            if (
                inf.false_report_behaviour is not None
                and inf.false_report_behaviour not in behaviours
            ):
                out.append(
                    (
                        base_i + ("false_report_behaviour",),
                        inf.false_report_behaviour,
                        f"unknown behaviour {inf.false_report_behaviour!r}; defined: {behaviours}",
                    )
                )
            for k, t in enumerate(inf.targeted_rewards):
                if t.behaviour not in behaviours:
                    out.append(
                        (
                            base_i + ("targeted_rewards", k, "behaviour"),
                            t.behaviour,
                            f"unknown behaviour {t.behaviour!r}; defined: {behaviours}",
                        )
                    )
                if t.group not in groups:
                    out.append(
                        (
                            base_i + ("targeted_rewards", k, "group"),
                            t.group,
                            f"unknown group {t.group!r}; defined: {groups}",
                        )
                    )
        channel_names = channels + (["informants"] if inf is not None else [])

        for i, j in enumerate(self.jurisdictions):
            if j.programme is not None and j.programme not in self.programmes:
                out.append(
                    (
                        ("jurisdictions", i, "programme"),
                        j.programme,
                        f"unknown programme {j.programme!r}; defined: {sorted(self.programmes) or 'none'}",
                    )
                )

        for c_i, c in enumerate(self.channels):
            for b in c.coverage:
                if b not in behaviours:
                    out.append(
                        (
                            ("channels", c_i, "coverage", b),
                            b,
                            f"unknown behaviour {b!r}; defined: {behaviours}",
                        )
                    )

        for p_name, p in self.programmes.items():
            base = ("programmes", p_name)
            lo, hi = p.bounds
            if lo >= hi:
                out.append(
                    (
                        base + ("bounds",),
                        list(p.bounds),
                        "bounds must be [low, high] with low < high",
                    )
                )
            elif not lo <= p.base_score <= hi:
                out.append(
                    (
                        base + ("base_score",),
                        p.base_score,
                        f"base score must lie within bounds [{lo}, {hi}]",
                    )
                )
            for b in p.points:
                if b not in behaviours:
                    out.append(
                        (base + ("points", b), b, f"unknown behaviour {b!r}; defined: {behaviours}")
                    )
            for k, c in enumerate(p.channels):
                if c not in channel_names:
                    hint = (
                        " (add an `informants` section to use informants)"
                        if c == "informants"
                        else ""
                    )
                    out.append(
                        (
                            base + ("channels", k),
                            c,
                            f"unknown channel {c!r}; defined: {channel_names}{hint}",
                        )
                    )
            if p.record_expiry_days % p.expiry_resolution_days:
                out.append(
                    (
                        base + ("expiry_resolution_days",),
                        p.expiry_resolution_days,
                        f"record_expiry_days ({p.record_expiry_days}) must be a multiple of "
                        f"expiry_resolution_days; divisors near it: "
                        f"{_divisors_near(p.record_expiry_days, p.expiry_resolution_days)}",
                    )
                )
            elif p.record_expiry_days // p.expiry_resolution_days > 64:
                out.append(
                    (
                        base + ("expiry_resolution_days",),
                        p.expiry_resolution_days,
                        f"{p.record_expiry_days // p.expiry_resolution_days} expiry buckets cost too "
                        "much memory per agent; use at most 64 (a coarser resolution)",
                    )
                )
            out.extend(_tier_issues(base, p))
            tier_names = [t.name for t in p.tiers]
            if p.blacklist is not None:
                for k, t in enumerate(p.blacklist.tiers):
                    if t not in tier_names:
                        out.append(
                            (
                                base + ("blacklist", "tiers", k),
                                t,
                                f"unknown tier {t!r}; defined: {tier_names}",
                            )
                        )
            for t in p.consequences:
                if t not in tier_names and t != "listed":
                    out.append(
                        (
                            base + ("consequences", t),
                            t,
                            f"unknown tier {t!r}; use one of {tier_names} or 'listed'",
                        )
                    )
            if "listed" in p.consequences and p.blacklist is None:
                out.append(
                    (
                        base + ("consequences", "listed"),
                        "listed",
                        "consequences for 'listed' need a blacklist in this programme",
                    )
                )
            out.extend(_people_issues(self, base, p, behaviours))
        out.extend(_map_issues(self))
        r = self.response
        if r.strategic_reporting > 0 and (r.model != "adaptive" or self.informants is None):
            out.append(
                (
                    ("response", "strategic_reporting"),
                    r.strategic_reporting,
                    "strategic reporting needs `response.model: adaptive` and an `informants` "
                    "section; set it to 0 otherwise",
                )
            )
        if self.organisations is not None:
            out.extend(org_issues(self.organisations))
        return out


def _people_issues(sc: Scenario, base: tuple, p: Programme, behaviours: list[str]) -> list:
    """Court-list grounds and repayment, credit repair and map flags of one programme."""
    out: list = []
    bl = p.blacklist
    if bl is not None:
        if not bl.tiers and not bl.grounds:
            out.append(
                (
                    base + ("blacklist",),
                    bl.model_dump(exclude_none=True),
                    "a blacklist lists nobody: give `tiers`, `grounds` or both",
                )
            )
        for k, b in enumerate(bl.grounds):
            if b not in behaviours:
                out.append(
                    (
                        base + ("blacklist", "grounds", k),
                        b,
                        f"unknown behaviour {b!r}; defined: {behaviours}",
                    )
                )
        if bl.until_paid and bl.repayment is None:
            out.append(
                (
                    base + ("blacklist", "until_paid"),
                    True,
                    "listings that end only on payment need `repayment` (else nobody ever leaves)",
                )
            )
    if p.repair is not None:
        for k, b in enumerate(p.repair.behaviours):
            if b not in behaviours:
                out.append(
                    (
                        base + ("repair", "behaviours", k),
                        b,
                        f"unknown behaviour {b!r}; defined: {behaviours}",
                    )
                )
            elif p.points.get(b, 0) == 0:
                out.append(
                    (
                        base + ("repair", "behaviours", k),
                        b,
                        f"{b!r} earns no points in this programme, so it is never recorded and "
                        f"repairs nothing; give it points under programmes.{base[1]}.points",
                    )
                )
    if sc.map is None:
        for t, c in p.consequences.items():
            if c.on_map:
                out.append(
                    (
                        base + ("consequences", t, "on_map"),
                        True,
                        "nobody sees the map: add a `map` section (app_share, radius_m, ...)",
                    )
                )
    return out


def _map_issues(sc: Scenario) -> list:
    m = sc.map
    if m is None:
        return []
    out: list = []
    shown = any(c.on_map for p in sc.programmes.values() for c in p.consequences.values())
    if not shown:
        out.append(
            (
                ("map",),
                "map",
                "the map shows nobody: set `on_map: true` under some programme's consequences "
                "(a tier or `listed`)",
            )
        )
    for j in sc.jurisdictions:
        half = math.sqrt(j.area_km2) * 1000.0 / 2
        if m.radius_m > half:
            out.append(
                (
                    ("map", "radius_m"),
                    m.radius_m,
                    f"the radius must be at most half the side of each city plane; jurisdiction "
                    f"{j.name!r} ({j.area_km2:g} km2) allows at most {half:.0f} m",
                )
            )
            break
    if m.enforcement > 0 and not any(
        p.blacklist is not None and p.blacklist.repayment is not None
        for p in sc.programmes.values()
    ):
        out.append(
            (
                ("map", "enforcement"),
                m.enforcement,
                "enforced payment needs a programme with blacklist.repayment",
            )
        )
    return out


def _divisors_near(n: int, d: int) -> list[int]:
    divs = [k for k in range(1, n + 1) if n % k == 0]
    return sorted(divs, key=lambda k: abs(k - d))[:3]


def _tier_issues(base: tuple, p: Programme) -> list:
    """Tiers, from highest to lowest, must tile [bounds.low, bounds.high] with no gap or overlap."""
    out = []
    names = [t.name for t in p.tiers]
    for i, n in enumerate(names):
        if n in names[:i]:
            out.append((base + ("tiers", i, "name"), n, f"duplicate tier name {n!r}"))
    lo, hi = p.bounds
    tiers = p.tiers
    for i, t in enumerate(tiers):
        path = base + ("tiers", i)
        if t.min is not None and t.max is not None and t.min > t.max:
            out.append(
                (
                    path,
                    {"min": t.min, "max": t.max},
                    f"tier {t.name}: min {t.min} is above max {t.max}",
                )
            )
            return out
    if tiers[0].max is not None and tiers[0].max < hi:
        out.append(
            (
                base + ("tiers", 0, "max"),
                tiers[0].max,
                f"the top tier must reach the upper bound {hi} (use null or {hi}); scores above "
                f"{tiers[0].max} would have no tier",
            )
        )
    if tiers[-1].min is not None and tiers[-1].min > lo:
        out.append(
            (
                base + ("tiers", len(tiers) - 1, "min"),
                tiers[-1].min,
                f"the bottom tier must reach the lower bound {lo} (use null or {lo}); scores below "
                f"{tiers[-1].min} would have no tier",
            )
        )
    for i in range(1, len(tiers)):
        upper, lower = tiers[i - 1], tiers[i]
        if upper.min is None or lower.max is None:
            out.append(
                (
                    base + ("tiers", i),
                    lower.name,
                    "tiers must be listed from highest to lowest; only the top tier may have max "
                    "null and only the bottom tier min null",
                )
            )
            continue
        if lower.max >= upper.min:
            out.append(
                (
                    base + ("tiers", i, "max"),
                    lower.max,
                    f"tier {lower.name} (max {lower.max}) overlaps tier {upper.name} (min {upper.min}); "
                    f"set max to {upper.min - 1}",
                )
            )
        elif lower.max < upper.min - 1:
            out.append(
                (
                    base + ("tiers", i, "max"),
                    lower.max,
                    f"gap between tier {lower.name} (max {lower.max}) and tier {upper.name} "
                    f"(min {upper.min}): scores {lower.max + 1}..{upper.min - 1} have no tier; set max "
                    f"to {upper.min - 1}",
                )
            )
    return out


def tier_floors(p: Programme) -> list[int]:
    """Lowest score of each tier, highest tier first (the bottom tier's floor is the lower bound)."""
    return [t.min if t.min is not None else p.bounds[0] for t in p.tiers]


NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


# The organisations section lives in its own module, which builds on the types above.
from .orgs import Organisations, org_issues  # noqa: E402

Scenario.model_rebuild()
