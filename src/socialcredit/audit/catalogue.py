"""The outcome catalogue: the registry (``OUTCOMES``, ``register``, ``outcomes_for``) and every
outcome an audit reports, in the order of its table (stated aims, then harms).
docs/audit.md defines each; "Adding an outcome" there says how to add one.

The registry lives here, with the outcomes, so that whoever reads it finds it filled.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import numpy as np

from socialcredit.audit.formulas import (
    MetricView,
    div,
    gini,
    last_mean,
    last_share,
    org_per_year,
    org_share,
    org_sums,
    per_agent_year,
    share_of,
    view,
)
from socialcredit.audit.outcome import Family, Kind, NotModelled, Outcome
from socialcredit.units import DAYS_PER_YEAR

if TYPE_CHECKING:
    from socialcredit.result import Result
    from socialcredit.scenario.model import Scenario

OUTCOMES: list[Outcome | Family] = []


def register(entry: Outcome | Family) -> Outcome | Family:
    """Add an outcome (or a family of outcomes) to the registry; usable as a decorator."""
    OUTCOMES.append(entry)
    return entry


def outcomes_for(
    scenario: Scenario, registry: Iterable[Outcome | Family] | None = None
) -> list[Outcome]:
    """The outcomes an audit of ``scenario`` reports, in registry order."""
    out: list[Outcome] = []
    for entry in OUTCOMES if registry is None else registry:
        out.extend([entry] if isinstance(entry, Outcome) else entry(scenario))
    names = [o.name for o in out]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"duplicate outcome names: {sorted(dup)}")
    return out


def _not_modelled(name: str, kind: Kind, unit: str, label: str, description: str, why: str):
    def formula(result: Result) -> float:
        raise NotModelled(why)

    return Outcome(name, kind, unit, description, formula, label=label)


def _acts_family(
    category: str, prefix: str, kind: Kind, what: str, describe: str, label_total: str
) -> Family:
    def family(scenario: Scenario) -> list[Outcome]:
        names = [b.name for b in scenario.behaviours if b.category in category.split("|")]
        unit = "acts per agent-year"
        total_desc = (
            f"{describe} Formula: sum over days and cells of acts.<b> for every {what} "
            "behaviour b / (agents x days / 365); effect = system - counterfactual."
        )
        if not names:
            return [
                _not_modelled(
                    f"{prefix}.total",
                    kind,
                    unit,
                    label_total,
                    total_desc,
                    f"the scenario has no behaviour of category {category.replace('|', ' or ')}",
                )
            ]
        out = [
            Outcome(
                f"{prefix}.{b}",
                kind,
                unit,
                f"{b} acts per agent-year: sum of acts.{b} / agent-years.",
                per_agent_year([f"acts.{b}"]),
                label=f"{b.replace('_', ' ').capitalize()} acts per agent-year",
            )
            for b in names
        ]
        out.append(
            Outcome(
                f"{prefix}.total",
                kind,
                unit,
                total_desc,
                per_agent_year([f"acts.{b}" for b in names]),
                label=label_total,
            )
        )
        return out

    family.doc = [  # type: ignore[attr-defined]  # its row in docs/audit.md (doc_rows)
        {
            "names": [f"{prefix}.<b>", f"{prefix}.total"],
            "kind": kind,
            "unit": "acts per agent-year",
            "comparison": "difference",
            "description": f"For each behaviour b of category {category.replace('|', ' or ')}: "
            f"sum of acts.<b> / agent-years; `{prefix}.total`: all of them. {describe}",
        }
    ]
    return family


register(
    _acts_family(
        "misconduct",
        "misconduct",
        "aim",
        "misconduct",
        "Misconduct, the system's stated target: acts actually done (recorded or not). "
        "A negative effect is deterrence.",
        "Misconduct acts per agent-year (all)",
    )
)

register(
    Outcome(
        "records",
        "aim",
        "records per agent-year",
        "Records filed by the system, true and false: sum of records.<b> over behaviours, "
        "days and cells / agent-years. The counterfactual files none, so only the system "
        "value is reported.",
        lambda r: per_agent_year([f"records.{b.name}" for b in r.scenario.behaviours])(r),
        comparison="system",
        label="Records per agent-year",
    )
)


register(
    Outcome(
        "counterfeit_rate",
        "aim",
        "share of purchases",
        "Counterfeits: counterfeit sales / sales in the market of businesses (sum of "
        "counterfeit_sales / sum of purchases over the run; needs organisations).",
        org_share("counterfeit_sales", "purchases", "no sales"),
        label="Counterfeit share of sales",
        scale="share",
    )
)
register(
    Outcome(
        "buyer_harm",
        "aim",
        "median incomes per agent-year",
        "Harm to buyers: wealth citizens lost to counterfeits, sum of buyer_harm / agent-years.",
        org_per_year("buyer_harm", "agents", kind=None),  # an amount, not a count
        label="Counterfeit harm to buyers per agent-year",
    )
)
register(
    Outcome(
        "harm_abroad",
        "aim",
        "median incomes per agent-year",
        "Harm abroad: wealth buyers abroad lost to exported counterfeits (sectors' "
        "export_share), sum of harm_abroad / agent-years of the population at home; apart "
        "from buyer_harm, the harm at home.",
        org_per_year("harm_abroad", "agents", kind=None),  # an amount, not a count
        label="Counterfeit harm abroad per agent-year",
    )
)
register(
    Outcome(
        "market_trust",
        "aim",
        "share of transactions",
        "Market trust: share of the purchases citizens wanted that they were willing to make "
        "(sum of purchases / sum of purchases_wanted over the run; needs organisations).",
        org_share("purchases", "purchases_wanted", "no purchases wanted"),
        label="Market trust",
        scale="share",
    )
)
register(
    Outcome(
        "debt_default_rate",
        "aim",
        "share of B2B trades",
        "Unpaid debts between firms: sum of unpaid_debts / sum of b2b_trades.",
        org_share("unpaid_debts", "b2b_trades", "no B2B trades"),
        label="B2B debts left unpaid",
        scale="share",
    )
)
register(
    Outcome(
        "institution_defaults",
        "aim",
        "missed repayments per institution-year",
        "Government institutions' missed repayments: sum of inst_defaults / institution-years "
        "(party organs included: they are never scored).",
        org_per_year("inst_defaults", "institutions", institutions=True),
        label="Institutions' missed repayments per year",
    )
)
register(
    Outcome(
        "bribery_rate",
        "aim",
        "bribes per firm-year",
        "Bribery: bribes institutions accepted for lenient inspections, sum of "
        "bribes_accepted / firm-years (none without inspections).",
        org_per_year("bribes_accepted", "firms"),
        label="Bribes accepted per firm-year",
    )
)
register(
    Outcome(
        "firms_driven_out",
        "aim",
        "share of firms",
        "Firms driven out of the market (out of cash and refused a loan): firms_out / "
        "(firms + firms_out) on the last day.",
        lambda r: div(
            float(org_sums(r, last=True).get("firms_out", 0.0)),
            float(org_sums(r, last=True).get("firms", 0.0))
            + float(org_sums(r, last=True).get("firms_out", 0.0)),
            "no firms",
        ),
        label="Firms driven out",
        scale="share",
    )
)
register(
    Outcome(
        "loan_refusal_rate",
        "aim",
        "share of loan applications",
        "Loans refused / loans applied for over the run (both arms: without a programme, "
        "loans are refused at 1 - economy.base_loan_approval).",
        share_of("loans_refused", "loans_applied", "no loan applications"),
        label="Loan refusal rate",
        scale="share",
    )
)
register(
    Outcome(
        "trips_blocked_rate",
        "aim",
        "share of long trips",
        "Trips blocked by a travel ban / long trips wanted over the run.",
        share_of("trips_blocked", "trips", "no trips"),
        label="Trips blocked rate",
        scale="share",
    )
)

register(
    _acts_family(
        "speech|religion",
        "chilling",
        "harm",
        "speech or religion",
        "Chilling effect: speech and religious acts done. A negative effect means people "
        "speak or worship less because of the system.",
        "Speech and religious acts per agent-year (all)",
    )
)
register(
    _acts_family(
        "prosocial",
        "prosocial",
        "harm",
        "prosocial",
        "Prosocial acts (volunteering, good deeds). The system rewards them, so a rise can be "
        "performance for points (strategic virtue) as much as virtue; a fall is crowding out.",
        "Prosocial acts per agent-year (all)",
    )
)
register(
    Outcome(
        "false_record_share",
        "harm",
        "share of records",
        "Records for acts that did not happen: false_records / all records (system arm).",
        lambda r: div(
            view(r).total("false_records"),
            sum(view(r).total(f"records.{b.name}") for b in r.scenario.behaviours),
            "no records",
        ),
        comparison="system",
        label="False-record share of records",
        scale="share",
    )
)
register(
    Outcome(
        "honest_wrongly_listed",
        "harm",
        "share of honest firms",
        "Honest firms wrongly listed: honest firms ever put on a blacklist (false findings, "
        "joint punishment) / honest firms, on the last day (system arm).",
        org_share("honest_ever_listed", "honest_firms", "no honest firms", last=True),
        comparison="system",
        label="Honest firms wrongly listed",
        scale="share",
    )
)
register(
    Outcome(
        "honest_driven_out",
        "harm",
        "share of honest firms",
        "Honest firms driven out of the market: honest_out / honest_firms on the last day.",
        org_share("honest_out", "honest_firms", "no honest firms", last=True),
        label="Honest firms driven out",
        scale="share",
    )
)
register(
    Outcome(
        "sanctioned_share",
        "harm",
        "share of agent-days",
        "Agents who felt the system bite (a record that cost points, a loan refused where a "
        "programme runs, a blocked trip), per agent-day: sum of sanctioned / sum of agents.",
        share_of("sanctioned", "agents", "no agent-days"),
        label="Sanctioned per agent-day",
        scale="share",
    )
)
register(
    Outcome(
        "false_sanction_share",
        "harm",
        "share of sanctions",
        "Sanctions for something that did not happen: sanctioned_false / sanctioned.",
        share_of("sanctioned_false", "sanctioned", "nobody sanctioned"),
        comparison="system",
        label="False sanctions, share of sanctions",
        scale="share",
    )
)


def _bottom_tiers(scenario: Scenario) -> dict[str, str]:
    """Jurisdiction -> name of the lowest tier of its programme (jurisdictions with one)."""
    out = {}
    for j in scenario.jurisdictions:
        p = scenario.programmes.get(j.programme) if j.programme else None
        if p is None:
            continue
        low = min(p.tiers, key=lambda t: -math.inf if t.min is None else t.min)
        out[j.name] = low.name
    return out


def _group_rate_last(v: MetricView, metric_of: Callable[[str], str | None], group: str) -> float:
    """Last-day share of a group's agents in a state, over the cells where it is defined."""
    num = den = 0.0
    agents = v.last_agents()
    for (jur, grp), n in agents.items():
        if grp != group:
            continue
        metric = metric_of(jur)
        if metric is None:
            continue
        num += float(v.last.get((metric, jur, grp), 0.0))
        den += float(n)
    return div(num, den, f"no {group} agents where it applies")


