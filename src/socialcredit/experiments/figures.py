"""The figures and the offline HTML page of a parameter sweep.

Inputs are the sweep's tables (see issue 13): ``experiments`` (one row per experiment: its
number, one column per varied factor, its seed), ``outcomes`` (long: experiment, replicate,
seed, outcome, with, without, effect), ``sensitivity`` (Sobol or Morris indices, or None),
``factors`` (the design's factor list), ``outcome_info`` (outcome -> label, unit, kind,
comparison) and ``manifest`` (what was run, shown at the top of the page).

Each outcome is plotted as its ``effect`` (with the system against without it) where it has
one, else as its value ``with`` the system; every axis label says which. An outcome with no
finite value at all is left out of the figures and named in a note on the page.

The response curves and the Sobol bars are the chart module's definitions
(``socialcredit.charts.response_chart`` and ``sobol_chart``, which the dashboard draws too),
rendered by matplotlib; the scatter matrix and the Morris bars, which only this page draws, are
matplotlib figures (Agg canvas, no pyplot state). The PNGs are written whole
into ``folder/figures/`` (``socialcredit.atomic.written_whole``); ``write_page`` embeds them as
base64 data URIs in one ``index.html``, so the page opens with no network. Every string that
comes from the data (factor and outcome names, labels, manifest values) is escaped.
"""

from __future__ import annotations

import base64
import math
import os
import tempfile
import textwrap
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from socialcredit.atomic import written_whole
from socialcredit.report.page import esc, page, table

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FIGURES_DIR = "figures"
PAGE = "index.html"
DPI = 110
MAX_CURVE_OUTCOMES = 8  # response curves: at most this many outcomes (rows) ...
MAX_FACTORS = 6  # ... and factors (columns); the scatter matrix too
MAX_SCATTER_OUTCOMES = 6
MAX_SENSITIVITY_OUTCOMES = 8
MAX_BAR_FACTORS = 30  # sensitivity bars: at most this many factors per outcome
EXACT_LEVELS = 12  # a numeric factor with at most this many values is plotted per level
BINS = 8  # otherwise it is cut into this many quantile bins
MAX_CATEGORIES = 24  # a text factor shows at most this many levels (the most frequent)
MAX_POINTS = 4000  # faint points drawn per panel at most (a fixed sample)
TABLE_ROWS = 200  # experiments shown in the page's table
META_COLUMNS = ("experiment", "seed", "replicate")
INDEX_LABELS = {"mu_star": "μ*", "sigma": "σ", "mu": "μ"}
VALUE = "__sweep_value__"  # the plotted number's column in joined tables (no factor's name)

# Figure file stem -> caption on the page, in page order.
CAPTIONS: dict[str, str] = {
    "response-curves": "Response of each outcome to each factor: the mean over every "
    "experiment and replicate at a level (or in a quantile bin), with a 95% Student-t interval.",
    "scatter-matrix": "Each experiment's mean over its replicates, outcome against factor.",
    "sensitivity-sobol": "Sobol indices: first order (S1) and total (ST), with 95% intervals.",
    "sensitivity-morris": "Morris screening: mean absolute elementary effect (μ*) with its 95% "
    "interval, and the standard deviation of the elementary effects (σ).",
}


# ---- which numbers -------------------------------------------------------------------------


def _finite(values: Any) -> np.ndarray:
    arr = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    return arr[np.isfinite(arr)]


def plotted_column(outcomes: pd.DataFrame, outcome: str) -> str | None:
    """``effect`` if the outcome has any finite effect, else ``with`` if it has any finite
    value with the system, else None (nothing to plot)."""
    rows = outcomes[outcomes["outcome"] == outcome]
    for column in ("effect", "with"):
        if column in rows and _finite(rows[column]).size:
            return column
    return None


def outcome_order(outcomes: pd.DataFrame, outcome_info: Mapping[str, Any] | None) -> list[str]:
    """The outcomes present in ``outcomes``: those in ``outcome_info`` first, in its order, then
    the rest in order of appearance."""
    present = list(dict.fromkeys(outcomes["outcome"].astype(str))) if len(outcomes) else []
    known = [o for o in (outcome_info or {}) if o in set(present)]
    return known + [o for o in present if o not in set(known)]


