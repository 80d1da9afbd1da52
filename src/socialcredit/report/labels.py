"""Plain labels for the summary numbers of a run (the dotted paths of summary.json).

A summary number that an audit outcome also measures takes that outcome's label from the
audit registry (``socialcredit.audit.catalogue``), so a report and an audit name the same
figure the same way: ``records_per_agent_year`` is "Records per agent-year",
``acts_per_agent_year.littering`` is "Littering acts per agent-year". The others (tier shares,
listed shares, mean scores per jurisdiction, ...) are spelled out from their path. The dotted
path stays available as the ``field`` (docs/metrics.md defines every one).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from socialcredit.scenario.model import Scenario

# summary.json path -> the audit outcome that measures the same number
SAME_AS_OUTCOME = {
    "records_per_agent_year": "records",
    "false_record_share": "false_record_share",
    "loan_refusal_rate": "loan_refusal_rate",
    "trips_blocked_rate": "trips_blocked_rate",
}
ACT_FAMILIES = ("misconduct", "chilling", "prosocial")  # outcome name prefixes per behaviour
FIXED = {
    "mean_risk": "Mean perceived risk of sanction",
    "mean_wealth": "Mean wealth (median annual incomes)",
}
PER_JURISDICTION = {
    "listed_share": "share listed",
    "sanctioned_share": "sanctioned per agent-day",
}
ACROSS_STATS = {"mean": "mean", "sd": "standard deviation", "min": "lowest", "max": "highest"}


def _words(text: str) -> str:
    return text.replace("_", " ")


@lru_cache(maxsize=32)
def _outcome_labels(scenario_json: str) -> dict[str, str]:
    from socialcredit.audit.catalogue import outcomes_for
    from socialcredit.scenario.model import Scenario

    scenario = Scenario.model_validate_json(scenario_json)
    return {o.name: o.label for o in outcomes_for(scenario) if getattr(o, "label", None)}


def outcome_labels(scenario: Scenario | None) -> dict[str, str]:
    """Audit outcome name -> its label, for the outcomes an audit of ``scenario`` reports."""
    if scenario is None:
        return {}
    return _outcome_labels(scenario.model_dump_json())


def summary_label(key: str, scenario: Scenario | None = None) -> str:
    """The plain label of a summary number (its dotted summary.json path ``key``)."""
    labels = outcome_labels(scenario)
    if key in SAME_AS_OUTCOME and SAME_AS_OUTCOME[key] in labels:
        return labels[SAME_AS_OUTCOME[key]]
    if key in FIXED:
        return FIXED[key]
    parts = key.split(".")
    if parts[0] == "acts_per_agent_year" and len(parts) == 2:
        for family in ACT_FAMILIES:
            if f"{family}.{parts[1]}" in labels:
                return labels[f"{family}.{parts[1]}"]
        return f"{_words(parts[1]).capitalize()} acts per agent-year"
    if parts[0] == "jurisdictions" and len(parts) >= 3:
        j, rest = parts[1], parts[2:]
        if rest[0] == "tier_shares" and len(rest) == 2:
            return f"{j}: share in tier {rest[1]}"
        if rest[0] == "mean_score_by_group" and len(rest) == 2:
            return f"{j}: mean score, {_words(rest[1])}"
        if rest[0] in PER_JURISDICTION and len(rest) == 1:
            return f"{j}: {PER_JURISDICTION[rest[0]]}"
        if rest[0] == "budget" and len(rest) == 2:
            return f"{j}: budget, {_words(rest[1])}"
        return f"{j}: " + ", ".join(_words(p) for p in rest)
    if parts[0] == "across_jurisdictions" and len(parts) == 3:
        what = PER_JURISDICTION.get(parts[1], _words(parts[1]))
        return f"Across jurisdictions: {what}, {ACROSS_STATS.get(parts[2], parts[2])}"
    return ", ".join(_words(p) for p in parts).capitalize()


def summary_labels(keys: list[str], scenario: Scenario | None = None) -> dict[str, str]:
    """Key -> label; a label two keys would share keeps its key in brackets, so rows stay
    apart."""
    out = {k: summary_label(k, scenario) for k in keys}
    seen: dict[str, int] = {}
    for label in out.values():
        seen[label] = seen.get(label, 0) + 1
    return {k: (f"{v} [{k}]" if seen[v] > 1 else v) for k, v in out.items()}
