"""The ASGI application: every ACS Phone Numbers route, errors in the ACS shape."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Lifespan, Receive, Scope, Send

from numberpool.api.admin.app import AdminApi, admin_routes
from numberpool.api.auth import Authenticator, ResourceSource
from numberpool.api.call import Api, error_response
from numberpool.api.routes import (
    browse,
    catalog,
    operations,
    operator_information,
    phone_numbers,
    reservations,
    searches,
    service_clock,
)
from numberpool.core.context import Context
from numberpool.core.errors import AcsError
from numberpool.core.model import Resource


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
    """Starlette that sends a request its route matches straight to the route.

    Every endpoint answers its own errors in the ACS shape (`call.Endpoint`), so Starlette's
    error and exception middleware add only per-request cost on a matched route (measured:
    19 of 140 µs of a GET of an operation). Unmatched requests (404, 405, a missing trailing
    slash) and every request when middleware is installed (the test clock) take the full path.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Per method, the routes that serve it, in the router's order: a request can fully
        # match only one of those, and so picks the route the router would pick.
        self._routes_by_method: dict[str, list[Route]] = {}
        for route in self.router.routes:
            for method in getattr(route, "methods", None) or ():
                self._routes_by_method.setdefault(method, []).append(route)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.user_middleware:
            for route in self._routes_by_method.get(scope["method"], ()):
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope["app"] = self
                    scope.update(child_scope)
                    await route.app(scope, receive, send)
                    return
        await super().__call__(scope, receive, send)


def create_app(
    ctx: Context,
    resources: ResourceSource | Sequence[Resource],
    *,
    skip_api_version_check: bool = False,
    lifespan: Lifespan[Starlette] | None = None,
    test_clock: bool = False,
    admin: AdminApi | None = None,
) -> Starlette:
    """`test_clock`: serve the test clock route and keep `ctx.clock` (a SharedClock) in step before each request.

    `admin`: mount the admin API (after the ACS routes, which keep their order and fast path).
    """
    api = Api(ctx, Authenticator(resources), skip_api_version_check=skip_api_version_check)
    routes = [  # the router tries them in order: the most requested first
        *searches.routes(api),
        *operations.routes(api),
        *phone_numbers.routes(api),
        *catalog.routes(api),
        *browse.routes(api),
        *reservations.routes(api),
        *operator_information.routes(api),
    ]
    middleware = []
    if test_clock:
        routes += service_clock.routes(api)
        middleware.append(Middleware(service_clock.ClockSync, clock=ctx.clock))
    if admin is not None:
        routes += admin_routes(admin)
    return _Application(
        routes=routes, middleware=middleware, exception_handlers={HTTPException: _http_error}, lifespan=lifespan
    )
