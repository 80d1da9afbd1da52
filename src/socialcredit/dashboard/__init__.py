"""`socialcredit dashboard`: a Panel app served on 127.0.0.1 only, with no network.

Bokeh's and Panel's JavaScript and CSS are served by this server itself
(``BOKEH_RESOURCES=server``), so the page loads nothing from a CDN. See ``app.Dashboard``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def serve(
    runs_dir: str | Path = "runs",
    port: int = 0,
    echo: Callable[[str], None] = print,
) -> None:
    """Serve the dashboard on http://127.0.0.1:PORT/ until interrupted (port 0: a free one)."""
    os.environ["BOKEH_RESOURCES"] = "server"  # bokeh's JS from this server, not a CDN
    import panel as pn

    from socialcredit.charts.core import hv
    from socialcredit.dashboard.app import Dashboard

    hv()  # both plotting backends, before the first page
    pn.extension(inline=False)
    runs_dir = Path(runs_dir)
    runs_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    server = pn.serve(
        {"/": lambda: Dashboard(runs_dir).view()},
        port=port,
        address=HOST,
        websocket_origin=[f"{HOST}:{port}", f"localhost:{port}"],
        show=False,
        start=False,
        title="socialcredit dashboard",
        threaded=False,
    )
    echo(f"socialcredit dashboard: http://{HOST}:{port}/  (runs in {runs_dir}; Ctrl-C stops it)")
    server.start()
    try:
        server.io_loop.start()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


__all__ = ["HOST", "free_port", "serve"]
