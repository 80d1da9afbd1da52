"""The experiment file: what a sweep varies, what it measures, and how it samples.

In EMA Workbench's vocabulary: ``uncertainties`` (what nobody controls: base rates, response
parameters) and ``levers`` (what a government sets: coverages, points, tier cut-offs,
rewards, budgets) are *factors*, each a scenario field path with a ``range`` or a list of
``values``; ``outcomes`` are names from the audit's registry; ``design`` says how experiments
are drawn from the factors (experiments/design.py). Example (docs/experiments.md)::

    name: coverage
    levers:
      - {field: channels.court_records.coverage.debt_judgment, range: [0.0, 0.9]}
    outcomes: [misconduct.total, false_sanction_share]
    design: {method: full_factorial, levels: 10}
    replicates: 3
    counterfactual: true

Problems are reported like a scenario's: file, line, field, and what to do, every problem at
once (``ExperimentError``, a ``ScenarioError`` whose headline says "experiment file").
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from socialcredit.scenario.loader import (
    COMMAND_LINE,
    ScenarioError,
    ScenarioIssue,
    load_yaml_with_lines,
)

MAX_EXPERIMENTS = 100_000  # experiments in one design (each with its replicates and arms)


class ExperimentError(ScenarioError):
    """An experiment file (or --vary option) that cannot be used, with every problem found."""

    what = "experiment file"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


FieldPath = Annotated[str, Field(min_length=1, max_length=300, pattern=r"^[^\s=]+$")]


class Factor(_Strict):
    """One varied scenario field: a ``range`` [low, high] of numbers, or a list of ``values``."""

    field: FieldPath = Field(
        description="Scenario field path, as for --set (dots; list items by index or name)."
    )
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=80,
        description="Column name in the outputs (default: the field path).",
    )
    range: tuple[float, float] | None = Field(default=None, description="[low, high], numbers.")
    values: list[Any] | None = Field(default=None, min_length=1, max_length=10_000)
    levels: int | None = Field(
        default=None, ge=2, le=10_000, description="Full factorial: points over the range."
    )

    @model_validator(mode="after")
    def _one_of(self) -> Factor:
        if (self.range is None) == (self.values is None):
            raise ValueError(
                "give either `range: [low, high]` or `values: [...]`, not both or neither"
            )
        if self.range is not None and not self.range[0] <= self.range[1]:
            raise ValueError(
                f"range [{self.range[0]}, {self.range[1]}] must be [low, high] with low <= high"
            )
        return self

    @property
    def label(self) -> str:
        return self.name or self.field


class Design(_Strict):
    """How experiments are drawn from the factors (SALib's samplers; experiments/design.py)."""

    method: Literal["full_factorial", "lhs", "sobol", "morris"] = "full_factorial"
    levels: int = Field(
        default=5,
        ge=2,
        le=10_000,
        description="full_factorial: points over each range; morris: levels of the grid (even).",
    )
    samples: int | None = Field(
        default=None,
        ge=1,
        le=MAX_EXPERIMENTS,
        description="lhs: experiments; sobol: base sample N (a power of 2; N x (D + 2) "
        "experiments, N x (2D + 2) with second order); morris: trajectories (N x (D + 1)).",
    )
    second_order: bool = False


class Experiment(_Strict):
    """A sweep: factors, outcomes, design, replicates and the counterfactual pairing."""

    name: Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9][\w.-]*$")] = (
        "sweep"
    )
    description: str = Field(default="", max_length=4000)
    uncertainties: list[Factor] = Field(default_factory=list, max_length=200)
    levers: list[Factor] = Field(default_factory=list, max_length=200)
    outcomes: list[str] | None = Field(
        default=None, description="Outcome names from the audit's registry (default: all)."
    )
    design: Design = Design()
    replicates: int = Field(default=1, ge=1, le=1000)
    counterfactual: bool = Field(
        default=True,
        description="Pair every experiment with its no-system arm on the same random numbers.",
    )
    seed: int | None = Field(
        default=None, ge=0, le=2**31 - 1, description="Root seed (default: the scenario's)."
    )
    series: bool = Field(default=False, description="Keep every run's daily metrics too.")

    @property
    def factors(self) -> list[tuple[str, Factor]]:
        """(role, factor) for every factor, uncertainties first."""
        return [("uncertainty", f) for f in self.uncertainties] + [
            ("lever", f) for f in self.levers
        ]


# ----------------------------------------------------------------------------- loading


