"""Shared types of the scenario language: the strict base every section builds on, the
constrained numbers and names its fields use, and the limits of one run.

Every section module (population, programme, organisations) builds on these and on nothing
else of the others, so the sections import one way only: here, then the sections, then
``model`` which composes them into a ``Scenario``.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegFloat = Annotated[float, Field(ge=0.0)]
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=60)]
Score = Annotated[int, Field(ge=-30000, le=30000)]

# Largest population one run accepts; int32 agent indices and counts stay exact below it.
MAX_AGENTS = 2_000_000_000
MAX_DAYS = 20_000

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class Strict(BaseModel):
    """Base for every section: unknown keys and type coercion are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
