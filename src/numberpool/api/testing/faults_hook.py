"""Where fault rules meet ACS requests: every ACS endpoint passes through `FaultHook` in testing mode."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from numberpool.api.call import Call, json_response
from numberpool.core import faults
from numberpool.core.errors import AcsError

if TYPE_CHECKING:
    from numberpool.api.call import Endpoint

log = logging.getLogger("numberpool.testing")


def _e164(raw: Any) -> str | None:
    if not isinstance(raw, str) or not raw:
        return None
    raw = raw.strip()
    return raw if raw.startswith("+") else "+" + raw


def _phone_numbers(call: Call) -> tuple[str, ...]:
    """The numbers a request names: in its path, or in its body (operator information, reservations)."""
    number = call.request.path_params.get("number")
    if number is not None:
        found = _e164(number)
        return (found,) if found else ()
    if not call.body:
        return ()
    try:
        body = json.loads(call.body)
    except ValueError:
        return ()
    if not isinstance(body, dict):
        return ()
    listed = body.get("phoneNumbers")
    if isinstance(listed, list):  # operator information
        values = listed
    elif isinstance(listed, dict):  # a reservation, keyed by number
        values = list(listed)
    else:
        return ()
    return tuple(n for n in map(_e164, values) if n)


def http_fault_response(fault: faults.HttpFault) -> Response:
    headers = {}
    if fault.retry_after_seconds is not None:
        headers["Retry-After"] = f"{fault.retry_after_seconds:g}"
    error = AcsError(fault.code, fault.message, status=fault.status)
    return json_response(error.body(), status=fault.status, headers=headers)


class FaultHook:
    """Runs an endpoint's handler under the first fault rule that matches its request, if any."""

    def __init__(self, book: faults.FaultBook) -> None:
        self.book = book

    async def handle(self, endpoint: Endpoint, call: Call) -> Response | None:
        """The response; None: drop the connection without one."""
        await call.ctx.clock.sync()
        if self.book.idle():  # the usual case, without building a target
            return await endpoint.handler(call)
        country = call.request.path_params.get("country")
        target = faults.Target(
            operation=endpoint.operation,
            resource=call.resource,
            country_code=country.upper() if isinstance(country, str) else None,
            phone_numbers=lambda: _phone_numbers(call),
        )
        rule = await self.book.match(target)
        if rule is None:
            return await endpoint.handler(call)
        effect = rule.effect
        log.info("fault rule %s matched %s", rule.id, endpoint.operation)
        if effect.latency_ms:
            await asyncio.sleep(effect.latency_ms / 1000)
        if effect.disconnect:
            return None
        if effect.http is not None:
            return http_fault_response(effect.http)
        if effect.acts_on_operation:
            with faults.acting_on_operation(effect):
                return await endpoint.handler(call)
        return await endpoint.handler(call)
