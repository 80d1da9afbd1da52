"""Audits: a scenario against its counterfactual, over replicate seeds, with 95% intervals.

``audit(scenario, replicates)`` returns an ``AuditResult`` (a tidy table, per-replicate values,
Markdown and rich renderings, ``save``). Outcomes live in a registry (``OUTCOMES``; add one with
``register``); docs/audit.md defines each. Names are imported lazily, so that registering the
``audit`` command on the CLI does not load pandas or JAX.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = [
    "NOT_MODELLED",
    "OUTCOMES",
    "AuditResult",
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
    from socialcredit.audit.cli import audit_command
    from socialcredit.audit.core import (
        NOT_MODELLED,
        OUTCOMES,
        AuditResult,
        MetricView,
        NotModelled,
        Outcome,
        Undefined,
        audit,
        gini,
        mean_ci,
        outcomes_for,
        register,
        replicate_seeds,
        t975,
        view,
    )


def __getattr__(name: str):
    if name in __all__:
        import importlib

        module = "socialcredit.audit.cli" if name == "audit_command" else "socialcredit.audit.core"
        return getattr(importlib.import_module(module), name)
    raise AttributeError(f"module 'socialcredit.audit' has no attribute {name!r}")
