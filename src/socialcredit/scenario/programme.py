"""The scenario language, part two: the system laid over the society.

What it observes (channels, informants), how it scores and tiers people (programmes, tiers),
what a tier or a listing does to them (consequences, the court list's blacklist, repayment and
repair, appeals), what it costs (budgets), and the deadbeat map that shows the listed to their
neighbours. Each section checks its own cross-field rules in an ``issues`` method beside its
fields; what it refers to in other sections comes in a ``Refs`` (see ``rules``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from .rules import Defined, FieldPath, Issue, Refs, duplicate_names
from .types import MAX_DAYS, SCORE_LIMIT, Identifier, NonNegFloat, Probability, Score, Strict

if TYPE_CHECKING:
    from .population import Jurisdiction

# ----------------------------------------------------------------------------- observation


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

    def issues(self, path: FieldPath, refs: Refs) -> list[Issue]:
        return refs.behaviours.check_keys(path + ("coverage",), self.coverage)

    @staticmethod
    def name_issues(path: FieldPath, channels: Sequence[Channel]) -> list[Issue]:
        names = [c.name for c in channels]
        return duplicate_names(path, names, "channel", "; names must be unique")

    @staticmethod
    def reserved_issues(path: FieldPath, channels: Sequence[Channel]) -> list[Issue]:
        """Reports of the `informants` section reach programmes as a channel of that name."""
        names = [c.name for c in channels]
        if "informants" not in names:
            return []
        return [
            (
                path + (names.index("informants"), "name"),
                "informants",
                "the channel name 'informants' is reserved for the informants section",
            )
        ]


class TargetedReward(Strict):
    """Extra points for reporting one behaviour by members of one group (e.g. the Xinjiang
    programme that rewards majority citizens for reporting minority public prayer)."""

    behaviour: Identifier
    group: Identifier
    points: Score

    def issues(self, path: FieldPath, refs: Refs) -> list[Issue]:
        return [
            *refs.behaviours.check(path + ("behaviour",), self.behaviour),
            *refs.groups.check(path + ("group",), self.group),
        ]


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

    def issues(self, path: FieldPath, refs: Refs) -> list[Issue]:
        out = refs.behaviours.check_keys(path + ("coverage",), self.coverage)
        out += refs.groups.check_items(path + ("eligible_groups",), self.eligible_groups or [])
        out += refs.groups.check_keys(path + ("target_weights",), self.target_weights)
        if self.false_report_rate > 0 and self.false_report_behaviour is None:
            out.append(
                (
                    path + ("false_report_behaviour",),
                    None,
                    "false reports need a behaviour they accuse people of; name one of "
                    f"{refs.behaviours.names}",
                )
            )
        if self.false_report_behaviour is not None:
            out += refs.behaviours.check(
                path + ("false_report_behaviour",), self.false_report_behaviour
            )
        for k, t in enumerate(self.targeted_rewards):
            out += t.issues(path + ("targeted_rewards", k), refs)
        return out


# ----------------------------------------------------------------------------- programme


class Tier(Strict):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9+\-]+$", max_length=8)]
    min: Score | None = Field(description="Lowest score in the tier (null: open below).")
    max: Score | None = Field(description="Highest score in the tier (null: open above).")

    @staticmethod
    def list_issues(path: FieldPath, tiers: Sequence[Tier], bounds: Sequence[int]) -> list[Issue]:
        """Tiers, from highest to lowest, must tile [bounds.low, bounds.high] with no gap or
        overlap."""
        out = duplicate_names(path, [t.name for t in tiers], "tier")
        lo, hi = bounds
        for i, t in enumerate(tiers):
            if t.min is not None and t.max is not None and t.min > t.max:
                out.append(
                    (
                        path + (i,),
                        {"min": t.min, "max": t.max},
                        f"tier {t.name}: min {t.min} is above max {t.max}",
                    )
                )
                return out
        if tiers[0].max is not None and tiers[0].max < hi:
            out.append(
                (
                    path + (0, "max"),
                    tiers[0].max,
                    f"the top tier must reach the upper bound {hi} (use null or {hi}); scores "
                    f"above {tiers[0].max} would have no tier",
                )
            )
        if tiers[-1].min is not None and tiers[-1].min > lo:
            out.append(
                (
                    path + (len(tiers) - 1, "min"),
                    tiers[-1].min,
                    f"the bottom tier must reach the lower bound {lo} (use null or {lo}); scores "
                    f"below {tiers[-1].min} would have no tier",
                )
            )
        for i in range(1, len(tiers)):
            out += Tier._pair_issues(path + (i,), tiers[i - 1], tiers[i])
        return out

    @staticmethod
    def _pair_issues(path: FieldPath, upper: Tier, lower: Tier) -> list[Issue]:
        """Two neighbouring tiers (``path`` is the lower one's) must meet exactly."""
        if upper.min is None or lower.max is None:
            return [
                (
                    path,
                    lower.name,
                    "tiers must be listed from highest to lowest; only the top tier may have max "
                    "null and only the bottom tier min null",
                )
            ]
        if lower.max >= upper.min:
            return [
                (
                    path + ("max",),
                    lower.max,
                    f"tier {lower.name} (max {lower.max}) overlaps tier {upper.name} (min "
                    f"{upper.min}); set max to {upper.min - 1}",
                )
            ]
        if lower.max < upper.min - 1:
            return [
                (
                    path + ("max",),
                    lower.max,
                    f"gap between tier {lower.name} (max {lower.max}) and tier {upper.name} "
                    f"(min {upper.min}): scores {lower.max + 1}..{upper.min - 1} have no tier; "
                    f"set max to {upper.min - 1}",
                )
            ]
        return []


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
    clears_points: Annotated[int, Field(ge=0, le=SCORE_LIMIT)] = Field(
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

    def tier_issues(self, path: FieldPath, tiers: Defined) -> list[Issue]:
        """The tiers it lists are tiers of its programme."""
        return tiers.check_items(path + ("tiers",), self.tiers)

    def issues(self, path: FieldPath, refs: Refs) -> list[Issue]:
        out: list[Issue] = []
        if not self.tiers and not self.grounds:
            out.append(
                (
                    path,
                    self.model_dump(exclude_none=True),
                    "a blacklist lists nobody: give `tiers`, `grounds` or both",
                )
            )
        out += refs.behaviours.check_items(path + ("grounds",), self.grounds)
        if self.until_paid and self.repayment is None:
            out.append(
                (
                    path + ("until_paid",),
                    True,
                    "listings that end only on payment need `repayment` (else nobody ever leaves)",
                )
            )
        return out


class Repair(Strict):
    """Credit repair: restorative acts clear negative records (Beijing subway records cleared
    by volunteering; NDRC Order No. 58, scs-facts sections 7 and 8)."""

    behaviours: list[Identifier] = Field(
        min_length=1, description="Behaviours whose recorded act repairs the credit file."
    )
    points: Annotated[int, Field(ge=1, le=SCORE_LIMIT)] = Field(
        description="Points of active negative records each recorded act clears, oldest first."
    )

    def issues(self, path: FieldPath, refs: Refs, points: dict[str, int]) -> list[Issue]:
        """Repairing behaviours exist and earn points in the programme (``points``)."""
        out: list[Issue] = []
        points_at = ".".join(map(str, path[:-1] + ("points",)))
        for k, b in enumerate(self.behaviours):
            unknown = refs.behaviours.check(path + ("behaviours", k), b)
            if unknown:
                out += unknown
            elif points.get(b, 0) == 0:
                out.append(
                    (
                        path + ("behaviours", k),
                        b,
                        f"{b!r} earns no points in this programme, so it is never recorded and "
                        f"repairs nothing; give it points under {points_at}",
                    )
                )
        return out


class OccupationTerms(Strict):
    """Sanctions a tier (or listing) adds for one occupation (e.g. journalists' travel ban),
    on top of the tier's own: the stricter wins."""

    travel_ban: bool = Field(default=False, description="Flight and train tickets blocked.")
    loan_approval: Probability | None = Field(
        default=None, description="Cap on the chance a loan is approved (null: no cap)."
    )


class Detention(Strict):
    """Detention (issue 15, the essay's Xinjiang passage): a person of this tier or listing is
    taken each day with chance `rate`, and held for `term_days` days: no acts, no records, no
    loans, trips, matches or income, and their household's children are separated from them."""

    rate: Probability = Field(description="Chance per day that a free person is detained.")
    term_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] = Field(
        description="Days a detention lasts."
    )
    income_lost: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        default=1.0,
        description="Median incomes per year lost while detained (wealth falls by "
        "income_lost / 365 a day).",
    )


