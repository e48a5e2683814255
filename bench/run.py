"""numberpool benchmarks: the search path against its ceiling, at several inventory sizes, on both engines.

    python -m bench.run            # full: 10 k, 1 M and 10 M numbers, SQLite and PostgreSQL
    python -m bench.run --quick    # under 3 minutes: 10 k numbers, both engines
    python -m bench.run --smoke    # seconds: tiny inventory, SQLite, a second of load (part of the tests)

Writes bench/results/<timestamp>.json and .md (and latest.json / latest.md).
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
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

from bench import inventory
from bench.load import LoadResult, run_wrk, signed_lua, wrk_available
from numberpool.core.resources import DEV_ACCESS_KEY
from numberpool.store import open_store
from tests.support.hmac_auth import HmacAuth
from tests.support.server import free_port

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SPEC = ROOT.parent / "shared" / "reference" / "acs-spec" / "PhoneNumbers" / "stable" / "2025-06-01" / "phonenumbers.json"
PRISM = ROOT / "bench" / "prism" / "node_modules" / ".bin" / "prism"
VERSION = "2025-06-01"
SEARCH_BODY = {"phoneNumberType": "geographic", "assignmentType": "application",
               "capabilities": {"calling": "inbound+outbound", "sms": "none"}, "quantity": 1}
HOLD_SECONDS = 3.0  # short holds, so the load recycles the inventory instead of exhausting it
POSTGRES = os.environ.get("NUMBERPOOL_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


@dataclass
class Row:
    engine: str
    inventory: int
    load_numbers_per_s: float = 0.0
    database_mb: float = 0.0
    rss_mb_idle: float = 0.0
    rss_mb_after: float = 0.0
    figures: dict[str, Any] = field(default_factory=dict)


# --- processes -------------------------------------------------------------------------------


def _wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


@contextmanager
def process(command: list[str], port: int, env: dict[str, str] | None = None):
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    try:
        _wait_port(port)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def uvicorn_command(app: str, port: int, *, factory: bool = False, numberpool_protocol: bool = False) -> list[str]:
    """uvicorn as numberpool's `serve` runs it, for the ceiling app; with `numberpool_protocol`
    also through serve's HTTP protocol (`server/graceful.py`: one socket write per turn) instead
    of uvicorn's own."""
    imports = "import uvicorn; from numberpool.server.graceful import GracefulHttpToolsProtocol"
    code = "%s; uvicorn.run(%r, host='127.0.0.1', port=%d, log_level='warning', access_log=False%s%s)" % (
        imports, app, port, ", factory=True" if factory else "",
        ", http=GracefulHttpToolsProtocol" if numberpool_protocol else "",
    )
    return [sys.executable, "-c", code]


# --- measurements ----------------------------------------------------------------------------


def measure_search(base: str, seconds: float, connections: int, key: str | None) -> LoadResult:
    path = f"/availablePhoneNumbers/countries/US/:search?api-version={VERSION}"
    body = json.dumps(SEARCH_BODY).encode()
    return run_wrk(base + path, signed_lua("POST", base, path, key, body), seconds, connections)


def start_search(base: str) -> tuple[str, str]:
    """One signed search; its operation id and search id."""
    with httpx.Client(base_url=base, auth=HmacAuth(DEV_ACCESS_KEY)) as client:
        started = client.post(f"/availablePhoneNumbers/countries/US/:search?api-version={VERSION}", json=SEARCH_BODY)
    return started.headers["operation-id"], started.headers["search-id"]


def measure_get(base: str, path: str, seconds: float, connections: int) -> LoadResult:
    """A signed GET of `path` (with its query) under load."""
    return run_wrk(base + path, signed_lua("GET", base, path, DEV_ACCESS_KEY), seconds, connections)


def measure_search_then_operation(base: str, seconds: float, connections: int) -> tuple[LoadResult, LoadResult]:
    """The signed search under load, then the GET of one new search's operation under load."""
    search = measure_search(base, seconds, connections, DEV_ACCESS_KEY)
    operation, _ = start_search(base)
    get = measure_get(base, f"/phoneNumbers/operations/{operation}?api-version={VERSION}", seconds, connections)
    return search, get


def measure_ceiling(seconds: float, connections: int, *, numberpool_protocol: bool = False) -> LoadResult:
    port = free_port()
    with process(uvicorn_command("bench.ceiling:app", port, numberpool_protocol=numberpool_protocol), port):
        return measure_search(f"http://127.0.0.1:{port}", seconds, connections, DEV_ACCESS_KEY)


