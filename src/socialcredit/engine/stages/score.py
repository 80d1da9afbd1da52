"""score: the score is the programme's base plus the points of active records, within bounds.

Clipping is applied to the displayed score only: records beyond a bound still count, so
a record's expiry undoes exactly what it did (no hidden state in the bounds).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from socialcredit.compile import Params, Spec
from socialcredit.engine.stages.common import by_place, jur_index
from socialcredit.engine.state import State, raw_points


def score(spec: Spec, params: Params, state: State) -> jax.Array:
    """int16 score per agent (0 where no programme runs)."""
    jur = jur_index(spec, state.jur)
    s = by_place(spec, params.base_score, jur) + raw_points(state)
    s = jnp.clip(s, by_place(spec, params.lo, jur), by_place(spec, params.hi, jur))
    return jnp.where(by_place(spec, params.active, jur), s, 0).astype(jnp.int16)
