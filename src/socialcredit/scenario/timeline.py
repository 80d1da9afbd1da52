"""The timeline: dated phases that switch programmes and lists on and off part-way through a
run, and change their numbers (issue 14). A phase is data: it compiles to the first and the
last day of each programme (compile/layers.py), which the engine compares with the day, and
to the values its `set` gives each number from its day on (`loader.regimes`), which the engine
picks by the day; so a run with phases compiles once like any other.

Dates map to days through `start` and `days_per_year`: a run can compress years into fewer
days (the `timeline-2014-2022` preset runs eight years at 45 days a year); how long records
and listings last is then also in compressed days, which the preset says.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field

from .rules import Defined, FieldPath, Issue
from .types import MAX_DAYS, Identifier, Strict

NO_END = 2**31 - 1


class Phase(Strict):
    """One dated step of the timeline: the programmes and lists it starts and stops."""

    name: Identifier
    day: Annotated[int, Field(ge=0, le=MAX_DAYS)] | None = Field(
        default=None, description="0-based day the phase begins (or give `date`)."
    )
    date: dt.date | None = Field(
        default=None,
        strict=False,  # YAML gives a date, resolved files and overrides an ISO string
        description="Date the phase begins (YYYY-MM-DD), mapped to a day by timeline.start.",
    )
    note: str = ""
    start: list[Identifier] = Field(
        default_factory=list,
        description="Programmes (every place running it) and lists that begin on this day; "
        "each is off before.",
    )
    stop: list[Identifier] = Field(
        default_factory=list, description="Programmes and lists that end on this day."
    )
    set: dict[str, bool | int | float] = Field(
        default_factory=dict,
        description="Numbers in force from this day on, by dotted scenario path (items of a "
        "list by name), e.g. channels.cameras.coverage.jaywalking: 0.6 or "
        "lists.court.consequences.loan_approval: 0.5; only numbers (and on/off switches) that "
        "leave the run's structure as it is.",
    )


class Timeline(Strict):
    start: dt.date | None = Field(
        default=None,
        strict=False,
        description="Date of day 0, YYYY-MM-DD (needed where phases give dates).",
    )
    days_per_year: Annotated[float, Field(gt=0.0, le=366.0)] = Field(
        default=365.25, description="Simulated days per calendar year (compressed time below 365)."
    )
    phases: list[Phase] = Field(min_length=1, max_length=64)

    def day_of(self, p: Phase) -> int:
        if p.day is not None:
            return p.day
        years = (p.date - self.start).days / 365.25
        return int(round(years * self.days_per_year))

    def span(self, name: str, days: int) -> tuple[int, int]:
        """(first day, first day after) of programme or list ``name`` (0, NO_END if unnamed)."""
        first, end = 0, NO_END
        for p in self.phases:
            if name in p.start:
                first = self.day_of(p)
            if name in p.stop:
                end = self.day_of(p)
        return first, end

    def table(self) -> list[dict]:
        """The phases as rows (name, day, date, start, stop, note) for a run's outputs."""
        return [
            {
                "phase": p.name,
                "day": self.day_of(p),
                "date": p.date.isoformat() if p.date else None,
                "start": ",".join(p.start),
                "stop": ",".join(p.stop),
                "set": ", ".join(f"{k}={v}" for k, v in p.set.items()),
                "note": p.note,
            }
            for p in self.phases
        ]

    def issues(self, path: FieldPath, names: Defined, days: int) -> list[Issue]:
        out: list[Issue] = []
        started: dict[str, int] = {}
        stopped: dict[str, int] = {}
        for i, p in enumerate(self.phases):
            at = path + ("phases", i)
            if (p.day is None) == (p.date is None):
                out.append((at, p.name, "give the phase a `day` or a `date` (one of them)"))
                continue
            if p.date is not None and self.start is None:
                out.append((path + ("start",), None, "phases with dates need timeline.start"))
                continue
            if p.date is not None and p.date < self.start:
                out.append((at + ("date",), str(p.date), "before timeline.start"))
                continue
            d = self.day_of(p)
            for key, seen in (("start", started), ("stop", stopped)):
                for k, n in enumerate(getattr(p, key)):
                    out += names.check(at + (key, k), n)
                    if n in seen:
                        msg = (
                            f"{n!r} is {key}ed twice; a programme runs over one span of days "
                            "(start it once, stop it once)"
                        )
                        out.append((at + (key, k), n, msg))
                    seen[n] = d
        for n, d in stopped.items():
            if n in started and d < started[n]:
                at = path + ("phases",)
                out.append((at, n, f"{n!r} stops on day {d}, before it starts (day {started[n]})"))
        return out