def _info(outcome: str, outcome_info: Mapping[str, Any] | None) -> tuple[str, str, str]:
    info = (outcome_info or {}).get(outcome) or {}
    label = str(info.get("label") or outcome)
    unit = str(info.get("unit") or "")
    return label, unit, str(info.get("comparison") or "")


def title_of(outcome: str, outcome_info: Mapping[str, Any] | None) -> str:
    """'label (unit)', or the label alone where there is no unit."""
    label, unit, _ = _info(outcome, outcome_info)
    return f"{label} ({unit})" if unit else label


def value_label(outcome: str, column: str, outcome_info: Mapping[str, Any] | None) -> str:
    """The axis label of a plotted outcome, saying whether it is the effect or the value."""
    label, unit, comparison = _info(outcome, outcome_info)
    if column == "effect":
        if comparison == "ratio":
            return f"effect of the system on {label} (ratio with / without)"
        return f"effect of the system on {label}" + (f" ({unit})" if unit else "")
    return f"{label} with the system" + (f" ({unit})" if unit else "")


def factor_names(
    experiments: pd.DataFrame, factors: Sequence[Mapping[str, Any]] | None
) -> list[str]:
    """The factors' columns in ``experiments``, in the design's order; without a factor list,
    every column but the experiment number and seed."""
    if factors:
        out = []
        for f in factors:
            for key in ("name", "field"):
                name = f.get(key)
                if name is not None and name in experiments.columns and name not in out:
                    out.append(name)
                    break
        return out
    return [c for c in experiments.columns if c not in META_COLUMNS]


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _joined(experiments: pd.DataFrame, outcomes: pd.DataFrame, outcome: str, column: str):
    """One row per experiment and replicate of ``outcome``: the factors and ``value``."""
    rows = outcomes.loc[outcomes["outcome"] == outcome, ["experiment", column]]
    rows = rows.rename(columns={column: VALUE})
    rows[VALUE] = pd.to_numeric(rows[VALUE], errors="coerce")
    rows = rows[np.isfinite(rows[VALUE].to_numpy(dtype=float))]
    factors = experiments.drop(columns=[c for c in ("seed",) if c in experiments.columns])
    return rows.merge(factors, on="experiment", how="inner")


def experiment_means(experiments: pd.DataFrame, outcomes: pd.DataFrame, outcome: str, column: str):
    """One row per experiment: its factors and ``value``, the mean over its replicates."""
    rows = _joined(experiments, outcomes, outcome, column)
    means = rows.groupby("experiment", sort=True)[VALUE].mean().reset_index()
    factors = experiments.drop(columns=[c for c in ("seed",) if c in experiments.columns])
    return means.merge(factors, on="experiment", how="inner")


# ---- response bands ------------------------------------------------------------------------


