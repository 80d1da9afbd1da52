"""Policy search (experiments/search.py): NSGA-II recovers an analytic Pareto front, search
files are checked with located messages, and a small search through the model writes its
folder, with front designs as scenario files that load back to the lever values."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from socialcredit.experiments.search import (
    SearchError,
    nsga2,
    optimize,
    pareto_front,
    parse_search,
    plan_search,
)
from socialcredit.scenario import load_scenario

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "searches"


def _zdt(X: np.ndarray, generation: int) -> tuple[np.ndarray, np.ndarray]:
    """ZDT1 in two variables: the front is f2 = 1 - sqrt(f1), f1 in [0, 1], at x2 = 0."""
    x1, x2 = X[:, 0], X[:, 1]
    g = 1.0 + 9.0 * x2
    return np.stack([x1, g * (1.0 - np.sqrt(x1 / g))], axis=1), np.zeros((len(X), 0))


def test_nsga2_recovers_the_analytic_front_of_zdt1():
    calls = []

    def evaluate(X, generation):
        calls.append((generation, len(X)))
        return _zdt(X, generation)

    res = nsga2(evaluate, [0.0, 0.0], [1.0, 1.0], 2, population=40, generations=80, seed=1)
    F = res.F[res.front]
    # one vectorised call per generation, the whole population at once
    assert calls == [(g, 40) for g in range(80)]
    # on the analytic curve ...
    assert np.abs(F[:, 1] - (1.0 - np.sqrt(F[:, 0]))).max() < 0.02
    # ... and spanning it, without a gap
    f1 = np.sort(F[:, 0])
    assert f1[0] < 0.01 and f1[-1] > 0.99
    assert np.diff(f1).max() < 0.05
    assert (res.X[res.front, 1] < 0.01).all()


def test_nsga2_respects_an_inequality_constraint():
    def evaluate(X, generation):
        F, _ = _zdt(X, generation)
        return F, (0.25 - X[:, :1])  # x1 >= 0.25

    res = nsga2(
        evaluate, [0.0, 0.0], [1.0, 1.0], 2, n_constr=1, population=24, generations=40, seed=2
    )
    F = res.F[res.front]
    assert (res.X[res.front, 0] >= 0.25).all()
    assert F[:, 0].min() < 0.3
    assert np.abs(F[:, 1] - (1.0 - np.sqrt(F[:, 0]))).max() < 0.05


def test_pareto_front_of_a_small_table():
    F = np.array([[0, 1], [1, 0], [1, 1], [0.5, 0.5], [0.5, 0.6]], float)
    assert pareto_front(F).tolist() == [0, 1, 3]
    G = np.array([[1.0], [0], [0], [0], [0]])  # the first is infeasible
    assert pareto_front(F, G).tolist() == [1, 3]


GOOD = """\
name: t
levers:
  - {field: channels.traffic_police.coverage.traffic_violation, range: [0.0, 1.0]}
objectives:
  - {outcome: records, direction: maximize}
"""


def test_search_file_errors_are_located_and_all_reported():
    text = """\
name: t
levers:
  - {field: channels.traffic_police.coverage.traffic_violation, range: [0.0, 1.0]}
  - {field: informants.share, values: [0.1], colour: red}
objectives:
  - {outcome: records, direction: up}
  - {outcome: records}
