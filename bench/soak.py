"""Soak: mixed load against one real `numberpool serve` process, with memory, error and invariant bounds.

    python -m bench.soak                  # 10 minutes on SQLite (`make soak`)
    SOAK_SECONDS=60 python -m bench.soak  # shorter (tests/test_soak.py runs 10 seconds)
    SOAK_DATABASE=postgresql://... python -m bench.soak

Clients search, read results, purchase, cancel, leave searches to expire (short holds and
a fast sweep), update capabilities, list and release, over HTTPS with HMAC signatures, as
fast as the server answers. The run fails (exit status 1) when

* the server's resident memory grows by more than SOAK_MAX_RSS_GROWTH (default 10 %)
  between the end of the warm-up (the first fifth of the run, at most 60 s) and the end;
* on SQLite, the write-ahead log file is ever larger than SOAK_MAX_WAL_MIB (default 128:
  the store keeps it to 64 MiB once rewound; a log that is never rewound grows without bound);
* any request gets an answer other than the ones the API documents for it, a 5xx, or no
  answer at all (error count must be 0);
* the inventory invariant (`Store.violations()`) has a row, during or after the run;
* the load did not run (fewer than 10 completed rounds).

The last line printed is a JSON summary. Only the loopback address is ever contacted, and
the run stops by itself after SOAK_SECONDS.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import random
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Generator
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path

import httpx

from numberpool.core.resources import DEV_ACCESS_KEY
from numberpool.store import open_store

READY = "numberpool: ready. Connection string: "
V = "api-version=2025-06-01"
AREA_CODES = ("425", "206", "212", "415")
CAPS = {"calling": "inbound+outbound", "sms": "none"}


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


class Hmac(httpx.Auth):
    """HMAC-SHA256 as the ACS SDKs sign: method, path and query as sent, date;host;content hash."""

    requires_request_body = True

    def __init__(self, key: str) -> None:
        self.key = base64.b64decode(key)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        date = formatdate(usegmt=True)
        digest = base64.b64encode(hashlib.sha256(request.content).digest()).decode()
        to_sign = f"{request.method}\n{request.url.raw_path.decode('ascii')}\n{date};{request.url.netloc.decode()};{digest}"
        signature = base64.b64encode(hmac.new(self.key, to_sign.encode(), hashlib.sha256).digest()).decode()
        request.headers["x-ms-date"] = date
        request.headers["x-ms-content-sha256"] = digest
        request.headers["Authorization"] = (
            f"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}"
        )
        yield request


def wal_mib(database: str) -> float:
    """Size of a SQLite database's write-ahead log file (0 for PostgreSQL, or when there is none)."""
    log = Path(database + "-wal")
    return 0.0 if database.startswith("postgres") or not log.exists() else log.stat().st_size / 2**20


