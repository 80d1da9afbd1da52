"""The Python API: simulate a scenario and get a Result."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from socialcredit import __version__
from socialcredit.compile import Spec, compile_scenario
from socialcredit.credit import credit_sample, decode_events
from socialcredit.engine.population import homes
from socialcredit.engine.run import simulate_arrays
from socialcredit.engine.shard import to_host
from socialcredit.engine.stages.measure import absent_metrics, metric_names
from socialcredit.engine.state import TRAIT_CHILDREN, TRAIT_INFORMANT, TRAIT_IS_PARTNER, State
from socialcredit.memory import check_fits
from socialcredit.result import Result
from socialcredit.scenario.model import Scenario


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def simulate(
    scenario: Scenario,
    *,
    chunk_days: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    counterfactual: bool = False,
    devices: int | None = None,
) -> Result:
    """Run a scenario on the JAX devices and return its Result.

    The agent axis is sharded over ``devices`` devices (None: every device JAX sees, which is
    one unless there are several accelerators or hosts; see engine/shard.py). A sharded run
    gives the same results as a one-device run of the same seed.
    ``progress(days_done, days_total)`` is called after each chunk of days. With
    ``counterfactual=True`` the same population is also run with no system (every
    jurisdiction's programme removed) on the same random numbers, and attached as
    ``result.counterfactual``: differences between the two are the system's effect, not noise.
    """
    if counterfactual:
        result = simulate(scenario, chunk_days=chunk_days, progress=progress, devices=devices)
        result.counterfactual = simulate(
            counterfactual_of(scenario), chunk_days=chunk_days, devices=devices
        )
        return result
    from socialcredit.scenario import scenario_hash

    check_fits(scenario.population.agents, devices=devices, scenario=scenario)  # before allocating
    started, t0 = _now(), time.perf_counter()
    spec, params = compile_scenario(scenario)
    key = jax.random.key(scenario.seed)
    sample = credit_sample(spec.agents)
    state, raw, ev, sc, org_raw = simulate_arrays(
        spec, params, key, chunk_days, progress, sample, devices=devices
    )
    bases = np.asarray(params.base_score)
    metrics = tidy_metrics(spec, raw, bases, scenario.record.metrics_every)
    agents = snapshot(spec, state, params, key) if scenario.record.snapshot else None
    summary = summarize(spec, raw, bases)
    org_metrics = firms = None
    if spec.orgs is not None:  # businesses and institutions: their own tables
        from socialcredit.org_results import firms_table, summarize_orgs, tidy_org_metrics

        org_metrics = tidy_org_metrics(spec, org_raw, scenario.record.metrics_every)
        firms = firms_table(spec, params, state)
        summary["organisations"] = summarize_orgs(org_metrics, spec.orgs.grades)
    wall = time.perf_counter() - t0
    info = {
        "scenario_name": scenario.metadata.name,
        "scenario_hash": scenario_hash(scenario),
        "seed": scenario.seed,
        "version": __version__,
        "started": started,
        "ended": _now(),
        "wall_s": round(wall, 3),
        "agents": spec.agents,
        "days": spec.days,
        "status": "done",
        "device": str(jax.devices()[0].platform),
        "devices": len(jax.devices()) if devices is None else devices,
    }
    return Result(
        scenario=scenario,
        metrics=metrics,
        agents=agents,
        summary=summary,
        info=info,
        events=decode_events(spec, scenario, sample, ev, sc),
        sample=sample,
        org_metrics=org_metrics,
        firms=firms,
    )


def counterfactual_of(scenario: Scenario) -> Scenario:
    """The same scenario with no system: every programme removed, everything else kept.

    Organisations keep their market and institutions (the same economy) but lose
    inspections, ratings and listings."""
    data = scenario.model_dump()
    if data.get("organisations") is not None:
        data["organisations"] = {**data["organisations"], "inspections": None, "corporate": None}
    data["jurisdictions"] = [{**j, "programme": None} for j in data["jurisdictions"]]
    data["programmes"] = {}
    data["metadata"]["name"] = (scenario.metadata.name + "-counterfactual")[:60]
    return Scenario.model_validate(data, strict=False)


def tidy_metrics(spec: Spec, raw: np.ndarray, bases: np.ndarray, every: int = 1) -> pd.DataFrame:
    """[days, C, M] raw sums -> tidy rows (day, jurisdiction, group, metric, value).

    Counts stay counts (add them across cells); `agents` gives each cell's size; the mean
    score, risk and wealth of each cell are given as means.
    """
    names = metric_names(spec)
    days = np.arange(1, spec.days + 1)
    keep = (days % every == 0) | (days == spec.days)
    raw = raw[keep]
    days = days[keep]
    sizes = spec.cell_sizes().astype(np.float64)
    cj, cg = spec.cell_of()
    absent = absent_metrics(spec)
    frames = []
    for c in range(spec.n_cells):
        j = cj[c]
        tier_names = spec.tier_names[j]
        vals = {}
        for m, name in enumerate(names):
            if name.startswith("tier."):
                t = int(name.split(".")[1])
                if t >= len(tier_names):
                    continue
                name = f"tier.{tier_names[t]}"
            if name == "children_sum":
                vals["children"] = raw[:, c, m]
                continue
            if name.endswith("_sum"):
                name = "mean_" + name[: -len("_sum")]
                vals[name] = raw[:, c, m] / max(sizes[c], 1.0)
            else:
                vals[name] = raw[:, c, m]
        if "mean_score" in vals and tier_names:
            vals["mean_score"] = vals["mean_score"] + float(bases[j])
        elif not tier_names:
            vals.pop("mean_score", None)
            vals.pop("listed", None)
            vals.pop("newly_listed", None)
        for name in absent:  # mechanisms the scenario lacks: no rows, not zeros
            vals.pop(name, None)
        vals["agents"] = np.full(len(days), sizes[c])
        # one frame per cell, not per (cell, metric): 62 zones made thousands of small frames
        frames.append(
            pd.DataFrame(
                {
                    "day": np.tile(days.astype(np.int32), len(vals)),
                    "jurisdiction": spec.jurisdictions[j],
                    "group": spec.groups[cg[c]],
                    "metric": np.repeat(np.array(list(vals), dtype=object), len(days)),
                    "value": np.concatenate([np.asarray(v, np.float64) for v in vals.values()]),
                }
            )
        )
    df = pd.concat(frames, ignore_index=True)
    for col in ("jurisdiction", "group", "metric"):
        df[col] = df[col].astype(str)
    return df.sort_values(["day", "jurisdiction", "group", "metric"], kind="stable").reset_index(
        drop=True
    )


@partial(jax.jit, static_argnums=(0,))
def _derived(spec: Spec, params, state: State, key: jax.Array) -> dict[str, jax.Array]:
    """Score, tier and home of every slot, and the static traits the engine's state does not
    store (population.carried), in one compiled call: run op by op, these dozen small
    operations each compiled on first use and took 1.7 s of the main job."""
    from socialcredit.engine.population import synthesize
    from socialcredit.engine.stages.common import trust_of
    from socialcredit.engine.stages.listing import tiers
    from socialcredit.engine.stages.score import score

    # the state may be padded further for a device mesh (pad_for); spec.padded slots suffice
    n = spec.padded
    full = synthesize(spec, params, key, slim=False)  # the same people, every field stored
    out = {f: getattr(full, f) for f in ("jur", "group", "political", "religiosity")}
    trust = trust_of(spec, params, state)
    out["trust"] = jnp.broadcast_to(trust, state.events.shape)[:n]
    sc = score(spec, params, state)
    out["score"], out["tier"] = sc[:n], tiers(spec, params, state, sc)[:n]
    out["x"], out["y"] = homes(key, jnp.arange(n), params.side_m[out["jur"].astype(jnp.int32)])
    return out


def snapshot(spec: Spec, state: State, params, key: jax.Array) -> pd.DataFrame:
    """Final per-agent table."""
    n = spec.agents
    d = {k: np.asarray(to_host(a)[:n]) for k, a in _derived(spec, params, state, key).items()}
    sc, tier, x, y = d["score"], d["tier"], d["x"], d["y"]
    # drop padding slots (and gather the shards of other hosts, if any)
    state = jax.tree_util.tree_map(lambda a: to_host(a)[..., :n], state)
    jur = d["jur"]
    traits = np.asarray(state.traits)
    tier_np = np.asarray(tier)
    names = np.array(
        [tn[t] if t < len(tn) else "" for tn in spec.tier_names for t in range(spec.max_tiers)]
        or [""],
        dtype=object,
    )
    tier_name = names[jur.astype(np.int64) * spec.max_tiers + tier_np] if spec.tier_names else None
    df = pd.DataFrame(
        {
            "agent": np.arange(spec.agents, dtype=np.int64),
            "x": np.asarray(x),
            "y": np.asarray(y),
            "jurisdiction": pd.Categorical.from_codes(jur, list(spec.jurisdictions)),
            "group": pd.Categorical.from_codes(d["group"], list(spec.groups)),
            "score": np.asarray(sc),
            "tier": pd.Series(tier_name, dtype="string"),
            "listed": np.asarray(state.listed_since) >= 0,
            "listed_since": np.asarray(state.listed_since),
            "wealth": np.asarray(state.wealth),
            "risk": np.asarray(state.risk).astype(np.float32),
            "propensity": np.asarray(state.propensity).astype(np.float32),
            "political": d["political"].astype(np.float32),
            "religiosity": d["religiosity"].astype(np.float32),
            "trust": d["trust"].astype(np.float32),
            "informant": (traits & TRAIT_INFORMANT) != 0,
            "children": (traits & TRAIT_CHILDREN).astype(np.int8),
            "partner_of": np.where(
                (traits & TRAIT_IS_PARTNER) != 0, np.arange(spec.agents) - 1, -1
            ),
        }
    )
    return df


def summarize(spec: Spec, raw: np.ndarray, bases: np.ndarray) -> dict:
    """Small JSON-able summary: final tiers and listings, rates over the run, scores by group."""
    names = metric_names(spec)
    col = {n: i for i, n in enumerate(names)}
    sizes = spec.cell_sizes().astype(np.float64)
    cj, cg = spec.cell_of()
    total_days = raw.shape[0]
    agent_years = sizes.sum() * total_days / 365.0
    run_sum = raw.sum(axis=0)  # [C, M]
    final = raw[-1]  # [C, M]

    def over_cells(name: str, cells=None) -> float:
        cells = range(spec.n_cells) if cells is None else cells
        return float(sum(run_sum[c, col[name]] for c in cells))

    out: dict = {"agents": spec.agents, "days": spec.days, "jurisdictions": {}}
    for j, jname in enumerate(spec.jurisdictions):
        cells = [c for c in range(spec.n_cells) if cj[c] == j]
        n = sum(sizes[c] for c in cells)
        entry: dict = {"agents": int(n), "programme": bool(spec.tier_names[j])}
        if spec.tier_names[j]:
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
    if spec.budgets is not None:
        _budget_summary(spec, out, run_sum, final, col, total_days)
    if len(spec.jurisdictions) > 1:
        _spread_summary(spec, out, run_sum, final, col, total_days)
    return out


def _jurisdiction_sums(spec: Spec, per_cell: np.ndarray) -> np.ndarray:
    """[C] -> [J] sums over each jurisdiction's groups."""
    return per_cell.reshape(len(spec.jurisdictions), len(spec.groups)).sum(axis=1)


def _budget_summary(spec, out, run_sum, final, col, days) -> None:
    """Per jurisdiction: money spent per resident-year, on rewards and in all, rewards
    withheld per resident-year, and the share of full channel coverage the budget pays for."""
    n = np.maximum(_jurisdiction_sums(spec, spec.cell_sizes().astype(np.float64)), 1)
    years = days / 365.0
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
        "records_per_agent_year": _jurisdiction_sums(spec, records) / n / (days / 365.0),
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
