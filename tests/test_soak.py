"""The soak runner (bench/soak.py, `make soak`) in a 10-second smoke run, so it cannot rot.

The same bounds as the 10-minute run: RSS growth after warm-up at most 10 %, the SQLite log at
most 128 MiB, no error, the invariant holds; the runner exits non-zero otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

RUNNER = Path(__file__).resolve().parents[1] / "bench" / "soak.py"


def test_soak_smoke_run() -> None:
    env = {**os.environ, "SOAK_SECONDS": "10", "SOAK_CLIENTS": "4"}
    run = subprocess.run([sys.executable, str(RUNNER)], env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["errors"] == 0 and summary["violations"] == 0
    assert summary["rounds"] >= 10
    assert summary["rss_growth"] <= 0.10
    assert 0 < summary["wal_max_mib"] <= 128  # SQLite: the log was measured, and stayed bounded
    assert set(summary["statuses"]) <= {"200", "202", "204"}