def _disparate_family(scenario: Scenario) -> list[Outcome]:
    groups = scenario.population.groups
    unit = "ratio, minority / largest group"
    if len(groups) < 2:
        return [
            _not_modelled(
                "disparate.sanctioned_rate_ratio",
                "harm",
                unit,
                "Disparate impact",
                "Disparate impact between groups.",
                "the population has one group only",
            )
        ]
    ref = max(groups, key=lambda g: g.share).name
    has_blacklist = any(p.blacklist is not None for p in scenario.programmes.values())
    out = []
    for g in (g.name for g in groups if g.name != ref):

        def sanctioned(r: Result, g: str = g) -> float:
            v = view(r)
            v.need("sanctioned")

            def rate(x: str) -> float:
                return div(v.group_total("sanctioned", x), v.group_total("agents", x), "")

            return div(rate(g), rate(ref), f"nobody in {ref} sanctioned")

        def listed(r: Result, g: str = g) -> float:
            if not has_blacklist:
                raise NotModelled("no programme keeps a blacklist")
            v = view(r)
            v.need("listed")
            jurs = set(v.last_cells("listed").index.get_level_values("jurisdiction"))

            def of(j: str) -> str | None:
                return "listed" if j in jurs else None

            return div(
                _group_rate_last(v, of, g), _group_rate_last(v, of, ref), f"nobody in {ref} listed"
            )

        def bottom(r: Result, g: str = g) -> float:
            v = view(r)
            tiers = _bottom_tiers(r.scenario)
            if not tiers:
                raise NotModelled("no programme runs, so nobody has a tier")

            def of(j: str) -> str | None:
                return f"tier.{tiers[j]}" if j in tiers else None

            return div(
                _group_rate_last(v, of, g),
                _group_rate_last(v, of, ref),
                f"nobody in {ref} in the bottom tier",
            )

        def gap(r: Result, g: str = g) -> float:
            v = view(r)
            scores = v.last_cells("mean_score")
            agents = v.last_agents().reindex(scores.index).fillna(0.0)

            def mean(x: str) -> float:
                sel = scores.index.get_level_values("group") == x
                return div(
                    float((scores[sel] * agents[sel]).sum()),
                    float(agents[sel].sum()),
                    f"no {x} agents where a programme runs",
                )

            return mean(g) - mean(ref)

        vs = f"{g} vs {ref}"
        out += [
            Outcome(
                f"disparate.sanctioned_rate_ratio.{g}",
                "harm",
                unit,
                f"Sanctioned per agent-day among {g} / the same among {ref} (1 = parity).",
                sanctioned,
                comparison="within",
                label=f"Sanctioned rate ratio, {vs}",
            ),
            Outcome(
                f"disparate.listed_share_ratio.{g}",
                "harm",
                unit,
                f"Share of {g} on the blacklist on the last day / the same for {ref} "
                "(agents of jurisdictions with a programme).",
                listed,
                comparison="within",
                label=f"Listed share ratio, {vs}",
            ),
            Outcome(
                f"disparate.bottom_tier_ratio.{g}",
                "harm",
                unit,
                f"Share of {g} in their programme's lowest tier on the last day / the same for "
                f"{ref} (agents of jurisdictions with a programme).",
                bottom,
                comparison="within",
                label=f"Bottom-tier share ratio, {vs}",
            ),
            Outcome(
                f"disparate.score_gap.{g}",
                "harm",
                "score points, minority - largest group",
                f"Mean score of {g} minus that of {ref} on the last day (agent-weighted over "
                "jurisdictions with a programme).",
                gap,
                comparison="within",
                label=f"Mean score gap, {vs}",
            ),
        ]
    return out


