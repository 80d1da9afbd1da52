"""Compile the deadbeat map: who is shown, the app users, the grid of the spatial index
(stages/publicize.py)."""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from socialcredit.compile.core import Tables
from socialcredit.scenario.model import Scenario

# Golden-ratio fraction: agent i uses the map app when frac((i + 1) * PHI) < app_share, a fixed,
# evenly spread set (the same for every seed, so replicates never recompile).
PHI = 0.6180339887498949
MAP_GRID_MAX = 1024  # cells per side at most; larger cells than the radius stay exact


@dataclass(frozen=True)
class MapSpec:
    grid: tuple[int, ...]  # cells per side of each jurisdiction's map grid
    users: int  # app users (a fixed set of agents)
    looks: int  # users who look each day: round(lookups_per_day * users)


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class MapParams:
    on_map: jax.Array  # [J, T+1] bool: the tier (index T: listing) is shown on the map
    users: jax.Array  # [U] int32 indices of the app users
    radius: jax.Array  # [] metres
    rate: jax.Array  # [] look-ups per user and day (its count is MapSpec.looks)
    wander: jax.Array  # [] half-side of the daily displacement, metres
    tip: jax.Array  # [] chance per sighting of a tip-off
    enforce: jax.Array  # [] chance a tip-off enforces payment


def map_users(agents: int, share: float) -> np.ndarray:
    """Indices of the app users: an evenly spread fixed share of the agents."""
    i = np.arange(agents, dtype=np.float64)
    return np.nonzero(np.modf((i + 1) * PHI)[0] < share)[0].astype(np.int32)


def compile_map(sc: Scenario, t: Tables) -> tuple[MapSpec | None, MapParams | None]:
    m = sc.map
    on_map = np.zeros((len(t.progs), t.T + 1), bool)
    for j, p in enumerate(t.progs):
        if p is not None:
            for name, c in p.consequences.items():
                on_map[j, t.tier_index(p, name)] = c.on_map
    if m is None or not on_map.any():
        return None, None
    f32 = np.float32
    sides = [np.sqrt(jj.area_km2) * 1000.0 for jj in sc.jurisdictions]
    grid = tuple(min(MAP_GRID_MAX, max(1, int(side // m.radius_m))) for side in sides)
    users = map_users(sc.population.agents, m.app_share)
    rate = f32(m.lookups_per_day)
    spec = MapSpec(grid=grid, users=int(users.shape[0]), looks=int(round(float(rate) * len(users))))
    a = jnp.asarray
    params = MapParams(
        on_map=a(on_map),
        users=a(users),
        radius=a(f32(m.radius_m)),
        rate=a(rate),
        wander=a(f32(m.wander_m)),
        tip=a(f32(m.tip_off)),
        enforce=a(f32(m.enforcement)),
    )
    return spec, params
