"""CPU per request of what every request carries (ids, histogram sample, JSON access line), in process.

    PYTHONPATH=/tmp/base/src:. python -m bench.observe_cpu     # the other tree
    python -m bench.observe_cpu                               # this one

Drives the app's request wrapper (`api/app.py` `_Application`) around an endpoint that only
answers 200, 16 requests a turn, with the JSON log on /dev/null (as a log collector takes it)
and prometheus-client in multiprocess mode (as `serve --workers N` runs it): the per-request
cost of issue 14's operations surface, without a socket, router work or store. `--bare` runs
the same with no metrics and the access log off, the floor to subtract. Prints microseconds of
this process's CPU per request (after a warm-up).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import tempfile
import time

CONCURRENCY = 16


async def measure(requests: int, bare: bool) -> float:
    from starlette.routing import Route

    from numberpool.api.app import _Application
    from numberpool.api.metrics import Metrics
    from numberpool.api.observe import Observer
    from numberpool.server.logs import configure_logging

    configure_logging("json", "warning" if bare else "info", stream=open(os.devnull, "w"))  # noqa: SIM115
    metrics = None if bare else Metrics()

    app = _Application(routes=[Route("/operations/{id}", _Ok(), methods=["GET"])], observer=Observer(metrics))
    headers = [(b"host", b"127.0.0.1:8080"), (b"x-ms-client-request-id", b"c0ffee-client-7"),
               (b"x-ms-date", b"Wed, 02 Dec 2026 07:00:00 GMT")]

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        pass

    async def once() -> None:
        scope = {"type": "http", "method": "GET", "path": "/operations/search_1", "raw_path": b"/operations/search_1",
                 "query_string": b"api-version=2025-06-01", "headers": headers, "scheme": "http",
                 "server": ("127.0.0.1", 8080), "root_path": ""}
        await app(scope, receive, send)

    async def turn() -> None:
        await asyncio.gather(*(once() for _ in range(CONCURRENCY)))

    for _ in range(2_000 // CONCURRENCY):
        await turn()
    cpu = time.process_time()
    for _ in range(requests // CONCURRENCY):
        await turn()
    result = 1e6 * (time.process_time() - cpu) / (requests // CONCURRENCY * CONCURRENCY)
    logging.shutdown()
    return result


class _Ok:
    """An ASGI endpoint (so Starlette's `Route` calls it as one, like the ACS endpoints) answering 200."""

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        scope["numberpool.resource"] = "devresource"
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"{}"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--bare", action="store_true", help="no metrics, access log off: the floor")
    args = parser.parse_args()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="observe-cpu-")  # before prometheus-client loads
    print(f"{asyncio.run(measure(args.requests, args.bare)):.1f}")


if __name__ == "__main__":
    main()
