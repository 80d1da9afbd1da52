"""Load scenario YAML into a validated ``Scenario``, with errors a person can act on.

Every problem in a file is reported at once, each as ``file:line: dotted.path = value: what is
wrong and what would be valid``, so fixing a scenario takes one round trip, not one per typo.
"""

from __future__ import annotations

import copy
import difflib
import functools
import hashlib
import importlib
import json
import re
import stat
import types
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from .model import Scenario
from .rules import Issue, did_you_mean

PRESETS_DIR = Path(__file__).parent / "presets"
COMMAND_LINE = "<command line>"
# Shorthands for --set and for load_scenario's keyword arguments.
ALIASES = {"agents": ("population", "agents"), "days": ("days",), "seed": ("seed",)}

Key = str | int
FieldPath = tuple[Key, ...]
# Where each field path comes from: a 1-based YAML line, or the override text that set it.
LineMap = dict[FieldPath, int | str]


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()  # the value of an issue that has none (a missing field, a syntax error)


@dataclass
class ScenarioIssue:
    """One problem in a scenario, located well enough to fix it without reading code."""

    file: str
    line: int | None
    path: str
    value: object
    message: str
    override: str | None = None  # the --set text that caused it, when it came from the command line

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.override:
            where += f" [{self.override}]"
        what = self.path
        if what and self.value is not MISSING:
            what += f" = {_short_repr(self.value)}"
        return f"{where}: {what}: {self.message}" if what else f"{where}: {self.message}"


# Problems reported one by one; past these only a count is given, so a file with a hundred
# thousand mistakes (a generated file gone wrong) is reported in a screenful, in seconds.
MAX_REPORTED = 50


class ScenarioError(Exception):
    """A scenario that cannot be used, with every problem found in it (the first
    MAX_REPORTED of them, in file order, and in ``more`` how many others there are)."""

    what = "scenario"  # the kind of file, in the headline (experiments: "experiment file")

    def __init__(self, issues: list[ScenarioIssue], file: str | None = None, more: int = 0) -> None:
        self.issues = list(issues[:MAX_REPORTED])
        self.more = more + len(issues) - len(self.issues)
        self.file = file or next((i.file for i in self.issues if i.file != COMMAND_LINE), "?")
        super().__init__(self.__str__())

    def __reduce__(self):  # keep issues intact across pickling (worker processes)
        return (type(self), (self.issues, self.file, self.more))

    def __str__(self) -> str:
        n = len(self.issues) + self.more
        head = f"invalid {self.what} {self.file}: {n:,} problem{'' if n == 1 else 's'}"
        lines = [head, *(f"  {i}" for i in self.issues)]
        if self.more:
            lines.append(
                f"  ... and {self.more:,} more problem{'' if self.more == 1 else 's'} not shown "
                f"(only the first {len(self.issues)} are listed); fix these and validate again"
            )
        return "\n".join(lines)


# ----------------------------------------------------------------------------- YAML with lines


def load_yaml_with_lines(
    text: str, filename: str, issues: list[ScenarioIssue] | None = None
) -> tuple[dict, LineMap]:
    """Parse YAML safely, keeping the line of every key and item so errors can point at it.

    Syntax errors, an empty file and a top level that is not a mapping raise ScenarioError.
    Duplicate keys (which PyYAML would silently collapse) are appended to ``issues`` when it is
    given, so loading goes on and later problems are reported too; otherwise they raise.
    """
    own = issues is None
    found: list[ScenarioIssue] = [] if own else issues
    data, line_of = _parse(text, filename, found)
    if data is None:
        _fail(filename, 1, f"the file is empty; a scenario needs {_required_fields()}")
    if not isinstance(data, dict):
        need = f"the top level must be a mapping of fields ({_required_fields()})"
        _fail(filename, line_of.get((), 1), f"{need}, not {_describe(data)}")
    if own and found:
        raise ScenarioError(found)
    return data, line_of


# Limits on what one YAML text may build, far above any real scenario (the largest preset,
# pilots-2021, is 6,915 values and 6 levels deep) and far below what exhausts memory or
# Python's stack: a few hundred bytes of nested aliases ("billion laughs") would otherwise
# expand to billions of values, and thousands of nested brackets end in a RecursionError.
MAX_YAML_VALUES = 500_000  # values once every alias is expanded (keys, items and scalars)
MAX_YAML_DEPTH = 64  # levels of nested mappings and lists

