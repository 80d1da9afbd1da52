"""The scenario language's layout: sections in modules that import one way, rules beside their
sections in a fixed order, one helper for unknown names, and every public name where it was."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

import socialcredit.scenario.model as model
import socialcredit.scenario.orgs as orgs
from socialcredit.scenario import ScenarioError
from socialcredit.scenario.loader import parse_scenario
from socialcredit.scenario.rules import Defined, duplicate_names, sum_to_one

PACKAGE = Path(model.__file__).parent
BASE = Path(__file__).parent / "corpus" / "_valid_base.yaml"


def _module_imports() -> dict[str, set[str]]:
    """Module -> the modules of the scenario package it imports (at any depth)."""
    out: dict[str, set[str]] = {}
    for path in PACKAGE.glob("*.py"):
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                found.add(node.module or "__init__")
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "socialcredit.scenario."
            ):
                found.add(node.module.rsplit(".", 1)[1])
        out[path.stem] = found
    return out


def test_scenario_modules_import_one_way():
    imports = _module_imports()
    assert imports["types"] == set() and imports["rules"] == set()
    for section in ("population", "programme", "orgs"):
        assert imports[section] <= {"types", "rules", "population"}, (section, imports[section])

    def visit(mod: str, stack: tuple[str, ...]) -> None:
        assert mod not in stack, f"import cycle: {' -> '.join(stack + (mod,))}"
        for dep in imports.get(mod, ()):
            visit(dep, stack + (mod,))

    for mod in imports:
        visit(mod, ())


# Names that code outside the package imports, or did before the split, from each module.
MODEL_NAMES = """
    Scenario tier_floors Strict Probability NonNegFloat Identifier Slug Score MAX_AGENTS MAX_DAYS
    NAME_RE Source UncertainFigure Metadata Group Lognormal Contacts Households Population
    Jurisdiction Behaviour Channel Tier Repayment Blacklist Repair Consequence Appeals Budget
    Programme TargetedReward Informants Trust Economy Response DeadbeatMap Record Organisations
    org_issues
""".split()
ORGS_NAMES = """
    OrgAct ORG_ACTS INSTITUTION_ACTS Context CONTEXTS Sanction SANCTIONS FINDABLE Sector
    FirmTraits Market InstitutionTraits Inspections Grade CorporateList Memorandum RedList
    OwnerSanction Rule Corporate Organisations org_issues MAX_DAYS Identifier NonNegFloat
    Probability Score Strict
""".split()


@pytest.mark.parametrize(("module", "name"), [(model, n) for n in MODEL_NAMES])
def test_model_keeps_its_names(module, name):
    assert hasattr(module, name)


@pytest.mark.parametrize(("module", "name"), [(orgs, n) for n in ORGS_NAMES])
def test_orgs_keeps_its_names(module, name):
    assert hasattr(module, name)


def test_unknown_name_helper():
    behaviours = Defined("behaviour", ["littering", "fraud"])
    assert behaviours.check(("a",), "fraud") == []
    assert behaviours.check(("a",), "theft") == [
        (("a",), "theft", "unknown behaviour 'theft'; defined: ['littering', 'fraud']")
    ]
    assert behaviours.check_keys(("p",), {"fraud": 1, "x": 2}) == [
        (("p", "x"), "x", "unknown behaviour 'x'; defined: ['littering', 'fraud']")
    ]
    assert [i[0] for i in behaviours.check_items(("l",), ["x", "fraud", "y"])] == [
        ("l", 0),
        ("l", 2),
    ]
    assert Defined("programme", [], none="none").check((), "p")[0][2] == (
        "unknown programme 'p'; defined: none"
    )
    assert Defined("channel", []).check((), "c", " (a hint)")[0][2] == (
        "unknown channel 'c'; defined: [] (a hint)"
    )
    tiers = Defined("tier", ["A", "B"])
    assert tiers.check((), "listed", also="listed") == []
    assert tiers.check((), "Q", also="listed")[0][2] == (
        "unknown tier 'Q'; use one of ['A', 'B'] or 'listed'"
    )


def test_shared_rule_helpers():
    assert duplicate_names(("g",), ["a", "b", "a", "a"], "group") == [
        (("g", 2, "name"), "a", "duplicate group name 'a'"),
        (("g", 3, "name"), "a", "duplicate group name 'a'"),
    ]
    assert sum_to_one(("g",), [0.5, 0.5], "group shares") == []
    assert sum_to_one(("g",), [0.5, 0.2], "group shares") == [
        (("g",), [0.5, 0.2], "group shares sum to 0.7; they must sum to 1")
    ]


def test_issues_on_one_line_keep_their_order():
    """The loader sorts issues by line; on one line (a file in flow style) they come in the order
    the sections' rules run, which the split into sections kept as it was."""
    d = yaml.safe_load(BASE.read_text())
    d["population"]["agents"] = 4
    d["population"]["groups"][1]["name"] = "majority"
    d["population"]["groups"][0]["rate_factors"] = {"nope": 1.0}
    d["jurisdictions"][0]["share"] = 0.5
    d["jurisdictions"][1]["programme"] = "nowhere"
    d["behaviours"].append({"name": "littering", "base_rate": 0.001})
    d["behaviours"][3]["base_rate"] = 0.5
    d["channels"][0]["name"] = "informants"
    d["channels"][1]["coverage"]["zz"] = 0.5
    d["programmes"]["points"]["points"]["zz"] = 3
    d["response"]["strategic_reporting"] = 1.0
    text = yaml.safe_dump(d, sort_keys=False, default_flow_style=True, width=10**9)
    assert text.count("\n") == 1
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "flow.yaml")
    issues = info.value.issues
    assert all(i.line == 1 for i in issues)
    assert [i.path for i in issues] == [
        "population.groups.1.name",
        "jurisdictions",
        "behaviours.4.name",
        "population.contacts.degree",
        "behaviours",
        "population.groups.0.rate_factors.nope",
        "channels.0.name",
        "jurisdictions.1.programme",
        "channels.1.coverage.zz",
        "programmes.points.points.zz",
        "programmes.points.channels.0",
        "response.strategic_reporting",
    ]
