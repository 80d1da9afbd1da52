"""Compile the organisations section into a static OrgSpec and an OrgParams pytree.

Firms are laid out by sector (a sector is a static slice), institutions with party organs
last. The rule table is an array points[act, context]: the context of an act (the partner's
standing) is an index, not a special case, so image scoring or stern judging are tables too.
Memoranda are folded into one boolean table sanction[list, kind] (the list's own sector's
sanctions, or those of any sector that signed a memorandum on it).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from socialcredit.scenario.orgs import CONTEXTS, ORG_ACTS, SANCTIONS, Organisations


@dataclass(frozen=True)
class OrgSpec:
    """Static facts of the organisations: sizes and which stages run."""

    firms: int
    sectors: tuple[str, ...]
    sector_starts: tuple[int, ...]  # sector s holds firms [starts[s], starts[s + 1])
    institutions: int
    party: int  # party organs: the last `party` institutions (never scored)
    grades: tuple[str, ...]  # best first; () without corporate credit
    lists: tuple[str, ...]
    candidates: int
    inspections: bool
    corporate: bool
    # firms enter into padding slots: sector s holds its initial firms first, then free slots
    entry: bool = False
    capacity: bool = False  # regulators inspect within a daily capacity
    exports: bool = False  # some counterfeits are sold abroad
    inst_sanctions: bool = False  # institutions below a tier lose funding and promotions

    @property
    def gov(self) -> int:
        """Institutions that inspect firms (not party organs; at least one)."""
        return max(self.institutions - self.party, 1)


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class OrgParams:
    """Every number of the organisations section as an array."""

    demand_cum: jax.Array  # [S] cumulative demand shares
    sector_start: jax.Array  # [S] int32
    sector_count: jax.Array  # [S] float32 firms per sector
    cf_rate: jax.Array  # [S] counterfeit chance per sale of a dishonest firm
    harm: jax.Array  # [S] buyer's loss per counterfeit, in prices
    fixed_cost: jax.Array  # [S] daily fixed cost per firm (money)
    profit_day: jax.Array  # [] an average firm's daily profit (the unit of fines, trades)
    honest_share: jax.Array
    prop_sigma: jax.Array
    prop_corr: jax.Array
    size_sigma: jax.Array
    tax_rate: jax.Array
    breach_rate: jax.Array
    debt_rate: jax.Array
    bribe_prop: jax.Array
    new_share: jax.Array
    purchase_rate: jax.Array
    price: jax.Array
    margin: jax.Array
    cf_gain: jax.Array
    wariness: jax.Array
    learn: jax.Array
    use_ratings: jax.Array  # [] 1.0 where buyers use the public rating
    firms_use_ratings: jax.Array  # [] 1.0 where firms refuse listed partners
    b2b_rate: jax.Array
    trade_value: jax.Array
    initial_cash: jax.Array
    loan_approval: jax.Array
    procurement_rate: jax.Array
    procurement_value: jax.Array
    party_share: jax.Array
    corruption: jax.Array
    compliance: jax.Array
    order_rate: jax.Array
    inst_default_rate: jax.Array
    default_amount: jax.Array
    repayment: jax.Array
    inst_deterrence: jax.Array
    insp_rate: jax.Array
    detection: jax.Array
    false_find: jax.Array
    fine: jax.Array
    bribe: jax.Array
    audit_rate: jax.Array
    insp_deterrence: jax.Array
    base_score: jax.Array  # [] int32
    score_sigma: jax.Array
    lo: jax.Array
    hi: jax.Array
    floors: jax.Array  # int32 floors of the regular grades but the bottom, best first
    regular: jax.Array  # [R] int32 index in `grades` of each regular grade
    new_grade: jax.Array  # [] int32 index of the `new` grade, -1 none
    new_min: jax.Array  # [] int32
    new_days: jax.Array  # [] int32
    poor: jax.Array  # [G] bool
    accept: jax.Array  # [G] bool buyers who use ratings buy from this grade
    rules: jax.Array  # [A, C] int32 points of an act in a context
    list_act: jax.Array  # [L, A] bool the act puts a firm on the list
    list_grade: jax.Array  # [L, G] bool
    term: jax.Array  # [L] int32
    sanction: jax.Array  # [L, K] bool sanctions on a firm on the list (own or by memorandum)
    by_memo: jax.Array  # [L, K] bool sanctions that come only from a memorandum
    red: jax.Array  # [G] bool grades of the red list
    red_factor: jax.Array
    insp_mult: jax.Array
    reputation: jax.Array
    inst_scored: jax.Array  # [] bool
    owner_travel_ban: jax.Array  # [] bool
    owner_loan_approval: jax.Array  # []
    # issue 15: institutions' consequences, firm entry, inspection capacity, exports
    compliance_response: jax.Array  # []
    promotion_rate: jax.Array  # []
    tier_below: jax.Array  # [] int32 institutions scoring below it are sanctioned
    funding_cut: jax.Array  # []
    withhold_promotion: jax.Array  # [] float 1.0 where promotions are withheld
    sector_initial: jax.Array  # [S] float32 firms founded before the run, by sector
    sector_share: jax.Array  # [S] share of the entrants by sector
    entry_rate: jax.Array  # [] new firms per day
    surge_start: jax.Array  # [] int32
    surge_end: jax.Array  # [] int32
    surge_rate: jax.Array  # [] extra new firms per day within the surge
    capacity: jax.Array  # [] inspections per regulator-day
    export_share: jax.Array  # [S]


def _layout(
    o: Organisations, agents: int, per_1000: float | None = None
) -> tuple[int, tuple[int, ...]]:
    """Firms per sector by largest remainder, at least one each."""
    per_1000 = o.firms.per_1000_agents if per_1000 is None else per_1000
    total = max(round(agents * per_1000 / 1000.0), len(o.sectors))
    shares = np.array([s.share for s in o.sectors], np.float64)
    raw = shares / shares.sum() * total
    counts = np.maximum(np.floor(raw).astype(np.int64), 1)
    rest = total - counts.sum()
    if rest > 0:
        counts[np.argsort(-(raw - counts), kind="stable")[:rest]] += 1
    return int(counts.sum()), tuple(int(x) for x in np.concatenate([[0], np.cumsum(counts)]))


def _corporate_tables(c, grades: tuple[str, ...], lists: tuple[str, ...]) -> dict:
    """The corporate credit rule, grade and list tables (neutral ones without corporate
    credit); memoranda folded into one sanction table."""
    G = max(len(grades), 1)
    A, C, K = len(ORG_ACTS), len(CONTEXTS), len(SANCTIONS)
    L = len(lists)
    rules = np.zeros((A, C), np.int32)
    floors = np.zeros(1, np.int32)
    regular = np.zeros(1, np.int32)
    new_grade, new_min = -1, 0
    poor = np.zeros(G, bool)
    accept = np.ones(G, bool)
    red = np.zeros(G, bool)
    list_act = np.zeros((L, A), bool)
    list_grade = np.zeros((L, G), bool)
    term = np.ones(max(L, 0), np.int32)
    own = np.zeros((L, K), bool)
    memo = np.zeros((L, K), bool)
    if c is not None:
        reg = [(i, g) for i, g in enumerate(c.grades) if not g.new]
        regular = np.array([i for i, _ in reg], np.int32)
        floors = np.array([g.min for _, g in reg[:-1]] or [np.iinfo(np.int32).min], np.int32)
        for i, g in enumerate(c.grades):
            if g.new:
                new_grade, new_min = i, g.min
        for g in c.poor_grades:
            poor[grades.index(g)] = True
        if c.buyer_min_grade is not None:
            accept[grades.index(c.buyer_min_grade) + 1 :] = False
            if new_grade >= 0:  # a new firm's grade is no worse than its score allows
                accept[new_grade] = True
        if c.redlist is not None:
            for g in c.redlist.grades:
                red[grades.index(g)] = True
        for r in c.rules:
            a = ORG_ACTS.index(r.act)
            if r.context is None:
                rules[a, :] = r.points
            else:
                rules[a, CONTEXTS.index(r.context)] = r.points
        for i, x in enumerate(c.lists):
            for a in x.acts:
                list_act[i, ORG_ACTS.index(a)] = True
            for g in x.grades:
                list_grade[i, grades.index(g)] = True
            term[i] = x.term_days
            for k in x.sanctions:
                own[i, SANCTIONS.index(k)] = True
        for mm in c.memoranda:
            i = lists.index(mm.listing)
            for k in mm.sanctions:
                memo[i, SANCTIONS.index(k)] = True
    sanction = own | memo
    by_memo = memo & ~own
    return {
        "rules": rules,
        "floors": floors,
        "regular": regular,
        "new_grade": new_grade,
        "new_min": new_min,
        "poor": poor,
        "accept": accept,
        "red": red,
        "list_act": list_act,
        "list_grade": list_grade,
        "term": term,
        "sanction": sanction,
        "by_memo": by_memo,
    }


def _oversight(o: Organisations, agents: int, t: dict, initial, exports) -> dict:
    """OrgParams' fields of inspections, corporate credit, institutions' sanctions, entry and
    exports (compile_orgs gives the market's and firms')."""
    f32 = np.float32
    a = jnp.asarray
    insp, c, inst, e = o.inspections, o.corporate, o.institutions, o.entry
    ist = c.institution_sanctions if c else None

    def s_(x) -> jax.Array:
        return a(f32(x))

    return dict(
        insp_rate=s_(insp.rate if insp else 0.0),
        detection=s_(insp.detection if insp else 0.0),
        false_find=s_(insp.false_positive_rate if insp else 0.0),
        fine=s_(insp.fine if insp else 0.0),
        bribe=s_(insp.bribe if insp else 0.0),
        audit_rate=s_(insp.audit_rate if insp else 0.0),
        insp_deterrence=s_(insp.deterrence if insp else 0.0),
        base_score=a(np.int32(c.base_score if c else 0)),
        score_sigma=s_(c.score_sigma if c else 0.0),
        lo=a(np.int32(c.bounds[0] if c else 0)),
        hi=a(np.int32(c.bounds[1] if c else 0)),
        floors=a(t["floors"]),
        regular=a(t["regular"]),
        new_grade=a(np.int32(t["new_grade"])),
        new_min=a(np.int32(t["new_min"])),
        new_days=a(np.int32(c.new_firm_days if c else 0)),
        poor=a(t["poor"]),
        accept=a(t["accept"]),
        rules=a(t["rules"]),
        list_act=a(t["list_act"]),
        list_grade=a(t["list_grade"]),
        term=a(t["term"]),
        sanction=a(t["sanction"]),
        by_memo=a(t["by_memo"]),
        red=a(t["red"]),
        red_factor=s_(c.redlist.inspection_factor if c and c.redlist else 1.0),
        insp_mult=s_(c.inspection_multiplier if c else 1.0),
        reputation=s_(c.reputation if c else 0.0),
        inst_scored=a(np.bool_(bool(c and c.institutions_scored))),
        owner_travel_ban=a(np.bool_(bool(c and c.owner_sanction.travel_ban))),
        owner_loan_approval=s_(c.owner_sanction.loan_approval if c else 1.0),
        compliance_response=s_(inst.compliance_response),
        promotion_rate=s_(inst.promotion_rate),
        tier_below=a(np.int32(ist.below if ist else 0)),
        funding_cut=s_(ist.funding_cut if ist else 0.0),
        withhold_promotion=s_(float(bool(ist and ist.withhold_promotion))),
        sector_initial=a(initial),
        sector_share=a(
            np.array([s.share for s in o.sectors], f32) / f32(sum(s.share for s in o.sectors))
        ),
        entry_rate=s_(e.per_1000_agents * agents / 1000.0 if e else 0.0),
        surge_start=a(np.int32(e.surge.start_day if e and e.surge else 0)),
        surge_end=a(np.int32(e.surge.end_day if e and e.surge else 0)),
        surge_rate=s_(e.surge.per_1000_agents * agents / 1000.0 if e and e.surge else 0.0),
        capacity=s_(insp.capacity if insp and insp.capacity is not None else 0.0),
        export_share=a(np.array([x or 0.0 for x in exports], f32)),
    )


def compile_orgs(o: Organisations, agents: int) -> tuple[OrgSpec, OrgParams]:
    """The organisations section -> (OrgSpec, OrgParams)."""
    f32 = np.float32
    F, starts = _layout(o, agents)
    counts = np.diff(starts).astype(f32)
    initial = counts
    slot_starts = starts
    e = o.entry
    if e is not None:  # free slots after each sector's initial firms
        _, most = _layout(o, agents, e.max_per_1000_agents)
        per = np.maximum(np.diff(most), np.diff(starts))
        slot_starts = tuple(int(x) for x in np.concatenate([[0], np.cumsum(per)]))
    m, fm = o.market, o.firms
    inst = o.institutions
    party = int(round(inst.count * inst.party_organ_share))
    insp = o.inspections
    c = o.corporate
    demand = np.array([s.demand for s in o.sectors], np.float64)
    # an average firm's daily profit from citizens' purchases: the model's unit of money
    # for firms (fines, trades, costs); per sector, firms share their sector's demand
    sales_day = agents * m.purchase_rate * demand / counts  # per firm, in purchases
    profit_sector = sales_day * m.price * m.margin
    profit_day = float(agents * m.purchase_rate * m.price * m.margin / F)

    grades = tuple(g.name for g in c.grades) if c else ()
    lists = tuple(x.name for x in c.lists) if c else ()
    t = _corporate_tables(c, grades, lists)

    ist = c.institution_sanctions if c else None
    exports = [s.export_share for s in o.sectors]
    spec = OrgSpec(
        firms=slot_starts[-1],
        sectors=tuple(s.name for s in o.sectors),
        sector_starts=slot_starts,
        institutions=inst.count,
        party=party,
        grades=grades,
        lists=lists,
        candidates=m.candidates,
        inspections=insp is not None,
        corporate=c is not None,
        entry=e is not None,
        capacity=insp is not None and insp.capacity is not None,
        exports=any(x is not None for x in exports),
        inst_sanctions=ist is not None and c.institutions_scored,
    )
    a = jnp.asarray

    def s_(x) -> jax.Array:
        return a(f32(x))

    params = OrgParams(
        demand_cum=a(np.cumsum(demand).astype(f32)),
        sector_start=a(np.array(slot_starts[:-1], np.int32)),
        sector_count=a(counts),
        cf_rate=a(np.array([s.counterfeit_rate for s in o.sectors], f32)),
        harm=a(np.array([s.harm for s in o.sectors], f32)),
        fixed_cost=a((m.fixed_cost * profit_sector).astype(f32)),
        profit_day=s_(profit_day),
        honest_share=s_(fm.honest_share),
        prop_sigma=s_(fm.propensity_sigma),
        prop_corr=s_(fm.propensity_correlation),
        size_sigma=s_(fm.size_sigma),
        tax_rate=s_(fm.tax_evasion_rate),
        breach_rate=s_(fm.breach_rate),
        debt_rate=s_(fm.debt_default_rate),
        bribe_prop=s_(fm.bribe_propensity),
        new_share=s_(fm.new_share),
        purchase_rate=s_(m.purchase_rate),
        price=s_(m.price),
        margin=s_(m.margin),
        cf_gain=s_(m.counterfeit_gain),
        wariness=s_(m.wariness),
        learn=s_(m.learning_rate),
        use_ratings=s_(float(m.buyers_use_ratings and c is not None)),
        firms_use_ratings=s_(float(m.firms_use_ratings and c is not None)),
        b2b_rate=s_(m.b2b_rate),
        trade_value=s_(m.trade_value),
        initial_cash=s_(m.initial_cash),
        loan_approval=s_(m.loan_approval),
        procurement_rate=s_(m.procurement_rate),
        procurement_value=s_(m.procurement_value),
        party_share=s_(inst.party_organ_share),
        corruption=s_(inst.corruption),
        compliance=s_(inst.compliance),
        order_rate=s_(inst.order_rate),
        inst_default_rate=s_(inst.default_rate),
        default_amount=s_(inst.default_amount),
        repayment=s_(inst.repayment),
        inst_deterrence=s_(inst.deterrence),
        **_oversight(o, agents, t, initial, exports),
    )
    return spec, params
