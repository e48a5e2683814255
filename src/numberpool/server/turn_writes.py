"""One socket write per connection and event-loop turn, where uvicorn makes one per piece.

uvicorn's HTTP/1.1 protocol writes a response's status line and headers as soon as the app
sends `http.response.start`, then its body in a second `write`: two `send` system calls and
two TCP segments for every response, although the app sends both in the same turn. On
loopback each `send` also runs the receiver's TCP stack, so the first one was 11 % of the
server's CPU for a GET of an operation (py-spy, bench/README.md).

`TurnWriter` stands between the protocol and its transport: a write in a turn is kept, the
writes of the same turn are joined, and the end of the turn sends them with one `write`.
Anything that ends or inspects the connection (close, abort, the write buffer's size) sends
what is kept first, so the bytes and their order on the wire are the same as before; only
the number of writes changes. A turn that keeps more than `FLUSH_AT` bytes sends them at once,
so a streamed body never piles up here and flow control (`pause_writing`) sees it as before.
"""

from __future__ import annotations

import asyncio
from typing import Any

FLUSH_AT = 65_536


class TurnWriter:
    """An asyncio transport whose writes of one event-loop turn go out as one."""

    __slots__ = ("_transport", "_loop", "_kept", "_size", "_scheduled")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._kept: list[bytes] = []
        self._size = 0
        self._scheduled = False

    def write(self, data: bytes) -> None:
        self._kept.append(data)
        self._size += len(data)
        if self._size >= FLUSH_AT:
            self.flush()
        elif not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._end_of_turn)

    def _end_of_turn(self) -> None:
        self._scheduled = False
        self.flush()

    def flush(self) -> None:
        """Send what this turn kept, if anything (a no-op once the transport is closing)."""
        if not self._kept:
            return
        kept, self._kept, self._size = self._kept, [], 0
        if not self._transport.is_closing():
            self._transport.write(kept[0] if len(kept) == 1 else b"".join(kept))

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._kept, self._size = [], 0
        self._transport.abort()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def get_write_buffer_size(self) -> int:
        return self._size + self._transport.get_write_buffer_size()

    def __getattr__(self, name: str) -> Any:
        # is_closing, pause_reading, resume_reading, get_extra_info, set_protocol, ...
        return getattr(self._transport, name)