# Floats as YAML 1.2 and JSON write them: an exponent without a decimal point or without a
# sign (1e-5, 1E5, -2e+3, 2.5e3), which YAML 1.1's resolver leaves as strings.
_FLOAT_12 = re.compile(r"^[-+]?(?:\.[0-9][0-9_]*|[0-9][0-9_]*(?:\.[0-9_]*)?)[eE][-+]?[0-9]+$")


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, bounded: it counts the values the document expands to while
    composing it (an alias counts as everything it stands for) and how deep it nests, and
    stops at the first node past a limit, before anything is expanded."""

    def __init__(self, text: str, filename: str) -> None:
        super().__init__(text)
        self._filename = filename
        self._values = 0  # values of the expanded document so far
        self._size: dict[int, int] = {}  # id(node) -> values it expands to (complete nodes)
        self._depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            node = super().compose_node(parent, index)
            size = self._size.get(id(node))
            where = event.start_mark.line + 1
            if size is None:  # the anchored node is still being composed: it contains itself
                _fail(
                    self._filename,
                    where,
                    f"the alias *{event.anchor} refers to the list or mapping it is in, which "
                    "would make it infinitely deep; write the value out instead of the alias",
                )
            self._count(size, where, f"the alias *{event.anchor} (standing for {size:,} values)")
            return node
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                _fail(
                    self._filename,
                    self.peek_event().start_mark.line + 1,
                    f"the YAML nests more than {MAX_YAML_DEPTH} levels deep here (a scenario "
                    "needs fewer than 10); check for unclosed '[' or '{' and runaway indentation",
                )
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if isinstance(node, yaml.MappingNode):
            children = [n for kv in node.value for n in kv]
        else:
            children = node.value if isinstance(node, yaml.SequenceNode) else []
        self._size[id(node)] = 1 + sum(self._size[id(c)] for c in children)
        self._count(1, node.start_mark.line + 1, "this value")
        return node

    def _count(self, n: int, line: int, what: str) -> None:
        self._values += n
        if self._values > MAX_YAML_VALUES:
            _fail(
                self._filename,
                line,
                f"the YAML expands to more than {MAX_YAML_VALUES:,} values at {what} (nested "
                "aliases multiply, as in a 'billion laughs' file); a scenario has a few thousand: "
                "write repeated parts out once, without aliases of aliases",
            )


_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list("-+0123456789."))


def _parse(text: str, filename: str, issues: list[ScenarioIssue]) -> tuple[Any, LineMap]:
    """`_parse_text`, remembered for the last few texts (a copy each time: callers change the
    data). Parsing with line numbers costs about 60 ms for a preset, a copy about 1 ms, and a
    sweep or a search reads its base scenario's text more than once."""
    data, line_of, found = _parse_cached(text, filename)
    issues.extend(found)
    return copy.deepcopy(data), dict(line_of)


@functools.lru_cache(maxsize=8)
def _parse_cached(text: str, filename: str) -> tuple[Any, LineMap, tuple[ScenarioIssue, ...]]:
    found: list[ScenarioIssue] = []
    data, line_of = _parse_text(text, filename, found)
    return data, line_of, tuple(found)


def _parse_text(text: str, filename: str, issues: list[ScenarioIssue]) -> tuple[Any, LineMap]:
    line_of: LineMap = {}
    loader = None
    try:
        loader = _Loader(text, filename)
        node = loader.get_single_node()
        if node is None:
            return None, line_of
        line_of[()] = node.start_mark.line + 1
        return _build(loader, node, (), line_of, filename, issues), line_of
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        if isinstance(e, yaml.constructor.ConstructorError):
            msg = f"unsupported YAML: {e.problem}; use plain mappings, lists and scalars"
        elif "another document" in (e.problem or ""):
            msg = "YAML syntax error: a scenario is one YAML document; remove the '---' separator"
        else:
            msg = f"YAML syntax error: {e.problem or e.context}"
            if e.context and e.problem:
                msg += f" ({e.context}"
                msg += f" at line {e.context_mark.line + 1})" if e.context_mark else ")"
            msg += "; check indentation, colons and quotes"
        _fail(filename, mark.line + 1 if mark else None, msg)
    except yaml.reader.ReaderError as e:
        line = text[: e.position].count("\n") + 1
        _fail(filename, line, f"YAML syntax error: character #x{e.character:04x} is not allowed")
    except yaml.YAMLError as e:
        _fail(filename, None, f"YAML syntax error: {e}")
    finally:
        if loader is not None:
            loader.dispose()


_MAP, _SEQ, _MERGE = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:merge"


