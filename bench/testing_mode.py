"""Testing mode's costs: the reset a test suite runs before every test, and search with testing on.

    python -m bench.testing_mode                      # SQLite file, the default demo inventory
    python -m bench.testing_mode --engines sqlite,postgres --seconds 3 --rounds 3

- reset: a server with the default demo inventory (`--inventory-size 1000`) is dirtied the way a
  test dirties it (searches holding numbers, purchases, fault rules, a moved clock), then
  `POST /_numberpool/reset` is timed from the client; repeated, median and worst reported.
- search A/B: the same server without and with `--testing` (no rules), alternating, under wrk:
  what the fault hook costs an ACS request when no rule is in place.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.load import wrk_available
from bench.run import POSTGRES, _wait_port, measure_search
from numberpool.api.admin_auth import DEV_ADMIN_TOKEN
from numberpool.core.resources import DEV_ACCESS_KEY
from tests.support.hmac_auth import HmacAuth
from tests.support.server import free_port

VERSION = "2025-06-01"
SEARCH = {"phoneNumberType": "geographic", "assignmentType": "application", "areaCode": "425",
          "capabilities": {"calling": "inbound+outbound", "sms": "none"}}


def _database(engine: str, folder: Path) -> tuple[str, str | None]:
    """(database URL, PostgreSQL database to drop afterwards)."""
    if engine == "sqlite":
        return str(folder / f"bench-{time.monotonic_ns()}.db"), None
    import asyncio

    import asyncpg

    name = f"numberpool_bench_testing_{time.monotonic_ns()}"

    async def create() -> None:
        connection = await asyncpg.connect(POSTGRES)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(create())
    return POSTGRES.rsplit("/", 1)[0] + "/" + name, name


def _drop(name: str | None) -> None:
    if name is None:
        return
    import asyncio

    import asyncpg

    async def drop() -> None:
        connection = await asyncpg.connect(POSTGRES)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    asyncio.run(drop())


@contextmanager
def process(command: list[str], port: int) -> Iterator[subprocess.Popen[str]]:
    """A server process, waited for long enough to seed the demo inventory on a busy machine."""
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    try:
        _wait_port(port, timeout=600)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def _serve(database: str, folder: Path, port: int, *flags: str) -> list[str]:
    import sys

    return [sys.executable, "-m", "numberpool", "serve", "--no-tls", "--port", str(port), "--data-dir", str(folder),
            "--database", database, *flags]


def _dirty(acs: httpx.Client, admin: httpx.Client) -> None:
    """What a test leaves behind: holds, purchases, fault rules, a moved clock."""
    for index in range(5):
        started = acs.post("/availablePhoneNumbers/countries/US/:search", params={"api-version": VERSION},
                           json={**SEARCH, "quantity": 10})
        assert started.status_code == 202, started.text
        if index < 2:
            bought = acs.post("/availablePhoneNumbers/:purchase", params={"api-version": VERSION},
                              json={"searchId": started.headers["search-id"]})
            assert bought.status_code == 202, bought.text
    rules = [{"operation": "GetOperation", "effect": {"latencyMs": 1}}] * 3
    assert admin.post("/_numberpool/faults", json={"rules": rules}).status_code == 200
    assert admin.post("/_numberpool/clock", json={"advanceSeconds": 60}).status_code == 200


def bench_reset(engine: str, rounds: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        database, own = _database(engine, folder)
        port = free_port()
        try:
            with process(_serve(database, folder, port, "--testing"), port):
                base = f"http://127.0.0.1:{port}"
                with httpx.Client(base_url=base, auth=HmacAuth(DEV_ACCESS_KEY), timeout=60) as acs, \
                        httpx.Client(base_url=base, timeout=60,
                                     headers={"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"}) as admin:
                    numbers = 0
                    timings = []
                    for _ in range(rounds):
                        _dirty(acs, admin)
                        started = time.perf_counter()
                        answer = admin.post("/_numberpool/reset")
                        timings.append((time.perf_counter() - started) * 1000)
                        assert answer.status_code == 204, answer.text
                    listed = acs.get("/availablePhoneNumbers/countries/US/areaCodes",
                                     params={"api-version": VERSION, "phoneNumberType": "geographic"})
                    numbers = len(listed.json().get("areaCodes", []))
        finally:
            _drop(own)
    return {"median_ms": statistics.median(timings), "max_ms": max(timings), "rounds": rounds,
            "us_geographic_area_codes": numbers}


def bench_search_ab(engine: str, seconds: float, repeats: int, connections: int) -> dict[str, list[float]]:
    """req/s of search without and with --testing, alternating `repeats` times."""
    figures: dict[str, list[float]] = {"off": [], "on": []}
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        database, own = _database(engine, folder)
        try:
            for _ in range(repeats):
                for mode, flags in (("off", ()), ("on", ("--testing",))):
                    port = free_port()
                    with process(_serve(database, folder, port, "--hold-minutes", "0.05", *flags), port):
                        base = f"http://127.0.0.1:{port}"
                        measure_search(base, 1, connections, DEV_ACCESS_KEY)  # warm up
                        figures[mode].append(measure_search(base, seconds, connections, DEV_ACCESS_KEY)
                                             .requests_per_second)
        finally:
            _drop(own)
    return figures


def bench_hook_cost(calls: int = 200_000) -> float:
    """Microseconds the fault hook adds to one ACS request when no rule is in place (in process):
    `FaultHook.handle` around a handler that does nothing, minus the bare handler."""
    import asyncio
    from types import SimpleNamespace

    from numberpool.api.testing.faults_hook import FaultHook
    from numberpool.core.faults import FaultBook
    from numberpool.core.timeutil import SharedClock

    class NoRules:
        async def faults_version(self) -> int:
            return 0

        async def fault_rules(self) -> tuple[int, list[object]]:
            return 0, []

        async def clock_state(self) -> tuple[float, int]:
            return 0.0, 0

    async def nothing(call: object) -> None:
        return None

    async def run() -> float:
        hook = FaultHook(FaultBook(NoRules()))  # type: ignore[arg-type]
        endpoint = SimpleNamespace(handler=nothing, operation="SearchAvailablePhoneNumbers")
        call = SimpleNamespace(ctx=SimpleNamespace(clock=SharedClock(NoRules())), resource="devresource",  # type: ignore[arg-type]
                               request=SimpleNamespace(path_params={"country": "US"}), body=b"")
        started = time.perf_counter()
        for _ in range(calls):
            await hook.handle(endpoint, call)  # type: ignore[arg-type]
        hooked = time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(calls):
            await endpoint.handler(call)
        bare = time.perf_counter() - started
        return (hooked - bare) / calls * 1e6

    return asyncio.run(run())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", default="sqlite", help="comma-separated: sqlite,postgres")
    parser.add_argument("--rounds", type=int, default=20, help="resets timed per engine")
    parser.add_argument("--seconds", type=float, default=3.0, help="wrk seconds per search figure")
    parser.add_argument("--repeats", type=int, default=3, help="off/on alternations of the search A/B")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--no-search", action="store_true", help="time the reset only")
    args = parser.parse_args(argv)
    print(f"fault check with no rules: {bench_hook_cost():.2f} us per request (in process)")
    for engine in args.engines.split(","):
        reset = bench_reset(engine, args.rounds)
        print(f"{engine}: reset on the default demo inventory after a test's worth of state: "
              f"median {reset['median_ms']:.1f} ms, worst {reset['max_ms']:.1f} ms over {reset['rounds']} rounds")
        if args.no_search:
            continue
        if not wrk_available():
            print(f"{engine}: search A/B skipped: wrk is not installed (make tools)")
            continue
        ab = bench_search_ab(engine, args.seconds, args.repeats, args.connections)
        print(f"{engine}: search req/s, testing off: {', '.join(f'{x:,.0f}' for x in ab['off'])}"
              f" (median {statistics.median(ab['off']):,.0f}); on, no rules: "
              f"{', '.join(f'{x:,.0f}' for x in ab['on'])} (median {statistics.median(ab['on']):,.0f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
