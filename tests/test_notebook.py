"""The Python face for notebooks: top-level names, and results that display as HTML tables."""

from __future__ import annotations

import socialcredit as sc


def test_top_level_names():
    import socialcredit.audit  # noqa: F401  (binds sc.audit to the package: still callable)
    import socialcredit.report  # noqa: F401  (the same for sc.report)

    for name in ("simulate", "audit", "report", "compare", "sweep", "optimize", "open_run"):
        assert callable(getattr(sc, name)), name
        assert name in sc.__all__


def test_results_display_as_escaped_html(tmp_path):
    s = sc.load_scenario("rongcheng", agents=400, days=5)
    r = sc.simulate(s, counterfactual=True)
    page = r._repr_html_()
    assert "<table" in page and "Run of rongcheng" in page and "agents 400" in page
    r.path = r.save(tmp_path / "runs")
    import socialcredit.audit  # noqa: F401
    import socialcredit.report  # noqa: F401

    a = sc.audit(s, 1)
    assert "Audit of rongcheng" in a._repr_html_()
    paths = sc.report(r)
    assert any(p.name == "report.html" for p in paths)
    cmp = sc.compare(r, r.counterfactual, tmp_path / "cmp")
    assert any(p.name == "compare.md" for p in cmp)

    import pandas as pd

    from socialcredit.experiments.sweep import SweepResult

    out = pd.DataFrame(
        {
            "experiment": [0, 0, 1],
            "replicate": [0, 1, 0],
            "seed": [1, 2, 1],
            "outcome": ["<b>x</b>"] * 3,
            "with": [1.0, 2.0, 3.0],
            "without": [0.5, 0.5, 0.5],
            "effect": [0.5, 1.5, 2.5],
        }
    )
    man = {"name": "s<1>", "scenario_name": "rongcheng", "design": "lhs", "experiments": 2}
    page = SweepResult(tmp_path, pd.DataFrame(), out, None, man)._repr_html_()
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page and "s&lt;1&gt;" in page
