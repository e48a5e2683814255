"""Admin route for the last 24 hours of activity, hour by hour (core/activity.py): the console's
Overview chart."""

from __future__ import annotations

from typing import Any

from numberpool.api.admin.routing import AdminRequest, AdminRoute, Reply
from numberpool.api.admin.schemas import TIMESTAMP
from numberpool.core.activity import hourly_activity
from numberpool.core.audit import service_now
from numberpool.core.context import Context
from numberpool.core.timeutil import from_epoch

_COUNT: dict[str, Any] = {"type": "integer", "minimum": 0}
ACTIVITY: dict[str, Any] = {
    "type": "object",
    "required": ["hours"],
    "additionalProperties": False,
    "properties": {
        "hours": {
            "type": "array",
            "description": "24 whole hours, oldest first, the last one holding the service's present moment",
            "items": {
                "type": "object",
                "required": ["start", "searches", "purchases"],
                "additionalProperties": False,
                "properties": {
                    "start": TIMESTAMP,
                    "searches": {**_COUNT, "description": "searches that held numbers in this hour"},
                    "purchases": {**_COUNT, "description": "numbers purchased in this hour"},
                },
            },
        },
    },
}


def routes(ctx: Context) -> list[AdminRoute]:
    async def activity(call: AdminRequest) -> Reply:
        series = await hourly_activity(ctx.store, await service_now(ctx.store))
        return Reply(200, {"hours": [{"start": from_epoch(hour.start).isoformat(), "searches": hour.searches,
                                      "purchases": hour.purchases} for hour in series]})

    return [
        AdminRoute("GET", "/activity", "Activity_Hourly",
                   "Searches and purchases per hour over the last 24 hours, from the audit trail",
                   activity, {200: ("The hourly series", ACTIVITY)}),
    ]