def _build(loader, node, path: FieldPath, line_of: LineMap, filename: str, issues: list) -> Any:
    """Construct plain data from a node, recording lines and catching duplicate keys."""
    line = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode):
        try:
            return loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as e:
            _fail(filename, line, f"unsupported YAML: {e.problem}; use plain values", _dotted(path))
    if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
        out = []
        for i, item in enumerate(node.value):
            line_of[path + (i,)] = item.start_mark.line + 1
            out.append(_build(loader, item, path + (i,), line_of, filename, issues))
        return out
    if isinstance(node, yaml.MappingNode) and node.tag == _MAP:
        first: dict[Any, int] = {}
        for k, _ in node.value:
            if k.tag == _MERGE or not isinstance(k, yaml.ScalarNode):
                continue
            key, k_line = loader.construct_object(k), k.start_mark.line + 1
            if key in first:
                msg = f"duplicate key {key!r} (first at line {first[key]}); YAML would keep only the last one, so remove or rename one of them"
                issues.append(_issue(filename, k_line, msg, _dotted(path + (key,))))
            first.setdefault(key, k_line)
        loader.flatten_mapping(node)  # resolve `<<: *anchor` merges
        out: dict = {}
        for k, v in node.value:
            key = loader.construct_object(k, deep=True)
            try:
                hash(key)
            except TypeError:
                msg = "a key must be a plain name, not a list or mapping"
                issues.append(_issue(filename, k.start_mark.line + 1, msg, _dotted(path)))
                continue
            line_of[path + (key,)] = k.start_mark.line + 1
            out[key] = _build(loader, v, path + (key,), line_of, filename, issues)
        return out
    _fail(
        filename,
        line,
        f"unsupported YAML tag {node.tag}; use plain mappings, lists and scalars",
        _dotted(path),
    )


def _required_fields() -> str:
    names = [n for n, f in Scenario.model_fields.items() if f.is_required()]
    return ", ".join(f"{n}:" for n in names)


# ----------------------------------------------------------------------------- overrides


def apply_overrides(data: dict, overrides: list[str], line_of: LineMap) -> list[ScenarioIssue]:
    """Apply ``path=value`` overrides in place (value parsed as YAML); return the ones that failed.

    ``line_of`` is updated so that problems with an overridden field point at the override
    instead of a YAML line that no longer holds the value.
    """
    issues: list[ScenarioIssue] = []
    for text in overrides:
        path_text, sep, raw = text.partition("=")
        keys = tuple(path_text.strip().split("."))
        keys = ALIASES.get(path_text.strip(), keys)
        if not sep or not all(keys):
            msg = "expected path=value, e.g. population.agents=1000 or programmes.rongcheng.points.littering=-20"
            issues.append(_override_issue(text, path_text, MISSING, msg))
            continue
        try:
            value, _ = _parse(raw, COMMAND_LINE, [])
        except ScenarioError as e:
            msg = f"{e.issues[0].message} (quote the value if needed)"
            issues.append(_override_issue(text, path_text, raw, msg))
            continue
        issue = _set(data, keys, value, text, line_of)
        if issue:
            issues.append(issue)
    return issues


def _set(data: dict, keys: tuple[str, ...], value: Any, text: str, line_of: LineMap):
    """Set one field; a path through something missing or unindexable is an issue."""
    cur: Any = data
    path: FieldPath = ()
    for i, key in enumerate(keys):
        last, where = i == len(keys) - 1, _dotted(path) or "the top level"
        if isinstance(cur, dict):
            seg: Key = int(key) if key not in cur and key.isdigit() and int(key) in cur else key
            hint = did_you_mean(seg, [str(k) for k in cur]) if seg not in cur else ""
            msg = f"no field {seg!r}{hint} under {where} to set a value inside; existing: {', '.join(map(str, cur)) or 'none'}"
            named = get_origin(_unwrap(_field_at(path) or _Field(None, [])).tp) is dict
            if not last and seg not in cur and not (named and hint):
                # a section the file leaves to its defaults (e.g. record.snapshot=false where
                # the file has no `record:`): start it empty; validation fills in the rest. A
                # misspelt name in a mapping of named items (programmes.rongchen.x) is refused
                # with the name it resembles, not started as a new, half-empty item.
                sub = _field_at(path + (seg,))
                if sub is not None and _is_model(sub.tp):
                    cur[seg] = {}
            bad = not last and seg not in cur
        elif isinstance(cur, list):
            seg = int(key) if key.isdigit() else _index_of_name(cur, key)
            names = [
                x["name"] for x in cur if isinstance(x, dict) and isinstance(x.get("name"), str)
            ]
            hint = did_you_mean(seg, names) if isinstance(seg, str) else ""
            msg = f"{where} has no item {seg!r}{hint}; " if hint else ""
            msg += f"{where} is a list of {len(cur)} item(s); use an index from 0 to {len(cur) - 1}"
            msg += f" or an item's name ({', '.join(names)})" if names else ""
            bad = not isinstance(seg, int) or seg >= len(cur)
        else:
            seg, bad = key, True
            msg = f"{where} is {_describe(cur)}, not a mapping or list, so nothing can be set inside it"
        if bad:
            return _override_issue(text, _dotted(path + (seg,)), MISSING, msg)
        path += (seg,)
        if last:
            cur[seg] = value
        else:
            cur = cur[seg]
    for p in [p for p in line_of if p[: len(path)] == path]:
        del line_of[p]
    line_of[path] = text
    return None


