"""The core of a compiled scenario: the agent layout, behaviours, channels, tiers and their
consequences, and the optional facets built from the same programme tables (the adaptive
response, group rate factors, public shaming, appeals).

`Spec` is hashable and decides the shape of the compiled program; `Params` is a pytree of
arrays holding every number, so sweeps can ``vmap`` over them without recompiling. Each
optional mechanism has a sub-spec and sub-params of its own (None where the scenario lacks
it), built by its own module of this package; `compile_scenario` (compile/__init__.py)
assembles them. Per-jurisdiction tables have a leading axis of length J; a jurisdiction
without a programme gets zero points and no detection, the `no-system` counterfactual.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np

from socialcredit.compile.budgets import funded_share
from socialcredit.scenario.model import Programme, Scenario, tier_floors
from socialcredit.scenario.types import INT16_MAX

if TYPE_CHECKING:
    from socialcredit.compile.approval import ApprovalParams, ApprovalSpec
    from socialcredit.compile.audiences import AudienceParams, AudienceSpec
    from socialcredit.compile.budgets import BudgetParams, BudgetSpec
    from socialcredit.compile.court import CourtParams, CourtSpec
    from socialcredit.compile.households import HouseholdParams, HouseholdSpec
    from socialcredit.compile.informants import InformantParams, InformantSpec
    from socialcredit.compile.layers import LayerParams, LayerSpec, TimelineParams, TimelineSpec
    from socialcredit.compile.map import MapParams, MapSpec
    from socialcredit.compile.orgs import OrgParams, OrgSpec
    from socialcredit.compile.people import (
        DetentionParams,
        DetentionSpec,
        OccupationParams,
        OccupationSpec,
    )
    from socialcredit.compile.rewards import RewardParams, RewardSpec
    from socialcredit.compile.trust import TrustParams, TrustSpec
    from socialcredit.engine.cooperation import CoopParams, CoopSpec

INT32_MIN = -(2**31)
PAD = 256
f32 = np.float32


@dataclass(frozen=True)
class AdaptiveSpec:
    """The `adaptive` response model: agents weigh the risk they perceive (stages/learn.py)."""


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class AdaptiveParams:
    learning_rate: jax.Array  # []
    social_weight: jax.Array  # []
    deterrence: jax.Array  # []
    virtue: jax.Array  # []
    severity: jax.Array  # [J, B] |points| / severity_scale for losses, 0 otherwise
    gain: jax.Array  # [J, B] points / severity_scale for gains, 0 otherwise


@dataclass(frozen=True)
class GroupRateSpec:
    """Some group multiplies some behaviour's base rate (stages/behave.py)."""


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class GroupRateParams:
    factor: jax.Array  # [G, B] multiplier of base rates by group


@dataclass(frozen=True)
class ShamingSpec:
    """Some tier or listing is publicly shamed (stages/consequences.py)."""


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class ShamingParams:
    shamed: jax.Array  # [J, T+1] bool (index T: listed)


@dataclass(frozen=True)
class AppealSpec:
    """Some programme corrects false records on appeal (stages/record.py)."""


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class AppealParams:
    rate: jax.Array  # [J] chance per day that an appeal against a false record is upheld


