"""The ASGI application: every ACS Phone Numbers route, errors in the ACS shape."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import Lifespan, Message, Receive, Scope, Send

from numberpool.api import health, metrics_endpoint
from numberpool.api.admin.app import AdminApi, admin_routes
from numberpool.api.console.app import console_routes
from numberpool.api.auth import Authenticator, ResourceSource
from numberpool.api.call import DISCONNECT_STATUS, DISCONNECTED, SERVER_SEND, Api, error_response, header_map
from numberpool.api.health import Readiness
from numberpool.api.metrics import UNMATCHED_ROUTE, Metrics
from numberpool.api.observe import Observer
from numberpool.api.request_ids import CURRENT_REQUEST_ID, request_ids
from numberpool.api.routes import (
    browse,
    catalog,
    operations,
    operator_information,
    phone_numbers,
    reservations,
    searches,
)
from numberpool.api.call import Endpoint
from numberpool.api.operation_ids import OPERATION_IDS
from numberpool.api.testing import clock as testing_clock
from numberpool.api.testing import faults as testing_faults
from numberpool.api.testing import reset as testing_reset
from numberpool.core.context import Context
from numberpool.core.errors import AcsError
from numberpool.core.model import Resource

if TYPE_CHECKING:
    from numberpool.api.entra import EntraVerifier


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path.

    Starlette's 405 names only the methods of the first route whose path matched, and a path can
    have one route per method (GET and DELETE of /phoneNumbers/{phoneNumber}).
    """
    allowed: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "\0"})  # a method no route serves
        if match is Match.PARTIAL and getattr(route, "methods", None):
            allowed |= route.methods
    order = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
    return sorted(allowed, key=lambda m: (order.index(m) if m in order else len(order), m))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        error = AcsError(
            "MethodNotAllowed", f"The method {request.method} is not allowed on {request.url.path}.", status=405
        )
        response = error_response(error)
        allowed = _allowed_methods(request)
        if allowed:
            response.headers["Allow"] = ", ".join(allowed)
        return response
    return error_response(AcsError("NotFound", f"No resource exists at {request.url.path}.", status=exc.status_code))


class _Application(Starlette):
    """Starlette that sends a request its route matches straight to the route, and observes every request.

    Every endpoint answers its own errors in the ACS shape (`call.Endpoint`), so Starlette's
    error and exception middleware add only per-request cost on a matched route (measured:
    19 of 140 µs of a GET of an operation). Unmatched requests (404, 405, a missing trailing
    slash) and every request when middleware is installed (the test clock) take the full path.

    Every response, matched or not, carries the request ids (`request_ids`); every request
    leaves a histogram sample and a log line labelled by its route template (`observe`).
    """

    def __init__(self, *args: Any, observer: Observer | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.observer = observer or Observer()
        # Per method, the routes that serve it, in the router's order: a request can fully
        # match only one of those, and so picks the route the router would pick.
        self._routes_by_method: dict[str, list[Route]] = {}
        for route in self.router.routes:
            for method in getattr(route, "methods", None) or ():
                self._routes_by_method.setdefault(method, []).append(route)
        self._templates = _templates(self.router.routes)  # id(endpoint) -> its route's path template

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        started = time.perf_counter()
        headers = scope["numberpool.headers"] = header_map(scope)
        scope[SERVER_SEND] = send  # a disconnect fault drops the connection through it (api/call.py)
        ids = request_ids(headers)
        token = CURRENT_REQUEST_ID.set(ids.request_id)
        answered: list[Any] = [500, None]  # status, error code

        async def send_with_ids(message: Message) -> None:
            if message["type"] == "http.response.start":
                answered[0] = status = message["status"]
                if status >= 400:
                    answered[1] = next(
                        (v.decode("latin-1") for k, v in message["headers"] if k.lower() == b"x-ms-error-code"), None
                    )
                message["headers"] = [*message["headers"], *ids.raw_headers()]
            await send(message)

        template = UNMATCHED_ROUTE
        try:
            if not self.user_middleware:
                for route in self._routes_by_method.get(scope["method"], ()):
                    match, child_scope = route.matches(scope)
                    if match is Match.FULL:
                        template = route.path
                        scope["app"] = self
                        scope.update(child_scope)
                        await route.app(scope, receive, send_with_ids)
                        return
            await super().__call__(scope, receive, send_with_ids)
            endpoint = scope.get("endpoint")
            if endpoint is not None:
                template = self._templates.get(id(endpoint), UNMATCHED_ROUTE)
        finally:
            CURRENT_REQUEST_ID.reset(token)
            if scope.get(DISCONNECTED):
                answered[0] = DISCONNECT_STATUS
            self.observer.finish(
                scope["method"], template, answered[0], started, ids, scope.get("numberpool.resource"), answered[1]
            )


def _templates(routes: list[BaseRoute], prefix: str = "") -> dict[int, str]:
    """The path template of every route's endpoint, routes inside a `Mount` included."""
    found: dict[int, str] = {}
    for route in routes:
        if isinstance(route, Route):
            found[id(route.endpoint)] = prefix + route.path
        elif isinstance(route, Mount):
            found.update(_templates(route.routes, prefix + route.path))
    return found


def create_app(
    ctx: Context,
    resources: ResourceSource | Sequence[Resource],
    *,
    skip_api_version_check: bool = False,
    lifespan: Lifespan[Starlette] | None = None,
    testing: bool = False,
    admin_token: str | None = None,
    entra: EntraVerifier | None = None,
    metrics: Metrics | None = None,
    metrics_route: bool = True,
    readiness: Readiness | None = None,
    admin: AdminApi | None = None,
) -> Starlette:
    """`testing`: serve the control endpoints under /_numberpool/ (fault rules, reset, the clock),
    opened by `admin_token`; `ctx.clock` is then a SharedClock and `ctx.faults` a FaultBook.

    `entra`: also accept Microsoft Entra ID bearer tokens on the ACS routes (`serve --entra`).
    `metrics`: this process's instruments; served at `/metrics` unless `metrics_route` is False
    (`serve --metrics-port` serves them on a port of their own). `readiness`: what `/readyz` checks.
    `admin`: mount the admin API and its console (after the ACS routes, which keep their order and fast path).
    """
    api = Api(ctx, Authenticator(resources, entra=entra), skip_api_version_check=skip_api_version_check)
    routes = [  # the router tries them in order: the most requested first
        *searches.routes(api),
        *operations.routes(api),
        *phone_numbers.routes(api),
        *catalog.routes(api),
        *browse.routes(api),
        *reservations.routes(api),
        *operator_information.routes(api),
    ]
    for route in routes:
        assert isinstance(route.endpoint, Endpoint) and route.methods
        (method,) = route.methods - {"HEAD"}
        route.endpoint.operation = OPERATION_IDS[(method, route.path)]
    if testing:
        routes += [
            *testing_faults.routes(ctx, admin_token),
            *testing_reset.routes(ctx, admin_token),
            *testing_clock.routes(ctx, admin_token),
        ]
    if readiness is not None:
        routes += health.routes(readiness)
    if metrics is not None and metrics_route:
        routes.append(metrics_endpoint.route(metrics, ctx))
    if admin is not None:
        routes += admin_routes(admin)
        routes += console_routes(admin, testing)
    return _Application(
        routes=routes, exception_handlers={HTTPException: _http_error}, lifespan=lifespan, observer=Observer(metrics),
    )
