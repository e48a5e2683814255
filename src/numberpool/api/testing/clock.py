"""The test clock: read and move the service's time (testing mode).

`POST /_numberpool/clock` with `{"advanceSeconds": N}` moves the clock of every process on the
database forward by N seconds; `GET` reads it. Both answer `{"offsetSeconds": <total offset>,
"now": <service time>}`. Like every control endpoint they take the admin token
(`Authorization: Bearer ...`); without testing mode the path does not exist.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from numberpool.api import wire
from numberpool.api.call import json_response
from numberpool.api.testing.control import Control, ControlEndpoint
from numberpool.core.context import Context
from numberpool.core.errors import bad_request
from numberpool.core.timeutil import Clock, SharedClock, check_advance

PATH = "/_numberpool/clock"


def _shared(control: Control) -> SharedClock:
    clock = control.ctx.clock
    assert isinstance(clock, SharedClock), "the clock route is served with the shared clock only"
    return clock


def _state(clock: Clock) -> dict[str, Any]:
    return {"offsetSeconds": clock.offset, "now": wire.timestamp(clock.now())}


async def read_clock(control: Control) -> Response:
    return json_response(_state(_shared(control)))


async def move_clock(control: Control) -> Response:
    clock = _shared(control)
    seconds = control.json().get("advanceSeconds")
    try:
        await clock.advance_shared(check_advance(seconds))
    except ValueError as exc:
        raise bad_request(f"'advanceSeconds' must be a number of seconds: {exc}.", target="advanceSeconds") from None
    return json_response(_state(clock))


def routes(ctx: Context, admin_token: str | None) -> list[Route]:
    return [
        Route(PATH, ControlEndpoint(ctx, admin_token, read_clock), methods=["GET"]),
        Route(PATH, ControlEndpoint(ctx, admin_token, move_clock), methods=["POST"]),
    ]
