"""The server's writes of one event-loop turn go out as one, in order, and nothing kept is lost."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from uvicorn.config import Config
from uvicorn.server import ServerState

from numberpool.server.graceful import GracefulHttpToolsProtocol
from numberpool.server.turn_writes import FLUSH_AT, TurnWriter
from tests.support.server import ServerProcess


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: bytes) -> None:  # type: ignore[override]
        assert not self.closed, "written after close"
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_write_buffer_size(self) -> int:
        return 7

    def get_extra_info(self, name: str, default: object = None) -> object:
        return {"peername": ("127.0.0.1", 1), "sockname": ("127.0.0.1", 2)}.get(name, default)


async def test_the_writes_of_one_turn_are_sent_as_one_at_its_end() -> None:
    transport = RecordingTransport()
    writer = TurnWriter(transport, asyncio.get_running_loop())
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    writer.write(b"{}")
    assert transport.writes == [] and writer.get_write_buffer_size() == 40 + 7
    await asyncio.sleep(0)
    assert transport.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
    writer.write(b"next")
    await asyncio.sleep(0)
    assert transport.writes[1:] == [b"next"]


async def test_close_sends_what_was_kept_first_and_abort_drops_it() -> None:
    transport = RecordingTransport()
    writer = TurnWriter(transport, asyncio.get_running_loop())
    writer.write(b"head")
    writer.write(b"body")
    writer.close()
    assert transport.writes == [b"headbody"] and transport.closed
    await asyncio.sleep(0)  # the end of the turn finds nothing more to send
    assert transport.writes == [b"headbody"]

    aborted = RecordingTransport()
    writer = TurnWriter(aborted, asyncio.get_running_loop())
    writer.write(b"never sent")
    writer.abort()
    await asyncio.sleep(0)
    assert aborted.writes == [] and aborted.aborted


async def test_a_large_turn_is_sent_at_once_and_other_calls_reach_the_transport() -> None:
    transport = RecordingTransport()
    writer = TurnWriter(transport, asyncio.get_running_loop())
    writer.write(b"a" * (FLUSH_AT - 1))
    assert transport.writes == []
    writer.write(b"b")
    assert transport.writes == [b"a" * (FLUSH_AT - 1) + b"b"]
    assert writer.get_extra_info("peername") == ("127.0.0.1", 1)
    assert writer.is_closing() is False


async def test_the_servers_protocol_sends_a_response_with_one_write() -> None:
    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"{}"})

    config = Config(app=app, http=GracefulHttpToolsProtocol, lifespan="off", log_level="warning", access_log=False)
    config.load()
    transport = RecordingTransport()
    protocol = GracefulHttpToolsProtocol(config=config, server_state=ServerState(), app_state={})
    protocol.connection_made(transport)
    for _ in range(2):
        protocol.data_received(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        for _ in range(5):
            await asyncio.sleep(0)
    assert len(transport.writes) == 2, transport.writes
    assert all(w.startswith(b"HTTP/1.1 200 OK\r\n") and w.endswith(b"\r\n\r\n{}") for w in transport.writes)


def test_responses_stay_whole_and_in_order_on_a_kept_alive_connection(tmp_path: Path) -> None:
    """Over a real socket: each response's head and body, request after request on one connection."""
    server = ServerProcess(tmp_path, "--inventory-size", "5", tls=False).start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
            for path, status in [("/livez", b"200"), ("/phoneNumbers?api-version=2025-06-01", b"401"), ("/livez", b"200")]:
                conn.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode())
                head, _, body = conn.recv(65_536).partition(b"\r\n\r\n")
                assert head.split(b" ")[1] == status, head
                length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))
                assert len(body) == length, f"{path}: the first read held {len(body)} of {length} body bytes"
    finally:
        server.stop()
