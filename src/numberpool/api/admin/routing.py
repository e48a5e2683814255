"""Admin routes as declarations: method, path, handler and the schemas of what goes in and out.

The same declaration serves the request (the body is validated against its schema with
`jsonschema`, so the document cannot promise what the code does not check) and the OpenAPI
document (`openapi.py`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from numberpool.api.admin_auth import check_admin
from numberpool.api.call import header_map, json_response, error_response, query_params
from numberpool.core.errors import AcsError, bad_request, invalid_input

log = logging.getLogger("numberpool.admin")

PREFIX = "/_numberpool/admin/api/v1"
MAX_BODY_BYTES = 64 * 1024
_MESSAGE_CHARS = 300


@dataclass
class AdminRequest:
    request: Request
    body: Any
    """The JSON body, already valid against the route's request schema (None without one)."""

    def path(self, name: str) -> str:
        return self.request.path_params[name]

    def query(self, name: str) -> str | None:
        return query_params(self.request.scope.get("query_string", b"")).get(name)

    async def chunks(self, limit: int) -> AsyncIterator[bytes]:
        """The raw body of a route that declares `body_media`, as it arrives; 413 past `limit` bytes."""
        size = 0
        async for chunk in self.request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            if chunk:
                yield chunk

    @property
    def endpoint(self) -> str:
        """The service's address as this client reaches it, for connection strings."""
        return str(self.request.base_url)


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    """JSON-able, None for no body, or a Starlette `Response` sent as it is (a stream in another media type)."""
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[AdminRequest], Awaitable[Reply]]


@dataclass(frozen=True)
class QueryParam:
    name: str
    schema: dict[str, Any]
    description: str


@dataclass(frozen=True)
class AdminRoute:
    method: str
    path: str
    """Below PREFIX, with `{name}` path parameters."""
    operation_id: str
    summary: str
    handler: Handler
    responses: dict[int, tuple[str, dict[str, Any] | None]]
    """status -> (description, body schema or None); error statuses are added by `openapi`."""
    request: dict[str, Any] | None = None
    """The JSON body's schema, inline (no $ref): JSON Schema that is also an OpenAPI 3.0 schema object."""
    path_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    query: tuple[QueryParam, ...] = ()
    errors: tuple[int, ...] = ()
    """The client error statuses this route answers besides 401 and 404 (every route) and 400 (with input)."""
    produces: tuple[str, ...] = ("application/json",)
    """The media types of the success bodies (a stream may offer several, chosen by a query parameter)."""
    body_media: str | None = None
    """A body that is not JSON (a file: text/csv, application/toml), left unread for the handler
    (`AdminRequest.chunks`); the request must say this Content-Type."""


class AdminEndpoint:
    """One admin route's ASGI app: admin token, body, validation, handler; every error in the ACS shape."""

    def __init__(self, route: AdminRoute, token: str | None) -> None:
        self.route = route
        self.token = token
        self._validator = Draft202012Validator(route.request) if route.request is not None else None
        self._query_names = {param.name for param in route.query}
        self.__name__ = route.operation_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            response = await self._answer(request)
        except AcsError as error:
            response = error_response(error)
        except Exception:
            log.exception("unexpected failure in %s %s", request.method, request.url.path)
            response = error_response(AcsError("InternalError", "The server encountered an internal error.", status=500))
        await response(scope, receive, send)

    async def _answer(self, request: Request) -> Response:
        headers = header_map(request.scope)
        check_admin(headers.get("authorization"), self.token, request.url.path)
        if self.route.body_media is not None:
            _check_media_type(headers, self.route.body_media)
            body = None
        else:
            body = await self._body(request, headers)
        for name, schema in self.route.path_params.items():
            _check_value(request.path_params[name], schema, name)
        query = query_params(request.scope.get("query_string", b""))
        for name in query:
            if name not in self._query_names:
                raise invalid_input(f"Unknown query parameter {_short(name)!r}.", target=_short(name))
        for param in self.route.query:
            value = query.get(param.name)
            if value is not None:
                _check_value(value, param.schema, param.name)
        reply = await self.route.handler(AdminRequest(request, body))
        if isinstance(reply.body, Response):
            return reply.body
        if reply.body is None:
            return Response(b"", status_code=reply.status, headers=reply.headers)
        return json_response(reply.body, status=reply.status, headers=reply.headers)

    async def _body(self, request: Request, headers: dict[str, str]) -> Any:
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_BODY_BYTES:
                raise too_large(MAX_BODY_BYTES)
        if self._validator is None:
            return None
        if raw:
            _check_media_type(headers, "application/json")
        try:
            body = json.loads(raw) if raw else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise bad_request("The request body is not valid JSON.") from None
        if body is None:
            raise bad_request("A JSON request body is required.")
        error = best_match(self._validator.iter_errors(body))
        if error is not None:
            target = ".".join(str(part) for part in error.absolute_path) or None
            raise invalid_input(_short(error.message), target=target)
        return body


def too_large(limit: int) -> AcsError:
    return AcsError("RequestEntityTooLarge", f"The request body exceeds {limit} bytes.", status=413)


def _check_media_type(headers: dict[str, str], expected: str) -> None:
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != expected:
        raise AcsError("UnsupportedMediaType", f"Content-Type must be {expected}, not '{_short(media_type)}'.",
                       status=415)


_BOOLEAN_TEXT = {"true", "false"}
_INTEGER_TEXT = re.compile(r"-?[0-9]{1,9}")


def _check_value(value: str, schema: dict[str, Any], name: str) -> None:
    """A path or query value against its (string, integer or boolean) schema."""
    if schema.get("type") == "boolean":
        if value not in _BOOLEAN_TEXT:
            raise invalid_input(f"{name} must be true or false.", target=name)
        return
    checked: Any = value
    if schema.get("type") == "integer":
        if not _INTEGER_TEXT.fullmatch(value):
            raise invalid_input(f"{name} must be a whole number.", target=name)
        checked = int(value)
    error = best_match(Draft202012Validator(schema).iter_errors(checked))
    if error is not None:
        raise invalid_input(f"{name}: {_short(error.message)}", target=name)


def _short(message: str) -> str:
    return message if len(message) <= _MESSAGE_CHARS else message[: _MESSAGE_CHARS - 3] + "..."


def starlette_routes(routes: list[AdminRoute], token: str | None) -> list[Route]:
    return [
        Route(PREFIX + route.path, AdminEndpoint(route, token), methods=[route.method])
        for route in routes
    ]
