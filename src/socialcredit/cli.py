"""The command line: run scenarios, check and inspect them, list saved runs.

Errors in a scenario (a bad field, a bad ``--set``, a missing file) exit with code 2 and the
loader's located messages; so do arguments that cannot be honoured (``--devices`` beyond what
JAX sees, an empty ``--out``, a population beyond this machine's memory), all checked before
the run is recorded, so they leave no run folder and no trace in `socialcredit runs`. A run that
fails while simulating or saving exits with code 1 and is listed as 'failed' (its marker in
``<out>/.started/``). Neither prints a traceback.

``socialcredit.api`` (and with it the JIT machinery) is imported only inside ``run``.
"""

from __future__ import annotations

import inspect
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.progress import ProgressColumn, Task
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from socialcredit import __version__
from socialcredit.console import (
    capped_console,
    command_overrides,
    one_line,
    output_path,
    plain_console,
    print_error,
    progress_bar,
    run_path,
)
from socialcredit.scenario import (
    ScenarioError,
    json_schema,
    list_presets,
    load_scenario,
    resolved_yaml,
    scenario_hash,
)
from socialcredit.units import DAYS_PER_YEAR

if TYPE_CHECKING:
    import pandas as pd

    from socialcredit.result import Result
    from socialcredit.scenario import Scenario


class HelpGroup(TyperGroup):
    """The command group, with help that reads well in 80 columns: boolean options show as
    plain flags (typer writes ``<bool>`` after them), and each command's line in the list of
    commands is its first paragraph joined into one, however its docstring breaks lines.

    Both are set on the commands as they are looked up, so a command registered anywhere
    (audit/cli.py, report/cli.py, a new one) gets them without doing anything."""

    def get_params(self, ctx):  # noqa: ANN001, ANN201  (click's signature)
        return _plain_flags(super().get_params(ctx))

    def get_command(self, ctx, cmd_name):  # noqa: ANN001, ANN201
        cmd = super().get_command(ctx, cmd_name)
        if cmd is not None:
            _plain_flags(cmd.get_params(ctx))
            if cmd.short_help is None and cmd.help:
                first = inspect.cleandoc(cmd.help).partition("\f")[0].split("\n\n")[0]
                cmd.short_help = " ".join(first.split())
        return cmd


def _plain_flags(params: list) -> list:
    """Flags (``--quiet``, ``--json``, ``--help``) with an empty type column in the help."""
    for p in params:
        if getattr(p, "is_flag", False) and getattr(p, "metavar", "") is None:
            p.metavar = ""
    return params


app = typer.Typer(
    name="socialcredit",
    cls=HelpGroup,
    help="Simulate a social credit system on a synthetic population and measure what it does.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

MAX_WIDTH = 100

out = capped_console(MAX_WIDTH)
err = plain_console(MAX_WIDTH)


@contextmanager
def _scenario_errors() -> Iterator[None]:
    """Any ScenarioError becomes its text on stderr and exit code 2."""
    try:
        yield
    except ScenarioError as e:
        print_error(str(e))
        raise typer.Exit(2) from None


# ----------------------------------------------------------------------------- formatting


def _pct(x: float) -> str:
    if x == 0:
        return "0%"
    if abs(x) < 0.0005:
        return "<0.1%" if x > 0 else ">-0.1%"
    return f"{100 * x:.1f}%"


def _num(x: float) -> str:
    """Three significant figures, without exponent for everyday magnitudes."""
    if x == 0:
        return "0"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def _si(x: float) -> str:
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.3g} {unit}"
    return f"{x:.3g}"


def _seconds(s: float) -> str:
    if s < 60:
        return f"{s:.1f} s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{int(m)} min {s:.0f} s"
    h, m = divmod(m, 60)
    return f"{int(h)} h {int(m)} min"


class AgentDaysColumn(ProgressColumn):
    """Agent-days simulated per second.

    Uses rich's sampled speed once there are two progress updates (so the first chunk's
    compilation does not drag the figure down for the rest of the run), and the elapsed time
    before that.
    """

    def __init__(self, agents: int) -> None:
        super().__init__()
        self.agents = agents

    def render(self, task: Task) -> Text:
        speed = task.speed
        if speed is None and task.completed and task.elapsed:
            speed = task.completed / task.elapsed
        if not speed:
            return Text("– agent-days/s", style="progress.data.speed")
        return Text(f"{_si(speed * self.agents)} agent-days/s", style="progress.data.speed")


# ----------------------------------------------------------------------------- options

AgentsOpt = Annotated[
    int | None, typer.Option("--agents", help="Population size (sets population.agents).")
]
DaysOpt = Annotated[int | None, typer.Option("--days", help="Days to simulate.")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Random seed.")]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="PATH=VALUE",
        help="Override one field, e.g. --set response.model=fixed (value parsed as YAML; "
        "repeatable).",
    ),
]
RunsDirOpt = Annotated[
    Path,
    typer.Option(
        "--out",
        parser=output_path,
        metavar="PATH",
        help="Folder holding run folders (listed by `socialcredit runs`).",
    ),
]


