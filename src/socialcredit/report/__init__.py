"""Reports on runs: chart data, PNG figures, a self-contained interactive HTML page, and
side-by-side comparisons of two runs.

    from socialcredit.report import figure_data, write_pngs, write_report, compare, write_compare

Names are imported lazily, so that registering the report commands on the CLI does not load
pandas, matplotlib or bokeh.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = [
    "CHARTS",
    "chart_id",
    "compare",
    "compare_command",
    "figure_data",
    "load_events",
    "render_report",
    "report_command",
    "write_compare",
    "write_pngs",
    "write_report",
]

if TYPE_CHECKING:  # pragma: no cover
    from socialcredit.report.cli import compare_command, report_command
    from socialcredit.report.comparison import compare, write_compare
    from socialcredit.report.figures import CHARTS, chart_id, figure_data, load_events, write_pngs
    from socialcredit.report.html import render_report, write_report

_WHERE = {
    "CHARTS": "figures",
    "chart_id": "figures",
    "figure_data": "figures",
    "load_events": "figures",
    "write_pngs": "figures",
    "render_report": "html",
    "write_report": "html",
    "compare": "comparison",
    "write_compare": "comparison",
    "report_command": "cli",
    "compare_command": "cli",
}


def __getattr__(name: str):
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f"socialcredit.report.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'socialcredit.report' has no attribute {name!r}")
