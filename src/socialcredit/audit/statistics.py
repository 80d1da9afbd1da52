"""Statistics of an audit: replicate seeds, and means with 95% Student's t intervals."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

# Student's t quantile 0.975 for df 1..30; beyond, conservative steps (the value at each step's
# lowest df: 30, 40, 60, 120) up to df 999, and the normal 1.96 from there on.
T975 = {
    1: 12.7062,
    2: 4.3027,
    3: 3.1824,
    4: 2.7764,
    5: 2.5706,
    6: 2.4469,
    7: 2.3646,
    8: 2.3060,
    9: 2.2622,
    10: 2.2281,
    11: 2.2010,
    12: 2.1788,
    13: 2.1604,
    14: 2.1448,
    15: 2.1314,
    16: 2.1199,
    17: 2.1098,
    18: 2.1009,
    19: 2.0930,
    20: 2.0860,
    21: 2.0796,
    22: 2.0739,
    23: 2.0687,
    24: 2.0639,
    25: 2.0595,
    26: 2.0555,
    27: 2.0518,
    28: 2.0484,
    29: 2.0452,
    30: 2.0423,
}
_T975_STEPS = ((40, 2.0423), (60, 2.0211), (120, 2.0003), (1000, 1.9799))  # (below df, t)


def t975(df: int) -> float:
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom (for a 95% interval)."""
    if df < 1:
        raise ValueError("df must be at least 1")
    if df in T975:
        return T975[df]
    for below, t in _T975_STEPS:
        if df < below:
            return t
    return 1.96


def mean_ci(values: Iterable[float]) -> tuple[float, float, float, int]:
    """Mean and 95% t interval of the finite values; (mean, low, high, n). NaN where undefined."""
    x = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=np.float64)
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    m = float(x.mean())
    if n == 1:
        return m, math.nan, math.nan, 1
    half = t975(n - 1) * float(x.std(ddof=1)) / math.sqrt(n)
    return m, m - half, m + half, n


def replicate_seeds(root_seed: int, n: int) -> list[int]:
    """``n`` distinct seeds in [0, 2**31 - 1] derived from one root seed (deterministic).

    Uses numpy's SeedSequence, so seeds are well spread even for neighbouring roots; the
    first k seeds do not depend on n, so a 3-replicate audit repeats the first 3 of a 5.
    """
    if n < 0:
        raise ValueError("n must be non-negative")
    if root_seed < 0:
        raise ValueError("root_seed must be non-negative")
    out: list[int] = []
    seen: set[int] = set()
    size = max(n, 1)
    while len(out) < n:
        words = np.random.SeedSequence(root_seed).generate_state(size, dtype=np.uint32)
        out, seen = [], set()
        for w in words:
            s = int(w) & 0x7FFFFFFF
            if s not in seen:
                seen.add(s)
                out.append(s)
            if len(out) == n:
                break
        size *= 2
    return out
