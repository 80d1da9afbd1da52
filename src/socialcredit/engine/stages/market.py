"""market: citizens buy from businesses and businesses trade with each other.

Each citizen wants a purchase with chance `purchase_rate`, in a sector drawn by demand, and
considers `candidates` sellers of that sector drawn at random. A buyer who uses the public
rating acts as a discriminator (the reputation literature): it refuses sellers that are
publicly listed or below `buyer_min_grade` and takes the best-graded one left; a buyer who
does not takes the first candidate still in business. It then walks away with chance
min(1, wariness x the counterfeit share it has learned for that class of seller: per (sector,
grade) with ratings, per sector without). The seller cheats (sells a counterfeit) with its
sector's rate x its propensity x deterrence; a counterfeit costs the buyer `harm` prices of
wealth. Each firm also buys from one random firm with chance `b2b_rate`: a supplier may breach
the contract, a buyer may leave the debt unpaid (always, when out of cash); firms that use
ratings refuse publicly listed partners. Sales are summed per firm with one scatter over the
(few) firms; there is no loop over agents or firms.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import jax
import jax.numpy as jnp

from socialcredit import rng
from socialcredit.compile import Params, Spec
from socialcredit.engine.orgs import ACT, CTX, SANCTION, Orgs, Standing, born, pick_born
from socialcredit.engine.stages.common import lookup

BIG = 1 << 20


@dataclass(frozen=True)
class MarketFacts:
    """Per-firm facts of the day's market (F arrays) for the later stages and the metrics."""

    wanted: jax.Array  # float32 [S] purchases citizens wanted, by sector
    sales: jax.Array  # float32 [F]
    counterfeits: jax.Array  # float32 [F]
    buyer_harm: jax.Array  # float32 [F] wealth its counterfeits cost buyers
    trades: jax.Array  # bool [F] bought from a supplier today
    refused: jax.Array  # bool [F] refused a listed supplier
    unpaid: jax.Array  # bool [F] left a B2B debt unpaid
    breaches: jax.Array  # float32 [F] contracts it breached as a supplier
    creditor_harm: jax.Array  # float32 [F] what its partners' failures cost it
    tax: jax.Array  # bool [F] evaded tax today
    points: jax.Array  # int32 [F] rule-table points of today's B2B acts
    exported: jax.Array  # float32 [F] counterfeits it sold abroad (among `counterfeits`)
    harm_abroad: jax.Array  # float32 [F] wealth its exported counterfeits cost buyers abroad


def deterrence(spec: Spec, params: Params, st: Standing) -> jax.Array:
    """Firms' caution [F]: exp(-deterrence x q x (fine + reputation at stake) / 10), q the
    chance of being caught within a month (detection x min(1, 30 x inspection chance)); the
    reputation is at stake only where buyers use ratings."""
    o, p = spec.orgs, params.orgs
    if not o.inspections:
        return jnp.ones(st.grade.shape, jnp.float32)
    q = p.detection * jnp.minimum(1.0, 30.0 * inspection_chance(spec, params, st))
    stake = p.fine + p.reputation * p.use_ratings
    return jnp.exp(-p.insp_deterrence * q * stake / 10.0)


def inspection_chance(spec: Spec, params: Params, st: Standing) -> jax.Array:
    """Inspections per firm-day: more under the sanction `inspections`, fewer on the red list."""
    p = params.orgs
    rate = p.insp_rate * jnp.where(st.sanctions[SANCTION["inspections"]], p.insp_mult, 1.0)
    return rate * jnp.where(st.red, p.red_factor, 1.0)