@dataclass(frozen=True)
class Spec:
    """Static facts of a scenario: sizes, the agent layout, the order of outcomes, and the
    sub-spec of each optional mechanism (None where the scenario lacks it)."""

    agents: int
    days: int
    # arrays hold `padded` slots (a multiple of PAD): XLA's CPU loops ran four times slower
    # on odd lengths. Slots from `agents` on are inert ghosts outside every cell.
    padded: int
    behaviours: tuple[str, ...]
    channels: tuple[str, ...]  # with informants, `informants` is the last
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
    contact_offsets: tuple[int, ...]
    # behaviours ordered by ascending base rate, so cumulative sums stay precise
    outcome_order: tuple[int, ...]
    # disposition of each behaviour: 0 none, 1 political, 2 religiosity
    dispositions: tuple[int, ...]
    adaptive: AdaptiveSpec | None = None
    group_rates: GroupRateSpec | None = None
    shaming: ShamingSpec | None = None
    appeals: AppealSpec | None = None
    informants: InformantSpec | None = None  # compile/informants.py
    households: HouseholdSpec | None = None  # compile/households.py
    court: CourtSpec | None = None  # compile/court.py: grounds, repayment, credit repair
    map: MapSpec | None = None  # compile/map.py: the deadbeat map
    budgets: BudgetSpec | None = None  # compile/budgets.py
    orgs: OrgSpec | None = None  # compile/orgs.py: businesses and institutions
    cooperation: CoopSpec | None = None  # engine/cooperation.py: the donation game
    layers: LayerSpec | None = None  # compile/layers.py: lists laid over the places' own
    timeline: TimelineSpec | None = None  # compile/layers.py: places' programmes by day
    audiences: AudienceSpec | None = None  # compile/audiences.py: shaming's audiences
    rewards: RewardSpec | None = None  # compile/rewards.py: rewards people can count
    occupations: OccupationSpec | None = None  # compile/people.py: journalists and others
    detention: DetentionSpec | None = None  # compile/people.py: detention
    trust: TrustSpec | None = None  # compile/trust.py: in every scenario (None only mid-compile)
    approval: ApprovalSpec | None = None  # compile/approval.py: approval of the system

    @property
    def events2(self) -> bool:
        """Whether the extra event byte (State.events2) is carried: the court list's
        repayment, credit repair or the map."""
        return (self.court is not None and self.court.events2) or self.map is not None

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
    """Every number of a scenario as an array (leading axis J = jurisdictions where per-place);
    each optional mechanism's numbers in its own sub-params (None where absent)."""

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
    matching_penalty: jax.Array  # [J, T+1]
    base_loan_approval: jax.Array  # []
    loan_demand: jax.Array  # []
    loan_refusal_cost: jax.Array  # []
    travel_demand: jax.Array  # []
    match_demand: jax.Array  # []
    match_success: jax.Array  # []
    shunning: jax.Array  # []
    wealth_median: jax.Array  # []
    wealth_sigma: jax.Array  # []
    wealth_factor: jax.Array  # [G]
    initial_risk: jax.Array  # []
    side_m: jax.Array  # [J] side of each jurisdiction's square city plane, metres
    political_sigma: jax.Array  # []
    religiosity_sigma: jax.Array  # []
    trust_initial: jax.Array  # []
    adaptive: AdaptiveParams | None = None
    group_rates: GroupRateParams | None = None
    shaming: ShamingParams | None = None
    appeals: AppealParams | None = None
    informants: InformantParams | None = None
    households: HouseholdParams | None = None
    court: CourtParams | None = None
    map: MapParams | None = None
    budgets: BudgetParams | None = None
    orgs: OrgParams | None = None  # numbers of the organisations section
    cooperation: CoopParams | None = None  # numbers of the donation game
    layers: LayerParams | None = None
    timeline: TimelineParams | None = None
    audiences: AudienceParams | None = None
    rewards: RewardParams | None = None  # compile/rewards.py
    occupations: OccupationParams | None = None
    detention: DetentionParams | None = None
    trust: TrustParams | None = None  # in every compiled scenario
    approval: ApprovalParams | None = None


@dataclass
class Tables:
    """Host-side facts of the core that the mechanism modules build on (numpy arrays)."""

    progs: list[Programme | None]  # programme of each jurisdiction
    behaviours: list[str]
    groups: list[str]
    T: int  # most tiers of any programme
    points: np.ndarray  # [J, B] int32
    income: np.ndarray  # [J, T+1] float32 income effect (index T: listed)

    def tier_index(self, p: Programme, name: str) -> int:
        """Column of a consequence in the [J, T+1] tables (T for `listed`)."""
        return self.T if name == "listed" else [t.name for t in p.tiers].index(name)


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


