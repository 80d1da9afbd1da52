"""What the cross-field rules of the scenario language share.

Each section checks its own fields in an ``issues`` method beside them (pydantic has already
checked each field alone). A rule returns issues as (field path, value, message) so the loader
can point every problem at its line. Rules that look across sections, such as a programme
naming a channel, get what they need to see in a ``Refs``: the names other sections define,
and which optional sections are present.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

FieldPath = tuple[str | int, ...]
Issue = tuple[FieldPath, object, str]


@dataclass(frozen=True)
class Defined:
    """The names one part of a scenario defines (behaviours, groups, tiers, ...), which other
    fields may refer to: the one place that says "unknown X; defined: ..."."""

    what: str  # singular, as in "unknown behaviour"
    names: list[str]
    none: str | None = None  # shown instead of an empty list of names

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def check(
        self, path: FieldPath, name: str, hint: str = "", also: str | None = None
    ) -> list[Issue]:
        """No issue when ``name`` is defined (or is ``also``, a name accepted besides them)."""
        if name in self.names or (also is not None and name == also):
            return []
        unknown = f"unknown {self.what} {name!r}{did_you_mean(name, self.names)}"
        if also is not None:
            return [(path, name, f"{unknown}; use one of {self.names} or {also!r}")]
        shown = self.names if self.names or self.none is None else self.none
        return [(path, name, f"{unknown}; defined: {shown}{hint}")]

    def check_keys(
        self, path: FieldPath, mapping: Mapping[str, object], also: str | None = None
    ) -> list[Issue]:
        """Every key of a mapping keyed by these names (the issue's path ends in the key)."""
        return [i for key in mapping for i in self.check(path + (key,), key, also=also)]

    def check_items(self, path: FieldPath, names: Sequence[str]) -> list[Issue]:
        """Every item of a list of these names (the issue's path ends in the index)."""
        return [i for k, name in enumerate(names) for i in self.check(path + (k,), name)]


def did_you_mean(name: object, names: Sequence[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``names`` to a misspelt ``name``, or ''.
    The same hint the loader gives an unknown field."""
    close = difflib.get_close_matches(str(name), [str(n) for n in names], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(frozen=True)
class Refs:
    """What a section may refer to that other sections define."""

    behaviours: Defined
    groups: Defined
    channels: Defined  # what a programme may draw on: the channels, and `informants` if present
    programmes: Defined
    informants: bool  # the scenario has an `informants` section
    map: bool  # the scenario has a `map` section
    occupations: Defined | None = None  # population.occupations (and `other`)


def duplicate_names(
    path: FieldPath, names: Sequence[str], what: str, note: str = ""
) -> list[Issue]:
    """Every repeat of a name in a list of named items (at ``path + (index, "name")``)."""
    return [
        (path + (i, "name"), n, f"duplicate {what} name {n!r}{note}")
        for i, n in enumerate(names)
        if n in names[:i]
    ]


def sum_to_one(path: FieldPath, values: Iterable[float], what: str) -> list[Issue]:
    """Shares of a whole (``what``, e.g. "group shares") must sum to one."""
    values = list(values)
    total = math.fsum(values)
    if abs(total - 1.0) > 1e-6:
        return [(path, values, f"{what} sum to {total:g}; they must sum to 1")]
    return []
