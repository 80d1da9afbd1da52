"""The charts of one run (and its counterfactual), each built from a tidy DataFrame.

Data functions (``*_data``) turn a Result into the small frame a chart draws; chart functions
take that frame and return a HoloViews object styled for both backends, or None when there is
nothing true to draw (a map with nobody in the low tiers draws no empty square and no circle).
The tier, behaviour and map frames are the report's own (``socialcredit.report.figures``), so
the page, the PNGs and the dashboard read the same numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from socialcredit.charts.core import BOKEH, MPL, RADIUS, WITH, WITHOUT, hv, style
from socialcredit.units import DAYS_PER_YEAR

if TYPE_CHECKING:  # pragma: no cover
    from socialcredit.result import Result

MAP_BINS = 200  # the rasterised map: at most this many cells a side
MAX_PANELS = 4  # tier charts: at most this many jurisdictions (the most populous)
CHILLING = ("speech", "religion")  # behaviour categories whose acts measure chilling
MAP_EMPTY = "No map: nobody is in the two lowest tiers or listed"
MAP_NONE = "No map: this run has no home positions (x, y)"


def _tier_colours(names: list[str]) -> dict[str, str]:
    from socialcredit.report.figures import tier_colours

    return tier_colours(names)


# ----------------------------------------------------------------------------- data


def tiers_data(result: Result) -> pd.DataFrame | None:
    """day, jurisdiction, tier, count, share (report.figures.tiers_over_time)."""
    from socialcredit.report.figures import tiers_over_time

    return tiers_over_time(result)


def behaviour_data(result: Result, counterfactual: Result | None = None) -> pd.DataFrame | None:
    """behaviour, category, system, [counterfactual, difference] in acts per agent-year."""
    from socialcredit.report.figures import behaviour_rates

    return behaviour_rates(result, counterfactual)


def _daily(metrics: pd.DataFrame, name: str) -> pd.Series:
    return metrics[metrics["metric"] == name].groupby("day")["value"].sum()


def trust_chilling_data(
    result: Result, counterfactual: Result | None = None
) -> pd.DataFrame | None:
    """day, arm ('with the system' / 'without it'), measure, value: the agents' mean trust
    (scenarios with trust) and speech and religious acts per agent-year, day by day (the
    audit's chilling outcome, per day). None when the run has neither."""
    frames = []
    arms = [("with the system", result)]
    if counterfactual is not None:
        arms.append(("without it", counterfactual))
    for arm, r in arms:
        m = r.metrics
        if m is None or m.empty:
            continue
        agents = _daily(m, "agents")
        if "mean_trust" in set(m["metric"]):
            t = m[m["metric"] == "mean_trust"].set_index(["day", "jurisdiction", "group"])["value"]
            w = m[m["metric"] == "agents"].set_index(["day", "jurisdiction", "group"])["value"]
            trust = (t * w.reindex(t.index)).groupby(level="day").sum() / agents
            frames.append(_frame(trust, arm, "mean trust"))
        names = [b.name for b in r.scenario.behaviours if b.category in CHILLING]
        if names:
            acts = m[m["metric"].isin([f"acts.{b}" for b in names])].groupby("day")["value"].sum()
            rate = acts.reindex(agents.index, fill_value=0.0) / agents * DAYS_PER_YEAR
            frames.append(_frame(rate, arm, "speech and religious acts per agent-year"))
    if not frames:
        return None
    return pd.concat(frames, ignore_index=True)


def _frame(series: pd.Series, arm: str, measure: str) -> pd.DataFrame:
    s = series.replace([np.inf, -np.inf], np.nan).dropna()
    return pd.DataFrame(
        {"day": s.index.to_numpy(np.int64), "arm": arm, "measure": measure, "value": s.to_numpy()}
    )


def lorenz_points(wealth: np.ndarray, points: int = 200) -> pd.DataFrame:
    """The Lorenz curve of ``wealth`` (negative holdings counted as 0): people, wealth, gini."""
    w = np.sort(np.clip(wealth[np.isfinite(wealth)], 0, None))
    n = len(w)
    total = w.sum()
    cum = np.concatenate([[0.0], np.cumsum(w)]) / (total if total > 0 else 1.0)
    people = np.arange(n + 1) / max(n, 1)
    gini = float(1 - 2 * np.trapezoid(cum, people)) if total > 0 else 0.0
    keep = np.unique(np.linspace(0, n, min(points, n + 1)).round().astype(int))
    return pd.DataFrame({"people": people[keep], "wealth": cum[keep], "gini": gini})


# ----------------------------------------------------------------------------- charts


def tiers_chart(df: pd.DataFrame | None, title: str = "") -> Any:
    """Tier shares over time, one panel per jurisdiction (at most four, the largest), log y
    so small tiers stay visible (a share of exactly 0 is not drawn)."""
    if df is None or df.empty:
        return None
    h = hv()
    from socialcredit.report.figures import charted_jurisdictions

    panels = []
    for j in charted_jurisdictions(df, MAX_PANELS):
        sub = df[df["jurisdiction"] == j]
        names = list(dict.fromkeys(sub["tier"]))
        colours = _tier_colours(names)
        curves = []
        for t in names:
            s = sub[sub["tier"] == t].assign(share=lambda d: d["share"].where(d["share"] > 0))
            c = h.Curve(s, "day", [("share", "share of agents"), "count"], label=t)
            curves.append(style(c, color=colours[t], bokeh={"line_width": 2.5}))
        o = h.Overlay(curves)
        style(
            o,
            title=f"{title}{j}: tier shares (log scale)",
            logy=True,
            ylim=(_floor(sub["share"]), 1.5),
            show_grid=True,
            legend_position="right",
            bokeh={"width": BOKEH["width"], "height": BOKEH["height"], "yformatter": "%.3g"},
            mpl={"fig_inches": MPL["fig_inches"], "aspect": MPL["aspect"]},
        )
        for c in curves:
            style(c, bokeh={"tools": ["hover"]})
        panels.append(o)
    if len(panels) == 1:
        return panels[0]
    return h.Layout(panels).cols(1).opts(sublabel_format="", vspace=0.4, backend="matplotlib")


def _floor(share: pd.Series) -> float:
    positive = share[share > 0]
    return float(max(positive.min() / 2, 1e-7)) if len(positive) else 1e-4


def behaviour_chart(df: pd.DataFrame | None) -> Any:
    """Acts per agent-year by behaviour: with the system, and without it where the
    counterfactual was run (the title says which). Log scale when any rate is positive."""
    if df is None or df.empty:
        return None
    h = hv()
    both = "counterfactual" in df and df["counterfactual"].notna().any()
    label = [f"{b} ({c})" for b, c in zip(df["behaviour"], df["category"], strict=True)]
    pos = np.arange(len(df))[::-1].astype(float)  # the first behaviour at the top
    arms = [("system", "with the system", WITH, "o")]
    if both:  # drawn first, under the system's dots
        arms.insert(0, ("counterfactual", "without the system", WITHOUT, "s"))
    log = any((df[c] > 0).any() for c, *_ in arms)
    xd = ("rate", "acts per agent-year" + (" (log scale)" if log else " (no acts: all zero)"))
    layers = []
    for col, name, colour, marker in arms:
        vals = df[col].astype(float).to_numpy()
        d = pd.DataFrame({"rate": np.where(vals > 0, vals, np.nan) if log else vals, "y": pos})
        d["behaviour"] = label
        s = h.Scatter(d, xd, ["y", "behaviour"], label=name)
        layers.append(
            style(
                s,
                color=colour,
                bokeh={
                    "size": 10,
                    "marker": "square" if marker == "s" else "circle",
                    "tools": ["hover"],
                },
                mpl={"s": 50, "marker": marker},
            )
        )
    title = (
        "Behaviour rates, with the system and without it"
        if both
        else "Behaviour rates with the system (no counterfactual run)"
    )
    return style(
        h.Overlay(layers),
        title=title,
        logx=log,
        yticks=list(zip(pos, label, strict=True)),
        ylim=(-0.7, len(df) - 0.3),
        ylabel="",
        show_grid=True,
        legend_position="right",
        bokeh={"width": BOKEH["width"], "height": max(260, 70 + 30 * len(df))},
        mpl={"fig_inches": MPL["fig_inches"], "aspect": max(1.2, 3.2 - 0.1 * len(df))},
    )


def trust_chilling_chart(df: pd.DataFrame | None) -> Any:
    """Mean trust and speech and religious acts per agent-year over time, one panel each,
    with and without the system when the counterfactual was run."""
    if df is None or df.empty:
        return None
    h = hv()
    panels = []
    for measure, sub in df.groupby("measure", sort=False):
        curves = []
        for arm, s in sub.groupby("arm", sort=False):
            colour = WITH if arm.startswith("with ") else WITHOUT
            c = h.Curve(s, "day", ("value", measure), label=arm)
            curves.append(style(c, color=colour, bokeh={"line_width": 2, "tools": ["hover"]}))
        arms = sub["arm"].nunique()
        what = "with and without the system" if arms > 1 else "with the system"
        panels.append(
            style(
                h.Overlay(curves),
                title=f"{measure[0].upper()}{measure[1:]} over time, {what}",
                show_grid=True,
                legend_position="right",
                bokeh={"width": BOKEH["width"], "height": 280},
                mpl={"fig_inches": MPL["fig_inches"], "aspect": 2.6},
            )
        )
    if len(panels) == 1:
        return panels[0]
    return h.Layout(panels).cols(1).opts(sublabel_format="", vspace=0.4, backend="matplotlib")


def raster(
    x: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None, bins: int = MAP_BINS
) -> tuple[np.ndarray, tuple[float, float, float, float], float]:
    """A 2-D histogram of points in square cells: (counts per km^2 [ny, nx], bounds in km
    (left, bottom, right, top), cell side in metres). numpy only: fast at a million points."""
    x0, x1, y0, y1 = float(x.min()), float(x.max()), float(y.min()), float(y.max())
    cell = max((x1 - x0) / bins, (y1 - y0) / bins, 250.0)
    nx = max(1, int(np.ceil((x1 - x0) / cell + 1e-9)))
    ny = max(1, int(np.ceil((y1 - y0) / cell + 1e-9)))
    grid, _, _ = np.histogram2d(
        y,
        x,
        bins=(ny, nx),
        range=((y0, y0 + ny * cell), (x0, x0 + nx * cell)),
        weights=weight,
    )
    bounds = (x0 / 1000, y0 / 1000, (x0 + nx * cell) / 1000, (y0 + ny * cell) / 1000)
    return grid / (cell / 1000) ** 2, bounds, cell


def map_chart(df: pd.DataFrame | None, radius_m: float | None = None) -> Any:
    """Where agents in the two lowest tiers (or listed) live, rasterised (low-score agents
    per km^2); with ``radius_m`` (a scenario with a deadbeat map) a circle of that radius
    around the densest cell: what the Hebei court's app shows a user standing there. None
    when the run has no positions or nobody is low (then nothing is drawn: no empty square,
    no circle)."""
    if df is None or df.empty or not df["low"].any():
        return None
    h = hv()
    low = df[df["low"].astype(bool)]
    x, y = df["x"].to_numpy(float), df["y"].to_numpy(float)
    # bounds from everyone (the city), counts from the low-score agents
    grid, bounds, cell = raster(x, y, df["low"].to_numpy(float))
    img = h.Image(
        grid[::-1],  # hv.Image rows run top to bottom
        bounds=bounds,
        kdims=["x (km)", "y (km)"],
        vdims=[("density", "low-score agents per km²")],
    )
    style(
        img,
        cmap="inferno",
        colorbar=True,
        bokeh={"tools": ["hover"], "width": 560, "height": 480, "data_aspect": 1},
        mpl={"fig_inches": 6.5, "aspect": "equal"},
    )
    n = len(low)
    title = f"Where the {n:,} agents in the two lowest tiers or listed live ({cell:.0f} m cells)"
    if radius_m is None:
        return style(img, title=title)
    iy, ix = np.unravel_index(int(np.argmax(grid)), grid.shape)
    cx = bounds[0] + (ix + 0.5) * cell / 1000
    cy = bounds[1] + (iy + 0.5) * cell / 1000
    d = 2 * radius_m / 1000
    circle = style(
        h.Ellipse(cx, cy, d, label=f"{radius_m:g} m: what the Hebei app shows"),
        color=RADIUS,
        bokeh={"line_width": 2},
        mpl={"linewidth": 2},
    )
    return style(img * circle, title=title)


def lorenz_chart(df: pd.DataFrame | None) -> Any:
    """The Lorenz curve of final wealth (with its Gini), per arm, and the line of equality."""
    if df is None or df.empty:
        return None
    h = hv()
    equal = style(
        h.Curve(([0, 1], [0, 1]), "people", "wealth", label="equality"),
        color="#888888",
        mpl={"linestyle": "--"},
        bokeh={"line_dash": "dashed"},
    )
    curves = [equal]
    for arm, sub in df.groupby("arm", sort=False):
        colour = WITH if arm.startswith("with ") else WITHOUT
        c = h.Curve(
            sub,
            ("people", "share of agents, poorest first"),
            ("wealth", "share of wealth"),
            label=f"{arm} (Gini {sub['gini'].iloc[0]:.3f})",
        )
        curves.append(style(c, color=colour, bokeh={"line_width": 2.5, "tools": ["hover"]}))
    return style(
        h.Overlay(curves),
        title="Lorenz curve of wealth at the end of the run",
        show_grid=True,
        legend_position="top_left",
        bokeh={"width": 520, "height": 460},
        mpl={"fig_inches": 6, "aspect": 1},
    )
