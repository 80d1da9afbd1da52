"""The run report as one self-contained HTML file: interactive bokeh charts, with bokeh's
JavaScript inlined so the page works offline and loads nothing from the network. Each chart
is the chart module's definition (``socialcredit.charts``, HoloViews) rendered by bokeh; the
PNG files render the same definitions with matplotlib.

Each chart sits in ``<div id="chart-...">`` (see ``figures.CHARTS``). Charts have hover
tooltips, legends that hide a series on click, and pan/zoom tools.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from socialcredit.report.comparison import compare, summary_numbers
from socialcredit.report.figures import (
    CHARTS,
    MAX_TIER_PLOTS,
    NO_ACTS,
    NO_COUNTERFACTUAL,
    absent_reasons,
    chart_id,
    chart_title,
    figure_data,
    map_radius,
    tier_floor_scores,
)
from socialcredit.report.labels import summary_labels
from socialcredit.report.page import embed, esc, fmt, page, table

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
        "Interpersonal trust (its mean) and the chilling effect (speech and religious acts "
        "per agent-year, each day's rate) over the run, with the system and, where a run "
        "without it is given, without it. Without the system nothing wears trust down, so the "
        "line without it stays at trust's initial level."
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
    if key == "behaviour_rates" and df is not None:
        rates = df[[c for c in ("system", "counterfactual") if c in df]].to_numpy(float)
        if not (rates > 0).any():
            text += f" Here {NO_ACTS}."
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
    """One bokeh model per chart in ``data``: the chart module's definition
    (``charts.report.report_chart``), the same one the PNG files render."""
    from socialcredit.charts.core import to_bokeh
    from socialcredit.charts.report import phase_days, report_chart

    floors = tier_floor_scores(result.scenario)
    marks = phase_days(result)
    out = {}
    for key in CHARTS:
        chart = report_chart(key, data.get(key), tier_floors=floors, phases=marks)
        if chart is not None:
            out[key] = to_bokeh(chart)
    return out


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


def _phases(result: Result) -> str:
    """The timeline's phases (issue 14), which the charts over days mark with dashed lines."""
    tl = result.scenario.timeline
    if tl is None:
        return ""
    head = ["phase", "day", "date", "starts", "stops", "sets", "note"]
    rows = [
        (r["phase"], r["day"], r["date"] or "", r["start"], r["stop"], r["set"], r["note"])
        for r in tl.table()
    ]
    return (
        '<section id="phases">\n<h2>Timeline</h2>\n<p>The phases of the run: what each starts, '
        "stops or sets, from its (0-based) day on. Charts over days mark each phase with a "
        "dashed line.</p>\n"
        f"{table(head, rows, [False, True, False, False, False, False, False])}</section>\n"
    )


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
    parts.append(_phases(result))
    for key in charts:
        extra = _credit_files_table(data[key]) if key == "credit_files" else ""
        parts.append(chart_section(key, divs[key], extra, df=data[key]))
    parts.append(absent_section(absent_reasons(result, counterfactual, data)))
    parts.append(_summary(result, counterfactual))
    parts.append(_metadata(result))
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    parts.append(
        f"<footer>Written by socialcredit {esc(__version__)} on {esc(stamp)}. Charts: "
        "HoloViews and bokeh, embedded; the page needs no network.</footer>\n"
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


def write_pngs(
    data: Mapping[str, pd.DataFrame],
    folder: str | Path,
    *,
    title: str | None = None,
    tier_floors: Mapping[str, int] | None = None,
    phases: list[int] | None = None,
) -> list[Path]:
    """Write one PNG per chart in ``data`` (as ``figure_data`` returns it) into ``folder``:
    the chart module's definition (``charts.report.report_chart``) rendered by
    matplotlib, the same one the HTML page renders with bokeh.

    Files are named after the chart ids (``tiers-over-time.png``, ...). ``title`` prefixes the
    tier chart's title (the scenario name, say); ``tier_floors`` (tier -> lowest score) marks
    tier boundaries on the score distribution; ``phases`` (days) marks the timeline's phases on
    the charts over days. Returns the paths written, in report order.
    """
    from socialcredit.charts.core import export
    from socialcredit.charts.report import report_chart
    from socialcredit.report.figures import CHARTS

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    label = f"{title}: " if title else ""
    written = []
    for key, (slug, _) in CHARTS.items():
        chart = report_chart(
            key, data.get(key), tier_floors=tier_floors, label=label, phases=phases
        )
        if chart is not None:
            written.append(export(chart, folder / f"{slug}.png"))
    return written
