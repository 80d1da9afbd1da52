"""Sums of a run's tidy metrics that several mechanism tests read."""

from __future__ import annotations


def total(metrics, name, group=None):
    q = metrics[metrics["metric"] == name]
    if group is not None:
        q = q[q["group"] == group]
    return float(q["value"].sum())


def last(metrics, name, group=None):
    q = metrics[(metrics["metric"] == name) & (metrics["day"] == metrics["day"].max())]
    if group is not None:
        q = q[q["group"] == group]
    return float(q["value"].sum())


def rate(metrics, name, group):
    """Events per agent-day in a group."""
    return total(metrics, name, group) / total(metrics, "agents", group)


def daily(metrics, name):
    return metrics[metrics["metric"] == name].groupby("day")["value"].sum()
