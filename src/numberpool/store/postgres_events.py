"""The audit trail on PostgreSQL: each change of numbers and its events are one statement.

`changing_sql` wraps an UPDATE of `numbers` so that the rows it changes, locked first in number
order, feed an `INSERT INTO number_events` in the same statement: the events exist exactly when
the change does, and a row another transaction changes meanwhile is re-checked before it is
locked, so its event records the state it really left.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from numberpool.core.model import Change, EventKind, NumberEvent
from numberpool.store.rows import event_from_row

EVENT_COLUMNS = "at, event, phone_number, old_state, new_state, resource, reference, actor, detail"

_HOLDER_RESOURCE = (
    "COALESCE((SELECT s.resource FROM searches s WHERE s.id = changed.old_holder),"
    " (SELECT r.resource FROM reservations r WHERE r.id = changed.old_holder))"
)


def changing_sql(where: str, set_clause: str, first: int, *, lapsed: bool = False, skip_locked: bool = False) -> str:
    """UPDATE numbers SET `set_clause` WHERE `where`, and one event per changed row; answers 'INSERT 0 <rows>'.

    `where` and `set_clause` use $1 ... $(first - 1); the event's values follow from $first, as
    `event_args` lists them. `lapsed`: the events are about holds that ran out, each naming its
    holder and the holder's resource. `skip_locked`: rows others are changing are left alone.
    """
    skip = " SKIP LOCKED" if skip_locked else ""
    if lapsed:
        resource, reference, actor, detail = _HOLDER_RESOURCE, "changed.old_holder", f"${first + 3}", f"${first + 4}"
    else:
        resource, reference = f"${first + 3}::text", f"${first + 4}::text"
        actor, detail = f"${first + 5}::text", f"${first + 6}::text"
    return (
        f"WITH old AS (SELECT phone_number, state, holder FROM numbers WHERE {where}"
        f" ORDER BY phone_number FOR UPDATE{skip}),"
        f" changed AS (UPDATE numbers SET {set_clause} FROM old WHERE numbers.phone_number = old.phone_number"
        " RETURNING numbers.phone_number, old.state AS old_state, old.holder AS old_holder)"
        f" INSERT INTO number_events ({EVENT_COLUMNS})"
        f" SELECT ${first}::double precision, ${first + 1}::text, changed.phone_number, changed.old_state,"
        f" ${first + 2}::text, {resource}, {reference}, {actor}, {detail} FROM changed ORDER BY changed.phone_number"
    )


def event_args(
    change: Change, event: EventKind, new_state: str, *, lapsed: bool = False, detail: str | None = None
) -> list[Any]:
    """The values of `changing_sql`'s event parameters, in order."""
    if lapsed:
        return [float(change.at), event.value, new_state, change.actor, detail]
    return [float(change.at), event.value, new_state, change.resource, change.reference, change.actor, detail]


async def record_admin_event(db: asyncpg.Connection, event: str, change: Change, detail: str | None) -> None:
    await db.execute(
        f"INSERT INTO number_events ({EVENT_COLUMNS}) VALUES ($1, $2, NULL, NULL, NULL, $3, $4, $5, $6)",
        float(change.at), event, change.resource, change.reference, change.actor, detail,
    )


_SELECT_EVENTS = f"SELECT id, {EVENT_COLUMNS} FROM number_events"


async def history(db: asyncpg.Connection, phone_number: str) -> list[NumberEvent]:
    rows = await db.fetch(f"{_SELECT_EVENTS} WHERE phone_number = $1 ORDER BY id", phone_number)
    return [event_from_row(tuple(row)) for row in rows]


async def events_page(
    db: asyncpg.Connection, since: float | None, until: float | None, after_id: int, limit: int
) -> list[NumberEvent]:
    rows = await db.fetch(
        f"{_SELECT_EVENTS} WHERE id > $1 AND ($2::double precision IS NULL OR at >= $2)"
        " AND ($3::double precision IS NULL OR at < $3) ORDER BY id LIMIT $4",
        after_id, since, until, limit,
    )
    return [event_from_row(tuple(row)) for row in rows]


def numbers_arg(phone_numbers: Sequence[str]) -> list[str]:
    return sorted(set(phone_numbers))
