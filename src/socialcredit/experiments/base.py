"""The scenario a sweep varies, and its variants: the base scenario's YAML text with the
command line's options, and one validated Scenario per experiment (its factors' values set as
``--set`` would set them).

A `Base` carries the scenario's text, not a path, so a batch can be rebuilt by a worker on
another machine (experiments/executors.py) without the file.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from socialcredit.experiments.file import Experiment, ExperimentError
from socialcredit.scenario.loader import (
    ALIASES,
    ScenarioError,
    ScenarioIssue,
    _field_at,
    _set,
    apply_overrides,
    load_yaml_with_lines,
    preset_path,
    validate_data,
)
from socialcredit.scenario.model import Scenario


@dataclass(frozen=True)
class Base:
    """A scenario as the command line gave it: YAML text, file name, overrides, size."""

    text: str
    filename: str
    overrides: tuple[str, ...] = ()
    agents: int | None = None
    days: int | None = None
    seed: int | None = None
    _cache: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @classmethod
    def load(
        cls,
        name_or_path: str,
        overrides: list[str] | None = None,
        *,
        agents: int | None = None,
        days: int | None = None,
        seed: int | None = None,
    ) -> Base:
        """The base of a preset name or a scenario file (validated at once: ScenarioError)."""
        from pathlib import Path

        from socialcredit.scenario.loader import load_scenario

        load_scenario(name_or_path, overrides, agents=agents, days=days, seed=seed)  # checks it
        path = Path(name_or_path)
        if not path.is_file():
            path = preset_path(name_or_path)
        text = path.read_text(encoding="utf-8")
        return cls(text, path.name, tuple(overrides or ()), agents, days, seed)

    def digest(self, **what: Any) -> str:
        """A short hash of this base and ``what`` (the experiment or search and whatever else
        decides the results) with the package version: the name of the folder that a sweep or
        a search resumes from."""
        import hashlib
        import json

        from socialcredit import __version__

        whole = {
            **what,
            "scenario": self.text,
            "file": self.filename,
            "overrides": list(self.overrides),
            "size": [self.agents, self.days, self.seed],
            "version": __version__,
        }
        return hashlib.sha256(json.dumps(whole, sort_keys=True).encode()).hexdigest()[:10]

    def _data(self) -> tuple[dict, dict]:
        if "data" not in self._cache:
            data, line_of = load_yaml_with_lines(self.text, self.filename)
            issues = apply_overrides(data, list(self.overrides), line_of)
            for name, value in (("agents", self.agents), ("days", self.days), ("seed", self.seed)):
                if value is not None:
                    issue = _set(data, ALIASES[name], value, f"{name}={value}", line_of)
                    if issue:
                        issues.append(issue)
            if issues:
                raise ScenarioError(issues, self.filename)
            self._cache["data"] = (data, line_of)
        return self._cache["data"]

    def path_problem(self, path: str) -> str | None:
        """Why ``path`` names no field of this scenario (None if it does)."""
        data, line_of = self._data()
        issue = _set(copy.deepcopy(data), tuple(path.split(".")), 0, path, dict(line_of))
        if issue is not None:
            return issue.message
        if _field_at(_resolved_path(data, path)) is None:
            return f"no scenario field {path!r}; `socialcredit schema` lists the fields"
        return None

    @cached_property
    def scenario(self) -> Scenario:
        return self.variant({})

    def variant(self, values: dict[str, Any]) -> Scenario:
        """The base with each field path in ``values`` set (raises ScenarioError)."""
        data, line_of = self._data()
        data, line_of = copy.deepcopy(data), dict(line_of)
        texts = [f"{path}={_yaml(v)}" for path, v in values.items()]
        issues = []
        for text, (path, v) in zip(texts, values.items(), strict=True):
            issue = _set(data, tuple(path.split(".")), _plain(v), text, line_of)
            if issue:
                issues.append(issue)
        return validate_data(data, line_of, self.filename, issues)


def _plain(v: Any) -> Any:
    """numpy scalars as Python numbers, for pydantic's strict fields."""
    if hasattr(v, "item"):
        return v.item()
    return v


def _yaml(v: Any) -> str:
    return str(_plain(v))


def _resolved_path(data: dict, path: str) -> tuple:
    """The data path of a dotted field path, with list items named by index."""
    cur: Any = data
    out: list = []
    for key in path.split("."):
        if isinstance(cur, list):
            idx = (
                int(key)
                if key.isdigit()
                else next(
                    (i for i, x in enumerate(cur) if isinstance(x, dict) and x.get("name") == key),
                    None,
                )
            )
            if idx is None or idx >= len(cur):
                return tuple(out + [key])
            out.append(idx)
            cur = cur[idx]
        elif isinstance(cur, dict):
            k = int(key) if key not in cur and key.isdigit() and int(key) in cur else key
            out.append(k)
            cur = cur.get(k)
        else:
            out.append(key)
            cur = None
    return tuple(out)


def field_kind(base: Base, path: str) -> str:
    """'int', 'float', 'bool' or 'other': what the scenario field at ``path`` holds."""
    data, _ = base._data()
    f = _field_at(_resolved_path(data, path))
    tp = getattr(f, "tp", None)
    if tp is bool:
        return "bool"
    if tp is int:
        return "int"
    if tp is float:
        return "float"
    return "other"


def check_factors(
    base: Base, exp: Experiment, line_of: dict, filename: str, sampled: bool
) -> dict[str, str]:
    """Check every factor against the scenario: its path exists, a range is numeric, both ends
    (and every listed value) give a valid scenario. Returns factor name -> field kind.
    Raises ExperimentError with every problem, located in the experiment file."""
    found: list[ScenarioIssue] = []
    kinds: dict[str, str] = {}
    names: dict[str, int] = {}
    for section in ("uncertainties", "levers"):
        for i, f in enumerate(getattr(exp, section)):
            loc = (section, i)

            def issue(key: str, value: Any, msg: str, loc=loc) -> None:
                line = line_of.get(loc + (key,), line_of.get(loc))
                found.append(
                    ScenarioIssue(filename, line, ".".join(map(str, loc + (key,))), value, msg)
                )

            if f.label in names:
                issue("name", f.label, f"two factors are named {f.label!r}; give one a `name:`")
                continue
            names[f.label] = i
            kind = field_kind(base, f.field)
            kinds[f.label] = kind
            probe = f.range if f.range is not None else f.values
            bad_path = base.path_problem(f.field)
            if bad_path:
                issue("field", f.field, bad_path)
                continue
            numeric = kind in ("int", "float")
            if f.range is not None and not numeric:
                issue(
                    "range",
                    list(f.range),
                    f"{f.field} is not a number ({kind}), so it cannot take a range; "
                    "list its values instead (`values: [...]`, with design full_factorial)",
                )
                continue
            if f.values is not None and sampled and not all(_is_number(v) for v in f.values):
                issue(
                    "values",
                    f.values,
                    "a sampled design (lhs, sobol, morris) needs numeric factors; use "
                    "design full_factorial for a list of non-numeric values",
                )
                continue
            if kind == "int" and f.range is not None:
                probes = [math.ceil(f.range[0]), math.floor(f.range[1])]
            else:
                probes = list(probe)
            key = "range" if f.range is not None else "values"
            for v in probes:
                try:
                    base.variant({f.field: v})
                except ScenarioError as e:
                    issue(
                        key,
                        v,
                        f"{f.field} = {v!r} gives an invalid scenario: {e.issues[0].message}",
                    )
                    break
    if found:
        raise ExperimentError(found, filename)
    return kinds


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)
