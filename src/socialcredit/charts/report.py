"""The run report's charts, each one HoloViews definition rendered by bokeh (report.html) and
matplotlib (figures/*.png), from the report's tidy frames (``report.figures.figure_data``).

Charts the dashboard shares (tiers, behaviour rates, trust and chilling, Lorenz curve, map)
are ``charts.run``'s, fed with the report's frames; the others are defined here: the tier
transition matrix over 30 days (from the rebuilt tier paths), the score distribution, the
disparity ratios, the example credit files and the comparison of two runs. ``run_charts``
draws a finished run for the dashboard with these same definitions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from socialcredit.charts.core import BOKEH, MPL, PALETTE, WITH, WITHOUT, hv, style

if TYPE_CHECKING:  # pragma: no cover
    from socialcredit.result import Result

SERIES_MEASURE = {  # trust_chilling series -> the measure charts.run draws
    "trust": "mean interpersonal trust (0-1)",
    "chilling": "speech and religious acts per agent-year",
}
HIGHER, LOWER, SAME = "#d62728", "#1f77b4", "#999999"  # compare: a above, below, equal to b
COMPARE_LEGEND = ((HIGHER, "a higher than b"), (LOWER, "a lower than b"), (SAME, "no change"))
EVENT_STYLE = {  # credit-file event kind -> (marker, colour, legend label)
    "record": ("circle", "#333333", "record"),
    "false_record": ("x", "#d62728", "false record"),
    "listed": ("inverted_triangle", "#7b2cbf", "listed"),
}
OTHER_EVENT = ("diamond", "#999999", "other event (tier change, loan refused, ...)")
MPL_MARKER = {"circle": "o", "x": "X", "inverted_triangle": "v", "diamond": "d"}


KEPT = {  # the tier chart's options carried over when a line is added to it
    "title", "logy", "ylim", "show_grid", "legend_position", "width", "height", "yformatter",
    "fig_inches", "aspect",
}  # fmt: skip


def _colours(names: list[str]) -> dict[str, str]:
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(names)}


def _layout(panels: list[Any]) -> Any:
    if len(panels) == 1:
        return panels[0]
    return hv().Layout(panels).cols(1).opts(sublabel_format="", backend="matplotlib")


# ----------------------------------------------------------------------------- shared ones


def tiers(df: pd.DataFrame, title: str = "") -> Any:
    """``charts.run.tiers_chart`` (log y), with one tooltip per day listing every tier's
    share and head count (an invisible line catches the mouse), not one per line."""
    from socialcredit.charts.run import MAX_PANELS, tiers_chart
    from socialcredit.report.figures import charted_jurisdictions

    h = hv()
    chart = tiers_chart(df, title)
    if chart is None:
        return None
    overlays = [chart] if isinstance(chart, h.Overlay) else list(chart)
    out = []
    for j, overlay in zip(charted_jurisdictions(df, MAX_PANELS), overlays, strict=True):
        sub = df[df["jurisdiction"] == j]
        names = list(dict.fromkeys(sub["tier"]))
        wide = sub.pivot(index="day", columns="tier", values=["share", "count"])
        cols: dict[str, Any] = {"day": wide.index.to_numpy(), "top": 1.0}
        for i, t in enumerate(names):
            cols[f"s{i}"] = wide[("share", t)].to_numpy()
            cols[f"c{i}"] = wide[("count", t)].to_numpy()
        catcher = h.Curve(pd.DataFrame(cols), "day", ["top", *[k for k in cols if k[0] in "sc"]])
        tips = [("day", "@day{0}")]
        tips += [(t, f"@s{i}{{0.000%}} (@c{i}{{0,0}} agents)") for i, t in enumerate(names)]
        for curve in overlay:
            curve.opts(tools=[], backend="bokeh")
        catcher.opts(alpha=0.0, tools=["hover"], hover_tooltips=tips, backend="bokeh")
        catcher.opts(hover_mode="vline", show_legend=False, backend="bokeh")
        catcher.opts(alpha=0.0, backend="matplotlib")
        both = h.Overlay([*overlay, catcher])
        for backend in ("bokeh", "matplotlib"):  # keep tiers_chart's log axis, title, limits
            kept = overlay.opts.get(backend=backend).kwargs
            both.opts(**{k: v for k, v in kept.items() if k in KEPT}, backend=backend)
        both.opts(fig_inches=9, aspect=1.8, backend="matplotlib")  # room for the legend
        out.append(both)
    return _layout(out)


def trust_chilling(df: pd.DataFrame) -> Any:
    from socialcredit.charts.run import trust_chilling_chart

    frame = df.assign(measure=df["series"].map(SERIES_MEASURE))
    return trust_chilling_chart(frame[["day", "arm", "measure", "value"]])


def lorenz(df: pd.DataFrame) -> Any:
    from socialcredit.charts.run import lorenz_chart

    return lorenz_chart(df.rename(columns={"population_share": "people", "wealth_share": "wealth"}))


def low_map(df: pd.DataFrame) -> Any:
    """``charts.run.map_chart`` per jurisdiction (each has its own plane), from the report's
    250 m cells: each cell's agents at its centre (low first), so the raster and its count of
    low-score agents are exact at the cell's size."""
    from socialcredit.charts.run import map_chart
    from socialcredit.report.figures import CELL_M, map_radius, mapped_jurisdictions

    radius = map_radius(df)
    panels = []
    for j in mapped_jurisdictions(df):
        cells = df[df["jurisdiction"] == j]
        n = cells["agents"].to_numpy(np.int64)
        x = np.repeat(cells["x_min"].to_numpy(float) + CELL_M / 2, n)
        y = np.repeat(cells["y_min"].to_numpy(float) + CELL_M / 2, n)
        start = np.repeat(np.cumsum(n) - n, n)
        low = (np.arange(n.sum()) - start) < np.repeat(cells["low"].to_numpy(np.int64), n)
        chart = map_chart(pd.DataFrame({"x": x, "y": y, "low": low}), radius)
        if chart is not None:
            title = chart.opts.get(backend="bokeh").kwargs.get("title", "")
            panels.append(style(chart, title=f"{j}: {title}"))
    return _layout(panels) if panels else None


