"""`GET /metrics`: the Prometheus text, on the service's port or on `serve --metrics-port`."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Lifespan

from numberpool.api.metrics import CONTENT_TYPE, Metrics, exposition
from numberpool.core.context import Context
from numberpool.core.inventory_counts import inventory_counts

PATH = "/metrics"


def route(metrics: Metrics | None, ctx: Context) -> Route:
    """Unauthenticated, like any Prometheus target: it shows counts and durations, never a number or id."""

    async def scrape(request: Request) -> Response:
        body = await exposition(metrics, lambda: inventory_counts(ctx))
        return Response(body, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})

    return Route(PATH, scrape, methods=["GET"])


def metrics_app(metrics: Metrics | None, ctx: Context, lifespan: Lifespan[Starlette] | None = None) -> Starlette:
    """The app of `serve --metrics-port`: `/metrics` alone (`metrics` None: the multiprocess directory's)."""
    return Starlette(routes=[route(metrics, ctx)], lifespan=lifespan)
