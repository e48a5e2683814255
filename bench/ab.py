"""A/B of the search hot path between two source trees, in one run, alternating.

    git archive <base-commit> src | tar -x -C /tmp/base
    python -m bench.ab --a /tmp/base/src --b src --engine sqlite --rounds 4 --seconds 3

Each variant gets its own database, created and migrated by its own code and loaded with the
same synthetic inventory (`bench/inventory.py`), and its own server process (`serve --no-tls`,
3-second holds, as `bench/run.py`). Then the two servers take turns under the same wrk command,
`--rounds` times each, so both see the same drift of a shared machine. Prints the req/s of every
turn, each variant's median and the change from A to B.

`--in-process` measures without HTTP instead (`bench/search_cpu.py`): each turn loads a new
database and runs 4,000 searches through the core, reporting CPU and wall microseconds per
search. On a shared, loaded machine wrk's req/s swings by a factor of three between turns;
the process's CPU time per search is far steadier.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from bench.run import HOLD_SECONDS, POSTGRES, _admin, measure_search, process
from numberpool.core.resources import DEV_ACCESS_KEY
from tests.support.server import free_port

REPOSITORY = Path(__file__).resolve().parents[1]

_LOAD = "import asyncio, sys; from bench.run import _load_inventory; asyncio.run(_load_inventory(sys.argv[1], int(sys.argv[2])))"


def _env(source: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{source.resolve()}{os.pathsep}{REPOSITORY}"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--a", type=Path, required=True, help="the `src` folder of variant A (the baseline)")
    parser.add_argument("--b", type=Path, required=True, help="the `src` folder of variant B")
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--size", type=int, default=10_000, help="numbers in the inventory (default 10,000)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--in-process", action="store_true", help="CPU and wall time per search, without HTTP")
    args = parser.parse_args(argv)
    if args.in_process:
        return _in_process(args)

    figures: dict[str, list[float]] = {"A": [], "B": []}
    databases: list[str] = []
    with tempfile.TemporaryDirectory(prefix="numberpool-ab-") as work, ExitStack() as stack:
        bases = {}
        for name, source in (("A", args.a), ("B", args.b)):
            if args.engine == "postgres":
                database = f"numberpool_ab_{os.getpid()}_{name.lower()}"
                asyncio.run(_admin(f'CREATE DATABASE "{database}"'))
                databases.append(database)
                url = POSTGRES.rsplit("/", 1)[0] + "/" + database
            else:
                url = str(Path(work) / f"{name}.db")
            subprocess.run([sys.executable, "-c", _LOAD, url, str(args.size)], env=_env(source), check=True,
                           stdout=subprocess.DEVNULL)
            port = free_port()
            command = [sys.executable, "-m", "numberpool", "serve", "--no-tls", "--port", str(port),
                       "--data-dir", str(Path(work) / f"data-{name}"), "--database", url, "--inventory-size", "0",
                       "--hold-minutes", str(HOLD_SECONDS / 60)]
            stack.enter_context(process(command, port, env=_env(source)))
            bases[name] = f"http://127.0.0.1:{port}"
        try:
            for turn in range(args.rounds):
                for name in ("A", "B") if turn % 2 == 0 else ("B", "A"):
                    result = measure_search(bases[name], args.seconds, args.connections, DEV_ACCESS_KEY)
                    figures[name].append(result.requests_per_second)
                    print(f"round {turn + 1} {name}: {result.requests_per_second:,.0f} req/s"
                          f" (p99 {result.p99_ms:.1f} ms, {result.errors} errors)", flush=True)
                    time.sleep(HOLD_SECONDS)  # the holds of this turn lapse before the next
        finally:
            stack.close()
            for database in databases:
                asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    a, b = statistics.median(figures["A"]), statistics.median(figures["B"])
    print(f"{args.engine}, {args.size:,} numbers, {args.rounds} x {args.seconds:g} s each, alternating:"
          f" A median {a:,.0f} req/s, B median {b:,.0f} req/s, B/A {b / a:.3f} ({(b / a - 1) * 100:+.1f} %)")
    return 0


def _in_process(args: argparse.Namespace) -> int:
    figures: dict[str, dict[str, list[float]]] = {n: {"cpu_us": [], "wall_us": []} for n in ("A", "B")}
    with tempfile.TemporaryDirectory(prefix="numberpool-ab-") as work:
        for turn in range(args.rounds):
            for name in ("A", "B") if turn % 2 == 0 else ("B", "A"):
                source = args.a if name == "A" else args.b
                database = f"numberpool_ab_{os.getpid()}_{turn}_{name.lower()}"
                if args.engine == "postgres":
                    asyncio.run(_admin(f'CREATE DATABASE "{database}"'))
                    url = POSTGRES.rsplit("/", 1)[0] + "/" + database
                else:
                    url = str(Path(work) / f"{database}.db")
                try:
                    out = subprocess.run([sys.executable, "-m", "bench.search_cpu", url, "--size", str(args.size)],
                                         env=_env(source), check=True, capture_output=True, text=True).stdout
                finally:
                    if args.engine == "postgres":
                        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
                result = json.loads(out)
                for key, value in result.items():
                    figures[name][key].append(value)
                print(f"round {turn + 1} {name}: {result['cpu_us']:.0f} us CPU, {result['wall_us']:.0f} us wall"
                      " per search", flush=True)
    for key in ("cpu_us", "wall_us"):
        a, b = statistics.median(figures["A"][key]), statistics.median(figures["B"][key])
        print(f"{args.engine}, {args.size:,} numbers, {args.rounds} rounds, {key} per search (median):"
              f" A {a:.0f}, B {b:.0f}, B/A {b / a:.3f} ({(b / a - 1) * 100:+.1f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
