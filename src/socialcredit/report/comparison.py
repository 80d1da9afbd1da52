"""Two runs side by side: their summary numbers, the differences, and a chart of them.

Metric names are the dotted paths of summary.json (docs/metrics.md), e.g.
``jurisdictions.rongcheng.tier_shares.D`` or ``acts_per_agent_year.littering``; pages and
tables show their plain labels (``labels``). A relative change is never infinite: 0 against 0
is "no change", and a change from 0 has no relative change (a footnote says so). One run
against one run has no interval, and the files say so; replicate pairs (audit folders) give
95% intervals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from socialcredit.audit.statistics import mean_ci
from socialcredit.report.labels import summary_labels
from socialcredit.report.page import embed, esc, fmt, page, table

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


NO_CHANGE = "no change"
B_ZERO = "b is 0"
MISSING = "missing in a run"
ONE_SEED = (
    "One run against one run: these differences carry no interval, so they cannot be told "
    "apart from chance. For intervals, compare two audit folders, or one audit folder alone "
    "(its arms, every replicate): `socialcredit audit SCENARIO -r 5`."
)


def _relative(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """(a - b) / |b| and a note per row: NaN with a note where it is undefined (never inf)."""
    diff = a - b
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(b != 0, diff / np.abs(b), np.nan)
    notes = []
    for i in range(len(a)):
        if np.isnan(diff[i]):
            notes.append(MISSING)
            relative[i] = np.nan
        elif diff[i] == 0:
            notes.append(NO_CHANGE)
            relative[i] = 0.0
        elif b[i] == 0:
            notes.append(B_ZERO)
        else:
            notes.append("")
    return relative, notes


def compare(result_a: Result, result_b: Result) -> pd.DataFrame:
    """Summary numbers of two runs side by side.

    Columns: metric (summary.json path), a, b, difference (a - b), relative (difference /
    |b|; 0 where both are equal, NaN where b is 0 or either is missing: never inf), note ("no
    change", "b is 0", "missing in a run" or empty), label (the plain label, the audit's where
    an audit reports the same number: ``labels.summary_label``). Tier shares, listed share,
    acts per agent-year per behaviour, records per agent-year, false-record share, loan refusal
    and trips-blocked rates, mean score by group, mean risk and wealth: whatever the summaries
    hold. A metric one run lacks is NaN there, except the listed share of a jurisdiction that
    runs no programme, which is 0 (nobody can be listed).
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
    relative, notes = _relative(a, b)
    labels = summary_labels(keys, result_a.scenario)
    return pd.DataFrame(
        {
            "metric": keys,
            "a": a,
            "b": b,
            "difference": a - b,
            "relative": relative,
            "note": notes,
            "label": [labels[k] for k in keys],
        }
    )


def compare_replicates(pairs: Sequence[tuple[Result, Result]]) -> pd.DataFrame:
    """``compare`` over replicate pairs (a and b of one replicate share a seed): a and b are
    the means over replicates, difference the mean of the paired differences with its 95%
    Student-t interval (ci_low, ci_high; NaN with one replicate), relative the mean difference
    over |mean b|, replicates the number of pairs with the metric."""
    frames = [compare(a, b) for a, b in pairs]
    first = frames[0]
    keys = list(dict.fromkeys(k for f in frames for k in f["metric"]))
    stacked = pd.concat(frames, ignore_index=True)
    rows = []
    for k in keys:
        sub = stacked[stacked["metric"] == k]
        mean, lo, hi, n = mean_ci(sub["difference"].to_numpy(float))
        rows.append((k, sub["a"].mean(), sub["b"].mean(), mean, lo, hi, n))
    df = pd.DataFrame(
        rows, columns=["metric", "a", "b", "difference", "ci_low", "ci_high", "replicates"]
    )
    relative, notes = _relative(df["a"].to_numpy(float), df["b"].to_numpy(float))
    labels = dict(zip(first["metric"], first["label"], strict=True))
    labels.update(summary_labels([k for k in keys if k not in labels], pairs[0][0].scenario))
    df["label"] = [labels[k] for k in keys]
    df["relative"] = relative
    df["note"] = notes
    scale = np.abs(df["b"].to_numpy(float))
    with np.errstate(divide="ignore", invalid="ignore"):
        df["relative_low"] = np.where(scale > 0, df["ci_low"] / scale, np.nan)
        df["relative_high"] = np.where(scale > 0, df["ci_high"] / scale, np.nan)
    return df[
        ["metric", "a", "b", "difference", "ci_low", "ci_high", "relative"]
        + ["relative_low", "relative_high", "note", "replicates", "label"]
    ]


def run_label(result: Result) -> str:
    name = result.scenario.metadata.name
    run_id = (result.info or {}).get("run_id")
    return f"{name} ({run_id})" if run_id else name


def _has_ci(df: pd.DataFrame) -> bool:
    return "ci_low" in df and bool(np.isfinite(df["ci_low"]).any())


