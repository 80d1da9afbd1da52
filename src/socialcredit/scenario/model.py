"""The scenario language: pydantic models for one YAML scenario file.

Every model forbids unknown keys and coerces nothing (strict mode), so a typo or a quoted number
is an error that names its field instead of a silent default. Cross-field rules (tiers that
tile the score range, references to behaviours and channels, shares that sum to one) live with
the section whose fields they check, in its ``issues`` method; ``Scenario.semantic_issues``
runs them all, so that each problem is reported with the exact field path it concerns.

The sections live by the essay's parts: ``population`` (the society: people, places,
behaviours, economy, response), ``programme`` (the system: channels, informants, programmes
and their tiers, consequences, court list, budgets, the map) and ``orgs`` (organisations and
corporate credit), on the shared types of ``types`` and the rule helpers of ``rules``. This
module keeps the top level (metadata, run settings, ``Scenario``) and re-exports every section
so that ``from socialcredit.scenario.model import ...`` finds them all.

Later sections (households, informants, organisations, ...) are added as new optional fields
with defaults, so existing files keep validating.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .attitudes import Approval
from .cooperation import Cooperation
from .orgs import Organisations, org_issues
from .population import (
    Behaviour,
    Contacts,
    Economy,
    Group,
    Households,
    Jurisdiction,
    Lognormal,
    Population,
    Response,
    Trust,
)
from .programme import (
    Appeals,
    Audiences,
    Blacklist,
    Budget,
    Channel,
    Consequence,
    DeadbeatMap,
    Informants,
    ListProgramme,
    ListRepayment,
    Memorandum,
    Merge,
    Programme,
    Repair,
    Repayment,
    Shaming,
    TargetedReward,
    Tier,
    tier_floors,
)
from .rules import Defined, Issue, Refs
from .timeline import Phase, Timeline
from .types import (
    INT16_MAX,
    MAX_AGENTS,
    MAX_DAYS,
    NAME_RE,
    Identifier,
    NonNegFloat,
    Probability,
    Score,
    Slug,
    Strict,
)

__all__ = [
    "MAX_AGENTS",
    "MAX_DAYS",
    "NAME_RE",
    "Appeals",
    "Audiences",
    "Behaviour",
    "Blacklist",
    "Budget",
    "Channel",
    "Consequence",
    "Contacts",
    "DeadbeatMap",
    "Economy",
    "Group",
    "Households",
    "Identifier",
    "Informants",
    "Jurisdiction",
    "ListProgramme",
    "ListRepayment",
    "Lognormal",
    "Memorandum",
    "Merge",
    "Metadata",
    "NonNegFloat",
    "Organisations",
    "Phase",
    "Timeline",
    "Population",
    "Probability",
    "Programme",
    "Record",
    "Repair",
    "Repayment",
    "Shaming",
    "Response",
    "Scenario",
    "Score",
    "Slug",
    "Source",
    "Strict",
    "TargetedReward",
    "Tier",
    "Trust",
    "Approval",
    "UncertainFigure",
    "org_issues",
    "tier_floors",
]

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
    knobs: list[Annotated[str, Field(min_length=3, max_length=200)]] = Field(
        default_factory=list,
        max_length=12,
        description="The fields a dashboard offers as controls, as --set paths (e.g. "
        "behaviours.littering.base_rate); their bounds come from the schema.",
    )


# ----------------------------------------------------------------------------- run settings


class Record(Strict):
    """What a run keeps."""

    snapshot: bool = True
    metrics_every: Annotated[int, Field(ge=1, le=MAX_DAYS)] = 1


# ----------------------------------------------------------------------------- scenario

MAX_LISTS = 5  # layered lists: 6 bits each of one uint32 of daily facts (stages/layers.py)


class Scenario(Strict):
    metadata: Metadata
    population: Population
    jurisdictions: list[Jurisdiction] = Field(min_length=1, max_length=250)
    programmes: dict[Identifier, Programme] = Field(default_factory=dict)
    behaviours: list[Behaviour] = Field(min_length=1, max_length=32)
    channels: list[Channel] = Field(default_factory=list, max_length=31)
    informants: Informants | None = None
    trust: Trust = Trust()
    approval: Approval | None = Field(
        default=None,
        description="Each person's approval of the system (scenario/attitudes.py); null: not "
        "modelled.",
    )
    economy: Economy = Economy()
    response: Response = Response()
    days: Annotated[int, Field(ge=1, le=MAX_DAYS)]
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0
    record: Record = Record()
    map: DeadbeatMap | None = None
    shaming: Shaming | None = Field(
        default=None,
        description="What seeing the publicly shamed (consequences' `audiences`) or the map's "
        "debtors does to viewers (stages/audiences.py); null: defaults, if any audience.",
    )
    organisations: Organisations | None = Field(
        default=None,
        description="Businesses, government institutions, the market and corporate credit "
        "(scenario/orgs.py); null: no organisations.",
    )
    cooperation: Cooperation | None = Field(
        default=None,
        description="The donation game under indirect reciprocity (scenario/cooperation.py); "
        "null: no game.",
    )
    lists: dict[Identifier, ListProgramme] | None = Field(
        default=None,
        max_length=MAX_LISTS,
        description="Programmes that list people, laid over the places' own programmes (the "
        "court's national list, sector blacklists); a person may be on several (issue 14).",
    )
    memoranda: list[Memorandum] = Field(
        default_factory=list,
        description="Joint punishment for people: one programme's listing made a sanction of "
        "others.",
    )
    timeline: Timeline | None = Field(
        default=None,
        description="Dated phases that start and stop programmes and lists during the run "
        "(scenario/timeline.py); null: everything runs from day 0 to the end.",
    )

    def refs(self) -> Refs:
        """What sections may refer to that other sections define."""
        channels = [c.name for c in self.channels]
        return Refs(
            behaviours=Defined("behaviour", [b.name for b in self.behaviours]),
            groups=Defined("group", [g.name for g in self.population.groups]),
            channels=Defined(
                "channel", channels + (["informants"] if self.informants is not None else [])
            ),
            programmes=Defined("programme", sorted(self.programmes), none="none"),
            informants=self.informants is not None,
            map=self.map is not None,
            occupations=Defined(
                "occupation", [o.name for o in self.population.occupations] + ["other"]
            ),
        )

    # ------------------------------------------------------------------ cross-field rules
    def semantic_issues(self) -> list[Issue]:
        """Return (field path, value, message) for every rule that spans fields.

        Each rule lives with the section whose fields it checks; this says only in which order
        they run. The loader sorts issues by line, so the order shows among issues on one line
        (a file in flow style, overrides on the command line) and is kept as it always was:
        names and shares first, then the population's shape, then references between sections.
        """
        refs = self.refs()
        population, jurisdictions = ("population",), ("jurisdictions",)
        behaviours, channels = ("behaviours",), ("channels",)
        out = [
            *self.population.name_issues(population),
            *Jurisdiction.list_issues(jurisdictions, self.jurisdictions),
            *Behaviour.name_issues(behaviours, self.behaviours),
            *Channel.name_issues(channels, self.channels),
            *self.population.contact_issues(population),
            *Behaviour.rate_issues(behaviours, self.behaviours),
            *self.population.reference_issues(population, refs),
            *Channel.reserved_issues(channels, self.channels),
        ]
        if self.informants is not None:
            out += self.informants.issues(("informants",), refs)
        for i, j in enumerate(self.jurisdictions):
            out += j.issues(jurisdictions + (i,), refs)
        for i, c in enumerate(self.channels):
            out += c.issues(channels + (i,), refs)
        for name, p in self.programmes.items():
            out += p.issues(("programmes", name), refs)
        if self.map is not None:
            out += self.map.issues(("map",), list(self.programmes.values()), self.jurisdictions)
        out += self.response.issues(("response",), refs)
        if self.approval is not None:
            out += self.approval.issues(("approval",), refs)
        if self.organisations is not None:
            out += self.organisations.issues(("organisations",))
        if self.cooperation is not None:
            tiers = max((len(p.tiers) for p in self.programmes.values()), default=0)
            out += self.cooperation.issues(("cooperation",), self.population.agents, tiers)
        out += self.layer_issues()
        out += self.dtype_issues()
        return out

    def layer_issues(self) -> list[Issue]:
        """Layered lists and memoranda (issue 14): their references, and names that a
        memorandum can tell apart."""
        refs, out = self.refs(), []
        places = Defined("jurisdiction", [j.name for j in self.jurisdictions])
        lists = self.lists or {}
        for name, x in lists.items():
            out += x.issues(("lists", name), refs, places)
            if name in self.programmes:
                msg = "a list and a programme share this name; memoranda could not tell them apart"
                out.append((("lists", name), name, msg))
        for k, m in enumerate(self.memoranda):
            out += m.issues(("memoranda", k), lists, self.programmes)
        if self.timeline is not None:
            names = Defined("programme or list", sorted(self.programmes) + sorted(lists))
            out += self.timeline.issues(("timeline",), names, self.days)
            # the numbers phases set are checked by the loader (loader.regimes), on the
            # scenario each phase makes
        return out

    def dtype_issues(self) -> list[Issue]:
        """Sums of fields that must fit the engine's 16-bit integers (types.DTYPE_MAX), each
        field being within its own bounds: day numbers plus how long something lasts (int16 day
        counters), and a day's informant pay plus a record's points (int16 points of a day)."""
        out: list[Issue] = []
        days = self.days
        for name, p in self.programmes.items():
            e = p.record_expiry_days
            if days + e > INT16_MAX:
                path = ("programmes", name, "record_expiry_days")
                out.append((path, e, _day_overflow("record expiry", days, e)))
        corporate = self.organisations.corporate if self.organisations else None
        for i, x in enumerate(corporate.lists if corporate else []):
            if days + x.term_days > INT16_MAX:
                path = ("organisations", "corporate", "lists", i, "term_days")
                out.append(
                    (path, x.term_days, _day_overflow("a listing's term", days, x.term_days))
                )
        if self.informants is not None:
            out += self._reward_issues(self.informants)
        return out

    def informant_pay_bound(self) -> tuple[int, int]:
        """(contacts, points per report): an informant's pay for one day is at most their
        product, in absolute value; (0, 0) when no programme pays informants."""
        inf = self.informants
        paying = [p for p in self.programmes.values() if "informants" in p.channels]
        if inf is None or not paying:
            return 0, 0
        c = self.population.contacts
        contacts = max(c.degree, 2 * c.long_range)  # compile.contact_offsets: at most this many
        extra: dict[tuple[str, str], int] = {}
        for t in inf.targeted_rewards:
            extra[t.behaviour, t.group] = extra.get((t.behaviour, t.group), 0) + t.points
        per = max(
            max(abs(inf.reward_points + t), abs(inf.reward_points + t + inf.confirmed_points))
            for t in [0, *extra.values()]
        )
        return contacts, per

    def _reward_issues(self, inf: Informants) -> list[Issue]:
        """An informant is paid for every contact they reported the day before, and the pay is
        added to the points of their own record that day, in one int16."""
        contacts, per = self.informant_pay_bound()
        if not contacts:
            return []
        record = max(abs(v) for p in self.programmes.values() for v in [0, *p.points.values()])
        if contacts * per + record <= INT16_MAX:
            return []
        most = max((INT16_MAX - record) // max(contacts, 1), 0)
        msg = (
            f"an informant's pay for one day can reach {contacts} contacts x {per:,} points per "
            f"report = {contacts * per:,} points, which with a record of {record:,} points the "
            f"same day passes {INT16_MAX:,}, the most the engine's 16-bit points hold; keep the "
            "points of one report (reward_points + confirmed_points + targeted_rewards) at "
            f"most {most:,}"
        )
        return [(("informants", "reward_points"), inf.reward_points, msg)]


def _day_overflow(what: str, days: int, length: int) -> str:
    return (
        f"{what} of {length:,} days in a run of {days:,} days reaches day {days + length:,}, past "
        f"{INT16_MAX:,}, the last day the engine's 16-bit day counters hold; make it at most "
        f"{INT16_MAX - days:,} days, or the run at most {INT16_MAX - length:,} days"
    )
