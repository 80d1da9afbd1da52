"""Numbers of an audit table as text: values to the precision their intervals allow,
shares as percentages, effects on shares in percentage points."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from socialcredit.audit.outcome import Scale

MINUS = "\u2212"


def _decimals(value: float, half: float, sig: int = 3) -> int:
    """Decimals showing the interval's first significant digit and two of the value."""
    d = 0
    scale = abs(value) if math.isfinite(value) and value else 1.0
    if math.isfinite(half) and half > 1e-9 * scale:  # below that it is rounding noise
        d = max(d, -math.floor(math.log10(half)))
        if value and math.isfinite(value):
            d = max(d, 1 - math.floor(math.log10(abs(value))))
    elif value and math.isfinite(value):
        d = max(d, sig - 1 - math.floor(math.log10(abs(value))))
    return min(d, 8)


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
    d = _decimals(x, half)
    text = _fmt(x, d, unit, signed)
    if math.isfinite(half):
        text += f" ({_fmt(lo, d, unit, signed)} to {_fmt(hi, d, unit, signed)})"
    return text


def format_row(r: Any, scale: Scale) -> dict[str, str]:
    share = scale == "share"
    k = 100.0 if share else 1.0
    arm_unit = "%" if share else ""
    has_effect = math.isfinite(r.effect)
    cf = r.counterfactual
    if has_effect:
        without = _with_ci(cf * k, math.nan, math.nan, arm_unit)
        with_ = _with_ci(r.system * k, math.nan, math.nan, arm_unit)
        if r.comparison == "ratio":
            effect = "×" + _with_ci(r.effect, r.ci_low, r.ci_high)
        else:
            effect = _with_ci(
                r.effect * k, r.ci_low * k, r.ci_high * k, " pp" if share else "", True
            )
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
        "label": r.label,
        "kind": r.kind,
        "unit": r.unit,
        "without": without,
        "with": with_,
        "effect": effect,
        "relative": relative,
        "note": r.note or "",
    }
