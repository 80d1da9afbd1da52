"""Conformance: every preset loads, validates, runs (its golden run) and documents its sources."""

from __future__ import annotations

import pytest
from golden_digest import AGENTS, DAYS, SEED, golden_run

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
    s = sc.load_scenario(name, agents=AGENTS, days=DAYS, seed=SEED)
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
    r = golden_run(name)  # the golden test's run of the preset, made once (conftest's SHARED)
    assert r.scenario.metadata == md
    assert r.metrics["day"].max() == DAYS
    assert len(r.agents) == AGENTS
