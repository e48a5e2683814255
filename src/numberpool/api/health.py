"""Health endpoints for load balancers and orchestrators: `/livez` and `/readyz`.

Neither needs authentication and neither says more than pass or fail per check: no database
address, no error text, no inventory. `/livez` checks the process only (a database outage
must not make an orchestrator restart every replica); `/readyz` checks that the database
answers, that its schema is at this version's head, and that this process's sweep of expired
holds ran recently. Both answer `application/health+json` (IETF draft "Health Check Response
Format"); `/readyz?verbose` lists every check, otherwise only the failing ones are listed.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from numberpool.core.context import Context

MEDIA_TYPE = "application/health+json"
DATABASE_TIMEOUT_SECONDS = 2.0
SWEEP_MISSED_INTERVALS = 3
"""The sweep counts as stalled after this many of its intervals without a success (at least 30 s)."""


class Readiness:
    """This process's readiness: its store, its schema and when its sweep last succeeded."""

    def __init__(self, ctx: Context, sweep_seconds: float) -> None:
        self.ctx = ctx
        self.sweep_seconds = sweep_seconds
        self.last_sweep = time.monotonic()  # a process that just started has not missed a sweep yet

    def sweep_succeeded(self) -> None:
        self.last_sweep = time.monotonic()

    async def checks(self) -> dict[str, dict[str, Any]]:
        checks: dict[str, dict[str, Any]] = {}
        started = time.perf_counter()
        try:
            pending = await asyncio.wait_for(self.ctx.store.pending_migrations(), DATABASE_TIMEOUT_SECONDS)
        except Exception:  # what failed stays out of an unauthenticated answer
            pending = None
        answered_ms = round((time.perf_counter() - started) * 1000, 3)
        checks["database"] = {
            "status": "pass" if pending is not None else "fail",
            "componentType": "datastore",
            "observedValue": answered_ms,
            "observedUnit": "ms",
        }
        checks["migrations"] = {
            "status": "pass" if pending == 0 else "fail",
            "componentType": "datastore",
            "observedValue": pending,
            "observedUnit": "pending migrations",
        }
        since = time.monotonic() - self.last_sweep
        limit = max(SWEEP_MISSED_INTERVALS * self.sweep_seconds, 30.0)
        checks["sweep"] = {
            "status": "pass" if since <= limit else "fail",
            "componentType": "component",
            "observedValue": round(since, 3),
            "observedUnit": "s since the last sweep",
        }
        return checks


def _health(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body, separators=(",", ":")).encode(), status_code=status, media_type=MEDIA_TYPE,
                    headers={"Cache-Control": "no-store"})


async def livez(request: Request) -> Response:
    return _health(200, {"status": "pass"})


def routes(readiness: Readiness) -> list[Route]:
    async def readyz(request: Request) -> Response:
        checks = await readiness.checks()
        ready = all(check["status"] == "pass" for check in checks.values())
        verbose = "verbose" in request.query_params
        listed = {name: [check] for name, check in checks.items() if verbose or check["status"] != "pass"}
        return _health(200 if ready else 503, {"status": "pass" if ready else "fail", "checks": listed})

    return [Route("/livez", livez, methods=["GET"]), Route("/readyz", readyz, methods=["GET"])]
