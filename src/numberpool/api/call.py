"""One authenticated API call: the request, its api-version, its resource and body."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from numberpool.api import parse
from numberpool.api.auth import Authenticator
from numberpool.api.versions import SUPPORTED, ApiVersion, negotiate
from numberpool.core.context import Context
from numberpool.core.errors import AcsError

log = logging.getLogger("numberpool.api")

MAX_BODY_BYTES = 1024 * 1024
_JSON_TYPES = ("application/json", "application/merge-patch+json")
_SUPPORTED_HEADER = ", ".join(SUPPORTED)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8"),
        status_code=status,
        headers=headers,
        media_type="application/json; charset=utf-8",
    )


def error_response(error: AcsError) -> Response:
    return json_response(error.body(), status=error.status)


def accepted(headers: dict[str, str], body: Any = None) -> Response:
    if body is None:
        return Response(b"", status_code=202, headers=headers)
    return json_response(body, status=202, headers=headers)


@dataclass
class Call:
    request: Request
    version: ApiVersion
    resource: str
    body: bytes
    ctx: Context

    def json(self) -> dict[str, Any]:
        return parse.json_body(self.body)

    def path(self, name: str) -> str:
        return self.request.path_params[name]

    @property
    def query(self) -> Any:
        return self.request.query_params

    def versioned(self, location: str) -> str:
        return f"{location}?api-version={self.version.value}"

    def page(self, items: list[Any], key: str, *, size_param: str = "maxPageSize", has_more: bool | None = None,
             skip: int = 0, size: int = 100) -> Response:
        """A page of `items` with a relative `nextLink` when more follow."""
        body: dict[str, Any] = {key: items}
        if has_more:
            params = [(k, v) for k, v in self.query.multi_items() if k not in ("skip", size_param, "api-version")]
            params += [("skip", str(skip + size)), (size_param, str(size)), ("api-version", self.version.value)]
            body["nextLink"] = f"{self.request.url.path}?{urlencode(params)}"
        return json_response(body)

    def paged(self, items: list[Any], key: str) -> Response:
        skip = parse.query_int(self.query, "skip", 0)
        size = parse.query_int(self.query, "maxPageSize", 100, minimum=1, maximum=parse.MAX_PAGE_SIZE)
        return self.page(items[skip : skip + size], key, skip=skip, size=size, has_more=skip + size < len(items))


Handler = Callable[[Call], Awaitable[Response]]


class Api:
    """Turns core handlers into Starlette endpoints: body limit, auth, api-version, error mapping."""

    def __init__(self, ctx: Context, authenticator: Authenticator, *, skip_api_version_check: bool = False) -> None:
        self.ctx = ctx
        self.authenticator = authenticator
        self.skip_api_version_check = skip_api_version_check

    def endpoint(self, handler: Handler, requires: str | None = None) -> Callable[[Request], Awaitable[Response]]:
        """`requires`: the `versions.Features` flag without which the route does not exist (404)."""

        async def run(request: Request) -> Response:
            try:
                response = await handler(await self._call(request, requires))
            except AcsError as error:
                response = error_response(error)
            except Exception:
                log.exception("unexpected failure in %s %s", request.method, request.url.path)
                response = error_response(AcsError("InternalError", "The server encountered an internal error.", status=500))
            response.headers["api-supported-versions"] = _SUPPORTED_HEADER
            return response

        run.__name__ = handler.__name__
        return run

    async def _call(self, request: Request, requires: str | None = None) -> Call:
        body = await _read_body(request)
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        query = request.scope.get("query_string", b"")
        path_and_query = raw_path.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")
        resource = self.authenticator.authenticate(request.method, path_and_query, request.headers, body, time.time())
        version = negotiate(request.query_params.get("api-version"), skip_check=self.skip_api_version_check)
        if requires is not None:
            version.require(requires, request.url.path)
        if body:
            media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if media_type not in _JSON_TYPES:
                raise AcsError(
                    "UnsupportedMediaType",
                    f"Content-Type must be application/json or application/merge-patch+json, not '{media_type}'.",
                    status=415,
                )
        return Call(request, version, resource.id, body, self.ctx)


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise AcsError("BadRequest", "Content-Length is not a number.", status=400)
        if int(declared) > MAX_BODY_BYTES:
            raise _too_large()
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> AcsError:
    return AcsError("RequestEntityTooLarge", f"The request body exceeds {MAX_BODY_BYTES} bytes.", status=413)
