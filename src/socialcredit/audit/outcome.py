"""The outcome type: what an audit measures, and the two ways a formula can decline.

An outcome is a name, whether it measures a stated aim or a harm, a description, a formula
``(Result) -> float`` and how the two arms are compared. A formula raises ``NotModelled`` when
the run lacks what it needs (a metric that a mechanism not in this scenario would produce), and
the audit reports "not modelled in this scenario" instead of failing; it raises ``Undefined``
when the figure exists but is 0/0. Outcomes that depend on the scenario (one per behaviour, one
per minority group) come from *families*: functions of the scenario that return outcomes.
The registry of outcomes is in ``catalogue``.

A formula may return a ``Counted`` (a float that keeps the counts it is made of: a count over
an exposure in years, or a count over a count): the audit then pools the replicates' counts for
exact intervals where the replicates alone cannot give one (``statistics.counts_ci``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from socialcredit.result import Result
    from socialcredit.scenario.model import Scenario

NOT_MODELLED = "not modelled in this scenario"

Kind = Literal["aim", "harm"]
# difference: effect = system - counterfactual, per replicate.
# ratio: effect = system / counterfactual, per replicate.
# within: a comparison inside one arm (a ratio between groups): both arms reported, no effect.
# system: a figure of the system arm only (records, tier moves): no effect.
Comparison = Literal["difference", "ratio", "within", "system"]
# How numbers are shown: shares as percentages (differences of shares in percentage points).
Scale = Literal["number", "share"]


# rate: a count of events per unit of exposure (agent-years, firm-years): Poisson.
# share: a count of successes out of a count of trials (loans refused of loans applied): binomial.
CountKind = Literal["rate", "share"]


class Counted(float):
    """A value ``num / den`` that keeps its parts: ``num`` events over ``den``, of ``kind``.

    It is a float (formulas still return numbers), so anything that reads the value is
    unchanged; the audit reads ``num``, ``den`` and ``kind`` to pool counts over replicates.
    """

    num: float
    den: float
    kind: CountKind

    def __new__(cls, num: float, den: float, kind: CountKind) -> Counted:
        if den == 0:
            raise Undefined("a denominator was zero")
        self = super().__new__(cls, num / den)
        self.num, self.den, self.kind = float(num), float(den), kind
        return self

    def __reduce__(self):
        return (Counted, (self.num, self.den, self.kind))


class NotModelled(LookupError):
    """The run lacks what the outcome needs: the mechanism is not in this scenario."""


class Undefined(ArithmeticError):
    """The outcome exists in this run but has no value (a denominator of zero)."""


@dataclass(frozen=True)
class Outcome:
    """One thing an audit measures.

    ``formula(result)`` returns the outcome of one run (one arm of one replicate); it raises
    NotModelled or Undefined (see the module docstring). ``comparison`` says how the arms are
    compared; ``scale`` only changes how numbers are printed.
    """

    name: str
    kind: Kind
    unit: str
    description: str
    formula: Callable[[Result], float]
    comparison: Comparison = "difference"
    label: str = ""
    scale: Scale = "number"
    # the value without the system where the counterfactual lacks the metric because it lacks
    # the mechanism that makes it (no informants, no map: none of them), or a function of the
    # counterfactual's scenario giving it (trust stays at trust.initial); None: not modelled
    without_system: float | Callable[[Scenario], float] | None = None

    @property
    def title(self) -> str:
        return self.label or self.name


# A family expands into outcomes for one scenario (one per behaviour, one per group, ...).
Family = Callable[["Scenario"], list[Outcome]]