def _version(value: bool) -> None:
    if value:
        print(f"socialcredit {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Simulate a social credit system on a synthetic population and measure what it does."""


# ----------------------------------------------------------------------------- run


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="Preset name or scenario YAML file.")],
    agents: AgentsOpt = None,
    days: DaysOpt = None,
    seed: SeedOpt = None,
    set_: SetOpt = None,
    out_dir: RunsDirOpt = Path("runs"),
    chunk_days: Annotated[
        int | None,
        typer.Option(
            "--chunk-days",
            min=1,
            help="Days per compiled chunk (default: automatic; at most the run's days).",
        ),
    ] = None,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="No progress bar or summary; print the run folder."),
    ] = False,
    devices: Annotated[
        int | None,
        typer.Option(
            "--devices",
            min=1,
            help="Shard the agents over this many devices (default: every device JAX sees).",
        ),
    ] = None,
) -> None:
    """Simulate a scenario, save the run folder under --out, and print a summary.

    Examples:
      socialcredit run rongcheng
      socialcredit run rongcheng --agents 100000 --days 180 --seed 7
      socialcredit run my.yaml --set response.model=fixed --out runs
      socialcredit run no-system --agents 100000 --days 180 --seed 7
    """
    with _scenario_errors():
        sc = load_scenario(scenario, list(set_ or []), agents=agents, days=days, seed=seed)
    from socialcredit.memory import MemoryTooSmall, check_fits  # imports JAX

    _check_devices(devices)  # before anything is recorded; JAX is loaded by now anyway
    try:
        check_fits(sc.population.agents, devices=devices, scenario=sc)
    except MemoryTooSmall as e:  # an input this machine cannot take: say so before starting
        print_error(f"error: {e}")
        raise typer.Exit(2) from None

    from socialcredit.store import record_start

    info: dict[str, Any] = {
        "scenario_name": sc.metadata.name,
        "scenario_hash": scenario_hash(sc),
        "seed": sc.seed,
        "version": __version__,
        "agents": sc.population.agents,
        "days": sc.days,
        "overrides": command_overrides(set_, agents=agents, days=days, seed=seed),
    }
    try:
        run_id = record_start(out_dir, info)
    except Exception as e:  # an unwritable folder, ...
        print_error(f"error: cannot record the run in {out_dir}: {one_line(e)}")
        raise typer.Exit(1) from None

    agent_days = sc.population.agents * sc.days
    if not quiet:
        out.print(
            f"[bold]{escape(sc.metadata.name)}[/]: {sc.population.agents:,} agents × {sc.days:,} days, "
            f"seed {sc.seed} → run [cyan]{run_id}[/]",
            highlight=False,
            soft_wrap=True,
        )

    t0 = time.perf_counter()
    clock = ChunkClock()
    try:
        result = _simulate(sc, chunk_days, quiet, devices, clock)
        t_sim = time.perf_counter() - t0
        result.info["run_id"] = run_id
        result.info["overrides"] = info["overrides"]
        folder = result.save(out_dir)
    except KeyboardInterrupt:
        _end_failed(out_dir, run_id, "interrupted")
        print_error("interrupted; the run is listed as failed")
        raise typer.Exit(130) from None
    except ScenarioError as e:  # a problem only compiling the scenario could find
        _end_failed(out_dir, run_id, str(e))
        print_error(str(e))
        raise typer.Exit(2) from None
    except Exception as e:
        _end_failed(out_dir, run_id, f"{type(e).__name__}: {e}")
        print_error(f"error: run {run_id} failed: {one_line(e)}")
        raise typer.Exit(1) from None
    wall = time.perf_counter() - t0

    if quiet:
        print(folder)
        return
    _print_summary(result, folder, wall=wall, t_sim=t_sim, agent_days=agent_days, clock=clock)


def _check_devices(devices: int | None) -> None:
    """Refuse ``--devices`` beyond what JAX sees (exit 2), before the run is recorded."""
    if devices is None:
        return
    import jax

    try:
        seen = jax.devices()
    except RuntimeError:  # no usable backend: the run itself fails, is recorded and says why
        return
    if devices > len(seen):
        kind = seen[0].platform
        print_error(
            f"error: --devices {devices}: JAX sees {len(seen)} {kind} device"
            f"{'s' if len(seen) != 1 else ''} here; use --devices {len(seen)} or fewer, "
            "or leave --devices out to use every device"
        )
        raise typer.Exit(2)


def _end_failed(root: Path, run_id: str, error: str) -> None:
    from socialcredit.store import record_end

    try:
        record_end(root, run_id, "failed", error=error)
    except Exception as e:  # the folder is unwritable now: say so, keep the first error
        print_error(f"warning: could not list run {run_id} as failed: {one_line(e)}")


