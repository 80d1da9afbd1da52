"""One definition per figure, for the HTML page, the dashboard and the PNG files.

Each chart is a HoloViews object built from a tidy pandas DataFrame (the ``*_data`` functions
and folder loaders make those frames from a Result, an audit, a sweep or a search). The same
object is rendered by bokeh for HTML pages and the dashboard, and by matplotlib for PNG files:
``export(chart, "x.png")`` or ``export(chart, "x.html")``. See docs/decisions.md, "One chart
source, two backends".
"""

from socialcredit.charts.core import ChartError, export, png_bytes, to_bokeh
from socialcredit.charts.experiments import (
    forest_chart,
    pareto_chart,
    response_chart,
    search_frames,
    sobol_chart,
    sweep_frames,
)
from socialcredit.charts.report import run_charts
from socialcredit.charts.run import (
    MAP_EMPTY,
    behaviour_chart,
    behaviour_data,
    lorenz_chart,
    lorenz_points,
    map_chart,
    raster,
    tiers_chart,
    tiers_data,
    trust_chilling_chart,
    trust_chilling_data,
)

__all__ = [
    "MAP_EMPTY",
    "ChartError",
    "behaviour_chart",
    "behaviour_data",
    "export",
    "forest_chart",
    "lorenz_chart",
    "lorenz_points",
    "map_chart",
    "pareto_chart",
    "png_bytes",
    "raster",
    "response_chart",
    "run_charts",
    "search_frames",
    "sobol_chart",
    "sweep_frames",
    "tiers_chart",
    "tiers_data",
    "to_bokeh",
    "trust_chilling_chart",
    "trust_chilling_data",
]
