"""Purchased numbers: list, get, release, update capabilities."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from numberpool.api import parse, wire
from numberpool.api.call import Api, Call, accepted, json_response
from numberpool.core import phone_numbers
from numberpool.core.errors import capabilities_missing, number_not_found
from numberpool.core.model import Direction


async def list_numbers(call: Call) -> Response:
    skip = parse.query_int(call.query, "skip", 0)
    top = parse.query_int(call.query, "top", 100, minimum=1, maximum=parse.MAX_PAGE_SIZE)
    numbers = await phone_numbers.list_numbers(call.ctx, call.resource, skip, top + 1, call.version.number_types)
    return call.page(
        [wire.purchased_number(n, call.version) for n in numbers[:top]],
        "phoneNumbers",
        size_param="top",
        has_more=len(numbers) > top,
        skip=skip,
        size=top,
    )


async def get_number(call: Call) -> Response:
    number = await phone_numbers.get_number(call.ctx, call.resource, call.path("number"))
    if number.number_type not in call.version.number_types:  # a mobile number, read at a version without mobile
        raise number_not_found(number.phone_number)
    return json_response(wire.purchased_number(number, call.version))


async def release_number(call: Call) -> Response:
    operation = await phone_numbers.release_number(call.ctx, call.resource, call.path("number"))
    release_id = operation.id.removeprefix("release_")
    return accepted(
        {
            "Access-Control-Expose-Headers": "Operation-Location,operation-id,release-id",
            "Operation-Location": call.versioned(f"/phoneNumbers/operations/{operation.id}"),
            "operation-id": operation.id,
            "release-id": release_id,
        }
    )


async def update_capabilities(call: Call) -> Response:
    body = call.json()
    calling = body.get("calling")
    sms = body.get("sms")
    if calling is None and sms is None:  # checked before the number, as the service does
        raise capabilities_missing()
    operation = await phone_numbers.update_capabilities(
        call.ctx,
        call.resource,
        call.path("number"),
        None if calling is None else parse.enum_value(Direction, calling, "calling"),
        None if sms is None else parse.enum_value(Direction, sms, "sms"),
    )
    update_id = operation.id.removeprefix("capabilities_")
    assert operation.resource_location is not None
    return accepted(
        {
            "Access-Control-Expose-Headers": "Operation-Location,Location,operation-id,capabilities-id",
            "Location": call.versioned(operation.resource_location),
            "Operation-Location": call.versioned(f"/phoneNumbers/operations/{operation.id}"),
            "operation-id": operation.id,
            "capabilities-id": update_id,
        },
        body={"capabilitiesUpdateId": update_id},
    )


def routes(api: Api) -> list[Route]:
    return [
        Route("/phoneNumbers", api.endpoint(list_numbers), methods=["GET"]),
        Route("/phoneNumbers/{number}/capabilities", api.endpoint(update_capabilities), methods=["PATCH"]),
        Route("/phoneNumbers/{number}", api.endpoint(get_number), methods=["GET"]),
        Route("/phoneNumbers/{number}", api.endpoint(release_number), methods=["DELETE"]),
    ]