_disparate_family.doc = [  # type: ignore[attr-defined]  # its rows in docs/audit.md
    {
        "names": [f"disparate.{what}.<g>"]
        + (["disparate.sanctioned_rate_ratio"] if what == "sanctioned_rate_ratio" else []),
        "kind": "harm",
        "unit": unit,
        "comparison": "within",
        "description": description,
    }
    for what, unit, description in (
        (
            "sanctioned_rate_ratio",
            "ratio, minority / largest group",
            "Sanctioned per agent-day among g / the same among the largest group (1 = parity). "
            "With one group: not modelled, in one row without the group's name.",
        ),
        (
            "listed_share_ratio",
            "ratio, minority / largest group",
            "Share of g on the blacklist on the last day / the same for the largest group "
            "(agents of jurisdictions with a programme); not modelled when no programme keeps "
            "a blacklist.",
        ),
        (
            "bottom_tier_ratio",
            "ratio, minority / largest group",
            "Share of g in their programme's lowest tier on the last day / the same for the "
            "largest group (agents of jurisdictions with a programme).",
        ),
        (
            "score_gap",
            "score points, minority - largest group",
            "Mean score of g minus that of the largest group on the last day (agent-weighted "
            "over jurisdictions with a programme).",
        ),
    )
]
register(_disparate_family)


