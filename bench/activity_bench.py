"""`GET /activity` (core/activity.py) at a large audit trail, before and after migration 0015, on
SQLite and PostgreSQL.

    .venv/bin/python -m bench.activity_bench --events 500000 --engines sqlite,postgres

For each engine and layout an empty database gets `--events` synthetic audit events (the mix a
search load leaves: searches of 1-3 numbers, each holding with one `held` event per number, a
third of them bought, the rest lapsing), their ids growing with their times, either all within the
last 20 hours (`recent`: every event is in the 24-hour window, the worst case) or spread over 30
days (`month`). Then, each the median of 5 calls:
- before: the query of migrations 0011-0014 (a binary search on the primary key for the window's
  first event, then a scan of the window sorted by hour), with the 0015 indexes dropped;
- the time CREATE INDEX of migration 0015 takes on that trail;
- after: `core.activity.hourly_activity`, as the admin route calls it; on PostgreSQL once after
  ANALYZE (fresh rows: heap fetches) and once after VACUUM ANALYZE (index-only, as autovacuum
  leaves the table).
Every answer is checked against a straightforward count (GROUP BY hour over the whole table).
Results go to bench/results/activity-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg

from bench.import_bench import RESULTS, Database, _commit
from numberpool.core.activity import hourly_activity
from numberpool.store import open_store

HOUR = 3600
COLUMNS = ("at", "event", "phone_number", "old_state", "new_state", "resource", "reference", "actor", "detail")
INDEXES = ("number_events_held", "number_events_purchased")
LAYOUTS = {"recent": 20 * HOUR, "month": 30 * 24 * HOUR}

# The SQL of migrations 0011-0014, kept here to measure against: the window's events from the first
# id on (found by a binary search on the primary key), grouped by hour.
BEFORE = (
    "SELECT {hour} AS hour, COUNT(DISTINCT CASE WHEN event = 'held' THEN reference END),"
    " COUNT(CASE WHEN event = 'purchased' THEN 1 END)"
    " FROM number_events WHERE id >= {p2} AND at >= {p3} AND at < {p4}"
    " AND event IN ('held', 'purchased') GROUP BY 1 ORDER BY 1"
)
STRAIGHT = (
    "SELECT {hour} AS hour, COUNT(DISTINCT CASE WHEN event = 'held' THEN reference END),"
    " COUNT(CASE WHEN event = 'purchased' THEN 1 END)"
    " FROM number_events WHERE at >= {p2} AND at < {p3} GROUP BY 1 ORDER BY 1"
)


def trail(size: int, span: float, now: float) -> list[tuple[Any, ...]]:
    """`size` events whose times grow with their order, from `now - span` to `now`."""
    rnd = random.Random(7)
    rows: list[tuple[Any, ...]] = []
    search = 0
    while len(rows) < size:
        at = now - span + span * len(rows) / size
        search += 1
        reference = f"{search:08x}-5a3c-4d5e-8f00-000000000000"
        numbers = [f"+1425{rnd.randrange(10**7):07d}" for _ in range(rnd.choice((1, 1, 1, 2, 3)))]
        rows += [(at, "held", n, "available", "held", "bench", reference, "bench", None) for n in numbers]
        if rnd.random() < 1 / 3:
            rows += [(at + 5, "purchased", n, "held", "purchased", "bench", f"purchase_{search}", "bench", None)
                     for n in numbers]
        else:
            rows += [(at + 900, "hold lapsed", n, "held", "available", "bench", reference, "system", None)
                     for n in numbers]
    return rows[:size]


class Sql:
    """One connection of either engine, for the SQL this bench runs beside the store."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.postgres = url.startswith("postgresql://")

    async def __aenter__(self) -> Sql:
        self.db: Any = await asyncpg.connect(self.url) if self.postgres else sqlite3.connect(self.url)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.db.close() if self.postgres else self.db.close()

    def text(self, template: str) -> str:
        hour = "FLOOR((at - {p1}) / 3600)::int" if self.postgres else "CAST((at - {p1}) / 3600 AS INTEGER)"
        marks = {f"p{n}": f"${n}" if self.postgres else "?" for n in range(1, 5)}
        return template.format(hour=hour.format(**marks), **marks)

    async def fetch(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        if self.postgres:
            return [tuple(row) for row in await self.db.fetch(sql, *args)]
        return self.db.execute(sql, args).fetchall()

    async def execute(self, sql: str) -> None:
        if self.postgres:
            await self.db.execute(sql)
        else:
            self.db.execute(sql)
            self.db.commit()

    async def load(self, rows: list[tuple[Any, ...]]) -> None:
        if self.postgres:
            await self.db.copy_records_to_table("number_events", records=rows, columns=COLUMNS)
        else:
            self.db.executemany(f"INSERT INTO number_events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * 9)})", rows)
            self.db.commit()


async def before(sql: Sql, since: float, hours: int) -> list[tuple[int, int, int]]:
    """The 0011-0014 way: binary search on the primary key, then the window grouped by hour."""
    first_sql = "SELECT at FROM number_events WHERE id >= {p1} ORDER BY id LIMIT 1"

    async def from_here(event_id: int) -> bool:
        found = await sql.fetch(sql.text(first_sql), event_id)
        return not found or found[0][0] >= since

    high = 1
    while not await from_here(high):
        high *= 2
    low = high // 2 + 1 if high > 1 else 1
    while low < high:
        middle = (low + high) // 2
        if await from_here(middle):
            high = middle
        else:
            low = middle + 1
    return await sql.fetch(sql.text(BEFORE), since, low, since, since + hours * HOUR)


async def median_ms(call: Callable[[], Awaitable[Any]]) -> float:
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        await call()
        timings.append(time.perf_counter() - started)
    return round(statistics.median(timings) * 1000, 1)


def nonzero(series: list[Any]) -> list[tuple[int, int, int]]:
    return [(hour, s, p) for hour, s, p in series if s or p]


async def measure(engine: str, size: int, layout: str, folder: Path) -> dict[str, object]:
    row: dict[str, object] = {"engine": engine, "events": size, "layout": layout}
    now = time.time()
    since = (now // HOUR - 23) * HOUR
    async with Database(engine, folder) as url:
        store = await open_store(url)  # migrations up to 0015
        try:
            async with Sql(url) as sql:
                for index in INDEXES:
                    await sql.execute(f"DROP INDEX {index}")
                await sql.load(trail(size, LAYOUTS[layout], now))
                await sql.execute("ANALYZE" if not sql.postgres else "ANALYZE number_events")
                expected = nonzero(await sql.fetch(sql.text(STRAIGHT), since, since, since + 24 * HOUR))
                row["window_events"] = (await sql.fetch(sql.text(
                    "SELECT COUNT(*) FROM number_events WHERE at >= {p1} AND event IN ('held', 'purchased')"), since))[0][0]
                assert nonzero(await before(sql, since, 24)) == expected
                row["before_ms"] = await median_ms(lambda: before(sql, since, 24))

                started = time.perf_counter()
                for line in (Path(__file__).parents[1] / "src/numberpool/store/migrations" /
                             ("postgres" if sql.postgres else "sqlite") / "0015_activity_indexes.sql").read_text().splitlines():
                    if line.startswith("CREATE INDEX"):
                        await sql.execute(line)
                row["create_indexes_s"] = round(time.perf_counter() - started, 2)
                await sql.execute("ANALYZE" if not sql.postgres else "ANALYZE number_events")

                async def after() -> list[tuple[int, int, int]]:
                    series = await hourly_activity(store, now)
                    return [(int((h.start - since) // HOUR), h.searches, h.purchases) for h in series]

                assert nonzero(await after()) == expected
                row["after_ms"] = await median_ms(after)
                if sql.postgres:
                    await sql.execute("VACUUM ANALYZE number_events")
                    row["after_vacuumed_ms"] = await median_ms(after)
        finally:
            await store.close()
    return row


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--layouts", default="recent,month")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="numberpool-activity-") as folder:
        for engine in args.engines.split(","):
            for layout in args.layouts.split(","):
                rows.append(await measure(engine, args.events, layout, Path(folder)))
                print(json.dumps(rows[-1]), flush=True)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"activity-{time.strftime('%Y-%m-%dT%H%M%SZ', time.gmtime())}.json"
    out.write_text(json.dumps({"commit": _commit(), "rows": rows}, indent=2) + "\n")
    print(f"written {out}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
