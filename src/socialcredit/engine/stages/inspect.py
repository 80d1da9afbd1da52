"""inspect: institutions inspect firms, fine them and rate them; bribes buy leniency. Also
what institutions do themselves: repay debts or default, follow orders from above or not.

A firm is inspected with its inspection chance (more under the sanction `inspections`, fewer
on the red list) by its institution (firm f -> institution f mod the non-party ones). A
dishonest firm with hidden violations offers a bribe with chance `bribe_propensity`; the
institution accepts with its corruption (restrained by deterrence where it is scored), which
makes the inspection lenient, and an audit exposes an accepted bribe with chance `audit_rate`.
Otherwise each kind of hidden violation is found with chance `detection`, and a firm with
nothing hidden is wrongly found selling counterfeits with chance `false_positive_rate`.
Findings are fined; an inspection clears what was hidden. Party organs act like other
institutions but are never scored, so nothing restrains them (the essay's exemption).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import jax
import jax.numpy as jnp

from socialcredit import rng
from socialcredit.compile import Params, Spec
from socialcredit.engine.orgs import ACT, CTX, Orgs, Standing, born, pick_born
from socialcredit.engine.stages.market import inspection_chance


@dataclass(frozen=True)
class InspectFacts:
    inspected: jax.Array  # bool [F]
    due: jax.Array  # bool [F] an inspection was due (inspected where capacity allowed)
    found_cf: jax.Array  # bool [F] a counterfeit finding (true or false)
    found_tax: jax.Array  # bool [F]
    false_find: jax.Array  # bool [F]
    offered: jax.Array  # bool [F]
    accepted: jax.Array  # bool [F]
    exposed: jax.Array  # bool [F]
    fines: jax.Array  # float32 [F]
    points: jax.Array  # int32 [F]
    inst: dict  # institution counts of the day (scalars)


def _none(params: Params, act: str) -> jax.Array:
    return params.orgs.rules[ACT[act], CTX["none"]]


def _institutions(spec, params, key, day, f, ins, scored, taken, caught):
    """Institutions' day: defaults and repayments of arrears (cut below the tier), orders
    from above and compliance (moved by the score's threat), promotions (withheld below the
    tier); returns the firms (creditors paid or not), the institutions and the day's counts."""
    o, p = spec.orgs, params.orgs
    F, NI = o.firms, o.institutions
    wi = rng.agent_words(
        rng.stage_seeds(key, day, rng.INSTITUTIONS, 4), jnp.arange(NI, dtype=jnp.uint32), 4
    )
    restrain_default = jnp.exp(-p.inst_deterrence * jnp.abs(_none(params, "default")) / 10.0)
    p_def = ins.default_p * jnp.where(scored, restrain_default, 1.0)
    default = rng.unit(wi[0]) < p_def
    order = rng.unit(wi[1]) < p.order_rate
    # the threat of the score and its sanctions moves a scored institution to comply
    # (exactly its own compliance where compliance_response is 0)
    stake = jnp.abs(_none(params, "noncompliance")) + jnp.maximum(_none(params, "compliance"), 0)
    threat = stake / 10.0 + (p.funding_cut + p.withhold_promotion if o.inst_sanctions else 0.0)
    pull = (1.0 - ins.compliance) * (1.0 - jnp.exp(-p.compliance_response * threat))
    comply_p = jnp.where(scored, ins.compliance + pull, ins.compliance)
    complied = order & (rng.unit(wi[2]) < comply_p)
    amount = p.default_amount * p.profit_day
    if o.entry:
        creditor = pick_born(rng.unit(wi[3]), born(o, f))
    else:
        creditor = jnp.minimum((rng.unit(wi[3]) * F).astype(jnp.int32), F - 1)
    # institutions below the tier: funding cut (they repay less), promotions withheld
    under = scored & (jnp.clip(p.base_score + ins.raw, p.lo, p.hi) < p.tier_below)
    under = under & o.inst_sanctions
    repaid = p.repayment * ins.arrears  # arrears paid back today
    if o.inst_sanctions:
        repaid = repaid * jnp.where(under, 1.0 - p.funding_cut, 1.0)
    (wp,) = rng.agent_words(
        rng.stage_seeds(key, day, rng.PROMOTION, 1), jnp.arange(NI, dtype=jnp.uint32), 1
    )
    promotion = rng.unit(wp) < p.promotion_rate
    withheld = promotion & under & (p.withhold_promotion > 0)
    owed = jnp.where(default, amount, 0.0) - repaid
    unpaid = jax.ops.segment_sum(owed, creditor, num_segments=F)
    f = replace(f, cash=f.cash - jnp.where(f.alive, unpaid, 0.0))
    inst_pts = (
        jnp.where(default, _none(params, "default"), 0)
        + caught * _none(params, "bribe_taken")
        + jnp.where(complied, _none(params, "compliance"), 0)
        + jnp.where(order & ~complied, _none(params, "noncompliance"), 0)
    )
    ins = replace(
        ins,
        raw=ins.raw + jnp.where(scored, inst_pts, 0),
        arrears=ins.arrears - repaid + jnp.where(default, amount, 0.0),
    )
    sc = jnp.clip(p.base_score + ins.raw, p.lo, p.hi)
    inst = {
        "institutions": jnp.float32(NI),
        "party_organs": ins.party.sum(),
        "inst_defaults": default.sum(),
        "party_defaults": (default & ins.party).sum(),
        "orders": order.sum(),
        "orders_complied": complied.sum(),
        "bribes_taken": taken.sum(),
        "inst_score_sum": jnp.where(scored, sc, 0).sum(),
        "arrears_sum": ins.arrears.sum(),
        "inst_funding_cut": under.sum(),
        "promotions": (promotion & ~withheld).sum(),
        "promotions_withheld": withheld.sum(),
    }
    return f, ins, inst


