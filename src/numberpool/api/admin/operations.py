"""Admin route listing recent long-running operations, searches included, of every resource:
the rows the ACS operations route reads (`GET /phoneNumbers/operations/{id}`), with the status
a poll of each would show now."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from numberpool.api.admin.routing import PREFIX, AdminRequest, AdminRoute, QueryParam, Reply
from numberpool.api.admin.schemas import RESOURCE_ID_SCHEMA, TIMESTAMP
from numberpool.core.context import Context
from numberpool.core.model import Operation, OperationStatus, OperationType
from numberpool.core.storage import OperationQuery
from numberpool.core.timeutil import to_epoch

DEFAULT_PAGE = 50
MAX_PAGE = 200
_AFTER = re.compile(r"([0-9]{1,12}(?:\.[0-9]{1,9})?)~([A-Za-z0-9_.-]{1,100})")
AFTER: dict[str, Any] = {"type": "string", "pattern": f"^{_AFTER.pattern}$",
                         "description": "continuation: from the previous page's nextLink"}

OPERATION: dict[str, Any] = {
    "type": "object",
    "required": ["id", "kind", "resource", "status", "createdAt", "lastActionAt"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "description": "as in the ACS operation's URL"},
        "kind": {"enum": [t.value for t in OperationType], "description": "search for a search"},
        "resource": RESOURCE_ID_SCHEMA,
        "status": {"enum": [s.value for s in OperationStatus]},
        "createdAt": TIMESTAMP,
        "lastActionAt": TIMESTAMP,
        "resourceLocation": {"type": "string", "description": "what it made (a search's results), as ACS says"},
        "error": {"type": "object", "required": ["code", "message"], "additionalProperties": False,
                  "properties": {"code": {"type": "string"}, "message": {"type": "string"}}},
    },
}
OPERATION_PAGE: dict[str, Any] = {
    "type": "object",
    "required": ["value"],
    "additionalProperties": False,
    "properties": {
        "value": {"type": "array", "items": OPERATION, "description": "newest first"},
        "nextLink": {"type": "string", "description": "the next (older) page; absent on the last"},
    },
}


def operation_json(operation: Operation, now: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": operation.id, "kind": operation.operation_type.value, "resource": operation.resource,
        "status": operation.status_at(now).value, "createdAt": operation.created_at.isoformat(),
        "lastActionAt": operation.last_action_at(now).isoformat(),
    }
    if operation.resource_location:
        body["resourceLocation"] = operation.resource_location
    if operation.error_code and operation.status_at(now) is OperationStatus.FAILED:
        body["error"] = {"code": operation.error_code, "message": operation.error_message or operation.error_code}
    return body


def routes(ctx: Context) -> list[AdminRoute]:
    async def recent(call: AdminRequest) -> Reply:
        limit = int(call.query("limit") or DEFAULT_PAGE)
        status = call.query("status")
        before = None
        if (after := call.query("after")) is not None:
            match = _AFTER.fullmatch(after)
            assert match is not None  # the query's schema admits nothing else
            before = (float(match[1]), match[2])
        now = ctx.clock.now()
        query = OperationQuery(to_epoch(now), limit, call.query("resource"),
                               OperationStatus(status) if status else None, before)
        async with ctx.store.read() as tx:
            page = await tx.recent_operations(query)
        body: dict[str, Any] = {"value": [operation_json(operation, now) for operation in page]}
        if len(page) == limit:
            last = page[-1]
            params = {name: value for name, value in (("limit", str(limit)), ("resource", query.resource),
                                                      ("status", status)) if value}
            params["after"] = f"{to_epoch(last.created_at)!r}~{last.id}"
            body["nextLink"] = f"{call.endpoint.rstrip('/')}{PREFIX}/operations?{urlencode(params)}"
        return Reply(200, body)

    return [
        AdminRoute("GET", "/operations", "Operations_List",
                   "Recent long-running operations and searches of every resource, newest first, with their status"
                   " and error", recent, {200: ("A page of operations", OPERATION_PAGE)},
                   query=(QueryParam("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
                                     f"page size (default {DEFAULT_PAGE})"),
                          QueryParam("resource", RESOURCE_ID_SCHEMA, "only this resource's"),
                          QueryParam("status", {"enum": [s.value for s in OperationStatus]},
                                     "only those with this status now"),
                          QueryParam("after", AFTER, "continuation: from the previous page's nextLink"))),
    ]
