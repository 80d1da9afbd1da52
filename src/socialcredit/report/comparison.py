"""Two runs side by side: their summary numbers, the differences, and a chart of them.

Metric names are the dotted paths of summary.json (docs/metrics.md), e.g.
``jurisdictions.rongcheng.tier_shares.D`` or ``acts_per_agent_year.littering``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from socialcredit.report.page import TOOLS, embed, esc, fmt, page, source, table

if TYPE_CHECKING:  # pragma: no cover
    from socialcredit.result import Result

COMPARE_FILES = ("compare.png", "compare.html", "compare.md")
_SKIP = {("agents",), ("days",)}
_SKIP_LEAVES = {"agents", "programme"}  # per-jurisdiction facts, not outcomes


def summary_numbers(summary: Mapping[str, Any]) -> dict[str, float]:
    """A run summary flattened to {dotted path: number}, facts (agents, days) left out."""
    out: dict[str, float] = {}

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if isinstance(node, Mapping):
            for k, v in node.items():
                walk(v, (*path, str(k)))
            return
        if path in _SKIP or (path[0] == "jurisdictions" and path[-1] in _SKIP_LEAVES):
            return
        if isinstance(node, bool) or not isinstance(node, int | float | np.number):
            return
        out[".".join(path)] = float(node)

    walk(summary, ())
    return out


def compare(result_a: Result, result_b: Result) -> pd.DataFrame:
    """Summary numbers of two runs side by side.

    Columns: metric (summary.json path), a, b, difference (a - b), relative (difference / |b|;
    0 where both are equal, +-inf where only b is 0, NaN where either is missing). Tier shares,
    listed share, acts per agent-year per behaviour, records per agent-year, false-record
    share, loan refusal and trips-blocked rates, mean score by group, mean risk and wealth:
    whatever the summaries hold. A metric one run lacks is NaN there, except the listed share
    of a jurisdiction that runs no programme, which is 0 (nobody can be listed).
    """
    na, nb = summary_numbers(result_a.summary), summary_numbers(result_b.summary)
    for mine, theirs, summary in ((na, nb, result_a.summary), (nb, na, result_b.summary)):
        for j, entry in summary.get("jurisdictions", {}).items():
            key = f"jurisdictions.{j}.listed_share"
            if isinstance(entry, Mapping) and entry.get("programme") is False and key in theirs:
                mine.setdefault(key, 0.0)
    keys = list(dict.fromkeys([*na, *nb]))
    a = np.array([na.get(k, np.nan) for k in keys], dtype=float)
    b = np.array([nb.get(k, np.nan) for k in keys], dtype=float)
    diff = a - b
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(
            b != 0, diff / np.abs(b), np.where(diff == 0, 0.0, np.sign(diff) * np.inf)
        )
    relative[np.isnan(diff)] = np.nan
    return pd.DataFrame({"metric": keys, "a": a, "b": b, "difference": diff, "relative": relative})


def run_label(result: Result) -> str:
    name = result.scenario.metadata.name
    run_id = (result.info or {}).get("run_id")
    return f"{name} ({run_id})" if run_id else name


def _drawable(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Rows whose relative difference can be drawn, and the names of those that cannot."""
    ok = np.isfinite(df["relative"])
    return df[ok], list(df.loc[~ok, "metric"])


def _png(df: pd.DataFrame, path: Path, label_a: str, label_b: str) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    shown, hidden = _drawable(df)
    fig = Figure(figsize=(10, max(3.5, 1.8 + 0.3 * len(shown))), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    pos = np.arange(len(shown))[::-1]
    rel = shown["relative"].to_numpy()
    colours = np.where(rel > 0, "tab:red", "tab:blue")
    ax.barh(pos, rel, color=colours)
    ax.set_yticks(pos, list(shown["metric"]), fontsize=8)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: "0%" if v == 0 else f"{100 * v:+.3g}%"))
    ax.set_xlabel("relative difference, (a - b) / |b|")
    title = f"a: {label_a}\nb: {label_b}"
    if hidden:
        note = f"Not drawn ({len(hidden)}; b is 0 or missing): " + ", ".join(hidden)
        title += "\n" + textwrap.fill(textwrap.shorten(note, 420, placeholder=" ..."), 130)
    ax.set_title(title, fontsize=8, loc="left")
    if not np.any(rel):
        ax.text(0.5, 0.5, "no differences", transform=ax.transAxes, ha="center", fontsize=14)
    ax.grid(True, axis="x", alpha=0.3)
    fig.savefig(path)
    return path


