"""Interpersonal trust, in every scenario: its baseline falls with informants among one's
contacts and with their density and with known surveillance, it stays without a system, it
falls with sanctions and shaming of contacts, distrust chills speech without informants too,
and the informant-density elasticity lands near Lichter et al.'s calibration target."""

from __future__ import annotations

import numpy as np
import pytest

import socialcredit as sc
from socialcredit.compile import compile_scenario

N = 20_000


def informant_contacts(agents, spec) -> np.ndarray:
    flag = agents["informant"].to_numpy().astype(int)
    # contacts wrap around the real agents, never into the padding (engine/stages/common.py)
    return sum(np.roll(flag, -o) for o in spec.contact_offsets)


def test_trust_baseline_falls_with_informants_among_contacts():
    """No shocks and instant recovery: each agent's trust is its baseline,
    initial * (1 - min(1, weight * share of contacts who inform)), to float16 rounding."""
    ov = [
        "trust.learning_rate=1.0",
        "trust.report_shock=0",
        "trust.sanction_shock=0",
        "trust.shaming_shock=0",
        "trust.informant_weight=4.0",
        "trust.surveillance_weight=0",
        "informants.share=0.1",
    ]
    s = sc.load_scenario("informant-state", ov, agents=5000, days=10)
    r = sc.simulate(s)
    spec, _ = compile_scenario(s)
    k = informant_contacts(r.agents, spec)
    expected = 0.7 * (1 - np.minimum(1, 4.0 * k / len(spec.contact_offsets)))
    assert np.allclose(r.agents["trust"], expected, atol=1e-3)
    assert k.max() >= 2 and (k == 0).sum() > 100


def test_trust_falls_with_informant_density():
    def mean_trust(share):
        ov = [f"informants.share={share}", "trust.informant_weight=10"]
        s = sc.load_scenario("informant-state", ov, agents=N, days=120)
        return sc.simulate(s).agents["trust"].mean()

    low, high = mean_trust(0.01), mean_trust(0.05)
    assert high < low - 0.05 and low < 0.69, (low, high)


def test_trust_stays_without_informants_or_sanctions():
    ov = ["informants.share=0", "jurisdictions.0.programme=null"]
    r = sc.simulate(sc.load_scenario("informant-state", ov, agents=5000, days=60))
    assert (r.agents["trust"] == np.float32(np.float16(0.7))).all()


@pytest.mark.slow  # heavy (42 s); the default suite keeps the surveillance and Lichter trust tests
def test_trust_falls_with_sanctions_and_shaming_of_contacts():
    ov = ["informants.share=0", "trust.report_shock=0", "response.model=fixed"]
    ov += ["trust.surveillance_weight=0"]  # sanctions and shaming alone
    shame = ["programmes.xinjiang.consequences.B.public_shaming=true"]

    def mean(extra):
        s = sc.load_scenario("xinjiang-informants", ov + extra, agents=N, days=90)
        return sc.simulate(s).agents["trust"].mean()

    calm = mean(["trust.sanction_shock=0", "trust.shaming_shock=0"] + shame)
    sanctions = mean(["trust.shaming_shock=0"] + shame)
    shaming = mean(["trust.sanction_shock=0", "trust.shaming_shock=0.2"] + shame)
    assert calm == pytest.approx(0.7, abs=1e-3)
    assert sanctions < calm - 0.02 and shaming < calm - 0.02, (calm, sanctions, shaming)


def known_surveillance(s) -> np.ndarray:
    """Per place: the mean chance that an act the programme scores is recorded."""
    _, params = compile_scenario(s)
    scored = np.asarray(params.points) != 0
    detect = np.asarray(params.detect)
    return (detect * scored).sum(1) / np.maximum(scored.sum(1), 1)


def test_trust_baseline_falls_with_known_surveillance_without_informants():
    """No informants, no shocks, instant recovery: trust is initial * (1 - weight * known
    surveillance) in each place with a programme."""
    ov = [
        "trust.learning_rate=1.0",
        "trust.sanction_shock=0",
        "trust.shaming_shock=0",
        "trust.surveillance_weight=0.5",
    ]
    s = sc.load_scenario("due-process", ov, agents=2000, days=5)
    assert s.informants is None
    r = sc.simulate(s)
    known = known_surveillance(s)[0]
    assert known > 0.05
    expected = np.float16(0.7) * (1 - 0.5 * known)
    assert np.allclose(r.agents["trust"], expected, atol=1e-3)
    # without a programme trust stays at its initial level: test_trust_stays_without_...


@pytest.mark.slow  # two runs; the default suite is at its time limit
def test_distrust_chills_speech_without_informants():
    """Counterfactual: the same scenario without informants speaks and prays less when
    distrust chills (trust.chill 0.8) than when it does not (0), the rest unchanged; here the
    programme scores criticism down, so distrust silences it."""
    base = ["trust.learning_rate=0.05", "trust.surveillance_weight=1.0"]
    base += ["programmes.due_process.points.criticise_government=-5"]

    def acts(chill):
        s = sc.load_scenario("due-process", base + [f"trust.chill={chill}"], agents=2000, days=60)
        m = sc.simulate(s).metrics
        return m.groupby("metric")["value"].sum()

    quiet, free = acts(0.8), acts(0.0)
    speech = "acts.criticise_government"
    assert quiet[speech] < 0.8 * free[speech], (quiet[speech], free[speech])
    # prayer is neither scored nor informed on here: distrust does not silence it (acts share
    # one random word a day, so a quieter critic shifts others' draws: equal within 3%)
    prayer = "acts.public_prayer"
    assert quiet[prayer] == pytest.approx(free[prayer], rel=0.03)


def test_informant_density_elasticity_near_lichter():
    """Calibration target (docs/mechanisms.md), not a fit: at informant-state's settings with
    people's own trust spread (SD 0.2) and trust at its baseline less the day's shocks
    (learning_rate 1), the slope of standardised trust on the standardised share of one's
    contacts who inform is about -0.1 (Lichter, Loeffler & Siegloch 2021: trust in strangers
    -0.1 SD per +1 SD of informer density); band [-0.16, -0.05]."""
    ov = ["trust.spread=0.2", "trust.learning_rate=1"]
    s = sc.load_scenario("informant-state", ov, agents=5000, days=20)
    r = sc.simulate(s)
    spec, _ = compile_scenario(s)
    density = informant_contacts(r.agents, spec) / len(spec.contact_offsets)
    trust = r.agents["trust"].to_numpy()

    def z(x):
        return (x - x.mean()) / x.std()

    slope = np.polyfit(z(density), z(trust), 1)[0]
    assert -0.16 < slope < -0.05, slope
    assert 0.17 < trust.std() < 0.23  # the spread is what the standardisation divides by