def doc_rows(registry: Iterable[Outcome | Family] | None = None) -> list[dict]:
    """One row per registered outcome, or per pattern of a family (its ``doc`` attribute), in
    registry order: names, kind, unit, comparison, description. docs/audit.md's outcome
    tables are made of them (tests/outcome_docs.py), so they say what the code computes."""
    rows = []
    for entry in OUTCOMES if registry is None else registry:
        if isinstance(entry, Outcome):
            rows.append(
                {
                    "names": [entry.name],
                    "kind": entry.kind,
                    "unit": entry.unit,
                    "comparison": entry.comparison,
                    "description": entry.description,
                }
            )
        else:
            doc = getattr(entry, "doc", None)
            if doc is None:
                raise ValueError(f"family {entry.__name__} has no doc rows (set its .doc)")
            rows.extend(doc)
    return rows


def _wealth_gini(result: Result) -> float:
    if result.agents is None:
        raise NotModelled("the run kept no per-agent snapshot (record.snapshot is false)")
    return gini(result.agents["wealth"].to_numpy())


register(
    Outcome(
        "wealth_gini",
        "harm",
        "Gini coefficient (0-1)",
        "Inequality: Gini coefficient of final wealth over all agents (agents.parquet `wealth`).",
        _wealth_gini,
        label="Gini of final wealth",
    )
)
register(
    Outcome(
        "tier_mobility",
        "harm",
        "tier moves per agent-year",
        "Tier mobility: (sum of tier_up + tier_down) / agent-years.",
        per_agent_year(["tier_up", "tier_down"]),
        comparison="system",
        label="Tier moves per agent-year",
    )
)
register(
    Outcome(
        "children_excluded",
        "harm",
        "share of school applications",
        "Children excluded: school and university applications refused for the parents' tier "
        "or listing, sum of children_excluded / sum of school_applications.",
        share_of("children_excluded", "school_applications", "no school applications"),
        comparison="system",
        label="Children's school applications refused",
        scale="share",
    )
)
register(
    Outcome(
        "informant_density",
        "harm",
        "share of agents",
        "Informant density: agents who inform, informants / agents on the last day.",
        last_share("informants"),
        comparison="system",
        label="Informants among the population",
        scale="share",
        without_system=0.0,
    )
)
register(
    Outcome(
        "informant_reports",
        "harm",
        "reports per agent-year",
        "Informant reports: sum of records_by.informants / agent-years.",
        per_agent_year(["records_by.informants"]),
        comparison="system",
        label="Informant reports per agent-year",
        without_system=0.0,
    )
)
register(
    Outcome(
        "mean_trust",
        "harm",
        "mean trust (0-1)",
        "Interpersonal trust: mean_trust on the last day, agent-weighted over cells.",
        last_mean("mean_trust"),
        label="Interpersonal trust",
        # trust is in every scenario now; this is only for a counterfactual stored before it
        # was (without a system trust stays at its initial level, as the engine stores it)
        without_system=lambda sc: float(np.float32(np.float16(sc.trust.initial))),
    )
)
register(
    Outcome(
        "mean_approval",
        "aim",
        "share approving (0-1)",
        "Approval of the system: mean_approval on the last day (each person's chance of "
        "approving when asked), agent-weighted over cells. Scenarios with an `approval` "
        "section; without the system approval stays at each group's starting level.",
        last_mean("mean_approval"),
        label="Approval of the system",
        scale="share",
    )
)


