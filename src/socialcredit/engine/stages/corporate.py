"""corporate: the day of the organisations, ending in corporate credit.

Order: standing (from the carried score and listing terms) -> market -> inspect -> assessment
(the rule table's points are added to the score) -> listings (a list takes firms whose act of
the day or grade it names, for its term) -> loans and exits (a firm out of cash needs a loan;
refused, under the sanction `loan_refusal` or by chance, it leaves the market) -> owners (the
citizens who own a firm whose listing carries `owner_sanction`, read by `consequences` the
next day) -> the day's metrics, kept in the carry for `measure` to copy out.

Joint punishment: the sanctions on a listed firm are those of its list's own sector and of
every sector that signed a memorandum on that list (compile/orgs.py folds both into one table).
"""

from __future__ import annotations

from dataclasses import replace

import jax
import jax.numpy as jnp

from socialcredit import rng
from socialcredit.compile import Params, Spec
from socialcredit.engine.orgs import (
    ACT,
    FIRM_METRICS,
    INST_METRICS,
    SANCTION,
    Orgs,
    born,
    by_sector,
    enter,
    standing,
)
from socialcredit.engine.stages.inspect import inspect
from socialcredit.engine.stages.market import learn_market, market
from socialcredit.engine.state import Context, State, Today


def organisations(
    spec: Spec, params: Params, key: jax.Array, day: jax.Array, state: State
) -> State:
    """One day of businesses, institutions and corporate credit."""
    o, p = spec.orgs, params.orgs
    orgs: Orgs = state.orgs
    F = o.firms
    if o.entry:  # new firms take free slots before the day's market
        firms, entered, blocked = enter(o, p, key, day, orgs.firms)
        orgs = replace(orgs, firms=firms)
    else:
        entered, blocked = jnp.zeros(F, bool), jnp.zeros(len(o.sectors), jnp.float32)
    st = standing(o, p, orgs.firms, day)
    wealth, orgs, mk = market(spec, params, key, day, state.wealth, orgs, st)
    orgs = learn_market(spec, params, orgs, st, mk)
    orgs, ip = inspect(spec, params, key, day, orgs, st)
    f = orgs.firms

    # assessment and listings
    if o.corporate:
        raw = f.raw + jnp.where(f.alive, mk.points + ip.points, 0)
        did = {
            "counterfeit": ip.found_cf,
            "tax_evasion": ip.found_tax,
            "bribery": ip.exposed,
            "unpaid_debt": mk.unpaid,
            "contract_breach": mk.breaches > 0,
            "refuse": mk.refused,
            "trade": mk.trades,
            "inspection_passed": ip.inspected & ~ip.found_cf & ~ip.found_tax & ~ip.accepted,
        }
        f = replace(f, raw=raw)
        st_new = standing(o, p, f, day)
        rows = []
        for li in range(len(o.lists)):
            hit = p.list_grade[li][st_new.grade]
            for a, v in did.items():
                hit = hit | (p.list_act[li, ACT[a]] & v)
            hit = hit & f.alive
            end = (day + p.term[li]).astype(jnp.int16)
            rows.append(jnp.where(hit, jnp.maximum(f.until[li], end), f.until[li]))
        until = jnp.stack(rows) if rows else f.until
        f = replace(f, until=until)
    st_new = standing(o, p, f, day + 1)  # the standing tomorrow's market sees

    # loans and exits
    (w_loan,) = rng.agent_words(
        rng.stage_seeds(key, day, rng.LOANS, 1), jnp.arange(F, dtype=jnp.uint32), 1
    )
    need = f.alive & (f.cash < 0)
    refused_loan = need & (
        st_new.sanctions[SANCTION["loan_refusal"]] | (rng.unit(w_loan) >= p.loan_approval)
    )
    granted = need & ~refused_loan
    cash = jnp.where(granted, p.initial_cash * p.profit_day * f.size, f.cash)
    alive = f.alive & ~refused_loan
    f = replace(f, cash=cash, alive=alive, ever_listed=f.ever_listed | (st_new.any_listed & alive))
    st_new = standing(o, p, f, day + 1)

    # owners: citizens sanctioned for the listing of a firm they own (read tomorrow)
    owner_flag = orgs.owner_flag
    if o.corporate:
        hit = st_new.sanctions[SANCTION["owner_sanction"]] & f.alive
        owner_flag = jnp.zeros(spec.padded, bool).at[f.owner].max(hit)

    is_born = born(o, f)
    honest = (f.propensity[0] == 0) & is_born
    firm_vals = [
        f.alive,
        ~f.alive & is_born,
        honest,
        honest & ~f.alive,
        jnp.zeros(F),  # purchases_wanted: by sector below
        mk.sales,
        mk.counterfeits,
        mk.buyer_harm,
        mk.trades,
        mk.refused,
        mk.unpaid,
        mk.breaches,
        mk.creditor_harm,
        mk.tax,
        ip.inspected,
        ip.found_cf | ip.found_tax,
        ip.false_find,
        ip.fines,
        ip.offered,
        ip.accepted,
        ip.exposed,
        st_new.any_listed,
        st_new.any_listed & honest,
        f.ever_listed & honest,
        st_new.memo & f.alive,
        st_new.sanctions[SANCTION["procurement_exclusion"]] & f.alive,
        st_new.red & f.alive,
        refused_loan,
        jnp.where(f.alive, st_new.score, 0),
        jnp.where(f.alive, f.cash, 0.0),
        entered,
        jnp.zeros(F),  # entries_blocked: by sector below
        ip.due,
        jnp.where(f.alive, f.pending.astype(jnp.float32).sum(axis=0), 0.0),
        mk.exported,
        mk.harm_abroad,
    ]
    G = max(len(o.grades), 1)
    firm_vals += [(st_new.grade == g) & f.alive for g in range(G)]
    firm_vals += [st_new.listed[li] for li in range(len(o.lists))]
    counts = by_sector(o, firm_vals)
    counts = counts.at[:, 4].set(mk.wanted)
    counts = counts.at[:, FIRM_METRICS.index("entries_blocked")].set(blocked)
    inst = {**ip.inst, "owners_sanctioned": owner_flag.sum()}
    inst_counts = jnp.stack([jnp.asarray(inst[m], jnp.float32) for m in INST_METRICS])
    orgs = replace(
        orgs, firms=f, owner_flag=owner_flag, firm_counts=counts, inst_counts=inst_counts
    )
    return replace(state, wealth=wealth, orgs=orgs)


def trade(ctx: Context, state: State, today: Today) -> tuple[State, Today]:
    """Stage: one day of businesses, institutions and corporate credit."""
    return organisations(ctx.spec, ctx.params, ctx.key, ctx.day, state), today
