"""The page kit: the HTML building blocks every report page shares (the run report, the
comparison of two runs): the document shell with inline CSS and bokeh's JavaScript, escaping,
tables, number formatting and bokeh data sources. Pages import it; it imports no page.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from socialcredit.report.figures import percent

if TYPE_CHECKING:  # pragma: no cover
    from bokeh.model import Model

TOOLS = "pan,box_zoom,wheel_zoom,reset,save"

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #1d1d1f; background: #fafafa; line-height: 1.45; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5rem 1.5rem 3rem; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
.description { font-size: 1.05rem; color: #333; }
.note { background: #fff4e5; border-left: 4px solid #e67e22; padding: .6rem 1rem; }
.what { color: #444; max-width: 60rem; }
.chart { background: #fff; border: 1px solid #e3e3e3; border-radius: 4px; padding: .5rem;
         min-height: 200px; }
table { border-collapse: collapse; margin: .5rem 0; font-size: .92rem; background: #fff; }
th, td { border: 1px solid #ddd; padding: .25rem .6rem; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: .15rem 1rem; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
footer { margin-top: 3rem; color: #666; font-size: .85rem; }
"""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def bokeh_js() -> str:
    """bokeh's core JavaScript as inline <script> tags (no network at view time).

    Once Panel is imported (HoloViews loads it to render charts) bokeh's resources also name
    Panel's module shim by a relative ``src``; the report's charts are plain bokeh models,
    so any script loaded by address is left out and the page stays one offline file."""
    import re

    from bokeh.resources import Resources

    js = Resources(mode="inline", components=["bokeh"]).render_js()
    return re.sub(r"<script[^>]*\ssrc=[^>]*>\s*</script>\s*", "", js)


def embed(charts: Mapping[str, Model]) -> tuple[str, dict[str, str]]:
    """(script, {key: div}) for the given bokeh models; the script must follow the divs."""
    if not charts:
        return "", {}
    from bokeh.embed import components

    script, divs = components(dict(charts))
    return script, divs


def page(title: str, body: str, script: str = "") -> str:
    """A complete HTML document: inline CSS, inline bokeh JS, the body, then the chart script."""
    js = bokeh_js() if script else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n{js}\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n{script}\n</body>\n</html>\n"
    )


def table(
    header: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[bool] | None = None
) -> str:
    numeric = list(numeric or [False] * len(header))
    cls = [' class="num"' if n else "" for n in numeric]
    head = "".join(f"<th{c}>{esc(h)}</th>" for h, c in zip(header, cls, strict=True))
    body = "".join(
        "<tr>" + "".join(f"<td{c}>{esc(v)}</td>" for v, c in zip(row, cls, strict=True)) + "</tr>"
        for row in rows
    )
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>{body}</tbody>\n</table>\n"


def fmt(metric: str, value: Any, difference: bool = False) -> str:
    """A summary number for reading: shares and rates as percentages (their differences in
    percentage points), other numbers to 5 significant digits."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    value = float(value)
    if np.isinf(value):
        return "∞" if value > 0 else "-∞"
    if difference and value == 0:
        return "0"
    is_share = any(w in metric for w in ("share", "rate")) and "per_agent_year" not in metric
    if is_share:
        return f"{100 * value:+.4g} pp" if difference else percent(value)
    return f"{value:+.5g}" if difference else f"{value:.5g}"


def source(df: pd.DataFrame):
    """A bokeh ColumnDataSource of plain columns: integers as int32, other numbers as float
    (missing: NaN), everything else as Python lists (missing: empty text), so any pandas dtype
    serialises and tooltips show integers without decimals."""
    from bokeh.models import ColumnDataSource

    data: dict[str, Any] = {}
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_bool_dtype(s) and not s.hasnans:
            data[str(col)] = s.to_numpy(bool)
        elif pd.api.types.is_integer_dtype(s) and not s.hasnans:
            ints = s.to_numpy(np.int64)
            small = ints.size == 0 or np.abs(ints).max() < 2**31
            data[str(col)] = ints.astype(np.int32) if small else ints.astype(float)
        elif pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            data[str(col)] = s.to_numpy(dtype=float, na_value=np.nan)
        else:
            data[str(col)] = ["" if v is None or v is pd.NA else v for v in s.tolist()]
    return ColumnDataSource(data=data)
