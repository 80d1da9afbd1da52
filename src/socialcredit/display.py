"""How results show themselves in Jupyter (``_repr_html_``): a run, an audit, a sweep and a
search each as a short heading and one table, every string escaped. The tables are the ones the
command line prints."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

MAX_ROWS = 40


def _table(df: pd.DataFrame) -> str:
    shown = df.head(MAX_ROWS)
    more = len(df) - len(shown)
    out = shown.to_html(index=False, escape=True, na_rep="–", float_format=lambda x: f"{x:.4g}")
    if more > 0:
        out += f"<p>… and {more:,} more rows</p>"
    return out


def _head(title: str, facts: dict[str, Any]) -> str:
    items = ", ".join(f"{html.escape(str(k))} {html.escape(str(v))}" for k, v in facts.items())
    return f"<h4>{html.escape(title)}</h4><p>{items}</p>"


def run_html(result) -> str:
    """A run: its size and the summary's numbers."""
    info = result.info or {}
    facts = {k: info[k] for k in ("agents", "days", "seed", "wall_s") if k in info}
    rows = [(k, v) for k, v in (result.summary or {}).items() if isinstance(v, int | float)]
    df = pd.DataFrame(rows, columns=["summary", "value"])
    return _head(f"Run of {result.scenario.metadata.name}", facts) + _table(df)


def audit_html(result) -> str:
    """An audit: its table (without and with the system, the effect and its interval)."""
    cols = ["label", "kind", "unit", "counterfactual", "system", "effect", "ci_low", "ci_high"]
    t = result.table[[c for c in cols if c in result.table.columns]]
    t = t[t["system"].notna() | t["effect"].notna()] if "system" in t else t
    facts = {"replicates": result.replicates, "agents": result.info.get("agents")}
    return _head(f"Audit of {result.scenario.metadata.name}", facts) + _table(t)


def sweep_html(result) -> str:
    """A sweep: each outcome's range over the experiments (mean over replicates)."""
    o = result.outcomes
    rows = []
    for name, g in o.groupby("outcome", sort=False):
        col = "effect" if g["effect"].notna().any() else "with"
        m = g.groupby("experiment")[col].mean()
        if m.notna().any():
            rows.append((name, col, m.min(), m.median(), m.max()))
    df = pd.DataFrame(rows, columns=["outcome", "shown", "min", "median", "max"])
    man = result.manifest
    facts = {k: man.get(k) for k in ("design", "experiments", "replicates", "agents", "days")}
    return _head(f"Sweep {man.get('name')} of {man.get('scenario_name')}", facts) + _table(df)


def search_html(result) -> str:
    """A policy search: its Pareto front."""
    man = result.manifest
    facts = {k: man.get(k) for k in ("generations", "experiments", "replicates", "agents", "days")}
    title = f"Search {man.get('name')} of {man.get('scenario_name')}: Pareto front"
    return _head(title, facts) + _table(result.front)