def _index_of_name(items: list, name: str) -> int | str:
    """The index of the list item whose ``name`` is ``name`` (behaviours.littering is
    behaviours.<its index>), or ``name`` unchanged if no item has it."""
    for i, x in enumerate(items):
        if isinstance(x, dict) and x.get("name") == name:
            return i
    return name


def _override_issue(text: str, path: str, value: object, message: str) -> ScenarioIssue:
    return ScenarioIssue(COMMAND_LINE, None, path, value, message, override=text)


# ----------------------------------------------------------------------------- loading


def list_presets() -> list[tuple[str, str]]:
    """(name, first sentence of its description) for every bundled preset, for `--help` lists."""
    out = []
    for p in sorted(PRESETS_DIR.glob("*.yaml")):
        try:
            desc = " ".join(str(yaml.safe_load(p.read_text())["metadata"]["description"]).split())
        except Exception:  # a broken preset still gets listed; loading it reports why
            desc = ""
        m = re.match(r"(.+?[.!?])(\s|$)", desc)
        out.append((p.stem, m.group(1) if m else desc))
    return out


def _is_preset(name: str) -> bool:
    return (
        bool(re.fullmatch(r"[A-Za-z0-9][\w-]*", name)) and (PRESETS_DIR / f"{name}.yaml").is_file()
    )


def _file_kind(path: Path) -> str:
    """What a path that exists but is no regular file is: 'a directory', 'a named pipe (FIFO)'."""
    mode = path.stat().st_mode
    for test, what in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return what
    return "not a regular file"


def preset_path(name: str) -> Path:
    """The YAML file of a bundled preset; ScenarioError naming the presets when there is none."""
    if _is_preset(name):
        return PRESETS_DIR / f"{name}.yaml"
    names = ", ".join(n for n, _ in list_presets()) or "none"
    msg = f"no scenario file or preset named {name!r}; presets: {names} (a path to a scenario YAML file also works)"
    _fail(name, None, msg)


def load_scenario(
    name_or_path: str | Path,
    overrides: list[str] | None = None,
    *,
    agents: int | None = None,
    days: int | None = None,
    seed: int | None = None,
) -> Scenario:
    """Load a preset name or a YAML file, apply overrides, and validate it completely.

    Raises ScenarioError listing every problem found, not just the first.
    """
    path = Path(name_or_path)
    if path.is_file():
        shown = str(name_or_path)
    elif path.exists() and not _is_preset(str(name_or_path)):
        kind = _file_kind(path)
        msg = f"this is {kind}, not a scenario file; give the path of a scenario YAML file or a preset name"
        _fail(str(name_or_path), None, msg)
    else:
        path = preset_path(str(name_or_path))
        shown = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        _fail(shown, None, f"cannot read the file: {e}")
    return parse_scenario(text, shown, overrides, agents=agents, days=days, seed=seed)


def parse_scenario(
    text: str,
    filename: str = "<string>",
    overrides: list[str] | None = None,
    *,
    agents: int | None = None,
    days: int | None = None,
    seed: int | None = None,
) -> Scenario:
    """Like load_scenario, for YAML text already in hand."""
    issues: list[ScenarioIssue] = []
    data, line_of = load_yaml_with_lines(text, filename, issues)
    issues += apply_overrides(data, list(overrides or []), line_of)
    for name, value in (("agents", agents), ("days", days), ("seed", seed)):
        if value is not None:
            issue = _set(data, ALIASES[name], value, f"{name}={value}", line_of)
            if issue:
                issues.append(issue)
    return validate_data(data, line_of, filename, issues)


