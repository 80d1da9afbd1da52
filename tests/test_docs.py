"""The docs define everything a run emits and everything an audit reports.

Every metric name in the golden runs of every preset (tests/golden_digest.py: the same runs the
golden test makes, so this costs nothing more) appears in docs/metrics.md, and every audit
outcome of every preset appears in docs/audit.md. A name with a part that varies per scenario
(`acts.speech`, `disparate.score_gap.uyghur`) is documented by its pattern (`acts.<behaviour>`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from golden_digest import golden_run

from socialcredit.audit import outcomes_for
from socialcredit.scenario import list_presets

DOCS = Path(__file__).resolve().parents[1] / "docs"
PRESETS = sorted(name for name, _ in list_presets())


def documented(doc: str) -> set[str]:
    """Names in backticks, each as a pattern: a `<...>` part stands for one part of a dotted
    name. A bare placeholder (`<x>` in a formula) documents nothing."""
    found = set(re.findall(r"`([A-Za-z0-9_.<>{},]+)`", doc))
    return {m for m in found if re.sub(r"<[^>]*>", "", m).strip(".")}


def is_documented(name: str, names: set[str]) -> bool:
    if name in names:
        return True
    for pattern in names:
        if "<" not in pattern:
            continue
        regex = re.escape(pattern)
        regex = re.sub(r"<[^>]*>", r"[^.]+", regex)
        if re.fullmatch(regex, name):
            return True
    return False


def undocumented(emitted: set[str], doc_file: str) -> list[str]:
    names = documented((DOCS / doc_file).read_text())
    return sorted(n for n in emitted if not is_documented(n, names))


@pytest.mark.parametrize("name", PRESETS)
def test_every_metric_is_in_docs_metrics(name):
    r = golden_run(name)
    emitted = set(r.metrics["metric"].unique())
    if r.org_metrics is not None:
        emitted |= set(r.org_metrics["metric"].unique())
    missing = undocumented(emitted, "metrics.md")
    assert not missing, f"{name}: add these metrics to docs/metrics.md: {missing}"


@pytest.mark.parametrize("name", PRESETS)
def test_every_audit_outcome_is_in_docs_audit(name):
    emitted = {o.name for o in outcomes_for(golden_run(name).scenario)}
    missing = undocumented(emitted, "audit.md")
    assert not missing, f"{name}: add these outcomes to docs/audit.md: {missing}"


def test_the_pattern_matching_is_not_vacuous():
    names = documented("`acts.<behaviour>`, `listed` and `<x>`")
    assert is_documented("acts.speech", names) and is_documented("listed", names)
    assert not is_documented("appeals_upheld", names)
    assert not is_documented("records.speech", names)
    assert not is_documented("acts.speech.more", names)