register(
    Outcome(
        "map_exposure",
        "harm",
        "sightings per agent-year",
        "Exposure on the deadbeat map: days on which someone was seen by at least one app user "
        "near their home, sum of sighted / agent-years.",
        per_agent_year(["sighted"]),
        comparison="system",
        label="Days seen on the deadbeat map per agent-year",
        without_system=0.0,
    )
)
register(
    Outcome(
        "shaming_viewers",
        "harm",
        "viewer-days per agent-year",
        "Viewers of shaming: days on which someone saw a person shamed (a village poster, a "
        "screen, a debtor's ringtone, or the deadbeat map where the scenario has a `shaming` "
        "section), counted once per viewer and day, sum of shaming_viewers / agent-years.",
        per_agent_year(["shaming_viewers"]),
        comparison="system",
        label="Days seeing someone shamed per agent-year",
        without_system=0.0,
    )
)
register(
    Outcome(
        "debts_paid",
        "aim",
        "payments per agent-year",
        "Debts paid: listed debtors who paid and left the court's list, sum of delisted_paid / "
        "agent-years.",
        per_agent_year(["delisted_paid"]),
        comparison="system",
        label="Listed debts paid per agent-year",
    )
)


def _repairs_outlived(result: Result) -> float:
    """Of the local repairs of wrongly listed people, the share whose listing the list's copy
    did not lift (lists with `merge.repair_share` only)."""
    lists = result.scenario.lists or {}
    paired = [
        n for n, x in lists.items() if x.merge is not None and x.merge.repair_share is not None
    ]
    if not paired:
        raise NotModelled("no layered list pairs local repairs with its copy (merge.repair_share)")
    v = view(result)
    fixed = sum(v.total(f"repaired_locally.{n}") for n in paired)
    lifted = sum(v.total(f"lifted.{n}") for n in paired)
    return div(fixed - lifted, fixed, "no local repair of a wrongly listed person", "share")


