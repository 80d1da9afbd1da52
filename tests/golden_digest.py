"""Digests of what a run produces, for the golden test (tests/test_golden.py).

`python tests/golden_digest.py --write` remakes tests/golden/digests.json. Do that only in a
commit that means to move results, and say why in its message.
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
import sys
from pathlib import Path

import numpy as np
import pandas as pd

GOLDEN = Path(__file__).parent / "golden" / "digests.json"
AGENTS = 3000
DAYS = 30
SEED = 11


def frame_digest(df: pd.DataFrame | None) -> str | None:
    """sha256 over a frame's column names, dtypes and values, bit for bit."""
    if df is None:
        return None
    h = hashlib.sha256()
    df = df.reset_index(drop=True)
    for col in df.columns:
        s = df[col]
        h.update(f"{col}:{s.dtype}|".encode())
        values = s.to_numpy()
        if values.dtype.kind in "biuf":  # numbers and flags: their bytes
            h.update(np.ascontiguousarray(values).tobytes())
        else:  # strings, categories, objects: their text (an object array's bytes are pointers)
            h.update("\x1f".join(map(str, s.tolist())).encode())
    return h.hexdigest()[:20]


def frame_stats(df: pd.DataFrame | None) -> dict | None:
    """Coarse figures of a frame, compared with a tolerance where digests cannot be (another
    JAX version may fuse float arithmetic differently)."""
    if df is None:
        return None
    num = df.select_dtypes("number")
    return {"rows": len(df), "sums": {c: float(num[c].astype("float64").sum()) for c in num}}


@functools.cache
def golden_run(name: str):
    """The preset's golden run (kept for the session, so the docs test reads the same runs)."""
    import socialcredit as sc

    return sc.simulate(sc.load_scenario(name, agents=AGENTS, days=DAYS, seed=SEED), devices=1)


def run_digest(name: str) -> dict:
    r = golden_run(name)
    tables = {
        "metrics": r.metrics,
        "agents": r.agents,
        "credit_files": r.events,
        "org_metrics": r.org_metrics,
        "firms": r.firms,
    }
    return {
        "digests": {k: frame_digest(v) for k, v in tables.items()},
        "stats": {k: frame_stats(v) for k, v in tables.items()},
        "summary": json.loads(json.dumps(r.summary, default=str)),
    }


def environment() -> dict:
    import jax

    return {"jax": jax.__version__, "machine": platform.machine(), "python": sys.version[:4]}


def main() -> None:
    from socialcredit.scenario import list_presets

    if "--write" not in sys.argv:
        print(__doc__)
        sys.exit(2)
    out = {"environment": environment(), "agents": AGENTS, "days": DAYS, "seed": SEED}
    out["presets"] = {name: run_digest(name) for name, _ in list_presets()}
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}: {len(out['presets'])} presets")


if __name__ == "__main__":
    main()
