"""The scenario language: YAML files validated into ``Scenario`` objects."""

from .loader import (
    ScenarioError,
    ScenarioIssue,
    json_schema,
    list_presets,
    load_scenario,
    preset_path,
    resolved_yaml,
    scenario_hash,
)
from .model import Scenario

__all__ = [
    "Scenario",
    "ScenarioError",
    "ScenarioIssue",
    "json_schema",
    "list_presets",
    "load_scenario",
    "preset_path",
    "resolved_yaml",
    "scenario_hash",
]
