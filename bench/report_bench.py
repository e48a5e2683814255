"""`inventory report` latency from the maintained counts (migration 0012), beside the exact
GROUP BY it replaced, and what the count triggers cost the bulk load, on SQLite and PostgreSQL.

    .venv/bin/python -m bench.report_bench --sizes 1000000,10000000 --engines sqlite,postgres

For each engine and size: an empty database is loaded with `bench/inventory.py` (the engine's
bulk path, `Store.load_numbers`, 100 k numbers per batch: the fastest loader there is), then
`inventory report` is timed (median of 5) and checked against one exact GROUP BY of the numbers
table (timed once: what the report cost before 0012). Then 2,000 searches run through the core
(16 at a time), which leave their count changes uncompacted on PostgreSQL; the report is timed
again, then once more after a sweep (which compacts). The database is dropped afterwards.

`--load-ab N` also loads N numbers into fresh databases, alternately with the count triggers and
with them dropped, `--rounds` times each, and reports the median load rate of each.
Results go to bench/results/report-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import asyncpg

from bench.import_bench import RESULTS, Database, _commit
from bench.inventory import load
from numberpool.core import search
from numberpool.core.context import Context, Settings
from numberpool.core.inventory_report import inventory_report
from numberpool.core.model import AssignmentType, Capabilities, Direction, NumberType
from numberpool.store import Store, open_store

EXACT = "SELECT country, number_type, area_code, state, count(*) FROM numbers GROUP BY 1, 2, 3, 4"
TRIGGERS = ("numbers_counted_insert", "numbers_counted_delete", "numbers_counted_update", "numbers_counted_truncate")
SEARCHES, CONCURRENCY = 2_000, 16


async def _sql(url: str, sql: str) -> list[tuple]:
    if url.startswith("postgresql://"):
        db = await asyncpg.connect(url)
        try:
            return [tuple(row) for row in await db.fetch(sql)]
        finally:
            await db.close()
    import sqlite3

    with sqlite3.connect(url) as db:
        return db.execute(sql).fetchall()


async def _report_ms(store: Store) -> float:
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        await inventory_report(store)
        timings.append(time.perf_counter() - started)
    return round(statistics.median(timings) * 1000, 2)


async def _searches(store: Store) -> None:
    ctx = Context(store, Settings(hold_minutes=15))
    request = search.SearchRequest(
        NumberType.GEOGRAPHIC, AssignmentType.APPLICATION, Capabilities(Direction.BOTH, Direction.NONE), None, 1
    )
    for _ in range(SEARCHES // CONCURRENCY):
        await asyncio.gather(*(search.start_search(ctx, "devresource", "US", request) for _ in range(CONCURRENCY)))


async def measure(engine: str, size: int, folder: Path) -> dict[str, object]:
    row: dict[str, object] = {"engine": engine, "size": size}
    async with Database(engine, folder) as url:
        store = await open_store(url)
        try:
            added, spent = await load(store, size)
            assert added == size
            row["load_rows_per_s"] = round(size / spent)
            row["report_ms"] = await _report_ms(store)
            started = time.perf_counter()
            exact = sorted(await _sql(url, EXACT))
            row["group_by_ms"] = round((time.perf_counter() - started) * 1000, 1)
            report = await inventory_report(store)
            assert [tuple(r) for r in report.rows] == [tuple(r) for r in exact] and report.total == size
            row["report_groups"] = len(report.rows)
            await _searches(store)
            if engine == "postgres":
                row["deltas_after_searches"] = (await _sql(url, "SELECT count(*) FROM number_count_deltas"))[0][0]
            row["report_ms_after_searches"] = await _report_ms(store)
            await store.sweep_expired(time.time() + 3600)
            row["report_ms_after_sweep"] = await _report_ms(store)
            assert await inventory_report(store) == report  # every hold returned: the counts as loaded
        finally:
            await store.close()
    return row


async def load_rate(engine: str, size: int, folder: Path, triggers: bool) -> float:
    async with Database(engine, folder) as url:
        store = await open_store(url)
        try:
            if not triggers:
                on = " ON numbers" if engine == "postgres" else ""
                for name in TRIGGERS:
                    await _sql(url, f"DROP TRIGGER IF EXISTS {name}{on}")
            added, spent = await load(store, size)
            assert added == size
            return size / spent
        finally:
            await store.close()


async def main_async(args: argparse.Namespace) -> list[dict[str, object]]:
    # `timeout` ends a run with SIGTERM: cancel, so that every database made so far is dropped.
    current = asyncio.current_task()
    assert current is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, current.cancel)
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="numberpool-report-") as work:
        for engine in args.engines.split(","):
            for size in (int(s) for s in args.sizes.split(",") if s):
                row = await measure(engine, size, Path(work))
                print(json.dumps(row), flush=True)
                rows.append(row)
            if args.load_ab:
                rates: dict[str, list[float]] = {"with": [], "without": []}
                for turn in range(args.rounds):
                    for variant in ("with", "without") if turn % 2 == 0 else ("without", "with"):
                        rate = await load_rate(engine, args.load_ab, Path(work), variant == "with")
                        rates[variant].append(rate)
                        print(f"{engine} load {args.load_ab:,} {variant} count triggers: {rate:,.0f} numbers/s", flush=True)
                row = {"engine": engine, "load_ab_size": args.load_ab,
                       "load_rows_per_s_with_triggers": round(statistics.median(rates["with"])),
                       "load_rows_per_s_without_triggers": round(statistics.median(rates["without"])),
                       "rounds": args.rounds}
                print(json.dumps(row), flush=True)
                rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000000")
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--load-ab", type=int, default=0, help="numbers per load in the trigger A/B (0: none)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    rows = asyncio.run(main_async(args))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"report-{time.strftime('%Y-%m-%dT%H%M%SZ', time.gmtime())}.json"
    out.write_text(json.dumps({"commit": _commit(), "rows": rows}, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
