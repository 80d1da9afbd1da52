"""Charts of audits, sweeps and policy searches, from tidy frames or from their folders.

- ``forest_chart``: an audit's effects with 95% intervals (``audit.page.forest_rows``).
- ``response_chart``: a sweep's outcome against one factor, the mean with a 95% band
  (``experiments.figures.response_table``).
- ``sobol_chart``: Sobol first-order and total indices per factor, with intervals
  (``sensitivity.parquet``).
- ``pareto_chart``: a search's designs in the space of two objectives, the front highlighted.

Loaders (``sweep_frames``, ``search_frames``) read a folder as data (an audit's forest rows:
``audit.page.audit_forest``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from socialcredit.charts.core import WITH, WITHOUT, hv, style

CLEAR = "#c0392b"  # an interval that excludes no effect
UNCLEAR = "#34495e"


# ----------------------------------------------------------------------------- loaders


def sweep_frames(folder: str | Path) -> dict[str, Any]:
    """experiments, outcomes, sensitivity (or None) and the manifest of a sweep folder."""
    folder = Path(folder)
    sens = folder / "sensitivity.parquet"
    return {
        "experiments": pd.read_parquet(folder / "experiments.parquet"),
        "outcomes": pd.read_parquet(folder / "outcomes.parquet"),
        "sensitivity": pd.read_parquet(sens) if sens.is_file() else None,
        "manifest": json.loads((folder / "sweep.json").read_text()),
    }


def search_frames(folder: str | Path) -> dict[str, Any]:
    """evaluations, front, objective columns (with their directions) and each front design's
    scenario file, of a search folder."""
    folder = Path(folder)
    manifest = json.loads((folder / "search.json").read_text())
    objectives = [
        (f"{o['outcome']}.{o.get('of') or 'effect'}", o["direction"])
        for o in manifest.get("objectives", [])
    ]
    front = pd.read_parquet(folder / "front.parquet")
    files = {}
    for d in front.get("design", pd.Series(dtype=int)):
        f = folder / "front" / f"design-{int(d):02d}.yaml"
        if f.is_file():
            files[int(d)] = f
    return {
        "evaluations": pd.read_parquet(folder / "evaluations.parquet"),
        "front": front,
        "objectives": objectives,
        "files": files,
        "manifest": manifest,
    }


# ----------------------------------------------------------------------------- charts


def forest_chart(rows: pd.DataFrame, title: str = "Effects with 95% intervals") -> Any:
    """One row per outcome (aims first): the effect as a dot and its 95% interval as a bar,
    red where the interval excludes no effect. Outcomes have different units, so each row
    is drawn on its own scale: -1 and 1 are the row's largest distance from no effect (0),
    and the numbers at the right are the effects in their units."""
    if rows is None or rows.empty:
        return None
    h = hv()
    df = rows.copy()
    null = df["null"] if "null" in df else pd.Series(0.0, index=df.index)
    ends = df[["ci_low", "ci_high", "effect"]].sub(null, axis=0).abs()
    reach = ends.max(axis=1).replace(0, 1.0).fillna(1.0)
    for c in ("effect", "ci_low", "ci_high"):
        df[f"{c}_s"] = (df[c] - null) / reach
    prefix = df["kind"].map(lambda k: "aim" if k == "aim" else "harm")
    df["row"] = [f"{p}: {lab}" for p, lab in zip(prefix, df["label"], strict=True)]
    ok = np.isfinite(df["ci_low_s"]) & np.isfinite(df["ci_high_s"])
    clear = ok & ((df["ci_low"] > null) | (df["ci_high"] < null))
    df["colour"] = np.where(clear, CLEAR, UNCLEAR)
    if "text" not in df:
        df["text"] = df["effect"].map(lambda v: f"{v:.4g}")
    df["y"] = np.arange(len(df))[::-1].astype(float)  # the first row at the top
    xd = ("effect_s", "effect (each row on its own scale; no effect at 0)")
    bars = h.Segments(df[ok], [("ci_low_s", xd[1]), "y", "ci_high_s", "y"], ["colour", "row"])
    dots = h.Scatter(df, xd, ["y", "colour", "row", "text"])
    labels = h.Labels(df.assign(x=1.22), ["x", "y"], "text")
    zero = h.VLine(0.0)
    style(bars, color="colour", bokeh={"line_width": 3}, mpl={"linewidth": 3})
    style(dots, color="colour", bokeh={"size": 9, "tools": ["hover"]}, mpl={"s": 40})
    style(labels, bokeh={"text_font_size": "9pt", "text_align": "left"}, mpl={"size": 8})
    style(zero, color="#888888", bokeh={"line_width": 1}, mpl={"linewidth": 1})
    n = len(df)
    return style(
        bars * dots * labels * zero,
        title=title,
        xlim=(-1.2, 2.2),
        ylim=(-0.7, n - 0.3),
        yticks=list(zip(df["y"], df["row"], strict=True)),
        ylabel="",
        show_grid=True,
        bokeh={"width": 900, "height": max(220, 70 + 28 * n)},
        mpl={"fig_inches": 10, "aspect": max(0.8, 3.0 - 0.12 * n)},
    )


def response_chart(
    band: pd.DataFrame, factor: str, outcome: str, points: pd.DataFrame | None = None
) -> Any:
    """The mean of ``outcome`` at each level (or bin) of ``factor`` with its 95% band
    (``response_table``'s frame: x, label, n, mean, low, high, kind); ``points`` (x, value),
    when given, are every experiment's value, drawn faint."""
    if band is None or band.empty:
        return None
    h = hv()
    # "mean" is a DataFrame method: matplotlib's line plot would draw it, so rename it
    b = band.sort_values("x").rename(columns={"mean": "average"})
    spread = h.Spread(
        b.assign(lo=b["average"] - b["low"], hi=b["high"] - b["average"]),
        ("x", factor),
        [("average", outcome), "lo", "hi"],
        label="95% interval",
    )
    line = h.Curve(b, ("x", factor), ("average", outcome), label="mean")
    dots = h.Scatter(b, ("x", factor), [("average", outcome), "n"])
    style(spread, color=WITHOUT, alpha=0.25)
    style(line, color=WITHOUT, bokeh={"line_width": 2, "tools": ["hover"]})
    style(dots, color=WITHOUT, bokeh={"size": 6}, mpl={"s": 20})
    layers = [spread, line, dots]
    if points is not None and not points.empty:
        pts = h.Scatter(points, ("x", factor), ("value", outcome), label="experiments")
        layers.insert(0, style(pts, color="#999999", alpha=0.35, bokeh={"size": 4}, mpl={"s": 8}))
    if b["kind"].iloc[0] == "category":
        ticks = list(zip(b["x"], b["label"], strict=True))
        extra: dict[str, Any] = {"xticks": ticks}
    else:
        extra = {}
    return style(
        h.Overlay(layers),
        title=f"{outcome} against {factor}",
        show_grid=True,
        legend_position="top_right",
        **extra,
        bokeh={"width": 560, "height": 320},
        mpl={"fig_inches": 6, "aspect": 1.6},
    )


def sobol_chart(sensitivity: pd.DataFrame | None, outcome: str) -> Any:
    """Sobol indices of ``outcome``: first order (S1) and total (ST) per factor, with their
    95% intervals. None when the sweep has no Sobol analysis for it."""
    if sensitivity is None or sensitivity.empty:
        return None
    h = hv()
    s = sensitivity[
        (sensitivity["method"].astype(str) == "sobol")
        & (sensitivity["outcome"].astype(str) == outcome)
        & (sensitivity["index"].astype(str).isin(["S1", "ST"]))
    ].copy()
    if s.empty:
        return None
    s["factor"] = s["factor"].astype(str)
    s["index"] = s["index"].astype(str)
    s["bar"] = s["factor"] + " " + s["index"]
    s = s.sort_values(["factor", "index"], kind="stable")
    bars = h.Bars(s, ("bar", "factor and index"), [("value", "Sobol index"), "index"])
    err = h.ErrorBars(
        s.assign(
            lo=(s["value"] - s["low"]).clip(lower=0),
            hi=(s["high"] - s["value"]).clip(lower=0),
        ),
        ("bar", "factor and index"),
        [("value", "Sobol index"), "lo", "hi"],
    )
    colour = h.dim("index").categorize({"S1": WITHOUT, "ST": WITH}, default="#999999")
    style(bars, color=colour, bokeh={"tools": ["hover"]})
    o = bars * err if bool(np.isfinite(s["low"]).any()) else bars
    return style(
        o,
        title=f"Sobol indices of {outcome} (S1: alone, ST: with interactions; 95% intervals)",
        show_grid=True,
        bokeh={"width": 640, "height": 320, "xrotation": 30},
        mpl={"fig_inches": 7, "aspect": 1.8, "xrotation": 30},
    )


def pareto_chart(
    evaluations: pd.DataFrame,
    front: pd.DataFrame,
    objectives: list[tuple[str, str]],
) -> Any:
    """Every design evaluated (grey) and the Pareto front (red, joined in order) in the space
    of the first two objectives; with one objective, the objective by design number."""
    if front is None or front.empty or not objectives:
        return None
    h = hv()
    ev = evaluations if evaluations is not None else front
    a = objectives[0][0]
    if len(objectives) == 1 or objectives[1][0] not in front:
        x_dim, y_dim = "design", a
    else:
        x_dim, y_dim = a, objectives[1][0]
    arrow = {o: ("↓ better" if d == "minimize" else "↑ better") for o, d in objectives}
    xl = f"{x_dim} ({arrow[x_dim]})" if x_dim in arrow else x_dim
    yl = f"{y_dim} ({arrow[y_dim]})"
    vd = [(y_dim, yl), "design"]
    every = h.Scatter(ev, (x_dim, xl), vd, label="designs evaluated")
    best = h.Scatter(front, (x_dim, xl), vd, label="Pareto front")
    line = h.Curve(front.sort_values(x_dim), (x_dim, xl), (y_dim, yl))
    style(every, color="#999999", alpha=0.6, bokeh={"size": 6, "tools": ["hover"]}, mpl={"s": 15})
    style(best, color=WITH, bokeh={"size": 10, "tools": ["hover", "tap"]}, mpl={"s": 45})
    style(line, color=WITH, alpha=0.6)
    return style(
        every * line * best,
        title=f"{len(ev)} designs evaluated, {len(front)} on the Pareto front",
        show_grid=True,
        legend_position="top_right",
        bokeh={"width": 620, "height": 420},
        mpl={"fig_inches": 7, "aspect": 1.3},
    )


__all__ = [
    "forest_chart",
    "pareto_chart",
    "response_chart",
    "search_frames",
    "sobol_chart",
    "sweep_frames",
]
