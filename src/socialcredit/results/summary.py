"""The small JSON-able summary of a run (summary.json): final tiers and listings, rates over
the run, scores by group, and with budgets or several jurisdictions their own figures."""

from __future__ import annotations

import numpy as np

from socialcredit.compile import Spec
from socialcredit.engine.stages.measure import audience_metric_names, metric_names
from socialcredit.units import DAYS_PER_YEAR


def summarize(spec: Spec, raw: np.ndarray, bases: np.ndarray) -> dict:
    """Small JSON-able summary: final tiers and listings, rates over the run, scores by group."""
    names = metric_names(spec)
    col = {n: i for i, n in enumerate(names)}
    sizes = spec.cell_sizes().astype(np.float64)
    cj, cg = spec.cell_of()
    total_days = raw.shape[0]
    agent_years = sizes.sum() * total_days / DAYS_PER_YEAR
    run_sum = raw.sum(axis=0)  # [C, M]
    final = raw[-1]  # [C, M]

    def over_cells(name: str, cells=None) -> float:
        cells = range(spec.n_cells) if cells is None else cells
        return float(sum(run_sum[c, col[name]] for c in cells))

    out: dict = {"agents": spec.agents, "days": spec.days, "jurisdictions": {}}
    for j, jname in enumerate(spec.jurisdictions):
        cells = [c for c in range(spec.n_cells) if cj[c] == j]
        n = sum(sizes[c] for c in cells)
        has_programme = bool(spec.tier_names[j])  # a place without one has no tiers
        entry: dict = {"agents": int(n), "programme": has_programme}
        if has_programme:
            entry["tier_shares"] = {
                t: float(sum(final[c, col[f"tier.{k}"]] for c in cells) / max(n, 1))
                for k, t in enumerate(spec.tier_names[j])
            }
            entry["listed_share"] = float(sum(final[c, col["listed"]] for c in cells) / max(n, 1))
            entry["mean_score_by_group"] = {
                spec.groups[cg[c]]: float(final[c, col["score_sum"]] / max(sizes[c], 1) + bases[j])
                for c in cells
                if sizes[c] > 0
            }
        out["jurisdictions"][jname] = entry
    out["acts_per_agent_year"] = {b: over_cells(f"acts.{b}") / agent_years for b in spec.behaviours}
    rec = sum(over_cells(f"records.{b}") for b in spec.behaviours)
    out["records_per_agent_year"] = rec / agent_years
    out["false_record_share"] = over_cells("false_records") / rec if rec else 0.0
    applied = over_cells("loans_applied")
    out["loan_refusal_rate"] = over_cells("loans_refused") / applied if applied else 0.0
    trips = over_cells("trips")
    out["trips_blocked_rate"] = over_cells("trips_blocked") / trips if trips else 0.0
    out["mean_risk"] = float(final[:, col["risk_sum"]].sum() / max(sizes.sum(), 1))
    out["mean_wealth"] = float(final[:, col["wealth_sum"]].sum() / max(sizes.sum(), 1))
    if spec.audiences is not None:  # viewer-days of shaming, unique then per audience
        out["shaming_viewers_per_agent_year"] = {
            name: over_cells(name) / agent_years for name in audience_metric_names(spec)
        }
    out["mean_trust"] = float(final[:, col["trust_sum"]].sum() / max(sizes.sum(), 1))
    if spec.approval is not None:
        _approval_summary(spec, out, final, col)
    if spec.budgets is not None:
        _budget_summary(spec, out, run_sum, final, col, total_days)
    if spec.detention is not None or spec.occupations is not None:
        _people_summary(spec, out, over_cells, agent_years, total_days)
    if len(spec.jurisdictions) > 1:
        _spread_summary(spec, out, run_sum, final, col, total_days)
    if spec.rewards is not None:
        out["rewards"] = _rewards_summary(spec, run_sum, col, total_days)
    return out


def _rewards_summary(spec, run_sum, col, days) -> dict:
    """Counted rewards over the run (stages/rewards.py): each metric's total, rewards given
    per agent-year, and the same by group (who benefits)."""
    from socialcredit.engine.stages.rewards import reward_metric_names

    sizes = spec.cell_sizes().astype(np.float64)
    _, cg = spec.cell_of()
    years = days / DAYS_PER_YEAR
    given = run_sum[:, col["rewards_given"]]
    by_group = {}
    for g, name in enumerate(spec.groups):
        cells = cg == g
        n = sizes[cells].sum()
        if n > 0:
            by_group[name] = float(given[cells].sum() / n / years)
    return {
        "totals": {m: float(run_sum[:, col[m]].sum()) for m in reward_metric_names(spec)},
        "given_per_agent_year": float(given.sum() / max(sizes.sum(), 1) / years),
        "given_per_agent_year_by_group": by_group,
    }


