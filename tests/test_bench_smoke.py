"""One small run of the benchmark runner, so it cannot rot (the figures themselves are not judged here)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_runner_smoke(tmp_path):
    if shutil.which("wrk") is None:
        reason = "wrk is not installed (make tools / apt-get install wrk)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    result = subprocess.run([sys.executable, "-m", "bench.run", "--smoke", "--out", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((tmp_path / "latest.json").read_text())
    assert report["machine"]["commit"] and report["machine"]["cpu"]
    assert report["ceiling"]["requests_per_second"] > 0
    [row] = report["rows"]
    assert row["engine"] == "sqlite" and row["inventory"] == 5_000
    assert row["load_numbers_per_s"] > 0 and row["rss_mb_idle"] > 0
    for figure in ("search", "get_operation", "get_search_result"):
        assert row["figures"][figure]["requests"] > 0
        assert row["figures"][figure]["errors"] == 0, figure
    assert row["figures"]["sdk_lifecycle"]["rounds"] == 5
    assert "search ÷ ceiling" in (tmp_path / "latest.md").read_text()
