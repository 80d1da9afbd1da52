"""publicize: the deadbeat map (the Hebei High People's Court's WeChat mini-program of 2019,
scs-facts section 5): app users see the listed or low-scored people within 500 m of where
they stand; those sighted are shunned, and users tip off the court.

Who is shown: tiers (or the listing) whose consequence has `on_map`, as they stood at the
start of the day. Each jurisdiction's city plane is a square torus of side `side_m` (homes are
uniform on it, engine/population.homes), so every user, wherever they stand, sees the same density
and a look-up finds f * lambda * pi * r^2 people on average (f the share shown, lambda agents
per square metre); a bounded plane would show users near its edge less, and the synthetic
edge means nothing.

The spatial index is a uniform grid over each plane, of n = floor(side / r) cells per side
(cells at least r wide, at most MAP_GRID_MAX per side), numbered jurisdiction after
jurisdiction. Each day the shown agents are sorted by home cell (one argsort over all agents,
hidden ones last) and each cell's range in that order is found with searchsorted. A user's
look-up reads the 3 x 3 cells around its own (fewer when a plane has under three cells a
side, so no cell is read twice) and compares exact torus distances with r. The candidates of
a cell are visited by a loop whose length is the fullest cell's count on that day, so no
cell has a capacity and the count is exact at any density (tests/test_publicity.py checks it
against brute force). The loop runs over the fixed set of app users, not over all agents.

A user who looks sees everyone shown within r but themselves; a person sighted by at least
one user is shunned the next day (stages/consequences.py: matches cut by economy.shunning)
and each sighting is a tip-off to the court with chance `tip_off` (a tip-off may enforce
payment, listing.repay). Run at the start of the day from the carried state, so it reads
materialised arrays only.
"""

from __future__ import annotations

from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np

from socialcredit import rng
from socialcredit.compile import Params, Spec
from socialcredit.engine.population import homes
from socialcredit.engine.stages.common import by_place, jur_index, lookup, lookup2
from socialcredit.engine.state import Context, State, Today


def shown(spec: Spec, params: Params, state: State, tier: jax.Array) -> jax.Array:
    """Agents the map shows: their tier or listing is `on_map` where a programme runs."""
    jur = jur_index(spec, state.jur)
    idx = jnp.where(state.listed_since >= 0, spec.max_tiers, tier.astype(jnp.int32))
    real = jnp.arange(spec.padded) < spec.agents
    return lookup2(spec, params.map.on_map, jur, idx) & by_place(spec, params.active, jur) & real


def grid_cells(spec: Spec, jur: jax.Array, x: jax.Array, y: jax.Array, side: jax.Array):
    """(global cell id, cx, cy, cells per side, first cell of the plane) of points on planes."""
    n_of = np.asarray(spec.map.grid, np.int32)
    first_of = np.concatenate([[0], np.cumsum(n_of.astype(np.int64) ** 2)[:-1]]).astype(np.int32)
    n = lookup(jnp.asarray(n_of), jur) if len(n_of) > 1 else jnp.int32(n_of[0])
    first = lookup(jnp.asarray(first_of), jur) if len(n_of) > 1 else jnp.int32(0)
    cx = jnp.clip(jnp.floor(x / side * n).astype(jnp.int32), 0, n - 1)
    cy = jnp.clip(jnp.floor(y / side * n).astype(jnp.int32), 0, n - 1)
    return first + cy * n + cx, cx, cy, n, first


def _sort_by_cell(cell: jax.Array, cells: int) -> tuple[jax.Array, jax.Array]:
    """(order, starts): points sorted by cell (invalid ones carry cell id ``cells`` and go
    last), and where each cell's run begins in that order ([cells + 1]).

    One sort of int32 keys packing (cell, position) when they fit: on the 2-core CPU it took
    1 ms for 32,768 keys against 8 ms for an argsort (a key-value sort)."""
    V = cell.shape[0]
    width = 1 << max(V - 1, 1).bit_length()
    if (cells + 1) * width < 2**31:
        keys = jnp.sort(cell * width + jnp.arange(V, dtype=jnp.int32))
        order = keys & (width - 1)
        bounds = jnp.arange(cells + 1, dtype=jnp.int32) * width
    else:
        keys, order = jax.lax.sort_key_val(cell, jnp.arange(V, dtype=jnp.int32))
        bounds = jnp.arange(cells + 1, dtype=jnp.int32)
    return order, jnp.searchsorted(keys, bounds).astype(jnp.int32)


