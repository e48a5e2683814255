"""`GET /metrics`: the Prometheus text, on the service's port or on `serve --metrics-port`."""

from __future__ import annotations

import asyncio
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Lifespan

from numberpool.api.metrics import CONTENT_TYPE, Metrics, exposition
from numberpool.core.context import Context
from numberpool.core.inventory_report import inventory_report

PATH = "/metrics"

REUSE_FACTOR = 20
"""A count is reused for this many times as long as it took to make (at most `MAX_REUSE_SECONDS`)."""
MAX_REUSE_SECONDS = 300.0


class InventoryGauge:
    """The inventory counts a scrape shows: the figures of `inventory report` (the maintained
    counts, a few hundred rows at any inventory size, read in about a millisecond) by country,
    type and state. However slow the database answers, reading them takes at most
    1/(1 + REUSE_FACTOR), about 5 %, of the time, however often the service is scraped, and
    concurrent scrapes share one read.
    """

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._lock = asyncio.Lock()
        self._counts: dict[tuple[str, str, str], int] | None = None
        self._fresh_until = 0.0

    async def __call__(self) -> dict[tuple[str, str, str], int]:
        async with self._lock:
            if self._counts is None or time.monotonic() >= self._fresh_until:
                started = time.monotonic()
                self._counts = (await inventory_report(self.ctx.store)).by_country_type_and_state()
                took = time.monotonic() - started
                self._fresh_until = time.monotonic() + min(REUSE_FACTOR * took, MAX_REUSE_SECONDS)
            return self._counts


def route(metrics: Metrics | None, ctx: Context) -> Route:
    """Unauthenticated, like any Prometheus target: it shows counts and durations, never a number or id."""

    inventory = InventoryGauge(ctx)

    async def scrape(request: Request) -> Response:
        body = await exposition(metrics, inventory)
        return Response(body, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})

    return Route(PATH, scrape, methods=["GET"])


def metrics_app(metrics: Metrics | None, ctx: Context, lifespan: Lifespan[Starlette] | None = None) -> Starlette:
    """The app of `serve --metrics-port`: `/metrics` alone (`metrics` None: the multiprocess directory's)."""
    return Starlette(routes=[route(metrics, ctx)], lifespan=lifespan)
