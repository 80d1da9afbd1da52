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


@pytest.mark.parametrize("name", PRESETS)
def test_outcomes_from_cells_equal_those_of_the_metrics_table(name):
    """A sweep's worker builds no metrics table: its outcome formulas read a view made from
    the cells' series (`MetricView.from_cells`). On every preset's golden run, that view has
    the table's sums and last day, and every outcome of the registry takes the same value."""
    import dataclasses
    import math

    import numpy as np

    from socialcredit.audit.catalogue import outcomes_for
    from socialcredit.audit.formulas import MetricView, keep_view, view
    from socialcredit.audit.outcome import NotModelled, Undefined

    r = golden_run(name)
    m = r.metrics
    jurs = sorted(m["jurisdiction"].unique())
    groups = sorted(m["group"].unique())
    cells = []
    for (j, g), rows in m.groupby(["jurisdiction", "group"], sort=True):
        vals = {k: v.sort_values("day")["value"].to_numpy() for k, v in rows.groupby("metric")}
        cells.append((jurs.index(j), groups.index(g), vals))
    bare = dataclasses.replace(r, metrics=None)
    keep_view(bare, MetricView.from_cells(bare, jurs, groups, cells))
    a, b = view(r), view(bare)
    assert a.names == b.names and a.means == b.means
    assert a.agent_days == b.agent_days
    pd_ = pytest.importorskip("pandas")
    pd_.testing.assert_series_equal(
        a.totals.sort_index(), b.totals.sort_index(), check_names=False, rtol=1e-12
    )
    pd_.testing.assert_series_equal(
        a.by_group.sort_index(), b.by_group.sort_index(), check_names=False, rtol=1e-12
    )
    pd_.testing.assert_series_equal(a.last, b.last, check_names=False)

    def value(o, res):
        try:
            return float(o.formula(res))
        except (NotModelled, Undefined) as e:
            return type(e).__name__

    checked = 0
    for o in outcomes_for(r.scenario):
        x, y = value(o, r), value(o, bare)
        if isinstance(x, str) or isinstance(y, str):
            assert x == y, o.name
            continue
        assert (math.isnan(x) and math.isnan(y)) or x == pytest.approx(y, rel=1e-9), o.name
        checked += 1
    assert checked > 0 and np.isfinite(b.agent_days)