class Consequence(Strict):
    """What a tier (or a listing) does to a person's material life, and their children's.

    Every field's default is neutral: a consequence left unset is life as without the system
    (tests/test_counterfactual.py holds this for every field)."""

    school_block: bool = Field(
        default=False,
        description="The household's children are refused good schools and universities.",
    )
    loan_approval: Probability | None = Field(
        default=None,
        description="Chance that a loan application is approved (null: the economy's base "
        "rate, economy.base_loan_approval, as without the system).",
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
    audiences: Audiences | None = Field(
        default=None,
        description="Who sees the publicly shamed: village posters, screens, ringtones (needs "
        "public_shaming; what seeing does to viewers is the `shaming` section). Null: shaming "
        "has no counted audience.",
    )
    occupations: dict[Identifier, OccupationTerms] = Field(
        default_factory=dict,
        description="Occupation (population.occupations) -> sanctions added for its members.",
    )
    detention: Detention | None = Field(
        default=None, description="Detention of people of this tier or listing (null: none)."
    )

    def issues(self, path: FieldPath, refs: Refs) -> list[Issue]:
        out: list[Issue] = []
        if self.on_map and not refs.map:
            out.append(
                (
                    path + ("on_map",),
                    True,
                    "nobody sees the map: add a `map` section (app_share, radius_m, ...)",
                )
            )
        if self.audiences is not None and not self.public_shaming:
            out.append(
                (
                    path + ("audiences",),
                    "audiences",
                    "audiences see the publicly shamed: set `public_shaming: true` beside them "
                    "or remove `audiences`",
                )
            )
        if self.occupations:
            out += refs.occupations.check_keys(path + ("occupations",), self.occupations)
        return out


class Audiences(Strict):
    """The audiences of public shaming for one tier or listing (scs-facts section 6): village
    posters, cinema and street screens, debtor ringtones. Each counts its viewers
    (`shaming_viewers.<audience>`); the `shaming` section says what seeing does to them."""

    posters: bool = Field(
        default=False,
        description="A poster in the person's village: every resident of their neighbourhood "
        "(a square of side `shaming.village_m` on the city plane) sees it each day.",
    )
    screens: Probability = Field(
        default=0.0,
        description="Cinema pre-rolls and street screens: the share of the jurisdiction's "
        "residents who watch them on a given day (each sees everyone shown).",
    )
    ringtone_calls: Probability = Field(
        default=0.0,
        description="Debtor ringtones: the chance per contact and day of calling the person, "
        "so hearing the tone.",
    )


class Shaming(Strict):
    """What seeing someone shamed (posters, screens, ringtones, or the deadbeat map) does to
    the viewer (stages/audiences.py). Defaults change nothing but count the viewers."""

    village_m: Annotated[float, Field(gt=0.0, le=100_000.0)] = Field(
        default=1000.0,
        description="Side of a village or neighbourhood (the reach of a poster), metres.",
    )
    deterrence: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        default=0.0,
        description="Evidence of risk a viewer takes from having seen someone shamed or on the "
        "map the day before, added to their own sanctions' in the adaptive model's perceived "
        "risk (misconduct in general; inert under response.model: fixed).",
    )
    shunning: Probability = Field(
        default=0.0,
        description="Chance that a viewer who meets the shamed person in a dating or job match "
        "refuses them (the counterpart is a resident of the jurisdiction).",
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


class TierReward(Strict):
    """A reward that the well-rated tiers are entitled to (docs/mechanisms.md "Rewards people
    can count"). Each one given is counted and charged to the programme's budget; once the
    year's reward money is spent, none is given until the year turns."""

    tiers: list[str] = Field(min_length=1, description="Tiers entitled to the reward.")

    def tier_issues(self, path: FieldPath, tiers: Defined) -> list[Issue]:
        return tiers.check_items(path + ("tiers",), self.tiers)


class CheckupReward(TierReward):
    """Free health check-ups for the well-rated (the essay: 'not paying for doctor's
    checkups')."""

    take_up: Probability = Field(
        description="Chance per entitled person and day of taking a free check-up [U]."
    )
    cost: NonNegFloat = Field(
        description="Money per check-up the programme pays, in economy.money_unit [U]."
    )


class BikeReward(TierReward):
    """Deposit-free bike rental (Xiamen, Suzhou, Fuzhou: scs-facts section 2.2)."""

    take_up: Probability = Field(
        description="Chance per entitled person and day of renting a bike without a deposit [U]."
    )
    deposit: NonNegFloat = Field(
        description="Deposit waived per rental, money the renter need not put down [U]."
    )
    cost: NonNegFloat = Field(
        default=0.0,
        description="Money per rental the programme pays (the operator's guarantee) [U].",
    )


class LoanReward(TierReward):
    """Interest-free or discounted loans: an approved loan of an entitled person carries
    ``discount`` of its interest, which the programme pays (the essay: 'taking loans without
    interest')."""

    discount: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        default=1.0, description="Share of the interest waived (1: interest-free)."
    )
    amount: NonNegFloat = Field(description="Money lent per loan [U].")
    interest_rate: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        description="Yearly interest rate without the reward [U]."
    )
    term_years: Annotated[float, Field(gt=0.0, le=30.0)] = Field(
        default=1.0, description="Years a loan runs (simple interest)."
    )

    def interest_saved(self) -> float:
        """Money one rewarded loan saves its borrower (and costs the programme)."""
        return self.amount * self.interest_rate * self.term_years * self.discount


