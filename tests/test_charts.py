"""One chart source, two backends (socialcredit.charts): every chart builds from a tiny tidy
frame and renders both to PNG (matplotlib) and to a self-contained HTML page (bokeh); the map
draws nothing when nobody is low, and no circle without a deadbeat map."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from socialcredit import charts
from socialcredit.charts.core import ChartError, hv
from socialcredit.charts.report import report_chart

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _elements(obj, kind: str) -> list:
    """Every element of type ``kind`` (by class name) inside a HoloViews object."""
    out = []
    obj.traverse(lambda e: out.append(e), [lambda e: type(e).__name__ == kind])
    return out


def tiers_frame() -> pd.DataFrame:
    days = np.arange(1, 6)
    rows = []
    for d in days:
        for t, share in (("A", 1 - 0.001 * d), ("B", 0.001 * d), ("C", 0.0)):
            rows.append((d, "city", t, share * 1000, share))
    return pd.DataFrame(rows, columns=["day", "jurisdiction", "tier", "count", "share"])


def behaviour_frame(counterfactual: bool) -> pd.DataFrame:
    df = pd.DataFrame(
        {"behaviour": ["fraud", "speech"], "category": ["misconduct", "speech"], "system": [0.5, 2]}
    )
    if counterfactual:
        df["counterfactual"] = [0.7, 3.0]
        df["difference"] = df["system"] - df["counterfactual"]
    return df


def city(low: np.ndarray) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = len(low)
    return pd.DataFrame({"x": rng.uniform(0, 4000, n), "y": rng.uniform(0, 3000, n), "low": low})


def forest_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "outcome": ["misconduct", "false_sanctions"],
            "kind": ["aim", "harm"],
            "label": ["Misconduct", "False sanctions"],
            "text": ["-12% (-20% to -4%)", "+3.1 (-0.5 to 6.7)"],
            "effect": [0.88, 3.1],
            "ci_low": [0.80, -0.5],
            "ci_high": [0.96, 6.7],
            "null": [1.0, 0.0],
        }
    )


def sensitivity_frame() -> pd.DataFrame:
    rows = []
    for f, s1, st in (("coverage", 0.6, 0.7), ("points", 0.1, 0.2)):
        rows += [("deterrence", f, "sobol", "S1", s1, s1 - 0.1, s1 + 0.1)]
        rows += [("deterrence", f, "sobol", "ST", st, st - 0.1, st + 0.1)]
    cols = ["outcome", "factor", "method", "index", "value", "low", "high"]
    return pd.DataFrame(rows, columns=cols)


def all_charts() -> dict[str, object]:
    band = pd.DataFrame(
        {
            "x": [0.0, 0.5, 1.0],
            "label": ["0", "0.5", "1"],
            "n": [2, 2, 2],
            "mean": [1.0, 2.0, 2.5],
            "low": [0.5, 1.5, 2.0],
            "high": [1.5, 2.5, 3.0],
            "kind": "level",
        }
    )
    evaluations = pd.DataFrame(
        {"design": range(6), "a.effect": [1, 2, 3, 4, 2, 3], "b.effect": [4, 3, 1, 0, 4, 3]}
    )
    front = evaluations.iloc[[0, 1, 2, 3]]
    objectives = [("a.effect", "minimize"), ("b.effect", "minimize")]
    lorenz = pd.concat(
        [
            charts.lorenz_points(np.array([1.0, 2, 3, 10])).assign(arm="with the system"),
            charts.lorenz_points(np.array([1.0, 2, 3, 4])).assign(arm="without it"),
        ]
    )
    trust = pd.DataFrame(
        {
            "day": [1, 2, 1, 2],
            "arm": ["with the system"] * 2 + ["without it"] * 2,
            "measure": ["speech and religious acts per agent-year"] * 4,
            "value": [1.0, 0.8, 1.0, 1.0],
        }
    )
    moves = pd.DataFrame(  # the report's 30-day matrix (report.figures.tier_transitions)
        {
            "jurisdiction": "city",
            "from_tier": ["A", "A", "B", "B"],
            "to_tier": ["A", "B", "A", "B"],
            "count": [95, 5, 2, 98],
            "share": [0.95, 0.05, 0.02, 0.98],
            "days": 30,
            "agents": 10,
        }
    )
    scores = pd.DataFrame(
        {
            "group": ["a", "a", "b", "b"],
            "score_min": [990, 995, 990, 995],
            "score_max": [994, 999, 994, 999],
            "count": [1, 9, 0, 5],
            "share": [0.1, 0.9, 0.0, 1.0],
        }
    )
    disparity = pd.DataFrame(
        {
            "group": ["a", "b"],
            "agents": [90.0, 10.0],
            "metric": ["listed_share"] * 2,
            "value": [0.01, 0.03],
            "ratio": [1.0, 3.0],
        }
    )
    files = pd.DataFrame(
        {
            "example": ["listed"] * 3,
            "agent": [7] * 3,
            "day": [2, 5, 9],
            "kind": ["record", "false_record", "listed"],
            "score": [995, 990, 990],
        }
    )
    return {
        "scores": report_chart("score_distribution", scores, tier_floors={"B": 995}),
        "disparity": report_chart("disparity", disparity),
        "credit_files": report_chart("credit_files", files),
        "tiers": charts.tiers_chart(tiers_frame()),
        "behaviour": charts.behaviour_chart(behaviour_frame(True)),
        "trust_chilling": charts.trust_chilling_chart(trust),
        "map": charts.map_chart(city(np.arange(300) % 7 == 0), radius_m=500.0),
        "lorenz": charts.lorenz_chart(lorenz),
        "transitions": report_chart("tier_transitions", moves),
        "forest": charts.forest_chart(forest_frame()),
        "response": charts.response_chart(band, "coverage", "deterrence"),
        "sobol": charts.sobol_chart(sensitivity_frame(), "deterrence"),
        "pareto": charts.pareto_chart(evaluations, front, objectives),
    }


@pytest.fixture(scope="module")
def built():
    return all_charts()


def test_every_chart_renders_to_png_and_html(built, tmp_path):
    for key, chart in built.items():
        assert chart is not None, key
        png = charts.export(chart, tmp_path / f"{key}.png")
        html = charts.export(chart, tmp_path / f"{key}.html")
        assert png.read_bytes()[:8] == PNG_MAGIC, key
        page = html.read_text()
        assert "Bokeh" in page and "cdn.bokeh.org" not in page, key  # inlined: works offline
    assert not list(tmp_path.glob(".*.tmp*"))  # nothing half-written left behind
    with pytest.raises(ChartError, match=r"\.png or \.html"):
        charts.export(built["tiers"], tmp_path / "x.pdf")


def test_tiers_are_on_a_log_axis_and_zero_shares_are_not_drawn(built):
    opts = hv().Store.lookup_options("bokeh", built["tiers"], "plot").kwargs
    assert opts.get("logy") is True
    curves = {c.label: c for c in _elements(built["tiers"], "Curve")}
    assert set(curves) == {"A", "B", "C"}
    assert curves["B"].dimension_values("share").min() == pytest.approx(0.001)  # small tier kept
    assert np.isnan(curves["C"].dimension_values("share")).all()  # 0 has no log: left out


def test_behaviour_title_says_whether_the_counterfactual_is_shown():
    both = charts.behaviour_chart(behaviour_frame(True))
    alone = charts.behaviour_chart(behaviour_frame(False))

    def title(o):
        return hv().Store.lookup_options("bokeh", o, "plot").kwargs["title"]

    assert title(both) == "Behaviour rates, with the system and without it"
    assert {s.label for s in _elements(both, "Scatter")} == {
        "with the system",
        "without the system",
    }
    assert "no counterfactual" in title(alone)
    assert {s.label for s in _elements(alone, "Scatter")} == {"with the system"}


def test_map_with_nobody_low_draws_nothing_and_without_a_map_no_circle(tmp_path):
    assert charts.map_chart(city(np.zeros(200, bool)), radius_m=500.0) is None
    assert charts.map_chart(None) is None
    low = np.arange(200) % 5 == 0
    plain = charts.map_chart(city(low), radius_m=None)  # a scenario without a deadbeat map
    assert not _elements(plain, "Ellipse") and len(_elements(plain, "Image")) == 1
    with_map = charts.map_chart(city(low), radius_m=500.0)
    (circle,) = _elements(with_map, "Ellipse")
    assert circle.width == pytest.approx(1.0)  # 500 m radius, in km
    # the image counts the low agents: density x cell area sums to their number
    (img,) = _elements(with_map, "Image")
    grid, _, cell = charts.raster(city(low)["x"].to_numpy(), city(low)["y"].to_numpy(), low)
    assert grid.sum() * (cell / 1000) ** 2 == pytest.approx(low.sum())
    assert img.dimension_values(2).sum() * (cell / 1000) ** 2 == pytest.approx(low.sum())


def test_raster_of_a_million_points_stays_small():
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 50_000, 1_000_000), rng.uniform(0, 30_000, 1_000_000)
    grid, bounds, cell = charts.raster(x, y, None)
    assert max(grid.shape) <= charts.run.MAP_BINS
    assert grid.sum() * (cell / 1000) ** 2 == pytest.approx(1_000_000)
    assert bounds[0] == pytest.approx(x.min() / 1000)


def test_lorenz_points_know_the_gini():
    equal = charts.lorenz_points(np.ones(100))
    assert equal["gini"].iloc[0] == pytest.approx(0.0, abs=1e-12)
    one_has_all = charts.lorenz_points(np.r_[np.zeros(99), 1.0])
    assert one_has_all["gini"].iloc[0] == pytest.approx(0.99)
    assert equal["wealth"].iloc[-1] == pytest.approx(1.0)
