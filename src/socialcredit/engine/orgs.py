"""Organisations as entity tables of their own beside the citizens: businesses and government
institutions, each a struct of arrays carried in ``State.orgs`` (None without organisations,
so scenarios without them carry and compute nothing).

Links are index arrays: a firm's owner is an index into the citizens, its inspector an index
into the institutions (firm f -> f mod the number of non-party institutions). Standing (grade,
listings, sanctions) is derived from the carried score and listing terms where it is needed,
so nothing derived is carried twice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import jax
import jax.numpy as jnp
import numpy as np

from socialcredit import rng
from socialcredit.compile.orgs import OrgParams, OrgSpec
from socialcredit.scenario.orgs import CONTEXTS, ORG_ACTS, SANCTIONS

ACT = {a: i for i, a in enumerate(ORG_ACTS)}
CTX = {c: i for i, c in enumerate(CONTEXTS)}
SANCTION = {k: i for i, k in enumerate(SANCTIONS)}
# Kinds of cheating, the rows of Firms.propensity.
CHEATS = ("counterfeit", "tax_evasion", "contract_breach", "unpaid_debt")
# Firms.founded of a free slot (a firm not yet founded; only with organisations.entry).
UNBORN = 32767


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class Firms:
    """Businesses (F of them), laid out by sector."""

    sector: jax.Array  # uint8 [F] (static)
    owner: jax.Array  # int32 [F] index of the owning citizen (static)
    size: jax.Array  # float32 [F] mean 1 (static)
    # float32 [4, F] multipliers of the cheat rates by kind (CHEATS), 0 for honest firms (static)
    propensity: jax.Array
    founded: jax.Array  # int16 [F] day founded (negative: before the run)
    cash: jax.Array  # float32 [F] in money (median annual incomes)
    raw: jax.Array  # int32 [F] points of the rule table so far
    init: jax.Array  # int16 [F] score from records before the run (base + noise - base)
    pending: jax.Array  # int16 [2, F] hidden counterfeits and tax evasions since an inspection
    until: jax.Array  # int16 [L, F] first day off each list (0: never listed)
    alive: jax.Array  # bool [F]
    ever_listed: jax.Array  # bool [F]


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class Institutions:
    """Government institutions (I of them); party organs last, never scored."""

    party: jax.Array  # bool [I] (static)
    corruption: jax.Array  # float32 [I] chance of accepting a bribe (static)
    compliance: jax.Array  # float32 [I] chance of following an order (static)
    default_p: jax.Array  # float32 [I] missed repayments per day with no system (static)
    arrears: jax.Array  # float32 [I] repayments missed and not yet paid back (money)
    raw: jax.Array  # int32 [I] points


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class Orgs:
    firms: Firms
    inst: Institutions
    perceived: jax.Array  # float32 [S, G + 1] counterfeit share buyers expect by (sector, grade)
    owner_flag: jax.Array  # bool [N] citizens whose firm's listing sanctions them (yesterday's)
    firm_counts: jax.Array  # float32 [S, M_f] the day's firm metrics by sector
    inst_counts: jax.Array  # float32 [M_i] the day's institution metrics


def _normal(word: jax.Array) -> jax.Array:
    return jax.scipy.special.ndtri(rng.unit(word) + (0.5 / 16777216.0))


def _lognormal(word: jax.Array, sigma: jax.Array) -> jax.Array:
    return jnp.exp(sigma * _normal(word) - 0.5 * sigma * sigma)


def synthesize_orgs(o: OrgSpec, p: OrgParams, key: jax.Array, agents: int, padded: int) -> Orgs:
    """Firms and institutions at the start of the run, drawn from the run key."""
    F, NI = o.firms, o.institutions
    S, G = len(o.sectors), max(len(o.grades), 1)
    fi = jnp.arange(F, dtype=jnp.uint32)
    w_own, w_size, w_honest, w_prop, w_new, w_age, w_score, *w_kind = rng.agent_words(
        rng.stage_seeds(key, 0, rng.ORG_POPULATION, 7 + len(CHEATS)), fi, 7 + len(CHEATS)
    )
    sector = np.repeat(np.arange(S), np.diff(o.sector_starts)).astype(np.uint8)
    honest = rng.unit(w_honest) < p.honest_share
    # a dishonest firm's propensity to each kind of cheating: lognormal (mean 1), a shared
    # factor (its character) and one of its own per kind, correlated by propensity_correlation
    rho = p.prop_corr
    z0 = _normal(w_prop)
    prop = jnp.stack(
        [
            jnp.exp(p.prop_sigma * (rho * z0 + jnp.sqrt(1 - rho**2) * _normal(w)))
            * jnp.exp(-0.5 * p.prop_sigma**2)
            for w in w_kind
        ]
    )
    prop = jnp.where(honest[None, :], 0.0, prop)
    size = _lognormal(w_size, p.size_sigma)
    new = rng.unit(w_new) < p.new_share
    age = jnp.where(
        new, rng.unit(w_age) * p.new_days, p.new_days + 1 + rng.unit(w_age) * 3650.0
    ).astype(jnp.int32)
    init = jnp.round(p.score_sigma * jax.scipy.special.ndtri(rng.unit(w_score) + 3e-8))
    founded = -age
    alive = jnp.ones(F, bool)
    if o.entry:  # free slots after each sector's initial firms: unborn, no record, no cash
        sec = jnp.asarray(sector, jnp.int32)
        alive = (jnp.arange(F) - p.sector_start[sec]) < p.sector_initial[sec].astype(jnp.int32)
        founded = jnp.where(alive, founded, UNBORN)
        init = jnp.where(alive, init, 0.0)
    ii = jnp.arange(NI, dtype=jnp.uint32)
    w_c, w_m, w_d = rng.agent_words(rng.stage_seeds(key, 1, rng.ORG_POPULATION, 3), ii, 3)
    party = jnp.arange(NI) >= NI - o.party
    # corruption and compliance: uniform around their means (clipped to [0, 1])
    corruption = jnp.clip(2.0 * p.corruption * rng.unit(w_c), 0.0, 1.0)
    compliance = jnp.clip(p.compliance + (rng.unit(w_m) - 0.5) * 0.2, 0.0, 1.0)
    firms = Firms(
        sector=jnp.asarray(sector),
        owner=(rng.unit(w_own) * agents).astype(jnp.int32).clip(0, agents - 1),
        size=size.astype(jnp.float32),
        propensity=prop.astype(jnp.float32),
        founded=founded.astype(jnp.int16),
        cash=jnp.where(alive, p.initial_cash * p.profit_day * size, 0.0).astype(jnp.float32),
        raw=jnp.zeros(F, jnp.int32),
        init=init.astype(jnp.int16),
        pending=jnp.zeros((2, F), jnp.int16),
        until=jnp.zeros((len(o.lists), F), jnp.int16),
        alive=alive,
        ever_listed=jnp.zeros(F, bool),
    )
    inst = Institutions(
        party=party,
        corruption=corruption.astype(jnp.float32),
        compliance=compliance.astype(jnp.float32),
        default_p=(p.inst_default_rate * _lognormal(w_d, jnp.float32(0.5))).astype(jnp.float32),
        arrears=jnp.zeros(NI, jnp.float32),
        raw=jnp.zeros(NI, jnp.int32),
    )
    # buyers start out expecting the sector's counterfeit share with no system
    expect = (1.0 - p.honest_share) * p.cf_rate
    return Orgs(
        firms=firms,
        inst=inst,
        perceived=jnp.broadcast_to(expect[:, None], (S, G + 1)).astype(jnp.float32),
        owner_flag=jnp.zeros(padded, bool),
        firm_counts=jnp.zeros((S, len(FIRM_METRICS) + G + len(o.lists)), jnp.float32),
        inst_counts=jnp.zeros(len(INST_METRICS), jnp.float32),
    )


@dataclass(frozen=True)
class Standing:
    """A firm's public standing, derived from the carried score and listing terms."""

    score: jax.Array  # int32 [F]
    grade: jax.Array  # int32 [F] index into spec.grades (0 without corporate credit)
    listed: jax.Array  # bool [L, F]
    any_listed: jax.Array  # bool [F]
    sanctions: jax.Array  # bool [K, F]
    memo: jax.Array  # bool [F] under a sanction that only a memorandum applies
    red: jax.Array  # bool [F]
    context: jax.Array  # int32 [F] this firm's standing as a partner: good, poor or listed


