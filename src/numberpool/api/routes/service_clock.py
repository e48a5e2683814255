"""The test clock: read and move the service's time (only with `serve --test-clock`).

`POST /_numberpool/clock?api-version=...` with `{"advanceSeconds": N}` moves the clock of every
process on the database forward by N seconds; `GET` reads it. Both answer
`{"offsetSeconds": <total offset>, "now": <service time>}`. Requests are signed like any other,
with the development resource's key: no other resource may move time. Without the flag the path
does not exist.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from numberpool.api import wire
from numberpool.api.call import Api, Call, json_response
from numberpool.core.errors import AcsError, bad_request
from numberpool.core.resources import DEV_RESOURCE_ID
from numberpool.core.timeutil import Clock, SharedClock, check_advance

PATH = "/_numberpool/clock"


def _shared(call: Call) -> SharedClock:
    if call.resource != DEV_RESOURCE_ID:
        raise AcsError("InsufficientPermissions", "Only the development resource may move the test clock.",
                       status=403)
    clock = call.ctx.clock
    assert isinstance(clock, SharedClock), "the clock route is served with the shared clock only"
    return clock


def _state(clock: Clock) -> dict[str, Any]:
    return {"offsetSeconds": clock.offset, "now": wire.timestamp(clock.now())}


async def read_clock(call: Call) -> Response:
    clock = _shared(call)
    return json_response(_state(clock))


async def move_clock(call: Call) -> Response:
    clock = _shared(call)
    seconds = call.json().get("advanceSeconds")
    try:
        await clock.advance_shared(check_advance(seconds))
    except ValueError as exc:
        raise bad_request(f"'advanceSeconds' must be a number of seconds: {exc}.", target="advanceSeconds") from None
    return json_response(_state(clock))


def routes(api: Api) -> list[Route]:
    return [
        Route(PATH, api.endpoint(read_clock), methods=["GET"]),
        Route(PATH, api.endpoint(move_clock), methods=["POST"]),
    ]


class ClockSync:
    """ASGI middleware: bring the shared clock up to date before each request is handled."""

    def __init__(self, app: ASGIApp, clock: Clock) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.clock.sync()
        await self.app(scope, receive, send)
