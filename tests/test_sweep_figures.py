"""The figures and offline page of a parameter sweep (issue 13), on small synthetic tables."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread
from scipy import stats

from socialcredit.experiments.figures import (
    FIGURES_DIR,
    TABLE_ROWS,
    plotted_column,
    response_table,
    sobol_bars,
    t_interval,
    value_label,
    write_figures,
    write_page,
)

INFO = {
    "misconduct.total": {
        "label": "Misconduct <b>total</b>",
        "unit": "acts/agent-year",
        "kind": "aim",
        "comparison": "difference",
    },
    "trust.mean": {"label": "Trust", "unit": "", "kind": "harm", "comparison": "within"},
}
FACTORS = [
    {
        "name": "coverage",
        "field": "channels.0.coverage.littering",
        "role": "lever",
        "low": 0.0,
        "high": 1.0,
        "values": None,
    },
    {
        "name": "régime <i>",
        "field": "response.model",
        "role": "uncertainty",
        "low": None,
        "high": None,
        "values": ["fixed", "adaptive"],
    },
]
MANIFEST = {
    "title": "Sweep <script>alert(1)</script>",
    "scenario_name": "rongcheng",
    "design": "sobol",
    "experiments": 0,
    "replicates": 2,
    "command": "socialcredit sweep rongcheng exp.yaml --set a=<x>",
}


def _tables(n: int = 20, replicates: int = 2, seed: int = 0):
    rng = np.random.default_rng(seed)
    experiments = pd.DataFrame(
        {
            "experiment": np.arange(n, dtype=np.int64),
            "coverage": rng.uniform(0, 1, n),
            "régime <i>": rng.choice(["fixed", "adaptive", "治理"], n),
            "seed": np.arange(n, dtype=np.int64) + 100,
        }
    )
    rows = []
    for e in range(n):
        for r in range(replicates):
            w = float(rng.normal(experiments["coverage"][e], 0.2))
            wo = float(rng.normal(0.5, 0.1))
            rows.append((e, r, 1000 + 10 * e + r, "misconduct.total", w, wo, w - wo))
            rows.append((e, r, 1000 + 10 * e + r, "trust.mean", w / 2, np.nan, np.nan))
    outcomes = pd.DataFrame(
        rows, columns=["experiment", "replicate", "seed", "outcome", "with", "without", "effect"]
    )
    sensitivity = pd.DataFrame(
        [
            ("misconduct.total", f, "sobol", i, 0.3, 0.2, 0.4)
            for f in ("coverage", "régime <i>")
            for i in ("S1", "ST")
        ]
        + [
            ("trust.mean", f, "morris", i, 0.1, np.nan, np.nan)
            for f in ("coverage",)
            for i in ("mu_star", "sigma", "mu")
        ],
        columns=["outcome", "factor", "method", "index", "value", "low", "high"],
    )
    return experiments, outcomes, sensitivity


def _write(folder, experiments, outcomes, sensitivity, factors=FACTORS, info=INFO):
    figures = write_figures(folder, experiments, outcomes, sensitivity, factors, info, MANIFEST)
    page = write_page(folder, experiments, outcomes, sensitivity, factors, info, MANIFEST, figures)
    return figures, page, page.read_text(encoding="utf-8")


def test_files_written_and_pngs_valid(tmp_path):
    figures, page, _ = _write(tmp_path, *_tables())
    names = [p.name for p in figures]
    assert names == [
        "response-curves.png",
        "scatter-matrix.png",
        "sensitivity-sobol.png",
        "sensitivity-morris.png",
    ]
    for path in figures:
        assert path.parent == tmp_path / FIGURES_DIR
        image = imread(path)
        assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 200
    assert page == tmp_path / "index.html"
    assert not [p for p in tmp_path.rglob(".tmp*")]  # written whole: no temporary left


def test_page_is_offline_and_escaped(tmp_path):
    _, _, text = _write(tmp_path, *_tables())
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text)
    assert "<script" not in text  # PNGs only: no script at all, so none from the data
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "Misconduct &lt;b&gt;total&lt;/b&gt;" in text
    assert "régime &lt;i&gt;" in text and "<i>" not in text and "<b>" not in text
    assert "a=&lt;x&gt;" in text
    assert text.count('src="data:image/png;base64,') == 4
    assert "<h2>Sensitivity</h2>" in text


def test_exact_level_band_is_the_t_interval():
    experiments = pd.DataFrame(
        {"experiment": [0, 1, 2, 3], "a": [0.0, 0.0, 1.0, 1.0], "seed": [1, 2, 3, 4]}
    )
    values = {0: [1.0, 2.0], 1: [3.0, 5.0], 2: [10.0, 10.0], 3: [12.0, np.nan]}
    outcomes = pd.DataFrame(
        [(e, r, 0, "o", v, np.nan, v) for e, vs in values.items() for r, v in enumerate(vs)],
        columns=["experiment", "replicate", "seed", "outcome", "with", "without", "effect"],
    )
    band = response_table(experiments, outcomes, "o", "a")
    assert list(band["kind"]) == ["level", "level"] and list(band["x"]) == [0.0, 1.0]
    x = np.array([1.0, 2.0, 3.0, 5.0])
    half = stats.t.ppf(0.975, 3) * x.std(ddof=1) / math.sqrt(4)
    row = band.iloc[0]
    assert row["n"] == 4 and row["mean"] == pytest.approx(2.75)
    assert row["low"] == pytest.approx(2.75 - half) and row["high"] == pytest.approx(2.75 + half)
    y = np.array([10.0, 10.0, 12.0])  # the NaN replicate is left out
    half = stats.t.ppf(0.975, 2) * y.std(ddof=1) / math.sqrt(3)
    assert band.iloc[1]["n"] == 3
    assert band.iloc[1]["low"] == pytest.approx(y.mean() - half)
    assert t_interval([4.0])[:3] == (
        4.0,
        pytest.approx(math.nan, nan_ok=True),
        pytest.approx(math.nan, nan_ok=True),
    )


def test_many_levels_are_binned_and_text_is_categorical():
    experiments, outcomes, _ = _tables(n=200, replicates=1)
    band = response_table(experiments, outcomes, "misconduct.total", "coverage")
    assert list(band["kind"].unique()) == ["bin"] and len(band) == 8
    assert band["n"].sum() == 200 and band["x"].is_monotonic_increasing
    cats = response_table(experiments, outcomes, "misconduct.total", "régime <i>")
    assert set(cats["label"]) == {"fixed", "adaptive", "治理"} and set(cats["kind"]) == {"category"}


def test_effect_or_with_and_the_label_says_which():
    _, outcomes, _ = _tables(n=3)
    assert plotted_column(outcomes, "misconduct.total") == "effect"
    assert plotted_column(outcomes, "trust.mean") == "with"
    assert value_label("misconduct.total", "effect", INFO).startswith("effect of the system on")
    assert value_label("trust.mean", "with", INFO) == "Trust with the system"


def test_no_sensitivity_draws_no_bars(tmp_path):
    experiments, outcomes, _ = _tables(n=5)
    assert sobol_bars(None) is None and sobol_bars(pd.DataFrame()) is None
    figures, _, text = _write(tmp_path, experiments, outcomes, None)
    assert [p.stem for p in figures] == ["response-curves", "scatter-matrix"]
    assert "<h2>Sensitivity</h2>" not in text


def _one_experiment():
    experiments, outcomes, sensitivity = _tables(n=1, replicates=1)
    return experiments, outcomes, sensitivity, FACTORS


def _all_nan():
    experiments, outcomes, sensitivity = _tables(n=6)
    nan = outcomes.assign(outcome="chilling.speech", **{"with": np.nan, "effect": np.nan})
    return experiments, pd.concat([outcomes, nan], ignore_index=True), sensitivity, FACTORS


def _nothing_finite():
    experiments, outcomes, _ = _tables(n=4)
    outcomes = outcomes.assign(**{"with": np.nan, "without": np.nan, "effect": np.nan})
    return experiments, outcomes, None, FACTORS


def _single_factor():
    experiments, outcomes, sensitivity = _tables(n=8)
    return experiments.drop(columns=["régime <i>"]), outcomes, sensitivity, FACTORS[:1]


def _two_hundred_levels():
    experiments, outcomes, sensitivity = _tables(n=200, replicates=1)
    experiments["coverage"] = np.arange(200) / 199.0
    experiments["régime <i>"] = [f"niveau-{i}-é" for i in range(200)]
    return experiments, outcomes, sensitivity, FACTORS


def _no_factor_list():
    experiments, outcomes, sensitivity = _tables(n=5)
    return experiments, outcomes, sensitivity, []


@pytest.mark.parametrize(
    "case",
    [
        _one_experiment,
        _all_nan,
        _nothing_finite,
        _single_factor,
        _two_hundred_levels,
        _no_factor_list,
    ],
)
def test_edge_cases_do_not_crash(tmp_path, case):
    experiments, outcomes, sensitivity, factors = case()
    figures, page, text = _write(tmp_path, experiments, outcomes, sensitivity, factors)
    for path in figures:
        imread(path)
    assert page.is_file() and text.startswith("<!DOCTYPE html>")
    if case is _all_nan:
        assert "No finite value" in text and "chilling.speech" in text


def test_table_says_how_many_experiments_are_left_out(tmp_path):
    experiments, outcomes, _ = _tables(n=TABLE_ROWS + 5, replicates=1)
    figures = write_figures(tmp_path, experiments, outcomes, None, FACTORS, INFO, MANIFEST)
    assert len(figures) == 2
    text = write_page(tmp_path, experiments, outcomes, None, FACTORS, INFO, MANIFEST).read_text()
    assert "5 are left out" in text


def test_rewrite_replaces_old_figures(tmp_path):
    _write(tmp_path, *_tables(n=5))
    experiments, outcomes, _ = _tables(n=5)
    figures, _, _ = _write(tmp_path, experiments, outcomes, None)
    assert sorted(p.name for p in (tmp_path / FIGURES_DIR).iterdir()) == sorted(
        p.name for p in figures
    )