def near_counts(
    spec: Spec,
    qid: jax.Array,
    qjur: jax.Array,
    qx: jax.Array,
    qy: jax.Array,
    qside: jax.Array,
    qmask: jax.Array,
    pid: jax.Array,
    pjur: jax.Array,
    px: jax.Array,
    py: jax.Array,
    pside: jax.Array,
    pmask: jax.Array,
    radius: jax.Array,
) -> jax.Array:
    """For each querier q (where ``qmask``): how many points p (where ``pmask``) of its plane
    lie within ``radius`` of it by torus distance, p == q excluded. int32 [Q].

    The points are sorted by grid cell; each querier visits the 3 x 3 cells around its own, k
    points of each at a time, for k up to the fullest cell's count (a loop of dynamic length:
    no capacity per cell, so the count is exact at any density)."""
    P = pid.shape[0]
    cells = int(sum(n * n for n in spec.map.grid))
    cell, _, _, _, _ = grid_cells(spec, pjur, px, py, pside)
    order, starts = _sort_by_cell(jnp.where(pmask, cell, cells), cells)
    fullest = jnp.max(starts[1:] - starts[:-1])
    xs, ys, ids = px[order], py[order], pid[order]
    _, cx, cy, n, first = grid_cells(spec, qjur, qx, qy, qside)
    lo, hi = [], []
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            # with fewer than three cells a side, -1 and +1 reach the same cell (or cell 0)
            ok = ((dx == 0) | (n >= 2 + (dx > 0))) & ((dy == 0) | (n >= 2 + (dy > 0)))
            c = first + ((cy + dy) % n) * n + (cx + dx) % n
            lo.append(starts[c])
            hi.append(jnp.where(ok & qmask, starts[c + 1], starts[c]))
    lo, hi = jnp.stack(lo, 1), jnp.stack(hi, 1)  # [Q, 9]
    r2 = radius * radius

    def body(k: jax.Array, count: jax.Array) -> jax.Array:
        cand = lo + k
        at = jnp.minimum(cand, P - 1)
        ddx = jnp.abs(qx[:, None] - xs[at])
        ddy = jnp.abs(qy[:, None] - ys[at])
        ddx = jnp.minimum(ddx, qside[:, None] - ddx)
        ddy = jnp.minimum(ddy, qside[:, None] - ddy)
        hit = (cand < hi) & (ddx * ddx + ddy * ddy <= r2) & (ids[at] != qid[:, None])
        return count + hit.sum(axis=1, dtype=jnp.int32)

    return jax.lax.fori_loop(0, fullest, body, jnp.zeros(qid.shape, jnp.int32))


def count_within(
    spec: Spec,
    vid: jax.Array,
    vjur: jax.Array,
    vx: jax.Array,
    vy: jax.Array,
    vside: jax.Array,
    visible: jax.Array,
    uid: jax.Array,
    ujur: jax.Array,
    ux: jax.Array,
    uy: jax.Array,
    uside: jax.Array,
    looked: jax.Array,
    radius: jax.Array,
) -> tuple[jax.Array, jax.Array]:
    """Users ``uid`` at (ux, uy) who ``looked`` and ``visible`` candidates ``vid`` at (vx, vy):
    (int32 [U] candidates each user sees, int32 [V] users who see each candidate).

    Two queries over two grid indexes, one each way: counting the other way round with a
    scatter-add inside the loop cost 70 of 90 ms a day at 1e6 agents on the 2-core CPU."""
    users = (uid, ujur, ux, uy, uside, looked)
    cands = (vid, vjur, vx, vy, vside, visible)
    return (
        near_counts(spec, *users, *cands, radius),
        near_counts(spec, *cands, *users, radius),
    )