def standing(o: OrgSpec, p: OrgParams, firms: Firms, day: jax.Array) -> Standing:
    """Grades, listings and sanctions of every firm on ``day`` (firm-sized arrays only, so it
    is recomputed where needed instead of carried)."""
    F = o.firms
    if not o.corporate:
        z = jnp.zeros(F, bool)
        return Standing(
            score=jnp.zeros(F, jnp.int32),
            grade=jnp.zeros(F, jnp.int32),
            listed=jnp.zeros((0, F), bool),
            any_listed=z,
            sanctions=jnp.zeros((len(SANCTIONS), F), bool),
            memo=z,
            red=z,
            context=jnp.full(F, CTX["good"], jnp.int32),
        )
    score = jnp.clip(p.base_score + firms.init.astype(jnp.int32) + firms.raw, p.lo, p.hi)
    below = jnp.sum(score[:, None] < p.floors[None, :], axis=1)
    grade = p.regular[below]
    new = (day - firms.founded.astype(jnp.int32)) < p.new_days
    as_new = new & (p.new_grade >= 0) & (score >= p.new_min) & (grade < p.new_grade)
    grade = jnp.where(as_new, p.new_grade, grade)
    listed = (firms.until.astype(jnp.int32) > day) & firms.alive[None, :]
    any_listed = listed.any(axis=0)
    sanctions = (listed[:, None, :] & p.sanction[:, :, None]).any(axis=0)
    memo = (listed[:, None, :] & p.by_memo[:, :, None]).any(axis=(0, 1))
    red = p.red[grade] & ~any_listed & firms.alive
    public = sanctions[SANCTION["public_listing"]]
    context = jnp.where(public, CTX["listed"], jnp.where(p.poor[grade], CTX["poor"], CTX["good"]))
    return Standing(score, grade, listed, any_listed, sanctions, memo, red, context)