# ----------------------------------------------------------------------------- report only


def transitions(df: pd.DataFrame) -> Any:
    """The tier transition matrix of each jurisdiction: rows the tier on a day, columns the
    tier ``days`` later, cells the share of the row (the numbers), darker for more."""
    h = hv()
    panels = []
    for j, sub in df.groupby("jurisdiction", sort=False):
        names = list(dict.fromkeys(sub["from_tier"]))
        n = len(names)
        days = int(sub["days"].iloc[0])
        pos = {t: i for i, t in enumerate(names)}
        frame = sub[["from_tier", "to_tier", "count", "share"]].astype(
            {"from_tier": object, "to_tier": object, "count": np.int64, "share": float}
        )
        frame = frame.assign(
            to=sub["to_tier"].map(pos).astype(float),
            frm=(n - 1 - sub["from_tier"].map(pos)).astype(float),
            fill=sub["share"].fillna(0.0),
            text=[
                "" if not c else f"{100 * v:.3g}%"
                for c, v in zip(sub["count"], sub["share"], strict=True)
            ],
        )
        hm = h.HeatMap(
            frame,
            [("to", f"tier {days} days later"), ("frm", "tier on a day")],
            [("fill", "share of the row"), ("count", "agent-days")],
        )
        labels = h.Labels(frame, ["to", "frm"], "text")
        style(
            hm,
            cmap="Blues",
            clim=(0, 1),
            colorbar=True,
            xticks=[(i, t) for i, t in enumerate(names)],
            yticks=[(n - 1 - i, t) for i, t in enumerate(names)],
            bokeh={"tools": ["hover"], "width": 560, "height": 440},
            mpl={"fig_inches": 6, "aspect": 1.1, "show_values": False},
        )
        style(labels, bokeh={"text_font_size": "9pt"}, mpl={"size": 7})
        agents = int(sub["agents"].iloc[0])
        title = f"{j}: tier on a day and {days} days later ({agents:,} agents' files)"
        panels.append(style(hm * labels, title=title))
    return _layout(panels)


