"""Turn a validated scenario into a static Spec (sizes, layout, which stages run) and Params.

Spec is hashable and decides the shape of the compiled program. Params is a pytree of arrays
holding every number of the scenario, so sweeps can ``vmap`` over them without recompiling.
Per-jurisdiction tables have a leading axis of length J; a jurisdiction without a programme
gets zero points and no detection, which makes it the `no-system` counterfactual.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import jax
import jax.numpy as jnp
import numpy as np

from socialcredit.compile_orgs import OrgParams, OrgSpec, compile_orgs
from socialcredit.scenario.model import Scenario, tier_floors

INT32_MIN = -(2**31)
PAD = 256
DAYS_PER_YEAR = 365.0


@dataclass(frozen=True)
class Spec:
    """Static facts of a scenario: sizes, the agent layout and the order of outcomes."""

    agents: int
    days: int
    # arrays hold `padded` slots (a multiple of PAD): XLA's CPU loops ran four times slower
    # on odd lengths. Slots from `agents` on are inert ghosts outside every cell.
    padded: int
    behaviours: tuple[str, ...]
    channels: tuple[str, ...]
    jurisdictions: tuple[str, ...]
    groups: tuple[str, ...]
    # tier names per jurisdiction (empty for no programme), top tier first
    tier_names: tuple[tuple[str, ...], ...]
    max_tiers: int
    # agents are laid out by (jurisdiction, group) cell; cell c = j * G + g covers
    # [cell_starts[c], cell_starts[c + 1])
    cell_starts: tuple[int, ...]
    resolution: int  # days per expiry bucket
    buckets: int  # length of the record ring
    ring_dtype: str  # int16 unless one bucket's points could overflow it
    adaptive: bool
    contact_offsets: tuple[int, ...]
    # behaviours ordered by ascending base rate, so cumulative sums stay precise
    outcome_order: tuple[int, ...]
    # disposition of each behaviour: 0 none, 1 political, 2 religiosity
    dispositions: tuple[int, ...] = ()
    group_factors: bool = False  # some group multiplies some rate
    informants: bool = False  # channel `informants` is the last of `channels`
    false_report_behaviour: int = -1
    households: bool = False
    shaming: bool = False  # some tier or listing is publicly shamed
    appeals: bool = False  # some programme corrects false records on appeal
    speech_chill: bool = False  # trust silences some behaviour somewhere
    # people: the court list's grounds and repayment, credit repair, strategic reporting and
    # the deadbeat map (stages/listing.py, stages/repair.py, stages/publicize.py)
    grounds: bool = False  # some blacklist lists people for records of its grounds
    repayment: bool = False  # some blacklist's debtors pay to leave it
    repair: bool = False  # some programme clears negative records for restorative acts
    strategic_reporting: bool = False  # informants' coverage follows their pay
    map_grid: tuple[int, ...] = ()  # cells per side of each jurisdiction's map grid; () no map
    map_users: int = 0  # app users (a fixed set of agents)
    map_looks: int = 0  # users who look each day: round(lookups_per_day * map_users)

    @property
    def map(self) -> bool:
        return bool(self.map_grid)

    @property
    def events2(self) -> bool:
        """Whether the extra event byte (State.events2) is carried."""
        return self.repayment or self.repair or self.map

    budgets: bool = False  # some programme has a yearly budget (costs, capped rewards)
    orgs: OrgSpec | None = None  # businesses and institutions (compile_orgs.py)

    @property
    def n_cells(self) -> int:
        return len(self.jurisdictions) * len(self.groups)

    def cell_sizes(self) -> np.ndarray:
        return np.diff(np.asarray(self.cell_starts))

    def cell_of(self) -> tuple[np.ndarray, np.ndarray]:
        """(jurisdiction index, group index) of each cell."""
        G = len(self.groups)
        c = np.arange(self.n_cells)
        return c // G, c % G


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class Params:
    """Every number of a scenario as an array (leading axis J = jurisdictions where per-place)."""

    base_rate: jax.Array  # [B] acts per agent-day with no system
    driven: jax.Array  # [B] 1.0 where the propensity multiplier applies
    propensity_sigma: jax.Array  # []
    active: jax.Array  # [J] bool, a programme runs there
    points: jax.Array  # [J, B] int32
    detect: jax.Array  # [J, B] P(act recorded)
    chan_cum: jax.Array  # [J, B, K] P(recorded by one of channels 0..k)
    false_rate: jax.Array  # [J, B] P(false record of b) per agent-day
    false_cum: jax.Array  # [J, B, K] cumulative share of false records by channel
    base_score: jax.Array  # [J] int32
    lo: jax.Array  # [J] int32
    hi: jax.Array  # [J] int32
    floors: jax.Array  # [J, T-1] int32 floors of all but the bottom tier (pad: INT32_MIN)
    expiry_buckets: jax.Array  # [J] int32
    listed_tier: jax.Array  # [J, T] bool
    blacklist_on: jax.Array  # [J] bool
    term: jax.Array  # [J] int32
    loan_approval: jax.Array  # [J, T+1] (index T: listed)
    travel_ban: jax.Array  # [J, T+1] bool
    income_effect: jax.Array  # [J, T+1]
    base_loan_approval: jax.Array  # []
    loan_demand: jax.Array  # []
    loan_refusal_cost: jax.Array  # []
    travel_demand: jax.Array  # []
    wealth_median: jax.Array  # []
    wealth_sigma: jax.Array  # []
    initial_risk: jax.Array  # []
    learning_rate: jax.Array  # []
    social_weight: jax.Array  # []
    deterrence: jax.Array  # []
    virtue: jax.Array  # []
    severity: jax.Array  # [J, B] |points| / severity_scale for losses, 0 otherwise
    gain: jax.Array  # [J, B] points / severity_scale for gains, 0 otherwise
    side_m: jax.Array  # [J] side of each jurisdiction's square city plane, metres
    group_factor: jax.Array  # [G, B] multiplier of base rates by group
    wealth_factor: jax.Array  # [G]
    political_sigma: jax.Array  # []
    religiosity_sigma: jax.Array  # []
    school_block: jax.Array  # [J, T+1] bool
    matching_penalty: jax.Array  # [J, T+1]
    appeal_rate: jax.Array  # [J] chance per day that an appeal against a false record is upheld
    shaming: jax.Array  # [J, T+1] bool
    match_demand: jax.Array  # []
    match_success: jax.Array  # []
    shunning: jax.Array  # []
    school_demand: jax.Array  # [] applications per child per day
    partner_pair: jax.Array  # [] chance two neighbouring adults form one household
    children_cdf: jax.Array  # [4] cumulative shares of households with 0..3 children
    informant_share: jax.Array  # [G] share of each group who inform
    inf_cov: jax.Array  # [J, B] chance one informant contact reports one act
    inf_false: jax.Array  # [J, G] false reports per informant contact and day, by target group
    inf_reward: jax.Array  # [J, B, G] points per report of b by a member of g
    inf_confirmed: jax.Array  # [J] further points when the act was real
    chill_mask: jax.Array  # [J, B] 1 where distrust silences the behaviour
    trust_initial: jax.Array  # []
    trust_rate: jax.Array  # []
    trust_chill: jax.Array  # []
    ground: jax.Array  # [J, B] bool: a record of b puts the person on the list (court grounds)
    until_paid: jax.Array  # [J] bool: listings end only on payment
    repay_rate: jax.Array  # [J] daily chance a listed debtor of median wealth pays
    repay_elasticity: jax.Array  # [J]
    repay_amount: jax.Array  # [J] wealth lost on paying
    repay_shamed: jax.Array  # [J] multiplier of the chance after being shamed or sighted
    repay_clear: jax.Array  # [J] int32 points of negative records cleared on paying
    repair_mask: jax.Array  # [J, B] bool: a recorded act of b repairs the credit file
    repair_points: jax.Array  # [J] int32 points cleared per repairing act
    report_zeal: jax.Array  # [J, B * G] multiplier of informant coverage (strategic reporting)
    on_map: jax.Array  # [J, T+1] bool: the tier (index T: listing) is shown on the map
    map_users: jax.Array  # [U] int32 indices of the app users
    map_radius: jax.Array  # [] metres
    map_rate: jax.Array  # [] look-ups per user and day (its count is Spec.map_looks)
    map_wander: jax.Array  # [] half-side of the daily displacement, metres
    map_tip: jax.Array  # [] chance per sighting of a tip-off
    map_enforce: jax.Array  # [] chance a tip-off enforces payment
    trust_informant_weight: jax.Array  # [] the baseline falls with informants among contacts
    trust_shocks: jax.Array  # [3] share of trust lost per contact reported, sanctioned, shamed
    # budgets (docs/mechanisms.md "Budgets"): money per resident, in economy.money_unit
    budgeted: jax.Array  # [J] bool, the programme has a budget (elsewhere nothing is costed)
    coverage_scale: jax.Array  # [J] share of its channels' full coverage the budget pays for
    channel_spend: jax.Array  # [J] money per resident per day spent on channels
    reward_budget: jax.Array  # [J] money per resident per year left for rewards
    point_cost: jax.Array  # [J] money per point paid to an informant
    perk_cost: jax.Array  # [J, T+1] money per day a tier's (or listing's) perk costs
    orgs: OrgParams | None = None  # numbers of the organisations section


def _cells(sc: Scenario) -> tuple[int, ...]:
    """Agents per (jurisdiction, group) cell by largest remainder, so counts sum exactly."""
    shares = np.array([j.share * g.share for j in sc.jurisdictions for g in sc.population.groups])
    raw = shares / shares.sum() * sc.population.agents
    counts = np.floor(raw).astype(np.int64)
    rest = sc.population.agents - counts.sum()
    counts[np.argsort(-(raw - counts), kind="stable")[:rest]] += 1
    return tuple(int(x) for x in np.concatenate([[0], np.cumsum(counts)]))


# Fractions of the population for long-range ties: fixed irrationals (golden ratio and
# square-root conjugates), so ties look random, stay the same for every seed (no recompile
# between replicates), and land in each group in proportion to its size.
_LONG = (0.6180339887, 0.4142135624, 0.7320508076, 0.2360679775, 0.6457513111, 0.1622776602)


def contact_offsets(
    degree: int, reach: int, long_range: int = 0, agents: int = 0
) -> tuple[int, ...]:
    """Signed index offsets of a small world: local distances spread geometrically over
    1..reach, plus `long_range` pairs of ties at fixed irrational fractions of the population."""
    long_offsets = []
    for k in range(long_range):
        if agents > 2 * reach + 2:
            f = _LONG[k % len(_LONG)] / (1 + k // len(_LONG))
            long_offsets.append(reach + 1 + int(f * (agents - 2 * reach - 2)))
    half = degree // 2 - len(long_offsets)
    if half <= 0:
        return tuple(x for d in long_offsets for x in (d, -d))
    dists = sorted({max(1, round(reach ** (i / max(half - 1, 1)))) for i in range(half)})
    d = 1
    while len(dists) < half:  # fill collisions of the geometric spread
        if d not in dists:
            dists.append(d)
        d += 1
    dists = sorted(dists)[:half] + long_offsets
    return tuple(x for d in dists for x in (d, -d))


def compile_scenario(sc: Scenario) -> tuple[Spec, Params]:
    """Validated scenario -> (Spec, Params)."""
    B = len(sc.behaviours)
    beh = [b.name for b in sc.behaviours]
    inf = sc.informants
    chans = [c.name for c in sc.channels] + (["informants"] if inf is not None else [])
    K = max(len(chans), 1)
    G = len(sc.population.groups)
    groups = [g.name for g in sc.population.groups]
    J = len(sc.jurisdictions)
    progs = [sc.programmes[j.programme] if j.programme else None for j in sc.jurisdictions]
    T = max([len(p.tiers) for p in progs if p] or [1])

    resolutions = [p.expiry_resolution_days for p in progs if p]
    res = math.gcd(*resolutions) if resolutions else 1
    buckets = max([p.record_expiry_days // res for p in progs if p] or [1])
    # one bucket holds at most `res` records (one a day) of at most max|points| each
    max_points = max([abs(v) for p in progs if p for v in p.points.values()] or [0])
    ring_dtype = "int16" if res * max_points <= 32767 else "int32"

    f32 = np.float32
    points = np.zeros((J, B), np.int32)
    detect = np.zeros((J, B), f32)
    chan_cum = np.zeros((J, B, K), f32)
    false_rate = np.zeros((J, B), f32)
    false_cum = np.zeros((J, B, K), f32)
    base_score = np.zeros(J, np.int32)
    lo = np.zeros(J, np.int32)
    hi = np.zeros(J, np.int32)
    floors = np.full((J, max(T - 1, 1)), INT32_MIN, np.int32)
    expiry = np.ones(J, np.int32)
    listed_tier = np.zeros((J, T), bool)
    blacklist_on = np.zeros(J, bool)
    term = np.ones(J, np.int32)
    loan = np.full((J, T + 1), sc.economy.base_loan_approval, f32)
    travel = np.zeros((J, T + 1), bool)
    income = np.zeros((J, T + 1), f32)
    severity = np.zeros((J, B), f32)
    gain = np.zeros((J, B), f32)
    school = np.zeros((J, T + 1), bool)
    matching = np.zeros((J, T + 1), f32)
    appeal = np.zeros(J, f32)
    shaming = np.zeros((J, T + 1), bool)
    inf_cov = np.zeros((J, B), f32)
    inf_false = np.zeros((J, G), f32)
    inf_reward = np.zeros((J, B, G), f32)
    inf_confirmed = np.zeros(J, f32)
    chill = np.zeros((J, B), f32)
    budgeted = np.zeros(J, bool)
    coverage_scale = np.ones(J, f32)
    channel_spend = np.zeros(J, f32)
    reward_budget = np.zeros(J, f32)
    point_cost = np.zeros(J, f32)
    perk = np.zeros((J, T + 1), f32)
    tier_names = []
    for j, p in enumerate(progs):
        if p is None:
            tier_names.append(())
            coverage_scale[j] = 0.0  # no channels run here
            continue
        names = [t.name for t in p.tiers]
        tier_names.append(tuple(names))
        used = [c for c in sc.channels if c.name in p.channels]
        funded = 1.0  # share of full channel coverage that the budget pays for
        if p.budget is not None:
            budgeted[j] = True
            money = p.budget.per_resident_year
            cost = math.fsum(c.cost_per_year for c in used)
            funded = 1.0 if cost <= money else money / cost
            coverage_scale[j] = funded
            channel_spend[j] = min(cost, money) / DAYS_PER_YEAR
            reward_budget[j] = max(money - cost, 0.0)
            point_cost[j] = p.budget.point_cost
        for b_i, b in enumerate(beh):
            points[j, b_i] = p.points.get(b, 0)
            miss = 1.0
            false_miss = 1.0
            for k, c in enumerate(sc.channels):
                if c in used and b in c.coverage:
                    miss *= 1.0 - c.coverage[b] * funded
                    false_miss *= 1.0 - c.false_positive_rate * funded
                chan_cum[j, b_i, k] = 1.0 - miss
                false_cum[j, b_i, k] = 1.0 - false_miss
            detect[j, b_i] = 1.0 - miss
            if points[j, b_i] != 0:
                false_rate[j, b_i] = 1.0 - false_miss
            km = len(sc.channels)  # monitoring channels; `informants`, if any, comes after
            if km < K:
                chan_cum[j, b_i, km:] = chan_cum[j, b_i, km - 1] if km else 0.0
                false_cum[j, b_i, km:] = false_cum[j, b_i, km - 1] if km else 0.0
            total_false = false_cum[j, b_i, -1]
            false_cum[j, b_i] = false_cum[j, b_i] / total_false if total_false > 0 else 1.0
        base_score[j] = p.base_score
        if p.appeals is not None:
            appeal[j] = p.appeals.upheld / p.appeals.delay_days
        lo[j], hi[j] = p.bounds
        fl = tier_floors(p)[:-1]
        floors[j, : len(fl)] = fl
        expiry[j] = p.record_expiry_days // res
        if p.blacklist is not None:
            blacklist_on[j] = True
            term[j] = p.blacklist.term_days
            for t in p.blacklist.tiers:
                listed_tier[j, names.index(t)] = True
        loan[j, :] = 1.0
        for name, c in p.consequences.items():
            t = T if name == "listed" else names.index(name)
            loan[j, t] = c.loan_approval
            travel[j, t] = c.travel_ban
            income[j, t] = c.income_effect
            school[j, t] = c.school_block
            matching[j, t] = c.matching_penalty
            shaming[j, t] = c.public_shaming
        if "listed" not in p.consequences:  # a listing alone changes nothing material
            loan[j, T], travel[j, T], income[j, T] = 1.0, False, 0.0
        if p.budget is not None:  # a perk (a positive income effect) is paid by the programme
            perk[j] = np.maximum(income[j], 0.0) * sc.economy.median_income / DAYS_PER_YEAR
        if inf is not None and "informants" in p.channels:
            for b_i, b in enumerate(beh):
                inf_cov[j, b_i] = inf.coverage.get(b, 0.0)
                inf_reward[j, b_i, :] = inf.reward_points
            for t in inf.targeted_rewards:
                inf_reward[j, beh.index(t.behaviour), groups.index(t.group)] += t.points
            inf_confirmed[j] = inf.confirmed_points
            if inf.false_report_behaviour is not None:
                w = np.array([inf.target_weights.get(g, 1.0) for g in groups], f32)
                inf_false[j] = inf.false_report_rate * w
        for b_i, b in enumerate(sc.behaviours):
            silenced = points[j, b_i] < 0 or inf_cov[j, b_i] > 0
            if b.category in ("speech", "religion") and silenced and inf is not None:
                chill[j, b_i] = 1.0
        scale = sc.response.severity_scale
        severity[j] = np.where(points[j] < 0, -points[j] / scale, 0.0)
        gain[j] = np.where(points[j] > 0, points[j] / scale, 0.0)

    people = _people_tables(sc, progs, T, inf_reward, inf_confirmed, inf_false)
    order = tuple(int(i) for i in np.argsort([b.base_rate for b in sc.behaviours], kind="stable"))
    group_factor = np.ones((G, B), f32)
    for g_i, g in enumerate(sc.population.groups):
        for b, v in g.rate_factors.items():
            group_factor[g_i, beh.index(b)] = v
    hh = sc.population.households
    if hh is not None:
        kids = np.asarray(hh.children + [0.0] * (4 - len(hh.children)), np.float64)
        kids_cdf = np.cumsum(kids / kids.sum()).astype(f32)
        pair = 2 * hh.partner_share / (1 + hh.partner_share)  # couples among pairs of slots
    else:
        kids_cdf, pair = np.ones(4, f32), 0.0
    inf_share = np.zeros(G, f32)
    if inf is not None:
        for g_i, g in enumerate(groups):
            if inf.eligible_groups is None or g in inf.eligible_groups:
                inf_share[g_i] = inf.share
    spec = Spec(
        agents=sc.population.agents,
        days=sc.days,
        padded=-(-sc.population.agents // PAD) * PAD,
        behaviours=tuple(beh),
        channels=tuple(chans),
        jurisdictions=tuple(j.name for j in sc.jurisdictions),
        groups=tuple(g.name for g in sc.population.groups),
        tier_names=tuple(tier_names),
        max_tiers=T,
        cell_starts=_cells(sc),
        resolution=res,
        buckets=buckets,
        ring_dtype=ring_dtype,
        adaptive=sc.response.model == "adaptive",
        contact_offsets=contact_offsets(
            sc.population.contacts.degree,
            sc.population.contacts.reach,
            sc.population.contacts.long_range,
            sc.population.agents,
        ),
        outcome_order=order,
        dispositions=tuple(
            {"none": 0, "political": 1, "religiosity": 2}[b.disposition] for b in sc.behaviours
        ),
        group_factors=bool((group_factor != 1).any()),
        informants=inf is not None,
        false_report_behaviour=(
            beh.index(inf.false_report_behaviour)
            if inf is not None and inf.false_report_behaviour
            else -1
        ),
        households=hh is not None,
        shaming=bool(shaming.any()),
        appeals=bool(appeal.any()),
        speech_chill=bool(chill.any()),
        grounds=bool(people["ground"].any()),
        repayment=bool((people["repay_rate"] > 0).any() or people["map_enforce"] > 0),
        repair=bool(people["repair_mask"].any()),
        strategic_reporting=bool((people["report_zeal"] != 1).any()),
        map_grid=people.pop("grid"),
        map_users=int(people["map_users"].shape[0]),
        map_looks=int(round(float(people["map_rate"]) * people["map_users"].shape[0])),
        budgets=bool(budgeted.any()),
    )
    r = sc.response
    a = jnp.asarray
    params = Params(
        base_rate=a(np.array([b.base_rate for b in sc.behaviours], f32)),
        driven=a(np.array([float(b.propensity_driven) for b in sc.behaviours], f32)),
        propensity_sigma=a(f32(sc.population.propensity_sigma)),
        active=a(np.array([p is not None for p in progs])),
        points=a(points),
        detect=a(detect),
        chan_cum=a(chan_cum),
        false_rate=a(false_rate),
        false_cum=a(false_cum),
        base_score=a(base_score),
        lo=a(lo),
        hi=a(hi),
        floors=a(floors),
        expiry_buckets=a(expiry),
        listed_tier=a(listed_tier),
        blacklist_on=a(blacklist_on),
        term=a(term),
        loan_approval=a(loan),
        travel_ban=a(travel),
        income_effect=a(income),
        base_loan_approval=a(f32(sc.economy.base_loan_approval)),
        loan_demand=a(f32(sc.economy.loan_demand)),
        loan_refusal_cost=a(f32(sc.economy.loan_refusal_cost)),
        travel_demand=a(f32(sc.economy.travel_demand)),
        wealth_median=a(f32(sc.population.wealth.median)),
        wealth_sigma=a(f32(sc.population.wealth.sigma)),
        initial_risk=a(f32(r.initial_risk)),
        learning_rate=a(f32(r.learning_rate)),
        social_weight=a(f32(r.social_weight)),
        deterrence=a(f32(r.deterrence)),
        virtue=a(f32(r.virtue)),
        severity=a(severity),
        gain=a(gain),
        side_m=a(np.array([np.sqrt(j.area_km2) * 1000.0 for j in sc.jurisdictions], f32)),
        group_factor=a(group_factor),
        wealth_factor=a(np.array([g.wealth_factor for g in sc.population.groups], f32)),
        political_sigma=a(f32(sc.population.political_sigma)),
        religiosity_sigma=a(f32(sc.population.religiosity_sigma)),
        school_block=a(school),
        matching_penalty=a(matching),
        appeal_rate=a(appeal),
        shaming=a(shaming),
        match_demand=a(f32(sc.economy.match_demand)),
        match_success=a(f32(sc.economy.match_success)),
        shunning=a(f32(sc.economy.shunning)),
        school_demand=a(f32(hh.school_demand if hh is not None else 0.0)),
        partner_pair=a(f32(pair)),
        children_cdf=a(kids_cdf),
        informant_share=a(inf_share),
        inf_cov=a(inf_cov),
        inf_false=a(inf_false),
        inf_reward=a(inf_reward),
        inf_confirmed=a(inf_confirmed),
        chill_mask=a(chill),
        trust_initial=a(f32(sc.trust.initial)),
        trust_rate=a(f32(sc.trust.learning_rate)),
        trust_chill=a(f32(sc.trust.chill)),
        **{k: a(v) for k, v in people.items()},
        trust_informant_weight=a(f32(sc.trust.informant_weight)),
        trust_shocks=a(
            np.array([sc.trust.report_shock, sc.trust.sanction_shock, sc.trust.shaming_shock], f32)
        ),
        budgeted=a(budgeted),
        coverage_scale=a(coverage_scale),
        channel_spend=a(channel_spend),
        reward_budget=a(reward_budget),
        point_cost=a(point_cost),
        perk_cost=a(perk),
    )
    if sc.organisations is not None:
        o_spec, o_params = compile_orgs(sc.organisations, sc.population.agents)
        spec = replace(spec, orgs=o_spec)
        params = replace(params, orgs=o_params)
    return spec, params


# Golden-ratio fraction: agent i uses the map app when frac((i + 1) * PHI) < app_share, a fixed,
# evenly spread set (the same for every seed, so replicates never recompile).
PHI = 0.6180339887498949
MAP_GRID_MAX = 1024  # cells per side at most; larger cells than the radius stay exact


def map_users(agents: int, share: float) -> np.ndarray:
    """Indices of the app users: an evenly spread fixed share of the agents."""
    i = np.arange(agents, dtype=np.float64)
    return np.nonzero(np.modf((i + 1) * PHI)[0] < share)[0].astype(np.int32)


def _people_tables(sc: Scenario, progs, T: int, inf_reward, inf_confirmed, inf_false) -> dict:
    """Params of the court list, credit repair, strategic reporting and the deadbeat map.

    Strategic reporting scales `inf_false` in place (false reports follow their pay too)."""
    f32 = np.float32
    beh = [b.name for b in sc.behaviours]
    J, B, G = len(progs), len(beh), len(sc.population.groups)
    t = {
        "ground": np.zeros((J, B), bool),
        "until_paid": np.zeros(J, bool),
        "repay_rate": np.zeros(J, f32),
        "repay_elasticity": np.zeros(J, f32),
        "repay_amount": np.zeros(J, f32),
        "repay_shamed": np.ones(J, f32),
        "repay_clear": np.zeros(J, np.int32),
        "repair_mask": np.zeros((J, B), bool),
        "repair_points": np.zeros(J, np.int32),
        "report_zeal": np.ones((J, B * G), f32),
        "on_map": np.zeros((J, T + 1), bool),
    }
    r = sc.response
    strategic = r.model == "adaptive" and r.strategic_reporting > 0 and sc.informants is not None
    for j, p in enumerate(progs):
        if p is None:
            continue
        names = [x.name for x in p.tiers]
        bl = p.blacklist
        if bl is not None:
            for b in bl.grounds:
                t["ground"][j, beh.index(b)] = True
            t["until_paid"][j] = bl.until_paid
            if bl.repayment is not None:
                rp = bl.repayment
                t["repay_rate"][j] = rp.rate
                t["repay_elasticity"][j] = rp.wealth_elasticity
                t["repay_amount"][j] = rp.amount
                t["repay_shamed"][j] = rp.shamed_factor
                t["repay_clear"][j] = rp.clears_points
        if p.repair is not None:
            for b in p.repair.behaviours:
                t["repair_mask"][j, beh.index(b)] = True
            t["repair_points"][j] = p.repair.points
        for name, c in p.consequences.items():
            t["on_map"][j, T if name == "listed" else names.index(name)] = c.on_map
        if strategic:
            value = inf_reward[j] + inf_confirmed[j]  # [B, G] points for reporting a real act
            zeal = np.exp(r.strategic_reporting * (value - r.report_cost) / r.severity_scale)
            t["report_zeal"][j] = zeal.reshape(-1)
            fb = sc.informants.false_report_behaviour
            if fb is not None:  # false reports earn the reward without the confirmation
                pay = inf_reward[j, beh.index(fb)]
                inf_false[j] *= np.exp(
                    r.strategic_reporting * (pay - r.report_cost) / r.severity_scale
                ).astype(f32)
    m = sc.map
    sides = [np.sqrt(jj.area_km2) * 1000.0 for jj in sc.jurisdictions]
    if m is not None and t["on_map"].any():
        grid = tuple(min(MAP_GRID_MAX, max(1, int(side // m.radius_m))) for side in sides)
        users = map_users(sc.population.agents, m.app_share)
    else:
        grid, users = (), np.zeros(0, np.int32)
    t.update(
        grid=grid,
        map_users=users,
        map_radius=f32(m.radius_m if m else 0.0),
        map_rate=f32(m.lookups_per_day if m else 0.0),
        map_wander=f32(m.wander_m if m else 0.0),
        map_tip=f32(m.tip_off if m else 0.0),
        map_enforce=f32(m.enforcement if m else 0.0),
    )
    return t
