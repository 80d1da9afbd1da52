"""Reputation science (issue 17): the cooperation mechanism and the validation cases.

The default suite keeps the closed forms (exact algebra, cross-checked two ways), a small
public-monitoring run of the engine and the command's contract. Every validation case at the
documented size runs under the `science` marker (`make test-science`), which is also what
`socialcredit science` runs.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from socialcredit.engine import cooperation as co
from socialcredit.science import cases, theory

E = 0.02


# ----------------------------------------------------------------------------- closed forms


def test_public_standing_is_the_issue_s_numbers():
    for norm in ("stern_judging", "simple_standing"):
        assert theory.public_standing(norm, E, E) == pytest.approx(25 / 26, abs=1e-12)
    for norm in ("scoring", "shunning"):
        assert theory.public_standing(norm, E, E) == pytest.approx(25 / 74, abs=1e-12)
    assert round(25 / 26, 6) == 0.961538 and round(25 / 74, 6) == 0.337838


def test_two_closed_forms_of_the_stability_threshold_agree():
    """Invader enumeration (16 action rules) and Glynatsi, Hilbe & Murase's dv condition."""
    for k in range(1, 9):
        norm = f"L{k}"
        a = theory.min_benefit_cost(norm, E, E)
        b = theory.delta_v_threshold(norm, E, E)
        assert a == pytest.approx(b, rel=1e-9), norm
        assert 1.0 < a < 1.2
    # without errors the leading eight are stable for any b > c (Ohtsuki & Iwasa)
    assert theory.min_benefit_cost("L3", 0.0, 0.0) == pytest.approx(1.0)
    # image scoring does not punish justified defection: never stable
    assert math.isinf(theory.min_benefit_cost("scoring", E, E))


def test_private_equations_reduce_to_public_ones():
    """With E = 1 (or M = 1 bureau) discriminators alone are the public population."""
    gx, g, _ = theory.private_reputations("stern_judging", (0, 0, 1), E, E, 1.0)
    assert gx[2] == pytest.approx(theory.public_standing("stern_judging", E, E), abs=1e-9)
    # an institution of one observer (q = 1/2) is public monitoring
    gx, g = theory.institution_reputations("scoring", (0, 0, 1), E, E, 1, 0.5)
    assert g == pytest.approx(25 / 74, abs=1e-9)
    # stern judging with a third each and E = 0: everyone is good half the time
    gx, g, _ = theory.private_reputations("stern_judging", cases.THIRDS, E, E, 0.0)
    assert np.allclose(gx, 0.5, atol=1e-9)


def test_schelling_and_gossip_closed_forms():
    # density 1, threshold 1/2: unhappy iff fewer than 4 of 8 alike, P = P(Bin(8, 1/2) <= 3)
    assert theory.schelling_unhappy(1.0, 0.5) == pytest.approx(93 / 256)
    assert theory.gossip_disagreement(0.5, 10, 0) == 0.5
    assert theory.gossip_disagreement(0.5, 10, 500) == pytest.approx(0.5 * 0.998**500)


# ----------------------------------------------------------------------------- the engine


def test_granovetter_cascade():
    rows = cases.granovetter()
    assert [r.ours for r in rows] == [100.0, 1.0] and all(r.passed for r in rows)


def test_public_monitoring_on_the_engine_small():
    """The engine's stationary standing under stern judging and scoring (N = 2,000)."""
    rows = cases.public_second_order(size=0.1)
    assert all(r.passed for r in rows), [(r.quantity, r.ours, r.tolerance) for r in rows]
    assert all(r.tolerance < 0.03 for r in rows)


def test_discriminators_follow_the_credit_tiers():
    """assessment: tiers: discriminators help exactly those the broadcast calls good, less
    the execution error; ALLD never helps (a counterfactual on the broadcast)."""
    n = 4000
    spec = co.CoopSpec(agents=n, mode="tiers", partners=4)
    st = co.initial(spec, jax.random.key(0), (0.0, 0.25, 0.75))
    p = co.make_params(e1=0.1)
    good = jnp.arange(n) % 5 < 2  # 40% good
    step = jax.jit(co.step, static_argnums=0)
    new = step(spec, p, jax.random.key(1), st, good)
    m = np.asarray(co.measures(spec, new))
    assert m[10] == pytest.approx(0.4)  # the broadcast is what the game sees
    expected = 0.75 * 0.4 * 0.9
    assert m[9] == pytest.approx(expected, abs=4 * math.sqrt(expected / (4 * n)))
    none = step(spec, p, jax.random.key(1), st, jnp.zeros(n, bool))
    assert float(co.measures(spec, none)[9]) == 0.0


def test_the_command_line(tmp_path):
    run = [sys.executable, "-m", "socialcredit.cli", "science"]
    ok = subprocess.run(
        [*run, "--case", "granovetter", "--json"], capture_output=True, text=True, timeout=300
    )
    assert ok.returncode == 0, ok.stderr
    rows = json.loads(ok.stdout)
    assert {r["case"] for r in rows} == {"granovetter"} and all(r["passed"] for r in rows)
    bad = subprocess.run([*run, "--case", "nope"], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "no such case" in bad.stderr and "Traceback" not in bad.stderr


def test_scenario_section_is_checked():
    from socialcredit.scenario import load_scenario

    sc = load_scenario("cooperation-rongcheng", agents=1000)
    bad = sc.cooperation.model_copy(update={"assessment": "private", "gossip": 0})
    assert not bad.issues(("cooperation",), 1000, 6)
    too_big = bad.issues(("cooperation",), 10_000, 6)
    assert too_big and "N x N" in too_big[0][2]
    strat = sc.cooperation.strategies.model_copy(update={"DISC": 0.5})
    sums = sc.cooperation.model_copy(update={"strategies": strat}).issues(("c",), 1000, 6)
    assert "sum to 0.7" in sums[0][2]


# ----------------------------------------------------------------------------- the suite


@pytest.mark.science
@pytest.mark.parametrize("name", list(cases.CASES))
def test_case_reproduces_its_published_values(name):
    rows = cases.CASES[name](1.0)
    assert rows
    failed = [(r.quantity, r.published, r.ours, r.tolerance) for r in rows if not r.passed]
    assert not failed