def scores(df: pd.DataFrame, floors: Mapping[str, int]) -> Any:
    """Share of each group's agents per score bin (log y; empty bins break the line), the
    tier floors as dashed lines."""
    h = hv()
    width = int(df["score_max"].iloc[0] - df["score_min"].iloc[0] + 1)
    groups = list(dict.fromkeys(df["group"]))
    colours = _colours(groups)
    layers = []
    for g in groups:
        sub = df[df["group"] == g]
        sub = sub.assign(
            mid=(sub["score_min"] + sub["score_max"]) / 2, plot=sub["share"].where(sub["share"] > 0)
        )
        kd = ("mid", f"score at the end of the run (bins of {width} points)")
        vd = [("plot", "share of the group (log scale)"), "score_min", "score_max", "count"]
        layers.append(style(h.Curve(sub, kd, vd, label=g), color=colours[g]))
        layers.append(
            style(
                h.Scatter(sub, kd, vd, label=g),
                color=colours[g],
                bokeh={"size": 6, "tools": ["hover"]},
                mpl={"s": 12},
            )
        )
    lo, hi = df["score_min"].min(), df["score_max"].max()
    for name, floor in floors.items():
        if lo < floor <= hi:
            line = h.VLine(floor - 0.5)
            layers.append(style(line, color="grey", bokeh={"line_dash": "dashed"},
                                mpl={"linestyle": "--"}))  # fmt: skip
            layers.append(
                style(
                    h.Text(floor, 1.0, f" {name}", halign="left", valign="top"),
                    color="grey",
                    bokeh={"text_font_size": "8pt"},
                    mpl={"fontsize": 7},
                )
            )
    return style(
        h.Overlay(layers),
        title="Score distribution by group (dashed: tier floors)",
        logy=True,
        show_grid=True,
        legend_position="right",
        bokeh={"width": BOKEH["width"], "height": BOKEH["height"]},
        mpl={"fig_inches": MPL["fig_inches"], "aspect": MPL["aspect"]},
    )


def disparity(df: pd.DataFrame, metric_names: Mapping[str, str]) -> Any:
    """Each group's burden relative to the largest group (1 = parity), grouped by measure."""
    h = hv()
    d = df[np.isfinite(df["ratio"])].copy()
    d["measure"] = [metric_names.get(m, m) for m in d["metric"]]
    groups = list(dict.fromkeys(d["group"]))
    colours = _colours(groups)
    bars = h.Bars(
        d,
        [("measure", "measure"), ("group", "group")],
        [("ratio", "ratio to the largest group (1 = parity)"), "value", "agents"],
    )
    style(
        bars,
        color=h.dim("group").categorize(colours, default="#999999"),
        bokeh={"tools": ["hover"], "xrotation": 20},
        mpl={"xrotation": 0},
    )
    parity = style(h.HLine(1.0), color="black", bokeh={"line_width": 1}, mpl={"linewidth": 1})
    return style(
        bars * parity,
        title="Each group relative to the largest group (1 = parity)",
        show_grid=True,
        bokeh={"width": BOKEH["width"], "height": 380},
        mpl={"fig_inches": 12, "aspect": 2.4},
    )


