"""A control endpoint: the admin token, an optional JSON body, the answer or an ACS-shaped error."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from numberpool.api import parse
from numberpool.api.admin_auth import check_admin
from numberpool.api.call import _read_body, error_response, header_map
from numberpool.core.context import Context
from numberpool.core.errors import AcsError

log = logging.getLogger("numberpool.testing")


@dataclass
class Control:
    ctx: Context
    request: Request
    body: bytes

    def json(self, *, optional: bool = False) -> dict[str, Any]:
        if optional and not self.body.strip():
            return {}
        return parse.json_body(self.body)


ControlHandler = Callable[[Control], Awaitable[Response]]


class ControlEndpoint:
    """An ASGI app for one control route; every error, including a wrong token, in the ACS shape."""

    def __init__(self, ctx: Context, admin_token: str | None, handler: ControlHandler) -> None:
        self.ctx = ctx
        self.admin_token = admin_token
        self.handler = handler
        self.__name__ = handler.__name__

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            headers = header_map(scope)
            check_admin(headers.get("authorization"), self.admin_token, request.url.path)
            body = await _read_body(request, headers)
            if body.strip() and headers.get("content-type", "").split(";", 1)[0].strip().lower() != "application/json":
                raise AcsError("UnsupportedMediaType", "Content-Type must be application/json.", status=415)
            await self.ctx.clock.sync()
            response = await self.handler(Control(self.ctx, request, body))
        except AcsError as error:
            response = error_response(error)
        except Exception:
            log.exception("unexpected failure in %s %s", request.method, request.url.path)
            response = error_response(AcsError("InternalError", "The server encountered an internal error.", status=500))
        await response(scope, receive, send)