def _simulate(
    sc: Scenario, chunk_days: int | None, quiet: bool, devices: int | None, clock: ChunkClock
) -> Result:
    from socialcredit.api import simulate
    from socialcredit.jit_cache import enable_compile_cache

    enable_compile_cache()  # a second run of the same shape loads the compiled day
    if quiet:
        return simulate(sc, chunk_days=chunk_days, devices=devices)
    progress = progress_bar("days", AgentDaysColumn(sc.population.agents), max_width=MAX_WIDTH)
    with progress:
        # The first chunk includes JIT compilation, which can take longer than the run itself.
        task = progress.add_task("compiling", total=sc.days)

        def on_progress(done: int, total: int) -> None:
            clock.mark(done)
            progress.update(task, completed=done, total=total, description="simulating")

        clock.start()
        result = simulate(sc, chunk_days=chunk_days, progress=on_progress, devices=devices)
        progress.update(task, completed=sc.days, description="done")
    return result


def _short_seconds(s: float) -> str:
    return f"{s * 1000:.0f} ms" if s < 1 else _seconds(s)


class ChunkClock:
    """When each chunk of days finished (``time.perf_counter()``), to tell the first chunk,
    which compiles, from the steady state after it. The engine calls back after each chunk has
    reached the host, so the marks are real times, not dispatch times."""

    def __init__(self) -> None:
        self.t0: float | None = None
        self.marks: list[tuple[int, float]] = []  # (days done, time)

    def start(self, t: float | None = None) -> None:
        self.t0 = time.perf_counter() if t is None else t

    def mark(self, days_done: int, t: float | None = None) -> None:
        self.marks.append((days_done, time.perf_counter() if t is None else t))


def speed_rows(clock: ChunkClock, agents: int) -> list[tuple[str, str]]:
    """The summary's timing rows from measured chunk times: the first chunk (compiling the
    day, building the population, then its days) and the steady-state speed over the chunks
    after it. A run of one chunk has no steady state to show, and says so."""
    if clock.t0 is None or not clock.marks:
        return []
    d1, t1 = clock.marks[0]
    rows = [("First chunk", f"{_seconds(t1 - clock.t0)} for days 1-{d1} (incl. compiling)")]
    dn, tn = clock.marks[-1]
    if dn > d1 and tn > t1:
        rate = (dn - d1) * agents / (tn - t1)
        rows.append(
            (
                "Steady-state speed",
                f"{_si(rate)} agent-days/s (days {d1 + 1}-{dn} in {_short_seconds(tn - t1)})",
            )
        )
    else:
        rows.append(("Steady-state speed", "– (one chunk: every day ran with the compiling)"))
    return rows


# ----------------------------------------------------------------------------- summary


def _records_per_behaviour(metrics: pd.DataFrame) -> tuple[dict[str, float], float]:
    """Records of each behaviour per agent-year, from the tidy metrics; and the agent-years.

    Agent-years come from the `agents` rows actually present, so a run that kept metrics only
    every few days (record.metrics_every) still gives rates, estimated from the kept days.
    """
    agent_years = float(metrics.loc[metrics["metric"] == "agents", "value"].sum()) / DAYS_PER_YEAR
    rec = metrics[metrics["metric"].str.startswith("records.")]
    sums = rec.groupby("metric", sort=False)["value"].sum()
    if not agent_years:
        return {}, 0.0
    return {
        m.removeprefix("records."): float(v) / agent_years for m, v in sums.items()
    }, agent_years


def _behaviour_table(metrics: pd.DataFrame, s: dict) -> Table:
    """Acts and records of each behaviour per agent-year, and how many records were false.

    The engine counts false records (for acts that did not happen: a camera's false match, a
    malicious report) over all behaviours, not per behaviour, so the false column is filled in
    the `all` row, and a caption says that records include them: that is how a behaviour's
    records can outnumber its acts."""
    records, agent_years = _records_per_behaviour(metrics)
    acts = s.get("acts_per_agent_year", {})
    false = float(metrics.loc[metrics["metric"] == "false_records", "value"].sum())
    total_rec = sum(records.values()) if records else s.get("records_per_agent_year")
    false_rate = false / agent_years if agent_years else None
    t = _table("Behaviour (per agent-year)")
    t.add_column("Behaviour")
    t.add_column("Acts", justify="right")
    t.add_column("Records", justify="right")
    t.add_column("False records", justify="right")
    for b, rate in acts.items():
        t.add_row(b, _num(rate), _num(records[b]) if b in records else "–", "")
    t.add_section()
    t.add_row(
        "all",
        _num(sum(acts.values())),
        _num(total_rec) if total_rec is not None else "–",
        _num(false_rate) if false_rate is not None else "–",
        style="bold",
    )
    if total_rec and false_rate is not None:
        t.caption = (
            f"Records count true and false ones: {_pct(false_rate / total_rec)} of records "
            "were false (for acts that did not happen), so a behaviour's records can "
            "outnumber its acts."
        )
        t.caption_justify = "left"
    return t