def _chart(df: pd.DataFrame):
    from bokeh.models import FactorRange, HoverTool, NumeralTickFormatter, Span
    from bokeh.plotting import figure

    shown, _ = _drawable(df)
    shown = shown.assign(colour=np.where(shown["relative"] > 0, "#d62728", "#1f77b4"))
    p = figure(
        title="Relative difference of each summary number, (a - b) / |b|",
        y_range=FactorRange(factors=list(shown["metric"])[::-1]),
        x_axis_label="relative difference",
        height=max(300, 80 + 24 * len(shown)),
        sizing_mode="stretch_width",
        tools=TOOLS,
        toolbar_location="above",
    )
    r = p.hbar(y="metric", right="relative", height=0.7, color="colour", source=source(shown))
    p.add_layout(Span(location=0, dimension="height", line_color="black"))
    p.add_tools(
        HoverTool(
            renderers=[r],
            tooltips=[
                ("metric", "@metric"),
                ("a", "@a{0.[0000]}"),
                ("b", "@b{0.[0000]}"),
                ("difference", "@difference{+0.[0000]}"),
                ("relative", "@relative{+0.[00]%}"),
            ],
        )
    )
    p.xaxis.formatter = NumeralTickFormatter(format="+0.[0]%")
    return p


def _relative(r: float) -> str:
    if np.isnan(r):
        return "–"
    if np.isinf(r):
        return "∞" if r > 0 else "-∞"
    return "0" if r == 0 else f"{100 * r:+.3g}%"


def _rows(df: pd.DataFrame) -> list[tuple[str, str, str, str, str]]:

    return [
        (
            m,
            fmt(m, a),
            fmt(m, b),
            fmt(m, d, difference=True),
            _relative(r),
        )
        for m, a, b, d, r in df[["metric", "a", "b", "difference", "relative"]].itertuples(
            index=False
        )
    ]


HEADER = ["metric", "a", "b", "difference (a - b)", "relative"]


def _html(df: pd.DataFrame, path: Path, label_a: str, label_b: str) -> Path:

    shown, hidden = _drawable(df)
    script, divs = embed({"compare": _chart(df)} if not shown.empty else {})
    body = [
        "<h1>Two runs compared</h1>\n",
        f"<p><strong>a</strong>: {esc(label_a)}<br><strong>b</strong>: {esc(label_b)}</p>\n",
        "<p>Summary numbers of both runs (the fields of summary.json, defined in "
        "docs/metrics.md). Shares and rates are percentages, their differences percentage "
        "points (pp). Red bars: a is higher; blue: a is lower. Hover for the values; drag or "
        "scroll to zoom.</p>\n",
    ]
    if divs:
        body.append(f'<div id="chart-compare" class="chart">{divs["compare"]}</div>\n')
    if hidden:
        body.append(
            f"<p>Not drawn (b is 0 or the metric is missing in one run): {esc(', '.join(hidden))}.</p>\n"
        )
    body.append(table(HEADER, _rows(df), [False, True, True, True, True]))
    path.write_text(
        page(f"socialcredit compare: {label_a} vs {label_b}", "".join(body), script),
        encoding="utf-8",
    )
    return path


def _markdown(df: pd.DataFrame, path: Path, label_a: str, label_b: str) -> Path:
    lines = [
        "# Two runs compared",
        "",
        f"- a: {label_a}",
        f"- b: {label_b}",
        "",
        "Shares and rates in percent, their differences in percentage points (pp); metric names "
        "are summary.json fields (docs/metrics.md).",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(HEADER) - 1)) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in _rows(df)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_compare(result_a: Result, result_b: Result, folder: str | Path) -> list[Path]:
    """Write compare.png (relative differences), compare.html (self-contained, interactive) and
    compare.md (the table) into ``folder``; return their paths in that order."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    df = compare(result_a, result_b)
    la, lb = run_label(result_a), run_label(result_b)
    if la == lb:
        la, lb = f"{la} [a]", f"{lb} [b]"
    png, html_file, md = (folder / name for name in COMPARE_FILES)
    return [_png(df, png, la, lb), _html(df, html_file, la, lb), _markdown(df, md, la, lb)]
