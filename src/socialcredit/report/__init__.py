"""Reports on runs: chart data, PNG figures, a self-contained interactive HTML page, and
side-by-side comparisons of two runs.

    from socialcredit.report import figure_data, write_pngs, write_report, compare, write_compare

Names are imported lazily, so that registering the report commands on the CLI does not load
pandas, matplotlib or bokeh.
"""

from __future__ import annotations

import sys
import types
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
    from socialcredit.report.figures import CHARTS, chart_id, figure_data, load_events
    from socialcredit.report.html import render_report, write_pngs, write_report

_WHERE = {
    "CHARTS": "figures",
    "chart_id": "figures",
    "figure_data": "figures",
    "load_events": "figures",
    "write_pngs": "html",
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


class _ReportModule(types.ModuleType):
    """This package, callable as the top-level ``sc.report`` (``api.report``): once the package
    is imported Python binds ``socialcredit.report`` to it, so calling it must write a report
    (the same arrangement as ``socialcredit.audit``)."""

    def __call__(self, *args, **kwargs):
        from socialcredit.api import report

        return report(*args, **kwargs)


sys.modules[__name__].__class__ = _ReportModule
