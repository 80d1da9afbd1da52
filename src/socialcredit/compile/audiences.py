"""Compile the audiences of public shaming and their spillovers on viewers
(stages/audiences.py): per tier or listing, posters, screens and ringtones; the village grid;
the strengths of deterrence and shunning."""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from socialcredit.compile.core import Tables
from socialcredit.scenario.model import Scenario, Shaming

VILLAGES_MAX = 512  # villages per side of a plane at most (larger villages beyond it)


@dataclass(frozen=True)
class AudienceSpec:
    villages: tuple[int, ...]  # villages per side of each jurisdiction's plane
    posters: bool  # some consequence has posters
    screens: bool  # ... screens
    ringtones: bool  # ... ringtones
    map: bool  # the deadbeat map's users are viewers too

    @property
    def names(self) -> tuple[str, ...]:
        """The audiences this scenario has, in the order of their bits (AUDIENCE_BITS)."""
        on = (self.posters, self.screens, self.ringtones, self.map)
        return tuple(
            n for n, x in zip(("posters", "screens", "ringtones", "map"), on, strict=True) if x
        )


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class AudienceParams:
    posters: jax.Array  # [J, T+1] bool: the tier (index T: listing) is on village posters
    screens: jax.Array  # [J, T+1] share of the jurisdiction watching its screens each day
    calls: jax.Array  # [J, T+1] chance per contact and day of calling (hearing the ringtone)
    deterrence: jax.Array  # [] evidence of risk from having seen someone shamed
    shunning: jax.Array  # [] chance a viewer met in a match refuses the shamed person


def compile_audiences(sc: Scenario, t: Tables) -> tuple[AudienceSpec | None, AudienceParams | None]:
    J = len(t.progs)
    posters = np.zeros((J, t.T + 1), bool)
    screens = np.zeros((J, t.T + 1), np.float32)
    calls = np.zeros((J, t.T + 1), np.float32)
    for j, p in enumerate(t.progs):
        if p is None:
            continue
        for name, c in p.consequences.items():
            a = c.audiences
            if a is not None and c.public_shaming:
                k = t.tier_index(p, name)
                posters[j, k], screens[j, k], calls[j, k] = a.posters, a.screens, a.ringtone_calls
    any_audience = posters.any() or (screens > 0).any() or (calls > 0).any()
    if sc.shaming is None and not any_audience:
        return None, None  # scenarios without the section or audiences compile as before
    sh = sc.shaming or Shaming()
    sides = [np.sqrt(jj.area_km2) * 1000.0 for jj in sc.jurisdictions]
    villages = tuple(min(VILLAGES_MAX, max(1, int(side // sh.village_m))) for side in sides)
    spec = AudienceSpec(
        villages=villages,
        posters=bool(posters.any()),
        screens=bool((screens > 0).any()),
        ringtones=bool((calls > 0).any()),
        map=sc.map is not None,
    )
    a = jnp.asarray
    params = AudienceParams(
        posters=a(posters),
        screens=a(screens),
        calls=a(calls),
        deterrence=a(np.float32(sh.deterrence)),
        shunning=a(np.float32(sh.shunning)),
    )
    return spec, params
