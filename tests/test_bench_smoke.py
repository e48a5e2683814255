"""One small run of the benchmark runner per engine, so it cannot rot (the figures themselves are not judged here)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from tests.support.postgres import BASE_URL, require_postgres

ROOT = Path(__file__).resolve().parents[1]


async def _bench_databases() -> list[str]:
    connection = await asyncpg.connect(BASE_URL)
    try:
        rows = await connection.fetch("SELECT datname FROM pg_database WHERE datname LIKE 'numberpool_bench_%'")
        return [row[0] for row in rows]
    finally:
        await connection.close()


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
async def test_benchmark_runner_smoke(tmp_path, engine):
    if shutil.which("wrk") is None:
        reason = "wrk is not installed (make tools / apt-get install wrk)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    if engine == "postgres":
        require_postgres()
        before = await _bench_databases()
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--engines", engine, "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "NUMBERPOOL_BENCH_POSTGRES": BASE_URL},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((tmp_path / "latest.json").read_text())
    assert report["machine"]["commit"] and report["machine"]["cpu"]
    [row] = report["rows"]
    assert row["figures"]["ceiling"]["requests_per_second"] > 0  # measured beside the row's own figures
    assert row["figures"]["ceiling_one_write"]["requests_per_second"] > 0
    assert row["engine"] == engine and row["inventory"] == 5_000
    assert row["load_numbers_per_s"] > 0 and row["rss_mb_idle"] > 0
    for figure in ("search", "get_operation", "get_search_result", "floor_search", "floor_get_operation"):
        assert row["figures"][figure]["requests"] > 0
        assert row["figures"][figure]["errors"] == 0, figure
    assert row["figures"]["sdk_lifecycle"]["rounds"] == 5
    assert "search ÷ ceiling" in (tmp_path / "latest.md").read_text()
    assert "search ÷ 1-write ceiling" in (tmp_path / "latest.md").read_text()
    assert "floor search ÷ ceiling" in (tmp_path / "latest.md").read_text()
    if engine == "postgres":  # the run's database is dropped again
        assert await _bench_databases() == before
