"""Audits: a scenario against its counterfactual, over replicate seeds, with 95% intervals.

``audit(scenario, replicates)`` returns an ``AuditResult`` (a tidy table, per-replicate values,
Markdown and rich renderings, ``save``). Outcomes live in a registry (``OUTCOMES``; add one with
``register``); docs/audit.md defines each. Names are imported lazily, so that registering the
``audit`` command on the CLI does not load pandas or JAX.

Modules: ``outcome`` (the Outcome type, NotModelled, Undefined), ``formulas`` (MetricView and
the formula builders), ``catalogue`` (the registry and every outcome), ``statistics`` (seeds,
intervals), ``runner`` (``audit``), ``result`` (AuditResult), ``formatting`` (numbers as text),
``cli`` (the command).
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING

__all__ = [
    "NOT_MODELLED",
    "OUTCOMES",
    "AuditResult",
    "Counted",
    "MetricView",
    "NotModelled",
    "Outcome",
    "Undefined",
    "audit",
    "audit_command",
    "gini",
    "mean_ci",
    "outcomes_for",
    "register",
    "replicate_seeds",
    "t975",
    "view",
]

if TYPE_CHECKING:  # pragma: no cover
    from socialcredit.audit.catalogue import OUTCOMES, outcomes_for, register
    from socialcredit.audit.cli import audit_command
    from socialcredit.audit.formulas import MetricView, gini, view
    from socialcredit.audit.outcome import NOT_MODELLED, Counted, NotModelled, Outcome, Undefined
    from socialcredit.audit.result import AuditResult
    from socialcredit.audit.runner import audit
    from socialcredit.audit.statistics import mean_ci, replicate_seeds, t975

# name -> module of this package (the layout: docs/audit.md, "Where things are")
_WHERE = {
    "NOT_MODELLED": "outcome",
    "NotModelled": "outcome",
    "Counted": "outcome",
    "Outcome": "outcome",
    "Undefined": "outcome",
    "OUTCOMES": "catalogue",
    "outcomes_for": "catalogue",
    "register": "catalogue",
    "MetricView": "formulas",
    "gini": "formulas",
    "view": "formulas",
    "mean_ci": "statistics",
    "replicate_seeds": "statistics",
    "t975": "statistics",
    "AuditResult": "result",
    "audit": "runner",
    "audit_command": "cli",
}


def __getattr__(name: str):
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f"socialcredit.audit.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'socialcredit.audit' has no attribute {name!r}")


class _AuditModule(types.ModuleType):
    """This package, callable as its own ``audit`` function: ``socialcredit.audit`` is both the
    package and the top-level name ``sc.audit`` (issue 16), and once the package is imported
    Python binds the name to the package, so calling it must run an audit."""

    def __call__(self, *args, **kwargs):
        from socialcredit.audit.runner import audit

        return audit(*args, **kwargs)


sys.modules[__name__].__class__ = _AuditModule
