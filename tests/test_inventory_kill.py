"""An import killed with SIGKILL half-way leaves a consistent inventory, and running it again
finishes it with exactly one copy of each number (both engines)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from numberpool.core.catalog_admin import import_catalog
from numberpool.core.catalog_file import demo_catalog
from numberpool.store import open_store
from tests.support.stores import fetch

ROWS = 60_000


async def _prepare(url: str) -> None:
    store = await open_store(url)
    try:
        await import_catalog(store, demo_catalog())
    finally:
        await store.close()


async def _violations(url: str) -> list[tuple[str, str]]:
    store = await open_store(url)
    try:
        return await store.violations()
    finally:
        await store.close()


def _count(url: str) -> int:
    return asyncio.run(fetch(url, "SELECT count(*) FROM numbers"))[0][0]


def test_an_import_killed_half_way_resumes_to_exactly_one_copy(url: str, tmp_path: Path) -> None:
    numbers = tmp_path / "numbers.csv"
    # Six exchanges of Redmond and Seattle numbers: several localities, 10,000 numbers each.
    with numbers.open("w") as handle:
        handle.write("phoneNumber\n")
        for i in range(ROWS):
            handle.write(f"+1425{300 + i // 10_000 * 7:03d}{i % 10_000:04d}\n")
    asyncio.run(_prepare(url))
    command = [sys.executable, "-m", "numberpool", "inventory", "import", str(numbers), "--database", url,
               "--batch-size", "1000"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    loaded = 0
    while time.monotonic() < deadline and process.poll() is None:
        loaded = _count(url)
        if loaded >= 3_000:
            break
        time.sleep(0.05)
    assert process.poll() is None, f"the import finished before it could be killed: {process.communicate()}"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    loaded = _count(url)
    assert 0 < loaded < ROWS
    assert asyncio.run(_violations(url)) == []

    resumed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    added = ROWS - loaded
    assert resumed.stdout.strip() == f"{ROWS} rows: added {added}, already present {loaded}, rejected 0"
    assert asyncio.run(fetch(url, "SELECT count(*), count(DISTINCT phone_number) FROM numbers")) == [(ROWS, ROWS)]
    assert asyncio.run(_violations(url)) == []