def inspect(
    spec: Spec, params: Params, key: jax.Array, day: jax.Array, orgs: Orgs, st: Standing
) -> tuple[Orgs, InspectFacts]:
    """The day's inspections (with ``st``, the standing the market saw) and institutions'
    repayments (missed ones add to arrears, a share of which is paid back each day) and orders;
    returns the orgs and the facts for assessment and metrics."""
    o, p = spec.orgs, params.orgs
    f, ins = orgs.firms, orgs.inst
    F, NI = o.firms, o.institutions
    scored = (~ins.party) & p.inst_scored & o.corporate
    zf = jnp.zeros(F, bool)
    if o.inspections:
        w = rng.agent_words(
            rng.stage_seeds(key, day, rng.INSPECT, 6), jnp.arange(F, dtype=jnp.uint32), 6
        )
        due = f.alive & (rng.unit(w[0]) < inspection_chance(spec, params, st))
        who = jnp.arange(F) % o.gov
        inspected = within_capacity(spec, params, key, day, due, who) if o.capacity else due
        hidden = (f.pending > 0).any(axis=0)
        offered = inspected & hidden & (f.propensity[0] > 0) & (rng.unit(w[1]) < p.bribe_prop)
        restraint = jnp.exp(-p.inst_deterrence * jnp.abs(_none(params, "bribe_taken")) / 10.0)
        corr = ins.corruption * jnp.where(scored, restraint, 1.0)
        accepted = offered & (rng.unit(w[2]) < corr[who])
        exposed = accepted & (rng.unit(w[3]) < p.audit_rate)
        strict = inspected & ~accepted
        found_real = strict & (f.pending[0] > 0) & (rng.unit(w[4]) < p.detection)
        found_tax = strict & (f.pending[1] > 0) & (rng.unit(w[5]) < p.detection)
        false_find = strict & ~hidden & (rng.unit(w[4]) < p.false_find)
        found_cf = found_real | false_find
        clean = strict & ~found_cf & ~found_tax
        fines = (found_cf.astype(jnp.float32) + found_tax) * p.fine * p.profit_day * f.size
        cash = f.cash - fines - jnp.where(accepted, p.bribe * p.profit_day * f.size, 0.0)
        pending = jnp.where(inspected[None, :], jnp.int16(0), f.pending)
        points = (
            jnp.where(found_cf, _none(params, "counterfeit"), 0)
            + jnp.where(found_tax, _none(params, "tax_evasion"), 0)
            + jnp.where(exposed, _none(params, "bribery"), 0)
            + jnp.where(clean, _none(params, "inspection_passed"), 0)
        )
        taken = jax.ops.segment_sum(accepted.astype(jnp.int32), who, num_segments=NI)
        caught = jax.ops.segment_sum(exposed.astype(jnp.int32), who, num_segments=NI)
        f = replace(f, cash=cash, pending=pending)
    else:
        inspected = due = found_cf = found_tax = false_find = offered = accepted = exposed = zf
        fines = jnp.zeros(F, jnp.float32)
        points = jnp.zeros(F, jnp.int32)
        taken = caught = jnp.zeros(NI, jnp.int32)

    # institutions: repayments and orders from above
    f, ins, inst = _institutions(spec, params, key, day, f, ins, scored, taken, caught)
    facts = InspectFacts(
        inspected,
        due,
        found_cf,
        found_tax,
        false_find,
        offered,
        accepted,
        exposed,
        fines,
        points,
        inst,
    )
    return replace(orgs, firms=f, inst=ins), facts


def within_capacity(
    spec: Spec, params: Params, key: jax.Array, day: jax.Array, due: jax.Array, who: jax.Array
) -> jax.Array:
    """bool [F]: the due inspections each regulator can make today, at most `capacity`, drawn
    at random among its due ones (one sort by regulator and a random priority)."""
    o, p = spec.orgs, params.orgs
    F = o.firms
    (w,) = rng.agent_words(
        rng.stage_seeds(key, day, rng.CAPACITY, 1), jnp.arange(F, dtype=jnp.uint32), 1
    )
    group = jnp.where(due, who, o.gov)  # not due: after every regulator
    order = jnp.lexsort((rng.unit(w), group))
    g = group[order]
    first = jnp.searchsorted(g, g, side="left")
    ok = (g < o.gov) & ((jnp.arange(F) - first) < p.capacity)
    return jnp.zeros(F, bool).at[order].set(ok)
