"""The deadbeat map (stages/publicize.py): the grid index is exact against brute force, counts
agree with the analytic expectation for uniform density, and sightings feed shunning and
tip-offs. Each test would fail if its part were removed or broken."""

from __future__ import annotations

import math
from types import SimpleNamespace

import jax.numpy as jnp
import numpy as np
import pytest

import socialcredit as sc
from socialcredit.compile import compile_scenario, map_users
from socialcredit.engine.stages.publicize import capacity, count_within


def total(metrics, name):
    return float(metrics.loc[metrics["metric"] == name, "value"].sum())


def per_day(metrics, name):
    return metrics[metrics["metric"] == name].groupby("day")["value"].sum()


def brute_force(vx, vy, vj, visible, ux, uy, uj, uid, sides, r):
    """O(U x N) torus distances in float32, as the engine computes them."""
    dx = np.abs(ux[:, None] - vx[None, :])
    dy = np.abs(uy[:, None] - vy[None, :])
    side = sides[uj][:, None]
    dx = np.minimum(dx, side - dx)
    dy = np.minimum(dy, side - dy)
    same = (uj[:, None] == vj[None, :]) & visible[None, :]
    near = same & (dx * dx + dy * dy <= np.float32(r * r))
    near &= uid[:, None] != np.arange(len(vx))[None, :]
    return near.sum(axis=1), near.sum(axis=0)