def validate_data(
    data: Any, line_of: LineMap, filename: str, issues: list[ScenarioIssue] | None = None
) -> Scenario:
    """Validate plain data (model rules, then cross-field rules); raise with all issues found."""
    found = list(issues or [])
    scenario = None
    # the message of a pydantic error is written only for the issues that are shown
    pending: dict[int, tuple[dict, FieldPath, bool]] = {}
    overrides = [(p, where) for p, where in line_of.items() if isinstance(where, str)]
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as err:
        for e in err.errors(include_url=False):
            path, key_error = _data_path(e["loc"], data)
            value = MISSING if e["type"] == "missing" else e["input"]
            issue = _located(filename, line_of, path, value, "", overrides)
            pending[id(issue)] = (e, path, key_error)
            found.append(issue)
    if scenario is not None:
        semantic = scenario.semantic_issues()
        if not semantic:  # the numbers phases set: each checked on the scenario it makes
            semantic = regimes(scenario)[1]
        for p, value, message in semantic:
            found.append(_located(filename, line_of, tuple(p), value, message, overrides))
    if found:
        found.sort(key=lambda i: (i.file == COMMAND_LINE, i.line or 0))
        shown = found[:MAX_REPORTED]
        for issue in shown:
            if id(issue) in pending:
                issue.message = _message(*pending[id(issue)])
        raise ScenarioError(shown, filename, more=len(found) - len(shown))
    return scenario


def _located(
    filename: str,
    line_of: LineMap,
    path: FieldPath,
    value,
    message,
    overrides: list[tuple[FieldPath, str]] = (),
) -> ScenarioIssue:
    """Point an issue at the line of its field, or of the nearest enclosing one that is written.

    An issue about a whole list or section (shares that do not sum to one) that an override
    changed inside also names the override, so it is not blamed on the file alone."""
    inside = [text for p, text in overrides if len(p) > len(path) and p[: len(path)] == path]
    for n in range(len(path), -1, -1):
        where = line_of.get(path[:n])
        if isinstance(where, str):
            return ScenarioIssue(COMMAND_LINE, None, _dotted(path), value, message, override=where)
        if where is not None:
            by = "; ".join(inside) or None
            return ScenarioIssue(filename, where, _dotted(path), value, message, override=by)
    return ScenarioIssue(filename, None, _dotted(path), value, message)


def _issue(file: str, line: int | None, message: str, path: str = "") -> ScenarioIssue:
    return ScenarioIssue(file, line, path, MISSING, message)


def _fail(file: str, line: int | None, message: str, path: str = "") -> NoReturn:
    raise ScenarioError([_issue(file, line, message, path)]) from None


# ----------------------------------------------------------------------------- pydantic errors


def _data_path(loc: tuple, data: Any) -> tuple[FieldPath, bool]:
    """Map a pydantic loc onto the data: drop union/validator tags; flag dict-key errors."""
    path: list[Key] = []
    cur = data
    for i, seg in enumerate(loc):
        if seg == "[key]":
            return tuple(path), True
        if isinstance(cur, dict) and seg in cur:
            cur = cur[seg]
        elif isinstance(cur, list) and isinstance(seg, int) and 0 <= seg < len(cur):
            cur = cur[seg]
        elif not (i == len(loc) - 1 and isinstance(cur, dict)):
            continue  # a tag such as 'function-after[...]' or a union member's name
        path.append(seg)
    return tuple(path), False


@dataclass
class _Field:
    """What the model expects at one path: type, constraints, whether null is allowed."""

    tp: Any
    meta: list
    nullable: bool = False
    info: FieldInfo | None = None


def _field_at(path: FieldPath) -> _Field | None:
    """Walk the model classes along a data path (through lists and dicts of models)."""
    f = _Field(Scenario, [])
    for seg in path:
        f = _unwrap(f)
        origin = get_origin(f.tp)
        if _is_model(f.tp):
            info = f.tp.model_fields.get(seg)
            if info is None:
                return None
            f = _Field(info.annotation, list(info.metadata), info=info)
        elif origin is list and isinstance(seg, int):
            f = _Field(get_args(f.tp)[0], [])
        elif origin is dict:
            f = _Field(get_args(f.tp)[1], [])
        else:
            return None
    return _unwrap(f)


