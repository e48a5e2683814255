"""Admin routes for single numbers: state and audit history, and ending aging early.

The rules are core/audit.py (`number_history`) and core/aging.py (`release_aging`), the same
functions `numberpool inventory history` and `numberpool inventory release-aging` call.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from numberpool.api.admin.routing import AdminRequest, AdminRoute, QueryParam, Reply
from numberpool.api.admin.schemas import RESOURCE_ID_SCHEMA, TIMESTAMP
from numberpool.core.aging import release_aging
from numberpool.core.audit import number_history, phone_number, service_now
from numberpool.core.context import Context
from numberpool.core.errors import invalid_input, not_found
from numberpool.core.number_listing import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, numbers_page
from numberpool.core.storage import NumberFilter
from numberpool.numbering.e164 import MAX_E164_DIGITS
from numberpool.core.model import AssignmentType, Direction, NumberEvent, NumberState, NumberType, PhoneNumber

MAX_NUMBERS = 1000
"""Numbers one release-aging request may name."""

E164_TEXT: dict[str, Any] = {"type": "string", "pattern": f"^\\+?[0-9]{{2,{MAX_E164_DIGITS}}}$",
                              "description": "E.164, e.g. +14255550123 (the '+' may be omitted)"}
_DIRECTION: dict[str, Any] = {"enum": [d.value for d in Direction]}
EVENT: dict[str, Any] = {
    "type": "object",
    "required": ["id", "at", "event", "actor"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "integer", "minimum": 1},
        "at": TIMESTAMP,
        "event": {"type": "string", "description": "held, purchased, released, withdrawn, imported, ..."},
        "phoneNumber": {"type": "string"},
        "oldState": {"type": "string"},
        "newState": {"type": "string"},
        "resource": {"type": "string"},
        "reference": {"type": "string", "description": "the operation, search or reservation id"},
        "actor": {"type": "string", "description": "a resource id, admin or system"},
        "detail": {"type": "string"},
    },
}
NUMBER: dict[str, Any] = {
    "type": "object",
    "required": ["phoneNumber", "history"],
    "additionalProperties": False,
    "properties": {
        "phoneNumber": {"type": "string"},
        "state": {"enum": [s.value for s in NumberState],
                  "description": "absent when the inventory no longer holds the number (its history remains)"},
        "countryCode": {"type": "string"},
        "phoneNumberType": {"enum": [t.value for t in NumberType]},
        "areaCode": {"type": "string"},
        "owner": {"type": "string", "description": "the resource that owns it (purchased)"},
        "holder": {"type": "string", "description": "the resource holding it (held or reserved)"},
        "holdExpiresAt": TIMESTAMP,
        "offering": {
            "type": "object",
            "required": ["phoneNumberType", "assignmentType", "capabilities"],
            "additionalProperties": False,
            "properties": {
                "phoneNumberType": {"enum": [t.value for t in NumberType]},
                "assignmentType": {"enum": [a.value for a in AssignmentType]},
                "capabilities": {
                    "type": "object", "required": ["calling", "sms"], "additionalProperties": False,
                    "properties": {"calling": _DIRECTION, "sms": _DIRECTION},
                },
            },
        },
        "cost": {
            "type": "object",
            "required": ["amount", "currencyCode", "billingFrequency"],
            "additionalProperties": False,
            "properties": {"amount": {"type": "number"}, "currencyCode": {"type": "string"},
                           "billingFrequency": {"type": "string"}},
        },
        "purchaseDate": TIMESTAMP,
        "agingUntil": {**TIMESTAMP, "description": "aging only: when it becomes available again"},
        "history": {"type": "array", "items": EVENT, "description": "its audit events, oldest first"},
    },
}
NUMBER_PAGE: dict[str, Any] = {
    "type": "object",
    "required": ["value"],
    "additionalProperties": False,
    "properties": {
        "value": {"type": "array", "items": {**NUMBER, "required": ["phoneNumber", "state"],
                                             "properties": {k: v for k, v in NUMBER["properties"].items()
                                                            if k != "history"}}},
        "continuation": {"type": "string", "description": "present when more numbers follow"},
    },
}
_PREFIX: dict[str, Any] = {"type": "string", "pattern": f"^\\+?[0-9]{{1,{MAX_E164_DIGITS}}}$"}
PHONE_NUMBERS_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["phoneNumbers"],
    "additionalProperties": False,
    "properties": {"phoneNumbers": {"type": "array", "minItems": 1, "maxItems": MAX_NUMBERS, "items": E164_TEXT}},
}
"""A request naming up to MAX_NUMBERS numbers (end their aging, withdraw them)."""
RELEASE_AGING_RESULT: dict[str, Any] = {
    "type": "object",
    "required": ["released", "notAging"],
    "additionalProperties": False,
    "properties": {
        "released": {"type": "array", "items": {"type": "string"}, "description": "were aging, now available"},
        "notAging": {"type": "array", "items": {"type": "string"}, "description": "left as they are"},
    },
}


def _time(moment: datetime) -> str:
    return moment.isoformat()


def event_json(event: NumberEvent) -> dict[str, Any]:
    body: dict[str, Any] = {"id": event.id, "at": _time(event.at), "event": event.event, "actor": event.actor}
    optional = {"phoneNumber": event.phone_number, "oldState": event.old_state, "newState": event.new_state,
                "resource": event.resource, "reference": event.reference, "detail": event.detail}
    body.update({name: value for name, value in optional.items() if value is not None})
    return body


def number_json(number: PhoneNumber) -> dict[str, Any]:
    body: dict[str, Any] = {
        "phoneNumber": number.phone_number,
        "state": number.state.value,
        "countryCode": number.country,
        "phoneNumberType": number.number_type.value,
        "areaCode": number.area_code,
    }
    if number.owner is not None:
        body["owner"] = number.owner
    if number.holder is not None:
        body["holder"] = number.holder
    if number.hold_expires_at is not None:
        body["holdExpiresAt"] = _time(number.hold_expires_at)
    if number.assignment is not None and number.capabilities is not None:
        body["offering"] = {
            "phoneNumberType": number.number_type.value,
            "assignmentType": number.assignment.value,
            "capabilities": {"calling": number.capabilities.calling.value, "sms": number.capabilities.sms.value},
        }
    if number.cost is not None:
        body["cost"] = {"amount": number.cost.amount, "currencyCode": number.cost.currency,
                        "billingFrequency": number.cost.billing_frequency}
    if number.purchased_at is not None:
        body["purchaseDate"] = _time(number.purchased_at)
    if number.aging_until is not None:
        body["agingUntil"] = _time(number.aging_until)
    return body


def _continuation(last: str) -> str:
    """The next page starts after this number: its digits are the token (any digits make a valid one)."""
    return last.removeprefix("+")


def _number_filter(call: AdminRequest) -> NumberFilter:
    prefix = call.query("prefix") or ""
    return NumberFilter(prefix="+" + prefix.removeprefix("+"), state=call.query("state"),
                        country=call.query("country"), owner=call.query("resource"))


def e164_number(raw: str, target: str) -> str:
    try:
        return phone_number(raw)
    except ValueError as exc:
        raise invalid_input(str(exc), target=target) from None


def routes(ctx: Context) -> list[AdminRoute]:
    async def show_number(call: AdminRequest) -> Reply:
        e164 = e164_number(call.path("phoneNumber"), "phoneNumber")
        number, events = await number_history(ctx.store, e164)
        if number is None and not events:
            raise not_found(f"The inventory never had {e164}.", target="phoneNumber")
        body = number_json(number) if number is not None else {"phoneNumber": e164}
        body["history"] = [event_json(event) for event in events]
        return Reply(200, body)

    async def end_aging(call: AdminRequest) -> Reply:
        numbers = [e164_number(raw, f"phoneNumbers.{i}") for i, raw in enumerate(call.body["phoneNumbers"])]
        released = await release_aging(ctx.store, numbers, await service_now(ctx.store))
        ended = set(released)
        return Reply(200, {"released": released, "notAging": [n for n in dict.fromkeys(numbers) if n not in ended]})

    async def list_numbers(call: AdminRequest) -> Reply:
        size = int(call.query("pageSize") or DEFAULT_PAGE_SIZE)
        found, more = await numbers_page(ctx.store, _number_filter(call), "+" + (call.query("continuation") or ""), size)
        body: dict[str, Any] = {"value": [number_json(number) for number in found]}
        if more:
            body["continuation"] = _continuation(found[-1].phone_number)
        return Reply(200, body)

    # The action is `numbers:releaseAging`, not `numbers/release-aging`: the latter is also a
    # `numbers/{phoneNumber}` path, so GET would be allowed on it.
    return [
        AdminRoute("GET", "/numbers", "Numbers_List",
                   "The numbers matching every filter given, in E.164 order, a page at a time (keyset paging)",
                   list_numbers, {200: ("A page of numbers; `continuation` fetches the next", NUMBER_PAGE)},
                   query=(QueryParam("prefix", _PREFIX, "E.164 text the number starts with ('+' optional)"),
                          QueryParam("state", {"enum": [s.value for s in NumberState]}, "only numbers in this state"),
                          QueryParam("country", {"type": "string", "pattern": "^[A-Z]{2}$"},
                                     "ISO 3166 country code, e.g. US"),
                          QueryParam("resource", RESOURCE_ID_SCHEMA, "only numbers this resource owns"),
                          QueryParam("pageSize", {"type": "string", "pattern": "^([1-9][0-9]{0,2}|1000)$"},
                                     f"numbers per page, 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE})"),
                          QueryParam("continuation", {"type": "string", "pattern": f"^[0-9]{{1,{MAX_E164_DIGITS}}}$"},
                                     "the previous page's continuation"))),
        AdminRoute("GET", "/numbers/{phoneNumber}", "Numbers_Get",
                   "A number's state, owner, offering, cost and aging, with its audit history",
                   show_number, {200: ("The number and its events", NUMBER)},
                   path_params={"phoneNumber": E164_TEXT}),
        AdminRoute("POST", "/numbers:releaseAging", "Numbers_ReleaseAging",
                   "End the aging of these numbers now (event 'aging ended', actor admin); others are left as they are",
                   end_aging, {200: ("Which were released", RELEASE_AGING_RESULT)}, request=PHONE_NUMBERS_REQUEST),
    ]