register(
    Outcome(
        "repairs_outlived",
        "harm",
        "share of local repairs",
        "Sanctions that outlive a local repair: of the people on a layered list on a false or "
        "misattached record whose false record the place's own programme corrected, the share "
        "whose listing the list had not lifted by the end: (sum of repaired_locally - sum of "
        "lifted) / sum of repaired_locally, over the lists with merge.repair_share.",
        _repairs_outlived,
        comparison="system",
        label="Listings outliving a local repair",
        scale="share",
    )
)
register(
    Outcome(
        "rewards_given",
        "aim",
        "rewards per agent-year",
        "Rewards people can count (free check-ups, deposit-free bike rentals, interest-free or "
        "discounted loans, matches gained), sum of rewards_given / agent-years; none without "
        "the system.",
        per_agent_year(["rewards_given"]),
        comparison="system",
        label="Rewards given per agent-year",
        without_system=0.0,
    )
)


def _rewards_by_group(scenario: Scenario) -> list[Outcome]:
    """Who benefits: rewards per agent-year in each group, beside `disparate.*` (who is
    sanctioned), so the burden and the benefit can be set side by side."""
    out = []
    for g in (g.name for g in scenario.population.groups):

        def formula(r: Result, g: str = g) -> float:
            v = view(r)
            agent_years = v.group_total("agents", g) / DAYS_PER_YEAR
            return div(v.group_total("rewards_given", g), agent_years, f"no {g} agents", "rate")

        out.append(
            Outcome(
                f"rewards_given.{g}",
                "aim",
                "rewards per agent-year",
                f"Rewards given to {g}: sum of rewards_given / agent-years, in group {g}.",
                formula,
                comparison="system",
                label=f"Rewards given per agent-year, {g}",
                without_system=0.0,
            )
        )
    return out


_rewards_by_group.doc = [  # type: ignore[attr-defined]  # its row in docs/audit.md
    {
        "names": ["rewards_given.<g>"],
        "kind": "aim",
        "unit": "rewards per agent-year",
        "comparison": "system",
        "description": "For each group g: sum of rewards_given / agent-years within g (who "
        "benefits; compare with disparate.* for who bears the sanctions). None without the "
        "system.",
    }
]
register(_rewards_by_group)
register(
    Outcome(
        "detentions",
        "harm",
        "detentions per agent-year",
        "Detentions: people taken out of daily life for a term (a tier's or listing's "
        "`detention`), sum of detentions / agent-years.",
        per_agent_year(["detentions"]),
        comparison="system",
        label="Detentions per agent-year",
        without_system=0.0,
    )
)
register(
    Outcome(
        "children_separated",
        "harm",
        "child-days per agent-year",
        "Children separated: days on which a child's household head or partner was detained, "
        "sum of children_separated / agent-years.",
        per_agent_year(["children_separated"]),
        comparison="system",
        label="Child-days separated from a detained parent per agent-year",
        without_system=0.0,
    )
)
