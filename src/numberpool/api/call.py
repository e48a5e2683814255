"""One authenticated API call: the request, its api-version, its resource and body."""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from numberpool.api import parse
from numberpool.api.auth import Authenticator
from numberpool.api.versions import ACCEPTED, ApiVersion, negotiate
from numberpool.core.context import Context
from numberpool.core.errors import AcsError

if TYPE_CHECKING:
    from numberpool.api.testing.faults_hook import FaultHook

log = logging.getLogger("numberpool.api")

MAX_BODY_BYTES = 1024 * 1024
_JSON_TYPES = ("application/json", "application/merge-patch+json")
_SUPPORTED_HEADER = (b"api-supported-versions", ", ".join(ACCEPTED).encode("latin-1"))


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8"),
        status_code=status,
        headers=headers,
        media_type="application/json; charset=utf-8",
    )


def error_response(error: AcsError) -> Response:
    """The ACS error body; `x-ms-error-code` repeats its code, as the Azure REST guidelines ask."""
    return json_response(error.body(), status=error.status, headers={"x-ms-error-code": error.code})


def accepted(headers: dict[str, str], body: Any = None) -> Response:
    if body is None:
        return Response(b"", status_code=202, headers=headers)
    return json_response(body, status=202, headers=headers)


@functools.lru_cache(maxsize=256)
def query_params(query_string: bytes) -> QueryParams:
    """The parsed query; cached, as clients repeat the same few (`api-version=...`). Immutable."""
    return QueryParams(query_string)


def header_map(scope: Scope) -> dict[str, str]:
    """The request's headers by lower-case name, the first of repeated ones winning (as Starlette's `Headers.get`)."""
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in reversed(scope["headers"])}


@dataclass
class Call:
    request: Request
    version: ApiVersion
    resource: str
    body: bytes
    ctx: Context
    query: QueryParams

    def json(self) -> dict[str, Any]:
        return parse.json_body(self.body)

    def path(self, name: str) -> str:
        return self.request.path_params[name]

    def versioned(self, location: str) -> str:
        return f"{location}?api-version={self.version.value}"

    def page(self, items: list[Any], key: str, *, size_param: str = "maxPageSize", has_more: bool | None = None,
             skip: int = 0, size: int = 100, null_next_link: bool = False) -> Response:
        """A page of `items` with a relative `nextLink` when more follow (`null` on the last page
        when `null_next_link`: the service's catalog and reservations lists do that, its list of
        purchased numbers does not)."""
        body: dict[str, Any] = {key: items}
        if null_next_link:
            body["nextLink"] = None
        if has_more:
            params = [(k, v) for k, v in self.query.multi_items() if k not in ("skip", size_param, "api-version")]
            params += [("skip", str(skip + size)), (size_param, str(size)), ("api-version", self.version.value)]
            body["nextLink"] = f"{self.request.url.path}?{urlencode(params)}"
        return json_response(body)

    def paged(self, items: list[Any], key: str) -> Response:
        """A catalog list: its last page carries `"nextLink": null`, as the service's do (recorded 2024-01)."""
        skip = parse.query_int(self.query, "skip", 0)
        size = parse.query_int(self.query, "maxPageSize", 100, minimum=1, maximum=parse.MAX_PAGE_SIZE)
        return self.page(items[skip : skip + size], key, skip=skip, size=size, has_more=skip + size < len(items),
                         null_next_link=True)


Handler = Callable[[Call], Awaitable[Response]]