def _drawable(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Rows whose relative difference can be drawn, and the labels of those that cannot."""
    ok = np.isfinite(df["relative"])
    return df[ok], list(df.loc[~ok, "label"])


def _png(df: pd.DataFrame, path: Path, label_a: str, label_b: str) -> Path:
    from socialcredit.charts.core import export

    return export(compare_chart(df, label_a, label_b), path)


def compare_chart(df: pd.DataFrame, label_a: str = "a", label_b: str = "b"):
    """The comparison's chart (``charts.report.compare``): one definition for the PNG
    and the page. Its title names the runs, what is not drawn and, for one run against one
    run, that there is no interval."""
    from socialcredit.charts.report import compare as chart

    _, hidden = _drawable(df)
    title = f"a: {label_a}; b: {label_b}"
    if not _has_ci(df):
        title += " (one run against one run: no interval)"
    if hidden:
        title += f"; not drawn ({len(hidden)}): b is 0 or missing"
    return chart(df, title)


NOTE_MARK = {NO_CHANGE: "", B_ZERO: "—¹", MISSING: "—²"}
FOOTNOTES = (
    "¹ b is 0, so a relative change is not defined (it is not infinite).",
    "² the number is missing in one run (e.g. tier shares where it runs no programme).",
)


def _relative_text(r: float, note: str) -> str:
    if note == NO_CHANGE:
        return NO_CHANGE
    if note in NOTE_MARK:
        return NOTE_MARK[note]
    return "0" if r == 0 else f"{100 * r:+.3g}%"


def _difference_text(m: str, row: Any) -> str:
    if row.note == NO_CHANGE:
        return NO_CHANGE
    text = fmt(m, row.difference, difference=True)
    lo, hi = getattr(row, "ci_low", np.nan), getattr(row, "ci_high", np.nan)
    if np.isfinite(lo) and np.isfinite(hi):
        text += f" ({fmt(m, lo, difference=True)} to {fmt(m, hi, difference=True)})"
    return text


def _rows(df: pd.DataFrame) -> list[tuple[str, ...]]:
    return [
        (
            row.label,
            fmt(row.metric, row.a),
            fmt(row.metric, row.b),
            _difference_text(row.metric, row),
            _relative_text(row.relative, row.note),
            row.metric,
        )
        for row in df.itertuples(index=False)
    ]


def _header(df: pd.DataFrame) -> list[str]:
    diff = "difference (a - b)"
    if _has_ci(df):
        diff += f", 95% interval over {int(df['replicates'].max())} replicates"
    return ["measure", "a", "b", diff, "relative", "field"]


def _footnotes(df: pd.DataFrame) -> list[str]:
    return [f for f, n in zip(FOOTNOTES, (B_ZERO, MISSING), strict=True) if (df["note"] == n).any()]


def _html(df: pd.DataFrame, path: Path, label_a: str, label_b: str) -> Path:
    shown, hidden = _drawable(df)
    from socialcredit.charts.core import to_bokeh

    chart = to_bokeh(compare_chart(df, label_a, label_b)) if not shown.empty else None
    script, divs = embed({"compare": chart} if chart is not None else {})
    body = [
        "<h1>Two runs compared</h1>\n",
        f"<p><strong>a</strong>: {esc(label_a)}<br><strong>b</strong>: {esc(label_b)}</p>\n",
    ]
    if not _has_ci(df):
        body.append(f'<p class="note" id="one-seed">{esc(ONE_SEED)}</p>\n')
    body.append(
        "<p>Summary numbers of both runs, labelled as the audit labels them (the last column "
        "is the field of summary.json, defined in docs/metrics.md). Shares and rates are "
        "percentages, their differences percentage points (pp). Red bars: a is higher; blue: "
        "a is lower (see the legend). Hover for the values; drag or scroll to zoom.</p>\n"
    )
    if divs:
        body.append(f'<div id="chart-compare" class="chart">{divs["compare"]}</div>\n')
    if hidden:
        body.append(
            f"<p>Not drawn (b is 0 or the number is missing in one run): "
            f"{esc(', '.join(hidden))}.</p>\n"
        )
    body.append(table(_header(df), _rows(df), [False, True, True, True, True, False]))
    body += [f'<p class="what">{esc(f)}</p>\n' for f in _footnotes(df)]
    path.write_text(
        page(f"socialcredit compare: {label_a} vs {label_b}", "".join(body), script),
        encoding="utf-8",
    )
    return path


def _markdown(df: pd.DataFrame, path: Path, label_a: str, label_b: str) -> Path:
    header = _header(df)
    lines = ["# Two runs compared", "", f"- a: {label_a}", f"- b: {label_b}", ""]
    if not _has_ci(df):
        lines += [f"> {ONE_SEED}", ""]
    lines += [
        "Shares and rates in percent, their differences in percentage points (pp); the field "
        "column is the summary.json path (docs/metrics.md).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(header) - 2) + ["---"]) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in _rows(df)]
    if _footnotes(df):
        lines += ["", *_footnotes(df)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_compare(
    result_a: Result,
    result_b: Result,
    folder: str | Path,
    replicates: Sequence[tuple[Result, Result]] | None = None,
) -> list[Path]:
    """Write compare.png (relative differences), compare.html (self-contained, interactive) and
    compare.md (the table) into ``folder``; return their paths in that order. ``replicates``
    (pairs of runs, one per replicate, a first) adds 95% intervals over them; without it, or
    with one pair, the files say that one run against one run has no interval."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if replicates is not None and len(replicates) > 1:
        df = compare_replicates(replicates)
    else:
        df = compare(result_a, result_b)
    la, lb = run_label(result_a), run_label(result_b)
    if la == lb:
        la, lb = f"{la} [a]", f"{lb} [b]"
    png, html_file, md = (folder / name for name in COMPARE_FILES)
    return [_png(df, png, la, lb), _html(df, html_file, la, lb), _markdown(df, md, la, lb)]