def _unwrap(f: _Field) -> _Field:
    while True:
        origin = get_origin(f.tp)
        if origin is Annotated:
            tp, *extra = get_args(f.tp)
            meta = f.meta + [
                m for x in extra for m in (x.metadata if isinstance(x, FieldInfo) else [x])
            ]
            f = _Field(tp, meta, f.nullable, f.info)
        elif origin in (Union, types.UnionType) and type(None) in get_args(f.tp):
            rest = [a for a in get_args(f.tp) if a is not type(None)]
            if len(rest) != 1:
                return _Field(f.tp, f.meta, True, f.info)
            f = _Field(rest[0], f.meta, True, f.info)
        else:
            return f


def _bounds(meta: list) -> str:
    b = {k: getattr(m, k) for m in meta for k in ("ge", "gt", "le", "lt") if hasattr(m, k)}
    lo = f"{_num(b['ge'])}" if "ge" in b else None
    hi = f"{_num(b['le'])}" if "le" in b else None
    if lo is not None and hi is not None:
        s = f"between {lo} and {hi}"
        if b["ge"] == 0 and b["le"] == 1:
            s += " (a probability)"
    else:
        parts = [
            f"at least {lo}" if lo is not None else "",
            f"above {_num(b['gt'])}" if "gt" in b else "",
            f"at most {hi}" if hi is not None else "",
            f"below {_num(b['lt'])}" if "lt" in b else "",
        ]
        s = " and ".join(p for p in parts if p)
    mult = next((m.multiple_of for m in meta if hasattr(m, "multiple_of")), None)
    if mult:
        s = f"{s}, a multiple of {_num(mult)}" if s else f"a multiple of {_num(mult)}"
    return s


_PATTERNS = {
    r"^[a-z][a-z0-9_]*$": "a lowercase name: a letter, then lowercase letters, digits or underscores",
    r"^[a-z0-9][a-z0-9-]*$": "lowercase letters, digits and hyphens",
    r"^[A-Za-z0-9+\-]+$": "letters, digits, '+' or '-' (e.g. AAA or B-)",
}


def _pattern_text(meta: list) -> str:
    pattern = next((m.pattern for m in meta if getattr(m, "pattern", None)), None)
    return _pattern_phrase(pattern) if pattern else ""


def _pattern_phrase(pattern: str) -> str:
    return _PATTERNS.get(pattern, f"text matching {pattern}")


def _expected(f: _Field | None) -> str:
    """A phrase for what a field accepts, e.g. 'an integer between 1 and 20000, or null'."""
    if f is None:
        return "a valid value"
    tp, origin = f.tp, get_origin(f.tp)
    if tp is bool:
        s = "true or false"
    elif tp in (int, float):
        s = "an integer" if tp is int else "a number"
        s += f" {_bounds(f.meta)}" if _bounds(f.meta) else ""
    elif tp is str:
        s = f"a string ({_pattern_text(f.meta)})" if _pattern_text(f.meta) else "a string"
    elif origin is Literal:
        s = "one of " + ", ".join(repr(a) for a in get_args(tp))
    elif _is_model(tp):
        s = "a mapping with fields " + ", ".join(tp.model_fields)
    elif origin is list:
        s = "a list"
    elif origin is dict:
        s = "a mapping"
    else:
        s = "a valid value"
    return s + (", or null" if f.nullable else "")