def _table(title: str) -> Table:
    # min_width keeps a narrow table from wrapping its title over several lines
    return Table(title=title, title_justify="left", min_width=len(title))


def _tier_tables(summary: dict) -> list[Table]:
    """One table per set of tier names (jurisdictions of one programme share columns)."""
    by_tiers: dict[tuple[str, ...], list[tuple[str, dict]]] = {}
    for jname, entry in summary.get("jurisdictions", {}).items():
        if entry.get("programme") and "tier_shares" in entry:
            by_tiers.setdefault(tuple(entry["tier_shares"]), []).append((jname, entry))
    tables = []
    for tiers, rows in by_tiers.items():
        t = _table("Tiers at the end of the run (share of agents)")
        t.add_column("Jurisdiction")
        t.add_column("Agents", justify="right")
        for name in tiers:
            t.add_column(name, justify="right")
        t.add_column("Listed", justify="right", style="bold")
        for jname, entry in rows:
            shares = [_pct(entry["tier_shares"][name]) for name in tiers]
            t.add_row(jname, f"{entry['agents']:,}", *shares, _pct(entry.get("listed_share", 0.0)))
        tables.append(t)
    return tables


def _org_table(o: dict) -> Table:
    """Businesses and institutions over the run (summary['organisations'])."""
    t = _table(f"Organisations ({o['firms']:,} firms)")
    t.add_column("Measure")
    t.add_column("Value", justify="right")
    rows = [
        ("Counterfeit share of sales", _pct(o["counterfeit_rate"])),
        ("Market trust (purchases made / wanted)", _pct(o["market_trust"])),
        ("Harm to buyers (median incomes)", _num(o["buyer_harm"])),
        ("Harm to buyers abroad (exported counterfeits)", _num(o.get("harm_abroad", 0.0))),
        (
            "New firms (blocked: sectors full)",
            f"{o.get('firms_entered', 0):,} ({o.get('entries_blocked', 0):,})",
        ),
        ("Due inspections made (capacity)", _pct(o.get("inspection_coverage", 0.0))),
        ("Violations undetected at the end", _num(o.get("hidden_violations", 0.0))),
        ("Orders from above followed", _pct(o.get("orders_complied_share", 0.0))),
        (
            "Institution-days under a funding cut (promotions withheld)",
            f"{o.get('institution_funding_cut_days', 0.0):,.0f} "
            f"({o.get('promotions_withheld', 0.0):,.0f})",
        ),
        ("B2B debts left unpaid", _pct(o["debt_default_rate"])),
        ("Bribes accepted", _num(o["bribes_accepted"])),
        ("Firms driven out", _pct(o["firms_out_share"])),
        ("Honest firms driven out", _pct(o["honest_out_share"])),
        ("Honest firms wrongly listed", _pct(o["honest_wrongly_listed_share"])),
        ("Firms listed at the end", _pct(o["listed_share"])),
        (
            "Institutions' missed repayments (party organs)",
            f"{o['institution_defaults']:,.0f} ({o['party_organ_defaults']:,.0f})",
        ),
    ]
    if o.get("grade_shares"):
        rows.append(
            ("Grades at the end", "  ".join(f"{g} {_pct(v)}" for g, v in o["grade_shares"].items()))
        )
    for r in rows:
        t.add_row(*r)
    return t


