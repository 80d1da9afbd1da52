"""Numbers of an audit table as text: values to the precision their intervals allow,
shares as percentages (per mille when small), effects on shares in percentage points, small
rates per 1,000 or per 100,000 (agent-, firm-, institution-)years, and numbers smaller still
as a mantissa times a power of ten; an interval of zero width as "no variation"."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from socialcredit.audit.outcome import Scale

MINUS = "\u2212"
MAX_DECIMALS = 4  # beyond, a number is written as a mantissa times a power of ten
_SUPERSCRIPT = str.maketrans(
    "-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"
)
_PER_YEAR = re.compile(r"per ([\w-]+?)-year\b")


def _decimals(value: float, half: float, sig: int = 3) -> int:
    """Decimals showing the interval's first significant digit and two of the value (when the
    value is not lost inside its interval: a mean of 1e-18 in an interval of +-0.02 is 0.02)."""
    d = 0
    scale = abs(value) if math.isfinite(value) and value else 1.0
    if math.isfinite(half) and half > 1e-9 * scale:  # below that it is rounding noise
        d = max(d, -math.floor(math.log10(half)))
        if value and math.isfinite(value) and abs(value) >= half / 10:
            d = max(d, 1 - math.floor(math.log10(abs(value))))
    elif value and math.isfinite(value):
        d = max(d, sig - 1 - math.floor(math.log10(abs(value))))
    return min(d, 12)


def _fmt(x: float, d: int, unit: str = "", signed: bool = False) -> str:
    if not math.isfinite(x):
        return "–"
    r = round(x, d)
    if r == 0:
        return f"0{'.' + '0' * d if d else ''}{unit}"
    text = f"{abs(r):,.{d}f}{unit}"
    if r < 0:
        return MINUS + text
    return ("+" + text) if signed else text


def _with_ci(x: float, lo: float, hi: float, unit: str = "", signed: bool = False) -> str:
    if not math.isfinite(x):
        return "–"
    half = (hi - lo) / 2 if math.isfinite(lo) and math.isfinite(hi) else math.nan
    if half == 0:  # the replicates did not vary and no interval could be drawn: say so
        return _with_ci(x, math.nan, math.nan, unit, signed) + " (no variation)"
    d = _decimals(x, half)
    if d > MAX_DECIMALS:  # tiny: a mantissa and a power of ten shared by value and interval
        top = max(abs(v) for v in (x, lo, hi) if math.isfinite(v) and v) if x or half else 1.0
        e = math.floor(math.log10(top))
        k = 10.0**-e
        text = _with_ci(x * k, lo * k, hi * k, "", signed)
        return f"{text} ×10{str(e).translate(_SUPERSCRIPT)}{unit}"
    if unit.startswith(" ") and math.isfinite(half):  # a word (pp): once, after the interval
        inner = f"{_fmt(lo, d, '', signed)} to {_fmt(hi, d, '', signed)}"
        return f"{_fmt(x, d, '', signed)} ({inner}){unit}"
    text = _fmt(x, d, unit, signed)
    if math.isfinite(half):
        text += f" ({_fmt(lo, d, unit, signed)} to {_fmt(hi, d, unit, signed)})"
    return text


def display_scale(r: Any, scale: Scale) -> tuple[float, str, str, str, str]:
    """How to show a row: (factor, unit of arm values, unit of effects, unit text, label).

    The row's size is its larger arm value (its effect and interval where both arms are 0).
    Shares: % and pp, or per mille (‰) when that size is below 0.1%. Rates per X-year: as they
    are, or per 1,000 X-years when below 0.01, per 100,000 when below 0.00001. The unit text and label say the unit the numbers are in.
    """
    levels = [abs(v) for v in (r.counterfactual, r.system) if math.isfinite(v)]
    rest = [abs(v) for v in (r.effect, r.ci_low, r.ci_high) if math.isfinite(v)]
    m = max(levels) if any(levels) else max(rest, default=0.0)
    unit, label = r.unit, r.label
    if scale == "share":
        if 0 < m < 0.001:
            return 1000.0, "‰", "‰", f"{unit}, per mille (‰)", label
        return 100.0, "%", " pp", unit, label
    hit = _PER_YEAR.search(unit)
    if hit is None or not (0 < m < 0.01):
        return 1.0, "", "", unit, label
    per = 1_000 if m >= 1e-5 else 100_000
    new = f"per {per:,} {hit.group(1)}-years"
    unit = _PER_YEAR.sub(new, unit)
    label = _PER_YEAR.sub(new, label) if _PER_YEAR.search(label) else f"{label} ({new})"
    return float(per), "", "", unit, label


def format_row(r: Any, scale: Scale) -> dict[str, str]:
    k, arm_unit, eff_unit, unit, label = display_scale(r, scale)
    has_effect = math.isfinite(r.effect)
    cf = r.counterfactual
    if has_effect:
        without = _with_ci(cf * k, math.nan, math.nan, arm_unit)
        with_ = _with_ci(r.system * k, math.nan, math.nan, arm_unit)
        if r.comparison == "ratio":
            effect = "×" + _with_ci(r.effect, r.ci_low, r.ci_high)
        else:
            effect = _with_ci(r.effect * k, r.ci_low * k, r.ci_high * k, eff_unit, True)
        relative = "–"
        if math.isfinite(r.relative):
            if r.comparison == "ratio":
                lo, hi = r.ci_low - 1.0, r.ci_high - 1.0
            else:
                base = abs(cf)
                lo, hi = r.ci_low / base, r.ci_high / base
            relative = _with_ci(100 * r.relative, 100 * lo, 100 * hi, "%", True)
    else:
        without = _with_ci(cf * k, math.nan, math.nan, arm_unit)
        with_ = _with_ci(r.system * k, r.ci_low * k, r.ci_high * k, arm_unit)
        effect = relative = "–"
    return {
        "label": label,
        "kind": r.kind,
        "unit": unit,
        "without": without,
        "with": with_,
        "effect": effect,
        "relative": relative,
        "note": r.note or "",
    }
