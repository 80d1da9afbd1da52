"""The dashboard page (Panel): scenario and controls, a live run with its charts, credit
files, the catalog's audits, sweeps and searches, saving settings and exporting figures.

Everything on the page is built per browser session by ``Dashboard``; the run itself is a
``live.LiveRun`` thread whose progress a periodic callback reads and draws. Errors become a
message on the page (the text the command line prints), never a traceback, and the server
keeps serving.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from socialcredit import charts
from socialcredit.dashboard import controls
from socialcredit.dashboard.live import LiveRun, message_of, partial_result
from socialcredit.scenario import ScenarioError
from socialcredit.scenario.loader import list_presets, preset_path

POLL_MS = 400
EVENTS = {  # what the credit-file finder looks for -> event kinds in the credit files
    "listed": ("listed",),
    "wrongly sanctioned": ("sanctioned_false",),
    "children refused school": ("school_refused",),
    "false records": ("false_record",),
}
RUN_CHARTS = {  # key -> heading, in page order
    "tiers": "Tiers over time",
    "behaviour": "Behaviour rates",
    "trust_chilling": "Trust and chilling",
    "map": "The city plane",
    "lorenz": "Wealth",
    "transitions": "Tier transitions",
    "scores": "Score distribution",
    "disparity": "Disparity between groups",
    "credit_files": "Example credit files",
}
START_SIZE = {"population.agents": 2000, "days": 60}  # a preset opens small: seconds, not hours


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "figure"


class Dashboard:
    def __init__(self, runs_dir: str | Path) -> None:
        import panel as pn

        self.pn = pn
        self.runs_dir = Path(runs_dir)
        self.run: LiveRun | None = None
        self.seen = -1
        self.figures: dict[str, Any] = {}  # name -> chart on the page, for export
        self.opened: dict[str, Any] = {}  # run folder -> Result (credit files)
        self.source_text = ""
        self.source_name = ""
        self.knobs: list[controls.Knob] = []
        self.widgets: dict[str, Any] = {}
        w = pn.widgets

        # -- scenario and controls --
        self.preset = w.Select(
            name="Preset", options=[n for n, _ in list_presets()], value="rongcheng", width=280
        )
        self.file = w.TextInput(
            name="or a scenario file", placeholder="path/to/scenario.yaml", width=220
        )
        self.load_file = w.Button(
            name="Load file", css_classes=["load-file"], width=110, align="end"
        )
        self.controls_box = pn.Column(css_classes=["controls"])
        self.counterfactual = w.Checkbox(name="also run it without the system", value=True)
        self.start = w.Button(name="Start", button_type="primary", css_classes=["start"])
        self.pause = w.Button(name="Pause", css_classes=["pause"], disabled=True)
        self.stop = w.Button(name="Stop", button_type="danger", css_classes=["stop"], disabled=True)
        self.status = pn.pane.Markdown("No run yet.", css_classes=["status"])
        self.error = pn.pane.Alert("", alert_type="danger", visible=False, css_classes=["error"])
        self.save_as = w.TextInput(name="Save settings as", value="my-scenario.yaml", width=220)
        self.save = w.Button(name="Save", css_classes=["save"], width=110, align="end")
        self.saved = pn.pane.Markdown("", css_classes=["saved"])
        self.preset.param.watch(lambda e: self.load_preset(e.new), "value")
        self.load_file.on_click(lambda e: self.load_path(self.file.value))
        self.start.on_click(lambda e: self.start_run())
        self.pause.on_click(lambda e: self.toggle_pause())
        self.stop.on_click(lambda e: self.stop_run())
        self.save.on_click(lambda e: self.save_scenario())

        # -- run charts --
        self.panes = {k: pn.Column(css_classes=[f"chart-{k}"]) for k in RUN_CHARTS}
        self.notes = {k: pn.pane.Markdown("", css_classes=[f"note-{k}"]) for k in RUN_CHARTS}

        # -- credit files --
        self.cf_run = w.Select(name="Run", options={}, width=420, css_classes=["cf-run"])
        self.cf_event = w.Select(name="People who were", options=list(EVENTS), width=240)
        self.cf_find = w.Button(name="Find", css_classes=["cf-find"], width=90)
        self.cf_people = w.Select(name="Person", options={}, width=300, css_classes=["cf-people"])
        self.cf_open = w.Button(name="Open file", css_classes=["cf-open"], width=110)
        self.cf_head = pn.pane.Markdown("", css_classes=["cf-head"])
        self.cf_table = pn.pane.DataFrame(None, index=False, css_classes=["cf-table"])
        self.cf_find.on_click(lambda e: self.find_people())
        self.cf_open.on_click(lambda e: self.open_file())

        # -- catalog --
        self.cat_kind = w.Select(name="Kind", options=["audit", "sweep", "search", "run"])
        self.cat_entry = w.Select(name="Entry", options={}, width=460, css_classes=["cat-entry"])
        self.cat_refresh = w.Button(name="Refresh", width=90)
        self.cat_open = w.Button(name="Open", css_classes=["cat-open"], width=90)
        self.cat_out = pn.Column(css_classes=["cat-out"])
        self.cat_kind.param.watch(lambda e: self.refresh_catalog(), "value")
        self.cat_refresh.on_click(lambda e: self.refresh_catalog())
        self.cat_open.on_click(lambda e: self.open_entry())

        # -- export --
        self.ex_figure = w.Select(name="Figure", options=[], width=320, css_classes=["ex-figure"])
        self.ex_format = w.Select(name="Format", options=["png", "html"], width=90)
        self.ex_go = w.Button(name="Export", css_classes=["ex-go"], width=90)
        self.ex_out = pn.pane.Markdown("", css_classes=["ex-out"])
        self.ex_go.on_click(lambda e: self.export())

        self.tabs = pn.Tabs(
            ("Run", pn.Column(*[pn.Column(self.notes[k], self.panes[k]) for k in RUN_CHARTS])),
            (
                "Credit files",
                pn.Column(
                    pn.Row(self.cf_run, self.cf_event, self.cf_find),
                    pn.Row(self.cf_people, self.cf_open),
                    self.cf_head,
                    self.cf_table,
                ),
            ),
            (
                "Audits, sweeps, searches",
                pn.Column(
                    pn.Row(self.cat_kind, self.cat_entry, self.cat_refresh, self.cat_open),
                    self.cat_out,
                ),
            ),
            (
                "Export",
                pn.Column(pn.Row(self.ex_figure, self.ex_format, self.ex_go), self.ex_out),
            ),
            dynamic=False,
        )
        self.load_preset(self.preset.value)
        self.refresh_runs()
        self.refresh_catalog()

    # ------------------------------------------------------------------ the page
    def view(self):
        pn = self.pn
        side = pn.Column(
            pn.pane.Markdown(
                "## socialcredit\nA model of a social credit system on synthetic "
                "people. It simulates; it never surveils."
            ),  # fmt: skip
            self.preset,
            pn.Row(self.file, self.load_file),
            self.controls_box,
            self.counterfactual,
            pn.Row(self.start, self.pause, self.stop),
            self.status,
            self.error,
            pn.Row(self.save_as, self.save),
            self.saved,
            width=380,
        )
        pn.state.add_periodic_callback(self.poll, period=POLL_MS)
        return pn.Row(side, self.tabs, sizing_mode="stretch_width")

    def fail(self, message: str) -> None:
        self.error.object = f"<pre>{_esc(message)}</pre>"
        self.error.visible = True

    def clear_error(self) -> None:
        self.error.object = ""
        self.error.visible = False

    # ------------------------------------------------------------------ scenario
    def load_preset(self, name: str) -> None:
        self.set_source(preset_path(name).read_text(encoding="utf-8"), f"{name}.yaml", small=True)

    def load_path(self, path: str) -> None:
        p = Path(path.strip()).expanduser()
        if not path.strip():
            self.fail("give the path of a scenario YAML file")
            return
        if not p.is_absolute() and not p.is_file() and (self.runs_dir / p).is_file():
            p = self.runs_dir / p
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            self.fail(f"{path}: cannot read the file: {e}")
            return
        self.set_source(text, str(path), small=False)

    def set_source(self, text: str, name: str, small: bool) -> None:
        try:
            scenario = controls.build(text, name, {})
        except ScenarioError as e:
            self.fail(str(e))
            return
        self.source_text, self.source_name = text, name
        self.knobs, notes = controls.knobs_of(scenario)
        self.widgets = {}
        for k in self.knobs:
            value = START_SIZE.get(k.path, k.value) if small else k.value
            self.widgets[k.path] = self._widget(k, value)
        box = [self.pn.pane.Markdown(f"**{scenario.metadata.name}**: " + _short(scenario))]
        box += list(self.widgets.values())
        box += [self.pn.pane.Markdown(f"_{n}_") for n in notes]
        self.controls_box.objects = box
        self.validate()

    def _widget(self, k: controls.Knob, value: Any):
        w = self.pn.widgets
        css = [f"knob-{_slug(k.path)}"]
        if k.kind == "boolean":
            wid = w.Checkbox(name=k.path, value=bool(value), css_classes=css)
        elif k.kind == "choice":
            wid = w.Select(name=k.path, options=list(k.choices), value=value, css_classes=css)
        else:
            wid = w.TextInput(name=k.label, value=_text(value), css_classes=css)
        if k.description:
            wid.description = k.description
        wid.param.watch(lambda e: self.validate(), "value")
        return wid

    def values(self) -> dict[str, Any]:
        out = {}
        for path, wid in self.widgets.items():
            out[path] = wid.value
        return out

    def current(self):
        """The scenario of the source with the controls' values (ScenarioError if invalid)."""
        return controls.build(self.source_text, self.source_name, self.values())

    def validate(self) -> bool:
        try:
            self.current()
        except ScenarioError as e:
            self.fail(str(e))
            self.start.disabled = True
            return False
        self.clear_error()
        self.start.disabled = self.run is not None and not self.run.finished
        return True

    # ------------------------------------------------------------------ the run
    def start_run(self) -> None:
        if self.run is not None and not self.run.finished:
            return
        try:
            scenario = self.current()
        except ScenarioError as e:
            self.fail(str(e))
            return
        self.clear_error()
        for k in RUN_CHARTS:
            self.panes[k].objects = []
            self.notes[k].object = ""
        self.run = LiveRun(scenario, self.runs_dir, counterfactual=self.counterfactual.value)
        self.seen = -1
        self.run.start()
        self.start.disabled, self.pause.disabled, self.stop.disabled = True, False, False
        self.status.object = f"Starting {scenario.metadata.name}: compiling..."

    def toggle_pause(self) -> None:
        if self.run is None:
            return
        if self.run.progress.state == "paused":
            self.run.resume()
            self.pause.name = "Pause"
        else:
            self.run.pause()
            self.pause.name = "Resume"

    def stop_run(self) -> None:
        if self.run is not None:
            self.run.stop()

    def poll(self) -> None:
        run = self.run
        if run is None:
            return
        p = run.snapshot()
        if p.version == self.seen:
            return
        self.seen = p.version
        words = {
            "compiling": "compiling (the first chunk takes longest)",
            "running": "running",
            "paused": "paused",
            "counterfactual": "running the counterfactual (the same people without the system)",
            "done": "done",
            "stopped": "stopped",
            "failed": "failed",
        }
        text = f"**{words.get(p.state, p.state)}**: day {p.days_done:,} of {p.days:,}"
        if p.path is not None:
            text += f"  \nsaved in `{p.path}`"
        self.status.object = text
        if p.state == "failed":
            self.fail(f"the run failed: {p.error}")
        try:
            self.draw(p, run)
        except Exception as e:  # a chart that cannot be drawn is a message, not a dead page
            self.fail(f"a chart could not be drawn: {message_of(e)}")
        if run.finished:
            self.start.disabled = not self.validate()
            self.pause.disabled = self.stop.disabled = True
            self.pause.name = "Pause"
            if p.result is not None:
                self.refresh_runs(select=str(p.path))
                self.refresh_catalog()

    def draw(self, p, run: LiveRun) -> None:
        if p.result is not None:
            built = charts.run_charts(p.result, p.counterfactual)
            if "map" not in built:
                has_xy = p.result.agents is not None and "x" in p.result.agents
                self.notes["map"].object = charts.MAP_EMPTY if has_xy else charts.run.MAP_NONE
        elif p.metrics is not None and len(p.metrics):
            part = partial_result(run.scenario, p.metrics, p.days_done)
            built = {
                "tiers": charts.tiers_chart(charts.tiers_data(part)),
                "behaviour": charts.behaviour_chart(charts.behaviour_data(part)),
                "trust_chilling": charts.trust_chilling_chart(charts.trust_chilling_data(part)),
            }
        else:
            return
        for k, chart in built.items():
            if chart is not None and k in self.panes:
                self.put(self.panes[k], chart)
                self.figures[f"run {RUN_CHARTS[k].lower()}"] = chart
        self.ex_figure.options = list(self.figures)

    def put(self, box, chart: Any) -> None:
        """Show ``chart`` in the column ``box``: a layout as one pane per panel (a bokeh pane
        redrawn with a whole layout loses its widths), updated in place when the panes fit."""
        from socialcredit.charts.core import hv

        items = list(chart) if isinstance(chart, hv().Layout) else [chart]
        panes = box.objects
        if len(panes) == len(items):
            for pane, item in zip(panes, items, strict=True):
                pane.object = item
        else:
            box.objects = [self.pn.pane.HoloViews(i, backend="bokeh") for i in items]

    # ------------------------------------------------------------------ saving
    def save_scenario(self) -> None:
        name = self.save_as.value.strip()
        if not name:
            self.fail("give a file name to save the settings as")
            return
        try:
            scenario = self.current()
        except ScenarioError as e:
            self.fail(str(e))
            return
        from socialcredit.atomic import write_text_atomic

        path = Path(name)
        if not path.is_absolute():
            path = self.runs_dir / "scenarios" / path
        if path.suffix not in (".yaml", ".yml"):
            path = path.with_name(path.name + ".yaml")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(path, controls.save_text(scenario))
        except OSError as e:
            self.fail(f"cannot write {path}: {e}")
            return
        self.saved.object = f"saved `{path}` (socialcredit run {path})"

    # ------------------------------------------------------------------ credit files
    def refresh_runs(self, select: str | None = None) -> None:
        try:
            from socialcredit.store import catalog

            df = catalog(self.runs_dir, kind="run")
        except Exception:  # an unreadable root: nothing to list
            return
        df = df[df["status"] == "done"]
        options = {
            f"{r.id} ({r.scenario_name})": str(self.runs_dir / r.path) for r in df.itertuples()
        }
        _choose(self.cf_run, options)
        if select is not None:
            match = [v for v in options.values() if Path(v).resolve() == Path(select).resolve()]
            if match:
                self.cf_run.value = match[0]

    def _result(self, folder: str):
        if folder not in self.opened:
            from socialcredit.result import open_run

            self.opened[folder] = open_run(folder)
        return self.opened[folder]

    def find_people(self) -> None:
        if not self.cf_run.value:
            self.fail("no finished run to look in: start one, or open one from the catalog")
            return
        try:
            result = self._result(self.cf_run.value)
        except Exception as e:
            self.fail(message_of(e))
            return
        ev = result.events
        kinds = EVENTS[self.cf_event.value]
        if ev is None or ev.empty:
            self.cf_people.options = {}
            self.cf_head.object = "This run kept no credit files."
            return
        hits = ev[ev["kind"].isin(kinds)].groupby("agent").size().sort_values(ascending=False)
        _choose(
            self.cf_people,
            {f"agent {int(a)} ({n} event{'s' if n > 1 else ''})": int(a) for a, n in hits.items()},
        )
        sample = len(result.sample) if result.sample is not None else 0
        self.cf_head.object = (
            f"{len(hits):,} of the {sample:,} people whose credit files were kept were "
            f"{self.cf_event.value}."
        )

    def open_file(self) -> None:
        from socialcredit.results.credit import KIND_TEXT, credit_file

        agent = self.cf_people.value
        if agent is None or not self.cf_run.value:
            self.fail("find people first, then pick one")
            return
        try:
            facts, ev = credit_file(self._result(self.cf_run.value), int(agent))
        except KeyError as e:
            self.fail(str(e.args[0]))
            return
        self.clear_error()
        head = f"### Credit file of agent {agent}"
        if "tier" in facts:
            head += (
                f"\n{facts['group']}, {facts['jurisdiction']}: score {facts['score']:,}, "
                f"tier {facts['tier'] or '-'}{', on the blacklist' if facts['listed'] else ''}"
            )
        self.cf_head.object = head
        table = pd.DataFrame(
            {
                "day": ev["day"],
                "event": [KIND_TEXT.get(k, k) for k in ev["kind"]],
                "behaviour": ev["behaviour"].fillna(""),
                "channel": ev["channel"].fillna(""),
                "points": ev["points"],
                "score": ev["score"],
            }
        )
        self.cf_table.object = table

    # ------------------------------------------------------------------ catalog
    def refresh_catalog(self) -> None:
        try:
            from socialcredit.store import catalog

            df = catalog(self.runs_dir, kind=self.cat_kind.value)
        except Exception as e:
            self.cat_entry.options = {}
            self.cat_out.objects = [self.pn.pane.Markdown(f"cannot read {self.runs_dir}: {e}")]
            return
        df = df[df["status"] == "done"]
        _choose(
            self.cat_entry,
            {
                f"{r.id} ({r.scenario_name or r.name})": str(self.runs_dir / r.path)
                for r in df.itertuples()
            },
        )

    def open_entry(self) -> None:
        folder = self.cat_entry.value
        if not folder:
            self.fail(f"no {self.cat_kind.value} in {self.runs_dir} yet")
            return
        pn = self.pn
        kind = self.cat_kind.value
        name = Path(folder).name
        try:
            if kind == "audit":
                from socialcredit.audit.result import audit_forest

                rows, title = audit_forest(folder)
                chart = charts.forest_chart(rows, title)
                self._catalog_show(f"audit {name} forest", chart, "This audit has no effects.")
            elif kind == "sweep":
                self._open_sweep(folder)
            elif kind == "search":
                self._open_search(folder)
            else:
                built = charts.run_charts(self._result(folder))
                self.cat_out.objects = [pn.Column(css_classes=[f"cat-{k}"]) for k in built]
                for box, c in zip(self.cat_out.objects, built.values(), strict=True):
                    self.put(box, c)
                for k, c in built.items():
                    self.figures[f"run {name} {k}"] = c
                self.refresh_runs(select=folder)
        except Exception as e:
            self.fail(f"cannot open {folder}: {message_of(e)}")
            return
        self.clear_error()
        self.ex_figure.options = list(self.figures)

    def _catalog_show(self, name: str, chart: Any, empty: str, *extra: Any) -> None:
        pn = self.pn
        if chart is None:
            self.cat_out.objects = [pn.pane.Markdown(empty), *extra]
            return
        self.figures[name] = chart
        self.cat_out.objects = [
            pn.pane.HoloViews(chart, backend="bokeh", css_classes=["cat-chart"]),
            *extra,
        ]

    def _open_sweep(self, folder: str) -> None:
        from socialcredit.experiments.figures import factor_names, response_table

        pn = self.pn
        f = charts.sweep_frames(folder)
        outcomes = list(dict.fromkeys(f["outcomes"]["outcome"].astype(str)))
        factors = factor_names(f["experiments"], f["manifest"].get("factors"))
        outcome = pn.widgets.Select(name="Outcome", options=outcomes)
        factor = pn.widgets.Select(name="Factor", options=factors)
        curve = pn.pane.HoloViews(None, backend="bokeh", css_classes=["cat-response"])
        bars = pn.pane.HoloViews(None, backend="bokeh", css_classes=["cat-sobol"])
        note = pn.pane.Markdown("")
        name = Path(folder).name

        def draw(*_):
            band = response_table(f["experiments"], f["outcomes"], outcome.value, factor.value)
            curve.object = charts.response_chart(band, factor.value, outcome.value)
            bars.object = charts.sobol_chart(f["sensitivity"], outcome.value)
            note.object = "" if bars.object is not None else "No Sobol indices for this sweep."
            self.figures[f"sweep {name} response"] = curve.object
            if bars.object is not None:
                self.figures[f"sweep {name} sobol"] = bars.object
            self.ex_figure.options = list(self.figures)

        outcome.param.watch(draw, "value")
        factor.param.watch(draw, "value")
        if outcomes and factors:
            draw()
        self.cat_out.objects = [pn.Row(outcome, factor), curve, bars, note]

    def _open_search(self, folder: str) -> None:
        pn = self.pn
        f = charts.search_frames(folder)
        chart = charts.pareto_chart(f["evaluations"], f["front"], f["objectives"])
        designs = pn.widgets.Select(
            name="Front design",
            options={f"design {d}": str(p) for d, p in f["files"].items()},
            css_classes=["front-design"],
        )
        go = pn.widgets.Button(name="Open as scenario", css_classes=["open-design"])

        def open_design(_):
            if designs.value:
                self.file.value = designs.value
                self.load_path(designs.value)
                self.tabs.active = 0

        go.on_click(open_design)
        self._catalog_show(
            f"search {Path(folder).name} pareto", chart, "No front.", pn.Row(designs, go)
        )

    # ------------------------------------------------------------------ export
    def export(self) -> None:
        name = self.ex_figure.value
        if not name or name not in self.figures:
            self.fail("no figure to export yet: run a scenario or open an entry of the catalog")
            return
        path = self.runs_dir / "figures" / f"{_slug(name)}.{self.ex_format.value}"
        try:
            charts.export(self.figures[name], path)
        except Exception as e:
            self.fail(f"cannot export {name}: {message_of(e)}")
            return
        self.clear_error()
        self.ex_out.object = f"wrote `{path}`"


def _choose(select: Any, options: dict[str, Any]) -> None:
    """New options for a Select, keeping its value if still offered, else the first."""
    keep = select.value
    select.options = options
    values = list(options.values())
    select.value = keep if keep in values else (values[0] if values else None)


def _text(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _short(scenario) -> str:
    d = scenario.metadata.description.strip()
    return d if len(d) <= 240 else d[:237] + "..."


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