def _print_summary(
    result: Result,
    folder: Path,
    *,
    wall: float,
    t_sim: float,
    agent_days: int,
    clock: ChunkClock | None = None,
) -> None:
    s = result.summary
    out.print()
    for table in _tier_tables(s):
        out.print(table)
    unscored = [j for j, e in s.get("jurisdictions", {}).items() if not e.get("programme")]
    if unscored:
        out.print(f"No programme (not scored): {', '.join(unscored)}", highlight=False)

    acts = s.get("acts_per_agent_year", {})
    if acts:
        out.print(_behaviour_table(result.metrics, s))

    scored = {
        j: e["mean_score_by_group"]
        for j, e in s.get("jurisdictions", {}).items()
        if e.get("mean_score_by_group")
    }
    if scored:
        groups = list(dict.fromkeys(g for by_group in scored.values() for g in by_group))
        t = _table("Mean score at the end, by group")
        if len(scored) <= 6:
            t.add_column("Group")
            for j in scored:
                t.add_column(j, justify="right")
            for g in groups:
                t.add_row(g, *(f"{scored[j][g]:,.1f}" if g in scored[j] else "–" for j in scored))
        else:  # many jurisdictions (pilot zones): one row each
            t.add_column("Jurisdiction")
            for g in groups:
                t.add_column(g, justify="right")
            for j, by_group in scored.items():
                t.add_row(j, *(f"{by_group[g]:,.1f}" if g in by_group else "–" for g in groups))
        out.print(t)
    spread = s.get("across_jurisdictions")
    if spread:
        t = _table("Across jurisdictions")
        for col in ("", "mean", "sd", "min", "max"):
            t.add_column(col, justify="right" if col else "left")
        for name, v in spread.items():
            fmt = _num if name == "records_per_agent_year" else _pct
            t.add_row(name, *(fmt(v[k]) for k in ("mean", "sd", "min", "max")))
        out.print(t)

    if "organisations" in s:
        out.print(_org_table(s["organisations"]))

    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("Loan refusal rate", _pct(s.get("loan_refusal_rate", 0.0)))
    facts.add_row("Trips blocked rate", _pct(s.get("trips_blocked_rate", 0.0)))
    facts.add_row("False-record share", _pct(s.get("false_record_share", 0.0)))
    if "mean_risk" in s:
        facts.add_row("Mean perceived risk", f"{s['mean_risk']:.3g}")
    if "mean_wealth" in s:
        facts.add_row("Mean wealth", f"{s['mean_wealth']:.3g}")
    if "mean_trust" in s:
        facts.add_row("Mean interpersonal trust", f"{s['mean_trust']:.3g}")
    if "mean_approval" in s:
        facts.add_row("Approval of the system", _pct(s["mean_approval"]))
    budgets = [e["budget"] for e in s.get("jurisdictions", {}).values() if "budget" in e]
    if budgets:
        n = [e["agents"] for e in s["jurisdictions"].values() if "budget" in e]
        unit = result.scenario.economy.money_unit

        def mean(key: str) -> float:
            return sum(b[key] * k for b, k in zip(budgets, n, strict=True)) / max(sum(n), 1)

        facts.add_row(
            "Budget spent",
            f"{mean('spend_per_resident_year'):.3g} {unit} per resident-year "
            f"({mean('reward_spend_per_resident_year'):.3g} on rewards; "
            f"{mean('rewards_withheld_per_resident_year'):.3g} rewards withheld)",
        )
        facts.add_row("Funded coverage", _pct(mean("coverage")))
    rewards = s.get("rewards")
    if rewards:  # counted rewards (programmes.*.rewards)
        by_group = ", ".join(
            f"{g} {v:.3g}" for g, v in rewards["given_per_agent_year_by_group"].items()
        )
        facts.add_row(
            "Rewards given",
            f"{rewards['given_per_agent_year']:.3g} per agent-year ({by_group})",
        )
    facts.add_row(
        "Wall time",
        f"{_seconds(wall)} (simulating {_seconds(t_sim)} incl. compiling, "
        f"saving {_seconds(wall - t_sim)})",
    )
    for label, text in speed_rows(clock, result.scenario.population.agents) if clock else []:
        facts.add_row(label, text)
    facts.add_row(
        "Whole run",
        f"{_si(agent_days / t_sim if t_sim else 0.0)} agent-days/s (incl. compiling)",
    )
    out.print()
    out.print(facts, highlight=False)
    # on a line of its own, never wrapped, so it can be copied whole
    label = "Run folder".ljust(len("Mean perceived risk") + 2)
    out.print(Text.assemble((label, "bold"), str(folder)), soft_wrap=True)


# ----------------------------------------------------------------------------- other commands


@app.command()
def validate(
    files: Annotated[list[str], typer.Argument(help="Scenario YAML files (or preset names).")],
) -> None:
    """Check scenario files; print every problem found. Exit 2 if any is invalid.

    Example:
      socialcredit validate my.yaml examples/platform-era-2015.yaml
    """
    bad = 0
    for f in files:
        try:
            sc = load_scenario(f)
        except ScenarioError as e:
            print_error(str(e))
            bad += 1
            continue
        print(f"ok: {f} ({sc.metadata.name}, {sc.population.agents:,} agents, {sc.days:,} days)")
    if bad:
        raise typer.Exit(2)


@app.command()
def schema(
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out", parser=output_path, metavar="PATH", help="Write the schema to this file."
        ),
    ] = None,
) -> None:
    """Print the JSON Schema of the scenario language (for editors).

    Example:
      socialcredit schema --out scenario.schema.json
    """
    text = json.dumps(json_schema(), indent=2)
    if out_file is None:
        print(text)
        return
    try:
        out_file.write_text(text + "\n", encoding="utf-8")
    except OSError as e:
        print_error(f"error: cannot write {out_file}: {e}")
        raise typer.Exit(1) from None
    err.print(f"wrote {out_file}")


