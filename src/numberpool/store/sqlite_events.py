"""The audit trail on SQLite: events written beside the statements that change numbers, and read back.

Each writer inserts the events of the rows a change is about to make, in the same transaction
and with the same condition as the UPDATE that follows it: SQLite runs one write transaction
at a time, so the two statements see the same rows. A rolled-back transaction (a savepoint of
the group commit) takes its events with it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from numberpool.core.model import Change, EventKind, NumberEvent
from numberpool.store.rows import event_from_row

EVENT_COLUMNS = "at, event, phone_number, old_state, new_state, resource, reference, actor, detail"
_SELECT_EVENTS = f"SELECT id, {EVENT_COLUMNS} FROM number_events"

HOLDER_RESOURCE = (
    "COALESCE((SELECT s.resource FROM searches s WHERE s.id = numbers.holder),"
    " (SELECT r.resource FROM reservations r WHERE r.id = numbers.holder))"
)
"""The resource of a number's holder (a search or a reservation), for events about a hold that lapsed."""


def record_numbers(
    db: sqlite3.Connection, change: Change, event: EventKind, old_state: str, new_state: str,
    numbers: Iterable[str], detail: str | None = None,
) -> None:
    """One event per number of a change whose rows the caller already knows (one executemany)."""
    record_changes(db, event, old_state, new_state, [(change, numbers)], detail)


def record_changes(
    db: sqlite3.Connection, event: EventKind, old_state: str, new_state: str,
    changes: Iterable[tuple[Change, Iterable[str]]], detail: str | None = None,
) -> None:
    """`record_numbers` for several changes at once (one executemany for all of them)."""
    db.executemany(
        f"INSERT INTO number_events ({EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (change.at, event.value, number, old_state, new_state, change.resource, change.reference, change.actor,
             detail)
            for change, numbers in changes
            for number in numbers
        ],
    )


def record_where(
    db: sqlite3.Connection, change: Change, event: EventKind, new_state: str, where: str,
    params: Mapping[str, Any], *, lapsed: bool = False, detail: str | None = None,
) -> int:
    """One event per number matching `where` (named parameters), before the UPDATE with that condition.

    `lapsed`: the events are about holds that ran out: each names its holder and the holder's resource.
    """
    resource = HOLDER_RESOURCE if lapsed else ":ev_resource"
    reference = "holder" if lapsed else ":ev_reference"
    cursor = db.execute(
        f"INSERT INTO number_events ({EVENT_COLUMNS})"
        f" SELECT :ev_at, :ev_event, phone_number, state, :ev_new, {resource}, {reference}, :ev_actor, :ev_detail"
        f" FROM numbers WHERE {where} ORDER BY phone_number",
        {
            **params, "ev_at": change.at, "ev_event": event.value, "ev_new": new_state,
            "ev_resource": change.resource, "ev_reference": change.reference, "ev_actor": change.actor,
            "ev_detail": detail,
        },
    )
    return cursor.rowcount


def record_admin_event(db: sqlite3.Connection, event: str, change: Change, detail: str | None) -> None:
    db.execute(
        f"INSERT INTO number_events ({EVENT_COLUMNS}) VALUES (?, ?, NULL, NULL, NULL, ?, ?, ?, ?)",
        (change.at, event, change.resource, change.reference, change.actor, detail),
    )


def history(db: sqlite3.Connection, phone_number: str) -> list[NumberEvent]:
    rows = db.execute(f"{_SELECT_EVENTS} WHERE phone_number = ? ORDER BY id", (phone_number,)).fetchall()
    return [event_from_row(row) for row in rows]


def events_page(
    db: sqlite3.Connection, since: float | None, until: float | None, after_id: int, limit: int
) -> list[NumberEvent]:
    rows = db.execute(
        f"{_SELECT_EVENTS} WHERE id > ? AND (? IS NULL OR at >= ?) AND (? IS NULL OR at < ?) ORDER BY id LIMIT ?",
        (after_id, since, since, until, until, limit),
    ).fetchall()
    return [event_from_row(row) for row in rows]

