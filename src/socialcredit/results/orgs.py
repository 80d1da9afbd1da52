"""Organisations in a run's results: the tidy daily table, the final firm table, the summary.

`org_metrics` has one row per (day, sector, metric): firm metrics per sector of the market,
institution metrics under the sector name `institutions` (docs/metrics.md). `firms` has one
row per business at the end of the run.
"""

from __future__ import annotations

import jax
import numpy as np
import pandas as pd

from socialcredit.compile import Params, Spec
from socialcredit.engine.orgs import CHEATS, UNBORN, org_metric_names, standing
from socialcredit.scenario.orgs import SANCTIONS

ORG_COLUMNS = ["day", "sector", "metric", "value"]
INSTITUTIONS = "institutions"
# metrics that need corporate credit (grades, lists, scores); absent without it
_CORPORATE_ONLY = ("mean_score", "mean_inst_score")


def tidy_org_metrics(spec: Spec, raw: np.ndarray, every: int = 1) -> pd.DataFrame:
    """[days, S * M_f + M_i] -> tidy rows (day, sector, metric, value)."""
    o = spec.orgs
    firm_names, inst_names = org_metric_names(o)
    S, Mf = len(o.sectors), len(firm_names)
    days = np.arange(1, spec.days + 1)
    keep = (days % every == 0) | (days == spec.days)
    raw, days = raw[keep].astype(np.float64), days[keep]
    firm = raw[:, : S * Mf].reshape(len(days), S, Mf)
    inst = raw[:, S * Mf :]
    frames = []

    def add(sector: str, name: str, v: np.ndarray) -> None:
        frames.append(
            pd.DataFrame(
                {"day": days.astype(np.int32), "sector": sector, "metric": name, "value": v}
            )
        )

    for s, sname in enumerate(o.sectors):
        cols = {n: firm[:, s, m] for m, n in enumerate(firm_names)}
        alive = np.maximum(cols["firms"], 1.0)
        cols["mean_score"] = cols.pop("score_sum") / alive
        cols["mean_cash"] = cols.pop("cash_sum") / alive
        if not o.corporate:
            for n in [n for n in cols if n.startswith(("grade.", "listed."))] + ["mean_score"]:
                cols.pop(n)
        for n, v in cols.items():
            add(sname, n, v)
    icols = {n: inst[:, m] for m, n in enumerate(inst_names)}
    scored = max(o.institutions - o.party, 1)
    icols["mean_inst_score"] = icols.pop("inst_score_sum") / scored
    icols["arrears"] = icols.pop("arrears_sum")
    if not o.corporate:
        icols.pop("mean_inst_score")
    for n, v in icols.items():
        add(INSTITUTIONS, n, v)
    df = pd.concat(frames, ignore_index=True)
    return df.sort_values(["day", "sector", "metric"], kind="stable").reset_index(drop=True)


def firms_table(spec: Spec, params: Params, state) -> pd.DataFrame:
    """One row per business at the end of the run (the corporate register)."""
    o = spec.orgs
    f = jax.device_get(state.orgs.firms)
    st = jax.device_get(standing(o, params.orgs, state.orgs.firms, np.int32(spec.days)))
    df = pd.DataFrame(
        {
            "firm": np.arange(o.firms, dtype=np.int64),
            "sector": pd.Categorical.from_codes(np.asarray(f.sector), list(o.sectors)),
            "owner": np.asarray(f.owner).astype(np.int64),
            "size": np.asarray(f.size),
            "honest": np.asarray(f.propensity[0]) == 0,
            **{f"propensity_{k}": np.asarray(f.propensity[i]) for i, k in enumerate(CHEATS)},
            "founded": np.asarray(f.founded).astype(np.int32),
            "cash": np.asarray(f.cash),
            "alive": np.asarray(f.alive),
            "ever_listed": np.asarray(f.ever_listed),
        }
    )
    if o.corporate:
        df["score"] = np.asarray(st.score)
        df["grade"] = pd.Categorical.from_codes(np.asarray(st.grade), list(o.grades))
        for li, name in enumerate(o.lists):
            df[f"listed_{name}"] = np.asarray(st.listed[li])
        for k, name in enumerate(SANCTIONS):
            df[f"sanction_{name}"] = np.asarray(st.sanctions[k])
        df["redlisted"] = np.asarray(st.red)
        df["memo_sanctioned"] = np.asarray(st.memo)
    if o.entry:  # free slots no firm has taken are not businesses
        df = df[df["founded"] != UNBORN].reset_index(drop=True)
    return df


def summarize_orgs(org: pd.DataFrame, grade_names: tuple[str, ...] = ()) -> dict:
    """Market and corporate figures over the run (formulas in docs/metrics.md)."""
    firms = org[org["sector"] != INSTITUTIONS]
    tot = firms.groupby("metric")["value"].sum()
    last = firms[firms["day"] == firms["day"].max()].groupby("metric")["value"].sum()
    inst = org[org["sector"] == INSTITUTIONS]
    itot = inst.groupby("metric")["value"].sum()

    def ratio(a: float, b: float) -> float:
        return float(a / b) if b else 0.0

    n_firms = last.get("firms", 0.0) + last.get("firms_out", 0.0)
    out = {
        "firms": int(n_firms),
        "counterfeit_rate": ratio(tot.get("counterfeit_sales", 0), tot.get("purchases", 0)),
        "market_trust": ratio(tot.get("purchases", 0), tot.get("purchases_wanted", 0)),
        "buyer_harm": float(tot.get("buyer_harm", 0.0)),
        "debt_default_rate": ratio(tot.get("unpaid_debts", 0), tot.get("b2b_trades", 0)),
        "bribes_accepted": float(tot.get("bribes_accepted", 0.0)),
        "firms_out_share": ratio(last.get("firms_out", 0), n_firms),
        "honest_out_share": ratio(last.get("honest_out", 0), last.get("honest_firms", 0)),
        "honest_wrongly_listed_share": ratio(
            last.get("honest_ever_listed", 0), last.get("honest_firms", 0)
        ),
        "listed_share": ratio(last.get("listed", 0), last.get("firms", 0)),
        "institution_defaults": float(itot.get("inst_defaults", 0.0)),
        "party_organ_defaults": float(itot.get("party_defaults", 0.0)),
        # issue 15: entry, inspection capacity, exports, institutions' consequences
        "firms_entered": int(tot.get("firms_entered", 0)),
        "entries_blocked": int(tot.get("entries_blocked", 0)),
        "inspection_coverage": ratio(tot.get("inspections", 0), tot.get("inspections_due", 0)),
        "hidden_violations": float(last.get("hidden_violations", 0.0)),
        "counterfeits_exported": float(tot.get("counterfeits_exported", 0.0)),
        "harm_abroad": float(tot.get("harm_abroad", 0.0)),
        "orders_complied_share": ratio(itot.get("orders_complied", 0), itot.get("orders", 0)),
        "institution_funding_cut_days": float(itot.get("inst_funding_cut", 0.0)),
        "promotions_withheld": float(itot.get("promotions_withheld", 0.0)),
    }
    if grade_names:
        out["grade_shares"] = {
            g: ratio(last.get(f"grade.{g}", 0.0), last.get("firms", 0)) for g in grade_names
        }
    return out
