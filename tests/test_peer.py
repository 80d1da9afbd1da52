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
