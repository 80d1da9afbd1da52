"""The Mesa peer (benchmarks/peers/) computes what the engine computes, within noise.

Mesa is not a dependency of socialcredit: it lives in its own environment, made by
`benchmarks/peers/setup.sh` (or `make peer`, whose script runs this same check at full size
and fails loudly). Where that environment is absent this test skips; it installs nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PEER_PYTHON = ROOT / "benchmarks" / "peers" / ".venv" / "bin" / "python"


@pytest.mark.skipif(not PEER_PYTHON.exists(), reason="no Mesa environment (make peer builds it)")
def test_mesa_peer_agrees() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    cmd = [sys.executable, str(ROOT / "benchmarks" / "peers" / "compare.py"), "--check-only"]
    cmd += ["--mesa-agents", "3000", "--days", "150", "--seed", "5"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "OK: the peer and socialcredit agree" in proc.stdout
    assert "acts.littering per agent" in proc.stdout  # behaviour rates were compared


def test_peer_contact_graph_is_the_engines() -> None:
    """The peer keeps its own copy of the small-world offsets (its environment has Mesa, not
    socialcredit or JAX); it must give the engine's contacts, or the two compute different
    things. Runs without Mesa: the function is read out of the peer's source."""
    import ast

    from socialcredit.compile import contact_offsets

    path = ROOT / "benchmarks" / "peers" / "rongcheng_mesa.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    keep = [
        n
        for n in tree.body
        if (isinstance(n, ast.FunctionDef) and n.name == "contact_offsets")
        or (isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "_LONG" for t in n.targets))
    ]
    assert len(keep) == 2, "the peer no longer defines contact_offsets and _LONG"
    ns: dict = {}
    exec(compile(ast.Module(body=keep, type_ignores=[]), str(path), "exec"), ns)
    for degree, reach, long_range, agents in [
        (8, 50, 0, 10_000),
        (10, 200, 2, 10_000),
        (12, 1000, 3, 1_000_000),
        (6, 5, 8, 100),
        (4, 3, 0, 20),
    ]:
        ours = contact_offsets(degree, reach, long_range, agents)
        assert list(ns["contact_offsets"](degree, reach, long_range, agents)) == list(ours)
