"""The final per-agent table of a run (agents.parquet): the engine's state at the end, with
the score, tier, home and static traits it does not store derived on the device."""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from socialcredit.compile import Spec
from socialcredit.engine.population import homes
from socialcredit.engine.shard import to_host
from socialcredit.engine.state import TRAIT_CHILDREN, TRAIT_INFORMANT, TRAIT_IS_PARTNER, State


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
    tier_name = names[jur.astype(np.int64) * spec.max_tiers + tier_np]
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
    if spec.occupations is not None:  # issue 15: each agent's occupation
        codes = np.asarray(state.people.occupation)
        df["occupation"] = pd.Categorical.from_codes(codes, list(spec.occupations.names))
    if spec.detention is not None:  # the day after the last detention ends (0: never held)
        df["detained_until"] = np.asarray(state.people.until)
    return df