class MatchReward(TierReward):
    """Better matches in dating and job search for the well-rated: the chance a match attempt
    succeeds is multiplied by 1 + boost (capped at 1); each match won above the base chance is
    a match gained."""

    boost: Annotated[float, Field(gt=0.0, le=100.0)] = Field(
        description="Relative rise of the chance that a match succeeds [U]."
    )
    cost: NonNegFloat = Field(default=0.0, description="Money per match gained [U].")


class Rewards(Strict):
    """Rewards people can count: each kind is optional."""

    checkups: CheckupReward | None = None
    bikes: BikeReward | None = None
    loans: LoanReward | None = None
    matches: MatchReward | None = None

    def kinds(self) -> dict[str, TierReward]:
        out = {k: getattr(self, k) for k in ("checkups", "bikes", "loans", "matches")}
        return {k: v for k, v in out.items() if v is not None}

    def issues(self, path: FieldPath, tiers: Defined, consequences: dict) -> list[Issue]:
        out: list[Issue] = []
        for k, r in self.kinds().items():
            out += r.tier_issues(path + (k,), tiers)
        if self.matches is not None:
            for t in self.matches.tiers:
                c = consequences.get(t)
                if c is not None and c.matching_penalty != 0:
                    out.append(
                        (
                            path + ("matches", "tiers"),
                            t,
                            f"tier {t!r} already has a matching_penalty under consequences; "
                            "a match boost acts on the base chance, so remove one of the two",
                        )
                    )
        return out


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
    rewards: Rewards | None = Field(
        default=None,
        description="Rewards people can count (check-ups, deposit-free bikes, cheap loans, "
        "better matches), charged to the budget.",
    )

    def issues(self, path: FieldPath, refs: Refs) -> list[Issue]:
        out = self._score_issues(path)
        out += refs.behaviours.check_keys(path + ("points",), self.points)
        for k, c in enumerate(self.channels):
            hint = " (add an `informants` section to use informants)" if c == "informants" else ""
            out += refs.channels.check(path + ("channels", k), c, hint)
        out += self._expiry_issues(path)
        out += Tier.list_issues(path + ("tiers",), self.tiers, self.bounds)
        tiers = Defined("tier", [t.name for t in self.tiers])
        if self.blacklist is not None:
            out += self.blacklist.tier_issues(path + ("blacklist",), tiers)
        out += tiers.check_keys(path + ("consequences",), self.consequences, also="listed")
        if "listed" in self.consequences and self.blacklist is None:
            out.append(
                (
                    path + ("consequences", "listed"),
                    "listed",
                    "consequences for 'listed' need a blacklist in this programme",
                )
            )
        if self.blacklist is not None:
            out += self.blacklist.issues(path + ("blacklist",), refs)
        if self.repair is not None:
            out += self.repair.issues(path + ("repair",), refs, self.points)
        if self.rewards is not None:
            out += self.rewards.issues(path + ("rewards",), tiers, self.consequences)
        for t, c in self.consequences.items():
            out += c.issues(path + ("consequences", t), refs)
        return out

    def _score_issues(self, path: FieldPath) -> list[Issue]:
        lo, hi = self.bounds
        if lo >= hi:
            return [
                (
                    path + ("bounds",),
                    list(self.bounds),
                    "bounds must be [low, high] with low < high",
                )
            ]
        if not lo <= self.base_score <= hi:
            return [
                (
                    path + ("base_score",),
                    self.base_score,
                    f"base score must lie within bounds [{lo}, {hi}]",
                )
            ]
        return []

    def _expiry_issues(self, path: FieldPath) -> list[Issue]:
        """Records expire in whole buckets, and an agent holds at most 64 of them."""
        expiry, resolution = self.record_expiry_days, self.expiry_resolution_days
        if expiry % resolution:
            return [
                (
                    path + ("expiry_resolution_days",),
                    resolution,
                    f"record_expiry_days ({expiry}) must be a multiple of "
                    f"expiry_resolution_days; divisors near it: "
                    f"{_divisors_near(expiry, resolution)}",
                )
            ]
        if expiry // resolution > 64:
            return [
                (
                    path + ("expiry_resolution_days",),
                    resolution,
                    f"{expiry // resolution} expiry buckets cost too much memory per agent; use at "
                    "most 64 (a coarser resolution)",
                )
            ]
        return []


