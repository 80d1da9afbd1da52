"""The scenario language for organisations: businesses, government institutions, the market
between them and citizens, inspections, and corporate credit (grades, lists, memoranda).

The essay's system began with organisations (whether a business was trustworthy enough to
trade with, whether it sold counterfeit medicine, food or clothing, whether a government body
ran up debts or took bribes); scs-facts.md section 4 gives the corporate system's facts. The
section is optional: a scenario without it has no organisations and pays nothing for them.

The counterfactual of a scenario keeps `sectors`, `firms`, `market`, `institutions` and
`entry` (the same economy) and drops `inspections` and `corporate` (no inspections, ratings or listings).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal, get_args

from pydantic import Field

from .rules import Defined, FieldPath, Issue, duplicate_names, sum_to_one
from .types import MAX_DAYS, Identifier, NonNegFloat, Probability, Score, Strict

# What an organisation can do that the rule table can assess. Firms: counterfeit (a counterfeit
# found by an inspection), tax_evasion (found by an inspection), contract_breach and
# unpaid_debt (a B2B trade a party failed, on court record), trade (a B2B trade completed),
# refuse (a B2B trade refused because of the partner's standing), bribery (a bribe exposed),
# inspection_passed (a clean inspection). Institutions: default (a missed repayment),
# bribe_taken (exposed), compliance and noncompliance (with an order from above).
OrgAct = Literal[
    "counterfeit",
    "tax_evasion",
    "contract_breach",
    "unpaid_debt",
    "trade",
    "refuse",
    "bribery",
    "inspection_passed",
    "default",
    "bribe_taken",
    "compliance",
    "noncompliance",
]
ORG_ACTS: tuple[str, ...] = get_args(OrgAct)  # the order of the compiled rule table's rows
INSTITUTION_ACTS = ("default", "bribe_taken", "compliance", "noncompliance")
# The context of an act: the standing of the partner in the public rating (none: no partner).
Context = Literal["none", "good", "poor", "listed"]
CONTEXTS: tuple[str, ...] = get_args(Context)
Sanction = Literal[
    "procurement_exclusion", "inspections", "loan_refusal", "public_listing", "owner_sanction"
]
SANCTIONS: tuple[str, ...] = get_args(Sanction)
# Acts an inspection can find (the firm's hidden violations).
FINDABLE = ("counterfeit", "tax_evasion")


class Sector(Strict):
    """An industry where firms sell to citizens (food, medicine, clothing, ...)."""

    name: Identifier
    share: Probability = Field(description="Share of the firms in this sector.")
    demand: Probability = Field(description="Share of citizens' purchases made in this sector.")
    counterfeit_rate: Probability = Field(
        default=0.05,
        description="Chance that a sale by a dishonest firm is counterfeit, with no system.",
    )
    harm: NonNegFloat = Field(
        default=1.0,
        description="Wealth a buyer loses per counterfeit, in prices (medicine can harm more "
        "than it cost).",
    )
    export_share: Probability | None = Field(
        default=None,
        description="Share of this sector's counterfeits sold abroad instead of at home (the "
        "buyer at home then gets a genuine good); their harm is counted abroad, apart from the "
        "harm at home. Null: none exported.",
    )


class FirmTraits(Strict):
    """Businesses: each has an owner (a citizen), a sector, a size and propensities to cheat."""

    per_1000_agents: Annotated[float, Field(gt=0.0, le=1000.0)] = Field(
        default=10.0, description="Businesses per 1,000 citizens (at least one per sector)."
    )
    honest_share: Probability = Field(
        default=0.7, description="Share of firms that never cheat on purpose."
    )
    propensity_sigma: Annotated[float, Field(ge=0.0, le=3.0)] = Field(
        default=0.5,
        description="Spread (lognormal sigma, mean 1) of a dishonest firm's propensity to each "
        "kind of cheating (counterfeits, tax evasion, contract breach, unpaid debts).",
    )
    propensity_correlation: Probability = Field(
        default=0.5,
        description="Correlation of a dishonest firm's propensities across kinds (a shared "
        "character): 0 independent, 1 one propensity for all.",
    )
    size_sigma: Annotated[float, Field(ge=0.0, le=3.0)] = Field(
        default=0.8,
        description="Spread (lognormal sigma, mean 1) of firm size: it scales B2B trades, "
        "cash and fixed costs.",
    )
    tax_evasion_rate: Probability = Field(
        default=0.002, description="Tax evasions per dishonest firm-day (no system)."
    )
    breach_rate: Probability = Field(
        default=0.05,
        description="Chance a dishonest supplier breaches a B2B contract (no system).",
    )
    debt_default_rate: Probability = Field(
        default=0.05,
        description="Chance a dishonest buyer leaves a B2B debt unpaid (no system); any buyer "
        "out of cash leaves it unpaid.",
    )
    bribe_propensity: Probability = Field(
        default=0.5,
        description="Chance a dishonest firm with hidden violations offers a bribe to its "
        "inspector.",
    )
    new_share: Probability = Field(
        default=0.1,
        description="Share of firms founded within corporate.new_firm_days before the run.",
    )


class Market(Strict):
    """Each day citizens buy from businesses and businesses trade with each other."""

    purchase_rate: Probability = Field(
        default=0.05, description="Purchases a citizen wants to make per day."
    )
    candidates: Annotated[int, Field(ge=1, le=4)] = Field(
        default=3, description="Sellers of the sector a buyer considers for one purchase."
    )
    price: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        default=0.001, description="Price of one purchase, in median annual incomes."
    )
    margin: Probability = Field(default=0.2, description="Share of the price that is profit.")
    counterfeit_gain: NonNegFloat = Field(
        default=0.5, description="Extra profit of a counterfeit sale, as a share of the price."
    )
    wariness: NonNegFloat = Field(
        default=3.0,
        description="A buyer walks away with chance min(1, wariness x the counterfeit rate "
        "it perceives for the seller's class).",
    )
    learning_rate: Probability = Field(
        default=0.05,
        description="Weight of today's counterfeit share in what buyers perceive for each "
        "(sector, grade) class of sellers.",
    )
    buyers_use_ratings: bool = Field(
        default=True,
        description="Buyers see the public rating (a discriminator): they refuse publicly "
        "listed sellers and those below corporate.buyer_min_grade, prefer the best grade, and "
        "learn the counterfeit rate of each grade.",
    )
    firms_use_ratings: bool = Field(
        default=True, description="Firms refuse B2B partners that are publicly listed."
    )
    b2b_rate: Probability = Field(default=0.05, description="B2B purchases per firm-day.")
    trade_value: NonNegFloat = Field(
        default=2.0,
        description="Value of one B2B trade, in days of an average firm's profit (x the "
        "buyer's size); lost by the creditor of an unpaid debt or the buyer of a breach.",
    )
    fixed_cost: NonNegFloat = Field(
        default=0.8,
        description="Daily fixed cost, as a share of an average firm's daily profit (x size).",
    )
    initial_cash: NonNegFloat = Field(
        default=60.0, description="Cash at the start, in days of an average firm's profit (x size)."
    )
    loan_approval: Probability = Field(
        default=0.9,
        description="Chance a bank lends to a firm out of cash (it exits when refused).",
    )
    procurement_rate: Probability = Field(
        default=0.01, description="Public procurement contracts won per firm-day."
    )
    procurement_value: NonNegFloat = Field(
        default=5.0, description="Profit of a procurement contract, in days of average profit."
    )


class InstitutionTraits(Strict):
    """Government institutions: debts and repayment, bribery, compliance with orders from
    above. Party organs take part but are exempt from scoring (the essay)."""

    count: Annotated[int, Field(ge=1, le=100_000)] = 20
    party_organ_share: Probability = Field(
        default=0.2, description="Share of institutions that are party organs (never scored)."
    )
    corruption: Probability = Field(
        default=0.3, description="Mean chance an institution accepts a bribe offered to it."
    )
    compliance: Probability = Field(
        default=0.9, description="Mean chance an institution follows an order from above."
    )
    order_rate: Probability = Field(default=0.05, description="Orders from above per day.")
    default_rate: Probability = Field(
        default=0.02, description="Missed repayments per institution-day (no system)."
    )
    default_amount: NonNegFloat = Field(
        default=5.0,
        description="What a missed repayment costs its creditor firm, in days of average profit.",
    )
    repayment: Probability = Field(
        default=0.01,
        description="Share of its arrears an institution pays back each day (to a creditor firm).",
    )
    deterrence: NonNegFloat = Field(
        default=1.0,
        description="How much being scored restrains an institution: acts that cost points "
        "happen exp(-deterrence x |points| / 10) as often.",
    )
    compliance_response: NonNegFloat = Field(
        default=0.0,
        description="How strongly the threat of the score and its sanctions moves a scored "
        "institution to follow orders: it complies with chance c + (1 - c)(1 - exp(-response "
        "x threat)), threat = (points lost by noncompliance + points won by compliance) / 10 + "
        "the institution sanctions at stake (funding cut share + 1 where promotions are "
        "withheld). 0: compliance is the same with and without the system.",
    )
    promotion_rate: Probability = Field(
        default=0.01,
        description="Officials' promotions due per institution-day (withheld below the "
        "corporate.institution_sanctions tier).",
    )


class Surge(Strict):
    """A dated surge of new firms (the post-1978 opening), on top of the steady entry rate."""

    start_day: Annotated[int, Field(ge=0, le=MAX_DAYS)] = Field(
        description="0-based day it begins."
    )
    end_day: Annotated[int, Field(ge=1, le=MAX_DAYS)] = Field(
        description="0-based day it ends (excluded)."
    )
    per_1000_agents: NonNegFloat = Field(
        description="Extra new firms per day per 1,000 citizens within the surge."
    )


class Entry(Strict):
    """New firms enter the market into slots kept free for them (static shapes: at most
    `max_per_1000_agents` firms ever, founded ones included); a sector gets entrants by its
    share. An entrant has no record (the base score) and the cash of a new firm."""

    per_1000_agents: NonNegFloat = Field(
        default=0.0, description="New firms per day per 1,000 citizens (a steady rate)."
    )
    surge: Surge | None = None
    max_per_1000_agents: Annotated[float, Field(gt=0.0, le=1000.0)] = Field(
        description="The most firms per 1,000 citizens the run can hold (initial firms "
        "included); an entrant finding its sector full is counted as blocked."
    )

    def issues(self, path: FieldPath, initial: float) -> list[Issue]:
        out: list[Issue] = []
        if self.max_per_1000_agents < initial:
            out.append(
                (
                    path + ("max_per_1000_agents",),
                    self.max_per_1000_agents,
                    f"must be at least firms.per_1000_agents ({initial})",
                )
            )
        if self.surge is not None and self.surge.end_day <= self.surge.start_day:
            out.append(
                (
                    path + ("surge", "end_day"),
                    self.surge.end_day,
                    f"the surge must end after it starts (day {self.surge.start_day})",
                )
            )
        return out


class Inspections(Strict):
    """Institutions inspect firms, find hidden violations, fine them; bribes buy leniency."""

    rate: Probability = Field(default=0.01, description="Inspections per firm-day.")
    capacity: Annotated[int, Field(ge=0, le=1_000_000)] | None = Field(
        default=None,
        description="Inspections one regulator (a non-party institution) can make per day; "
        "due inspections beyond it are not made (drawn at random among the due). Null: "
        "unlimited.",
    )
    detection: Probability = Field(
        default=0.6, description="Chance an inspection finds a hidden violation of each kind."
    )
    false_positive_rate: Probability = Field(
        default=0.01,
        description="Chance an inspection of a firm with nothing hidden finds a counterfeit.",
    )
    fine: NonNegFloat = Field(
        default=10.0, description="Fine per finding, in days of average profit (x size)."
    )
    bribe: NonNegFloat = Field(
        default=3.0, description="A bribe, in days of average profit (x size)."
    )
    audit_rate: Probability = Field(
        default=0.1, description="Chance an accepted bribe is later exposed."
    )
    deterrence: NonNegFloat = Field(
        default=1.0,
        description="Firms cheat exp(-deterrence x inspection chance x detection x (fine + "
        "reputation at stake) in days of profit) as often.",
    )


class Grade(Strict):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9+\-]+$", max_length=8)]
    min: Score | None = Field(description="Lowest score of the grade (null: open below).")
    new: bool = Field(
        default=False,
        description="A grade for new firms (the tax rating's M): firms younger than "
        "new_firm_days scoring at least `min` get it instead of a better one.",
    )

    @staticmethod
    def list_issues(path: FieldPath, grades: Sequence[Grade], lo: int) -> list[Issue]:
        """Grades go from best to worst down to the lower bound ``lo``; at most one is for new
        firms, and it needs a min score."""
        names = [g.name for g in grades]
        out = duplicate_names(path, names, "grade")
        regular = [(i, g) for i, g in enumerate(grades) if not g.new]
        if not regular:
            out.append((path, names, "at least one grade must not be `new`"))
        for k, (i, g) in enumerate(regular):
            last = k == len(regular) - 1
            if last and g.min is not None and g.min > lo:
                out.append(
                    (
                        path + (i, "min"),
                        g.min,
                        f"the bottom grade must reach the lower bound {lo} (use null)",
                    )
                )
            if not last and g.min is None:
                out.append((path + (i, "min"), None, "only the bottom grade may have min null"))
            better = regular[k - 1][1] if k else None
            if better is not None and g.min is not None and better.min is not None:
                if g.min >= better.min:
                    out.append(
                        (
                            path + (i, "min"),
                            g.min,
                            f"grades go from best to worst: min must be below "
                            f"{better.min} (grade {better.name})",
                        )
                    )
        for i, g in enumerate(grades):
            if g.new and g.min is None:
                out.append((path + (i, "min"), None, "a `new` grade needs a min score"))
        if sum(g.new for g in grades) > 1:
            out.append((path, names, "at most one grade may be `new`"))
        return out


class CorporateList(Strict):
    """A blacklist kept by one sector of government (tax, market regulation, courts, ...)."""

    name: Identifier
    acts: list[OrgAct] = Field(
        default_factory=list, description="Acts on record that put a firm on the list."
    )
    grades: list[str] = Field(
        default_factory=list, description="Grades whose firms are put on the list."
    )
    term_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] = 365
    sanctions: list[Sanction] = Field(
        default_factory=list, description="Sanctions the list's own sector applies."
    )

    def issues(self, path: FieldPath, earlier: Sequence[str], grades: Defined) -> list[Issue]:
        """``earlier``: the names of the lists before this one."""
        out: list[Issue] = []
        if self.name in earlier:
            out.append((path + ("name",), self.name, f"duplicate list name {self.name!r}"))
        out += grades.check_items(path + ("grades",), self.grades)
        for k, a in enumerate(self.acts):
            if a in INSTITUTION_ACTS:
                out.append(
                    (
                        path + ("acts", k),
                        a,
                        f"{a!r} is an act of institutions, which are not listed; use one of "
                        f"{[x for x in ORG_ACTS if x not in INSTITUTION_ACTS]}",
                    )
                )
        if not self.acts and not self.grades:
            out.append((path, self.name, "a list needs `acts` or `grades` that put firms on it"))
        return out


class Memorandum(Strict):
    """A joint-punishment memorandum: the sector keeping `sanctioning` applies `sanctions` to
    firms on the list `listing` (scs-facts section 4: 36 to 53 memoranda)."""

    listing: Identifier
    sanctioning: Identifier
    sanctions: list[Sanction] = Field(min_length=1)

    def issues(self, path: FieldPath, lists: Defined) -> list[Issue]:
        return [
            *lists.check(path + ("listing",), self.listing),
            *lists.check(path + ("sanctioning",), self.sanctioning),
        ]


class RedList(Strict):
    grades: list[str] = Field(
        min_length=1, description="Grades whose unlisted firms are red-listed."
    )
    inspection_factor: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        default=0.5, description="Inspections of red-listed firms are this much as frequent."
    )


class OwnerSanction(Strict):
    """What a firm's listing (with the sanction owner_sanction) does to its owner, a citizen."""

    travel_ban: bool = True
    loan_approval: Probability = 0.0


