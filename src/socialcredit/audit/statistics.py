"""Statistics of an audit: replicate seeds, means with 95% Student's t intervals, and exact
intervals from counts pooled over replicates (Poisson for rates, Clopper-Pearson for shares).

The t interval of the replicates' values is the audit's interval. Where the replicates do not
vary (every replicate gives the same value, as a rare event seen in no replicate does), it has
zero width and claims a certainty it does not have; for an outcome made of counts (a
``Counted``) the audit then takes the exact interval of the counts pooled over replicates
(``counts_ci``; for an effect, ``difference_ci``). docs/audit.md, "Reading the intervals".
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable

import numpy as np

LEVEL = 0.95  # every interval of an audit
_ALPHA = 1.0 - LEVEL


@functools.lru_cache(maxsize=256)
def t975(df: int) -> float:
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom (for a 95% interval),
    from scipy (``scipy.stats.t.ppf``)."""
    if df < 1:
        raise ValueError("df must be at least 1")
    from scipy.stats import t

    return float(t.ppf(1.0 - _ALPHA / 2, df))


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


def poisson_ci(count: float, exposure: float) -> tuple[float, float]:
    """Exact (Garwood) 95% interval of a rate: ``count`` events over ``exposure`` (years).

    From the chi-square quantiles of the Poisson: [chi2(a/2, 2k) / 2, chi2(1 - a/2, 2k + 2) / 2]
    / exposure; the lower end is 0 when no event was seen, and the upper is then 3.69 /
    exposure. A count that is a sum of independent chances of unequal size varies less than a
    Poisson one, so the interval is then conservative.
    """
    if exposure <= 0:
        return math.nan, math.nan
    from scipy.stats import chi2

    k = max(float(count), 0.0)
    lo = 0.0 if k == 0 else float(chi2.ppf(_ALPHA / 2, 2 * k)) / 2
    hi = float(chi2.ppf(1 - _ALPHA / 2, 2 * k + 2)) / 2
    return lo / exposure, hi / exposure


def binomial_ci(successes: float, trials: float) -> tuple[float, float]:
    """Exact (Clopper-Pearson) 95% interval of a share: ``successes`` out of ``trials``.

    The beta quantiles [B(a/2; x, n - x + 1), B(1 - a/2; x + 1, n - x)], 0 at x = 0 and 1 at
    x = n: always inside [0, 1].
    """
    if trials <= 0:
        return math.nan, math.nan
    from scipy.stats import beta

    n = float(trials)
    x = min(max(float(successes), 0.0), n)
    lo = 0.0 if x == 0 else float(beta.ppf(_ALPHA / 2, x, n - x + 1))
    hi = 1.0 if x == n else float(beta.ppf(1 - _ALPHA / 2, x + 1, n - x))
    return lo, hi


def counts_ci(kind: str, num: float, den: float) -> tuple[float, float]:
    """The exact 95% interval of ``num / den`` pooled over replicates: ``kind`` ``rate``
    (Poisson, num events over den years) or ``share`` (binomial, num of den)."""
    if kind == "rate":
        return poisson_ci(num, den)
    if kind == "share":
        return binomial_ci(num, den)
    raise ValueError(f"unknown kind of counts: {kind!r}")


def difference_ci(
    kind: str, sys_num: float, sys_den: float, cf_num: float, cf_den: float
) -> tuple[float, float]:
    """An interval of (system rate - counterfactual rate) from each arm's pooled counts.

    Each arm's exact interval [a_lo, a_hi], [b_lo, b_hi] gives [a_lo - b_hi, a_hi - b_lo]:
    every difference both arms' intervals allow. It ignores the pairing of the arms, so it is
    wider than a paired interval would be; its coverage is at least 95% (two independent 95%
    intervals' half-widths add, where the difference's standard error only adds in squares).
    """
    a_lo, a_hi = counts_ci(kind, sys_num, sys_den)
    b_lo, b_hi = counts_ci(kind, cf_num, cf_den)
    return a_lo - b_hi, a_hi - b_lo


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