population: 2
"""
    with pytest.raises(SearchError) as e:
        parse_search(text, "s.yaml")
    msg = str(e.value)
    assert "search file" in msg and "s.yaml" in msg
    for where in ("levers.1.colour", "objectives.0.direction", "objectives.1.direction"):
        assert where in msg, msg
    assert "population" in msg
    lines = {i.path: i.line for i in e.value.issues}
    assert lines["levers.1.colour"] == 4 and lines["objectives.0.direction"] == 6


def test_search_checked_against_the_scenario(tmp_path):
    bad = yaml.safe_load(GOOD)
    bad["levers"].append({"field": "channels.traffic_police.coverage.nope", "range": [0, 1]})
    bad["levers"].append({"field": "days", "values": [10, 20]})
    bad["objectives"].append({"outcome": "misconduct.totl", "direction": "minimize"})
    bad["objectives"].append(
        {"outcome": "false_sanction_share", "direction": "minimize", "of": "effect"}
    )
    with pytest.raises(SearchError) as e:
        plan_search("rongcheng", bad, agents=500, days=10)
    msg = str(e.value)
    assert "levers.2.values" in msg and "range" in msg
    bad["levers"].pop()
    with pytest.raises(SearchError) as e:
        plan_search("rongcheng", bad, agents=500, days=10)
    msg = str(e.value)  # every problem at once, the levers' and the outcomes'
    assert "levers.1.range" in msg and "nope" in msg
    assert "did you mean misconduct.total" in msg
    assert "objectives.2.of" in msg and "comparison: system" in msg
    # defaults: effect where the outcome has one, else with; no effect without a counterfactual
    ok = plan_search("rongcheng", {**yaml.safe_load(GOOD), "counterfactual": True})
    assert [o.of for o in ok.objectives] == ["with"]  # records is a figure of the system arm
    nocf = yaml.safe_load(GOOD)
    nocf["counterfactual"] = False
    nocf["objectives"] = [{"outcome": "misconduct.total", "direction": "minimize", "of": "effect"}]
    with pytest.raises(SearchError, match="counterfactual: false"):
        plan_search("rongcheng", nocf)


def test_the_example_search_file_checks_against_its_preset():
    c = plan_search("xinjiang-informants", EXAMPLE / "informants-due-process.yaml", agents=500)
    assert [o.column for o in c.objectives] == [
        "misconduct.total.effect",
        "chilling.total.effect",
        "false_sanction_share.with",
    ]
    assert c.kinds["prayer_points"] == "int" and c.kinds["informant_share"] == "float"


SMALL = {
    "name": "small",
    "levers": [
        {
            "name": "traffic",
            "field": "channels.traffic_police.coverage.traffic_violation",
            "range": [0.0, 1.0],
        },
        {"name": "littering", "field": "programmes.rongcheng.points.littering", "range": [-40, 0]},
    ],
    "objectives": [
        {"outcome": "records", "direction": "maximize"},
        {"outcome": "sanctioned_share", "direction": "minimize"},
    ],
    "constraints": [{"outcome": "misconduct.total", "max": 1.0}],
    "population": 8,
    "generations": 2,
    "seed": 3,
}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("searches")
    seen = []
    res = optimize(
        "rongcheng",
        SMALL,
        agents=500,
        days=20,
        overrides=["response.model=fixed"],
        out=out,
        progress=seen.append,
    )
    return res, seen, out


def test_a_search_through_the_model_writes_its_folder(small):
    res, seen, _ = small
    f = res.folder
    assert f.name.startswith("small-")
    for name in ("search.json", "evaluations.parquet", "front.parquet", "front.png", "index.html"):
        assert (f / name).is_file(), name
    m = json.loads((f / "search.json").read_text())
    for key in (
        "kind",
        "id",
        "name",
        "scenario_name",
        "scenario_hash",
        "created",
        "ended",
        "status",
        "experiments",
        "replicates",
        "agents",
        "days",
        "wall_s",
        "version",
        "generations",
        "objectives",
        "constraints",
        "levers",
    ):
        assert key in m, key
    assert m["kind"] == "search" and m["status"] == "done" and m["generations"] == 2
    assert m["agents"] == 500 and m["days"] == 20
    assert [g["generation"] for g in seen] == [1, 2]
    ev = pd.read_parquet(f / "evaluations.parquet")
    assert len(ev) == 16 and set(ev["generation"]) == {0, 1}
    for col in (
        "design",
        "traffic",
        "littering",
        "records.with",
        "sanctioned_share.effect",
        "misconduct.total.effect",
        "feasible",
    ):
        assert col in ev.columns, col
    # integer levers rounded; every design in its range
    assert ev["littering"].dtype == "int64" and ev["traffic"].dtype == "float64"
    assert ev["traffic"].between(0, 1).all() and ev["littering"].between(-40, 0).all()
    # records rise with the traffic police's coverage (behaviour does not respond: fixed)
    lo = ev.loc[ev["traffic"] < 0.3, "records.with"].mean()
    hi = ev.loc[ev["traffic"] > 0.7, "records.with"].mean()
    assert hi > lo
    front = pd.read_parquet(f / "front.parquet")
    assert front["littering"].dtype == "int64"
    assert 1 <= len(front) <= ev["design"].nunique()
    page = (f / "index.html").read_text()
    assert "data:image/png;base64," in page and "<script" not in page
    assert (f / "front.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_front_designs_are_scenario_files_with_the_lever_values(small):
    res, _, _ = small
    files = sorted((res.folder / "front").glob("design-*.yaml"))
    assert len(files) == len(res.front)
    for path, (_, row) in zip(files, res.front.sort_values("design").iterrows(), strict=True):
        sc = load_scenario(str(path))
        assert sc.channels[3].name == "traffic_police"
        assert sc.channels[3].coverage["traffic_violation"] == pytest.approx(row["traffic"])
        assert sc.programmes["rongcheng"].points["littering"] == int(row["littering"])
        assert sc.population.agents == 500 and sc.days == 20
        assert sc.response.model == "fixed"


def test_the_same_search_again_reruns_nothing(small, monkeypatch):
    res, _, out = small
    import socialcredit.experiments.worker as worker

    def boom(batch):  # every batch of every generation is on disk
        raise AssertionError("ran a batch again")

    monkeypatch.setattr("socialcredit.experiments.executors.run_batch", boom)
    monkeypatch.setattr(worker, "run_batch", boom)
    from socialcredit.experiments.executors import InProcess

    again = optimize(
        "rongcheng",
        SMALL,
        agents=500,
        days=20,
        overrides=["response.model=fixed"],
        out=out,
        executor=InProcess(boom),
    )
    assert again.folder == res.folder
    pd.testing.assert_frame_equal(again.front, res.front)


def test_optimize_command_bad_input_exits_2_and_writes_nothing(tmp_path):
    from socialcredit.cli import app

    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("records", "recordz"))
    out = tmp_path / "out"
    r = CliRunner().invoke(
        app, ["optimize", "rongcheng", str(bad), "--agents", "500", "--out", str(out)]
    )
    assert r.exit_code == 2, r.output
    assert "objectives.0.outcome" in r.output and "bad.yaml" in r.output
    assert not out.exists()
