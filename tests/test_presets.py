"""Conformance: every preset loads, validates, runs a few days and documents its sources."""

from __future__ import annotations

import pytest

import socialcredit as sc
from socialcredit.scenario import list_presets

PRESETS = [name for name, _ in list_presets()]
REPRESSIVE = {
    "xinjiang-informants",
    "informant-state",
    "court-blacklist",
    "hebei-deadbeat-map",
}  # presets modelling repression


def test_core_presets_exist():
    assert {"rongcheng", "no-system", "xinjiang-informants"} <= set(PRESETS)


@pytest.mark.parametrize("name", PRESETS)
def test_preset_runs_and_documents_itself(name):
    s = sc.load_scenario(name, agents=3000, days=5)
    md = s.metadata
    assert md.name == name and md.description
    assert md.sources, f"{name}: no sources"
    ids = {src.id for src in md.sources}
    for u in md.uncertain:
        assert u.source is None or u.source in ids, (
            f"{name}: uncertain figure cites unknown source {u.source}"
        )
        assert u.field.split(".")[0] in type(s).model_fields, f"{name}: uncertain field {u.field}"
    if name in REPRESSIVE:
        assert md.harms and "measure" in md.harms
    r = sc.simulate(s)
    assert r.metrics["day"].max() == 5
    assert len(r.agents) == 3000