def measure_floor(database: str, seconds: float, connections: int) -> dict[str, Any]:
    """The floor's search and GET of an operation (`bench/floor.py`), on the row's own database,
    through numberpool's HTTP protocol."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"NUMBERPOOL_FLOOR_DATABASE": database, "NUMBERPOOL_FLOOR_KEY": DEV_ACCESS_KEY}
    command = uvicorn_command("bench.floor:app", port, factory=True, numberpool_protocol=True)
    with process(command, port, env):
        search, get = measure_search_then_operation(base, seconds, connections)
    time.sleep(HOLD_SECONDS)  # the floor's holds lapse before numberpool searches
    return {"floor_search": asdict(search), "floor_get_operation": asdict(get)}


def measure_prism(seconds: float, connections: int) -> LoadResult | None:
    if not PRISM.exists() or not SPEC.exists():
        print(f"  prism: skipped ({PRISM if not PRISM.exists() else SPEC} missing; npm ci in bench/prism)")
        return None
    port = free_port()
    with process([str(PRISM), "mock", str(SPEC), "-h", "127.0.0.1", "-p", str(port)], port):
        return measure_search(f"http://127.0.0.1:{port}", seconds, connections, DEV_ACCESS_KEY)


def sdk_lifecycle(endpoint: str, rounds: int) -> dict[str, float]:
    from azure.communication.phonenumbers import PhoneNumberCapabilities, PhoneNumbersClient
    from azure.core.credentials import AzureKeyCredential

    # Over plain HTTP: a connection string would make the SDK use https.
    client = PhoneNumbersClient(endpoint, AzureKeyCredential(DEV_ACCESS_KEY))
    caps = PhoneNumberCapabilities(calling="inbound+outbound", sms="none")
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        found = client.begin_search_available_phone_numbers(
            "US", "geographic", "application", caps, quantity=1, polling_interval=0).result()
        client.begin_purchase_phone_numbers(found.search_id, polling_interval=0).result()
        client.begin_release_phone_number(found.phone_numbers[0], polling_interval=0).result()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {"median_ms": statistics.median(timings), "p99_ms": timings[min(len(timings) - 1, int(len(timings) * 0.99))],
            "rounds": rounds}


async def _load_inventory(url: str, size: int) -> tuple[int, float]:
    store = await open_store(url)
    try:
        loaded = await inventory.load(store, size)
    finally:
        await store.close()
    await _settle(url)
    return loaded


async def _settle(url: str) -> None:
    """What an operator does after a bulk load: fresh planner statistics (and, on PostgreSQL, the
    visibility map), so that measurements do not race autovacuum working through the new rows."""
    if url.startswith("postgresql://"):
        import asyncpg

        db = await asyncpg.connect(url)
        try:
            await db.execute("VACUUM ANALYZE numbers")
        finally:
            await db.close()
    else:
        import sqlite3

        db = sqlite3.connect(url)
        try:
            db.execute("ANALYZE")
        finally:
            db.close()


async def _admin(sql: str) -> None:
    import asyncpg

    db = await asyncpg.connect(POSTGRES)
    try:
        await db.execute(sql)
    finally:
        await db.close()


def _postgres_size_mb(url: str) -> float:
    import asyncpg

    async def size() -> float:
        db = await asyncpg.connect(url)
        try:
            return (await db.fetchval("SELECT pg_database_size(current_database())")) / 2**20
        finally:
            await db.close()

    return asyncio.run(size())


def bench_engine(
    engine: str, size: int, workdir: Path, seconds: float, connections: int, rounds: int, *, prism: bool = True
) -> Row:
    """One row: load the inventory, then the references (ceiling, Prism) right before numberpool's
    own figures, so each ratio compares measurements taken seconds apart on a machine whose speed drifts."""
    row = Row(engine, size)
    if engine == "postgres":
        database = f"numberpool_bench_{os.getpid()}_{size}"
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{database}"'))
        asyncio.run(_admin(f'CREATE DATABASE "{database}"'))
        url = POSTGRES.rsplit("/", 1)[0] + "/" + database
    else:
        url = str(workdir / f"bench-{size}.db")
    try:
        print(f"  {engine} {size:,}: loading...", flush=True)
        added, spent = asyncio.run(_load_inventory(url, size))
        row.load_numbers_per_s = added / spent if spent else 0.0
        row.database_mb = _postgres_size_mb(url) if engine == "postgres" else sum(
            p.stat().st_size for p in workdir.glob(f"bench-{size}.db*")) / 2**20
        print(f"  {engine} {size:,}: ceiling{', Prism' if prism else ''} and floor...", flush=True)
        row.figures["ceiling"] = asdict(measure_ceiling(seconds, connections))
        row.figures["ceiling_one_write"] = asdict(measure_ceiling(seconds, connections, numberpool_protocol=True))
        if prism:
            measured = measure_prism(seconds, connections)
            row.figures["prism"] = asdict(measured) if measured else None
        row.figures.update(measure_floor(url, seconds, connections))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "numberpool", "serve", "--no-tls", "--port", str(port),
                   "--data-dir", str(workdir / "data"), "--database", url, "--inventory-size", "0",
                   "--hold-minutes", str(HOLD_SECONDS / 60)]
        with process(command, port) as server:
            row.rss_mb_idle = rss_mb(server.pid)
            figures = row.figures
            figures["search"] = asdict(measure_search(base, seconds, connections, DEV_ACCESS_KEY))
            holds_lapse = time.monotonic() + HOLD_SECONDS
            operation, search_id = start_search(base)
            for name, path in (("get_operation", f"/phoneNumbers/operations/{operation}?api-version={VERSION}"),
                               ("get_search_result",
                                f"/availablePhoneNumbers/searchResults/{search_id}?api-version={VERSION}")):
                figures[name] = asdict(measure_get(base, path, seconds, connections))
            time.sleep(max(0.0, holds_lapse - time.monotonic()))  # the load's holds are free again
            figures["sdk_lifecycle"] = sdk_lifecycle(base, rounds)
            row.rss_mb_after = rss_mb(server.pid)
    finally:
        if engine == "postgres":
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    print(f"  {engine} {size:,}: search {row.figures['search']['requests_per_second']:.0f} req/s", flush=True)
    return row


# --- report ----------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, check=True).stdout.strip()
        # Figures of uncommitted code are marked: the commit alone would not reproduce them.
        changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/results"],
                                 cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        if changed:
            commit += "-dirty"
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {"cpu": cpu, "cores": str(os.cpu_count()), "commit": commit, "python": platform.python_version()}


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    ceilings = [row["figures"]["ceiling"]["requests_per_second"] for row in report["rows"]]
    one_write = [row["figures"]["ceiling_one_write"]["requests_per_second"] for row in report["rows"]
                 if row["figures"].get("ceiling_one_write")]
    prisms = [row["figures"]["prism"]["requests_per_second"] for row in report["rows"] if row["figures"].get("prism")]
    lines = [
        f"# numberpool benchmark {report['when']}",
        "",
        f"CPU {m['cpu']} ({m['cores']} cores), commit {m['commit']}, Python {m['python']}; "
        f"wrk {report['settings']['connections']} connections, {report['settings']['seconds']} s per figure, "
        "plain HTTP on 127.0.0.1, 1 server process.",
        "",
        "Each row's ratios are to the references measured just before its own figures: the ceiling (bare ASGI 202 "
        f"under uvicorn, same server settings; {_span(ceilings)} req/s in this run), the same app through "
        f"numberpool's HTTP protocol (one socket write per turn, the \"1-write\" columns; {_span(one_write)} req/s), "
        "the floor (bench/floor.py: only the work a signed search or GET cannot skip, on the row's own database, "
        "through numberpool's protocol) and the Prism mock of the 2025-06-01 spec "
        + (f"({_span(prisms)} req/s)." if prisms else "(not measured)."),
        "",
        "| CPU | commit | engine | inventory | load numbers/s | DB MB | RSS MB idle/after | ceiling req/s | "
        "1-write ceiling req/s | Prism req/s | search req/s | search ÷ ceiling | search ÷ 1-write ceiling | "
        "floor search ÷ ceiling | search p50/p99 ms | GET op req/s | GET op ÷ ceiling | GET op ÷ 1-write ceiling | "
        "floor GET op ÷ ceiling | GET result req/s | SDK lifecycle median/p99 ms | search ÷ Prism |",
        "| --- " * 22 + "|",
    ]
    for row in report["rows"]:
        f = row["figures"]
        search, op, result, sdk = f["search"], f["get_operation"], f["get_search_result"], f["sdk_lifecycle"]
        ceiling = f["ceiling"]["requests_per_second"]
        one = (f.get("ceiling_one_write") or {}).get("requests_per_second")
        prism = (f.get("prism") or {}).get("requests_per_second")
        vs_prism = f"{search['requests_per_second'] / prism:.2f}" if prism else "-"
        lines.append(
            f"| {m['cpu']} | {m['commit']} | {row['engine']} | {row['inventory']:,} | {row['load_numbers_per_s']:,.0f} | "
            f"{row['database_mb']:.0f} | {row['rss_mb_idle']:.0f}/{row['rss_mb_after']:.0f} | {ceiling:.0f} | "
            f"{f'{one:.0f}' if one else '-'} | {f'{prism:.0f}' if prism else '-'} | "
            f"{search['requests_per_second']:.0f} | {search['requests_per_second'] / ceiling:.2f} | "
            f"{_ratio(search, one)} | {_ratio(f.get('floor_search'), ceiling)} | "
            f"{search['p50_ms']:.2f}/{search['p99_ms']:.2f} | {op['requests_per_second']:.0f} | "
            f"{op['requests_per_second'] / ceiling:.2f} | {_ratio(op, one)} | "
            f"{_ratio(f.get('floor_get_operation'), ceiling)} | {result['requests_per_second']:.0f} | "
            f"{sdk['median_ms']:.1f}/{sdk['p99_ms']:.1f} | {vs_prism} |"
        )
    by_engine: dict[str, list[dict[str, Any]]] = {}
    for row in report["rows"]:
        by_engine.setdefault(row["engine"], []).append(row)
    for engine, rows in by_engine.items():
        if len(rows) > 1:
            small, large = rows[0], rows[-1]
            ratio = large["figures"]["search"]["p99_ms"] / small["figures"]["search"]["p99_ms"]
            ceiling_moved = large["figures"]["ceiling"]["p99_ms"] / small["figures"]["ceiling"]["p99_ms"]
            lines.append(
                f"\n{engine}: search p99 at {large['inventory']:,} ÷ at {small['inventory']:,} = {ratio:.2f}"
                f" (the ceiling's own p99 between those rows: {ceiling_moved:.2f})"
            )
    errors = sum(row["figures"][k]["errors"] for row in report["rows"]
                 for k in ("search", "get_operation", "get_search_result"))
    lines.append(f"\nNon-2xx or socket errors under load: {errors}")
    return "\n".join(lines) + "\n"


def _ratio(figure: dict[str, Any] | None, reference: float | None) -> str:
    return f"{figure['requests_per_second'] / reference:.2f}" if figure and reference else "-"


def _span(values: list[float]) -> str:
    if not values:
        return "-"
    low, high = min(values), max(values)
    return f"{low:,.0f}" if round(low) == round(high) else f"{low:,.0f}–{high:,.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="10 k numbers, both engines, 5 s per figure")
    mode.add_argument("--smoke", action="store_true", help="5 k numbers, SQLite (or --engines), 1 s per figure, no Prism")
    parser.add_argument("--engines", help="comma-separated: sqlite,postgres")
    parser.add_argument("--sizes", help="comma-separated inventory sizes")
    parser.add_argument("--seconds", type=float, help="load seconds per figure")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    if not wrk_available():
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    engines = ["sqlite"] if args.smoke else ["sqlite", "postgres"]
    sizes = [5_000] if args.smoke else [10_000] if args.quick else [10_000, 1_000_000, 10_000_000]
    seconds = 1.0 if args.smoke else 5.0 if args.quick else 10.0
    rounds = 5 if args.smoke else 50 if args.quick else 200
    engines = args.engines.split(",") if args.engines else engines
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else sizes
    seconds = args.seconds or seconds

    report: dict[str, Any] = {
        "when": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(),
        "settings": {"seconds": seconds, "connections": args.connections, "engines": engines, "sizes": sizes},
    }
    rows = []
    with tempfile.TemporaryDirectory(prefix="numberpool-bench-") as workdir:
        for engine in engines:
            for size in sizes:
                row = bench_engine(engine, size, Path(workdir), seconds, args.connections, rounds, prism=not args.smoke)
                rows.append(asdict(row))
    report["rows"] = rows

    args.out.mkdir(parents=True, exist_ok=True)
    stamp = report["when"].replace(":", "")
    text = markdown(report)
    for name in (stamp, "latest"):
        (args.out / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
        (args.out / f"{name}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
