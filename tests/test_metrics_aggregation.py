"""metrics.parquet tells counts from means (issue 16): an `aggregation` column, readers that
refuse to add up a mean, and daily totals that weight means by agents."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

import socialcredit as sc
from socialcredit.results.aggregation import daily_totals, with_aggregation


@pytest.fixture(scope="module")
def run(xinjiang, tmp_path_factory):
    """The session's xinjiang-informants run (conftest.py; 20,000 agents, 150 days, two
    groups), saved as a copy so the shared result is left as it is."""
    result = dataclasses.replace(xinjiang, counterfactual=None)
    result.save(tmp_path_factory.mktemp("runs"))
    return result


def test_every_mean_is_marked_and_every_count_is_a_sum(run):
    m = run.metrics
    assert list(m.columns) == ["day", "jurisdiction", "group", "metric", "value", "aggregation"]
    kinds = m.groupby("metric")["aggregation"].unique()
    assert all(len(k) == 1 for k in kinds)
    means = sorted(name for name, k in kinds.items() if k[0] == "mean")
    assert means == ["mean_risk", "mean_score", "mean_trust", "mean_wealth"]
    assert set(kinds["agents"]) == {"sum"} and set(kinds["records.public_prayer"]) == {"sum"}


def test_the_file_holds_the_column_and_reads_back_the_same(run):
    on_disk = pd.read_parquet(run.path / "metrics.parquet")
    assert "aggregation" in on_disk.columns
    back = sc.open_run(run.path)
    pd.testing.assert_frame_equal(back.metrics, run.metrics)


def test_daily_totals_weight_means_by_agents_and_sum_counts(run):
    d = daily_totals(run.metrics).set_index(["day", "metric"])
    last = run.metrics["day"].max()
    # the summary's population means on the last day come from the engine's raw sums
    assert d.loc[(last, "mean_risk"), "value"] == pytest.approx(run.summary["mean_risk"], rel=1e-6)
    assert d.loc[(last, "mean_wealth"), "value"] == pytest.approx(run.summary["mean_wealth"])
    assert d.loc[(last, "agents"), "value"] == 20_000
    cells = run.metrics[(run.metrics["day"] == last) & (run.metrics["metric"] == "mean_risk")]
    assert len(cells) > 1  # several cells: a plain sum would be several times the mean
    assert cells["value"].sum() > 1.5 * d.loc[(last, "mean_risk"), "value"]
    listed = run.metrics[(run.metrics["day"] == last) & (run.metrics["metric"] == "listed")]
    assert d.loc[(last, "listed"), "value"] == listed["value"].sum()


def test_a_table_from_before_the_column_gets_it_from_the_names():
    old = pd.DataFrame(
        [(1, "town", "all", "mean_score", 950.0), (1, "town", "all", "listed", 3.0)],
        columns=["day", "jurisdiction", "group", "metric", "value"],
    )
    assert with_aggregation(old)["aggregation"].tolist() == ["mean", "sum"]


def test_audit_formulas_refuse_to_add_up_a_mean(run):
    from socialcredit.audit.formulas import last_mean, last_share, view

    v = view(run)
    assert v.total("false_records") == run.metrics.query("metric == 'false_records'")["value"].sum()
    with pytest.raises(TypeError, match="mean per cell"):
        v.total("mean_score")
    with pytest.raises(TypeError, match="mean per cell"):
        last_share("mean_trust")(run)
    with pytest.raises(TypeError, match="count, not a mean"):
        last_mean("listed")(run)
    assert last_mean("mean_trust")(run) == pytest.approx(
        daily_totals(run.metrics).query("metric == 'mean_trust'")["value"].iloc[-1]
    )


# ----------------------------------------------------------------------------- to_xarray


def test_to_xarray_holds_the_daily_metrics_by_day_jurisdiction_and_group(run):
    ds = run.to_xarray()
    assert set(ds.sizes) == {"day", "jurisdiction", "group"}
    assert ds.sizes["day"] == 150
    assert set(ds.data_vars) == set(run.metrics["metric"])
    assert ds["mean_trust"].attrs["aggregation"] == "mean"
    assert ds["listed"].attrs["aggregation"] == "sum"
    # every value is the tidy table's, at its coordinates
    row = run.metrics[run.metrics["metric"] == "records.public_prayer"].iloc[-1]
    cell = ds["records.public_prayer"].sel(
        day=row["day"], jurisdiction=row["jurisdiction"], group=row["group"]
    )
    assert float(cell) == row["value"]
    # counts sum and means weight by agents, as daily_totals does
    totals = daily_totals(run.metrics).set_index(["day", "metric"])["value"]
    assert (
        float(ds["listed"].sum(("jurisdiction", "group")).isel(day=-1)) == totals[(150, "listed")]
    )
    weighted = ds["mean_risk"].weighted(ds["agents"].fillna(0)).mean(("jurisdiction", "group"))
    assert float(weighted.isel(day=-1)) == pytest.approx(totals[(150, "mean_risk")])


def test_to_xarray_without_xarray_says_how_to_install_it(run, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "xarray", None)  # import xarray raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'socialcredit\[notebook\]'"):
        run.to_xarray()