@pytest.mark.parametrize("share", [0.02, 0.3, 1.0])
def test_grid_index_is_exact_against_brute_force(share):
    """Three planes with 1, 2 and 7 grid cells a side (the 3 x 3 neighbourhood must neither
    miss a cell nor read one twice), users standing away from home, the user itself excluded."""
    rng = np.random.default_rng(7)
    r = 300.0
    sides = np.array([500.0, 700.0, 2200.0], np.float32)  # floor(side / r) = 1, 2, 7
    spec = SimpleNamespace(map=SimpleNamespace(grid=tuple(int(s // r) for s in sides)))
    n = 3000
    vj = rng.integers(0, 3, n).astype(np.int32)
    vx = (rng.random(n) * sides[vj]).astype(np.float32)
    vy = (rng.random(n) * sides[vj]).astype(np.float32)
    visible = rng.random(n) < share
    uid = np.sort(rng.choice(n, 800, replace=False)).astype(np.int32)
    uj = vj[uid]
    ux = np.mod(vx[uid] + rng.uniform(-400, 400, len(uid)), sides[uj]).astype(np.float32)
    uy = np.mod(vy[uid] + rng.uniform(-400, 400, len(uid)), sides[uj]).astype(np.float32)
    count, seen = count_within(
        spec,
        jnp.arange(n, dtype=jnp.int32), jnp.asarray(vj), jnp.asarray(vx), jnp.asarray(vy),
        jnp.asarray(sides[vj]), jnp.asarray(visible),
        jnp.asarray(uid), jnp.asarray(uj), jnp.asarray(ux), jnp.asarray(uy),
        jnp.asarray(sides[uj]), jnp.ones(len(uid), bool), jnp.float32(r),
    )  # fmt: skip
    want_count, want_seen = brute_force(vx, vy, vj, visible, ux, uy, uj, uid, sides, r)
    assert want_count.sum() > 100
    np.testing.assert_array_equal(np.asarray(count), want_count)
    np.testing.assert_array_equal(np.asarray(seen), want_seen)


@pytest.mark.parametrize(
    ("density_km2", "r", "f"), [(2000, 500, 0.05), (10000, 200, 0.2), (500, 800, 0.5)]
)
def test_mean_sightings_match_uniform_density(density_km2, r, f):
    """Mean sightings per look-up = f * lambda * pi * r^2 on the torus, within 5 sd."""
    rng = np.random.default_rng(int(r))
    side = 6000.0
    n = int(density_km2 * (side / 1000) ** 2)
    spec = SimpleNamespace(map=SimpleNamespace(grid=(int(side // r),)))
    x = (rng.random(n) * side).astype(np.float32)
    y = (rng.random(n) * side).astype(np.float32)
    visible = rng.random(n) < f
    uid = np.arange(0, n, 7, dtype=np.int32)
    zeros = jnp.zeros(n, jnp.int32)
    count, _ = count_within(
        spec, jnp.arange(n, dtype=jnp.int32), zeros, jnp.asarray(x), jnp.asarray(y),
        jnp.full(n, side, jnp.float32), jnp.asarray(visible),
        jnp.asarray(uid), zeros[: len(uid)], jnp.asarray(x[uid]), jnp.asarray(y[uid]),
        jnp.full(len(uid), side, jnp.float32), jnp.ones(len(uid), bool), jnp.float32(r),
    )  # fmt: skip
    lam = n / side**2
    expected = f * lam * math.pi * r * r
    U, V, p = len(uid), f * n, math.pi * r * r / side**2
    sd = math.sqrt(U * V * p * (1 + (U + V) * p)) / U  # sd of the mean of a U-statistic
    assert abs(float(np.mean(count)) - expected) < 5 * sd, (float(np.mean(count)), expected, sd)


def test_engine_counts_match_density_and_lookup_share():
    """Through the engine: everyone shown (tier A at the start), so each look-up sees the
    other (N - 1) * pi r^2 / A agents on average; look-ups are lookups_per_day of the users."""
    n, area, r = 20_000, 10.0, 400.0
    ov = [
        "map={app_share: 0.2, radius_m: 400.0, lookups_per_day: 0.5}",
        "programmes.rongcheng.consequences.A.on_map=true",
        f"jurisdictions.0.area_km2={area}",
        "response.model=fixed",
    ]
    res = sc.simulate(sc.load_scenario("rongcheng", ov, agents=n, days=3))
    users = len(map_users(n, 0.2))
    looks = per_day(res.metrics, "map_lookups")
    assert (looks == round(0.5 * users)).all()
    day1 = per_day(res.metrics, "sightings").iloc[0] / looks.iloc[0]
    expected = (n - 1) * math.pi * r * r / (area * 1e6)
    assert abs(day1 - expected) < 0.01 * expected, (day1, expected)
    assert per_day(res.metrics, "sighted").iloc[0] == n  # each agent is near some looking user


def test_engine_index_agrees_with_brute_force_over_the_snapshot():
    """Few shown (the compact path of `capacity`), users at home, nobody leaves the list: the
    last day's sightings equal the brute-force count over the snapshot's homes, with those
    listed before that day shown."""
    n, days = 20_000, 60
    ov = [
        "response.model=fixed",
        "behaviours.0.base_rate=0.0002",
        "programmes.court.blacklist.repayment=null",
        "map={app_share: 0.3, radius_m: 500.0, wander_m: 0.0, lookups_per_day: 1.0}",
    ]
    s = sc.load_scenario("hebei-deadbeat-map", ov, agents=n, days=days)
    spec, _ = compile_scenario(s)
    res = sc.simulate(s)
    a = res.agents
    shown = (a["listed"] & (a["listed_since"] <= days - 2)).to_numpy()
    assert 50 < shown.sum() < capacity(spec) < spec.padded
    x, y = a["x"].to_numpy(np.float32), a["y"].to_numpy(np.float32)
    uid = map_users(n, 0.3)
    side = np.array([math.sqrt(40.0) * 1000.0], np.float32)
    want, _ = brute_force(
        x, y, np.zeros(n, np.int32), shown, x[uid], y[uid],
        np.zeros(len(uid), np.int32), uid, side, 500.0,
    )  # fmt: skip
    got = per_day(res.metrics, "sightings")
    assert got.iloc[-1] == want.sum() > 0


HEBEI_SMALL = dict(agents=20_000, days=120)
BUSY = ["response.model=fixed", "behaviours.0.base_rate=0.0002", "economy.match_demand=0.05"]


def test_sightings_make_neighbours_shun_and_the_map_off_removes_it():
    on = sc.simulate(sc.load_scenario("hebei-deadbeat-map", BUSY, **HEBEI_SMALL))
    off_ov = BUSY + [
        "map=null",
        "programmes.court.consequences.listed.on_map=false",
    ]
    off = sc.simulate(sc.load_scenario("hebei-deadbeat-map", off_ov, **HEBEI_SMALL))
    assert total(on.metrics, "sighted") > 100 and total(on.metrics, "tip_offs") > 0
    assert total(on.metrics, "matches_lost") > 0
    # the court list alone has no matching penalty: without the map nobody loses a match
    assert total(off.metrics, "matches_lost") == 0
    assert "sightings" not in set(off.metrics["metric"])
    # matches are lost only by the listed (scores at or below -50 points)
    lost = on.events[on.events["kind"] == "match_lost"]
    assert len(lost) > 0 and (lost["score"] <= -50).all()


def test_tip_offs_enforce_payment():
    """Every sighting tipped off and every tip-off enforced: each sighted debtor pays that day."""
    ov = BUSY + ["map.tip_off=1.0", "map.enforcement=1.0"]
    r = sc.simulate(sc.load_scenario("hebei-deadbeat-map", ov, **HEBEI_SMALL))
    tips, paid = per_day(r.metrics, "tip_offs"), per_day(r.metrics, "delisted_paid")
    assert tips.sum() > 20
    assert (tips == per_day(r.metrics, "sighted")).all()
    assert (paid >= tips).all()
    none = sc.simulate(
        sc.load_scenario("hebei-deadbeat-map", BUSY + ["map.tip_off=0.0"], **HEBEI_SMALL)
    )
    assert total(none.metrics, "tip_offs") == 0
    assert total(r.metrics, "delisted_paid") > total(none.metrics, "delisted_paid")


@pytest.mark.slow  # ~25 s; `make test-slow`; test_engine checks chunking in the default suite
def test_chunk_size_and_seed_do_not_change_the_map():
    """Draws are keyed by (key, day, stage, agent): the same seed gives the same run in any
    chunking, with repayment, tip-offs and the map all drawing."""
    s = sc.load_scenario("hebei-deadbeat-map", BUSY + ["map.tip_off=0.2"], agents=5000, days=40)
    a = sc.simulate(s, chunk_days=7).metrics
    b = sc.simulate(s, chunk_days=30).metrics
    assert total(a, "sighted") > 0 and total(a, "delisted_paid") > 0
    np.testing.assert_array_equal(a["value"].to_numpy(), b["value"].to_numpy())
