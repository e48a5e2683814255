"""What PgBouncer in transaction mode costs: the search and GET operation figures with asyncpg's
statement cache on and off, direct to PostgreSQL and through a real PgBouncer.

    python -m bench.pooler                 # 10 k numbers, 3 rounds of 5 s per figure, 2000 sequential
    python -m bench.pooler --seconds 3 --rounds 2 --sequential 1000

The variants are measured in turns (A, B, C, A, B, C, ...) on one database, so the machine's
drift hits them alike; the medians over rounds are printed as a Markdown table. Then the cost
per request: all three servers up, one request at a time, taking turns every 100 requests,
median milliseconds per search and per GET operation. PgBouncer is
Debian's package (`make tools`), started on a free port by tests/support/pgbouncer.py, as the
scale-out tests start it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.load import wrk_available
from bench.run import (
    HOLD_SECONDS, POSTGRES, SEARCH_BODY, VERSION, _admin, _load_inventory, measure_search_then_operation, process,
)
from numberpool.core.resources import DEV_ACCESS_KEY
from tests.support.hmac_auth import HmacAuth
from tests.support.pgbouncer import PgBouncer
from tests.support.server import free_port

VARIANTS = ("direct, cache on", "direct, statement_cache_size=0", "PgBouncer, statement_cache_size=0")


def _measure(url: str, workdir: Path, seconds: float, connections: int) -> dict[str, float]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "numberpool", "serve", "--no-tls", "--port", str(port),
               "--data-dir", str(workdir), "--database", url, "--inventory-size", "0",
               "--hold-minutes", str(HOLD_SECONDS / 60)]
    with process(command, port):
        search, operation = measure_search_then_operation(base, seconds, connections)
    time.sleep(HOLD_SECONDS)  # the load's holds lapse before the next variant
    return {"search_rps": search.requests_per_second, "search_p50_ms": search.p50_ms,
            "search_errors": search.errors + operation.errors,
            "operation_rps": operation.requests_per_second, "operation_p50_ms": operation.p50_ms}


def _interleaved(urls: list[str], workdir: Path, rounds: int, per_round: int) -> dict[str, dict[str, float]]:
    """Median milliseconds per request, one request at a time, with the variants' servers all up
    and taking turns every `per_round` requests: the machine's drift and load hit them alike."""
    timings: dict[str, dict[str, list[float]]] = {v: {"search": [], "operation": []} for v in VARIANTS}
    with contextlib.ExitStack() as stack:
        clients = {}
        for variant, url in zip(VARIANTS, urls):
            port = free_port()
            stack.enter_context(process(
                [sys.executable, "-m", "numberpool", "serve", "--no-tls", "--port", str(port),
                 "--data-dir", str(workdir), "--database", url, "--inventory-size", "0",
                 "--hold-minutes", str(HOLD_SECONDS / 60)], port))
            clients[variant] = stack.enter_context(
                httpx.Client(base_url=f"http://127.0.0.1:{port}", auth=HmacAuth(DEV_ACCESS_KEY)))
        search = f"/availablePhoneNumbers/countries/US/:search?api-version={VERSION}"
        for _ in range(rounds):
            for variant, client in clients.items():
                for _ in range(per_round):
                    started = time.perf_counter()
                    answer = client.post(search, json=SEARCH_BODY)
                    timings[variant]["search"].append(time.perf_counter() - started)
                    assert answer.status_code == 202, answer.text
                    location = answer.headers["operation-location"]
                    started = time.perf_counter()
                    assert client.get(location).status_code == 200
                    timings[variant]["operation"].append(time.perf_counter() - started)
    return {v: {k: statistics.median(t) * 1e3 for k, t in kinds.items()} for v, kinds in timings.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--sequential", type=int, default=2000, metavar="N",
                        help="requests per variant, one at a time, in turns of 100 (0: skip)")
    args = parser.parse_args(argv)
    if not wrk_available():
        parser.error("wrk is not installed (make tools)")
    database = f"numberpool_bench_pooler_{time.time_ns()}"
    asyncio.run(_admin(f'CREATE DATABASE "{database}"'))
    direct = POSTGRES.rsplit("/", 1)[0] + "/" + database
    bouncer = PgBouncer(server_pool_size=10).start()
    try:
        asyncio.run(_load_inventory(direct, args.size))
        urls = [direct, direct + "?statement_cache_size=0", bouncer.url(direct)]
        results: dict[str, list[dict[str, float]]] = {v: [] for v in VARIANTS}
        with tempfile.TemporaryDirectory() as workdir:
            for round_ in range(args.rounds):
                for variant, url in zip(VARIANTS, urls):
                    results[variant].append(_measure(url, Path(workdir), args.seconds, args.connections))
                    print(f"  round {round_ + 1}, {variant}: {results[variant][-1]}", flush=True)
            sequential = _interleaved(urls, Path(workdir), args.sequential // 100, 100) if args.sequential else {}
    finally:
        bouncer.stop()
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    base = statistics.median(r["search_rps"] for r in results[VARIANTS[0]])
    print(f"\n{args.size:,} numbers, {args.connections} connections, median of {args.rounds} rounds of "
          f"{args.seconds:g} s\n")
    print("| variant | search req/s | vs cache on | search p50 ms | GET operation req/s | errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for variant in VARIANTS:
        rows = results[variant]
        rps = statistics.median(r["search_rps"] for r in rows)
        print(f"| {variant} | {rps:.0f} | {rps / base - 1:+.0%} | "
              f"{statistics.median(r['search_p50_ms'] for r in rows):.2f} | "
              f"{statistics.median(r['operation_rps'] for r in rows):.0f} | "
              f"{sum(r['search_errors'] for r in rows):.0f} |")
    if sequential:
        first = sequential[VARIANTS[0]]
        print(f"\nOne request at a time, {args.sequential} per variant in turns of 100: median ms per request\n")
        print("| variant | search ms | vs cache on | GET operation ms | vs cache on |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for variant in VARIANTS:
            row = sequential[variant]
            print(f"| {variant} | {row['search']:.2f} | {row['search'] - first['search']:+.2f} | "
                  f"{row['operation']:.2f} | {row['operation'] - first['operation']:+.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
