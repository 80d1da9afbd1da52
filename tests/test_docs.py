"""The docs define everything a run emits and everything an audit reports.

Every metric name in the golden runs of every preset (tests/golden_digest.py: the same runs the
golden test makes, so this costs nothing more) appears in docs/metrics.md, and every audit
outcome of every preset appears in docs/audit.md, whose outcome tables are made from the
registry (tests/outcome_docs.py) and carry each outcome's unit and definition. A name with a part that varies per scenario
(`acts.speech`, `disparate.score_gap.uyghur`) is documented by its pattern (`acts.<behaviour>`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from golden_digest import golden_run

from socialcredit.audit import outcomes_for
from socialcredit.audit.catalogue import doc_rows
from socialcredit.scenario import list_presets, load_scenario

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


def test_the_outcome_tables_of_docs_audit_are_the_registry():
    """docs/audit.md's outcome tables say what the code computes: they are made from the
    registry's units, comparisons and descriptions (tests/outcome_docs.py --write)."""
    from outcome_docs import DOC, expected, tables

    doc = DOC.read_text(encoding="utf-8")
    assert doc == expected(doc), (
        "docs/audit.md is out of date: python tests/outcome_docs.py --write"
    )
    made = tables()
    for r in doc_rows():  # every registered outcome with its unit and its definition
        line = next(x for x in made.splitlines() if x.startswith(f"| `{r['names'][0]}`"))
        assert f"| {r['unit']} |" in line and r["description"].replace("|", "\\|") in line


def test_every_outcome_of_every_preset_has_its_unit_in_docs_audit():
    doc = (DOCS / "audit.md").read_text(encoding="utf-8")
    rows = {}
    for line in doc.splitlines():
        if line.startswith("| `"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            for name in re.findall(r"`([^`]+)`", cells[0]):
                rows[name] = cells[1]
    for name in PRESETS:
        for o in outcomes_for(load_scenario(name)):
            unit = next(u for n, u in rows.items() if is_documented(o.name, {n}) or n == o.name)
            assert unit == o.unit, (name, o.name, unit, o.unit)


def test_the_pattern_matching_is_not_vacuous():
    names = documented("`acts.<behaviour>`, `listed` and `<x>`")
    assert is_documented("acts.speech", names) and is_documented("listed", names)
    assert not is_documented("appeals_upheld", names)
    assert not is_documented("records.speech", names)
    assert not is_documented("acts.speech.more", names)
