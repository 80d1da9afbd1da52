"""An audit's page: the table and a forest plot that ``report.html`` opens with, and the
audit folder's report written (``write_audit_report``; ``AuditResult.open`` reads a folder back,
so that ``socialcredit report`` rewrites it).

The forest plot draws one row per outcome with an effect: the mean effect as a dot, its 95%
interval as a bar and the line of no effect (0, or 1 for a ratio), stated aims and harms
apart. Outcomes are in different units, so every row has its own scale, centred on no effect
and wide enough for its interval; the row's text gives the numbers in the table's units. The
chart is the chart module's (``socialcredit.charts.forest_chart``, the dashboard's too),
rendered by matplotlib and inlined in the page as a PNG.
"""

from __future__ import annotations

import base64
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from socialcredit.audit.result import AuditResult

FOREST_FILE = "forest.png"  # in the report's figures/ folder


def forest_rows(result: AuditResult) -> pd.DataFrame:
    """The rows of the forest plot: outcome, kind, label, effect text, effect, ci_low,
    ci_high and the line of no effect (``null``), aims first, in the table's order."""
    rows = []
    shown = {f["label"]: f for f in result.modelled()}
    for r, f in zip(result.table.itertuples(index=False), result.formatted(), strict=True):
        if f["label"] not in shown or not math.isfinite(r.effect):
            continue
        rows.append(
            {
                "outcome": r.outcome,
                "kind": r.kind,
                "label": f["label"],
                "text": f["effect"],
                "effect": float(r.effect),
                "ci_low": float(r.ci_low),
                "ci_high": float(r.ci_high),
                "null": 1.0 if r.comparison == "ratio" else 0.0,
            }
        )
    df = pd.DataFrame(rows, columns=["outcome", "kind", "label", "text", "effect", "ci_low"])
    if rows:
        df = pd.DataFrame(rows)
        df["order"] = (df["kind"] != "aim").astype(int)
        df = df.sort_values("order", kind="stable").drop(columns="order")
    return df.reset_index(drop=True)


def forest_chart(result: AuditResult) -> Any:
    """The forest plot: the chart module's definition (``charts.forest_chart``), or None when
    no outcome has an effect."""
    from socialcredit.charts import forest_chart as chart

    df = forest_rows(result)
    if df.empty:
        return None
    a, b = result.arms
    what = f"{a} − {b}" if result.is_design_pair else "with − without the system"
    return chart(df, f"{result.title()}: effects ({what}) with 95% intervals")


def forest_png(result: AuditResult) -> bytes | None:
    """The forest plot as PNG bytes, rendered by matplotlib (None without effects)."""
    from socialcredit.charts import png_bytes

    chart = forest_chart(result)
    return None if chart is None else png_bytes(chart)


def audit_lead(result: AuditResult, png: bytes | None) -> str:
    """The HTML an audit's report opens with: the setting, the table, the outcomes not
    modelled, then the forest plot (inlined, so the page stays one file)."""
    from socialcredit.report.page import esc, table

    without, with_ = result.headers()
    rows = [
        (f["label"], f["unit"], f["without"], f["with"], f["effect"], f["relative"], f["note"])
        for f in result.modelled()
    ]
    head = ["outcome", "unit", without, with_, "effect (95% CI)", "relative (95% CI)", "note"]
    sc = result.scenario
    parts = [
        '<section id="audit">\n',
        f"<p>{sc.population.agents:,} synthetic agents, {sc.days:,} days, "
        f"{result.replicates} replicates (seeds {', '.join(map(str, result.seeds))}). "
        f"{esc(result.setting().replace('*', ''))} Brackets hold 95% intervals across "
        "replicates; docs/audit.md says how each is made and how to read it.</p>\n",
        table(head, rows, [False, False, True, True, True, True, False]),
    ]
    rest = result.not_modelled()
    if rest:
        parts.append(f"<p>Not modelled in this scenario: {esc(', '.join(rest))}.</p>\n")
    parts.append("</section>\n")
    if png is not None:
        data = base64.b64encode(png).decode("ascii")
        parts.append(
            '<section id="forest">\n<h2>Effects at a glance</h2>\n<p class="what">Each '
            "outcome's effect (dot) and its 95% interval (bar) against no effect (the grey "
            "line); red where the interval excludes no effect. Outcomes have different units, "
            "so each row has its own scale: compare each bar with its own line, not with the "
            "other rows, and read the numbers on the right.</p>\n"
            f'<img alt="forest plot of the effects" src="data:image/png;base64,{data}" '
            'style="max-width:100%">\n</section>\n'
        )
    return "".join(parts)


def write_audit_report(result: AuditResult, folder: Path) -> list[Path]:
    """report.html (the audit's table and forest plot, then replicate 0's charts) and
    figures/*.png (forest.png and replicate 0's figures) in ``folder``, which must be a
    temporary folder moved into place by the caller, or one being written whole."""
    from socialcredit.report.figures import FIGURES_DIR, figure_data
    from socialcredit.report.html import REPORT_FILE, render_report, write_pngs
    from socialcredit.report.page import page

    png = forest_png(result)
    lead = audit_lead(result, png)
    (folder / FIGURES_DIR).mkdir(parents=True, exist_ok=True)
    paths = []
    if png is not None:
        paths.append(folder / FIGURES_DIR / FOREST_FILE)
        paths[-1].write_bytes(png)
    ex = result.example
    if ex is not None:
        data = figure_data(ex, ex.counterfactual)
        text = render_report(ex, ex.counterfactual, data, lead=lead, heading=result.title())
        paths += write_pngs(data, folder / FIGURES_DIR)
    else:
        text = page(result.title(), f"<h1>{result.title()}</h1>\n{lead}")
    (folder / REPORT_FILE).write_text(text, encoding="utf-8")
    return [folder / REPORT_FILE, *paths]
