"""Shared types of the scenario language: the strict base every section builds on, the
constrained numbers and names its fields use, and the limits of one run.

Every section module (population, programme, organisations) builds on these and on nothing
else of the others, so the sections import one way only: here, then the sections, then
``model`` which composes them into a ``Scenario``.
"""

from __future__ import annotations

import re
from typing import Annotated

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

# ----------------------------------------------------------------------------- engine dtypes
# The largest value of each narrow type the engine stores scenario numbers in
# (engine/state.py); every bound below that protects one of them is derived from this table.
DTYPE_MAX: dict[str, int | float] = {
    "int16": int(np.iinfo(np.int16).max),  # points, scores, records, rewards, day counters
    "int32": int(np.iinfo(np.int32).max),  # agent indices and counts
    "float32": float(np.finfo(np.float32).max),  # every real-valued parameter
}
INT16_MAX = int(DTYPE_MAX["int16"])  # 32,767
# Points of one record, scores and score bounds: the largest multiple of 10,000 an int16 holds,
# which leaves room for the day's informant pay on top (see Scenario.dtype_issues).
SCORE_LIMIT = INT16_MAX - INT16_MAX % 10_000  # 30,000
# Day numbers and day counters (listed_since, false_until, list ends) are int16: a run's days
# plus the longest time anything is remembered must stay below INT16_MAX (a cross-field rule).
MAX_DAYS = 20_000
# Largest population one run accepts; int32 agent indices and counts stay exact below it.
MAX_AGENTS = 2_000_000_000
assert MAX_AGENTS <= DTYPE_MAX["int32"] and MAX_DAYS < INT16_MAX


def _fits_float32(x: float) -> float:
    """Refuse a finite number too large for the engine's float32 (it would become inf)."""
    if abs(x) > DTYPE_MAX["float32"]:
        raise PydanticCustomError(
            "float32_range",
            "must be a finite number at most {limit} in size, the most the engine's 32-bit "
            "floats hold",
            {"limit": f"{DTYPE_MAX['float32']:.4g}"},
        )
    return x


Float32 = AfterValidator(_fits_float32)
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegFloat = Annotated[float, Field(ge=0.0), Float32]
PositiveFloat = Annotated[float, Field(gt=0.0), Float32]
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=60)]
Score = Annotated[int, Field(ge=-SCORE_LIMIT, le=SCORE_LIMIT)]

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class Strict(BaseModel):
    """Base for every section: unknown keys, type coercion and numbers that are not finite
    (.inf, .nan) are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)
