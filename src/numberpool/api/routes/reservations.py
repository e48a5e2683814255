"""Reservations: create or update, read, list, delete and purchase (the versions that have them)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from numberpool.api import parse, wire
from numberpool.api.call import Api, Call, accepted, json_response
from numberpool.api.versions import AGREE, CONSENT
from numberpool.core import reservations
from numberpool.core.errors import bad_request
from numberpool.core.model import AssignmentType, NumberType


def _number_request(call: Call, key: str, value: Any) -> reservations.NumberRequest:
    if not isinstance(value, dict):
        raise bad_request("Each phone number must be an object, or null to remove it.", target="phoneNumbers")
    given = value.get("phoneNumber")
    if given is not None and (not isinstance(given, str) or given.lstrip("+") != key.lstrip("+")):
        raise bad_request("'phoneNumber' does not match the phone number id it is keyed by.", target="phoneNumber")
    number_type = value.get("phoneNumberType")
    assignment = value.get("assignmentType")
    caps = value.get("capabilities")
    return reservations.NumberRequest(
        country=parse.optional_string(value, "countryCode"),
        number_type=None if number_type is None else parse.enum_value(
            NumberType, number_type, "phoneNumberType", allowed=call.version.number_types
        ),
        assignment=None if assignment is None else parse.enum_value(AssignmentType, assignment, "assignmentType"),
        capabilities=None if caps is None else parse.capabilities(caps),
    )


def _changes(call: Call) -> dict[str, reservations.NumberRequest | None]:
    numbers = call.json().get("phoneNumbers")
    if numbers is None:
        return {}
    if not isinstance(numbers, dict):
        raise bad_request("'phoneNumbers' must be an object keyed by phone number id.", target="phoneNumbers")
    if len(numbers) > reservations.MAX_CHANGES:
        raise bad_request(
            f"A request can add or remove at most {reservations.MAX_CHANGES} phone numbers.", target="phoneNumbers"
        )
    changes: dict[str, reservations.NumberRequest | None] = {}
    for key, value in numbers.items():
        e164 = reservations.number_from_id(key)
        changes[e164] = None if value is None else _number_request(call, key, value)
    return changes


async def create_or_update_reservation(call: Call) -> Response:
    changes = _changes(call)
    outcome = await reservations.create_or_update(
        call.ctx, call.resource, call.path("reservation_id"), changes, call.version.number_types
    )
    body = wire.reservation(outcome.reservation, call.ctx.clock.now(), call.version, outcome.failed)
    headers = {}
    if outcome.created:  # as the service sends it: relative, without the api-version, and not exposed (JS, Java 2025)
        headers["Location"] = reservations.reservation_location(outcome.reservation.id)
    status = 207 if outcome.failed else 201 if outcome.created else 200
    return json_response(body, status=status, headers=headers)


async def get_reservation(call: Call) -> Response:
    found = await reservations.get_reservation(call.ctx, call.resource, call.path("reservation_id"))
    return json_response(wire.reservation(found, call.ctx.clock.now(), call.version))


async def list_reservations(call: Call) -> Response:
    skip = parse.query_int(call.query, "skip", 0)
    size = parse.query_int(call.query, "maxPageSize", 100, minimum=1, maximum=parse.MAX_PAGE_SIZE)
    found = await reservations.list_reservations(call.ctx, call.resource, skip, size + 1)
    now = call.ctx.clock.now()
    return call.page(
        [wire.reservation(r, now, call.version, with_numbers=False) for r in found[:size]],
        "reservations",
        has_more=len(found) > size,
        skip=skip,
        size=size,
        null_next_link=True,
    )


async def delete_reservation(call: Call) -> Response:
    await reservations.delete_reservation(call.ctx, call.resource, call.path("reservation_id"))
    return Response(status_code=204)


async def purchase_reservation(call: Call) -> Response:
    body = call.json() if call.body.strip() else {}  # the request body is optional
    field = call.version.features.consent_field
    agreed = parse.boolean(body, *((field,) if field else (AGREE, CONSENT)))
    operation = await reservations.purchase_reservation(
        call.ctx, call.resource, call.path("reservation_id"), agreed, call.version.features.resell_refusal
    )
    reservation_id = operation.id.removeprefix("reservationPurchase_")
    return accepted(
        {
            # as recorded (JS, 2025-04-25): Location is named though none is sent
            "Access-Control-Expose-Headers": "Location,Operation-Location,operation-id,reservation-purchase-id",
            "Operation-Location": call.versioned(f"/phoneNumbers/operations/{operation.id}"),
            "operation-id": operation.id,
            "reservation-purchase-id": reservation_id,
        }
    )


def routes(api: Api) -> list[Route]:
    base = "/availablePhoneNumbers/reservations"
    one = base + "/{reservation_id}"
    return [
        Route(base, api.endpoint(list_reservations, requires="reservations"), methods=["GET"]),
        Route(one, api.endpoint(create_or_update_reservation, requires="reservations"), methods=["PATCH"]),
        Route(one, api.endpoint(get_reservation, requires="reservations"), methods=["GET"]),
        Route(one, api.endpoint(delete_reservation, requires="reservations"), methods=["DELETE"]),
        Route(one + "/:purchase", api.endpoint(purchase_reservation, requires="reservations"), methods=["POST"]),
    ]
