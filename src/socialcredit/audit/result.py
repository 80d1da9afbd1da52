"""What an audit found (``AuditResult``): its table, every replicate's values, and its
renderings (Markdown, a rich table for the terminal, JSON) and saved folder."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from socialcredit.audit.formatting import format_row
from socialcredit.audit.outcome import NOT_MODELLED, Outcome

if TYPE_CHECKING:
    from rich.table import Table

    from socialcredit.scenario.model import Scenario

TABLE_COLUMNS = [
    "outcome",
    "kind",
    "unit",
    "system",
    "counterfactual",
    "effect",
    "ci_low",
    "ci_high",
    "relative",
    "note",
    "comparison",
    "label",
    "replicates_defined",
    "interval",
]
# *_num, *_den: the counts of an outcome made of counts (a Counted), NaN otherwise
VALUE_COLUMNS = [
    "outcome",
    "replicate",
    "seed",
    "system",
    "counterfactual",
    "effect",
    "system_num",
    "system_den",
    "counterfactual_num",
    "counterfactual_den",
]


@dataclass
class AuditResult:
    """What an audit found: one row per outcome in ``table``, every replicate in ``values``.

    ``table`` columns: outcome, kind (aim | harm), unit, system and counterfactual (means over
    replicates of each arm), effect (mean over replicates of system - counterfactual, or of
    system / counterfactual for ratio outcomes; empty for within-arm and system-only
    outcomes), ci_low and ci_high (95% interval of ``effect`` when it is given, else of
    ``system``: Student's t over replicates, or, where the replicates do not vary, exact from
    the counts pooled over them; see docs/audit.md), relative (effect / counterfactual mean, or
    ratio - 1), note, comparison, label, replicates_defined, interval (how the interval was
    made: ``t``, ``pooled counts, exact Poisson``, ``pooled counts, exact binomial``, or empty
    for none). ``values`` has one row per outcome and replicate: outcome, replicate, seed,
    system, counterfactual, effect, and the counts of outcomes made of counts (system_num,
    system_den, counterfactual_num, counterfactual_den; NaN otherwise).
    """

    scenario: Scenario = field(repr=False)
    replicates: int
    seeds: list[int]
    table: pd.DataFrame = field(repr=False)
    values: pd.DataFrame = field(repr=False)
    outcomes: list[Outcome] = field(default_factory=list, repr=False)
    info: dict[str, Any] = field(default_factory=dict)
    example: Any = field(default=None, repr=False)  # replicate 0: Result with .counterfactual

    def row(self, outcome: str) -> pd.Series:
        """The table row of one outcome."""
        hit = self.table[self.table["outcome"] == outcome]
        if hit.empty:
            raise KeyError(outcome)
        return hit.iloc[0]

    # ------------------------------------------------------------------ presentation
    def formatted(self) -> list[dict[str, str]]:
        """Rows of display strings: label, kind, unit, without, with, effect, relative, note."""
        by_name = {o.name: o for o in self.outcomes}
        rows = []
        for r in self.table.itertuples(index=False):
            o = by_name.get(r.outcome)
            rows.append(format_row(r, o.scale if o else "number"))
        return rows

    def to_markdown(self) -> str:
        """A Markdown report: the setting, how to read it, and one table row per outcome."""
        sc = self.scenario
        seeds = ", ".join(str(s) for s in self.seeds)
        lines = [
            f"# Audit: {sc.metadata.name}",
            "",
            f"{sc.population.agents:,} synthetic agents, {sc.days:,} days, "
            f"{self.replicates} replicate{'s' if self.replicates != 1 else ''} (seeds {seeds}).",
            "",
            "Each replicate runs the scenario and its counterfactual (the same society, the "
            "whole system removed: programmes, channels, informants, lists, the map, budgets, "
            "inspections and corporate credit) on the same random numbers. *Effect* is with "
            "minus without "
            "(differences of shares in percentage points, pp); *relative* is the effect as a "
            "share of the counterfactual. Brackets hold 95% intervals across replicates "
            f"(Student's t, {max(self.replicates - 1, 0)} degrees of freedom): they measure "
            "the model's randomness, not doubt about its assumptions. Where every replicate "
            'gave the same value, the note says "no variation" and the interval is the exact '
            "one of the counts pooled over replicates (Poisson for rates, Clopper-Pearson for "
            "shares), or there is none. For within-run comparisons (ratios between groups) "
            "and system-only figures the interval is that of the value with the system. Small "
            "rates are given per 1,000 or per 100,000 agent-years and small shares in per "
            "mille (‰), as the Unit column says.",
            "",
            "| Outcome | Kind | Unit | Without the system | With the system | "
            "Effect (95% CI) | Relative change (95% CI) | Note |",
            "|---|---|---|---:|---:|---:|---:|---|",
        ]
        for f in self.formatted():
            cells = [
                f["label"],
                f["kind"],
                f["unit"],
                f["without"],
                f["with"],
                f["effect"],
                f["relative"],
                f["note"],
            ]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        return "\n".join(lines) + "\n"

    def rich_table(self) -> Table:
        """The table as a rich Table, for the terminal.

        Relative changes are shown without their intervals, and notes as numbered footnotes
        in the caption, so that the table fits a terminal.
        """
        from rich.table import Table
        from rich.text import Text

        notes: dict[str, int] = {}
        t = Table(
            title=f"Audit of {self.scenario.metadata.name}: effect of the system, "
            f"{self.replicates} replicate{'s' if self.replicates != 1 else ''}, 95% intervals",
            title_justify="left",
            caption_justify="left",
        )
        t.add_column("Outcome", ratio=1, min_width=14)
        t.add_column("Without", justify="right", no_wrap=True)
        t.add_column("With", justify="right")
        t.add_column("Effect (95% CI)", justify="right")
        t.add_column("Relative", justify="right")
        last_kind = None
        for f in self.formatted():
            if f["kind"] != last_kind:
                if last_kind is not None:
                    t.add_section()
                t.add_row(Text("Stated aims" if f["kind"] == "aim" else "Harms", style="bold"))
                last_kind = f["kind"]
            label = f["label"]
            if f["note"]:
                label += f" [{notes.setdefault(f['note'], len(notes) + 1)}]"
            t.add_row(
                Text(label),
                f["without"],
                f["with"],
                f["effect"],
                f["relative"].split(" (")[0],
                style="dim" if f["note"].startswith(NOT_MODELLED) else None,
            )
        if notes:
            t.caption = Text("\n".join(f"[{n}] {text}" for text, n in notes.items()))
        return t

    def to_json(self) -> dict[str, Any]:
        """Everything in plain JSON types (NaN as null)."""
        return _clean(
            {
                **self.info,
                "scenario_name": self.scenario.metadata.name,
                "replicates": self.replicates,
                "seeds": list(self.seeds),
                "outcomes": [
                    {
                        "name": o.name,
                        "label": o.title,
                        "kind": o.kind,
                        "unit": o.unit,
                        "comparison": o.comparison,
                        "description": o.description,
                    }
                    for o in self.outcomes
                ],
                "table": self.table.to_dict(orient="records"),
                "values": self.values.to_dict(orient="records"),
            }
        )

    def save(self, folder: str | Path, report: bool = True) -> Path:
        """Write audit.parquet (the table), audit.json (everything), audit.md, scenario.yaml
        and, with ``report``, the HTML report and figures of replicate 0 against its
        counterfactual (report.html, figures/*.png)."""
        from socialcredit.atomic import write_text_atomic
        from socialcredit.scenario import resolved_yaml

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.table.to_parquet(folder / "audit.parquet", index=False)
        (folder / "audit.md").write_text(self.to_markdown(), encoding="utf-8")
        (folder / "scenario.yaml").write_text(resolved_yaml(self.scenario), encoding="utf-8")
        # the manifest `socialcredit runs` lists the folder by: written whole
        text = json.dumps(self.to_json(), indent=2, allow_nan=False) + "\n"
        write_text_atomic(folder / "audit.json", text)
        if report and self.example is not None:
            from socialcredit.report.figures import FIGURES_DIR, figure_data, write_pngs
            from socialcredit.report.html import REPORT_FILE, write_report

            data = figure_data(self.example, self.example.counterfactual)
            write_report(self.example, folder / REPORT_FILE, self.example.counterfactual, data=data)
            write_pngs(data, folder / FIGURES_DIR)
        from socialcredit.integrity import write_manifest

        write_manifest(folder)  # last: sizes and checksums of the folder's files
        return folder


def _clean(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if x is pd.NA or x is pd.NaT:
        return None
    return x
