"""The console's way into the admin API: in-process requests to the very routes the API serves.

Each call is an ASGI request to the declared route's endpoint (or a testing control's), with the
admin token, so it passes the same authentication, schema validation and handler as a request
over the network: what the console can do, the API can do, and no more.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlencode

from starlette.requests import Request
from starlette.routing import BaseRoute, Router
from starlette.types import Message


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    """The JSON body (None without one)."""

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def message(self) -> str:
        """The error's message (ACS error shape), for the page to show."""
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return str(self.body["error"].get("message", ""))
        return f"The request failed ({self.status})."


class AdminCalls:
    def __init__(self, routes: list[BaseRoute], token: str) -> None:
        self._router = Router(routes=routes)
        self._authorization = f"Bearer {token}".encode("latin-1")

    async def call(self, request: Request, method: str, path: str, *, query: dict[str, str] | None = None,
                   body: Any = None) -> Answer:
        """`path` is the full path (percent-encoded where it needs to be); `query`'s empty values are left out.

        `request` is the console's request: the call keeps its scheme and host, so an answer that
        names the service's address (a connection string) names the one the browser reached."""
        raw = json.dumps(body).encode("utf-8") if body is not None else b""
        headers = [(b"host", request.headers.get("host", "localhost").encode("latin-1")),
                   (b"authorization", self._authorization)]
        if body is not None:
            headers.append((b"content-type", b"application/json"))
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
            "scheme": request.url.scheme, "server": request.scope.get("server"), "client": request.scope.get("client"),
            "root_path": "", "path": unquote(path), "raw_path": path.encode("ascii"),
            "query_string": urlencode({k: v for k, v in (query or {}).items() if v}).encode("ascii"),
            "headers": headers,
        }
        sent = False
        started: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def receive() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self._router(scope, receive, send)
        content = b"".join(chunks)
        try:
            parsed = json.loads(content) if content else None
        except ValueError:
            parsed = None
        return Answer(started.get("status", 500), parsed)


def segment(value: str) -> str:
    """A path segment, percent-encoded."""
    return quote(value, safe="")