def rss_kib(pid: int) -> int:
    """Resident set size of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


@dataclass
class Tally:
    rounds: int = 0
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    violations: list[tuple[str, str]] = field(default_factory=list)


class Server:
    """`python -m numberpool serve` on a free loopback port, its output kept."""

    def __init__(self, data_dir: Path, database: str) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.data_dir = data_dir
        self.database = database
        self.output: list[str] = []
        self.largest_wal_mib = 0.0
        command = [
            sys.executable, "-m", "numberpool", "serve", "--port", str(self.port), "--data-dir", str(data_dir),
            "--database", database, "--inventory-size", "300", "--hold-minutes", "0.05", "--sweep-seconds", "1",
        ]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._ready = threading.Event()
        threading.Thread(target=self._pump, daemon=True).start()
        if not self._ready.wait(120) or self.process.poll() is not None:
            self.stop()
            raise RuntimeError("numberpool did not start:\n" + "\n".join(self.output))

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if '"logger": "numberpool.access"' in line:
                continue  # one per request: the server writes them (as in production), the soak keeps none
            self.output.append(line.rstrip("\n"))
            if line.startswith(READY):
                self._ready.set()
        self._ready.set()

    @property
    def endpoint(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Client:
    def __init__(self, server: Server, tally: Tally, seed: int) -> None:
        self.http = httpx.AsyncClient(
            base_url=server.endpoint, auth=Hmac(DEV_ACCESS_KEY), timeout=30,
            verify=ssl.create_default_context(cafile=str(server.data_dir / "tls" / "ca.pem")),
        )
        self.tally = tally
        self.rng = random.Random(seed)
        self.owned: list[str] = []

    async def call(self, method: str, url: str, expected: tuple[int, ...], **kwargs: object) -> httpx.Response | None:
        self.tally.requests += 1
        try:
            response = await self.http.request(method, url, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            self.tally.errors.append(f"{method} {url}: {type(exc).__name__}: {exc}")
            return None
        self.tally.statuses[response.status_code] += 1
        if response.status_code not in expected:
            self.tally.errors.append(f"{method} {url}: {response.status_code} {response.text[:300]}")
            return None
        return response

    async def poll_done(self, operation_id: str) -> str | None:
        response = await self.call("GET", f"/phoneNumbers/operations/{operation_id}?{V}", (200,))
        if response is None:
            return None
        status = response.json()["status"]
        if status not in ("succeeded", "failed"):
            self.tally.errors.append(f"operation {operation_id} is {status} with no operation latency")
        return status

    async def round(self) -> None:
        rng = self.rng
        body = {"phoneNumberType": "geographic", "assignmentType": "application", "capabilities": CAPS,
                "areaCode": rng.choice(AREA_CODES), "quantity": rng.randint(1, 3)}
        started = await self.call("POST", f"/availablePhoneNumbers/countries/US/:search?{V}", (202,), json=body)
        if started is None:
            return
        search_id = started.headers["search-id"]
        if await self.poll_done(started.headers["operation-id"]) is None:
            return
        result = await self.call("GET", f"/availablePhoneNumbers/searchResults/{search_id}?{V}", (200,))
        if result is None:
            return
        numbers = result.json()["phoneNumbers"]
        roll = rng.random()
        if numbers and roll < 0.45:
            bought = await self.call("POST", f"/availablePhoneNumbers/:purchase?{V}", (202,), json={"searchId": search_id})
            if bought is not None and await self.poll_done(bought.headers["operation-id"]) == "succeeded":
                self.owned.extend(numbers)
        elif numbers and roll < 0.75:
            await self.call("DELETE", f"/phoneNumbers/operations/{started.headers['operation-id']}?{V}", (204,))
        # else: leave the hold to lapse; the sweep returns it.
        if self.owned and rng.random() < 0.3:
            number = rng.choice(self.owned)
            changed = await self.call(
                "PATCH", f"/phoneNumbers/{number}/capabilities?{V}", (202,),
                content=json.dumps({"calling": rng.choice(["inbound", "outbound", "inbound+outbound"])}),
                headers={"Content-Type": "application/merge-patch+json"},
            )
            if changed is not None:
                await self.poll_done(changed.headers["operation-id"])
            await self.call("GET", f"/phoneNumbers/{number}?{V}", (200,))
        if rng.random() < 0.2:
            await self.call("GET", f"/phoneNumbers?top=50&{V}", (200,))
        if rng.random() < 0.1:
            await self.call("GET", f"/availablePhoneNumbers/countries/US/localities?{V}", (200,))
        # Keep a handful of numbers per client so the inventory never runs dry.
        while len(self.owned) > 4 or (self.owned and rng.random() < 0.25):
            number = self.owned.pop(rng.randrange(len(self.owned)))
            released = await self.call("DELETE", f"/phoneNumbers/{number}?{V}", (202,))
            if released is not None:
                await self.poll_done(released.headers["operation-id"])
        self.tally.rounds += 1


async def check_invariant(database: str, tally: Tally) -> None:
    store = await open_store(database, max_size=1)
    try:
        tally.violations.extend(await store.violations())
    finally:
        await store.close()


async def run(seconds: float, clients: int, server: Server, tally: Tally) -> tuple[int, int, list[int]]:
    warmup = min(60.0, seconds / 5)
    deadline = time.monotonic() + seconds
    samples: list[int] = []

    async def worker(n: int) -> None:
        client = Client(server, tally, n)
        try:
            while time.monotonic() < deadline:
                await client.round()
        finally:
            await client.http.aclose()

    tasks = [asyncio.create_task(worker(n)) for n in range(clients)]
    await asyncio.sleep(warmup)
    start_rss = rss_kib(server.process.pid)
    samples.append(start_rss)
    next_check = time.monotonic() + 60
    while time.monotonic() < deadline - 1:
        await asyncio.sleep(min(5.0, max(0.0, deadline - 1 - time.monotonic())))
        samples.append(rss_kib(server.process.pid))
        server.largest_wal_mib = max(server.largest_wal_mib, wal_mib(server.database))
        if time.monotonic() >= next_check:
            await check_invariant(server.database, tally)
            next_check += 60
    await asyncio.gather(*tasks)
    end_rss = rss_kib(server.process.pid)
    samples.append(end_rss)
    return start_rss, end_rss, samples


def main() -> int:
    seconds = _env_float("SOAK_SECONDS", 600)
    clients = int(_env_float("SOAK_CLIENTS", 8))
    max_growth = _env_float("SOAK_MAX_RSS_GROWTH", 0.10)
    max_wal = _env_float("SOAK_MAX_WAL_MIB", 128)
    with tempfile.TemporaryDirectory(prefix="numberpool-soak-") as tmp:
        data_dir = Path(tmp)
        database = os.environ.get("SOAK_DATABASE") or str(data_dir / "soak.db")
        print(f"soak: {seconds:g}s, {clients} clients, database {database.split('@')[-1]}", flush=True)
        server = Server(data_dir, database)
        tally = Tally()
        started = time.monotonic()
        try:
            start_rss, end_rss, samples = asyncio.run(run(seconds, clients, server, tally))
            asyncio.run(check_invariant(database, tally))
            server.largest_wal_mib = max(server.largest_wal_mib, wal_mib(database))
        finally:
            server.stop()
        elapsed = time.monotonic() - started
    server_errors = [line for line in server.output
                     if "Traceback" in line or " ERROR " in line or '"level": "error"' in line]
    growth = (end_rss - start_rss) / start_rss
    summary = {
        "seconds": round(elapsed, 1),
        "clients": clients,
        "rounds": tally.rounds,
        "requests": tally.requests,
        "requests_per_second": round(tally.requests / elapsed, 1),
        "statuses": dict(sorted(tally.statuses.items())),
        "errors": len(tally.errors) + len(server_errors),
        "rss_start_kib": start_rss,
        "rss_end_kib": end_rss,
        "rss_max_kib": max(samples),
        "rss_growth": round(growth, 4),
        "wal_max_mib": round(server.largest_wal_mib, 1),
        "violations": len(tally.violations),
    }
    for line in (tally.errors + server_errors)[:20]:
        print(f"soak: error: {line}", flush=True)
    for rule, number in tally.violations[:20]:
        print(f"soak: invariant violated: {rule}: {number}", flush=True)
    broken = []
    if growth > max_growth:
        broken.append(f"RSS grew {growth:.1%} (> {max_growth:.0%})")
    if server.largest_wal_mib > max_wal:
        broken.append(f"the write-ahead log reached {server.largest_wal_mib:.0f} MiB (> {max_wal:g})")
    if summary["errors"]:
        broken.append(f"{summary['errors']} errors")
    if tally.violations:
        broken.append(f"{len(tally.violations)} invariant violations")
    if tally.rounds < 10:
        broken.append(f"only {tally.rounds} rounds ran")
    print(
        f"soak: {tally.requests} requests in {elapsed:.0f}s ({summary['requests_per_second']}/s), "
        f"RSS {start_rss / 1024:.1f} MiB -> {end_rss / 1024:.1f} MiB ({growth:+.1%}), "
        f"WAL at most {server.largest_wal_mib:.0f} MiB, "
        f"{summary['errors']} errors, {len(tally.violations)} invariant violations: "
        + ("FAILED: " + "; ".join(broken) if broken else "ok"),
        flush=True,
    )
    print(json.dumps(summary), flush=True)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
