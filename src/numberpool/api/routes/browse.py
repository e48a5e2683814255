"""Browse the numbers for sale (the versions that have reservations)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from numberpool.api import parse, wire
from numberpool.api.call import Api, Call, json_response
from numberpool.core import browse
from numberpool.core.errors import bad_request
from numberpool.core.model import AssignmentType, Direction, NumberType

MAX_PREFIXES = 100
_MAX_PREFIX_DIGITS = 15


def _prefixes(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_PREFIXES:
        raise bad_request(
            f"'phoneNumberPrefixes' must be a list of at most {MAX_PREFIXES} strings.", target="phoneNumberPrefixes"
        )
    found = []
    for prefix in value:
        digits = prefix.removeprefix("+") if isinstance(prefix, str) else ""
        if not (digits.isascii() and digits.isdigit() and len(digits) <= _MAX_PREFIX_DIGITS):
            raise bad_request(
                "Each phone number prefix must be digits, country code included (e.g. \"1425\").",
                target="phoneNumberPrefixes",
            )
        found.append(digits)
    return tuple(sorted(set(found)))


def _direction(capabilities: dict[str, Any], name: str) -> Direction | None:
    value = capabilities.get(name)
    return None if value is None else parse.enum_value(Direction, value, f"capabilities.{name}")


def _browse_request(call: Call) -> browse.BrowseRequest:
    body = call.json()
    assignment = body.get("assignmentType")
    capabilities = body.get("capabilities")
    if capabilities is None:
        capabilities = {}
    if not isinstance(capabilities, dict):
        raise bad_request("'capabilities' must be an object with 'calling' and/or 'sms'.", target="capabilities")
    return browse.BrowseRequest(
        number_type=parse.enum_value(
            NumberType, parse.required(body, "phoneNumberType"), "phoneNumberType", allowed=call.version.number_types
        ),
        assignment=None if assignment is None else parse.enum_value(AssignmentType, assignment, "assignmentType"),
        calling=_direction(capabilities, "calling"),
        sms=_direction(capabilities, "sms"),
        prefixes=_prefixes(body.get("phoneNumberPrefixes")),
    )


async def browse_numbers(call: Call) -> Response:
    found = await browse.browse(call.ctx, call.path("country"), _browse_request(call))
    return json_response({"phoneNumbers": [wire.available_number(n, "available", call.version) for n in found]})


def routes(api: Api) -> list[Route]:
    return [
        Route(
            "/availablePhoneNumbers/countries/{country}/:browse",
            api.endpoint(browse_numbers, requires="reservations"),
            methods=["POST"],
        ),
    ]