def _message(e: dict, path: FieldPath, key_error: bool) -> str:
    """A message saying what is wrong and what would be valid, for one pydantic error."""
    kind, value, ctx = e["type"], e["input"], e.get("ctx") or {}
    if key_error:
        if "pattern" in ctx:
            return f"invalid name {value!r}: must be {_pattern_phrase(ctx['pattern'])}{_suggest_name(value)}"
        if kind == "string_type":
            return f"invalid name {_short_repr(value)}: names must be text (put it in quotes)"
        return f"invalid name {_short_repr(value)}: {e['msg']}"
    f = _field_at(path)
    name = path[-1] if path else ""
    if kind == "extra_forbidden":
        parent = _field_at(path[:-1])
        allowed = list(parent.tp.model_fields) if parent and _is_model(parent.tp) else []
        close = difflib.get_close_matches(str(name), allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown field {name!r}{hint}; allowed here: {', '.join(allowed)}"
    if kind == "missing":
        desc = f.info.description if f and f.info and f.info.description else ""
        return f"missing required field {name!r}: expected {_expected(f)}" + (
            f" ({desc})" if desc else ""
        )
    if kind == "literal_error":
        options = [str(a) for a in get_args(f.tp)] if f and get_origin(f.tp) is Literal else []
        close = difflib.get_close_matches(str(value), options, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        choices = ", ".join(map(repr, options)) if options else ctx.get("expected", "")
        return f"unknown value {_short_repr(value)}{hint}; use one of: {choices}"
    if kind == "finite_number":
        return (
            f"must be a finite number (.inf and .nan break the arithmetic); expected {_expected(f)}"
        )
    if kind == "float32_range":
        return e["msg"]
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        rng = _bounds(f.meta) if f else ""
        return f"must be {rng or e['msg'].removeprefix('Input should be ')}"
    if kind == "multiple_of":
        m = ctx["multiple_of"]
        below = value // m * m
        return f"must be a multiple of {_num(m)}, e.g. {_num(below)} or {_num(below + m)}"
    if kind == "string_pattern_mismatch":
        return f"must be {_pattern_phrase(ctx['pattern'])}{_suggest_name(value)}"
    if kind == "string_too_short":
        return "must not be empty" if ctx.get("min_length") == 1 else e["msg"]
    if kind == "string_too_long":
        return f"is {len(value)} characters long; at most {ctx['max_length']} are allowed"
    if kind == "too_short":
        return f"needs at least {ctx['min_length']} item(s), has {ctx['actual_length']}"
    if kind == "too_long":
        return f"has {ctx['actual_length']} items; at most {ctx['max_length']} are allowed"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return f"expected {_expected(f)}, got {_describe(value)}{_type_hint(f, value)}"
    return e["msg"]


def _type_hint(f: _Field | None, value: Any) -> str:
    tp = f.tp if f else None
    if tp in (int, float) and isinstance(value, str):
        try:
            (int if tp is int else float)(value.replace("_", ""))
            return " (remove the quotes)"
        except ValueError:
            return ""
    if tp is int and isinstance(value, float):
        return f" (write {int(value)} without a decimal point)" if value.is_integer() else ""
    if tp is str and isinstance(value, bool):
        return " (YAML reads unquoted yes/no/on/off/true/false as booleans; put it in quotes)"
    if tp is str and not isinstance(value, str | list | dict | None):
        return f" (put it in quotes: '{value}')"
    if tp is bool and isinstance(value, str) and value.lower() in ("true", "false"):
        return " (remove the quotes)"
    return ""


def _suggest_name(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    fixed = re.sub(r"[^a-z0-9_]+", "_", value.lower()).strip("_")
    return f"; e.g. {fixed!r}" if fixed and fixed != value and fixed[0].isalpha() else ""


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _describe(value: Any) -> str:
    if value is None:
        return "null (an empty value)"
    if isinstance(value, bool):
        return f"a boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"an integer {value}"
    if isinstance(value, float):
        return f"a number {value!r}"
    if isinstance(value, str):
        return f"a string {_short_repr(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__} {value}"


def _num(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}" if abs(x) < 1e15 else repr(x)


def _short_repr(value: Any, limit: int = 80) -> str:
    """Like repr, but in YAML's words for null and booleans, and never a screenful."""
    if value is None or isinstance(value, bool):
        r = str(value).lower() if value is not None else "null"
    else:
        r = value.isoformat() if isinstance(value, date) else repr(value)
    return r if len(r) <= limit else r[: limit - 3] + "..."


def _dotted(path: FieldPath) -> str:
    return ".".join(str(p) for p in path)


# ----------------------------------------------------------------------------- output


def resolved_yaml(scenario: Scenario) -> str:
    """The scenario with every default filled in, as YAML that loads back to an equal Scenario.

    Runs store it so a result says exactly what was simulated, even after defaults change.
    """
    return yaml.safe_dump(
        scenario.model_dump(mode="json"),
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=100,
    )


def scenario_hash(scenario: Scenario) -> str:
    """A short fingerprint of the resolved scenario, to tell runs of different scenarios apart."""
    canon = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()[:16]


def json_schema() -> dict:
    """JSON Schema of the scenario language, for editors that validate YAML as you type."""
    schema = Scenario.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": "socialcredit scenario",
    }


# ----------------------------------------------------------------------------- numbers by day


def _resolve(data: Any, keys: list[str]) -> tuple:
    """The data path of dotted ``keys`` (items of a list by name or index)."""
    out: list = []
    cur = data
    for key in keys:
        if isinstance(cur, list):
            idx = next(
                (i for i, x in enumerate(cur) if isinstance(x, dict) and x.get("name") == key),
                int(key) if key.isdigit() else None,
            )
            out.append(idx if idx is not None else key)
            cur = cur[idx] if idx is not None and idx < len(cur) else None
        else:
            out.append(key)
            cur = cur.get(key) if isinstance(cur, dict) else None
    return tuple(out)


def without_sets(data: dict) -> dict:
    """Scenario data (a model_dump) with every phase's `set` emptied, in place."""
    for p in (data.get("timeline") or {}).get("phases", []):
        p["set"] = {}
    return data


def regimes(sc: Any) -> tuple[list[tuple[int, Any]], list[Issue]]:
    """The scenario in force from each day a phase sets numbers: [(day, Scenario)], each with
    every `set` of the phases up to that day applied (a later phase wins) and the sets
    themselves emptied, and the issues found (a path that names no field, a field that is not a
    number, a value out of its bounds, a change to the run's structure). Empty without sets."""
    tl = sc.timeline
    if tl is None or not any(p.set for p in tl.phases):
        return [], []
    base = without_sets(sc.model_dump(mode="json"))
    data, out, issues = copy.deepcopy(base), [], []
    order = sorted(range(len(tl.phases)), key=lambda i: tl.day_of(tl.phases[i]))
    where: dict[tuple, tuple] = {}  # data path -> the set entry that wrote it
    for n, i in enumerate(order):
        p = tl.phases[i]
        for key, v in p.set.items():
            at = ("timeline", "phases", i, "set", key)
            keys = key.split(".")
            if keys[0] == "timeline":
                issues.append((at, v, "a phase cannot change the timeline itself"))
                continue
            found = _set(data, tuple(keys), v, key, {})
            if found is not None:
                issues.append((at, v, found.message))
                continue
            path = _resolve(data, keys)
            f = _field_at(path)
            if f is None or f.tp not in (bool, int, float):
                what = getattr(f, "tp", None)
                issues.append(
                    (
                        at,
                        v,
                        f"{key} holds {getattr(what, '__name__', what)}, not a number: a phase "
                        "sets numbers and on/off switches only (start or stop a programme "
                        "or list to change the rest)",
                    )
                )
                continue
            where[path] = at
        last = n == len(order) - 1 or tl.day_of(tl.phases[order[n + 1]]) != tl.day_of(p)
        if p.set and last:
            out.append((tl.day_of(p), copy.deepcopy(data)))
    if issues:
        return [], issues

    def blame(loc: tuple) -> tuple:
        hits = [at for path, at in where.items() if tuple(loc[: len(path)]) == path]
        return hits[-1] if hits else ("timeline", "phases")

    result = []
    for day, d in out:
        try:
            s = Scenario.model_validate(d)
        except ValidationError as err:
            for e in err.errors(include_url=False):
                at = blame(tuple(e["loc"]))
                issues.append((at, e.get("input"), f"{at[-1]}: {e['msg']}"))
            continue
        for loc, value, msg in s.semantic_issues():
            at = blame(tuple(loc))
            issues.append((at, value, f"from day {day}: {msg}"))
        result.append((day, s))
    if issues:
        return [], issues
    return result, _structure_issues(sc, base, result, where)


# A scenario's compiled structure (its Spec), for the check that phases change numbers only.
# The compiler registers it (compile/__init__.py): it imports this package, so this package
# does not import it (no cycle between validating a scenario and compiling it).
_STRUCTURE: list[Callable[[Any], Any]] = []


def structure_check(structure_of: Callable[[Any], Any]) -> None:
    """Register ``structure_of(scenario) -> Spec`` (the compiler does, when it is imported)."""
    _STRUCTURE[:] = [structure_of]


def _structure_issues(sc: Any, base: dict, result: list, where: dict) -> list[Issue]:
    """A phase may change numbers only: the compiled structure (Spec) must stay the same."""
    if not _STRUCTURE:  # the compiler registers itself on import (a run-time dependency only)
        importlib.import_module("socialcredit.compile")
    structure_of = _STRUCTURE[0]
    spec0 = structure_of(Scenario.model_validate(base))
    out: list[Issue] = []
    for day, s in result:
        spec = structure_of(s)
        if spec != spec0:
            changed = [
                f for f in spec.__dataclass_fields__ if getattr(spec, f) != getattr(spec0, f)
            ]
            at = next(iter(where.values())) if len(where) == 1 else ("timeline", "phases")
            value = sc.timeline.phases[at[2]].set[at[4]] if len(at) == 5 else None
            msg = (
                f"the numbers in force from day {day} change the run's structure "
                f"({', '.join(changed)}), which phases cannot do without recompiling; "
                "start or stop a programme or list instead, or give the number a non-zero "
                "value from day 0"
            )
            out.append((at, value, msg))
    return out
