"""uvicorn's HTTP/1.1 protocol (httptools), with one change to its graceful shutdown, and its
writes of one event-loop turn sent as one (`turn_writes.TurnWriter`).

On SIGTERM uvicorn stops accepting, lets requests in progress finish, and closes every
other connection at once. That includes a connection it accepted a moment before the
signal whose first request has not been read yet: the client sent a request and gets
no answer, although the server never started it. Here such a connection gets a short
grace instead: a request that arrives within FIRST_REQUEST_GRACE seconds is served (and
the connection closed after it); without one the connection is closed as before.
Connections that already served a request and are idle are closed at once, as before
(an HTTP/1.1 client retries a request it sent on a keep-alive connection the server
closed, when the request is idempotent).
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from numberpool.server.turn_writes import TurnWriter

FIRST_REQUEST_GRACE = 1.0


class GracefulHttpToolsProtocol(HttpToolsProtocol):
    _stopping = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.transport = TurnWriter(transport, self.loop)  # type: ignore[assignment]

    def shutdown(self) -> None:
        if self.cycle is None and not self.transport.is_closing():  # no request read yet
            self._stopping = True
            self.loop.call_later(FIRST_REQUEST_GRACE, self._close_if_no_request)
            return
        super().shutdown()

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        if self._stopping:
            self.cycle.keep_alive = False  # serve this one request, then close

    def _close_if_no_request(self) -> None:
        if self.cycle is None:
            self.transport.close()