def _issue(file: str, line_of: dict, loc: tuple, value: Any, message: str) -> ScenarioIssue:
    path = tuple(loc)
    while path and path not in line_of:
        path = path[:-1]
    line = line_of.get(path)
    dotted = ".".join(str(x) for x in loc)
    return ScenarioIssue(file, line if isinstance(line, int) else None, dotted, value, message)


def parse_model(
    text: str,
    filename: str,
    model: type[BaseModel],
    error: type[ScenarioError],
    subs: dict[str, type[BaseModel]],
):
    """A strict model from YAML text, with the line of every key; every problem raised at once
    as ``error`` (located: file, line, field). ``subs`` names the models of nested sections, so
    an unknown key is answered with the keys allowed where it stands."""
    issues: list[ScenarioIssue] = []
    try:
        data, line_of = load_yaml_with_lines(text, filename, issues)
    except ScenarioError as e:
        raise error(e.issues, filename, e.more) from None
    if issues:
        raise error(issues, filename)
    try:
        return model.model_validate(data), line_of
    except ValidationError as err:
        found = []
        for e in err.errors(include_url=False):
            loc = tuple(
                x for x in e["loc"] if not (isinstance(x, str) and x.startswith("function-"))
            )
            msg = e["msg"].removeprefix("Value error, ")
            if e["type"] == "extra_forbidden":
                allowed = _allowed(loc, model, subs)
                msg = f"unknown field; allowed here: {allowed}" if allowed else "unknown field"
            value = e.get("input") if e["type"] != "missing" else None
            found.append(_issue(filename, line_of, loc, value, msg))
        raise error(found, filename) from None


def _allowed(loc: tuple, model: type[BaseModel], subs: dict[str, type[BaseModel]]) -> str:
    for seg in loc[:-1]:
        if isinstance(seg, int):
            continue
        if seg not in subs:
            return ""
        model = subs[seg]
    return ", ".join(model.model_fields)


_SUBS: dict[str, type[BaseModel]] = {"design": Design, "uncertainties": Factor, "levers": Factor}


def parse_experiment(text: str, filename: str = "<string>") -> tuple[Experiment, dict]:
    """An Experiment from YAML text, with the line of every key (for later messages)."""
    return parse_model(text, filename, Experiment, ExperimentError, _SUBS)


def load_experiment(path: str | Path) -> tuple[Experiment, dict, str]:
    """(experiment, line map, the file's text) of an experiment YAML file."""
    p = Path(path)
    if not p.is_file():
        what = "a directory" if p.is_dir() else "not found"
        raise ExperimentError(
            [
                ScenarioIssue(
                    str(path), None, "", None, f"{what}; give the path of an experiment YAML file"
                )
            ],
            str(path),
        )
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ExperimentError(
            [ScenarioIssue(str(path), None, "", None, f"cannot read the file: {e}")]
        ) from None
    exp, line_of = parse_experiment(text, str(path))
    return exp, line_of, text


_VARY = re.compile(r"^(?P<field>[^\s=]+)=(?P<spec>.+)$")


def parse_vary(option: str) -> Factor:
    """A factor from the quick form: ``path=low:high:n`` (n evenly spaced points) or
    ``path=a,b,c`` (those values)."""
    m = _VARY.match(option.strip())

    def bad(msg: str) -> ExperimentError:
        issue = ScenarioIssue(
            COMMAND_LINE, None, "--vary", option, msg, override=f"--vary {option}"
        )
        return ExperimentError([issue], COMMAND_LINE)

    if not m:
        raise bad(
            "expected --vary PATH=LOW:HIGH:N or --vary PATH=A,B,C, e.g. --vary channels.0.coverage.littering=0:0.9:10"
        )
    field, spec = m["field"], m["spec"]
    if ":" in spec:
        parts = spec.split(":")
        if len(parts) != 3:
            raise bad("a range is LOW:HIGH:N (three parts), e.g. 0:0.9:10")
        try:
            lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
        except ValueError:
            raise bad("LOW and HIGH must be numbers and N a whole number, e.g. 0:0.9:10") from None
        if n < 2 or lo > hi:
            raise bad("need LOW <= HIGH and N >= 2 points, e.g. 0:0.9:10")
        return Factor(field=field, range=(lo, hi), levels=n)
    values = [_scalar(v) for v in spec.split(",")]
    return Factor(field=field, values=values)


def _scalar(text: str) -> Any:
    t = text.strip()
    for conv in (int, float):
        try:
            return conv(t)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(t.lower(), t)