def credit_files(df: pd.DataFrame) -> Any:
    """Score step lines of the example credit files and their events as markers (records,
    false records, listings, other events); without scores, one row per file."""
    h = hv()
    d = df.copy()
    d["file"] = [f"{e}: agent {a}" for e, a in zip(d["example"], d["agent"], strict=True)]
    files = list(dict.fromkeys(d["file"]))
    for col in ("behaviour", "channel", "points"):
        d[col] = d[col].astype(str) if col in d else ""
    has_score = "score" in d
    rows = {f: float(len(files) - 1 - i) for i, f in enumerate(files)}
    d["y"] = d["score"].astype(float) if has_score else d["file"].map(rows)
    ylabel = "score at the end of the day" if has_score else ""
    colours = _colours(files)
    layers = []
    if has_score:
        for f in files:
            sub = d[d["file"] == f]
            line = h.Curve(sub, "day", ("y", ylabel), label=f)
            layers.append(style(line, color=colours[f], interpolation="steps-post",
                                bokeh={"line_width": 2}))  # fmt: skip
    other = ~d["kind"].isin(list(EVENT_STYLE))
    vd = [("y", ylabel), "file", "kind", "behaviour", "channel", "points"]
    for kind, (marker, colour, text) in {**EVENT_STYLE, "": OTHER_EVENT}.items():
        sub = d[other] if not kind else d[d["kind"] == kind]
        if sub.empty:
            continue
        layers.append(
            style(
                h.Scatter(sub, "day", vd, label=text),
                color=colour,
                bokeh={"marker": marker, "size": 9, "tools": ["hover"]},
                mpl={"marker": MPL_MARKER[marker], "s": 30},
            )
        )
    extra: dict[str, Any] = {}
    if not has_score:
        extra["yticks"] = [(y, f) for f, y in rows.items()]
    return style(
        h.Overlay(layers),
        title="Example credit files: score and events",
        show_grid=True,
        legend_position="right",
        **extra,
        bokeh={"width": BOKEH["width"], "height": BOKEH["height"]},
        mpl={"fig_inches": MPL["fig_inches"], "aspect": MPL["aspect"]},
    )


def compare(df: pd.DataFrame, title: str = "") -> Any:
    """Relative difference of each summary number, (a - b) / |b|, as horizontal bars coloured
    by sign (with a legend), and the 95% interval over replicates where there is one."""
    h = hv()
    d = df[np.isfinite(df["relative"])].copy()
    d["colour"] = np.where(d["relative"] > 0, HIGHER, np.where(d["relative"] < 0, LOWER, SAME))
    order = list(d["label"])[::-1]
    d["y"] = d["label"].map({lab: float(i) for i, lab in enumerate(order)})
    xd = ("relative", "relative difference, (a - b) / |b|")
    layers = []
    for colour, text in COMPARE_LEGEND:
        part = d[d["colour"] == colour]
        if part.empty:
            continue
        bars = h.Segments(part.assign(zero=0.0), [("zero", xd[1]), "y", "relative", "y"],
                          ["label", "metric", "a", "b", "difference"], label=text)  # fmt: skip
        layers.append(style(bars, color=colour, bokeh={"line_width": 14, "tools": ["hover"]},
                            mpl={"linewidth": 9}))  # fmt: skip
    if "relative_low" in d:
        ok = d[np.isfinite(d["relative_low"]) & np.isfinite(d["relative_high"])]
        if not ok.empty:
            whisker = h.Segments(ok, [("relative_low", xd[1]), "y", "relative_high", "y"],
                                 label="95% interval over replicates")  # fmt: skip
            layers.append(style(whisker, color="black", bokeh={"line_width": 1.5}))
    layers.append(style(h.VLine(0.0), color="black", bokeh={"line_width": 1}))
    n = max(len(d), 1)
    return style(
        h.Overlay(layers),
        title=title or "Relative difference of each summary number, (a - b) / |b|",
        yticks=list(zip(d["y"], d["label"], strict=True)),
        ylim=(-0.7, n - 0.3),
        ylabel="",
        show_grid=True,
        legend_position="bottom_right",
        bokeh={"width": 900, "height": max(300, 80 + 24 * n)},
        mpl={"fig_inches": 10, "aspect": max(0.6, 3.0 - 0.1 * n)},
    )


