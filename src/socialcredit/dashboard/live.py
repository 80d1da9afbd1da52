"""A run in a background thread that can be paused and stopped between chunks, and whose
metrics so far can be read after every chunk (the dashboard draws them as they come).

The loop is the engine's own (``engine.run.simulate_arrays``: the same compiled chunk, the same
keys), so a run started here gives the same result as ``socialcredit run`` with the same
scenario; the test checks it. After the last chunk the Result is assembled, saved under the
runs folder (so the catalog lists it), and, when asked, the counterfactual is run the same way.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from socialcredit.result import Result
from socialcredit.scenario.model import Scenario


class Stopped(Exception):
    """The run was stopped from the page."""


@dataclass
class Progress:
    """What the page shows: state, days done, the metrics so far, the finished results."""

    state: str = "idle"  # idle, compiling, running, paused, counterfactual, done, stopped, failed
    days_done: int = 0
    days: int = 0
    version: int = 0  # bumped whenever something new can be drawn
    metrics: pd.DataFrame | None = None  # the run's metrics so far
    result: Result | None = None
    counterfactual: Result | None = None
    path: Path | None = None
    error: str = ""
    started: float = field(default_factory=time.perf_counter)


def _chunks(scenario: Scenario, control: LiveRun, arm: str):
    """Run ``scenario`` chunk by chunk (the engine's loop); yields (days_done, spec, bases,
    raw metrics so far) after each chunk and finally the assembled Result."""
    import jax

    from socialcredit.api import RunArrays, _now, assemble
    from socialcredit.compile import compile_scenario
    from socialcredit.engine.run import ChunkDone, run_chunks
    from socialcredit.memory import check_fits
    from socialcredit.results.credit import credit_sample

    check_fits(scenario.population.agents, devices=1, scenario=scenario)
    started, t0 = _now(), time.perf_counter()
    spec, params = compile_scenario(scenario)
    key = jax.random.key(scenario.seed)
    sample = credit_sample(spec.agents)
    bases = np.asarray(params.base_score)
    for item in run_chunks(spec, params, key, sample=sample, devices=1):
        if isinstance(item, ChunkDone):
            yield item.done, item.spec, bases, item.metrics_so_far()
            if item.done < item.spec.days:  # between chunks (a pause asked during the
                control.checkpoint(arm)  # compile holds after chunk one)
            continue
        run = RunArrays.of(
            item.state, item.metrics, item.events, item.scores, item.org, item.extras
        )
        info = {"started": started, "t0": t0, "devices": 1}
    yield assemble(scenario, spec, params, key, run, sample, info)


class LiveRun(threading.Thread):
    """One run of ``scenario`` (and its counterfactual, when asked) in a daemon thread."""

    def __init__(self, scenario: Scenario, runs_dir: Path, counterfactual: bool = True) -> None:
        super().__init__(daemon=True, name=f"run-{scenario.metadata.name}")
        self.scenario = scenario
        self.runs_dir = Path(runs_dir)
        self.with_counterfactual = counterfactual
        self.progress = Progress(state="compiling", days=scenario.days)
        self.lock = threading.Lock()
        self._go = threading.Event()
        self._go.set()
        self._stop_asked = False

    # -- control from the page ------------------------------------------------------------
    def pause(self) -> None:
        with self.lock:
            if self.progress.state not in ("running", "counterfactual", "compiling"):
                return
            self._go.clear()
        self._update(state="paused")

    def resume(self) -> None:
        with self.lock:
            if self.progress.state != "paused":
                return
            self._go.set()
        self._update(state=self._resume_state)

    def stop(self) -> None:
        self._stop_asked = True
        self._go.set()

    def checkpoint(self, arm: str) -> None:
        """Between chunks: wait while paused, end when stopped."""
        self._go.wait()
        if self._stop_asked:
            raise Stopped

    @property
    def finished(self) -> bool:
        return self.progress.state in ("done", "stopped", "failed")

    def snapshot(self) -> Progress:
        with self.lock:
            p = self.progress
            return Progress(**{k: getattr(p, k) for k in p.__dataclass_fields__})

    def _update(self, **kw: Any) -> None:
        with self.lock:
            for k, v in kw.items():
                setattr(self.progress, k, v)
            self.progress.version += 1

    def _phase(self, arm: str, **kw: Any) -> None:
        """Record what the run is doing (``arm``), shown as paused while it is paused."""
        with self.lock:
            self._resume_state = arm
            paused = not self._go.is_set()
        self._update(state="paused" if paused else arm, **kw)

    # -- the run -------------------------------------------------------------------------
    def run(self) -> None:
        from socialcredit.api import counterfactual_of
        from socialcredit.results.metrics import tidy_metrics

        self._resume_state = "running"
        try:
            self._update(state="compiling")
            result = None
            for item in _chunks(self.scenario, self, "running"):
                if isinstance(item, Result):
                    result = item
                    break
                done, spec, bases, raw = item
                if not len(raw):
                    continue
                part = replace(spec, days=len(raw))  # the days so far
                metrics = tidy_metrics(part, raw, bases, self.scenario.record.metrics_every)
                self._phase("running", days_done=done, metrics=metrics)
            assert result is not None
            path = result.save(self.runs_dir)
            self._update(result=result, path=path, metrics=result.metrics)
            if self.with_counterfactual:
                self._phase("counterfactual")
                cf = None
                for item in _chunks(counterfactual_of(self.scenario), self, "counterfactual"):
                    if isinstance(item, Result):
                        cf = item
                result.counterfactual = cf
                self._update(counterfactual=cf)
            self._update(state="done")
        except Stopped:
            self._update(state="stopped")
        except Exception as e:  # the page shows the message; the server keeps serving
            traceback.print_exc()
            self._update(state="failed", error=message_of(e))


def message_of(e: BaseException) -> str:
    """A failure as one message for the page (the text the command line prints)."""
    text = str(e).strip() or type(e).__name__
    return text if ":" in text or "\n" in text else f"{type(e).__name__}: {text}"


def partial_result(scenario: Scenario, metrics: pd.DataFrame, days_done: int) -> Result:
    """A Result holding the metrics so far (no agents, no summary): what the tier, behaviour
    and trust charts need to draw a run in progress."""
    return Result(
        scenario=scenario,
        metrics=metrics,
        agents=None,
        summary={},
        info={"days": max(int(metrics["day"].max()), 1) if len(metrics) else days_done},
    )