class InstitutionSanctions(Strict):
    """What a scored institution's score does to it below a tier (the essay: institutions
    are rated too): its funding is cut and its officials' promotions are withheld."""

    below: Score = Field(description="Score under which the sanctions apply.")
    funding_cut: Probability = Field(
        default=0.3,
        description="Share of its budget cut: it repays this much less of its arrears a day.",
    )
    withhold_promotion: bool = Field(
        default=True, description="Officials' promotions due are withheld."
    )


class Rule(Strict):
    """Points for an act in a context (the partner's standing); context null: every context."""

    act: OrgAct
    context: Context | None = None
    points: Score


class Corporate(Strict):
    """Corporate credit: scores, tax-credit style grades, blacklists, red lists, memoranda."""

    base_score: Score = 80
    score_sigma: NonNegFloat = Field(
        default=8.0, description="Spread of firms' scores at the start (their past records)."
    )
    bounds: list[Score] = Field(default_factory=lambda: [0, 100], min_length=2, max_length=2)
    grades: list[Grade] = Field(min_length=1, max_length=8)
    new_firm_days: Annotated[int, Field(ge=0, le=MAX_DAYS)] = 365
    poor_grades: list[str] = Field(
        default_factory=list, description="Grades that count as a partner in poor standing."
    )
    buyer_min_grade: str | None = Field(
        default=None, description="The lowest grade buyers who use ratings still buy from."
    )
    rules: list[Rule] = Field(default_factory=list, description="The rule table.")
    lists: list[CorporateList] = Field(default_factory=list, max_length=16)
    memoranda: list[Memorandum] = Field(default_factory=list)
    redlist: RedList | None = None
    inspection_multiplier: Annotated[float, Field(ge=1.0, le=100.0)] = Field(
        default=3.0, description="More frequent inspections (the sanction `inspections`)."
    )
    reputation: NonNegFloat = Field(
        default=30.0,
        description="Profit a firm expects to lose to a bad rating, in days of profit: it "
        "deters cheating only where buyers use ratings.",
    )
    institutions_scored: bool = Field(
        default=True, description="Government institutions (not party organs) are scored."
    )
    owner_sanction: OwnerSanction = OwnerSanction()
    institution_sanctions: InstitutionSanctions | None = None

    def issues(self, path: FieldPath) -> list[Issue]:
        out: list[Issue] = []
        lo, hi = self.bounds
        if lo >= hi:
            out.append(
                (
                    path + ("bounds",),
                    list(self.bounds),
                    "bounds must be [low, high] with low < high",
                )
            )
        elif not lo <= self.base_score <= hi:
            out.append(
                (
                    path + ("base_score",),
                    self.base_score,
                    f"base score must lie within [{lo}, {hi}]",
                )
            )
        out += Grade.list_issues(path + ("grades",), self.grades, lo)
        grades = Defined("grade", [g.name for g in self.grades])
        out += grades.check_items(path + ("poor_grades",), self.poor_grades)
        if self.buyer_min_grade is not None:
            out += grades.check(path + ("buyer_min_grade",), self.buyer_min_grade)
        if self.redlist is not None:
            out += grades.check_items(path + ("redlist", "grades"), self.redlist.grades)
        list_names = [x.name for x in self.lists]
        for i, x in enumerate(self.lists):
            out += x.issues(path + ("lists", i), list_names[:i], grades)
        lists = Defined("list", list_names)
        for i, m in enumerate(self.memoranda):
            out += m.issues(path + ("memoranda", i), lists)
        seen: set[tuple[str, str | None]] = set()
        for i, r in enumerate(self.rules):
            if (r.act, r.context) in seen:
                out.append(
                    (
                        path + ("rules", i),
                        f"{r.act}/{r.context}",
                        "duplicate rule for this act and context",
                    )
                )
            seen.add((r.act, r.context))
        return out


class Organisations(Strict):
    sectors: list[Sector] = Field(min_length=1, max_length=16)
    firms: FirmTraits = FirmTraits()
    market: Market = Market()
    institutions: InstitutionTraits = InstitutionTraits()
    entry: Entry | None = None
    inspections: Inspections | None = None
    corporate: Corporate | None = None

    def issues(self, path: FieldPath) -> list[Issue]:
        """Cross-field rules of the organisations section (``path``: where it sits)."""
        sectors = path + ("sectors",)
        out = duplicate_names(sectors, [s.name for s in self.sectors], "sector")
        for what in ("share", "demand"):
            out += sum_to_one(sectors, [getattr(s, what) for s in self.sectors], f"sector {what}s")
        if self.corporate is not None:
            out += self.corporate.issues(path + ("corporate",))
        if self.entry is not None:
            out += self.entry.issues(path + ("entry",), self.firms.per_1000_agents)
        return out


def org_issues(o: Organisations) -> list[Issue]:
    """Cross-field rules of the organisations section (paths relative to the scenario)."""
    return o.issues(("organisations",))
