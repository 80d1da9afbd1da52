"""Shaming's audiences and their spillovers (issue 15; engine/stages/audiences.py).

Known answers from the stage itself, on a synthesized population with chosen tiers: poster
viewers are the residents of the shamed person's village (homes from engine/population.homes,
villages cut here in numpy), screen viewers are share x residents within binomial error, and
ringtone listeners are the person's contacts at the call rate. Counterfactuals (slow): with
the spillovers at 0 every result is the run's without the section; with deterrence > 0,
viewers' misconduct falls against the same run at 0 (common random numbers)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from metric_sums import total

import socialcredit as sc
from socialcredit.compile import compile_scenario
from socialcredit.engine.population import homes
from socialcredit.engine.run import initial_state
from socialcredit.engine.stages.audiences import AUDIENCE_BITS, audiences

N = 2000
SHAMED = "programmes.xinjiang.consequences.B"
AUDIENCE = f"{SHAMED}.audiences={{posters: true, screens: 0.1, ringtone_calls: 0.25}}"
BASE = [
    f"{SHAMED}.public_shaming=true",
    AUDIENCE,
    "jurisdictions.0.area_km2=4.0",
    "shaming={village_m: 500.0, shunning: 0.5}",
]


@pytest.fixture(scope="module")
def world():
    """(spec, params, key, state, day -> (bits, refusal)) with agent 0 alone in tier B."""
    scen = sc.load_scenario("xinjiang-informants", BASE, agents=N, days=10)
    spec, params = compile_scenario(scen)
    key = jax.random.key(0)
    state = initial_state(spec, params, key)
    B = spec.tier_names[0].index("B")
    tier = jnp.zeros(spec.padded, jnp.uint8).at[0].set(B)
    listed = jnp.zeros(spec.padded, bool)
    see = jax.jit(
        lambda d: audiences(spec, params, key, d, state, tier, listed),
    )
    return spec, params, key, see


def test_poster_viewers_are_the_residents_of_the_village(world):
    spec, params, key, see = world
    bits, refusal = see(jnp.int32(0))
    side = float(params.side_m[0])
    x, y = (np.asarray(v) for v in homes(key, jnp.arange(N, dtype=jnp.int32), side))
    n = spec.audiences.villages[0]
    assert n == 4  # 2 km a side, villages of 500 m
    village = np.floor(y / side * n).astype(int) * n + np.floor(x / side * n).astype(int)
    same = village == village[0]
    saw = (np.asarray(bits)[:N] & AUDIENCE_BITS["posters"]) != 0
    assert saw.sum() == same.sum() - 1 > 50  # every other resident, nobody else
    assert (saw == same & (np.arange(N) != 0)).all()
    # shunning: a counterpart in the jurisdiction has seen them with chance 1 - prod(1 - reach)
    reach = 1 - (1 - (same.sum() - 1) / N) * (1 - 0.1) * (1 - 8 * 0.25 / N)
    assert float(refusal[0]) == pytest.approx(0.5 * reach, rel=1e-5)
    assert float(jnp.abs(refusal[1:N]).max()) == 0.0


def test_screen_viewers_are_the_share_of_residents_and_ringtones_reach_contacts(world):
    spec, _, _, see = world
    days = 20
    screens = ring = 0
    contacts = {o % N for o in spec.contact_offsets}
    for d in range(days):
        bits = np.asarray(see(jnp.int32(d))[0])[:N]
        screens += int(((bits & AUDIENCE_BITS["screens"]) != 0).sum())
        heard = np.nonzero(bits & AUDIENCE_BITS["ringtones"])[0]
        assert set(heard.tolist()) <= contacts  # only those who call the person
        ring += len(heard)
    n = days * (N - 1)  # the shamed person does not watch themselves
    assert abs(screens - 0.1 * n) < 4 * np.sqrt(n * 0.1 * 0.9)
    k = days * len(contacts)
    assert abs(ring - 0.25 * k) < 4 * np.sqrt(k * 0.25 * 0.75)


def _run(overrides: list[str]):
    ov = ["economy.match_demand=0.02", *overrides]
    return sc.simulate(sc.load_scenario("xinjiang-informants", ov, agents=N, days=40))


@pytest.fixture(scope="module")
def runs():
    """Without the section, with it at strength 0, with deterrence and with shunning (the last
    three share one spec, so one compilation)."""
    shamed = [f"{SHAMED}.public_shaming=true"]
    zero = shamed + [AUDIENCE, "shaming={deterrence: 0.0, shunning: 0.0}"]
    strong = shamed + [AUDIENCE, "shaming={deterrence: 1.0, shunning: 0.0}"]
    shun = shamed + [AUDIENCE, "shaming={deterrence: 0.0, shunning: 0.8}"]
    return _run(shamed), _run(zero), _run(strong), _run(shun)


@pytest.mark.slow
def test_spillovers_at_zero_change_nothing_but_count_viewers(runs):
    before, zero, _, _ = runs
    a = before.metrics.set_index(["day", "jurisdiction", "group", "metric"])["value"]
    b = zero.metrics.set_index(["day", "jurisdiction", "group", "metric"])["value"]
    viewers = b.index.get_level_values("metric").str.startswith("shaming_viewers")
    assert viewers.any() and total(zero.metrics, "shaming_viewers") > 0
    pd_a, pd_b = a.sort_index(), b[~viewers].sort_index()
    assert pd_a.index.equals(pd_b.index) and (pd_a.values == pd_b.values).all()


@pytest.mark.slow
def test_deterrence_lowers_misconduct_among_viewers(runs):
    """Deterrence raises perceived risk and lowers the acts that cost points, against the same
    run (same random numbers) at 0; only viewers' evidence differs on the first day it acts."""
    _, zero, strong, _ = runs
    points = zero.scenario.programmes["xinjiang"].points
    loss = [f"acts.{b}" for b, p in points.items() if p < 0]
    assert loss
    before = sum(total(zero.metrics, m) for m in loss)
    after = sum(total(strong.metrics, m) for m in loss)
    assert after < before
    assert total(strong.metrics, "mean_risk") > total(zero.metrics, "mean_risk")


def test_audiences_without_public_shaming_are_refused_where_they_stand():
    from socialcredit.scenario import ScenarioError

    with pytest.raises(ScenarioError) as e:
        sc.load_scenario(
            "court-blacklist", ["programmes.court.consequences.listed.public_shaming=false"]
        )
    (issue,) = [i for i in e.value.issues if "audiences" in str(i.path)]
    assert "public_shaming: true" in issue.message


@pytest.mark.slow
def test_viewers_shunning_costs_the_shamed_matches(runs):
    """Viewers who meet the shamed person in a match refuse them: more matches lost than in
    the same run without it, and the same acts (shunning deters nobody)."""
    _, zero, _, shun = runs
    assert total(shun.metrics, "matches_lost") > total(zero.metrics, "matches_lost")
    acts = [f"acts.{b.name}" for b in zero.scenario.behaviours]
    assert [total(shun.metrics, m) for m in acts] == [total(zero.metrics, m) for m in acts]
