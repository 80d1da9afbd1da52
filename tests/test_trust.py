"""Interpersonal trust: its baseline falls with informants among one's contacts and with their
density, it stays without informants or sanctions, and it falls with sanctions and shaming of
contacts."""

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
        s = sc.load_scenario("informant-state", [f"informants.share={share}"], agents=N, days=120)
        return sc.simulate(s).agents["trust"].mean()

    low, high = mean_trust(0.01), mean_trust(0.05)
    assert high < low - 0.05 and low < 0.69, (low, high)


def test_trust_stays_without_informants_or_sanctions():
    ov = ["informants.share=0", "jurisdictions.0.programme=null"]
    r = sc.simulate(sc.load_scenario("informant-state", ov, agents=5000, days=60))
    assert (r.agents["trust"] == np.float32(np.float16(0.7))).all()


def test_trust_falls_with_sanctions_and_shaming_of_contacts():
    ov = ["informants.share=0", "trust.report_shock=0", "response.model=fixed"]
    shame = ["programmes.xinjiang.consequences.B.public_shaming=true"]

    def mean(extra):
        s = sc.load_scenario("xinjiang-informants", ov + extra, agents=N, days=90)
        return sc.simulate(s).agents["trust"].mean()

    calm = mean(["trust.sanction_shock=0", "trust.shaming_shock=0"] + shame)
    sanctions = mean(["trust.shaming_shock=0"] + shame)
    shaming = mean(["trust.sanction_shock=0", "trust.shaming_shock=0.2"] + shame)
    assert calm == pytest.approx(0.7, abs=1e-3)
    assert sanctions < calm - 0.02 and shaming < calm - 0.02, (calm, sanctions, shaming)