def _ring(progs: list, pay: int = 0) -> tuple[int, int, str]:
    """(days per expiry bucket, buckets, ring dtype) over every programme; ``pay`` bounds the
    points an informant can be paid in one day (Scenario.informant_pay_bound), which the
    record stage adds to that day's record points in the same bucket."""
    resolutions = [p.expiry_resolution_days for p in progs if p]
    res = math.gcd(*resolutions) if resolutions else 1
    buckets = max([p.record_expiry_days // res for p in progs if p] or [1])
    # one bucket holds `res` days, each of at most one record of max|points| plus a day's pay
    max_points = max([abs(v) for p in progs if p for v in p.points.values()] or [0])
    return res, buckets, "int16" if res * (max_points + pay) <= INT16_MAX else "int32"


def _channels(sc: Scenario, p: Programme, j: int, t: dict) -> None:
    """Detection, channel shares and false records of programme ``p`` in jurisdiction j."""
    K = t["chan_cum"].shape[2]
    used = [c for c in sc.channels if c.name in p.channels]
    funded = funded_share(p, used)  # share of full channel coverage that the budget pays for
    for b_i, b in enumerate(sc.behaviours):
        t["points"][j, b_i] = p.points.get(b.name, 0)
        miss = 1.0
        false_miss = 1.0
        for k, c in enumerate(sc.channels):
            if c in used and b.name in c.coverage:
                miss *= 1.0 - c.coverage[b.name] * funded
                false_miss *= 1.0 - c.false_positive_rate * funded
            t["chan_cum"][j, b_i, k] = 1.0 - miss
            t["false_cum"][j, b_i, k] = 1.0 - false_miss
        t["detect"][j, b_i] = 1.0 - miss
        if t["points"][j, b_i] != 0:
            t["false_rate"][j, b_i] = 1.0 - false_miss
        km = len(sc.channels)  # monitoring channels; `informants`, if any, comes after
        if km < K:
            t["chan_cum"][j, b_i, km:] = t["chan_cum"][j, b_i, km - 1] if km else 0.0
            t["false_cum"][j, b_i, km:] = t["false_cum"][j, b_i, km - 1] if km else 0.0
        total_false = t["false_cum"][j, b_i, -1]
        t["false_cum"][j, b_i] = t["false_cum"][j, b_i] / total_false if total_false > 0 else 1.0


def _programme(sc: Scenario, p: Programme, j: int, T: int, res: int, t: dict) -> None:
    """Scores, tiers, the blacklist and the consequences of programme ``p`` in jurisdiction j."""
    names = [x.name for x in p.tiers]
    _channels(sc, p, j, t)
    t["base_score"][j] = p.base_score
    if p.appeals is not None:
        t["appeal"][j] = p.appeals.upheld / p.appeals.delay_days
    t["lo"][j], t["hi"][j] = p.bounds
    fl = tier_floors(p)[:-1]
    t["floors"][j, : len(fl)] = fl
    t["expiry"][j] = p.record_expiry_days // res
    if p.blacklist is not None:
        t["blacklist_on"][j] = True
        t["term"][j] = p.blacklist.term_days
        for name in p.blacklist.tiers:
            t["listed_tier"][j, names.index(name)] = True
    base = sc.economy.base_loan_approval  # unset consequences are neutral (see Consequence)
    for name, c in p.consequences.items():
        k = T if name == "listed" else names.index(name)
        t["loan"][j, k] = base if c.loan_approval is None else c.loan_approval
        t["travel"][j, k] = c.travel_ban
        t["income"][j, k] = c.income_effect
        t["matching"][j, k] = c.matching_penalty
        t["shaming"][j, k] = c.public_shaming
    if "listed" not in p.consequences:  # a listing alone changes nothing material
        t["loan"][j, T], t["travel"][j, T], t["income"][j, T] = base, False, 0.0
    scale = sc.response.severity_scale
    pts = t["points"][j]
    t["severity"][j] = np.where(pts < 0, -pts / scale, 0.0)
    t["gain"][j] = np.where(pts > 0, pts / scale, 0.0)


def _empty_tables(sc: Scenario, J: int, B: int, K: int, T: int) -> dict:
    return {
        "points": np.zeros((J, B), np.int32),
        "detect": np.zeros((J, B), f32),
        "chan_cum": np.zeros((J, B, K), f32),
        "false_rate": np.zeros((J, B), f32),
        "false_cum": np.zeros((J, B, K), f32),
        "base_score": np.zeros(J, np.int32),
        "lo": np.zeros(J, np.int32),
        "hi": np.zeros(J, np.int32),
        "floors": np.full((J, max(T - 1, 1)), INT32_MIN, np.int32),
        "expiry": np.ones(J, np.int32),
        "listed_tier": np.zeros((J, T), bool),
        "blacklist_on": np.zeros(J, bool),
        "term": np.ones(J, np.int32),
        "loan": np.full((J, T + 1), sc.economy.base_loan_approval, f32),
        "travel": np.zeros((J, T + 1), bool),
        "income": np.zeros((J, T + 1), f32),
        "severity": np.zeros((J, B), f32),
        "gain": np.zeros((J, B), f32),
        "matching": np.zeros((J, T + 1), f32),
        "appeal": np.zeros(J, f32),
        "shaming": np.zeros((J, T + 1), bool),
    }


def compile_core(sc: Scenario) -> tuple[Spec, Params, Tables]:
    """The core Spec and Params (no optional mechanism but the facets above), and the tables
    the mechanism modules build on."""
    B = len(sc.behaviours)
    beh = [b.name for b in sc.behaviours]
    chans = [c.name for c in sc.channels] + (["informants"] if sc.informants is not None else [])
    G = len(sc.population.groups)
    J = len(sc.jurisdictions)
    progs = [sc.programmes[j.programme] if j.programme else None for j in sc.jurisdictions]
    T = max([len(p.tiers) for p in progs if p] or [1])
    res, buckets, ring_dtype = _ring(progs, math.prod(sc.informant_pay_bound()))
    t = _empty_tables(sc, J, B, max(len(chans), 1), T)
    tier_names = []
    for j, p in enumerate(progs):
        tier_names.append(tuple(x.name for x in p.tiers) if p is not None else ())
        if p is not None:
            _programme(sc, p, j, T, res, t)
    group_factor = np.ones((G, B), f32)
    for g_i, g in enumerate(sc.population.groups):
        for b, v in g.rate_factors.items():
            group_factor[g_i, beh.index(b)] = v
    r = sc.response
    adaptive = r.model == "adaptive"
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
        contact_offsets=contact_offsets(
            sc.population.contacts.degree,
            sc.population.contacts.reach,
            sc.population.contacts.long_range,
            sc.population.agents,
        ),
        outcome_order=tuple(
            int(i) for i in np.argsort([b.base_rate for b in sc.behaviours], kind="stable")
        ),
        dispositions=tuple(
            {"none": 0, "political": 1, "religiosity": 2}[b.disposition] for b in sc.behaviours
        ),
        adaptive=AdaptiveSpec() if adaptive else None,
        group_rates=GroupRateSpec() if (group_factor != 1).any() else None,
        shaming=ShamingSpec() if t["shaming"].any() else None,
        appeals=AppealSpec() if t["appeal"].any() else None,
    )
    a = jnp.asarray
    params = Params(
        base_rate=a(np.array([b.base_rate for b in sc.behaviours], f32)),
        driven=a(np.array([float(b.propensity_driven) for b in sc.behaviours], f32)),
        propensity_sigma=a(f32(sc.population.propensity_sigma)),
        active=a(np.array([p is not None for p in progs])),
        points=a(t["points"]),
        detect=a(t["detect"]),
        chan_cum=a(t["chan_cum"]),
        false_rate=a(t["false_rate"]),
        false_cum=a(t["false_cum"]),
        base_score=a(t["base_score"]),
        lo=a(t["lo"]),
        hi=a(t["hi"]),
        floors=a(t["floors"]),
        expiry_buckets=a(t["expiry"]),
        listed_tier=a(t["listed_tier"]),
        blacklist_on=a(t["blacklist_on"]),
        term=a(t["term"]),
        loan_approval=a(t["loan"]),
        travel_ban=a(t["travel"]),
        income_effect=a(t["income"]),
        matching_penalty=a(t["matching"]),
        base_loan_approval=a(f32(sc.economy.base_loan_approval)),
        loan_demand=a(f32(sc.economy.loan_demand)),
        loan_refusal_cost=a(f32(sc.economy.loan_refusal_cost)),
        travel_demand=a(f32(sc.economy.travel_demand)),
        match_demand=a(f32(sc.economy.match_demand)),
        match_success=a(f32(sc.economy.match_success)),
        shunning=a(f32(sc.economy.shunning)),
        wealth_median=a(f32(sc.population.wealth.median)),
        wealth_sigma=a(f32(sc.population.wealth.sigma)),
        wealth_factor=a(np.array([g.wealth_factor for g in sc.population.groups], f32)),
        initial_risk=a(f32(r.initial_risk)),
        side_m=a(np.array([np.sqrt(j.area_km2) * 1000.0 for j in sc.jurisdictions], f32)),
        political_sigma=a(f32(sc.population.political_sigma)),
        religiosity_sigma=a(f32(sc.population.religiosity_sigma)),
        trust_initial=a(f32(sc.trust.initial)),
        adaptive=(
            AdaptiveParams(
                learning_rate=a(f32(r.learning_rate)),
                social_weight=a(f32(r.social_weight)),
                deterrence=a(f32(r.deterrence)),
                virtue=a(f32(r.virtue)),
                severity=a(t["severity"]),
                gain=a(t["gain"]),
            )
            if adaptive
            else None
        ),
        group_rates=GroupRateParams(a(group_factor)) if spec.group_rates is not None else None,
        shaming=ShamingParams(a(t["shaming"])) if spec.shaming is not None else None,
        appeals=AppealParams(a(t["appeal"])) if spec.appeals is not None else None,
    )
    tables = Tables(progs, beh, [g.name for g in sc.population.groups], T, t["points"], t["income"])
    return spec, params, tables
