"""The ASGI application: every ACS Phone Numbers route, errors in the ACS shape."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Lifespan

from numberpool.api.auth import Authenticator
from numberpool.api.call import Api, error_response
from numberpool.api.routes import catalog, operations, phone_numbers, searches
from numberpool.core.context import Context
from numberpool.core.errors import AcsError
from numberpool.core.model import Resource


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        error = AcsError(
            "MethodNotAllowed", f"The method {request.method} is not allowed on {request.url.path}.", status=405
        )
        response = error_response(error)
        if exc.headers and "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    return error_response(AcsError("NotFound", f"No resource exists at {request.url.path}.", status=exc.status_code))


def create_app(
    ctx: Context,
    resources: list[Resource],
    *,
    skip_api_version_check: bool = False,
    lifespan: Lifespan[Starlette] | None = None,
) -> Starlette:
    api = Api(ctx, Authenticator(resources), skip_api_version_check=skip_api_version_check)
    routes = [
        *catalog.routes(api),
        *searches.routes(api),
        *operations.routes(api),
        *phone_numbers.routes(api),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: _http_error}, lifespan=lifespan)