# ----------------------------------------------------------------------------- dispatch


def report_chart(
    key: str,
    df: pd.DataFrame,
    *,
    tier_floors: Mapping[str, int] | None = None,
    label: str = "",
    phases: list[int] | None = None,
) -> Any:
    """The chart of the report's ``key`` (``report.figures.CHARTS``) from its frame, or
    None when there is nothing true to draw. ``phases``: the days the timeline's phases begin
    (``phase_days``), marked on every chart over days."""
    chart = _report_chart(key, df, tier_floors=tier_floors, label=label)
    if chart is None or not phases or "day" not in df.columns:
        return chart
    return mark_phases(chart, phases)


def phase_days(result: Result) -> list[int]:
    """The 0-based days the scenario's timeline phases begin (none without a timeline)."""
    tl = result.scenario.timeline
    return sorted({int(r["day"]) for r in tl.table()}) if tl is not None else []


def mark_phases(chart: Any, days: list[int]) -> Any:
    """``chart`` with a dashed vertical line where each phase begins. A phase of 0-based day
    t is first seen in the metrics of 1-based day t + 1, so the line sits between t and t + 1."""
    h = hv()
    lines = [
        style(
            h.VLine(d + 0.5),
            color="#555555",
            bokeh={"line_dash": "dashed", "line_width": 1},
            mpl={"linestyle": "--", "linewidth": 0.8},
        )
        for d in days
        if d > 0
    ]
    if not lines:
        return chart
    marks = h.Overlay(lines)
    if isinstance(chart, h.Layout):
        return _layout([panel * marks for panel in chart])
    return chart * marks


def _report_chart(
    key: str,
    df: pd.DataFrame,
    *,
    tier_floors: Mapping[str, int] | None = None,
    label: str = "",
) -> Any:
    from socialcredit.charts.run import behaviour_chart
    from socialcredit.report.figures import DISPARITY_METRICS

    if df is None or df.empty:
        return None
    if key == "tiers_over_time":
        return tiers(df, label)
    if key == "tier_transitions":
        return transitions(df)
    if key == "score_distribution":
        return scores(df, tier_floors or {})
    if key == "behaviour_rates":
        return behaviour_chart(df)
    if key == "trust_chilling":
        return trust_chilling(df)
    if key == "disparity":
        return disparity(df, DISPARITY_METRICS)
    if key == "lorenz":
        return lorenz(df)
    if key == "map":
        return low_map(df)
    if key == "credit_files":
        return credit_files(df)
    raise KeyError(key)


# The dashboard's key for each of the report's charts (report.figures.CHARTS), in page order.
REPORT_KEYS = {
    "tiers_over_time": "tiers",
    "behaviour_rates": "behaviour",
    "trust_chilling": "trust_chilling",
    "map": "map",
    "lorenz": "lorenz",
    "tier_transitions": "transitions",
    "score_distribution": "scores",
    "disparity": "disparity",
    "credit_files": "credit_files",
}


def run_charts(result: Result, counterfactual: Result | None = None) -> dict[str, Any]:
    """Every chart of a finished run that has data, by the dashboard's key (tiers, behaviour,
    trust_chilling, map, lorenz, transitions, scores, disparity, credit_files): the report's
    own charts (``report.figures.figure_data`` drawn by ``charts.report.report_chart``), so the
    page, the PNG files and the dashboard show one definition. ``counterfactual`` defaults to
    ``result.counterfactual``."""
    from socialcredit.report import figures as rf

    data = rf.figure_data(result, counterfactual)
    floors = rf.tier_floor_scores(result.scenario)
    marks = phase_days(result)
    built = {
        key: report_chart(name, data.get(name), tier_floors=floors, phases=marks)
        for name, key in REPORT_KEYS.items()
    }
    return {k: v for k, v in built.items() if v is not None}


__all__ = ["WITH", "WITHOUT", "REPORT_KEYS", "compare", "report_chart", "run_charts"]