def _b2b(spec, params, key, day, f, st, deter, is_born):
    """The day's B2B trades: each firm may buy from one random (founded) firm, which may
    refuse a listed supplier, breach, or go unpaid; returns the trades, refusals, unpaid
    debts, the buyers' gains, the suppliers' sums [F, 4], the creditors' harm, the points of
    the day's acts, and the two words left for tax and procurement."""
    o, p = spec.orgs, params.orgs
    F = o.firms
    fi = jnp.arange(F, dtype=jnp.uint32)
    w0, w1, w2, w3, w4, w5 = rng.agent_words(rng.stage_seeds(key, day, rng.B2B, 6), fi, 6)
    buys = f.alive & (w0 < rng.threshold(p.b2b_rate))
    if o.entry:
        sup = pick_born(rng.unit(w1), is_born)
    else:
        sup = jnp.minimum((rng.unit(w1) * F).astype(jnp.int32), F - 1)
    ok = buys & f.alive[sup] & (sup != jnp.arange(F))
    refuse = ok & (p.firms_use_ratings > 0) & st.sanctions[SANCTION["public_listing"]][sup]
    trade = ok & ~refuse
    breach = trade & (rng.unit(w2) < p.breach_rate * f.propensity[2, sup] * deter[sup])
    unpaid = trade & ((rng.unit(w3) < p.debt_rate * f.propensity[3] * deter) | (f.cash < 0))
    value = p.trade_value * p.profit_day * f.size
    clean = trade & ~breach & ~unpaid
    d_buyer = jnp.where(clean, p.margin * value, 0.0)
    d_buyer += jnp.where(breach & ~unpaid, -value, 0.0) + jnp.where(unpaid & ~breach, value, 0.0)
    d_sup = jnp.where(clean, p.margin * value, 0.0)
    d_sup += jnp.where(unpaid & ~breach, -value, 0.0) + jnp.where(breach & ~unpaid, value, 0.0)
    creditor = jnp.where(breach & ~unpaid, value, 0.0)  # the buyer paid for nothing
    lost_sup = jnp.where(unpaid & ~breach, value, 0.0)  # the supplier was not paid
    # points of the day's B2B acts, each in the context of the partner's standing
    C = len(CTX)
    rules = p.rules.reshape(-1)
    ctx_sup, ctx_buy = st.context[sup], st.context
    pts = jnp.where(refuse, rules[ACT["refuse"] * C + ctx_sup], 0)
    pts += jnp.where(trade & ~unpaid, rules[ACT["trade"] * C + ctx_sup], 0)
    pts += jnp.where(unpaid, rules[ACT["unpaid_debt"] * C + ctx_sup], 0)
    pts_sup = jnp.where(trade & ~breach, rules[ACT["trade"] * C + ctx_buy], 0)
    pts_sup += jnp.where(breach, rules[ACT["contract_breach"] * C + ctx_buy], 0)
    to_sup = jax.ops.segment_sum(
        jnp.stack([d_sup, lost_sup, breach.astype(jnp.float32), pts_sup.astype(jnp.float32)], 1),
        jnp.where(trade, sup, F),
        num_segments=F + 1,
    )[:F]
    points = pts + to_sup[:, 3].astype(jnp.int32)
    return trade, refuse, unpaid, d_buyer, to_sup, creditor, points, w4, w5