# Measured speed, for the expected run time `scenarios` shows (an estimate, labelled so).
# Source: docs/performance.md, "Targets of the issue 'Performance and scale'": the lead's quiet
# rerun of 2026-11-27 on the 2-core AMD EPYC VM (JAX 0.10.2), steady-state agent-days per
# second at 1,000,000 agents (rongcheng at its own 714,355). Presets not measured there take
# the slowest measured figure, so their estimate errs long.
MEASURED_AGENT_DAYS_PER_S = {
    "rongcheng": 5.66e7,
    "national": 2.23e7,
    "xinjiang-informants": 3.32e7,
    "hebei-deadbeat-map": 1.67e7,
    "corporate": 2.17e7,
    "pilots-2021": 2.20e7,
}
SLOWEST_MEASURED = min(MEASURED_AGENT_DAYS_PER_S.values())
# What a run costs besides its days, from the same page: the README's main job (rongcheng,
# 714,355 agents, 365 days) took 11.5 s of wall time on a first run, of which 365 days x
# 12.6 ms = 4.6 s were simulation; the other 6.9 s compile the day, build the population,
# take the snapshot and save.
RUN_OVERHEAD_S = 11.5 - 4.6


def expected_run_seconds(preset: str, agents: int, days: int) -> float:
    """An estimate of a first run's wall time on the 2-core machine, from measured figures."""
    rate = MEASURED_AGENT_DAYS_PER_S.get(preset, SLOWEST_MEASURED)
    return RUN_OVERHEAD_S + agents * days / rate


def _estimate(seconds: float) -> str:
    return f"~{_seconds(round(seconds))}" if seconds >= 10 else f"~{seconds:.0f} s"


@app.command()
def scenarios() -> None:
    """List the bundled presets: default size, length and an expected run time.

    Example:
      socialcredit scenarios
    """
    t = _table("Presets (socialcredit run NAME; socialcredit show NAME)")
    t.add_column("Name", style="bold", no_wrap=True)
    t.add_column("Agents", justify="right", no_wrap=True)
    t.add_column("Days", justify="right", no_wrap=True)
    t.add_column("Run time*", justify="right", no_wrap=True)
    t.add_column("Description")
    for name, desc in list_presets():
        try:
            sc = load_scenario(name)
        except ScenarioError:  # a broken preset is still listed; `validate NAME` says why
            t.add_row(name, "–", "–", "–", desc)
            continue
        agents, days = sc.population.agents, sc.days
        t.add_row(
            name,
            f"{agents:,}",
            f"{days:,}",
            _estimate(expected_run_seconds(name, agents, days)),
            desc,
        )
    t.caption = (
        "* an estimate for a first run on a 2-core CPU, from the speeds measured in "
        "docs/performance.md; --agents and --days change it in proportion."
    )
    t.caption_justify = "left"
    out.print(t, highlight=False)


@app.command()
def show(
    scenario: Annotated[str, typer.Argument(help="Preset name or scenario YAML file.")],
    agents: AgentsOpt = None,
    days: DaysOpt = None,
    seed: SeedOpt = None,
    set_: SetOpt = None,
    comments: Annotated[
        bool,
        typer.Option("--comments", help="Each field's description as a YAML comment above it."),
    ] = False,
) -> None:
    """Print the scenario with every default filled in, as YAML that loads back the same.

    Examples:
      socialcredit show rongcheng > my.yaml
      socialcredit show rongcheng --comments --agents 10000
    """
    with _scenario_errors():
        sc = load_scenario(scenario, list(set_ or []), agents=agents, days=days, seed=seed)
    if comments:
        from socialcredit.scenario.describe import commented_yaml

        sys.stdout.write(commented_yaml(sc))
    else:
        sys.stdout.write(resolved_yaml(sc))


@app.command()
def describe(
    field: Annotated[
        str,
        typer.Argument(help="A dotted field path, e.g. population.agents or programmes.tiers."),
    ],
) -> None:
    """Explain one field of the scenario language: type, bounds, default, description and
    which presets set it.

    Examples:
      socialcredit describe population.agents
      socialcredit describe programmes.rongcheng.record_expiry_days
      socialcredit describe behaviours.base_rate
    """
    from socialcredit.scenario.describe import UnknownField, describe_field

    try:
        doc = describe_field(field)
    except UnknownField as e:
        print_error(f"error: describe {e}")
        raise typer.Exit(2) from None
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    facts.add_row("Field", doc.path)
    facts.add_row("Expects", doc.expects)
    facts.add_row("Default", "none: required" if doc.default is None else _clip(doc.default))
    if doc.description:
        facts.add_row("Description", doc.description)
    if doc.fields:
        facts.add_row("Fields", ", ".join(doc.fields))
    out.print(facts, highlight=False)
    if not doc.presets:
        out.print("No preset sets it (each uses the default).", highlight=False)
        return
    from socialcredit.scenario.describe import _show

    t = _table(f"Presets that set it ({len(doc.presets)})")
    t.add_column("Preset", no_wrap=True)
    t.add_column("Value")
    for name, values in doc.presets.items():
        shown = ", ".join(_clip(_show(v), 40) for v in values[:4])
        if len(values) > 4:
            shown += f", … ({len(values)} in all)"
        t.add_row(name, shown)
    out.print(t, highlight=False)


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@app.command()
def runs(
    out_dir: RunsDirOpt = Path("runs"),
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            metavar="run|audit|sweep|search",
            help="List only this kind (default: every kind).",
            show_default=False,
        ),
    ] = None,
    scenario: Annotated[
        str | None,
        typer.Option(
            "--scenario",
            metavar="NAME",
            help="List only entries whose scenario name contains NAME (e.g. --scenario court).",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON array of the entries, nothing else.")
    ] = False,
) -> None:
    """List the runs, audits, sweeps and policy searches under --out, newest first.

    Examples:
      socialcredit runs
      socialcredit runs --kind audit --scenario court --json
    """
    from socialcredit.store.catalog import KINDS, catalog

    if kind is not None and kind not in KINDS:
        print_error(f"error: --kind {kind!r}: use one of {', '.join(KINDS)}")
        raise typer.Exit(2)
    if out_dir.exists() and not out_dir.is_dir():
        print_error(f"error: --out {out_dir} is a file; give the folder that holds the runs")
        raise typer.Exit(2)
    try:
        df = catalog(out_dir, kind=kind, scenario=scenario)
    except Exception as e:
        print_error(f"error: cannot list the runs in {out_dir}: {one_line(e)}")
        raise typer.Exit(1) from None
    unreadable = df.attrs.get("unreadable", [])
    if as_json:
        sys.stdout.write(json.dumps(_json_rows(df), indent=2, ensure_ascii=False) + "\n")
    elif df.empty:
        out.print(f"no {_kind_words(kind)} in {out_dir}", highlight=False)
    else:
        _print_catalog(df, out_dir, kind)
    for path, reason in unreadable:
        print_error(f"skipped {out_dir / path}: unreadable: {reason}")


