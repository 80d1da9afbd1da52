"""The donation game's results: a summary of the final day (strategy shares, how the
broadcast or the views see each strategy, payoffs, the day's cooperation)."""

from __future__ import annotations

import jax
import numpy as np

from socialcredit.engine.cooperation import MEASURES, measures


def summarize_cooperation(spec, state) -> dict:
    """``spec``: the run's Spec; ``state``: its final State. NaN (a strategy nobody holds) is
    written as None."""
    values = np.asarray(jax.device_get(measures(spec.cooperation, state.coop)), float)
    out = {
        name: (None if np.isnan(v) else round(float(v), 6))
        for name, v in zip(MEASURES, values, strict=True)
    }
    out["assessment"] = spec.cooperation.mode
    return out
