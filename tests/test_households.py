"""Households and schools: households match their shares, and children inherit their parents'
standing at school."""

from __future__ import annotations

import numpy as np
from metric_sums import total

import socialcredit as sc

N, DAYS = 20_000, 150


def test_households_match_their_shares(xinjiang):
    a = xinjiang.agents
    hh = sc.load_scenario("xinjiang-informants").population.households
    partners = (a["partner_of"] >= 0).sum()
    heads = len(a) - partners
    assert abs(partners / heads - hh.partner_share) < 0.03
    kids = a.loc[a["partner_of"] < 0, "children"].value_counts(normalize=True).sort_index()
    assert np.allclose(kids.to_numpy(), hh.children, atol=0.02)
    # a partner belongs to the same group as the head
    p = a[a["partner_of"] >= 0]
    assert (a["group"].to_numpy()[p["partner_of"]] == p["group"].to_numpy()).all()


def test_children_inherit_their_parents_standing():
    harsh = [
        "programmes.xinjiang.tiers.0.min=1000",
        "programmes.xinjiang.tiers.1.min=999",
        "programmes.xinjiang.tiers.1.max=999",
        "programmes.xinjiang.tiers.2.min=998",
        "programmes.xinjiang.tiers.2.max=998",
        "programmes.xinjiang.tiers.3.max=997",
    ]
    on = sc.simulate(sc.load_scenario("xinjiang-informants", harsh, agents=N, days=90))
    off = sc.simulate(
        sc.load_scenario(
            "xinjiang-informants",
            harsh
            + [
                f"programmes.xinjiang.consequences.{t}.school_block=false"
                for t in ("C", "D", "listed")
            ],
            agents=N,
            days=90,
        )
    )
    assert total(on.metrics, "children_excluded") > 20
    assert total(off.metrics, "children_excluded") == 0
    assert total(on.metrics, "school_applications") == total(off.metrics, "school_applications") > 0