def _kind_words(kind: str | None) -> str:
    return {None: "runs", "search": "searches"}.get(kind, f"{kind}s")


def _json_rows(df: pd.DataFrame) -> list[dict[str, Any]]:
    """The catalog's rows in plain JSON: times as ISO 8601 UTC, missing values as null."""
    rows = []
    for record in df.to_dict(orient="records"):
        row = {}
        for key, value in record.items():
            if not _present(value):
                value = None
            elif key in ("created", "ended"):
                value = value.isoformat() + "Z"
            elif key == "overrides":
                value = json.loads(value)
            elif hasattr(value, "item"):
                value = value.item()
            row[key] = value
        rows.append(row)
    return rows


def _print_catalog(df: pd.DataFrame, out_dir: Path, kind: str | None) -> None:
    t = _table(f"{_kind_words(kind).capitalize()} in {out_dir}")
    t.add_column("Id", no_wrap=True)
    for name in ("Kind", "Status", "Agents", "Days", "Seed", "Exp×rep", "Wall"):
        t.add_column(name, justify="left" if name in ("Kind", "Status") else "right")
    style = {"done": "green", "failed": "red", "running": "yellow"}
    errors = []
    for row in df.itertuples(index=False):
        size = "–"
        if row.kind != "run" and _present(row.experiments) and _present(row.replicates):
            size = f"{int(row.experiments)}×{int(row.replicates)}"
        t.add_row(
            str(row.id),
            str(row.kind),
            Text(str(row.status), style=style.get(row.status, "")),
            _int_cell(row.agents),
            _int_cell(row.days),
            _int_cell(row.seed),
            size,
            _seconds(float(row.wall_s)) if _present(row.wall_s) else "–",
        )
        if row.status == "failed" and _present(row.error):
            errors.append((str(row.id), str(row.error).strip().splitlines()[0]))
    out.print(t, highlight=False)
    for run_id, error in errors:
        out.print(Text.assemble((run_id, "red"), f": {error}"), soft_wrap=True)


def _present(value: Any) -> bool:
    import pandas as pd

    return value is not None and not (pd.api.types.is_scalar(value) and pd.isna(value))


def _int_cell(value: Any) -> str:
    return f"{int(value):,}" if _present(value) else "–"


def _kind_text() -> dict[str, str]:  # the dashboard's credit files use the same words
    from socialcredit.results.credit import KIND_TEXT

    return KIND_TEXT