class Endpoint:
    """One route's ASGI app: body limit, auth, api-version, then the handler; every error in the ACS shape.

    An ASGI app rather than a `request -> response` function, so Starlette's `Route` calls it
    directly instead of wrapping it in its per-request exception-handling layers: nothing
    escapes `__call__` but a failure to send.
    """

    def __init__(self, api: Api, handler: Handler, requires: str | None) -> None:
        self.api = api
        self.handler = handler
        self.requires = requires
        self.operation = ""
        """The official operationId without `PhoneNumbers_` (`create_app` names each route's)."""
        self.__name__ = handler.__name__

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            call = await self.api.call(request, self.requires)
            hook = self.api.fault_hook
            if hook is None:  # testing mode off: nothing more on the hot path than this test
                response = await self.handler(call)
            else:
                answer = await hook.handle(self, call)
                if answer is None:
                    await _drop_connection(scope, send)
                    return
                response = answer
        except AcsError as error:
            response = error_response(error)
        except Exception:
            log.exception("unexpected failure in %s %s", request.method, request.url.path)
            response = error_response(AcsError("InternalError", "The server encountered an internal error.", status=500))
        response.raw_headers.append(_SUPPORTED_HEADER)
        await send({"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body})


class Api:
    """Turns core handlers into ASGI endpoints: body limit, auth, api-version, error mapping."""

    def __init__(self, ctx: Context, authenticator: Authenticator, *, skip_api_version_check: bool = False) -> None:
        self.ctx = ctx
        self.authenticator = authenticator
        self.skip_api_version_check = skip_api_version_check
        self.fault_hook: FaultHook | None = None
        """Testing mode: every ACS request passes through the fault rules."""
        if ctx.faults is not None:
            from numberpool.api.testing.faults_hook import FaultHook

            self.fault_hook = FaultHook(ctx.faults)

    def endpoint(self, handler: Handler, requires: str | None = None) -> Endpoint:
        """`requires`: the `versions.Features` flag without which the route does not exist (404)."""
        return Endpoint(self, handler, requires)

    async def call(self, request: Request, requires: str | None = None) -> Call:
        scope = request.scope
        headers = scope.get("numberpool.headers") or header_map(scope)  # the app parsed them already
        body = await _read_body(request, headers)
        query_string: bytes = scope.get("query_string", b"")
        raw_path = scope.get("raw_path") or request.url.path.encode()
        path_and_query = raw_path.decode("latin-1") + ("?" + query_string.decode("latin-1") if query_string else "")
        resource = self.authenticator.authenticate(scope["method"], path_and_query, headers, body, time.time())
        scope["numberpool.resource"] = resource.id  # for the request's log line
        query = query_params(query_string)
        version = negotiate(query.get("api-version"), skip_check=self.skip_api_version_check,
                            request_uri=lambda: str(request.url.replace(query="")))  # built only for its error
        if requires is not None:
            version.require(requires, request.url.path)
        if body:
            media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if media_type not in _JSON_TYPES:
                raise AcsError(
                    "UnsupportedMediaType",
                    f"Content-Type must be application/json or application/merge-patch+json, not '{media_type}'.",
                    status=415,
                )
        return Call(request, version, resource.id, body, self.ctx, query)


SERVER_SEND = "numberpool.server_send"
"""Scope key: the server's own `send`, which the app (api/app.py) wraps for request ids and metrics."""
DISCONNECTED = "numberpool.disconnected"
"""Scope key set when a `disconnect` fault dropped the connection: the app logs it as `DISCONNECT_STATUS`."""
DISCONNECT_STATUS = 444  # nginx's "closed the connection without a response"


async def _drop_connection(scope: Scope, send: Send) -> None:
    """Close the connection without an answer (a `disconnect` fault), through the server's transport.

    Through the server's `send` (the app's wrapper has no transport): uvicorn's is a bound method
    of its request-response cycle, whose transport we abort.
    """
    cycle = getattr(scope.get(SERVER_SEND, send), "__self__", None)  # uvicorn's request-response cycle
    transport = getattr(cycle, "transport", None)
    if transport is None:
        log.warning("a disconnect fault cannot reach the connection under this server; answering 503")
        response = error_response(AcsError("ServiceUnavailable", "Disconnect fault.", status=503))
        await send({"type": "http.response.start", "status": 503, "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body})
        return
    transport.abort()
    cycle.disconnected = True  # so the server neither answers for us nor logs a missing response
    scope[DISCONNECTED] = True


async def _read_body(request: Request, headers: dict[str, str]) -> bytes:
    declared = headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise AcsError("BadRequest", "Content-Length is not a number.", status=400)
        if int(declared) > MAX_BODY_BYTES:
            raise _too_large()
    # From `receive` itself: Starlette's `request.stream()` (an async generator) cost 3-4 times as much.
    chunks = []
    size = 0
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _too_large() -> AcsError:
    return AcsError("RequestEntityTooLarge", f"The request body exceeds {MAX_BODY_BYTES} bytes.", status=413)
