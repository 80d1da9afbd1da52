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
AUDIT_FILES = ("audit.json", "audit.parquet")  # what makes a folder an audit's
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
    against: Scenario | None = field(default=None, repr=False)  # the other design, if any

    @property
    def arms(self) -> tuple[str, str]:
        """The arms' names: (this design, the other arm: its counterfactual or a design)."""
        arms = self.info.get("arms")
        if arms:
            return arms[0], arms[1]
        return self.scenario.metadata.name, self.scenario.metadata.name + "-counterfactual"

    @property
    def is_design_pair(self) -> bool:
        """Whether the other arm is a design (``--against``), not the counterfactual."""
        return bool(self.info.get("against"))

    def headers(self) -> tuple[str, str]:
        """Column headings of the two arms: (other arm, this arm)."""
        if self.is_design_pair:
            return self.arms[1], self.arms[0]
        return "Without the system", "With the system"

    def modelled(self) -> list[dict[str, str]]:
        """Formatted rows of the outcomes this scenario models (the table's rows)."""
        return [f for f in self.formatted() if not f["note"].startswith(NOT_MODELLED)]

    def not_modelled(self) -> list[str]:
        """Labels of the outcomes this scenario does not model (the table's footnote)."""
        return [f["label"] for f in self.formatted() if f["note"].startswith(NOT_MODELLED)]

    @classmethod
    def open(cls, path: str | Path) -> AuditResult:
        """An audit folder read back: its table, values and outcomes (without formulas), and
        replicate 0's two runs as ``example`` where the folder keeps them (``replicates/``)."""
        from socialcredit.result import open_run
        from socialcredit.scenario import load_scenario

        path = Path(path)
        data = json.loads((path / "audit.json").read_text(encoding="utf-8"))
        table = pd.read_parquet(path / "audit.parquet")
        values = pd.DataFrame(data.get("values") or [])
        outcomes = [
            Outcome(
                o["name"],
                o["kind"],
                o["unit"],
                o.get("description", ""),
                _no_formula,
                comparison=o["comparison"],
                label=o.get("label") or "",
                scale=o.get("scale", "number"),
            )  # fmt: skip
            for o in data.get("outcomes", [])
        ]
        info = {k: v for k, v in data.items() if k not in ("table", "values", "outcomes", "seeds")}
        scenario = load_scenario(path / "scenario.yaml")
        against = (
            load_scenario(path / "against.yaml") if (path / "against.yaml").is_file() else None
        )
        runs = [r for r in info.get("replicate_runs") or [] if r.get("replicate") == 0]
        example = None
        if len(runs) == 2 and all((path / r["path"]).is_dir() for r in runs):
            example = open_run(path / runs[0]["path"])
            example.counterfactual = open_run(path / runs[1]["path"])
        return cls(
            scenario, int(data["replicates"]), list(data["seeds"]), table, values, outcomes,
            info, example, against=against,
        )  # fmt: skip

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

    def title(self) -> str:
        a, b = self.arms
        return f"Audit: {a} against {b}" if self.is_design_pair else f"Audit: {a}"

    def setting(self) -> str:
        """How the arms were made, in a sentence or two."""
        a, b = self.arms
        if self.is_design_pair:
            return (
                f"Each replicate runs {a} and {b} on the same society and the same random "
                f"numbers (the same seed for both). *Effect* is {a} minus {b} (differences of "
                f"shares in percentage points, pp); *relative* is the effect as a share of {b}."
            )
        return (
            "Each replicate runs the scenario and its counterfactual (the same society, the "
            "whole system removed: programmes, channels, informants, lists, the map, budgets, "
            "inspections and corporate credit) on the same random numbers. *Effect* is with "
            "minus without (differences of shares in percentage points, pp); *relative* is the "
            "effect as a share of the counterfactual."
        )

    def to_markdown(self) -> str:
        """A Markdown report: the setting, how to read it, one table row per outcome the
        scenario models, and the outcomes it does not model in one line."""
        sc = self.scenario
        seeds = ", ".join(str(s) for s in self.seeds)
        without, with_ = self.headers()
        lines = [
            f"# {self.title()}",
            "",
            f"{sc.population.agents:,} synthetic agents, {sc.days:,} days, "
            f"{self.replicates} replicate{'s' if self.replicates != 1 else ''} (seeds {seeds}).",
            "",
            self.setting() + " Brackets hold 95% intervals across replicates "
            f"(Student's t, {max(self.replicates - 1, 0)} degrees of freedom): they measure "
            "the model's randomness, not doubt about its assumptions. Where every replicate "
            'gave the same value, the note says "no variation" and the interval is the exact '
            "one of the counts pooled over replicates (Poisson for rates, Clopper-Pearson for "
            "shares), or there is none. For within-run comparisons (ratios between groups) "
            "and system-only figures the interval is that of the value with the system. Small "
            "rates are given per 1,000 or per 100,000 agent-years and small shares in per "
            "mille (‰), as the Unit column says.",
            "",
            f"| Outcome | Kind | Unit | {without} | {with_} | "
            "Effect (95% CI) | Relative change (95% CI) | Note |",
            "|---|---|---|---:|---:|---:|---:|---|",
        ]
        for f in self.modelled():
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
        rest = self.not_modelled()
        if rest:
            lines += ["", f"Not modelled in this scenario: {', '.join(rest)}."]
        return "\n".join(lines) + "\n"

    def rich_table(self, width: int = 100) -> Table:
        """The table as a rich Table, ``width`` columns wide at most (100: the CLI's).

        Relative changes are shown without their intervals, notes as numbered footnotes in
        the caption, and the outcomes the scenario does not model in one line under them.
        """
        from rich.table import Table
        from rich.text import Text

        notes: dict[str, int] = {}
        without, with_ = self.headers()
        a, b = self.arms
        n = self.replicates
        what = f"{a} against {b}" if self.is_design_pair else f"{a}: effect of the system"
        t = Table(
            title=f"Audit of {what}, {n} replicate{'s' if n != 1 else ''}, 95% intervals",
            title_justify="left",
            caption_justify="left",
            padding=(0, 1),
        )
        rows = self.modelled()
        head_b, head_a = (
            (f"B: {_breakable(without)}", f"A: {_breakable(with_)}")
            if self.is_design_pair
            else ("Without", "With")
        )
        w = _widths(rows, (head_b, head_a), width)
        t.add_column("Outcome", width=w[0])
        t.add_column(head_b, justify="right", width=w[1])
        t.add_column(head_a, justify="right", width=w[2])
        effect = "Effect A − B (95% CI)" if self.is_design_pair else "Effect (95% CI)"
        t.add_column(effect, justify="right", width=w[3])
        t.add_column("Relative", justify="right", width=w[4])
        last_kind = None
        for f in rows:
            if f["kind"] != last_kind:
                if last_kind is not None:
                    t.add_section()
                t.add_row(Text("Stated aims" if f["kind"] == "aim" else "Harms", style="bold"))
                last_kind = f["kind"]
            label = f["label"]
            if f["note"]:
                label += f" [{notes.setdefault(f['note'], len(notes) + 1)}]"
            t.add_row(
                Text(label), f["without"], f["with"], f["effect"], f["relative"].split(" (")[0]
            )
        lines = [f"[{k}] {text}" for text, k in notes.items()]
        if self.is_design_pair:
            lines.insert(0, f"A = {a}, B = {b}: the same society and random numbers.")
        rest = self.not_modelled()
        if rest:
            lines.append(f"Not modelled in this scenario: {', '.join(rest)}.")
        if lines:
            t.caption = Text("\n".join(lines))
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
                        "scale": o.scale,
                    }
                    for o in self.outcomes
                ],
                "table": self.table.to_dict(orient="records"),
                "values": self.values.to_dict(orient="records"),
            }
        )

    def save(self, folder: str | Path, report: bool = True) -> Path:
        """Write audit.parquet (the table), audit.json (everything), audit.md, scenario.yaml
        (and against.yaml: the other design, if any) and, with ``report``, report.html (the
        table and a forest plot, then replicate 0's charts) and figures/*.png (forest.png
        and replicate 0's figures). The replicates' run folders (``replicates/``) are written
        as the audit goes (``audit(keep=...)``; the CLI does it)."""
        from socialcredit.atomic import write_text_atomic
        from socialcredit.scenario import resolved_yaml

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.table.to_parquet(folder / "audit.parquet", index=False)
        (folder / "audit.md").write_text(self.to_markdown(), encoding="utf-8")
        (folder / "scenario.yaml").write_text(resolved_yaml(self.scenario), encoding="utf-8")
        if self.against is not None:
            text = resolved_yaml(self.against)
            (folder / "against.yaml").write_text(text, encoding="utf-8")
        if report:
            from socialcredit.audit.page import write_audit_report

            write_audit_report(self, folder)
        # the manifest `socialcredit runs` lists the folder by: written whole, last
        text = json.dumps(self.to_json(), indent=2, allow_nan=False) + "\n"
        write_text_atomic(folder / "audit.json", text)
        from socialcredit.integrity import write_manifest

        write_manifest(folder)  # last: sizes and checksums of the folder's files
        return folder

    def _repr_html_(self) -> str:
        from socialcredit.display import audit_html

        return audit_html(self)