def t_interval(values: Any) -> tuple[float, float, float, int]:
    """(mean, low, high, n) of the finite values: a 95% Student-t interval for the mean.
    No values: NaN; one value: its mean and no interval."""
    from scipy import stats

    x = _finite(values)
    n = int(x.size)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if n == 1:
        return mean, math.nan, math.nan, 1
    half = float(stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half, n


def _band(groups) -> list[dict[str, Any]]:
    out = []
    for key, group in groups:
        key = key[0] if isinstance(key, tuple) else key
        mean, low, high, n = t_interval(group[VALUE])
        out.append({"key": key, "mean": mean, "low": low, "high": high, "n": n})
    return out


def response_table(
    experiments: pd.DataFrame,
    outcomes: pd.DataFrame,
    outcome: str,
    factor: str,
    column: str | None = None,
) -> pd.DataFrame:
    """The response of ``outcome`` to ``factor``: per level (a numeric factor with at most 12
    values, or any text factor) or per quantile bin (8 bins), the mean over every experiment
    and replicate there with a 95% t interval. Columns: x (the level, or the mean of the factor
    in the bin; a text level's position), label, n, mean, low, high, kind ('level', 'bin' or
    'category')."""
    column = column or plotted_column(outcomes, outcome) or "with"
    rows = _joined(experiments, outcomes, outcome, column)
    empty = pd.DataFrame(columns=["x", "label", "n", "mean", "low", "high", "kind"])
    if rows.empty or factor not in rows:
        return empty
    rows = rows[rows[factor].notna()]
    if rows.empty:
        return empty
    if not _is_numeric(experiments[factor]):
        rows = rows.assign(level=rows[factor].astype(str))
        keep = rows["level"].value_counts().index[:MAX_CATEGORIES]
        rows = rows[rows["level"].isin(keep)]
        out = pd.DataFrame(_band(rows.groupby("level", sort=True)))
        return out.assign(x=np.arange(len(out), dtype=float), label=out["key"], kind="category")
    x = rows[factor].astype(float)
    if x.nunique() <= EXACT_LEVELS:
        out = pd.DataFrame(_band(rows.groupby(x, sort=True)))
        out = out.assign(x=out["key"].astype(float), label=[f"{v:.4g}" for v in out["key"]])
        return out.assign(kind="level")
    bins = pd.qcut(x, BINS, duplicates="drop")
    out = pd.DataFrame(_band(rows.groupby(bins, sort=True, observed=True)))
    centres = x.groupby(bins, sort=True, observed=True).mean().to_numpy()
    return out.assign(x=centres, label=[str(k) for k in out["key"]], kind="bin")


# ---- drawing -------------------------------------------------------------------------------


def _figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _wrap(text: str, width: int = 34) -> str:
    return "\n".join(textwrap.wrap(text, width, break_long_words=True)) or text


def _plan(
    experiments: pd.DataFrame,
    outcomes: pd.DataFrame,
    factors: Sequence[Mapping[str, Any]] | None,
    outcome_info: Mapping[str, Any] | None,
    max_outcomes: int,
) -> tuple[list[tuple[str, str]], list[str]]:
    """([(outcome, plotted column)], [factor]) for a grid, within the limits."""
    plotted = []
    for o in outcome_order(outcomes, outcome_info):
        column = plotted_column(outcomes, o)
        if column is not None:
            plotted.append((o, column))
    return plotted[:max_outcomes], factor_names(experiments, factors)[:MAX_FACTORS]


def _sample(df: pd.DataFrame) -> pd.DataFrame:
    return df.sample(MAX_POINTS, random_state=0) if len(df) > MAX_POINTS else df


def _category_ticks(ax: Axes, labels: list[str]) -> None:
    """Text levels at 0, 1, ...; beyond 12 of them, every k-th labelled so that none overlap."""
    step = max(1, math.ceil(len(labels) / EXACT_LEVELS))
    at = range(0, len(labels), step)
    ax.set_xticks(list(at), [_wrap(str(labels[i]), 14) for i in at], rotation=30, ha="right")
    ax.tick_params(axis="x", labelsize=7)


def _factor_label(experiments: pd.DataFrame, factor: str, width: int) -> str:
    """The factor's name; for a text factor with more levels than are drawn, says so."""
    levels = experiments[factor].dropna().astype(str).nunique()
    if not _is_numeric(experiments[factor]) and levels > MAX_CATEGORIES:
        return _wrap(f"{factor} (the {MAX_CATEGORIES} most frequent of {levels} levels)", width)
    return _wrap(str(factor), width)


def response_curves(
    experiments: pd.DataFrame,
    outcomes: pd.DataFrame,
    factors: Sequence[Mapping[str, Any]] | None,
    outcome_info: Mapping[str, Any] | None = None,
    *,
    title: str | None = None,
) -> Any:
    """One panel per outcome (at most 8, in ``outcome_info``'s order) and factor (at most 6):
    the outcome's mean at each level of the factor (or in each of 8 quantile bins, over faint
    points) with a 95% Student-t band. Each panel is the chart module's ``response_chart``
    (the dashboard's too), laid out a row per outcome. None if nothing to draw."""
    from socialcredit.charts import response_chart
    from socialcredit.charts.core import hv

    plotted, names = _plan(experiments, outcomes, factors, outcome_info, MAX_CURVE_OUTCOMES)
    if not plotted or not names:
        return None
    panels = []
    for outcome, column in plotted:
        rows = _joined(experiments, outcomes, outcome, column)
        for factor in names:
            band = response_table(experiments, outcomes, outcome, factor, column)
            points = None
            if not band.empty and band["kind"].iloc[0] == "bin" and factor in rows:
                pts = _sample(rows[rows[factor].notna()])
                points = pd.DataFrame({"x": pts[factor].astype(float), "value": pts[VALUE]})
            chart = response_chart(
                band, _factor_label(experiments, factor, 60), value_label(outcome, column,
                outcome_info), points,
            )  # fmt: skip
            if chart is None:
                chart = hv().Text(0.5, 0.5, "no values")
            chart = chart.opts(title=title_of(outcome, outcome_info), backend="bokeh")
            panels.append(chart.opts(title=title_of(outcome, outcome_info), backend="matplotlib"))
    head = "Response to each factor: mean and 95% t interval"
    layout = hv().Layout(panels).cols(len(names))
    layout.opts(title=f"{title}: {head}" if title else head, backend="bokeh")
    return layout.opts(
        title=f"{title}: {head}" if title else head, sublabel_format="", backend="matplotlib"
    )


def _sensitivity_rows(sensitivity: pd.DataFrame | None, method: str) -> pd.DataFrame:
    if sensitivity is None or len(sensitivity) == 0 or "method" not in sensitivity:
        return pd.DataFrame(
            columns=["outcome", "factor", "method", "index", "value", "low", "high"]
        )
    return sensitivity[sensitivity["method"].astype(str) == method]


def _draw_bars(ax: Axes, rows: pd.DataFrame, indices: tuple[str, ...], errors: set[str]) -> None:
    factors = list(dict.fromkeys(rows["factor"].astype(str)))[:MAX_BAR_FACTORS]
    y = np.arange(len(factors), dtype=float)
    height = 0.8 / len(indices)
    for k, index in enumerate(indices):
        sub = rows[rows["index"].astype(str) == index].assign(
            factor=lambda d: d["factor"].astype(str)
        )
        sub = sub.drop_duplicates("factor").set_index("factor").reindex(factors)
        value = pd.to_numeric(sub["value"], errors="coerce").to_numpy(float)
        at = y + (k - (len(indices) - 1) / 2) * height
        ax.barh(
            at, np.nan_to_num(value), height, label=INDEX_LABELS.get(index, index), color=f"C{k}"
        )
        if index in errors:
            low = pd.to_numeric(sub["low"], errors="coerce").to_numpy(float)
            high = pd.to_numeric(sub["high"], errors="coerce").to_numpy(float)
            ok = np.isfinite(value) & np.isfinite(low) & np.isfinite(high)
            if ok.any():
                err = np.vstack([value[ok] - low[ok], high[ok] - value[ok]]).clip(min=0)
                ax.errorbar(
                    value[ok], at[ok], xerr=err, fmt="none", ecolor="black", capsize=2, lw=1
                )
    ax.set_yticks(y, [_wrap(f, 40) for f in factors], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.6)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")


def sobol_bars(
    sensitivity: pd.DataFrame | None,
    outcome_info: Mapping[str, Any] | None = None,
    *,
    method: str = "sobol",
    title: str | None = None,
) -> Figure | None:
    """Per outcome (at most 8), bars per factor: for ``method='sobol'`` S1 and ST with their
    95% intervals; for ``method='morris'`` μ* with its interval and σ beside it. None where
    ``sensitivity`` has no rows of that method."""
    rows = _sensitivity_rows(sensitivity, method)
    if rows.empty:
        return None
    order = [o for o in outcome_order(rows, outcome_info)][:MAX_SENSITIVITY_OUTCOMES]
    if method == "sobol":  # the chart module's Sobol bars (the dashboard's too), one per outcome
        from socialcredit.charts import sobol_chart
        from socialcredit.charts.core import hv

        charts = []
        for o in order:
            chart = sobol_chart(rows, o)
            if chart is not None:
                name = f"{title_of(o, outcome_info)}: S1 (alone) and ST (with interactions)"
                chart.opts(title=name, backend="bokeh")
                charts.append(chart.opts(title=name, backend="matplotlib"))
        if not charts:
            return None
        head = "Sobol indices (S1, ST), 95% intervals"
        layout = hv().Layout(charts).cols(1)
        return layout.opts(
            title=f"{title}: {head}" if title else head, sublabel_format="", backend="matplotlib"
        )
    indices, errors = (
        (("S1", "ST"), {"S1", "ST"}) if method == "sobol" else (("mu_star", "sigma"), {"mu_star"})
    )
    sizes = [
        min(rows.loc[rows["outcome"].astype(str) == o, "factor"].nunique(), MAX_BAR_FACTORS)
        for o in order
    ]
    fig = _figure(8.5, 1.0 + sum(0.9 + 0.32 * max(s, 1) for s in sizes))
    axes = fig.subplots(
        len(order), 1, squeeze=False, height_ratios=[0.9 + 0.32 * max(s, 1) for s in sizes]
    )
    for ax, outcome in zip(axes[:, 0], order, strict=True):
        _draw_bars(ax, rows[rows["outcome"].astype(str) == outcome], indices, errors)
        ax.set_title(_wrap(title_of(outcome, outcome_info), 80), fontsize=10)
        ax.set_xlabel(
            "index" if method == "sobol" else "μ* and σ of the elementary effects",
            fontsize=9,
        )
    head = (
        "Sobol indices (S1, ST), 95% intervals" if method == "sobol" else "Morris screening (μ*, σ)"
    )
    fig.suptitle(f"{title}: {head}" if title else head, fontsize=12)
    return fig


def _draw_scatter(ax: Axes, means: pd.DataFrame, factor: str, numeric: bool) -> None:
    means = means[means[factor].notna()]
    if means.empty:
        ax.text(0.5, 0.5, "no values", ha="center", va="center", transform=ax.transAxes)
        return
    means = _sample(means)
    if numeric:
        ax.scatter(means[factor].astype(float), means[VALUE], s=10, alpha=0.6, lw=0)
    else:
        levels = means[factor].astype(str)
        keep = list(levels.value_counts().index[:MAX_CATEGORIES])
        pos = levels.map({v: i for i, v in enumerate(sorted(keep))})
        shown = pos.notna()
        jitter = np.random.default_rng(0).uniform(-0.15, 0.15, int(shown.sum()))
        ax.scatter(
            pos[shown].astype(float) + jitter, means.loc[shown, VALUE], s=10, alpha=0.6, lw=0
        )
        _category_ticks(ax, sorted(keep))
    ax.grid(alpha=0.3)


def scatter_matrix(
    experiments: pd.DataFrame,
    outcomes: pd.DataFrame,
    factors: Sequence[Mapping[str, Any]] | None,
    outcome_info: Mapping[str, Any] | None = None,
    *,
    title: str | None = None,
) -> Figure | None:
    """A grid of scatter plots, outcomes (at most 6) by factors (at most 6): each experiment's
    mean over its replicates against the factor's value. None if nothing to draw."""
    plotted, names = _plan(experiments, outcomes, factors, outcome_info, MAX_SCATTER_OUTCOMES)
    if not plotted or not names:
        return None
    fig = _figure(1.2 + 2.8 * len(names), 0.9 + 2.6 * len(plotted))
    axes = fig.subplots(len(plotted), len(names), squeeze=False)
    for i, (outcome, column) in enumerate(plotted):
        means = experiment_means(experiments, outcomes, outcome, column)
        for j, factor in enumerate(names):
            ax = axes[i][j]
            _draw_scatter(ax, means, factor, _is_numeric(experiments[factor]))
            ax.set_title(_wrap(title_of(outcome, outcome_info), 36), fontsize=9)
            ax.set_xlabel(_factor_label(experiments, factor, 36), fontsize=9)
            if j == 0:
                ax.set_ylabel(_wrap(value_label(outcome, column, outcome_info)), fontsize=9)
    head = "Experiment means (over replicates)"
    fig.suptitle(f"{title}: {head}" if title else head, fontsize=12)
    return fig


# ---- files ---------------------------------------------------------------------------------


def _title(manifest: Mapping[str, Any] | None) -> str:
    manifest = manifest or {}
    return str(
        manifest.get("title") or manifest.get("name") or manifest.get("scenario_name") or "sweep"
    )


def _figures(experiments, outcomes, sensitivity, factors, outcome_info, title) -> dict[str, Any]:
    drawn = {
        "response-curves": response_curves(
            experiments, outcomes, factors, outcome_info, title=title
        ),
        "scatter-matrix": scatter_matrix(experiments, outcomes, factors, outcome_info, title=title),
        "sensitivity-sobol": sobol_bars(sensitivity, outcome_info, method="sobol", title=title),
        "sensitivity-morris": sobol_bars(sensitivity, outcome_info, method="morris", title=title),
    }
    return {stem: fig for stem, fig in drawn.items() if fig is not None}


def write_figures(
    folder: str | Path,
    experiments: pd.DataFrame,
    outcomes: pd.DataFrame,
    sensitivity: pd.DataFrame | None,
    factors: Sequence[Mapping[str, Any]] | None,
    outcome_info: Mapping[str, Any] | None,
    manifest: Mapping[str, Any] | None,
) -> list[Path]:
    """Write the sweep's PNGs into ``folder/figures/`` (the folder replaced whole, so no old
    figure survives beside new ones) and return their paths, in page order."""
    folder = Path(folder)
    figures = _figures(experiments, outcomes, sensitivity, factors, outcome_info, _title(manifest))
    with written_whole(folder) as tmp:
        (tmp / FIGURES_DIR).mkdir()
        for stem, fig in figures.items():
            with warnings.catch_warnings():  # a glyph the font lacks is drawn as a box
                warnings.filterwarnings("ignore", message="Glyph .* missing", category=UserWarning)
                if hasattr(fig, "savefig"):  # matplotlib (scatter matrix, Morris)
                    fig.savefig(tmp / FIGURES_DIR / f"{stem}.png", dpi=DPI)
                else:  # the chart module's (response curves, Sobol bars)
                    from socialcredit.charts.core import export

                    export(fig, tmp / FIGURES_DIR / f"{stem}.png")
    return [folder / FIGURES_DIR / f"{stem}.png" for stem in figures]


def _num(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return "–"
    return f"{v:.4g}"


def _manifest_html(manifest: Mapping[str, Any] | None) -> str:
    items = []
    for key, value in (manifest or {}).items():
        if key in ("title",):
            continue
        shown = (
            f"<code>{esc(value)}</code>"
            if "command" in str(key)
            else esc(_num(value) if isinstance(value, float) else value)
        )
        items.append(f"<dt>{esc(key)}</dt><dd>{shown}</dd>")
    return f'<dl class="facts">{"".join(items)}</dl>\n' if items else ""


def _notes(experiments, outcomes, factors, outcome_info) -> list[str]:
    """Plain-text notes (escaped when shown): what the figures leave out, and why."""
    notes = []
    order = outcome_order(outcomes, outcome_info)
    empty = [o for o in order if plotted_column(outcomes, o) is None]
    if empty:
        notes.append(
            "No finite value, left out of the figures and the table: " + ", ".join(empty) + "."
        )
    absent = [o for o in (outcome_info or {}) if o not in set(order)]
    if absent:
        notes.append("Not in the results: " + ", ".join(absent) + ".")
    names = factor_names(experiments, factors)
    missing = [
        str(f.get("name"))
        for f in factors or []
        if f.get("name") not in names and f.get("field") not in names
    ]
    if missing:
        notes.append(
            "Factors without a column in the experiments table: " + ", ".join(missing) + "."
        )
    plotted = len(order) - len(empty)
    if plotted > MAX_CURVE_OUTCOMES:
        notes.append(
            f"The response curves show the first {MAX_CURVE_OUTCOMES} of {plotted} outcomes, the scatter matrix the first {MAX_SCATTER_OUTCOMES}."
        )
    if len(names) > MAX_FACTORS:
        notes.append(f"The figures show the first {MAX_FACTORS} of {len(names)} factors.")
    return notes


def outcome_table(
    experiments: pd.DataFrame,
    outcomes: pd.DataFrame,
    factors: Sequence[Mapping[str, Any]] | None,
    outcome_info: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """One row per experiment: its number, its factors and, per outcome with a finite value,
    its mean over replicates (of the plotted column); columns named by ``_column_title``."""
    names = factor_names(experiments, factors)
    out = (
        experiments[["experiment", *names]].drop_duplicates("experiment").sort_values("experiment")
    )
    for outcome in outcome_order(outcomes, outcome_info):
        column = plotted_column(outcomes, outcome)
        if column is None:
            continue
        rows = outcomes.loc[outcomes["outcome"] == outcome, ["experiment", column]]
        values = pd.to_numeric(rows[column], errors="coerce")
        means = (
            values.groupby(rows["experiment"])
            .mean()
            .rename(_column_title(outcome, column, outcome_info))
        )
        out = out.merge(means, left_on="experiment", right_index=True, how="left")
    return out.reset_index(drop=True)


def _column_title(outcome: str, column: str, outcome_info: Mapping[str, Any] | None) -> str:
    return f"{title_of(outcome, outcome_info)}: {'effect' if column == 'effect' else 'with the system'}"


def _tables_html(experiments, outcomes, sensitivity, factors, outcome_info) -> str:
    wide = outcome_table(experiments, outcomes, factors, outcome_info)
    names = set(factor_names(experiments, factors))
    numeric = [c == "experiment" or c not in names or _is_numeric(wide[c]) for c in wide.columns]
    shown = wide.head(TABLE_ROWS)
    rows = [[_num(v) for v in row] for row in shown.itertuples(index=False)]
    html = "<h2>Outcomes by experiment</h2>\n"
    html += '<p class="what">Each experiment\'s mean over its replicates: the effect of the system where the outcome has one, else its value with the system.</p>\n'
    if len(wide) > TABLE_ROWS:
        html += f'<p class="note">The first {TABLE_ROWS} of {len(wide)} experiments; {len(wide) - TABLE_ROWS} are left out of this table (the figures use all of them).</p>\n'
    html += table([str(c) for c in wide.columns], rows, numeric)
    sens = sensitivity if sensitivity is not None else pd.DataFrame()
    if len(sens):
        columns = [
            c for c in ("outcome", "factor", "method", "index", "value", "low", "high") if c in sens
        ]
        srows = [[_num(v) for v in row] for row in sens[columns].itertuples(index=False)]
        html += "<h2>Sensitivity</h2>\n" + table(
            columns, srows, [c in ("value", "low", "high") for c in columns]
        )
    return html


def _figures_html(figures: Sequence[Path]) -> str:
    parts = []
    for path in figures:
        path = Path(path)
        if not path.is_file():
            continue
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        caption = CAPTIONS.get(path.stem, path.stem)
        parts.append(
            f'<figure class="chart"><img src="data:image/png;base64,{data}" alt="{esc(caption)}" '
            f'style="max-width:100%;height:auto"><figcaption class="what">{esc(caption)}</figcaption></figure>'
        )
    return "<h2>Figures</h2>\n" + "\n".join(parts) + "\n" if parts else ""


def _write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole: a temporary file beside it, fsynced, then renamed."""
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_page(
    folder: str | Path,
    experiments: pd.DataFrame,
    outcomes: pd.DataFrame,
    sensitivity: pd.DataFrame | None,
    factors: Sequence[Mapping[str, Any]] | None,
    outcome_info: Mapping[str, Any] | None,
    manifest: Mapping[str, Any] | None,
    figures: Sequence[Path] | None = None,
) -> Path:
    """Write ``folder/index.html``: one self-contained page (no network) with the manifest,
    notes, the outcomes by experiment (first 200), the sensitivity table and the figures as
    embedded PNGs. ``figures`` are the PNGs to embed; None writes them first (``write_figures``)."""
    folder = Path(folder)
    if figures is None:
        figures = write_figures(
            folder, experiments, outcomes, sensitivity, factors, outcome_info, manifest
        )
    folder.mkdir(parents=True, exist_ok=True)
    title = _title(manifest)
    notes = _notes(experiments, outcomes, factors, outcome_info)
    body = f"<h1>{esc(title)}</h1>\n" + _manifest_html(manifest)
    body += "".join(f'<p class="note">{esc(n)}</p>\n' for n in notes)
    body += _tables_html(experiments, outcomes, sensitivity, factors, outcome_info)
    body += _figures_html(figures)
    body += "<footer>Synthetic populations only: every person in this sweep is simulated.</footer>"
    path = folder / PAGE
    _write_text(path, page(f"{title}: sweep", body))
    return path