def _divisors_near(n: int, d: int) -> list[int]:
    divs = [k for k in range(1, n + 1) if n % k == 0]
    return sorted(divs, key=lambda k: abs(k - d))[:3]


def tier_floors(p: Programme) -> list[int]:
    """Lowest score of each tier, highest tier first (the bottom tier's floor is the lower bound)."""
    return [t.min if t.min is not None else p.bounds[0] for t in p.tiers]


# ----------------------------------------------------------------------------- the map


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

    def issues(
        self,
        path: FieldPath,
        programmes: Sequence[Programme],
        jurisdictions: Sequence[Jurisdiction],
    ) -> list[Issue]:
        """Someone is shown, every city plane holds the look-up radius, and enforced payment
        has a programme that takes payment."""
        out: list[Issue] = []
        if not any(c.on_map for p in programmes for c in p.consequences.values()):
            out.append(
                (
                    path,
                    "map",
                    "the map shows nobody: set `on_map: true` under some programme's consequences "
                    "(a tier or `listed`)",
                )
            )
        for j in jurisdictions:
            half = math.sqrt(j.area_km2) * 1000.0 / 2
            if self.radius_m > half:
                out.append(
                    (
                        path + ("radius_m",),
                        self.radius_m,
                        f"the radius must be at most half the side of each city plane; "
                        f"jurisdiction {j.name!r} ({j.area_km2:g} km2) allows at most {half:.0f} m",
                    )
                )
                break
        if self.enforcement > 0 and not any(
            p.blacklist is not None and p.blacklist.repayment is not None for p in programmes
        ):
            out.append(
                (
                    path + ("enforcement",),
                    self.enforcement,
                    "enforced payment needs a programme with blacklist.repayment",
                )
            )
        return out


