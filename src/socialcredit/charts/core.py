"""HoloViews plumbing shared by every chart: the two backends, per-backend options, export.

A chart is a HoloViews object whose options are set for both backends: bokeh (the HTML page
and the dashboard) and matplotlib (PNG files). ``style`` sets the options once per backend,
``export`` writes a chart as PNG or HTML by the path's suffix, ``to_bokeh`` gives the bokeh
model a Panel pane or an HTML page embeds.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
WITH = "#d62728"  # with the system
WITHOUT = "#1f77b4"  # without it (the counterfactual)
RADIUS = "#00e5ff"  # the 500 m circle
WIDTH, HEIGHT = 760, 340  # bokeh, pixels
FIG_INCHES = 8.0  # matplotlib: figure width


class ChartError(ValueError):
    """A figure that cannot be exported (an unknown file suffix, say)."""


@functools.cache
def hv():
    """holoviews, with both plotting backends loaded (no notebook output, no network)."""
    import holoviews
    import holoviews.plotting.bokeh  # noqa: F401  (registers the backend's options)
    import holoviews.plotting.mpl  # noqa: F401

    if holoviews.Store.current_backend != "bokeh":
        holoviews.Store.set_current_backend("bokeh")
    _param_logs_to_current_stderr()
    return holoviews


class _CurrentStderr:
    """Whatever ``sys.stderr`` is now: param's log handler is made once, with the stream of
    that moment, which in a command run inside another program (a test's CliRunner, a
    notebook) is gone by the next warning, and logging then prints its own traceback."""

    def write(self, text: str) -> int:
        import sys

        return sys.stderr.write(text)

    def flush(self) -> None:
        import sys

        sys.stderr.flush()


def _param_logs_to_current_stderr() -> None:
    import logging

    for handler in logging.getLogger("param").handlers:
        if isinstance(handler, logging.StreamHandler) and not isinstance(
            handler.stream, _CurrentStderr
        ):
            handler.setStream(_CurrentStderr())


def style(obj: Any, *, bokeh: dict | None = None, mpl: dict | None = None, **both: Any) -> Any:
    """Set ``both`` on both backends, then ``bokeh`` / ``mpl`` on each alone; returns obj."""
    obj.opts(backend="bokeh", **{**both, **(bokeh or {})})
    obj.opts(backend="matplotlib", **{**both, **(mpl or {})})
    return obj


def element_style(obj: Any, spec: dict[str, dict], **per_backend: dict) -> Any:
    """Options per element type (``{"Curve": {...}}``) on both backends, then per backend
    (``bokeh={"Curve": {...}}``, ``mpl=...``)."""
    hvm = hv()
    for backend, key in (("bokeh", "bokeh"), ("matplotlib", "mpl")):
        merged = {k: dict(v) for k, v in spec.items()}
        for k, v in (per_backend.get(key) or {}).items():
            merged.setdefault(k, {}).update(v)
        obj.opts(*[getattr(hvm.opts, k)(**v) for k, v in merged.items()], backend=backend)
    return obj


BOKEH = {"width": WIDTH, "height": HEIGHT, "tools": ["hover"], "active_tools": ["wheel_zoom"]}
MPL = {"fig_inches": FIG_INCHES, "aspect": 2.2}


def export(chart: Any, path: str | Path) -> Path:
    """Write ``chart`` to ``path``: a PNG (matplotlib backend) for ``.png``, a self-contained
    HTML page (bokeh, its JavaScript inlined: works offline) for ``.html``/``.htm``. Returns
    the path. Raises ChartError for another suffix."""
    hvm = hv()
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".png", ".html", ".htm"):
        raise ChartError(f"{path}: a figure is exported as .png or .html, not {suffix or '(none)'}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    if suffix == ".png":
        hvm.save(chart, tmp, fmt="png", backend="matplotlib", dpi=100)
    else:
        hvm.save(chart, tmp, fmt="html", backend="bokeh", resources="inline", title=_title(chart))
    if not tmp.exists():  # holoviews adds the suffix itself when the name lacks it
        tmp = tmp.with_name(tmp.name + suffix)
    tmp.replace(path)
    return path


def png_bytes(chart: Any) -> bytes:
    """The chart as PNG bytes (matplotlib backend)."""
    import io

    hvm = hv()
    fig = hvm.render(chart, backend="matplotlib")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()


def to_bokeh(chart: Any) -> Any:
    """The bokeh model of ``chart`` (for a page or a Panel pane)."""
    return hv().render(chart, backend="bokeh")


def _title(chart: Any) -> str:
    label = getattr(chart, "label", "") or ""
    return label or "socialcredit figure"
