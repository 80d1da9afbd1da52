"""Stage: the day's donation game (engine/cooperation.py), after consequences, so that with
``assessment: tiers`` discriminators act on the tiers and the blacklist as they stand at the
end of the day's scoring."""

from __future__ import annotations

from dataclasses import replace

import jax

from socialcredit.engine.cooperation import STAGE, step
from socialcredit.engine.state import Context, State, Today


def cooperate(ctx: Context, state: State, today: Today) -> tuple[State, Today]:
    """Stage: mutation, donations, reputations, gossip and imitation of the day."""
    game, params = ctx.spec.cooperation, ctx.params.cooperation
    key = jax.random.fold_in(jax.random.fold_in(ctx.key, STAGE), ctx.day)
    broadcast = None
    if game.mode == "tiers":  # the credit system's verdict: a good tier and not blacklisted
        broadcast = (today.tier.astype("int32") < params.good_tiers) & ~today.listed
    return replace(state, coop=step(game, params, key, state.coop, broadcast)), today