def _widths(rows: list[dict[str, str]], heads: tuple[str, str], width: int) -> list[int]:
    """Widths of the terminal table's columns (outcome, B, A, effect, relative): the numbers
    unbroken where they fit, the outcome's label taking the rest (at least 14)."""

    def longest(key: str, head: str, cap: int) -> int:
        cells = [len(f[key].split(" (")[0] if key == "relative" else f[key]) for f in rows]
        return min(max([*cells, *(len(x) for x in head.split("\n"))]), cap)

    rel = longest("relative", "Relative", 9)
    arm_b = longest("without", heads[0], 12)
    arm_a = longest("with", heads[1], 12)
    effect = longest("effect", "Effect", 30)
    rest = width - 16 - rel - arm_b - arm_a - effect  # 16: borders and padding of 5 columns
    if rest < 14:
        effect = max(effect - (14 - rest), 12)
        rest = max(width - 16 - rel - arm_b - arm_a - effect, 8)
    return [rest, arm_b, arm_a, effect, rel]


def _breakable(name: str, width: int = 11) -> str:
    """A design's name as a column heading: broken after a hyphen where it is long, since a
    terminal wraps headings only at spaces."""
    parts, line = [], ""
    for piece in name.replace("-", "- ").split(" "):
        if line and len(line) + len(piece) > width:
            parts.append(line)
            line = ""
        line += piece
    return "\n".join([*parts, line])


def _no_formula(result: Any) -> float:
    raise RuntimeError("an audit read back from its folder cannot compute its outcomes again")


def is_audit_folder(path: str | Path) -> bool:
    """Whether ``path`` is an audit folder (it has audit.json and audit.parquet)."""
    return all((Path(path) / name).is_file() for name in AUDIT_FILES)


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


def audit_forest(folder) -> tuple:
    """The forest rows of an audit folder and the plot's title (the dashboard's forest)."""
    from socialcredit.audit.page import forest_rows

    result = AuditResult.open(folder)
    a, b = result.arms
    what = f"{a} − {b}" if result.is_design_pair else "with − without the system"
    return forest_rows(result), f"{result.title()}: effects ({what}) with 95% intervals"
