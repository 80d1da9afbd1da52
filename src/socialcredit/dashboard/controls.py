"""The dashboard's controls, generated from the scenario's JSON Schema.

A knob is a ``--set`` path (``behaviours.littering.base_rate``; list items by index or name).
``knobs_of`` gives a scenario's knobs: the size, length and seed of every run, then the fields
its metadata names under ``knobs`` (presets name theirs). ``knob`` resolves one path against the
scenario's data and the JSON Schema: its current value, type (integer, number, boolean or a
choice), bounds and description. Values are never checked here: ``build`` hands them to the
scenario loader as ``--set`` overrides, so a bad value is refused with the message the command
line gives for the same ``--set``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from socialcredit.scenario import ScenarioError
from socialcredit.scenario.loader import json_schema, parse_scenario, resolved_yaml
from socialcredit.scenario.model import Scenario

ALWAYS = ("population.agents", "days", "seed")  # every run's size, length and seed


@dataclass(frozen=True)
class Knob:
    path: str
    kind: str  # "integer", "number", "boolean" or "choice"
    value: Any
    minimum: float | None = None  # inclusive bounds (exclusive ones are kept in the text)
    maximum: float | None = None
    choices: tuple[Any, ...] = ()
    title: str = ""
    description: str = ""
    bounds: str = ""  # e.g. "between 0 and 0.5"

    @property
    def label(self) -> str:
        return f"{self.path} ({self.bounds})" if self.bounds else self.path


@functools.cache
def _schema() -> dict:
    return json_schema()


def _deref(node: dict) -> dict:
    """Follow $ref and a nullable anyOf to the schema of the value itself."""
    defs = _schema()["$defs"]
    while True:
        if "$ref" in node:
            node = {**defs[node["$ref"].rsplit("/", 1)[-1]], **_without(node, "$ref")}
        elif "anyOf" in node:
            rest = [n for n in node["anyOf"] if n.get("type") != "null"]
            if len(rest) != 1:
                return node
            node = {**rest[0], **_without(node, "anyOf")}
        elif "allOf" in node and len(node["allOf"]) == 1:
            node = {**node["allOf"][0], **_without(node, "allOf")}
        else:
            return node


def _without(d: dict, key: str) -> dict:
    return {k: v for k, v in d.items() if k != key}


def resolve(data: Any, path: str) -> tuple[list[Any], Any]:
    """The keys of ``path`` in ``data`` (list items named by their ``name`` become indices)
    and the value there. Raises KeyError with a message for a path that is not there."""
    keys: list[Any] = []
    cur = data
    for part in path.split("."):
        if isinstance(cur, dict) and part in cur:
            keys.append(part)
            cur = cur[part]
        elif isinstance(cur, list):
            idx = int(part) if part.isdigit() else None
            if idx is None:
                idx = next(
                    (i for i, x in enumerate(cur) if isinstance(x, dict) and x.get("name") == part),
                    None,
                )
            if idx is None or idx >= len(cur):
                raise KeyError(f"{path}: no item {part!r} in this list")
            keys.append(idx)
            cur = cur[idx]
        else:
            raise KeyError(f"{path}: no field {part!r} in this scenario")
    return keys, cur


def schema_at(keys: list[Any]) -> dict:
    """The JSON Schema of the value at ``keys`` (resolved keys, as ``resolve`` gives)."""
    node = _deref(_schema())
    for k in keys:
        if isinstance(k, int):
            node = _deref(node.get("items", {}))
        elif k in node.get("properties", {}):
            node = _deref(node["properties"][k])
        else:
            node = _deref(node.get("additionalProperties") or {})
    return node


def _num(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


def knob(scenario: Scenario, path: str) -> Knob:
    """The control for ``path`` in ``scenario``. Raises KeyError for a path that is not a
    single number, flag or choice of this scenario."""
    keys, value = resolve(scenario.model_dump(mode="json"), path)
    s = schema_at(keys)
    kind = {"integer": "integer", "number": "number", "boolean": "boolean"}.get(s.get("type", ""))
    if "enum" in s:
        kind = "choice"
    if kind is None or isinstance(value, dict | list):
        raise KeyError(f"{path}: not a number, a flag or a choice (cannot be a control)")
    lo, hi = s.get("minimum"), s.get("maximum")
    parts = []
    if lo is not None and hi is not None:
        parts.append(f"{_num(lo)} to {_num(hi)}")
    else:
        if lo is not None:
            parts.append(f"≥ {_num(lo)}")
        if "exclusiveMinimum" in s:
            parts.append(f"> {_num(s['exclusiveMinimum'])}")
        if hi is not None:
            parts.append(f"≤ {_num(hi)}")
        if "exclusiveMaximum" in s:
            parts.append(f"< {_num(s['exclusiveMaximum'])}")
    return Knob(
        path=path,
        kind=kind,
        value=value,
        minimum=lo,
        maximum=hi,
        choices=tuple(s.get("enum", ())),
        title=s.get("title", path),
        description=s.get("description", ""),
        bounds=", ".join(parts),
    )


def knobs_of(scenario: Scenario) -> tuple[list[Knob], list[str]]:
    """The scenario's controls (size, length and seed first, then its metadata's knobs) and a
    note for each named knob that cannot be a control."""
    out, notes = [], []
    for path in (*ALWAYS, *scenario.metadata.knobs):
        try:
            k = knob(scenario, path)
        except KeyError as e:
            notes.append(str(e.args[0]))
            continue
        if k.path not in {o.path for o in out}:
            out.append(k)
    return out, notes


def override(path: str, value: Any) -> str:
    """The ``--set`` text of a control's value."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        text = repr(value)
    else:
        text = str(value)
    return f"{path}={text}"


def build(source_text: str, filename: str, values: dict[str, Any]) -> Scenario:
    """The scenario of ``source_text`` (YAML) with the controls' values set, validated as the
    command line validates ``--set`` (raises ScenarioError with its message)."""
    sets = [override(p, v) for p, v in values.items() if v is not None]
    return parse_scenario(source_text, filename, sets)


def save_text(scenario: Scenario) -> str:
    """The scenario as a file that loads back the same (what ``socialcredit show`` prints)."""
    return resolved_yaml(scenario)


__all__ = ["ALWAYS", "Knob", "ScenarioError", "build", "knob", "knobs_of", "override", "resolve"]
