"""What an admin API import costs the ACS API: request latency while an import runs in the server.

    .venv/bin/python -m bench.import_latency --rows 600000 --engines sqlite,postgres

For each engine: starts `numberpool serve` (HTTP on 127.0.0.1, a small inventory), samples signed
ACS requests (`GET /phoneNumbers` and a `POST .../:search`, one after the other, a client that
waits for each answer, one started every PERIOD) for IDLE_SECONDS with nothing else running, then uploads
a CSV of `--rows` generated US numbers to `POST /inventory/imports` and samples on until the job
ends (at most `--timeout` seconds). Reports p50/p99/max per request kind, idle and during the
import, the import's rows/s (rows over the job's own start-to-finish time) and the server
process's CPU seconds meanwhile (steadier than rows/s on a shared machine).
Results go to bench/results/import-latency-<time>.json.

`--src DIR` runs the server from another tree's sources (before/after on the same machine state):
`git archive <commit> src | tar -x -C /tmp/base`, then `--src /tmp/base/src`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.import_bench import Database, _commit, write_csv
from bench.run import SEARCH_BODY, VERSION, process
from numberpool.core.resources import DEV_ACCESS_KEY
from tests.support.hmac_auth import HmacAuth
from tests.support.server import free_port

RESULTS = Path(__file__).parent / "results"
ADMIN_TOKEN = "bench-admin-token-0123456789"
ADMIN = "/_numberpool/admin/api/v1"
IDLE_SECONDS = 3.0
PERIOD = 0.05
"""Seconds between the starts of two sampled requests (20 a second, each waited for): the same load
on the server whatever the latency, so the import's rows/s compare between runs."""
REQUESTS = {
    "list": ("GET", f"/phoneNumbers?api-version={VERSION}", None),
    "search": ("POST", f"/availablePhoneNumbers/countries/US/:search?api-version={VERSION}", SEARCH_BODY),
}


class Sampler(threading.Thread):
    """Signed ACS requests in a loop; latencies (ms) per kind, in the phase they started in."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.phase = "idle"
        self.samples: dict[str, dict[str, list[float]]] = {}
        self.errors = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        due = time.perf_counter()
        with httpx.Client(base_url=self.base, auth=HmacAuth(DEV_ACCESS_KEY), timeout=30) as client:
            while not self.stopping.is_set():
                for kind, (method, path, body) in REQUESTS.items():
                    due += PERIOD
                    time.sleep(max(0.0, due - time.perf_counter()))
                    phase = self.phase
                    started = time.perf_counter()
                    answer = client.request(method, path, json=body)
                    spent = (time.perf_counter() - started) * 1000
                    if answer.status_code >= 300:
                        self.errors += 1
                    self.samples.setdefault(phase, {}).setdefault(kind, []).append(spent)
                    due = max(due, time.perf_counter() - PERIOD)  # late: the next starts at once, no burst


def _figures(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"n": len(ordered), "p50_ms": round(statistics.median(ordered), 1),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
            "max_ms": round(ordered[-1], 1)}


def _cpu_seconds(pid: int) -> float:
    """User and system CPU the process has used (the import and the sampled requests, on SQLite)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _database(engine: str, folder: Path) -> tuple[Database, str]:
    database = Database(engine, folder)
    return database, await database.__aenter__()


def measure(engine: str, rows: int, csv_path: Path, folder: Path, timeout: float, src: str | None) -> dict[str, Any]:
    database, url = asyncio.run(_database(engine, folder))
    port = free_port()
    command = [sys.executable, "-m", "numberpool", "serve", "--no-tls", "--host", "127.0.0.1", "--port", str(port),
               "--data-dir", str(folder / f"data-{engine}"), "--database", url, "--inventory-size", "2000",
               "--hold-minutes", "0.05", "--admin-token", ADMIN_TOKEN, "--log-level", "warning"]
    base = f"http://127.0.0.1:{port}"
    row: dict[str, Any] = {"engine": engine, "rows": rows, "src": src or "this tree"}
    try:
        with process(command, port, {"PYTHONPATH": src} if src else None) as server:
            sampler = Sampler(base)
            sampler.start()
            time.sleep(IDLE_SECONDS)
            with httpx.Client(base_url=base + ADMIN, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                              timeout=60) as admin:
                sampler.phase = "import"
                cpu = _cpu_seconds(server.pid)
                with csv_path.open("rb") as body:
                    started = admin.post("/inventory/imports", content=body, headers={"Content-Type": "text/csv"})
                started.raise_for_status()
                job_path = f"/inventory/imports/{started.json()['id']}"
                deadline = time.monotonic() + timeout
                job = started.json()
                while job["state"] == "running" and time.monotonic() < deadline:
                    time.sleep(0.5)
                    job = admin.get(job_path).json()
                sampler.phase = "after"
                cpu = _cpu_seconds(server.pid) - cpu
            sampler.stopping.set()
            sampler.join(35)
    finally:
        asyncio.run(database.__aexit__())
    seconds = (datetime.fromisoformat(job.get("finishedAt") or job["lastHeartbeatAt"])
               - datetime.fromisoformat(job["startedAt"])).total_seconds()
    row.update(state=job["state"], imported=job["imported"], import_seconds=round(seconds, 1),
               import_rows_per_s=round(job["rowsRead"] / seconds) if seconds else None,
               server_cpu_s=round(cpu, 1), errors=sampler.errors)
    for phase in ("idle", "import"):
        for kind, values in sampler.samples.get(phase, {}).items():
            row[f"{phase}_{kind}"] = _figures(values)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=600_000)
    parser.add_argument("--engines", default="sqlite")
    parser.add_argument("--timeout", type=float, default=300, help="seconds an import may take at most")
    parser.add_argument("--src", default=None, help="run the server from these sources instead (a baseline)")
    parser.add_argument("--rounds", type=int, default=1, help="measure each engine this many times")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="numberpool-import-latency-") as tmp:
        folder = Path(tmp)
        csv_path = folder / "numbers.csv"
        write_csv(csv_path, args.rows)
        for engine in args.engines.split(",") * args.rounds:
            row = measure(engine, args.rows, csv_path, folder, args.timeout, args.src)
            row["commit"] = _commit() if args.src is None else "baseline"
            print(json.dumps(row), flush=True)
            results.append(row)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"import-latency-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