@app.command()
def explain(
    run_dir: Annotated[
        Path,
        typer.Argument(
            help="A run folder, or its id as `socialcredit runs` prints it.", parser=run_path
        ),
    ],
    agent: Annotated[
        int | None, typer.Option("--agent", help="Agent index (see agents.parquet).")
    ] = None,
    find: Annotated[
        str | None,
        typer.Option(
            "--find",
            help="List agents by event instead: listed, wrongly-sanctioned, school-refused or "
            "most-records.",
        ),
    ] = None,
) -> None:
    """Print one agent's credit file: every record, listing and sanction, and why.

    Example:
      socialcredit explain 20261128-150151-rongcheng-0-59dca1 --agent 42
    """
    from socialcredit.result import open_run
    from socialcredit.results.credit import FINDS, credit_file, find_agents
    from socialcredit.store import RunNotFound

    if (agent is None) == (find is None):
        print_error("error: give --agent N (one credit file) or --find WHAT (agents by event)")
        raise typer.Exit(2)
    if find is not None and find not in FINDS:
        print_error(f"error: --find {find!r}: use one of {', '.join(FINDS)}")
        raise typer.Exit(2)
    try:
        result = open_run(run_dir)
        if find is not None:
            _print_found(find, find_agents(result, find))
            return
        facts, ev = credit_file(result, agent)
    except RunNotFound as e:
        print_error(f"error: {e}")
        raise typer.Exit(2) from None
    except KeyError as e:
        print_error(f"error: {e.args[0]}")
        raise typer.Exit(2) from None
    head = f"Credit file of agent {agent}"
    if "tier" in facts:
        head += (
            f" ({facts['group']}, {facts['jurisdiction']}): score {facts['score']:,}, "
            f"tier {facts['tier'] or '-'}{', on the blacklist' if facts['listed'] else ''}"
        )
    out.print(head, highlight=False)
    if ev.empty:
        out.print("No records, listings or sanctions in this run.", highlight=False)
        return
    from rich import box

    t = Table(
        title=f"{len(ev)} events (day 1 = first simulated day; until = last day a record counts)",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        title_justify="left",
    )
    for name in ("Day", "Event", "Behaviour", "Channel", "Points", "Until", "Score"):
        right = name in ("Day", "Points", "Score")
        t.add_column(
            name,
            justify="right" if right else "left",
            no_wrap=True,
            min_width={"Day": 3, "Event": 13, "Points": 6, "Until": 5, "Score": 5}.get(name),
            max_width=14 if name in ("Behaviour", "Channel") else None,
            overflow="ellipsis",
        )
    for r in ev.itertuples(index=False):
        is_record = r.kind in ("record", "false_record")
        style = "red" if r.kind in ("false_record", "sanctioned_false") else ""
        t.add_row(
            str(r.day),
            Text(_kind_text().get(r.kind, r.kind), style=style, no_wrap=True),
            r.behaviour if is_record else "",
            r.channel if is_record else "",
            f"{r.points:+d}" if is_record else "",
            str(int(r.expires_day) - 1) if is_record and _present(r.expires_day) else "",
            f"{r.score:,}",
        )
    out.print(t, highlight=False)
    _print_causes(result, agent)


def _print_causes(result, agent: int) -> None:
    """The grounds of the agent's sanctions and its layered lists' events (causes.parquet)."""
    causes = getattr(result, "causes", None)
    if causes is None:
        return
    c = causes[causes["agent"] == agent]
    if c.empty:
        return
    from rich import box

    t = Table(
        title="Why: each sanction's ground (programme, listing or tier, the record behind it), "
        "and the layered lists' events",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        title_justify="left",
    )
    for name in ("Day", "Event", "Programme", "Ground", "Record"):
        t.add_column(name, justify="right" if name == "Day" else "left")
    for r in c.itertuples(index=False):
        rec = ""
        if _present(r.record_day):
            rec = f"day {int(r.record_day)}: {r.behaviour}"
            rec += f" via {r.channel}" if r.channel else ""
            rec += " (false)" if r.true is False else ""
        if _present(r.points):
            rec += f", {int(r.points):+d} points"
        t.add_row(str(r.day), _kind_text().get(r.kind, r.kind), r.programme, r.ground, rec)
    out.print(t, highlight=False)


def _print_found(what: str, found) -> None:
    if found.empty:
        out.print(f"No agent in this run's credit-file sample is {what}.", highlight=False)
        return
    t = Table(title=f"Agents by event: {what} ({len(found)} shown, most events first)")
    for name in found.columns:
        t.add_column(name.replace("_", " "), justify="right" if name != "programmes" else "left")
    for row in found.itertuples(index=False):
        t.add_row(*[str(v) for v in row])
    out.print(t, highlight=False)


@app.command()
def dashboard(
    runs_dir: Annotated[
        Path, typer.Argument(help="Folder of runs, audits, sweeps and searches.")
    ] = Path("runs"),
    port: Annotated[
        int, typer.Option("--port", help="Port (0: a free one).", min=0, max=65535)
    ] = 0,
) -> None:
    """Serve the dashboard on 127.0.0.1 (a browser page; no network needed)."""
    from socialcredit.dashboard import serve

    serve(runs_dir, port, echo=lambda text: err.print(text, highlight=False, soft_wrap=True))


def _register_subcommands() -> None:
    """Commands that live with their subsystem (imports there stay light)."""
    from socialcredit.audit.cli import audit_command
    from socialcredit.report.cli import compare_command, report_command

    app.command("audit")(audit_command)
    app.command("report")(report_command)
    app.command("compare")(compare_command)
    from socialcredit.experiments.cli import sweep_command

    app.command("sweep")(sweep_command)
    from socialcredit.experiments.search_cli import search_command

    app.command("optimize")(search_command)
    from socialcredit.science.cli import science_command

    app.command("science")(science_command)


_register_subcommands()

if __name__ == "__main__":
    app()
