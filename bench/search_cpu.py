"""Searches run in process, without HTTP: CPU and wall time per search of the code on `sys.path`.

    python -m bench.search_cpu DATABASE_URL [--size N] [--searches N]

Loads `--size` numbers into the (new, empty) database, warms up, then runs `--searches` searches
of one US geographic number, 16 at a time, through `core.search.start_search` (the ACS search's
whole store work: the one-statement search on PostgreSQL, group commit on SQLite). Prints one JSON
line: this process's CPU microseconds per search (PostgreSQL's own CPU is not in it) and wall
microseconds per search. `bench/ab.py --in-process` runs it for two source trees, alternating.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from bench import inventory
from numberpool.core import search
from numberpool.core.context import Context, Settings
from numberpool.core.model import AssignmentType, Capabilities, Direction, NumberType
from numberpool.store import open_store

CONCURRENCY = 16


async def measure(url: str, size: int, searches: int) -> dict[str, float]:
    store = await open_store(url)
    try:
        await inventory.load(store, size)
        ctx = Context(store, Settings(hold_minutes=15))
        request = search.SearchRequest(
            NumberType.GEOGRAPHIC, AssignmentType.APPLICATION, Capabilities(Direction.BOTH, Direction.NONE), None, 1
        )

        async def batch() -> None:
            await asyncio.gather(*(search.start_search(ctx, "devresource", "US", request) for _ in range(CONCURRENCY)))

        for _ in range(200 // CONCURRENCY):
            await batch()
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(searches // CONCURRENCY):
            await batch()
        done = searches // CONCURRENCY * CONCURRENCY
        return {"cpu_us": 1e6 * (time.process_time() - cpu) / done, "wall_us": 1e6 * (time.perf_counter() - wall) / done}
    finally:
        await store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--searches", type=int, default=4_000)
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(measure(args.url, args.size, args.searches))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