def _approval_summary(spec: Spec, out: dict, final: np.ndarray, col: dict) -> None:
    """Approval of the system on the last day: overall, and per place by group and by tier
    (the mean over the agents in it; tiers with no one are left out)."""
    sizes = spec.cell_sizes().astype(np.float64)
    cj, cg = spec.cell_of()
    out["mean_approval"] = float(final[:, col["approval_sum"]].sum() / max(sizes.sum(), 1))
    for j, jname in enumerate(spec.jurisdictions):
        cells = [c for c in range(spec.n_cells) if cj[c] == j]
        entry = out["jurisdictions"][jname]
        entry["approval_by_group"] = {
            spec.groups[cg[c]]: float(final[c, col["approval_sum"]] / sizes[c])
            for c in cells
            if sizes[c] > 0
        }
        by_tier = {}
        for k, t in enumerate(spec.tier_names[j]):
            n = sum(final[c, col[f"tier.{k}"]] for c in cells)
            if n > 0:
                by_tier[t] = float(sum(final[c, col[f"approval_tier.{k}"]] for c in cells) / n)
        entry["approval_by_tier"] = by_tier


def _jurisdiction_sums(spec: Spec, per_cell: np.ndarray) -> np.ndarray:
    """[C] -> [J] sums over each jurisdiction's groups."""
    return per_cell.reshape(len(spec.jurisdictions), len(spec.groups)).sum(axis=1)


def _budget_summary(spec, out, run_sum, final, col, days) -> None:
    """Per jurisdiction: money spent per resident-year, on rewards and in all, rewards
    withheld per resident-year, and the share of full channel coverage the budget pays for."""
    n = np.maximum(_jurisdiction_sums(spec, spec.cell_sizes().astype(np.float64)), 1)
    years = days / DAYS_PER_YEAR
    spend = _jurisdiction_sums(spec, run_sum[:, col["budget_spend"]]) / n / years
    rewards = _jurisdiction_sums(spec, run_sum[:, col["reward_spend"]]) / n / years
    withheld = _jurisdiction_sums(spec, run_sum[:, col["rewards_withheld"]]) / n / years
    coverage = _jurisdiction_sums(spec, final[:, col["coverage_sum"]]) / n
    for j, name in enumerate(spec.jurisdictions):
        out["jurisdictions"][name]["budget"] = {
            "spend_per_resident_year": float(spend[j]),
            "reward_spend_per_resident_year": float(rewards[j]),
            "rewards_withheld_per_resident_year": float(withheld[j]),
            "coverage": float(coverage[j]),
        }


def _spread_summary(spec, out, run_sum, final, col, days) -> None:
    """How much jurisdictions differ: per jurisdiction the share of agent-days sanctioned, and
    across jurisdictions the agent-weighted mean, standard deviation, minimum and maximum of
    it, of the listed share and of records per agent-year (what unifying pilots changes)."""
    n = np.maximum(_jurisdiction_sums(spec, spec.cell_sizes().astype(np.float64)), 1)
    B = spec.behaviours
    records = sum(run_sum[:, col[f"records.{b}"]] for b in B)
    values = {
        "sanctioned_share": _jurisdiction_sums(spec, run_sum[:, col["sanctioned"]]) / n / days,
        "listed_share": _jurisdiction_sums(spec, final[:, col["listed"]]) / n,
        "records_per_agent_year": _jurisdiction_sums(spec, records) / n / (days / DAYS_PER_YEAR),
    }
    for j, name in enumerate(spec.jurisdictions):
        out["jurisdictions"][name]["sanctioned_share"] = float(values["sanctioned_share"][j])
    w = n / n.sum()
    spread = {}
    for key, v in values.items():
        mean = float((w * v).sum())
        spread[key] = {
            "mean": mean,
            "sd": float(np.sqrt((w * (v - mean) ** 2).sum())),
            "min": float(v.min()),
            "max": float(v.max()),
        }
    out["across_jurisdictions"] = spread


def _people_summary(spec, out, over_cells, agent_years, days) -> None:
    """Detention (detentions begun, person-days held, child-days separated, per agent-year)
    and, per occupation, its speech, sanctions and blocked trips per member-year."""
    if spec.detention is not None:
        out["detention"] = {
            "detentions": over_cells("detentions"),
            "detentions_per_agent_year": over_cells("detentions") / agent_years,
            "days_held": over_cells("detained"),
            "child_days_separated": over_cells("children_separated"),
        }
    if spec.occupations is not None:
        occ = {}
        for o in spec.occupations.names:
            member_years = over_cells(f"members.{o}") / DAYS_PER_YEAR
            rate = {
                m: over_cells(f"{m}.{o}") / member_years if member_years else 0.0
                for m in ("speech", "sanctioned", "trips_blocked")
            }
            occ[o] = {
                "members": over_cells(f"members.{o}") / max(days, 1),
                "speech_per_member_year": rate["speech"],
                "sanctioned_days_per_member_year": rate["sanctioned"],
                "trips_blocked_per_member_year": rate["trips_blocked"],
            }
        out["occupations"] = occ
