"""Operator inventory benchmark: `inventory import` rows/s beside the engine's own bulk load, and
`inventory report` latency, on SQLite and PostgreSQL.

    .venv/bin/python -m bench.import_bench --sizes 1000000 --engines sqlite,postgres

For each engine and size: a CSV of `size` synthetic US numbers (bench/inventory.py's numbers,
one `phoneNumber` column) is imported into an empty database through `core.inventory_import`
(what the command runs: read, validate with the numbering plan, batch by locality, load);
then the same numbers are loaded into another empty database with `Store.load_numbers` alone,
100 k per batch (the ceiling: no file, no validation); then `inventory report` is timed
(median of 5) on the imported database. Results go to bench/results/import-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

from bench.inventory import _numbers, load, plan
from numberpool.core.catalog_admin import import_catalog
from numberpool.core.catalog_file import demo_catalog
from numberpool.core.inventory_import import import_file
from numberpool.core.inventory_report import inventory_report
from numberpool.store import open_store

POSTGRES = os.environ.get("NUMBERPOOL_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
RESULTS = Path(__file__).parent / "results"


def write_csv(path: Path, size: int) -> None:
    with path.open("w") as handle:
        handle.write("phoneNumber\n")
        for npa, _, count in plan(size):
            handle.writelines(f"{n}\n" for n in _numbers(npa, count))


async def _admin(sql: str) -> None:
    db = await asyncpg.connect(POSTGRES)
    try:
        await db.execute(sql)
    finally:
        await db.close()


class Database:
    """An empty database of one engine, removed afterwards."""

    def __init__(self, engine: str, folder: Path) -> None:
        self.engine = engine
        self.name = f"numberpool_bench_import_{uuid.uuid4().hex[:10]}"
        self.url = str(folder / f"{self.name}.db") if engine == "sqlite" else POSTGRES.rsplit("/", 1)[0] + "/" + self.name

    async def __aenter__(self) -> str:
        if self.engine == "postgres":
            await _admin(f'CREATE DATABASE "{self.name}"')
        return self.url

    async def __aexit__(self, *exc: object) -> None:
        if self.engine == "postgres":
            await _admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(self.url + suffix).unlink(missing_ok=True)


async def measure(engine: str, size: int, csv_path: Path, folder: Path) -> dict[str, object]:
    row: dict[str, object] = {"engine": engine, "size": size}
    async with Database(engine, folder) as url:
        store = await open_store(url)
        try:
            await import_catalog(store, demo_catalog())
            started, cpu = time.perf_counter(), time.process_time()
            summary = await import_file(store, csv_path)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            assert summary.added == size and summary.rejected == 0, summary.text()
            row["import_seconds"] = round(seconds, 2)
            row["import_rows_per_s"] = round(size / seconds)
            # CPU of this process alone: all of it on SQLite; on PostgreSQL the server's is not counted.
            row["import_rows_per_cpu_s"] = round(size / cpu)
            timings = []
            for _ in range(5):
                started = time.perf_counter()
                report = await inventory_report(store)
                timings.append(time.perf_counter() - started)
            assert report.total == size
            row["report_ms"] = round(statistics.median(timings) * 1000, 1)
            row["report_groups"] = len(report.rows)
            # As the operator's database will be once autovacuum has been by (or after a manual
            # VACUUM ANALYZE): PostgreSQL can then count from the index without visiting the table.
            await _vacuum(url)
            timings = []
            for _ in range(5):
                started = time.perf_counter()
                await inventory_report(store)
                timings.append(time.perf_counter() - started)
            row["report_ms_vacuumed"] = round(statistics.median(timings) * 1000, 1)
        finally:
            await store.close()
    async with Database(engine, folder) as url:
        store = await open_store(url)
        try:
            cpu = time.process_time()
            added, spent = await load(store, size)
            cpu = time.process_time() - cpu
            assert added == size
            row["ceiling_rows_per_cpu_s"] = round(size / cpu)
            row["ceiling_rows_per_s"] = round(size / spent)
        finally:
            await store.close()
    row["import_to_ceiling"] = round(row["import_rows_per_s"] / row["ceiling_rows_per_s"], 2)  # type: ignore[operator]
    return row


async def _vacuum(url: str) -> None:
    if url.startswith("postgresql://"):
        db = await asyncpg.connect(url)
        try:
            await db.execute("VACUUM ANALYZE numbers")
        finally:
            await db.close()
    else:
        import sqlite3

        with sqlite3.connect(url) as db:
            db.execute("ANALYZE")


def _commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True, cwd=Path(__file__).parents[1]).stdout.strip()

    return git("rev-parse", "--short", "HEAD") + ("-dirty" if git("status", "--porcelain", "--", "src") else "")


async def main(sizes: list[int], engines: list[str]) -> list[dict[str, object]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="numberpool-import-bench-") as tmp:
        folder = Path(tmp)
        for size in sizes:
            csv_path = folder / f"numbers-{size}.csv"
            write_csv(csv_path, size)
            for engine in engines:
                row = await measure(engine, size, csv_path, folder)
                print(json.dumps(row), file=sys.stderr, flush=True)
                rows.append(row)
            csv_path.unlink()
    return rows


def markdown(rows: list[dict[str, object]]) -> str:
    lines = ["| engine | numbers | import rows/s | ceiling (load_numbers) rows/s | import / ceiling"
             " | import rows/CPU-s | ceiling rows/CPU-s | report ms | report ms after VACUUM/ANALYZE |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r['engine']} | {r['size']:,} | {r['import_rows_per_s']:,} | {r['ceiling_rows_per_s']:,}"
                     f" | {r['import_to_ceiling']} | {r['import_rows_per_cpu_s']:,} | {r['ceiling_rows_per_cpu_s']:,}"
                     f" | {r['report_ms']} | {r['report_ms_vacuumed']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000")
    parser.add_argument("--engines", default="sqlite,postgres")
    args = parser.parse_args()
    results = asyncio.run(main([int(s) for s in args.sizes.split(",")], args.engines.split(",")))
    stamp = time.strftime("%Y-%m-%dT%H%M%SZ", time.gmtime())
    RESULTS.mkdir(exist_ok=True)
    record = {"time": stamp, "commit": _commit(), "cpu": platform.processor() or platform.machine(),
              "cpus": os.cpu_count(), "rows": results}
    (RESULTS / f"import-{stamp}.json").write_text(json.dumps(record, indent=2) + "\n")
    print(markdown(results))