def capacity(spec: Spec) -> int:
    """Candidates the fast path holds: a power of two near 1/32 of the agents (at least
    1,024). Days with more agents shown take the exact slow path over all agents."""
    return min(spec.padded, 1 << max(10, (spec.padded // 32 - 1).bit_length()))


def publicize(
    spec: Spec, params: Params, key: jax.Array, day: jax.Array, state: State, tier: jax.Array
) -> dict[str, jax.Array]:
    """The day's look-ups: per agent, sightings (uint16, for users) and the bools `looked`,
    `sighted` and `tipped`. ``tier``: the tiers at the start of the day."""
    N = spec.padded
    m = params.map
    U, L = m.users.shape[0], spec.map.looks
    if L == 0:  # nobody looks
        zero = jnp.zeros(N, bool)
        return {"sightings": jnp.zeros(N, jnp.uint16), "looked": zero, "sighted": zero,
                "tipped": zero}  # fmt: skip
    multi = len(spec.jurisdictions) > 1
    jur = state.jur.astype(jnp.int32) if multi else jnp.zeros(N, jnp.int32)
    side_of = params.side_m

    def place(ids: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
        j = jur[jnp.minimum(ids, N - 1)]
        side = lookup(side_of, j) if multi else jnp.broadcast_to(side_of[0], ids.shape)
        x, y = homes(key, ids, side)
        return j, x, y, side

    seeds = rng.stage_seeds(key, day, rng.MAP, 4)
    # a systematic sample with a random start: L = spec.map.looks users, evenly spaced along
    # the fixed list, look today, so each user looks with chance L / U and the loops below run
    # over the L who look rather than over every user
    start = rng.unit(seeds[-1])
    pick = jnp.floor((jnp.arange(L, dtype=jnp.float32) + start) * (U / L)).astype(jnp.int32)
    users = m.users[jnp.minimum(pick, U - 1)]
    w_x, w_y = rng.agent_words(seeds, users.astype(jnp.uint32), 3)[1:]
    looked = jnp.ones(L, bool)
    ujur, hx, hy, uside = place(users)
    ux = jnp.mod(hx + (2.0 * rng.unit(w_x) - 1.0) * m.wander, uside)
    uy = jnp.mod(hy + (2.0 * rng.unit(w_y) - 1.0) * m.wander, uside)
    visible = shown(spec, params, state, tier)

    def look(vid: jax.Array, valid: jax.Array) -> tuple[jax.Array, jax.Array]:
        vjur, vx, vy, vside = place(vid)
        count, seen = count_within(
            spec, vid, vjur, vx, vy, vside, valid, users, ujur, ux, uy, uside, looked,
            m.radius,
        )  # fmt: skip
        return count, jnp.zeros(N, jnp.int32).at[vid].add(seen, mode="drop")

    cap = capacity(spec)
    if cap < N:  # few shown (the usual case): index only them; otherwise every agent
        compact = jnp.nonzero(visible, size=cap, fill_value=N)[0].astype(jnp.int32)
        count, seen = jax.lax.cond(
            visible.sum(dtype=jnp.int32) <= cap,
            lambda: look(compact, compact < N),
            lambda: look(jnp.arange(N, dtype=jnp.int32), visible),
        )
    else:
        count, seen = look(jnp.arange(N, dtype=jnp.int32), visible)
    (w_tip,) = rng.agent_words(seeds, jnp.arange(N, dtype=jnp.uint32), 4)[3:]
    p_tip = 1.0 - (1.0 - m.tip) ** seen.astype(jnp.float32)
    return {
        "sightings": jnp.zeros(N, jnp.uint16)
        .at[users]
        .set(jnp.minimum(count, 65535).astype(jnp.uint16)),
        "looked": jnp.zeros(N, bool).at[users].set(True),
        "sighted": seen > 0,
        "tipped": (seen > 0) & (w_tip < rng.threshold(p_tip)),
    }


def look_up(ctx: Context, state: State, today: Today) -> tuple[State, Today]:
    """Stage: the day's look-ups on the map, from the tiers at dawn (``today.looked``,
    ``sighted``, ``tipped``, ``sightings``)."""
    pub = publicize(ctx.spec, ctx.params, ctx.key, ctx.day, state, today.tier_before)
    return state, replace(today, **pub)