# Per-sector firm metrics (rows: sectors), then grade.<g> and listed.<list>; docs/metrics.md.
FIRM_METRICS = (
    "firms",
    "firms_out",
    "honest_firms",
    "honest_out",
    "purchases_wanted",
    "purchases",
    "counterfeit_sales",
    "buyer_harm",
    "b2b_trades",
    "b2b_refused",
    "unpaid_debts",
    "contract_breaches",
    "creditor_harm",
    "tax_evasions",
    "inspections",
    "violations_found",
    "false_findings",
    "fines",
    "bribes_offered",
    "bribes_accepted",
    "bribes_exposed",
    "listed",
    "honest_listed",
    "honest_ever_listed",
    "memo_sanctioned",
    "procurement_excluded",
    "redlisted",
    "loans_refused",
    "score_sum",
    "cash_sum",
    "firms_entered",
    "entries_blocked",
    "inspections_due",
    "hidden_violations",
    "counterfeits_exported",
    "harm_abroad",
)
INST_METRICS = (
    "institutions",
    "party_organs",
    "inst_defaults",
    "party_defaults",
    "orders",
    "orders_complied",
    "bribes_taken",
    "inst_score_sum",
    "arrears_sum",
    "owners_sanctioned",
    "inst_funding_cut",
    "promotions",
    "promotions_withheld",
)


def org_metric_names(o: OrgSpec) -> tuple[list[str], list[str]]:
    grades = [f"grade.{g}" for g in o.grades] or ["grade.none"]
    return list(FIRM_METRICS) + grades + [f"listed.{x}" for x in o.lists], list(INST_METRICS)


def by_sector(o: OrgSpec, xs: list[jax.Array]) -> jax.Array:
    """float32 [S, len(xs)] sums of per-firm values over each sector's static slice."""
    st = o.sector_starts
    m = jnp.stack([x.astype(jnp.float32) for x in xs])
    return jnp.stack([m[:, st[s] : st[s + 1]].sum(axis=1) for s in range(len(o.sectors))])


def born(o: OrgSpec, firms: Firms) -> jax.Array:
    """bool [F] firms founded by now (every firm without entry; free slots are not)."""
    if not o.entry:
        return jnp.ones(firms.founded.shape, bool)
    return firms.founded != UNBORN


def pick_born(u: jax.Array, is_born: jax.Array) -> jax.Array:
    """The firm index of a uniform draw ``u`` in [0, 1) among the firms founded by now."""
    cb = jnp.cumsum(is_born.astype(jnp.int32))
    k = jnp.minimum((u * cb[-1]).astype(jnp.int32), cb[-1] - 1)
    return jnp.searchsorted(cb, k, side="right").astype(jnp.int32)


def enter(
    o: OrgSpec, p: OrgParams, key: jax.Array, day: jax.Array, f: Firms
) -> tuple[Firms, jax.Array, jax.Array]:
    """New firms of the day (a Poisson number per sector, the steady rate plus any surge, by
    sector share) take their sector's next free slots; returns the firms, the entrants [F] and
    the entrants blocked by a full sector [S]."""
    S, F = len(o.sectors), o.firms
    sec = f.sector.astype(jnp.int32)
    is_born = born(o, f)
    n_born = jax.ops.segment_sum(is_born.astype(jnp.int32), sec, num_segments=S)
    slots = jnp.asarray(np.diff(o.sector_starts), jnp.int32)
    surge = (day >= p.surge_start) & (day < p.surge_end)
    rate = (p.entry_rate + jnp.where(surge, p.surge_rate, 0.0)) * p.sector_share
    k = jax.random.fold_in(jax.random.fold_in(key, day), rng.ENTRY)
    want = jax.random.poisson(k, rate, (S,)).astype(jnp.int32)
    got = jnp.minimum(want, slots - n_born)
    rank = jnp.arange(F) - (p.sector_start + n_born)[sec]
    new = ~is_born & (rank >= 0) & (rank < got[sec])
    f = replace(
        f,
        founded=jnp.where(new, day, f.founded.astype(jnp.int32)).astype(jnp.int16),
        alive=f.alive | new,
        cash=jnp.where(new, p.initial_cash * p.profit_day * f.size, f.cash),
    )
    return f, new, (want - got).astype(jnp.float32)