# ----------------------------------------------------------------------------- layered lists


class ListRepayment(Strict):
    """Listed debtors of a layered list pay to leave it (as the court list's `Repayment`)."""

    rate: Probability = Field(
        description="Chance per day that a listed person of median wealth pays (and leaves)."
    )
    wealth_elasticity: Annotated[float, Field(ge=0.0, le=5.0)] = Field(
        default=1.0, description="The daily chance is rate * (wealth / median) ** elasticity."
    )
    amount: NonNegFloat = Field(
        default=0.5, description="What paying costs, in median annual incomes (wealth lost)."
    )


class Merge(Strict):
    """What merging local records into a national list costs (issue 14: the merge is not
    free). Local records reach the list only where they match a national identity; some that
    do not are attached to the wrong person (a namesake: the next agent); they arrive after a
    migration delay; and unless `repair_share` says otherwise the list never learns of a local
    appeal, so a listing on a false record outlives its local correction."""

    match_share: Probability = Field(
        default=1.0,
        description="Share of local records that match the right national identity [U].",
    )
    misattached_share: Probability = Field(
        default=0.0,
        description="Of the records that do not match, the share attached to another person "
        "(the rest are dropped) [U].",
    )
    delay_days: Annotated[int, Field(ge=0, le=MAX_DAYS)] = Field(
        default=0, description="Days a record takes to reach the list (migration delay) [U]."
    )
    adopt_days: dict[Identifier, Annotated[int, Field(ge=0, le=MAX_DAYS)]] = Field(
        default_factory=dict,
        description="Late adopters: jurisdiction -> first day its records reach the list and "
        "its people are held by it (others from day 0).",
    )
    repair_share: Probability | None = Field(
        default=None,
        description="When the place's own programme corrects a person's false record (an "
        "upheld appeal) while the person is on this list on a false or misattached record, the "
        "chance that the list's copy is corrected too, ending the listing after "
        "repair_delay_days; otherwise the listing outlives the local repair [U]. null: the "
        "pairing is not modelled (nor measured).",
    )
    repair_delay_days: Annotated[int, Field(ge=0, le=MAX_DAYS)] = Field(
        default=0,
        description="Days from a local correction to the list's, where it is passed on [U].",
    )


