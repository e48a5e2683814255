"""The audit trail: read a number's history, export events, record admin actions.

Events are written by the store in the transaction of the change they record (see the
`Transaction` methods that take a `Change`); nothing here updates or deletes one.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Protocol

from numberpool.core.model import ADMIN_ACTOR, Change, EventKind, Locality, NumberEvent, PhoneNumber
from numberpool.core.timeutil import to_epoch
from numberpool.numbering.e164 import normalize
from numberpool.core.storage import Store

EXPORT_PAGE = 1000
"""Events read per query while exporting: the export holds no more than this many at once."""

EXPORT_FORMATS = ("csv", "jsonl")
FIELDS = ("id", "at", "event", "phone_number", "old_state", "new_state", "resource", "reference", "actor", "detail")


async def service_now(store: Store) -> float:
    """The service's time (epoch seconds): the wall clock plus the shared test clock's offset, if moved."""
    return time.time() + await store.clock_offset()


def phone_number(raw: str) -> str:
    """The E.164 form of an operator's number; ValueError (one line naming it) if it is none."""
    e164 = normalize(raw)
    if e164 is None:
        shown = raw if len(raw) <= 30 else raw[:27] + "..."
        raise ValueError(f"not a phone number: {shown!r} (give it in E.164 form, e.g. +14255550123)")
    return e164


async def number_history(store: Store, raw: str) -> tuple[PhoneNumber | None, list[NumberEvent]]:
    """A number's current record (None if the inventory never had it) and its events, oldest first."""
    e164 = phone_number(raw)
    async with store.read() as tx:
        return await tx.get_number(e164), await tx.history(e164)


# Events are stored as float seconds and printed rounded to the microsecond: a bound is compared
# as the printed moments are, so an export that starts at an event's own printed `at` holds it.
_HALF_MICROSECOND = 0.5e-6


def _bound(moment: datetime) -> float:
    return to_epoch(moment) - _HALF_MICROSECOND


async def export_events(store: Store, since: datetime | None, until: datetime | None) -> AsyncIterator[NumberEvent]:
    """Every event with `since <= at < until`, by id, read a page at a time (never all in memory)."""
    after = 0
    low = _bound(since) if since else None
    high = _bound(until) if until else None
    while True:
        async with store.read() as tx:
            page = await tx.events_page(low, high, after, EXPORT_PAGE)
        for event in page:
            yield event
        if len(page) < EXPORT_PAGE:
            return
        after = page[-1].id


class AdminEventLog(Protocol):
    """What recording an admin action needs of a transaction (every store transaction has it)."""

    async def record_admin_event(self, event: EventKind | str, change: Change, detail: str | None = None) -> None: ...


async def record_admin_event(
    tx: AdminEventLog, event: EventKind, at: float, *, resource: str | None = None, detail: str | None = None,
    actor: str = ADMIN_ACTOR,
) -> None:
    """Record an admin action (resource created or deleted, key rotated, catalog imported) in `tx`,
    the transaction of the action itself. Never pass a key or token in `detail`."""
    await tx.record_admin_event(event, Change(at, actor, resource), detail)


def imported_detail(locality: Locality, added: int) -> str:
    """The `imported` event's detail: how many numbers one load batch added, and where."""
    return f"added={added} country={locality.country} type={locality.number_type.value} areaCode={locality.area_code}"


def event_fields(event: NumberEvent) -> dict[str, object]:
    return {
        "id": event.id,
        "at": event.at.isoformat().replace("+00:00", "Z"),
        "event": event.event,
        "phone_number": event.phone_number,
        "old_state": event.old_state,
        "new_state": event.new_state,
        "resource": event.resource,
        "reference": event.reference,
        "actor": event.actor,
        "detail": event.detail,
    }


class EventWriter:
    """Formats events one at a time as CSV (with a header line) or JSON lines."""

    def __init__(self, fmt: str) -> None:
        if fmt not in EXPORT_FORMATS:
            raise ValueError(f"unknown export format {fmt!r}: use one of {', '.join(EXPORT_FORMATS)}")
        self.format = fmt
        self._buffer = io.StringIO()
        self._csv = csv.DictWriter(self._buffer, fieldnames=FIELDS, lineterminator="\n")

    def header(self) -> str:
        if self.format != "csv":
            return ""
        self._csv.writeheader()
        return self._take()

    def line(self, event: NumberEvent) -> str:
        fields = event_fields(event)
        if self.format == "jsonl":
            return json.dumps(fields, separators=(",", ":")) + "\n"
        self._csv.writerow({k: "" if v is None else v for k, v in fields.items()})
        return self._take()

    def _take(self) -> str:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text


def history_lines(number: PhoneNumber | None, e164: str, events: list[NumberEvent]) -> Iterator[str]:
    """What `numberpool inventory history` prints: the number's state, then one line per event."""
    if number is None:
        yield f"{e164}: not in the inventory"
    else:
        where = f", owner {number.owner}" if number.owner else ""
        until = f", aging until {number.aging_until.isoformat().replace('+00:00', 'Z')}" if number.aging_until else ""
        yield f"{e164}: {number.state.value}{where}{until}"
    if not events:
        yield "no events"
    for event in events:
        f = event_fields(event)
        change = f"{event.old_state or '-'} -> {event.new_state or '-'}"
        extra = "".join(
            f" {name}={f[name]}" for name in ("resource", "reference", "detail") if f[name] is not None
        )
        yield f"{f['at']}  {event.event:<20} {change:<22} actor={event.actor}{extra}"
