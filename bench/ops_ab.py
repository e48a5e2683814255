"""A/B figures for the operations surface, alternating in one run so both sides see the same machine.

    python -m bench.ops_ab scrape     # search and GET-operation load, without and with a scraper on /metrics
    python -m bench.ops_ab cost --baseline-src /tmp/base/src
                                      # this tree against another tree's server (request ids, metrics,
                                      # access log per request); make the other tree with
                                      # `git archive <commit> src | tar -x -C /tmp/base`

Both start one `numberpool serve` (HTTP, SQLite file, `--inventory` numbers loaded first),
stdout to /dev/null as a log collector would take it (so the JSON access lines are written),
and run wrk for `--seconds` per figure, `--rounds` times A then B then B then A...
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.run import HOLD_SECONDS, _load_inventory, measure_search_then_operation, process
from tests.support.server import free_port


def _serve(url: str, workdir: Path, src: str | None = None):
    port = free_port()
    command = [sys.executable, "-m", "numberpool", "serve", "--no-tls", "--port", str(port),
               "--data-dir", str(workdir / "data"), "--database", url, "--inventory-size", "0",
               "--hold-minutes", str(HOLD_SECONDS / 60)]
    env = {"PYTHONPATH": src} if src else None
    return port, process(command, port, env)


def _figures(base: str, seconds: float, connections: int) -> dict[str, float]:
    search, get = measure_search_then_operation(base, seconds, connections)
    time.sleep(HOLD_SECONDS)  # the search load's holds lapse before the next figure
    return {"search_rps": search.requests_per_second, "search_p99_ms": search.p99_ms,
            "get_operation_rps": get.requests_per_second, "get_operation_p99_ms": get.p99_ms,
            "errors": search.errors + get.errors}


class Scraper:
    """GET /metrics every `every` seconds in a thread (Prometheus scrapes every 15 to 60 s)."""

    def __init__(self, base: str, every: float) -> None:
        self.base, self.every = base, every
        self.durations: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=30) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                assert client.get("/metrics").status_code == 200
                self.durations.append((time.perf_counter() - started) * 1000)
                self._stop.wait(self.every)

    def __enter__(self) -> Scraper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _summary(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.median(run[key] for run in runs), 3) for key in runs[0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("scrape", "cost"))
    parser.add_argument("--inventory", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--scrape-every", type=float, default=1.0, help="seconds between scrapes (default 1)")
    parser.add_argument("--baseline-src", help="the src folder of the tree to compare with (cost)")
    args = parser.parse_args(argv)
    if args.mode == "cost" and not args.baseline_src:
        parser.error("cost needs --baseline-src")

    a_runs: list[dict[str, float]] = []
    b_runs: list[dict[str, float]] = []
    scrapes: list[float] = []
    with tempfile.TemporaryDirectory(prefix="numberpool-ops-ab-") as tmp:
        workdir = Path(tmp)
        url = str(workdir / "bench.db")
        asyncio.run(_load_inventory(url, args.inventory))
        for round_ in range(args.rounds):
            for side in (("a", "b") if round_ % 2 == 0 else ("b", "a")):
                src = args.baseline_src if (args.mode == "cost" and side == "a") else None
                port, server = _serve(url, workdir, src)
                with server:
                    base = f"http://127.0.0.1:{port}"
                    if args.mode == "scrape" and side == "b":
                        with Scraper(base, args.scrape_every) as scraper:
                            figures = _figures(base, args.seconds, args.connections)
                        scrapes += scraper.durations
                    else:
                        figures = _figures(base, args.seconds, args.connections)
                (a_runs if side == "a" else b_runs).append(figures)
                print(f"round {round_ + 1} {side}: {json.dumps(figures)}", flush=True)
    names = {"scrape": ("without scraping", f"scraped every {args.scrape_every:g} s"),
             "cost": (f"baseline {args.baseline_src}", "this tree")}[args.mode]
    report: dict[str, Any] = {"mode": args.mode, "inventory": args.inventory, "seconds": args.seconds,
                              "rounds": args.rounds, "connections": args.connections,
                              names[0]: _summary(a_runs), names[1]: _summary(b_runs)}
    if scrapes:
        report["scrape_ms_median"] = round(statistics.median(scrapes), 1)
        report["scrape_ms_max"] = round(max(scrapes), 1)
        report["scrapes"] = len(scrapes)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