class ListProgramme(Strict):
    """A programme that lists people, laid over the places' own programmes (issue 14): the
    Supreme People's Court's national list of dishonest debtors on top of city scores, a sector
    regulator's blacklist. It has its own channels (its own records, drawn on its own random
    numbers), its own listing grounds, term and repayment, its own consequences and budget.
    A person may be on several lists at once; how their consequences combine with each other
    and with the place's own programme is the rule of docs/mechanisms.md (sanctions are a
    union; where two programmes set the same thing the stricter wins; rewards add up)."""

    description: str = ""
    where: list[Identifier] | None = Field(
        default=None,
        description="Jurisdictions the list covers (null: every jurisdiction, a national list).",
    )
    channels: list[Identifier] = Field(
        min_length=1, description="Channels that feed the list (records of its grounds)."
    )
    grounds: list[Identifier] = Field(
        min_length=1,
        description="Behaviours whose record (through the list's own channels) lists the person "
        "the next day; a further record renews the term.",
    )
    term_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] = Field(
        description="Days a listing lasts (renewed by a further record of a ground)."
    )
    until_paid: bool = Field(
        default=False, description="Listings end only on payment, never at the end of the term."
    )
    repayment: ListRepayment | None = None
    consequences: Consequence = Field(
        default_factory=Consequence, description="What being on this list does to a person."
    )
    budget: Budget | None = Field(
        default=None,
        description="Yearly money of the list per covered resident; it pays the list's "
        "channels first (a budget short of their cost scales their coverage down). Lists pay "
        "no rewards.",
    )
    merge: Merge | None = Field(
        default=None,
        description="The cost of merging local records into this list (null: records reach it "
        "at once and all match).",
    )

    def issues(self, path: FieldPath, refs: Refs, jurisdictions: Defined) -> list[Issue]:
        out: list[Issue] = []
        if self.merge is not None:
            out += jurisdictions.check_keys(path + ("merge", "adopt_days"), self.merge.adopt_days)
        if self.where is not None:
            out += jurisdictions.check_items(path + ("where",), self.where)
        for k, c in enumerate(self.channels):
            if c == "informants":
                out.append(
                    (path + ("channels", k), c, "informants feed no layered list; use channels")
                )
            else:
                out += refs.channels.check(path + ("channels", k), c)
        out += refs.behaviours.check_items(path + ("grounds",), self.grounds)
        if self.until_paid and self.repayment is None:
            out.append(
                (
                    path + ("until_paid",),
                    True,
                    "listings that end only on payment need `repayment` (else nobody ever leaves)",
                )
            )
        out += self.consequences.issues(path + ("consequences",), refs)
        if self.consequences.on_map:
            out.append(
                (path + ("consequences", "on_map"), True, "layered lists are not on the map")
            )
        return out


class Memorandum(Strict):
    """Joint punishment for people: a memorandum of understanding that makes one programme's
    listing a sanction of others (scs-facts section 3: the joint punishment memoranda signed by
    dozens of agencies). A person on `listing` suffers the `listed` consequences of every
    programme in `sanctions_of`, where that programme runs."""

    listing: Identifier = Field(
        description="A layered list (under `lists`), or a programme (under `programmes`) whose "
        "blacklist lists people."
    )
    sanctions_of: list[Identifier] = Field(
        min_length=1,
        description="Lists or programmes whose `listed` consequences a person on `listing` "
        "suffers.",
    )

    def issues(self, path: FieldPath, lists: dict[str, ListProgramme], programmes: dict) -> list:
        names = Defined("list or programme", sorted(lists) + sorted(programmes))
        out = names.check(path + ("listing",), self.listing)
        p = programmes.get(self.listing)
        if p is not None and p.blacklist is None:
            out.append(
                (path + ("listing",), self.listing, f"programme {self.listing!r} lists nobody")
            )
        for k, name in enumerate(self.sanctions_of):
            out += names.check(path + ("sanctions_of", k), name)
            q = programmes.get(name)
            if q is not None and "listed" not in q.consequences:
                msg = f"programme {name!r} has no `listed` consequences to impose"
                out.append((path + ("sanctions_of", k), name, msg))
            if name == self.listing:
                out.append((path + ("sanctions_of", k), name, "a listing already sanctions itself"))
        return out
