"""Admin route for the inventory's counts: the figures `numberpool inventory report` prints
(core/inventory_report.py)."""

from __future__ import annotations

from typing import Any

from numberpool.api.admin.routing import AdminRequest, AdminRoute, Reply
from numberpool.core.context import Context
from numberpool.core.inventory_report import STATES, inventory_report

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


def routes(ctx: Context) -> list[AdminRoute]:
    async def report(call: AdminRequest) -> Reply:
        return Reply(200, (await inventory_report(ctx.store)).as_json())

    return [
        AdminRoute("GET", "/inventory/report", "Inventory_Report",
                   "How many numbers there are, by state and by country, type, area code and state",
                   report, {200: ("The counts", REPORT)}),
    ]