def market(
    spec: Spec,
    params: Params,
    key: jax.Array,
    day: jax.Array,
    wealth: jax.Array,
    orgs: Orgs,
    st: Standing,
) -> tuple[jax.Array, Orgs, MarketFacts]:
    """The day's purchases and B2B trades; returns citizens' wealth, the orgs and the facts."""
    o, p = spec.orgs, params.orgs
    f = orgs.firms
    F, S = o.firms, len(o.sectors)
    G1 = orgs.perceived.shape[1]
    k = o.candidates
    n = spec.padded
    w_want, w_will, w_cheat, *w_cand = rng.agent_words(
        rng.stage_seeds(key, day, rng.MARKET, 3 + k), jnp.arange(n, dtype=jnp.uint32), 3 + k
    )
    real = jnp.arange(n) < spec.agents
    want = (w_want < rng.threshold(p.purchase_rate)) & real
    u = rng.unit(w_want) / jnp.maximum(p.purchase_rate, 1e-12)  # uniform in [0, 1) if want
    sec = jnp.sum(u[:, None] >= p.demand_cum[None, :-1], axis=1).astype(jnp.int32)
    start = lookup(p.sector_start, sec)
    is_born = born(o, f)
    if o.entry:  # candidates among the firms founded by now (the first slots of the sector)
        founded = jax.ops.segment_sum(
            is_born.astype(jnp.float32), f.sector.astype(jnp.int32), num_segments=S
        )
        count = lookup(founded, sec)
    else:
        count = lookup(p.sector_count, sec)
    deter = deterrence(spec, params, st)
    cheat = lookup(p.cf_rate, f.sector.astype(jnp.int32)) * f.propensity[0] * deter
    use = p.use_ratings > 0
    acceptable = f.alive & p.accept[st.grade] & ~st.sanctions[SANCTION["public_listing"]]
    # one table per firm, gathered once per candidate: rank (lower is better; BIG refused)
    rank = jnp.where(use, jnp.where(acceptable, st.grade, BIG), jnp.where(f.alive, 0, BIG))
    best = jnp.full(n, BIG, jnp.int32)
    chosen = jnp.zeros(n, jnp.int32)
    for w in w_cand:
        c = start + jnp.minimum(
            (rng.unit(w) * count).astype(jnp.int32), count.astype(jnp.int32) - 1
        )
        r = rank[c]
        better = r < best
        chosen = jnp.where(better, c, chosen)
        best = jnp.where(better, r, best)
    found = want & (best < BIG)
    cls = jnp.where(use, st.grade[chosen], G1 - 1)
    expect = orgs.perceived.reshape(-1)[sec * G1 + cls]
    bought = found & (rng.unit(w_will) >= jnp.minimum(1.0, p.wariness * expect))
    fake = bought & (rng.unit(w_cheat) < cheat[chosen])
    harm = jnp.where(fake, lookup(p.harm, sec) * p.price, 0.0)
    cols = [want.astype(jnp.float32), fake.astype(jnp.float32)]
    if o.exports:  # a counterfeit sold abroad: the buyer at home gets a genuine good
        (w_exp,) = rng.agent_words(
            rng.stage_seeds(key, day, rng.EXPORT, 1), jnp.arange(n, dtype=jnp.uint32), 1
        )
        out = fake & (rng.unit(w_exp) < lookup(p.export_share, sec))
        cols += [out.astype(jnp.float32), jnp.where(out, harm, 0.0)]
        harm = jnp.where(out, 0.0, harm)
    wealth = jnp.maximum(wealth - harm, 0.0)
    # one scatter: sales go to their seller, unmet wants to bin F + sector, the rest to a dump
    idx = jnp.where(bought, chosen, jnp.where(want, F + sec, F + S))
    vals = jnp.stack([*cols[:2], harm, *cols[2:]], axis=1)
    sums = jax.ops.segment_sum(vals, idx, num_segments=F + S + 1)
    sales, fakes, harm_f = sums[:F, 0], sums[:F, 1], sums[:F, 2]
    if o.exports:
        exported, harm_abroad = sums[:F, 3], sums[:F, 4]
    else:
        exported = harm_abroad = jnp.zeros(F, jnp.float32)
    wanted = jax.ops.segment_sum(sales, f.sector.astype(jnp.int32), num_segments=S)
    wanted = wanted + sums[F : F + S, 0]

    # B2B: each firm may buy from one random firm
    trade, refuse, unpaid, d_buyer, to_sup, creditor, points, w4, w5 = _b2b(
        spec, params, key, day, f, st, deter, is_born
    )

    # tax evasion (hidden until an inspection), procurement, fixed costs
    tax = f.alive & (rng.unit(w4) < p.tax_rate * f.propensity[1] * deter)
    excluded = st.sanctions[SANCTION["procurement_exclusion"]]
    won = f.alive & ~excluded & (rng.unit(w5) < p.procurement_rate)
    income = (sales * p.margin + fakes * p.cf_gain) * p.price
    income += jnp.where(won, p.procurement_value * p.profit_day, 0.0)
    income += jnp.where(tax, p.profit_day * f.size, 0.0)
    cost = lookup(p.fixed_cost, f.sector.astype(jnp.int32))
    cash = f.cash + jnp.where(f.alive, income - cost + d_buyer + to_sup[:, 0], 0.0)
    pending = f.pending.at[0].add(fakes.astype(jnp.int16)).at[1].add(tax.astype(jnp.int16))
    facts = MarketFacts(
        wanted=wanted,
        sales=sales,
        counterfeits=fakes,
        buyer_harm=harm_f,
        trades=trade,
        refused=refuse,
        unpaid=unpaid,
        breaches=to_sup[:, 2],
        creditor_harm=creditor + to_sup[:, 1],
        tax=tax,
        points=points,
        exported=exported,
        harm_abroad=harm_abroad,
    )
    return wealth, replace(orgs, firms=replace(f, cash=cash, pending=pending)), facts


def learn_market(spec: Spec, params: Params, orgs: Orgs, st: Standing, facts: MarketFacts) -> Orgs:
    """Buyers update the counterfeit share they expect of each (sector, grade) class from what
    was sold today (of the whole sector where they do not use ratings)."""
    o, p = spec.orgs, params.orgs
    S, G1 = orgs.perceived.shape
    sec = orgs.firms.sector.astype(jnp.int32)
    cls = sec * G1 + jnp.minimum(st.grade, G1 - 2)
    # buyers at home see only the counterfeits sold at home
    both = jnp.stack([facts.sales, facts.counterfeits - facts.exported], 1)
    per_grade = jax.ops.segment_sum(both, cls, num_segments=S * G1).reshape(S, G1, 2)
    per_sector = per_grade.sum(axis=1)  # [S, 2]
    sums = per_grade.at[:, G1 - 1].set(per_sector)
    seen = sums[..., 0] > 0
    share = sums[..., 1] / jnp.maximum(sums[..., 0], 1.0)
    new = jnp.where(seen, (1 - p.learn) * orgs.perceived + p.learn * share, orgs.perceived)
    del o
    return replace(orgs, perceived=new.astype(jnp.float32))
