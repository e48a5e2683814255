"""Admin route streaming the audit trail, the source of `numberpool audit export`.

Events are read a page at a time (core/audit.py `export_events`) and written as they come, in
the export's formats (JSON lines or CSV with a header): memory stays flat however long the trail.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

from starlette.responses import StreamingResponse

from numberpool.api.admin.routing import AdminRequest, AdminRoute, QueryParam, Reply
from numberpool.api.admin.schemas import TIMESTAMP
from numberpool.core.audit import EventWriter, export_events
from numberpool.core.context import Context
from numberpool.core.errors import invalid_input

_LEAP_SECOND = re.compile(r"(?<=T\d\d:\d\d):60")
MEDIA_TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv"}


def _moment(call: AdminRequest, name: str) -> datetime | None:
    text = call.query(name)
    if text is None:
        return None
    # RFC 3339 (what the document's date-time promises): 't' and 'z' in either case, and a leap
    # second, which Python's datetime cannot hold (taken as the second before it).
    rfc3339 = _LEAP_SECOND.sub(":59", text.upper().replace("Z", "+00:00"))
    try:
        moment = datetime.fromisoformat(rfc3339)
    except ValueError:
        raise invalid_input(f"{name} is not an ISO 8601 time (e.g. 2026-03-01T12:00:00Z).", target=name) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def routes(ctx: Context) -> list[AdminRoute]:
    async def export(call: AdminRequest) -> Reply:
        since, until = _moment(call, "since"), _moment(call, "until")
        fmt = call.query("format") or "jsonl"
        writer = EventWriter(fmt)

        async def lines() -> AsyncIterator[str]:
            yield writer.header()
            if since and until and until <= since:
                return  # an empty interval holds no event
            async for event in export_events(ctx.store, since, until):
                yield writer.line(event)

        charset = "; charset=utf-8" if fmt == "csv" else ""
        return Reply(200, StreamingResponse(lines(), media_type=MEDIA_TYPES[fmt] + charset))

    moment: dict[str, Any] = {**TIMESTAMP, "description": "ISO 8601; without an offset, UTC"}
    return [
        AdminRoute("GET", "/audit/events", "AuditEvents_Export",
                   "Every audit event with since <= at < until, by id, streamed as JSON lines or CSV",
                   export, {200: ("The events, one a line (CSV: after a header line)", {"type": "string"})},
                   query=(QueryParam("since", moment, "the first moment included"),
                          QueryParam("until", moment, "the first moment excluded"),
                          QueryParam("format", {"enum": list(MEDIA_TYPES)}, "jsonl (default) or csv")),
                   produces=tuple(MEDIA_TYPES.values())),
    ]
