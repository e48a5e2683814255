"""The console's way into the admin API: in-process requests to the very routes the API serves.

Each call is an ASGI request to the declared route's endpoint (or a testing control's), with the
admin token, so it passes the same authentication, schema validation and handler as a request
over the network: what the console can do, the API can do, and no more.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlencode

from starlette.requests import Request
from starlette.routing import BaseRoute, Router
from starlette.types import Message, Receive, Scope


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


STALLED_SECONDS = 60.0
"""How long a download's route waits for the browser to take its next chunk."""
Content = bytes | AsyncIterator[bytes]
"""A body that is not JSON (a file): whole, or as chunks read while they are sent."""


@dataclass(frozen=True)
class Download:
    """A successful answer whose body is still arriving (a file to pass on to the browser)."""
    status: int
    headers: dict[str, str]
    chunks: AsyncIterator[bytes]


class AdminCalls:
    def __init__(self, routes: list[BaseRoute], token: str) -> None:
        self._router = Router(routes=routes)
        self._authorization = f"Bearer {token}".encode("latin-1")

    async def call(self, request: Request, method: str, path: str, *, query: dict[str, str] | None = None,
                   body: Any = None, content: Content | None = None, content_type: str = "") -> Answer:
        """`path` is the full path (percent-encoded where it needs to be); `query`'s empty values are left out.
        `body` is sent as JSON; `content` (a file) as `content_type`, a chunk at a time as it is read.

        `request` is the console's request: the call keeps its scheme and host, so an answer that
        names the service's address (a connection string) names the one the browser reached."""
        if body is not None:
            content, content_type = json.dumps(body).encode("utf-8"), "application/json"
        started: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self._router(self._scope(request, method, path, query, content_type), _receiver(content), send)
        return _answer(started.get("status", 500), b"".join(chunks))

    async def download(self, request: Request, path: str, *, query: dict[str, str] | None = None) -> Answer | Download:
        """A GET whose answer (a file of any size) is passed on as it is produced: a Download once
        the route has answered a success, or the error's Answer."""
        messages: asyncio.Queue[Message] = asyncio.Queue(maxsize=16)

        async def send(message: Message) -> None:
            # Nobody reads on (the browser left before the first chunk): the route gives up.
            await asyncio.wait_for(messages.put(message), STALLED_SECONDS)

        task = asyncio.create_task(self._router(self._scope(request, "GET", path, query, ""), _receiver(None), send))
        task.add_done_callback(lambda done: done.cancelled() or done.exception())  # retrieved: no warning
        start = await _next_message(messages, task)
        status = start.get("status", 500) if start else 500
        if start is None or status >= 400:
            body = b""
            while start is not None and (message := await _next_message(messages, task)) is not None:
                body += message.get("body", b"")
                if not message.get("more_body", False):
                    break
            await task
            return _answer(status, body)
        headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in start.get("headers", [])}

        async def chunks() -> AsyncIterator[bytes]:
            try:
                while (message := await _next_message(messages, task)) is not None:
                    if message.get("body"):
                        yield message["body"]
                    if not message.get("more_body", False):
                        break
            finally:
                task.cancel()  # the browser went away: stop producing
                with suppress(asyncio.CancelledError):
                    await task

        return Download(status, headers, chunks())

    def _scope(self, request: Request, method: str, path: str, query: dict[str, str] | None,
               content_type: str) -> Scope:
        headers = [(b"host", request.headers.get("host", "localhost").encode("latin-1")),
                   (b"authorization", self._authorization)]
        if content_type:
            headers.append((b"content-type", content_type.encode("latin-1")))
        return {
            # spec_version 2.4: a streamed answer does not wait for a disconnect this call never sends
            "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1",
            "method": method, "scheme": request.url.scheme, "server": request.scope.get("server"),
            "client": request.scope.get("client"), "root_path": "", "path": unquote(path),
            "raw_path": path.encode("ascii"),
            "query_string": urlencode({k: v for k, v in (query or {}).items() if v}).encode("ascii"),
            "headers": headers,
        }


def _receiver(content: Content | None) -> Receive:
    """The request body's messages: one for bytes, one per chunk for a stream, then disconnect."""
    chunks = content.__aiter__() if content is not None and not isinstance(content, bytes) else None
    done = False

    async def receive() -> Message:
        nonlocal done
        if done:
            return {"type": "http.disconnect"}
        if chunks is None:
            done = True
            return {"type": "http.request", "body": content or b"", "more_body": False}
        chunk = await anext(chunks, None)
        if chunk is None:
            done = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": chunk, "more_body": True}

    return receive


async def _next_message(messages: asyncio.Queue[Message], task: asyncio.Task[None]) -> Message | None:
    """The route's next message, or None once it has ended without one (it raised)."""
    getting = asyncio.ensure_future(messages.get())
    await asyncio.wait([getting, task], return_when=asyncio.FIRST_COMPLETED)
    if getting.done():
        return getting.result()
    getting.cancel()
    if not messages.empty():
        return messages.get_nowait()
    task.result()  # re-raises what the route raised
    return None


def _answer(status: int, content: bytes) -> Answer:
    try:
        parsed = json.loads(content) if content else None
    except ValueError:
        parsed = None
    return Answer(status, parsed)


def segment(value: str) -> str:
    """A path segment, percent-encoded."""
    return quote(value, safe="")
