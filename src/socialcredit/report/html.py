"""The run report as one self-contained HTML file: interactive bokeh charts, with bokeh's
JavaScript inlined so the page works offline and loads nothing from the network.

Each chart sits in ``<div id="chart-...">`` (see ``figures.CHARTS``). Charts have hover
tooltips, legends that hide a series on click, and pan/zoom tools.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from socialcredit.report.comparison import compare, summary_numbers
from socialcredit.report.figures import (
    CHARTS,
    DISPARITY_METRICS,
    MAX_TIER_PLOTS,
    NO_ACTS,
    NO_COUNTERFACTUAL,
    SERIES_LABEL,
    WITH,
    WITHOUT,
    absent_reasons,
    chart_id,
    chart_title,
    charted_jurisdictions,
    density_grid,
    figure_data,
    group_colours,
    log_floor,
    map_radius,
    mapped_jurisdictions,
    radius_centre,
    tier_colours,
    tier_floor_scores,
)
from socialcredit.report.labels import summary_labels
from socialcredit.report.page import TOOLS, embed, esc, fmt, page, source, table

if TYPE_CHECKING:  # pragma: no cover
    from bokeh.model import Model

    from socialcredit.result import Result

REPORT_FILE = "report.html"
MAX_FILE_ROWS = 100  # records shown per example credit file in the table

WHAT: dict[str, str] = {
    "tiers_over_time": (
        "The share of each jurisdiction's agents in each tier at the end of every day, on a "
        "log scale (as in the PNG), so that small tiers stay visible beside the large ones; "
        "a day on which nobody is in a tier leaves a gap. Hover for the exact share and head "
        "count; click a tier in the legend to hide it. "
        f"At most the {MAX_TIER_PLOTS} most populous jurisdictions are drawn."
    ),
    "tier_transitions": (
        "How people move between tiers: each row is a tier on some day, each column the tier "
        "the same person is in that many days later, and a cell is the share of the row "
        "(pooled over every start day; the diagonal is staying put). Read from the credit files "
        "of the run's sample of agents: the engine counts tier moves per day but does not keep "
        "who moved where, so each sampled person's daily tier is rebuilt from the score on the "
        "days their file records a tier change. Hover for the counts."
    ),
    "trust_chilling": (
        "Interpersonal trust (its mean, where the scenario has informants) and the chilling "
        "effect (speech and religious acts per agent-year, each day's rate) over the run, "
        "with the system and, where a run without it is given, without it. Without informants "
        "trust stays at its initial level, which is what the line without the system shows."
    ),
    "lorenz": (
        "The Lorenz curve of wealth at the end of the run: the share of all wealth held by the "
        "poorest x% of agents. The diagonal is perfect equality; the further the curve sags "
        "below it, the more unequal the society (the Gini coefficient, in the legend, is twice "
        "the area between them; the audit's wealth_gini is the same number)."
    ),
    "score_distribution": (
        "How scores are spread at the end of the run, as the share of each group's agents in "
        "each score bin (log scale, so rare low scores stay visible; empty bins break the "
        "line). Dashed lines are the floors of the tiers. Compare the groups' tails: a heavier "
        "low tail means more people near sanctions."
    ),
    "behaviour_rates": (
        "How often agents did each behaviour, in acts per agent-year (log scale), under the "
        "system and, where a counterfactual run is given, in the same society without it. A "
        "gap between the two markers is the system's effect on behaviour, since both runs "
        "share their random numbers; where they coincide the system changed nothing."
    ),
    "disparity": (
        "Each group's burden relative to the largest group (1 = parity): sanctions per "
        "agent-year (days on which a deduction, a refused loan or a blocked trip hit), the "
        "share listed and in the bottom tier, and the mean score, on the last day. A bar "
        "above 1 means the group carries more of it than the largest group. Hover for the "
        "values behind each ratio."
    ),
    "map": (
        "Where agents in the two lowest tiers (or on the blacklist) live, as agents per km² in "
        "250 m cells of each jurisdiction's synthetic plane (homes are synthetic, not real "
        "places; at most the four most populous jurisdictions, on one colour scale). Zoom in "
        "with the wheel or a box; hover for a cell's density."
    ),
    "credit_files": (
        "Three example credit files from the run's event log: a listed person, the person "
        "with the most records, and the person with the most false records (records of acts "
        "that never happened). Lines follow each person's score; markers are the events in "
        "their file: records, false records (red crosses), listings and other events (tier "
        "changes, refused loans). Hover for the behaviour, channel and points; the tables "
        "below list the files."
    ),
}


# ----------------------------------------------------------------------------- page


def what_text(key: str, df: pd.DataFrame | None = None) -> str:
    """What a chart shows, in words, true to its data."""
    text = WHAT[key]
    if key == "behaviour_rates" and df is not None and "counterfactual" not in df:
        text += f" Here: {NO_COUNTERFACTUAL}."
    if key == "map" and df is not None:
        radius = map_radius(df)
        if radius is None:
            text += (
                " This scenario has no deadbeat map, so no look-up radius is drawn: the "
                "density is where low scores live, not what anyone is shown."
            )
        else:
            text += (
                f" The circle is {radius:g} m around the densest cell: what the scenario's "
                "deadbeat map shows an app user standing there (the Hebei court's app, "
                "scs-facts section 5)."
            )
    return text


def chart_section(
    key: str, div: str, extra: str = "", title: str | None = None, df: pd.DataFrame | None = None
) -> str:
    title = title or chart_title(key, df)
    return (
        f'<section id="section-{CHARTS[key][0]}">\n<h2>{esc(title)}</h2>\n'
        f'<p class="what">{esc(what_text(key, df))}</p>\n'
        f'<div id="{chart_id(key)}" class="chart">{div}</div>\n{extra}</section>\n'
    )


def absent_section(reasons: Mapping[str, str]) -> str:
    """The charts not drawn, each with why (so a missing chart is never a silent gap)."""
    if not reasons:
        return ""
    items = "".join(
        f'<li id="absent-{CHARTS[k][0]}"><strong>{esc(CHARTS[k][1])}</strong>: {esc(why)}.</li>'
        for k, why in reasons.items()
    )
    return f'<section id="not-drawn">\n<h2>Charts not drawn</h2>\n<ul>{items}</ul>\n</section>\n'


# ----------------------------------------------------------------------------- charts


def _figure(**kw: Any):
    from bokeh.plotting import figure

    kw.setdefault("height", 360)
    kw.setdefault("sizing_mode", "stretch_width")
    kw.setdefault("tools", TOOLS)
    kw.setdefault("toolbar_location", "above")
    p = figure(**kw)
    p.title.text_font_size = "12pt"
    return p


def _legend_outside(p, title: str) -> None:
    if p.legend:
        legend = p.legend[0]
        legend.title = title
        legend.click_policy = "hide"
        legend.label_text_font_size = "9pt"
        p.add_layout(legend, "right")


def _tiers_chart(df: pd.DataFrame):
    from bokeh.layouts import column
    from bokeh.models import DataRange1d, HoverTool, NumeralTickFormatter

    plots = []
    x_range = None
    for j in charted_jurisdictions(df):
        sub = df[df["jurisdiction"] == j]
        names = list(dict.fromkeys(sub["tier"]))
        colours = tier_colours(names)
        floor = log_floor(sub["share"])
        p = _figure(
            title=f"{j}: share of agents in each tier (log scale)",
            x_axis_label="day",
            y_axis_label="share of the jurisdiction's agents (log scale)",
            y_axis_type="log",
            y_range=DataRange1d(only_visible=True),
            **({"x_range": x_range} if x_range is not None else {}),
        )
        x_range = p.x_range
        lines = []
        for t in names:
            part = sub[sub["tier"] == t][["day", "tier", "count", "share"]]
            part = part.assign(plot=part["share"].where(part["share"] > 0))  # 0: a gap
            text = t if part["plot"].notna().any() else f"{t} (nobody)"
            lines.append(
                p.line(
                    "day",
                    "plot",
                    source=source(part),
                    color=colours[t],
                    line_width=2.5,
                    legend_label=text,
                )
            )
        p.y_range.renderers = lines  # the axis follows the visible lines only
        # one tooltip per day listing every tier: an invisible bar per day catches the mouse
        wide = sub.pivot(index="day", columns="tier", values=["share", "count"])
        cols = {"day": wide.index.to_numpy()}
        for i, t in enumerate(names):
            cols[f"s{i}"] = wide[("share", t)].to_numpy()
            cols[f"c{i}"] = wide[("count", t)].to_numpy()
        band = p.vbar(
            x="day",
            top=1.0,
            bottom=floor / 100,
            width=1.0,
            source=source(pd.DataFrame(cols)),
            fill_alpha=0.0,
            line_alpha=0.0,
            hover_fill_color="grey",
            hover_fill_alpha=0.08,
            hover_line_alpha=0.0,
        )
        tips = [("day", "@day{0}")]
        tips += [(t, f"@s{i}{{0.000%}} (@c{i}{{0,0}} agents)") for i, t in enumerate(names)]
        p.add_tools(HoverTool(renderers=[band], tooltips=tips))
        p.yaxis.formatter = NumeralTickFormatter(format="0.[000]%")
        _legend_outside(p, "tier (click to hide)")
        plots.append(p)
    return column(*plots, sizing_mode="stretch_width")


def _scores_chart(df: pd.DataFrame, floors: Mapping[str, int]):
    from bokeh.models import HoverTool, Label, NumeralTickFormatter, Span

    p = _figure(
        title="Share of each group's agents by score (end of run)",
        x_axis_label=f"score (bins of {int(df['score_max'].iloc[0] - df['score_min'].iloc[0] + 1)} points)",
        y_axis_label="share of the group (log scale)",
        y_axis_type="log",
    )
    colours = group_colours(list(dict.fromkeys(df["group"])))
    renderers = []
    for g, sub in df.groupby("group", sort=False):
        sub = sub.assign(
            mid=(sub["score_min"] + sub["score_max"]) / 2,
            plot=sub["share"].where(sub["share"] > 0),
        )
        src = source(sub)
        p.line("mid", "plot", source=src, color=colours[g], line_width=2, legend_label=g)
        renderers.append(
            p.scatter("mid", "plot", source=src, color=colours[g], size=6, legend_label=g)
        )
    p.add_tools(
        HoverTool(
            renderers=renderers,
            tooltips=[
                ("group", "@group"),
                ("scores", "@score_min{0} to @score_max{0}"),
                ("share", "@share{0.000%}"),
                ("agents", "@count{0,0}"),
            ],
        )
    )
    lo, hi = df["score_min"].min(), df["score_max"].max()
    for name, floor in floors.items():
        if lo < floor <= hi:
            p.add_layout(
                Span(
                    location=floor - 0.5, dimension="height", line_dash="dashed", line_color="grey"
                )
            )
            p.add_layout(
                Label(
                    x=floor,
                    y=5,
                    y_units="screen",
                    text=f"{name} ≥ {floor}",
                    text_font_size="8pt",
                    text_color="grey",
                )
            )
    p.yaxis.formatter = NumeralTickFormatter(format="0.[000]%")
    _legend_outside(p, "group (click to hide)")
    return p


def _behaviours_chart(df: pd.DataFrame):
    from bokeh.models import FactorRange, HoverTool

    df = df.assign(
        label=[f"{b} ({c})" for b, c in zip(df["behaviour"], df["category"], strict=True)]
    )
    has_cf = "counterfactual" in df
    cols = ("system", "counterfactual") if has_cf else ("system",)
    log = any((df[col] > 0).any() for col in cols)  # else no acts at all: zeros, linear axis
    for col in cols:
        df[f"{col}_plot"] = df[col].where(df[col] > 0) if log else df[col]
    if not has_cf:
        df["counterfactual"] = np.nan
        df["difference"] = np.nan
    p = _figure(
        title="Acts per agent-year, with the system"
        + (" and without it" if has_cf else " only (no run without it was given)"),
        x_axis_label="acts per agent-year " + ("(log scale)" if log else f"({NO_ACTS})"),
        y_range=FactorRange(factors=list(df["label"])[::-1]),
        x_axis_type="log" if log else "linear",
        height=max(300, 60 + 32 * len(df)),
    )
    src = source(df)
    renderers = []
    if has_cf:
        p.segment(
            "counterfactual_plot",
            "label",
            "system_plot",
            "label",
            source=src,
            line_color="#bbbbbb",
            line_width=3,
        )
        renderers.append(
            p.scatter(
                "counterfactual_plot",
                "label",
                source=src,
                marker="square",
                size=10,
                color="#1f77b4",
                legend_label="without the system (counterfactual)",
            )
        )
    renderers.append(
        p.scatter(
            "system_plot",
            "label",
            source=src,
            size=10,
            color="#d62728",
            legend_label="with the system",
        )
    )
    tips = [
        ("behaviour", "@behaviour"),
        ("category", "@category"),
        ("with the system", "@system{0.0000}"),
    ]
    if has_cf:
        tips += [("without", "@counterfactual{0.0000}"), ("difference", "@difference{+0.0000}")]
    p.add_tools(HoverTool(renderers=renderers, tooltips=tips))
    _legend_outside(p, "click to hide")
    return p


def _disparity_chart(df: pd.DataFrame):
    from bokeh.models import FactorRange, HoverTool, Span

    df = df[np.isfinite(df["ratio"])].copy()
    df["metric_label"] = [DISPARITY_METRICS.get(m, m) for m in df["metric"]]
    metrics = list(dict.fromkeys(df["metric_label"]))
    groups = list(dict.fromkeys(df["group"]))
    df["x"] = list(zip(df["metric_label"], df["group"], strict=True))
    p = _figure(
        title="Each group relative to the largest group (1 = parity)",
        x_range=FactorRange(*[(m, g) for m in metrics for g in groups]),
        y_axis_label="ratio to the largest group",
    )
    colours = group_colours(groups)
    renderers = []
    for g in groups:
        src = source(df[df["group"] == g])
        renderers.append(
            p.vbar(x="x", top="ratio", width=0.8, source=src, color=colours[g], legend_label=g)
        )
    p.add_layout(Span(location=1.0, dimension="width", line_color="black", line_width=1))
    p.add_tools(
        HoverTool(
            renderers=renderers,
            tooltips=[
                ("group", "@group"),
                ("metric", "@metric_label"),
                ("value", "@value{0.[0000]}"),
                ("ratio", "@ratio{0.000}"),
                ("agents", "@agents{0,0}"),
            ],
        )
    )
    p.xaxis.major_label_orientation = 0.9
    p.y_range.start = 0
    _legend_outside(p, "group (click to hide)")
    return p


def _map_chart(df: pd.DataFrame):
    from bokeh.layouts import gridplot
    from bokeh.models import ColorBar, HoverTool, LinearColorMapper

    names = mapped_jurisdictions(df)
    radius = map_radius(df)
    grids = {j: density_grid(df[df["jurisdiction"] == j]) for j in names}
    high = max(float(g[0].max()) for g in grids.values()) or 1.0
    mapper = LinearColorMapper(palette="Inferno256", low=0, high=high)  # one scale for all
    plots = []
    for j, (grid, x0, y0, cell) in grids.items():
        ny, nx = grid.shape
        p = _figure(
            title=f"{j}: low-score agents per km² ({cell:g} m cells)",
            x_axis_label="x (km)",
            y_axis_label="y (km)",
            match_aspect=True,
            height=520,
        )
        r = p.image(
            image=[grid],
            x=x0 / 1000,
            y=y0 / 1000,
            dw=nx * cell / 1000,
            dh=ny * cell / 1000,
            color_mapper=mapper,
        )
        p.add_tools(
            HoverTool(
                renderers=[r],
                tooltips=[("x, y (km)", "$x{0.00}, $y{0.00}"), ("per km²", "@image{0.0}")],
            )
        )
        if radius is not None:  # only a scenario with a deadbeat map has a look-up radius
            cx, cy = radius_centre(grid, x0, y0, cell)
            d = 2 * radius / 1000
            p.ellipse(
                x=[cx / 1000],
                y=[cy / 1000],
                width=d,
                height=d,
                fill_alpha=0,
                line_color="#00e5ff",
                line_width=2,
                legend_label=f"{radius:g} m: the deadbeat map's look-up radius",
            )
            p.legend.location = "top_left"
        plots.append(p)
    plots[-1].add_layout(ColorBar(color_mapper=mapper, title="agents per km²"), "right")
    if len(plots) == 1:
        return plots[0]
    return gridplot(plots, ncols=2, sizing_mode="stretch_width", merge_tools=True)


BOKEH_ARM_STYLE = {WITH: ("#d62728", "solid"), WITHOUT: ("#1f77b4", "dashed")}


def _trust_chilling_chart(df: pd.DataFrame):
    from bokeh.layouts import column
    from bokeh.models import HoverTool

    plots = []
    x_range = None
    for name in [s for s in SERIES_LABEL if s in set(df["series"])]:
        sub = df[df["series"] == name]
        label = SERIES_LABEL[name].replace("\n", " ")
        p = _figure(
            title=label[0].upper() + label[1:],
            x_axis_label="day",
            y_axis_label=label,
            height=300,
            **({"x_range": x_range} if x_range is not None else {}),
        )
        x_range = p.x_range
        renderers = []
        for arm, part in sub.groupby("arm", sort=False):
            colour, dash = BOKEH_ARM_STYLE[arm]
            renderers.append(
                p.line(
                    "day",
                    "value",
                    source=source(part),
                    color=colour,
                    line_dash=dash,
                    line_width=2,
                    legend_label=arm,
                )
            )
        p.add_tools(
            HoverTool(
                renderers=renderers,
                tooltips=[("", "@arm"), ("day", "@day{0}"), ("value", "@value{0.0000}")],
            )
        )
        _legend_outside(p, "click to hide")
        plots.append(p)
    return column(*plots, sizing_mode="stretch_width")


def _lorenz_chart(df: pd.DataFrame):
    from bokeh.models import HoverTool, NumeralTickFormatter

    p = _figure(
        title="Share of all wealth held by the poorest share of agents (end of run)",
        x_axis_label="share of agents, poorest first",
        y_axis_label="share of all wealth they hold",
        height=420,
    )
    p.line([0, 1], [0, 1], color="grey", line_width=1, legend_label="perfect equality")
    renderers = []
    for arm, part in df.groupby("arm", sort=False):
        colour, dash = BOKEH_ARM_STYLE[arm]
        renderers.append(
            p.line(
                "population_share",
                "wealth_share",
                source=source(part),
                color=colour,
                line_dash=dash,
                line_width=2.5,
                legend_label=f"{arm} (Gini {part['gini'].iloc[0]:.3f})",
            )
        )
    p.add_tools(
        HoverTool(
            renderers=renderers,
            tooltips=[
                ("", "@arm"),
                ("poorest", "@population_share{0%}"),
                ("hold", "@wealth_share{0.0%}"),
            ],
        )
    )
    p.xaxis.formatter = NumeralTickFormatter(format="0%")
    p.yaxis.formatter = NumeralTickFormatter(format="0%")
    _legend_outside(p, "click to hide")
    return p


def _transitions_chart(df: pd.DataFrame):
    from bokeh.layouts import row
    from bokeh.models import FactorRange, HoverTool, LinearColorMapper

    mapper = LinearColorMapper(palette="Blues256", low=1, high=0)  # 1: darkest
    plots = []
    for j, sub in df.groupby("jurisdiction", sort=False):
        tiers = list(dict.fromkeys(sub["from_tier"]))
        days = int(sub["days"].iloc[0])
        sub = sub.assign(
            fill=sub["share"].fillna(0.0),
            text=[
                "" if not c else f"{100 * v:.3g}%"
                for c, v in zip(sub["count"], sub["share"], strict=True)
            ],
            text_colour=np.where(sub["share"].fillna(0.0) > 0.6, "white", "black"),
        )
        p = _figure(
            title=f"{j}: tier on a day (rows) and {days} days later (columns)",
            x_range=FactorRange(factors=tiers),
            y_range=FactorRange(factors=tiers[::-1]),
            x_axis_label=f"tier {days} days later",
            y_axis_label="tier on a day",
            height=380,
            sizing_mode="stretch_width" if df["jurisdiction"].nunique() == 1 else "fixed",
            width=420,
        )
        src = source(sub)
        r = p.rect(
            "to_tier",
            "from_tier",
            width=1,
            height=1,
            source=src,
            fill_color={"field": "fill", "transform": mapper},
            line_color="white",
        )
        p.text(
            "to_tier",
            "from_tier",
            text="text",
            source=src,
            text_align="center",
            text_baseline="middle",
            text_font_size="9pt",
            text_color="text_colour",
        )
        p.add_tools(
            HoverTool(
                renderers=[r],
                tooltips=[
                    ("from", "@from_tier"),
                    ("to", "@to_tier"),
                    ("share of the row", "@share{0.00%}"),
                    ("agent-days", "@count{0,0}"),
                ],
            )
        )
        p.grid.visible = False
        plots.append(p)
    return plots[0] if len(plots) == 1 else row(*plots)


BOKEH_EVENT_STYLE = {  # kind -> (bokeh marker, colour, legend label)
    "record": ("circle", "#333333", "record"),
    "false_record": ("x", "#d62728", "false record"),
    "listed": ("inverted_triangle", "#7b2cbf", "listed"),
}
BOKEH_OTHER_EVENT = ("diamond", "#999999", "other event")


def _credit_files_chart(df: pd.DataFrame):
    from bokeh.models import FactorRange, HoverTool

    df = df.copy()
    df["label"] = [f"{e}: agent {a}" for e, a in zip(df["example"], df["agent"], strict=True)]
    labels = list(dict.fromkeys(df["label"]))
    has_score = "score" in df
    for col in ("behaviour", "channel", "points", "score"):
        if col not in df:
            df[col] = ""
    keep = ["label", "example", "agent", "day", "kind", "behaviour", "channel", "points", "score"]
    if has_score:
        df["y"] = df["score"].astype(float)
        p = _figure(
            title="Score and events in three example credit files",
            x_axis_label="day",
            y_axis_label="score at the end of the day",
        )
    else:
        df["y"] = df["label"]
        p = _figure(
            title="Events in three example credit files",
            x_axis_label="day",
            y_range=FactorRange(factors=labels[::-1]),
            height=max(220, 80 + 70 * len(labels)),
        )
    df = df[[*keep, "y"]]
    colours = group_colours(labels)
    if has_score:
        for name in labels:
            sub = df[df["label"] == name]
            p.step(
                "day",
                "y",
                source=source(sub),
                mode="after",
                line_width=2,
                color=colours[name],
                legend_label=name,
            )
    renderers = []
    other = ~df["kind"].isin(list(BOKEH_EVENT_STYLE))
    for kind, (marker, colour, text) in {**BOKEH_EVENT_STYLE, "": BOKEH_OTHER_EVENT}.items():
        sub = df[other] if not kind else df[df["kind"] == kind]
        if sub.empty:
            continue
        renderers.append(
            p.scatter(
                "day",
                "y",
                source=source(sub),
                marker=marker,
                size=9,
                color=colour,
                line_width=2,
                alpha=0.8,
                legend_label=text,
            )
        )
    tips = [
        ("file", "@label"),
        ("day", "@day{0}"),
        ("event", "@kind"),
        ("behaviour", "@behaviour"),
        ("channel", "@channel"),
        ("points", "@points"),
        ("score after", "@score"),
    ]
    p.add_tools(HoverTool(renderers=renderers, tooltips=tips))
    _legend_outside(p, "click to hide")
    return p


def _credit_files_table(df: pd.DataFrame) -> str:
    cols = [c for c in ("day", "kind", "behaviour", "channel", "points", "score") if c in df]
    parts = []
    for (example, agent), sub in df.groupby(["example", "agent"], sort=False):
        facts = f"agent {agent}"
        if "final_score" in sub and pd.notna(sub["final_score"].iloc[0]):
            facts += f", final score {sub['final_score'].iloc[0]:g}"
        if "final_tier" in sub and pd.notna(sub["final_tier"].iloc[0]):
            facts += f", tier {sub['final_tier'].iloc[0]}"
        n_false = int(sub["false"].sum()) if "false" in sub else 0
        parts.append(
            f"<h3>{esc(example)}: {esc(facts)} ({len(sub)} events, {n_false} false records)</h3>\n"
        )
        shown = sub[cols].head(MAX_FILE_ROWS).astype(object).where(sub[cols].notna(), "")
        parts.append(
            table(
                cols, shown.itertuples(index=False), [c in ("day", "points", "score") for c in cols]
            )
        )
        if len(sub) > MAX_FILE_ROWS:
            parts.append(f"<p>… and {len(sub) - MAX_FILE_ROWS} more events.</p>\n")
    return "".join(parts)


def build_charts(data: Mapping[str, pd.DataFrame], result: Result) -> dict[str, Model]:
    """One bokeh model per chart in ``data``."""
    builders = {
        "tiers_over_time": _tiers_chart,
        "score_distribution": lambda df: _scores_chart(df, tier_floor_scores(result.scenario)),
        "behaviour_rates": _behaviours_chart,
        "disparity": _disparity_chart,
        "map": _map_chart,
        "credit_files": _credit_files_chart,
        "trust_chilling": _trust_chilling_chart,
        "lorenz": _lorenz_chart,
        "tier_transitions": _transitions_chart,
    }
    return {k: builders[k](data[k]) for k in CHARTS if k in data and not data[k].empty}


# ----------------------------------------------------------------------------- report


def _facts(result: Result) -> str:
    info = result.info or {}
    rows = [
        ("agents", f"{int(info.get('agents', result.scenario.population.agents)):,}"),
        ("days", info.get("days", result.scenario.days)),
        ("seed", info.get("seed", result.scenario.seed)),
        ("version", info.get("version", "–")),
        ("run id", info.get("run_id", "(not saved)")),
        ("scenario hash", info.get("scenario_hash", "–")),
        ("started", info.get("started", "–")),
        ("wall time", f"{info['wall_s']:g} s" if "wall_s" in info else "–"),
        ("device", info.get("device", "–")),
    ]
    items = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in rows)
    return f'<section id="facts">\n<h2>The run</h2>\n<dl class="facts">{items}</dl>\n</section>\n'


def _summary(result: Result, counterfactual: Result | None) -> str:

    if counterfactual is not None:
        df = compare(result, counterfactual)
        other = counterfactual.scenario.metadata.name
        labels = summary_labels(list(df["metric"]), result.scenario)
        head = ["measure", "with the system", f"against ({other})", "difference", "field"]
        rows = [
            (labels[m], fmt(m, a), fmt(m, b), fmt(m, d, difference=True), m)
            for m, a, b, d in df[["metric", "a", "b", "difference"]].itertuples(index=False)
        ]
        numeric = [False, True, True, True, False]
        note = (
            "<p>Summary numbers of this run beside those of the run it is set against "
            "(difference = this run minus the other; pp = percentage points). Measures an "
            "audit also reports carry the audit's labels; the last column is the field of "
            "summary.json, defined in docs/metrics.md.</p>\n"
        )
    else:
        numbers = summary_numbers(result.summary)
        labels = summary_labels(list(numbers), result.scenario)
        head, numeric = ["measure", "value", "field"], [False, True, False]
        rows = [(labels[m], fmt(m, v), m) for m, v in numbers.items()]
        note = (
            "<p>Measures an audit also reports carry the audit's labels; the last column is "
            "the field of summary.json, defined in docs/metrics.md.</p>\n"
        )
    return (
        f'<section id="summary">\n<h2>Summary numbers</h2>\n{note}'
        f"{table(head, rows, numeric)}</section>\n"
    )


def _metadata(result: Result) -> str:
    meta = result.scenario.metadata
    out = []
    if meta.uncertain:
        rows = [(u.field, u.note, u.source or "") for u in meta.uncertain]
        out.append(
            '<section id="uncertain">\n<h2>Uncertain figures</h2>\n'
            "<p>Figures in the scenario that nobody could confirm; results that depend on them "
            "are only as good as these assumptions.</p>\n"
            f"{table(['field', 'note', 'source'], rows)}</section>\n"
        )
    if meta.sources:
        items = "".join(
            f'<li id="source-{esc(s.id)}"><strong>{esc(s.id)}</strong> '
            f"[{'V' if s.verified else 'U'}]: {esc(s.citation)}</li>"
            for s in meta.sources
        )
        out.append(
            '<section id="sources">\n<h2>Sources</h2>\n'
            "<p>[V]: the figure was seen in the cited source; [U]: secondary or unverified.</p>\n"
            f"<ul>{items}</ul>\n</section>\n"
        )
    return "".join(out)


def render_report(
    result: Result,
    counterfactual: Result | None = None,
    data: Mapping[str, pd.DataFrame] | None = None,
    *,
    lead: str = "",
    heading: str | None = None,
) -> str:
    """The report page as HTML text (``data`` from ``figure_data``, computed if not given).
    ``lead``: HTML the page opens with, right under the heading (an audit's table and forest
    plot); ``heading``: the page's title instead of the scenario's name."""
    from socialcredit import __version__

    if counterfactual is None:
        counterfactual = result.counterfactual
    if data is None:
        data = figure_data(result, counterfactual)
    meta = result.scenario.metadata
    charts = build_charts(data, result)
    script, divs = embed(charts)
    parts = [f"<h1>{esc(heading or meta.name)}</h1>\n", lead]
    if lead:
        parts.append(f"<h2>Replicate 0: {esc(meta.name)}</h2>\n")
    parts.append(f'<p class="description">{esc(meta.description)}</p>\n')
    if meta.harms:
        parts.append(
            f'<section id="harms" class="note">\n<strong>Harms this models:</strong> '
            f"{esc(meta.harms)}\n</section>\n"
        )
    parts.append(
        "<p>Every person in this run is synthetic: the model simulates a social credit system "
        "to measure what it does; it reads no data about real people.</p>\n"
    )
    if counterfactual is not None:
        parts.append(
            f"<p>Set against: <strong>{esc(counterfactual.scenario.metadata.name)}</strong>"
            f" ({esc(counterfactual.info.get('run_id', 'not saved'))}).</p>\n"
        )
    parts.append(_facts(result))
    for key in charts:
        extra = _credit_files_table(data[key]) if key == "credit_files" else ""
        parts.append(chart_section(key, divs[key], extra, df=data[key]))
    parts.append(absent_section(absent_reasons(result, counterfactual, data)))
    parts.append(_summary(result, counterfactual))
    parts.append(_metadata(result))
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    parts.append(
        f"<footer>Written by socialcredit {esc(__version__)} on {esc(stamp)}. Charts: bokeh, "
        "embedded; the page needs no network.</footer>\n"
    )
    return page(f"socialcredit report: {heading or meta.name}", "".join(parts), script)


def write_report(
    result: Result,
    path: str | Path,
    counterfactual: Result | None = None,
    *,
    data: Mapping[str, pd.DataFrame] | None = None,
    lead: str = "",
    heading: str | None = None,
) -> Path:
    """Write the run's report as one self-contained HTML file and return its path.

    ``path`` is the file to write, or an existing folder to write ``report.html`` into.
    ``counterfactual`` (default ``result.counterfactual``) adds the no-system rates and a
    side-by-side summary; ``data`` reuses an earlier ``figure_data`` result.
    """
    path = Path(path)
    if path.is_dir():
        path = path / REPORT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    text = render_report(result, counterfactual, data, lead=lead, heading=heading)
    path.write_text(text, encoding="utf-8")
    return path
