"""The scenario language explained from its own schema: the resolved YAML with each field's
description as a comment (`socialcredit show --comments`) and one field explained
(`socialcredit describe FIELD`: type and bounds, default, description, the presets that set it).

Everything here is read from the pydantic models (the same descriptions and constraints the
JSON Schema carries), so it cannot drift from what the loader accepts.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from .loader import (
    PRESETS_DIR,
    _expected,
    _Field,
    _is_model,
    _unwrap,
)
from .model import Scenario
from .rules import did_you_mean

WIDTH = 100  # the YAML's width, as resolved_yaml


# ----------------------------------------------------------------------------- show --comments


def commented_yaml(scenario: Scenario) -> str:
    """``resolved_yaml`` with each field's description as ``#`` comments above it.

    A description is written once, where its field first appears (the first behaviour's
    fields carry comments, the next behaviours' do not), so the file stays readable. The YAML
    loads back to the same scenario as ``resolved_yaml``'s."""
    lines: list[str] = []
    _emit_model(Scenario, scenario.model_dump(mode="json"), 0, lines, set())
    return "\n".join(lines) + "\n"


def _emit_model(cls: type[BaseModel], data: dict, indent: int, lines: list, seen: set) -> None:
    pad = " " * indent
    for key, value in data.items():
        info = cls.model_fields.get(key)
        if info is not None and info.description and (cls, key) not in seen:
            seen.add((cls, key))
            for line in textwrap.wrap(" ".join(info.description.split()), WIDTH - indent - 2):
                lines.append(f"{pad}# {line}")
        f = _unwrap(_Field(info.annotation, [])) if info is not None else None
        _emit_value(key, value, f, indent, lines, seen)


def _emit_value(key: Any, value: Any, f: _Field | None, indent: int, lines: list, seen: set):
    pad = " " * indent
    item = _item_model(f)
    if isinstance(value, dict) and value and f is not None and _is_model(f.tp):
        lines.append(f"{pad}{_key(key)}:")
        _emit_model(f.tp, value, indent + 2, lines, seen)
    elif isinstance(value, dict) and value and item is not None and get_origin(f.tp) is dict:
        lines.append(f"{pad}{_key(key)}:")
        for k, v in value.items():
            if isinstance(v, dict) and v:
                lines.append(f"{pad}  {_key(k)}:")
                _emit_model(item, v, indent + 4, lines, seen)
            else:
                _plain(k, v, indent + 2, lines)
    elif isinstance(value, list) and value and item is not None and get_origin(f.tp) is list:
        lines.append(f"{pad}{_key(key)}:")
        for v in value:
            if not (isinstance(v, dict) and v):
                _plain_item(v, indent + 2, lines)
                continue
            sub: list[str] = []
            _emit_model(item, v, indent + 4, sub, seen)
            # the item's first field line (after its comments) takes the "- "
            first = next(i for i, line in enumerate(sub) if not line.lstrip().startswith("#"))
            sub[first] = f"{pad}  - " + sub[first][indent + 4 :]
            sub[:first] = [f"{pad}  " + line[indent + 4 :] for line in sub[:first]]
            lines.extend(sub)
    else:
        _plain(key, value, indent, lines)


def _item_model(f: _Field | None) -> type[BaseModel] | None:
    """The model of a list's items or a mapping's values, if they are models."""
    if f is None:
        return None
    args = get_args(f.tp)
    if not args:
        return None
    inner = _unwrap(_Field(args[-1], [])).tp
    return inner if _is_model(inner) else None


def _key(key: Any) -> str:
    return yaml.safe_dump(key, default_flow_style=True).strip().removesuffix("...").strip()


def _plain(key: Any, value: Any, indent: int, lines: list) -> None:
    text = yaml.safe_dump(
        {key: value}, sort_keys=False, default_flow_style=False, allow_unicode=True, width=WIDTH
    )
    lines.extend(" " * indent + line for line in text.rstrip("\n").splitlines())


def _plain_item(value: Any, indent: int, lines: list) -> None:
    text = yaml.safe_dump(
        [value], sort_keys=False, default_flow_style=False, allow_unicode=True, width=WIDTH
    )
    lines.extend(" " * indent + line for line in text.rstrip("\n").splitlines())


# ----------------------------------------------------------------------------- describe


@dataclass
class FieldDoc:
    """One field of the scenario language, explained."""

    path: str  # as asked, normalised: item names shown as <name>
    expects: str  # type and bounds in words ("an integer between 1 and 20000, or null")
    default: str | None  # None: required
    description: str
    fields: list[str]  # sub-fields, for a section
    presets: dict[str, list[Any]]  # preset -> the values it sets (several under named items)


def describe_field(path: str) -> FieldDoc:
    """Explain the field at a dotted path (``population.agents``,
    ``programmes.rongcheng.tiers`` or ``programmes.tiers``: an item's name may be given or left
    out; a mapping's key, as in ``programmes.rongcheng.points.littering``, likewise).
    UnknownField, with a did-you-mean, for a path that names no field."""
    segs = [s for s in path.strip().split(".") if s]
    if not segs:
        _fail(path, "give a field, e.g. population.agents")
    cls: type[BaseModel] = Scenario
    shown: list[str] = []
    pattern: list[str | None] = []  # None: any item name or index
    f: _Field | None = None
    info = None
    i = 0
    while i < len(segs):
        seg = segs[i]
        if cls is None:
            where = ".".join(shown)
            _fail(path, f"{where} has no fields inside it; it is {_expected(f)}")
        info = cls.model_fields.get(seg)
        if info is None:
            _fail(
                path,
                f"no field {seg!r}{did_you_mean(seg, list(cls.model_fields))} in "
                f"{'.'.join(shown) or 'a scenario'}; fields here: {', '.join(cls.model_fields)}",
            )
        shown.append(seg)
        pattern.append(seg)
        f = _unwrap(_Field(info.annotation, list(info.metadata), info=info))
        i += 1
        item = _item_model(f)
        if _is_model(f.tp):
            cls = f.tp
        elif item is None and get_origin(f.tp) is dict and i < len(segs):
            # a mapping of plain values (points by behaviour): the key, then its value's type
            shown.append(f"<{segs[i]}>")
            pattern.append(segs[i])
            f = _unwrap(_Field(get_args(f.tp)[-1], []))
            i += 1
            cls = None
        elif item is not None and get_origin(f.tp) in (list, dict):
            cls = item
            # an item's name or index, unless the next segment is already a field of the item
            if i < len(segs) and segs[i] not in item.model_fields:
                hint = did_you_mean(segs[i], list(item.model_fields))
                if hint and i == len(segs) - 1:  # a misspelt field, far likelier than a name
                    _fail(path, f"no field {segs[i]!r}{hint} in {'.'.join(shown)}'s items")
                shown.append(f"<{segs[i]}>")
                i += 1
            elif i < len(segs):
                shown.append("<name>")
            if i < len(segs):
                pattern.append(None)
        else:
            cls = None
    assert info is not None and f is not None
    default = None
    if info.default is not PydanticUndefined:
        default = _show(info.default)
    elif info.default_factory is not None:
        default = _show(info.default_factory())
    sub = list(cls.model_fields) if cls is not None and i == len(segs) else []
    return FieldDoc(
        path=".".join(shown),
        expects=_expected(f),
        default=default,
        description=" ".join((info.description or "").split()),
        fields=sub,
        presets=preset_values(pattern),
    )


def _show(value: Any) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    return (
        yaml.safe_dump(value, default_flow_style=True, width=10**6)
        .strip()
        .removesuffix("...")
        .strip()
    )


def preset_values(pattern: list[str | None]) -> dict[str, list[Any]]:
    """What each bundled preset's file sets at a path (None: every item of a list or mapping),
    read from the files as written, so a default left alone is not counted."""
    found: dict[str, list[Any]] = {}
    for p in sorted(PRESETS_DIR.glob("*.yaml")):
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError:
            continue
        values = list(_walk(data, pattern))
        if values:
            found[p.stem] = values
    return found


def _walk(data: Any, pattern: list[str | None]):
    if not pattern:
        yield data
        return
    head, rest = pattern[0], pattern[1:]
    if head is None:
        items = data.values() if isinstance(data, dict) else data if isinstance(data, list) else []
        for v in items:
            yield from _walk(v, rest)
    elif isinstance(data, dict) and head in data:
        yield from _walk(data[head], rest)


class UnknownField(ValueError):
    """A path that names no field of the scenario language (its message says what does)."""


def _fail(path: str, message: str):
    raise UnknownField(f"{path}: {message}")
