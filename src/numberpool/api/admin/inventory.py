"""Admin routes for the operator's inventory, behind the `numberpool inventory` commands: the
report (core/inventory_report.py), add-range (core/inventory_import.py), export
(core/inventory_export.py) and withdraw (core/inventory_withdraw.py). Importing a file is a
background job: imports.py.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import StreamingResponse

from numberpool.api.admin.numbers import PHONE_NUMBERS_REQUEST, e164_number
from numberpool.api.admin.routing import AdminRequest, AdminRoute, QueryParam, Reply
from numberpool.api.admin.schemas import RESOURCE_ID_SCHEMA
from numberpool.core.audit import service_now
from numberpool.core.context import Context
from numberpool.core.errors import invalid_input
from numberpool.core.inventory_export import export_csv
from numberpool.core.inventory_import import NumbersFileError, Rejection, import_range, range_numbers
from numberpool.core.inventory_report import STATES, inventory_report
from numberpool.core.inventory_store import ExportFilter
from numberpool.core.inventory_withdraw import withdraw_numbers
from numberpool.core.model import NumberState

_COUNT: dict[str, Any] = {"type": "integer", "minimum": 0}
REPORT: dict[str, Any] = {
    "type": "object",
    "required": ["total", "byState", "groups"],
    "additionalProperties": False,
    "properties": {
        "total": _COUNT,
        "byState": {"type": "object", "required": list(STATES), "additionalProperties": False,
                    "properties": {state: _COUNT for state in STATES}},
        "groups": {
            "type": "array",
            "description": "one count per country, number type, area code and state, sorted",
            "items": {
                "type": "object",
                "required": ["countryCode", "phoneNumberType", "areaCode", "state", "count"],
                "additionalProperties": False,
                "properties": {"countryCode": {"type": "string"}, "phoneNumberType": {"type": "string"},
                               "areaCode": {"type": "string"}, "state": {"enum": list(STATES)}, "count": _COUNT},
            },
        },
    },
}


MAX_API_RANGE = 100_000
"""Numbers one add-range request may add (it runs in the request); more: an import, or the command line."""
_STRICT_E164: dict[str, Any] = {"type": "string", "pattern": "^\\+[1-9][0-9]{6,14}$"}
SHOWN_REJECTS = 100
"""Rejected numbers an add-range answer lists (the count covers them all)."""
ADD_RANGE_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["first", "last"],
    "additionalProperties": False,
    "properties": {
        "first": {**_STRICT_E164, "description": "the first number, E.164"},
        "last": {**_STRICT_E164, "description": "the last number, E.164, same country code and length"},
        "dryRun": {"type": "boolean", "description": "check and count, change nothing"},
    },
}
ADD_RANGE_RESULT: dict[str, Any] = {
    "type": "object",
    "required": ["dryRun", "rows", "imported", "alreadyPresent", "rejected", "rejects"],
    "additionalProperties": False,
    "properties": {
        "dryRun": {"type": "boolean"},
        "rows": _COUNT,
        "imported": {**_COUNT, "description": "numbers added (dry run: would be added)"},
        "alreadyPresent": _COUNT,
        "rejected": _COUNT,
        "rejects": {
            "type": "array", "maxItems": SHOWN_REJECTS, "description": f"the first {SHOWN_REJECTS} rejected numbers",
            "items": {"type": "object", "required": ["phoneNumber", "error"], "additionalProperties": False,
                      "properties": {"phoneNumber": {"type": "string"}, "error": {"type": "string"}}},
        },
    },
}
WITHDRAW_RESULT: dict[str, Any] = {
    "type": "object",
    "required": ["withdrawn", "alreadyWithdrawn", "refused"],
    "additionalProperties": False,
    "properties": {
        "withdrawn": {"type": "array", "items": {"type": "string"}},
        "alreadyWithdrawn": {"type": "array", "items": {"type": "string"}},
        "refused": {
            "type": "array", "description": "numbers left as they are, with why (held, purchased, not stored, ...)",
            "items": {"type": "object", "required": ["phoneNumber", "reason"], "additionalProperties": False,
                      "properties": {"phoneNumber": {"type": "string"}, "reason": {"type": "string"}}},
        },
    },
}


def routes(ctx: Context) -> list[AdminRoute]:
    async def report(call: AdminRequest) -> Reply:
        return Reply(200, (await inventory_report(ctx.store)).as_json())

    async def add_range(call: AdminRequest) -> Reply:
        shown: list[dict[str, str]] = []

        def on_reject(rejection: Rejection) -> None:
            if len(shown) < SHOWN_REJECTS:
                shown.append({"phoneNumber": rejection.phone_number, "error": rejection.reason})

        first, last = call.body["first"], call.body["last"]
        try:
            range_numbers(first, last, force=True)  # its checks (one country, in order), before the size
            if int(last[1:]) - int(first[1:]) >= MAX_API_RANGE:
                raise invalid_input(f"the range holds more than {MAX_API_RANGE} numbers, the most one request adds;"
                                    " import them as a file (POST /inventory/imports) or with the command line")
            summary = await import_range(ctx.store, first, last, dry_run=call.body.get("dryRun", False),
                                         on_reject=on_reject)
        except NumbersFileError as exc:
            raise invalid_input(str(exc)) from None
        return Reply(200, {"dryRun": summary.dry_run, "rows": summary.rows, "imported": summary.added,
                           "alreadyPresent": summary.present, "rejected": summary.rejected, "rejects": shown})

    async def export(call: AdminRequest) -> Reply:
        country = call.query("country")
        where = ExportFilter(call.query("state"), country.upper() if country else None, call.query("resource"))
        return Reply(200, StreamingResponse(export_csv(ctx.store, where), media_type="text/csv; charset=utf-8"))

    async def withdraw(call: AdminRequest) -> Reply:
        numbers = [e164_number(raw, f"phoneNumbers.{i}") for i, raw in enumerate(call.body["phoneNumbers"])]
        result = await withdraw_numbers(ctx.store, numbers, await service_now(ctx.store))
        return Reply(200, {"withdrawn": result.withdrawn, "alreadyWithdrawn": result.already,
                           "refused": [{"phoneNumber": n, "reason": why} for n, why in result.refused]})

    return [
        AdminRoute("GET", "/inventory/report", "Inventory_Report",
                   "How many numbers there are, by state and by country, type, area code and state",
                   report, {200: ("The counts", REPORT)}),
        AdminRoute("POST", "/inventory:addRange", "Inventory_AddRange",
                   "Add every number from first to last, as `numberpool inventory add-range`, in this request"
                   f" (at most {MAX_API_RANGE} numbers)",
                   add_range, {200: ("What was added", ADD_RANGE_RESULT)}, request=ADD_RANGE_REQUEST),
        AdminRoute("GET", "/inventory/export", "Inventory_Export",
                   "The numbers as CSV, streamed, as `numberpool inventory export` prints them",
                   export, {200: ("The numbers, after a header line", {"type": "string"})},
                   query=(QueryParam("state", {"enum": [s.value for s in NumberState]}, "only numbers in this state"),
                          QueryParam("country", {"type": "string", "pattern": "^[A-Za-z]{2}$"},
                                     "only numbers of this country (ISO code)"),
                          QueryParam("resource", RESOURCE_ID_SCHEMA, "only numbers this resource purchased")),
                   produces=("text/csv",)),
        AdminRoute("POST", "/inventory:withdraw", "Inventory_Withdraw",
                   "Take available numbers out of sale for good, as `numberpool inventory withdraw`",
                   withdraw, {200: ("What was withdrawn, and what was refused and why", WITHDRAW_RESULT)},
                   request=PHONE_NUMBERS_REQUEST),
    ]
