"""The server engine: PostgreSQL through asyncpg, with a connection pool.

Same tables, same SQL semantics and the same epoch-seconds times as the SQLite
engine, so the core cannot tell them apart. What differs is concurrency: SQLite
runs one transaction at a time, PostgreSQL runs many, each on its own pooled
connection at READ COMMITTED. Row locks give back the one-at-a-time outcome the
core is written for:

* `hold_available` picks numbers with FOR UPDATE SKIP LOCKED and holds them in the
  same statement, so concurrent searches neither wait for each other nor get the
  same number.
* `get_search`, `get_operation` and `get_number` lock the row they read (FOR
  UPDATE). The core reads a record, decides, then writes; the lock makes a second
  transaction on the same record wait for the first and then read what it wrote,
  exactly as if they had run one after the other (a repeated purchase gets the
  first purchase's operation, a second release of a number gets 404).
* Every change of a number's state is a conditional UPDATE (`WHERE state = ...`),
  so it is a no-op, not a corruption, on a row that moved on meanwhile.
* `get_reservation` locks the reservation (FOR UPDATE), and a reservation is
  created with INSERT ... ON CONFLICT DO NOTHING followed by that locked read, so
  two requests creating the same reservation id run one after the other.
  `lock_free_numbers` locks the numbers a reservation asks for with FOR UPDATE
  SKIP LOCKED: a number another transaction is changing right now cannot be
  reserved, and a reservation never waits for a number's lock.
* Locks are always taken search (or reservation) first, then its numbers; the
  sweeper skips rows others hold (SKIP LOCKED) and catches them on its next
  round. Nothing waits in a cycle, so there are no deadlocks to retry.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg

from numberpool.core.model import (
    AssignmentType,
    AvailableNumber,
    Capabilities,
    Change,
    Cost,
    Country,
    Direction,
    EventKind,
    Locality,
    NumberEvent,
    NumberType,
    Offering,
    Operation,
    PhoneNumber,
    Reservation,
    Search,
)
from numberpool.core.model import SYSTEM_ACTOR
from numberpool.core.timeutil import to_epoch
from numberpool.core.audit import imported_detail
from numberpool.core.storage import (
    OperationQuery,
    RESERVATION_RETENTION_SECONDS,
    HourCount,
    NumberFilter,
    OutOfStock,
    Pick,
    SearchRecord,
    hold_and_record,
)
from numberpool.store.invariant import INVARIANT_SQL
from numberpool.store.migrations import migrations
from numberpool.store import admin_queries
from numberpool.store.number_counts import COMPACT_DELTAS_SQL, COMPACT_LOCK
from numberpool.store.operation_list import recent_operations_sql
from numberpool.store import postgres_events as events
from numberpool.store.postgres_events import changing_sql, event_args
from numberpool.store.postgres_options import postgres_options
from numberpool.store.postgres_testing import PostgresTesting
from numberpool.store.postgres_import_jobs import PostgresImportJobs
from numberpool.store.postgres_inventory import PostgresInventory
from numberpool.store.postgres_resources import PostgresResourceQueries
from numberpool.store.postgres_operation_reads import SELECT_OPERATIONS, OperationReads
from numberpool.store.postgres_search_batch import PostgresSearchBatch
from numberpool.store.rows import (
    numbered,
    capabilities_detail,
    number_from_row,
    OPERATION_COLUMNS,
    operation_from_row,
    reservation_from_row,
    reservation_to_row,
    reserved_from_row,
    operation_to_row,
    reserved_to_row,
    search_from_row,
    search_to_row,
)

DEFAULT_MIN_POOL_SIZE = 1
DEFAULT_MAX_POOL_SIZE = 10

# pg_advisory_xact_lock key that serialises schema upgrades of one database: b"NPmigrat".
_MIGRATION_LOCK = 0x4E50_6D69_6772_6174


async def _compact_counts(db: asyncpg.Connection) -> None:
    """Sum the inventory counts' deltas (store/number_counts.py); another process compacting skips it."""
    async with db.transaction():
        if await db.fetchval("SELECT pg_try_advisory_xact_lock($1)", COMPACT_LOCK):
            await db.execute(COMPACT_DELTAS_SQL)


def _count(status: str) -> int:
    """Rows affected, from a command tag such as 'UPDATE 3' or 'INSERT 0 5'."""
    return int(status.rsplit(" ", 1)[-1])


async def _keep_session(connection: asyncpg.Connection) -> None:
    """What the pool does to a released connection, beyond rolling back an open transaction: nothing.

    The store changes no session state (its only SET and advisory lock are transaction-scoped;
    no LISTEN, no cursors), so asyncpg's default reset query would be one more round trip per
    request for nothing.
    """


@dataclass(frozen=True)
class _Slice:
    """The numbers one search may take: a country and type, and perhaps an area code."""

    country: str
    number_type: NumberType
    area_code: str | None

    @property
    def params(self) -> list[Any]:
        """The values of `where()`'s $1 ... parameters."""
        return [self.country, self.number_type.value] + ([] if self.area_code is None else [self.area_code])

    def where(self) -> tuple[str, list[Any]]:
        """The WHERE condition and its parameters."""
        return _slice_where(self.area_code is not None), self.params


def _slice_where(with_area_code: bool) -> str:
    return "country = $1 AND number_type = $2" + (" AND area_code = $3" if with_area_code else "")


_SEARCH_COLUMNS = (
    "id, resource, country, number_type, assignment, calling, sms, area_code, quantity, cost, currency,"
    " created_at, expires_at, agreement_required, status, error, phone_numbers"
)


def _placeholders(first: int, count: int) -> str:
    return ", ".join(f"${i}" for i in range(first, first + count))


_INSERT_OPERATION = f"INSERT INTO operations ({OPERATION_COLUMNS}) VALUES ({_placeholders(1, 9)})"
# One statement, so one round trip, for both rows.
_RECORD_SEARCH = (
    f"WITH search AS (INSERT INTO searches ({_SEARCH_COLUMNS}) VALUES ({_placeholders(1, 17)}))"
    f" INSERT INTO operations ({OPERATION_COLUMNS}) VALUES ({_placeholders(18, 9)})"
)


_SEARCH_TYPES = (
    "text", "text", "text", "text", "text", "text", "text", "text", "integer", "double precision", "text",
    "double precision", "double precision", "boolean", "text", "text",
)  # every column of _SEARCH_COLUMNS but the last, phone_numbers
_OPERATION_TYPES = (
    "text", "text", "text", "text", "double precision", "double precision", "text", "text", "text",
)


def _typed_placeholders(first: int, types: Sequence[str]) -> str:
    return ", ".join(f"${first + i}::{kind}" for i, kind in enumerate(types))


@functools.lru_cache(maxsize=256)
def _hold_and_record_sql(with_area_code: bool, limit: int) -> str:
    """A search that finds enough available numbers, as one statement: pick, hold, record both rows.

    When fewer than the limit are available (or free but locked by others) it changes nothing
    and returns NULL, and the search runs as a transaction of several statements instead.

    The limit is part of the text, not a parameter: with `LIMIT $n` PostgreSQL's generic plan
    expects thousands of picked rows and joins them to `numbers` badly (45-60 ms), so every
    execution was planned afresh (0.6 ms of a 1.1 ms statement); with a literal the generic
    plan is the good one and is reused.
    """
    where = _slice_where(with_area_code)
    n = 3 if with_area_code else 2
    order = "phone_number" if with_area_code else "area_code, phone_number"
    search_first = n + 3
    operation_first = search_first + len(_SEARCH_TYPES)
    event_at = operation_first + len(_OPERATION_TYPES)
    return (
        f"WITH picked AS (SELECT phone_number FROM numbers WHERE {where} AND state = 'available'"
        f" ORDER BY {order} LIMIT {int(limit)} FOR UPDATE SKIP LOCKED),"
        f" enough AS (SELECT count(*) = {int(limit)} AS ok FROM picked),"
        f" held AS (UPDATE numbers SET state = 'held', holder = ${n + 1}, hold_expires_at = ${n + 2}"
        " FROM picked, enough WHERE enough.ok AND numbers.phone_number = picked.phone_number"
        " RETURNING numbers.area_code, numbers.phone_number),"
        " taken AS (SELECT array_agg(phone_number ORDER BY area_code, phone_number) AS numbers FROM held),"
        # The audit trail: one `held` event per number, by the searching resource (the search's own column).
        f" events AS (INSERT INTO number_events (at, event, phone_number, old_state, new_state, resource,"
        f" reference, actor) SELECT ${event_at}::double precision, 'held', phone_number, 'available', 'held',"
        f" ${search_first + 1}::text, ${n + 1}, ${search_first + 1}::text FROM held),"
        f" search AS (INSERT INTO searches ({_SEARCH_COLUMNS})"
        f" SELECT {_typed_placeholders(search_first, _SEARCH_TYPES)}, taken.numbers FROM taken, enough"
        " WHERE enough.ok),"
        f" operation AS (INSERT INTO operations ({OPERATION_COLUMNS})"
        f" SELECT {_typed_placeholders(operation_first, _OPERATION_TYPES)} FROM enough WHERE enough.ok)"
        " SELECT numbers FROM taken"
    )


def _array_columns(first: int, types: Sequence[str]) -> str:
    return ", ".join(f"${first + i}::{kind}[]" for i, kind in enumerate(types))


@functools.lru_cache(maxsize=256)
def _hold_and_record_many_sql(with_area_code: bool, total: int) -> str:
    """Several searches of one slice as one statement: `_hold_and_record_sql` for a batch.

    The requests come as arrays (holder, hold expiry, quantity, time; then the search and
    operation rows column by column). The `total` numbers picked are dealt out in pick order,
    each request taking its quantity in turn. When fewer than `total` are available it changes
    nothing and returns no rows, and each search runs alone instead.
    """
    where = _slice_where(with_area_code)
    n = 3 if with_area_code else 2
    order = "phone_number" if with_area_code else "area_code, phone_number"
    search_first = n + 5
    operation_first = search_first + len(_SEARCH_TYPES)
    search_names = ", ".join(f"c{i}" for i in range(len(_SEARCH_TYPES)))
    return (
        f"WITH requests AS (SELECT * FROM unnest(${n + 1}::text[], ${n + 2}::double precision[], ${n + 3}::integer[],"
        f" ${n + 4}::double precision[]) WITH ORDINALITY AS r (holder, expires_at, quantity, at, ord)),"
        " bounds AS (SELECT holder, expires_at, at, sum(quantity) OVER (ORDER BY ord) - quantity AS low,"
        " sum(quantity) OVER (ORDER BY ord) AS high FROM requests),"
        f" picked AS (SELECT area_code, phone_number FROM numbers WHERE {where} AND state = 'available'"
        f" ORDER BY {order} LIMIT {int(total)} FOR UPDATE SKIP LOCKED),"
        f" enough AS (SELECT count(*) = {int(total)} AS ok FROM picked),"
        f" dealt AS (SELECT phone_number, row_number() OVER (ORDER BY {order}) - 1 AS k FROM picked),"
        " held AS (UPDATE numbers SET state = 'held', holder = b.holder, hold_expires_at = b.expires_at"
        " FROM dealt d JOIN bounds b ON d.k >= b.low AND d.k < b.high, enough"
        " WHERE enough.ok AND numbers.phone_number = d.phone_number"
        " RETURNING numbers.area_code, numbers.phone_number, numbers.holder, b.at),"
        " taken AS (SELECT holder, array_agg(phone_number ORDER BY area_code, phone_number) AS numbers"
        " FROM held GROUP BY holder),"
        f" found AS (SELECT * FROM unnest({_array_columns(search_first, _SEARCH_TYPES)}) AS f ({search_names})),"
        # The audit trail: one `held` event per number, by the searching resource (c1, the search's own column).
        " events AS (INSERT INTO number_events (at, event, phone_number, old_state, new_state, resource,"
        " reference, actor) SELECT held.at, 'held', held.phone_number, 'available', 'held', found.c1, held.holder,"
        " found.c1 FROM held JOIN found ON found.c0 = held.holder),"
        f" search AS (INSERT INTO searches ({_SEARCH_COLUMNS}) SELECT found.*, taken.numbers"
        " FROM found JOIN taken ON taken.holder = found.c0),"
        f" operation AS (INSERT INTO operations ({OPERATION_COLUMNS})"
        f" SELECT o.* FROM unnest({_array_columns(operation_first, _OPERATION_TYPES)}) AS o, enough WHERE enough.ok)"
        " SELECT holder, numbers FROM taken"
    )


class PostgresTransaction(PostgresResourceQueries):
    def __init__(self, connection: asyncpg.Connection, *, locking: bool = True) -> None:
        self._db = connection
        # Reads that a change depends on lock their row; a read-only view (`read()`) does not.
        self._for_update = " FOR UPDATE" if locking else ""

    # catalog

    async def countries(self) -> list[Country]:
        rows = await self._db.fetch("SELECT code, name, do_not_resell FROM countries ORDER BY code")
        return [Country(code, name, bool(dnr)) for code, name, dnr in rows]

    async def offerings(self, country: str) -> list[Offering]:
        rows = await self._db.fetch(
            "SELECT country, number_type, assignment, calling, sms, cost, currency, billing_frequency, aging_days"
            " FROM offerings WHERE country = $1 ORDER BY id",
            country,
        )
        return [
            Offering(
                c, NumberType(t), AssignmentType(a), Capabilities(Direction(ca), Direction(s)), Cost(cost, cur, freq),
                int(aging),
            )
            for c, t, a, ca, s, cost, cur, freq, aging in rows
        ]

    async def localities(self, country: str) -> list[Locality]:
        rows = await self._db.fetch(
            "SELECT country, number_type, area_code, name, division_abbr, division_name"
            " FROM localities WHERE country = $1 ORDER BY id",
            country,
        )
        return [Locality(c, NumberType(t), ac, n, da, dn) for c, t, ac, n, da, dn in rows]

    # inventory

    async def hold_available(self, pick: Pick) -> list[str]:
        slice_ = _Slice(pick.country, pick.number_type, pick.area_code)
        held = await self._hold_available(slice_, pick.limit, pick)
        if len(held) < pick.limit and await self._return_lapsed(slice_, pick.now):
            held += await self._hold_available(slice_, pick.limit - len(held), pick)
        return [number for _, number in sorted(held)]

    async def _hold_available(self, slice_: _Slice, limit: int, pick: Pick) -> list[tuple[str, str]]:
        """Pick and hold in one statement; (area code, number) pairs, in no particular order."""
        # Rows another transaction has locked are skipped, not waited for: it is
        # taking them. A row that changed since this statement's snapshot is
        # re-checked against the WHERE clause before it is locked.
        # Without an area code the numbers come in area code, then number order: only the
        # `numbers_free_by_type` index yields that. Ordered by number alone, the planner picks
        # the primary key when statistics say nearly every number is available, and that walk
        # visits every held and sold number before the first free one (measured: 6.7 ms
        # against 0.08 ms with 20,000 held numbers ahead, 1 M numbers).
        where, params = slice_.where()
        order = "phone_number" if slice_.area_code is not None else "area_code, phone_number"
        n = len(params)
        rows = await self._db.fetch(
            f"WITH picked AS (SELECT phone_number FROM numbers WHERE {where} AND state = 'available'"
            f" ORDER BY {order} LIMIT ${n + 1} FOR UPDATE SKIP LOCKED),"
            f" held AS (UPDATE numbers SET state = 'held', holder = ${n + 2}, hold_expires_at = ${n + 3}"
            " FROM picked WHERE numbers.phone_number = picked.phone_number"
            " RETURNING numbers.area_code, numbers.phone_number),"
            f" events AS (INSERT INTO number_events (at, event, phone_number, old_state, new_state, resource,"
            f" reference, actor) SELECT ${n + 4}::double precision, 'held', phone_number, 'available', 'held',"
            f" ${n + 5}::text, ${n + 2}, ${n + 5}::text FROM held)"
            " SELECT area_code, phone_number FROM held",
            *params,
            limit,
            pick.holder,
            float(pick.expires_at),
            float(pick.now),
            pick.resource or "",
        )
        return [(row[0], row[1]) for row in rows]

    async def _return_lapsed(self, slice_: _Slice, now: float) -> int:
        """Put this slice's lapsed holds back in the inventory, as the sweep would; returns how many."""
        where, params = slice_.where()
        n = len(params)
        status = await self._db.execute(
            changing_sql(
                f"{where} AND state IN ('held', 'reserved') AND hold_expires_at <= ${n + 1}",
                "state = 'available', holder = NULL, hold_expires_at = NULL",
                n + 2, lapsed=True, skip_locked=True,
            ),
            *params,
            float(now),
            *event_args(Change(now, SYSTEM_ACTOR), EventKind.HOLD_LAPSED, "available", lapsed=True),
        )
        return _count(status)

    async def release_holds(self, holder: str, change: Change, event: EventKind = EventKind.HOLD_CANCELLED) -> int:
        status = await self._db.execute(
            changing_sql("holder = $1 AND state = 'held'", "state = 'available', holder = NULL, hold_expires_at = NULL", 2),
            holder,
            *event_args(change, event, "available"),
        )
        return _count(status)

    async def purchase_held(self, holder: str, owner: str, search: Search, change: Change) -> int:
        status = await self._db.execute(
            changing_sql(
                "holder = $8 AND state = 'held'",
                "state = 'purchased', holder = NULL, hold_expires_at = NULL, owner = $1,"
                " assignment = $2, calling = $3, sms = $4, cost = $5, currency = $6, purchased_at = $7",
                9,
            ),
            owner,
            search.assignment.value,
            search.capabilities.calling.value,
            search.capabilities.sms.value,
            float(search.cost.amount),
            search.cost.currency,
            float(change.at),
            holder,
            *event_args(change, EventKind.PURCHASED, "purchased"),
        )
        return _count(status)

    async def free_numbers(
        self, country: str, number_type: NumberType, area_code: str, low: str, high: str, limit: int, now: float
    ) -> list[str]:
        where = "country = $1 AND number_type = $2 AND area_code = $3 AND phone_number >= $4 AND phone_number < $5"
        params = (country, number_type.value, area_code, low, high)
        free = await self._db.fetch(
            f"SELECT phone_number FROM numbers WHERE {where} AND state = 'available' ORDER BY phone_number LIMIT $6",
            *params,
            limit,
        )
        lapsed = await self._db.fetch(
            f"SELECT phone_number FROM numbers WHERE {where} AND state IN ('held', 'reserved')"
            " AND hold_expires_at <= $6 ORDER BY phone_number LIMIT $7",
            *params,
            float(now),
            limit,
        )
        return sorted(row[0] for row in [*free, *lapsed])[:limit]

    async def get_number(self, phone_number: str) -> PhoneNumber | None:
        # Locked: a release or capability change that follows sees no concurrent one.
        row = await self._db.fetchrow(
            f"SELECT {_NUMBER_COLUMNS} FROM numbers WHERE phone_number = $1{self._for_update}", phone_number
        )
        return number_from_row(tuple(row)) if row else None

    async def owned_numbers(self, owner: str, skip: int, top: int) -> list[PhoneNumber]:
        # SQLite reads a negative LIMIT as "no limit" and a negative OFFSET as 0.
        rows = await self._db.fetch(
            f"SELECT {_NUMBER_COLUMNS} FROM numbers WHERE owner = $1 ORDER BY phone_number LIMIT $2 OFFSET $3",
            owner,
            top if top >= 0 else None,
            max(skip, 0),
        )
        return [number_from_row(tuple(row)) for row in rows]

    async def set_capabilities(self, phone_number: str, capabilities: Capabilities, cost: Cost, change: Change) -> None:
        await self._db.execute(
            changing_sql(
                "phone_number = $5 AND state = 'purchased'", "calling = $1, sms = $2, cost = $3, currency = $4", 6
            ),
            capabilities.calling.value,
            capabilities.sms.value,
            float(cost.amount),
            cost.currency,
            phone_number,
            *event_args(change, EventKind.CAPABILITIES_UPDATED, "purchased", detail=capabilities_detail(capabilities)),
        )

    async def release_number(self, phone_number: str, change: Change, aging_until: float | None) -> None:
        state = "available" if aging_until is None else "aging"
        await self._db.execute(
            changing_sql(
                "phone_number = $1 AND state = 'purchased'",
                "state = $2, aging_until = $3, owner = NULL, assignment = NULL, calling = NULL, sms = NULL,"
                " cost = NULL, currency = NULL, purchased_at = NULL, state_since = NULL",
                4,
            ),
            phone_number,
            state,
            None if aging_until is None else float(aging_until),
            *event_args(change, EventKind.RELEASED, state),
        )

    async def end_aging(self, phone_numbers: Sequence[str], change: Change) -> list[str]:
        rows = await self._db.fetch(
            changing_sql(
                "phone_number = ANY($1::text[]) AND state = 'aging'", "state = 'available', aging_until = NULL", 2
            ) + " RETURNING phone_number",
            events.numbers_arg(phone_numbers),
            *event_args(change, EventKind.AGING_ENDED, "available"),
        )
        return sorted(row[0] for row in rows)

    # audit trail

    async def record_admin_event(self, event: EventKind | str, change: Change, detail: str | None = None) -> None:
        await events.record_admin_event(self._db, event.value if isinstance(event, EventKind) else event, change, detail)

    async def history(self, phone_number: str) -> list[NumberEvent]:
        return await events.history(self._db, phone_number)

    async def events_page(
        self, since: float | None, until: float | None, after_id: int, limit: int
    ) -> list[NumberEvent]:
        return await events.events_page(self._db, since, until, after_id, limit)

    async def numbers_page(self, where: NumberFilter, after: str, limit: int) -> list[PhoneNumber]:
        sql, args = admin_queries.numbers_page_sql(_NUMBER_COLUMNS, where, after, limit, lambda n: f"${n}")
        return [number_from_row(tuple(row)) for row in await self._db.fetch(sql, *args)]

    async def hourly_activity(self, since: float, hours: int) -> list[HourCount]:
        return [HourCount(*row) for row in await self._db.fetch(_HOURLY_ACTIVITY, since, hours)]

    # searches

    async def record_search(self, search: Search, operation: Operation) -> None:
        await self._db.execute(_RECORD_SEARCH, *search_to_row(search), list(search.phone_numbers), *operation_to_row(operation))

    async def get_search(self, search_id: str) -> Search | None:
        # Locked: purchases and cancellations of one search run one after the other.
        row = await self._db.fetchrow(
            "SELECT id, resource, country, number_type, assignment, calling, sms, area_code, quantity, cost,"
            " currency, created_at, expires_at, agreement_required, status, error, phone_numbers"
            f" FROM searches WHERE id = $1{self._for_update}",
            search_id,
        )
        if row is None:
            return None
        return search_from_row(row, list(row[-1]))

    async def set_search_status(self, search_id: str, status: str) -> None:
        await self._db.execute("UPDATE searches SET status = $1 WHERE id = $2", status, search_id)

    # reservations

    async def insert_reservation(self, reservation: Reservation) -> bool:
        # A concurrent insert of the same id makes this one wait for it, then do nothing.
        status = await self._db.execute(
            "INSERT INTO reservations (id, resource, status, created_at, expires_at, completes_at)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
            *reservation_to_row(reservation),
        )
        return _count(status) == 1

    async def get_reservation(self, reservation_id: str) -> Reservation | None:
        # Locked: changes, deletions and purchases of one reservation run one after the other.
        row = await self._db.fetchrow(
            f"SELECT {_RESERVATION_COLUMNS} FROM reservations WHERE id = $1{self._for_update}", reservation_id
        )
        if row is None:
            return None
        reservation = reservation_from_row(tuple(row))
        rows = await self._db.fetch(
            f"SELECT {_RESERVED_COLUMNS} FROM reservation_numbers WHERE reservation_id = $1 ORDER BY phone_number",
            reservation_id,
        )
        reservation.phone_numbers = [reserved_from_row(tuple(r)) for r in rows]
        return reservation

    async def list_reservations(self, resource: str, skip: int, top: int) -> list[Reservation]:
        rows = await self._db.fetch(
            f"SELECT {_RESERVATION_COLUMNS} FROM reservations WHERE resource = $1"
            " ORDER BY created_at, id LIMIT $2 OFFSET $3",
            resource,
            top if top >= 0 else None,
            max(skip, 0),
        )
        return [reservation_from_row(tuple(row)) for row in rows]

    async def update_reservation(self, reservation: Reservation) -> None:
        expires_at = to_epoch(reservation.expires_at)
        await self._db.execute(
            "UPDATE reservations SET status = $1, expires_at = $2, completes_at = $3 WHERE id = $4",
            reservation.status,
            expires_at,
            to_epoch(reservation.completes_at) if reservation.completes_at else None,
            reservation.id,
        )
        await self._db.execute(
            "UPDATE numbers SET hold_expires_at = $1 WHERE holder = $2 AND state = 'reserved'",
            expires_at,
            reservation.id,
        )

    async def delete_reservation(self, reservation_id: str) -> None:
        await self._db.execute("DELETE FROM reservations WHERE id = $1", reservation_id)

    async def lock_free_numbers(self, phone_numbers: Sequence[str], now: float) -> list[PhoneNumber]:
        rows = await self._db.fetch(
            f"SELECT {_NUMBER_COLUMNS} FROM numbers WHERE phone_number = ANY($1::text[])"
            " AND (state = 'available' OR (state IN ('held', 'reserved') AND hold_expires_at <= $2))"
            " ORDER BY phone_number FOR UPDATE SKIP LOCKED",
            sorted(set(phone_numbers)),
            float(now),
        )
        return [number_from_row(tuple(row)) for row in rows]

    async def reserve(
        self, reservation_id: str, numbers: Sequence[AvailableNumber], expires_at: float, now: float, change: Change
    ) -> None:
        # The rows were locked by `lock_free_numbers` in this transaction; the state
        # condition makes sure a reservation can never take a number that is not free.
        wanted = sorted({n.phone_number for n in numbers})
        status = await self._db.execute(
            changing_sql(
                "phone_number = ANY($3::text[])"
                " AND (state = 'available' OR (state IN ('held', 'reserved') AND hold_expires_at <= $4))",
                "state = 'reserved', holder = $1, hold_expires_at = $2",
                5,
            ),
            reservation_id,
            float(expires_at),
            wanted,
            float(now),
            *event_args(change, EventKind.RESERVED, "reserved"),
        )
        if _count(status) != len(wanted):
            raise RuntimeError(
                f"reserve: {len(wanted) - _count(status)} of {len(wanted)} numbers were not free;"
                " reserve only numbers that lock_free_numbers returned in the same transaction"
            )
        await self._db.executemany(
            f"INSERT INTO reservation_numbers (reservation_id, {_RESERVED_COLUMNS})"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            [(reservation_id, *reserved_to_row(number)) for number in numbers],
        )

    async def release_reserved(
        self, reservation_id: str, change: Change, event: EventKind, phone_numbers: Sequence[str] | None = None
    ) -> int:
        release = "state = 'available', holder = NULL, hold_expires_at = NULL"
        if phone_numbers is None:
            status = await self._db.execute(
                changing_sql("holder = $1 AND state = 'reserved'", release, 2),
                reservation_id,
                *event_args(change, event, "available"),
            )
        else:
            status = await self._db.execute(
                changing_sql("holder = $1 AND state = 'reserved' AND phone_number = ANY($2::text[])", release, 3),
                reservation_id,
                list(phone_numbers),
                *event_args(change, event, "available"),
            )
        return _count(status)

    async def remove_from_reservation(self, reservation_id: str, phone_numbers: Sequence[str]) -> None:
        await self._db.execute(
            "DELETE FROM reservation_numbers WHERE reservation_id = $1 AND phone_number = ANY($2::text[])",
            reservation_id,
            list(phone_numbers),
        )

    async def purchase_reserved(self, reservation_id: str, owner: str, change: Change) -> int:
        # Each reserved number is bought under the offering it was reserved with.
        its = "(SELECT rn.{} FROM reservation_numbers rn WHERE rn.reservation_id = $1" \
              " AND rn.phone_number = numbers.phone_number)"
        status = await self._db.execute(
            changing_sql(
                "holder = $1 AND state = 'reserved' AND EXISTS " + its.format("phone_number"),
                "state = 'purchased', holder = NULL, hold_expires_at = NULL, owner = $2, purchased_at = $3, "
                + ", ".join(f"{c} = {its.format(c)}" for c in ("assignment", "calling", "sms", "cost", "currency")),
                4,
            ),
            reservation_id,
            owner,
            float(change.at),
            *event_args(change, EventKind.PURCHASED, "purchased"),
        )
        return _count(status)

    # operations

    async def insert_operation(self, operation: Operation) -> None:
        await self._db.execute(_INSERT_OPERATION, *operation_to_row(operation))

    async def get_operation(self, operation_id: str) -> Operation | None:
        # Locked: a concurrent cancel of the same operation waits, then finds it gone.
        row = await self._db.fetchrow(
            f"SELECT {OPERATION_COLUMNS} FROM operations WHERE id = $1{self._for_update}",
            operation_id,
        )
        if row is None:
            return None
        return operation_from_row(row)

    async def delete_operation(self, operation_id: str) -> None:
        await self._db.execute("DELETE FROM operations WHERE id = $1", operation_id)

    async def recent_operations(self, query: OperationQuery) -> list[Operation]:
        sql, params = recent_operations_sql(query)
        return [operation_from_row(row) for row in await self._db.fetch(numbered(sql), *params)]


_NUMBER_COLUMNS = (
    "phone_number, country, number_type, area_code, state, holder, hold_expires_at, owner, assignment,"
    " calling, sms, cost, currency, purchased_at, aging_until"
)
_HOURLY_ACTIVITY = admin_queries.hourly_activity_sql("DOUBLE PRECISION", lambda n: f"${n}")
_RESERVATION_COLUMNS = "id, resource, status, created_at, expires_at, completes_at"
_RESERVED_COLUMNS = "phone_number, country, number_type, assignment, calling, sms, cost, currency, agreement_required"


class PostgresStore(PostgresTesting):
    background_load_batch = 10_000  # loads run on a pooled connection of their own: requests do not wait

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._searches = PostgresSearchBatch(self._hold_many, self._hold_alone)
        self._operation_reads = OperationReads(self._fetch_operations)

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        min_size: int = DEFAULT_MIN_POOL_SIZE,
        max_size: int = DEFAULT_MAX_POOL_SIZE,
        upgrade: bool = True,
    ) -> PostgresStore:
        """Connect a pool to `url` (postgresql:// or postgres://) and bring the schema up to date.

        Query parameters asyncpg does not know are sent as server settings, so
        `?search_path=tenant_a` selects a schema; `?statement_cache_size=0` is numberpool's
        own, for PgBouncer in transaction mode (store/postgres_options.py).
        """
        if not 1 <= min_size <= max_size:
            raise ValueError(f"pool sizes must satisfy 1 <= min_size <= max_size, got {min_size} and {max_size}")
        options = postgres_options(url)
        pool = await asyncpg.create_pool(
            options.dsn, min_size=min_size, max_size=max_size, reset=_keep_session,
            statement_cache_size=options.statement_cache_size,
        )
        store = cls(pool)
        if upgrade:
            try:
                await store.upgrade()
            except BaseException:
                await pool.close()
                raise
        return store

    async def upgrade(self) -> list[int]:
        """Apply the migrations this database lacks; returns the versions applied.

        One transaction under an advisory lock: processes starting together take
        turns, and the later ones find nothing left to do.
        """
        async with self._pool.acquire() as db, db.transaction():
            await db.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)"
            )
            done = {row[0] for row in await db.fetch("SELECT version FROM schema_migrations")}
            applied = []
            for migration in migrations("postgres"):
                if migration.version in done:
                    continue
                await db.execute(migration.sql)  # no arguments: simple protocol, many statements
                await db.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", migration.version, migration.name
                )
                applied.append(migration.version)
            return applied

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        """One pooled connection inside one transaction: commit on success, roll back on any exception."""
        async with self._pool.acquire() as db, db.transaction():
            yield db

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresTransaction]:
        async with self._connection() as db:
            yield PostgresTransaction(db)

    async def hold_for_search(self, pick: Pick, found: SearchRecord, out_of_stock: OutOfStock) -> list[str]:
        return await self._searches.hold(pick, found, out_of_stock)

    async def _hold_many(self, picks: Sequence[Pick], records: Sequence[SearchRecord]) -> dict[str, list[str]] | None:
        """Searches of one slice, each finding its whole quantity, by one statement; None (nothing
        changed) when the slice has too few numbers available for all of them."""
        first = picks[0]
        slice_ = _Slice(first.country, first.number_type, first.area_code)
        searches = [search_to_row(search) for search, _ in records]
        operations = [operation_to_row(operation) for _, operation in records]
        rows = await self._pool.fetch(
            _hold_and_record_many_sql(slice_.area_code is not None, sum(p.limit for p in picks)),
            *slice_.params,
            [p.holder for p in picks], [float(p.expires_at) for p in picks], [p.limit for p in picks],
            [float(p.now) for p in picks],
            *(list(column) for column in zip(*searches)),
            *(list(column) for column in zip(*operations)),
        )
        if not rows:
            return None
        return {row[0]: list(row[1]) for row in rows}

    async def _hold_alone(self, pick: Pick, found: SearchRecord, out_of_stock: OutOfStock) -> list[str]:
        slice_ = _Slice(pick.country, pick.number_type, pick.area_code)
        search, operation = found
        async with self._pool.acquire() as db:
            numbers = await db.fetchval(
                _hold_and_record_sql(slice_.area_code is not None, pick.limit),
                *slice_.params, pick.holder, float(pick.expires_at),
                *search_to_row(search), *operation_to_row(operation), float(pick.now),
            )
            if numbers is not None:
                return list(numbers)
            async with db.transaction():
                return await hold_and_record(PostgresTransaction(db), pick, found, out_of_stock)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[PostgresTransaction]:
        """A pooled connection in autocommit: each statement sees committed data, nothing is locked."""
        async with self._pool.acquire() as db:
            yield PostgresTransaction(db, locking=False)

    async def find_operation(self, operation_id: str) -> Operation | None:
        return await self._operation_reads.get(operation_id)

    async def _fetch_operations(self, operation_ids: list[str]) -> list[asyncpg.Record]:
        return await self._pool.fetch(SELECT_OPERATIONS, operation_ids)

    async def is_empty(self) -> bool:
        return bool(await self._pool.fetchval("SELECT NOT EXISTS (SELECT 1 FROM numbers)"))

    async def load_catalog(self, countries: Iterable[Country], offerings: Iterable[Offering]) -> None:
        async with self._connection() as db:
            await db.executemany(
                "INSERT INTO countries (code, name, do_not_resell) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                [(c.code, c.name, bool(c.do_not_resell)) for c in countries],
            )
            await db.executemany(
                "INSERT INTO offerings (country, number_type, assignment, calling, sms, cost, currency,"
                " billing_frequency, aging_days) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
                [
                    (
                        o.country, o.number_type.value, o.assignment.value, o.capabilities.calling.value,
                        o.capabilities.sms.value, float(o.cost.amount), o.cost.currency, o.cost.billing_frequency,
                        int(o.aging_days),
                    )
                    for o in offerings
                ],
            )

    async def load_numbers(self, locality: Locality, numbers: Sequence[str], change: Change | None = None) -> int:
        # In number order, so each index grows at one place instead of all over (a shuffled
        # batch loads about a third slower). dict.fromkeys keeps the caller's order, and an
        # already sorted batch then sorts in one pass.
        wanted = sorted(dict.fromkeys(numbers))
        try:
            return await self._load_numbers(locality, wanted, change, copy_if_new=True)
        except asyncpg.UniqueViolationError:
            # Another load added some of these numbers between our check and our COPY.
            return await self._load_numbers(locality, wanted, change, copy_if_new=False)

    async def _load_numbers(
        self, locality: Locality, numbers: list[str], change: Change | None, *, copy_if_new: bool
    ) -> int:
        """Add the sorted, distinct `numbers` that are not stored yet; returns how many were added."""
        async with self._connection() as db:
            await db.execute(
                "INSERT INTO localities (country, number_type, area_code, name, division_abbr, division_name)"
                " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                locality.country, locality.number_type.value, locality.area_code, locality.name,
                locality.division_abbr, locality.division_name,
            )
            locality_id = await db.fetchval(
                "SELECT id FROM localities WHERE country = $1 AND number_type = $2 AND area_code = $3"
                " AND name IS NOT DISTINCT FROM $4 AND division_abbr IS NOT DISTINCT FROM $5",
                locality.country, locality.number_type.value, locality.area_code, locality.name, locality.division_abbr,
            )
            if not numbers:
                return 0
            # A lost load transaction is simply loaded again (loads are idempotent), so it
            # need not wait for its WAL to reach the disk.
            await db.execute("SET LOCAL synchronous_commit = off")
            columns = ["phone_number", "country", "number_type", "area_code", "locality_id"]
            row = (locality.country, locality.number_type.value, locality.area_code, locality_id)
            # A block of new numbers (the usual import) has nothing stored between its first
            # and last number: one primary-key probe proves it, and the rows are COPYed straight
            # into the table, without the per-row conflict check of ON CONFLICT or a scratch table.
            if copy_if_new and not await db.fetchval(
                "SELECT EXISTS (SELECT 1 FROM numbers WHERE phone_number BETWEEN $1 AND $2)", numbers[0], numbers[-1]
            ):
                status = await db.copy_records_to_table(
                    "numbers", records=[(n, *row) for n in numbers], columns=columns
                )
            else:
                status = await db.execute(
                    f"INSERT INTO numbers ({', '.join(columns)})"
                    " SELECT n, $2, $3, $4, $5 FROM unnest($1::text[]) AS n ON CONFLICT (phone_number) DO NOTHING",
                    numbers, *row,
                )
            added = _count(status)
            if change is not None and added:
                await events.record_admin_event(db, EventKind.IMPORTED.value, change, imported_detail(locality, added))
            return added

    async def sweep_expired(self, now: float) -> int:
        # Searches and reservations before numbers (the order purchases and cancellations
        # lock in), and rows someone else has locked are left for the next sweep rather
        # than waited for.
        async with self._connection() as db:
            await db.execute(
                "WITH due AS (SELECT id FROM searches WHERE status = 'held' AND expires_at <= $1"
                " FOR UPDATE SKIP LOCKED)"
                " UPDATE searches SET status = 'expired' FROM due WHERE searches.id = due.id",
                float(now),
            )
            await db.execute(
                "WITH due AS (SELECT id FROM reservations WHERE status = 'active' AND expires_at <= $1"
                " FOR UPDATE SKIP LOCKED)"
                " UPDATE reservations SET status = 'expired' FROM due WHERE reservations.id = due.id",
                float(now),
            )
            returned = 0
            system = Change(now, SYSTEM_ACTOR)
            for state in ("'held'", "'reserved'"):  # a literal each, so each uses its partial index
                status = await db.execute(
                    changing_sql(
                        f"state = {state} AND hold_expires_at <= $1",
                        "state = 'available', holder = NULL, hold_expires_at = NULL",
                        2, lapsed=True, skip_locked=True,
                    ),
                    float(now),
                    *event_args(system, EventKind.HOLD_LAPSED, "available", lapsed=True),
                )
                returned += _count(status)
            status = await db.execute(
                changing_sql(
                    "state = 'aging' AND aging_until <= $1", "state = 'available', aging_until = NULL", 2,
                    skip_locked=True,
                ),
                float(now),
                *event_args(system, EventKind.AGING_ENDED, "available"),
            )
            returned += _count(status)
            await db.execute(
                "WITH due AS (SELECT id FROM reservations WHERE created_at <= $1 AND status <> 'active'"
                " AND NOT EXISTS (SELECT 1 FROM numbers WHERE holder = reservations.id)"
                " FOR UPDATE SKIP LOCKED)"
                " DELETE FROM reservations USING due WHERE reservations.id = due.id",
                float(now - RESERVATION_RETENTION_SECONDS),
            )
            await _compact_counts(db)
            return returned

    async def violations(self) -> list[tuple[str, str]]:
        """Rows of the inventory invariant query; empty when the inventory is consistent."""
        async with self._connection() as db:
            return [(row[0], row[1]) for row in await db.fetch(INVARIANT_SQL)]

    async def pending_migrations(self) -> int:
        applied = {row[0] for row in await self._pool.fetch("SELECT version FROM schema_migrations")}
        return len({m.version for m in migrations("postgres")} - applied)

    async def clock_offset(self) -> float:
        return float(await self._pool.fetchval("SELECT offset_seconds FROM service_clock WHERE id = 1"))

    async def advance_clock(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        return float(await self._pool.fetchval(
            "UPDATE service_clock SET offset_seconds = offset_seconds + $1 WHERE id = 1 RETURNING offset_seconds",
            float(seconds),
        ))

    async def demo_seed(self) -> tuple[int, bool] | None:
        row = await self._pool.fetchrow("SELECT per_area_code, completed_at FROM demo_seed WHERE id = 1")
        return None if row is None else (int(row[0]), row[1] is not None)

    async def record_demo_seed(self, per_area_code: int, now: float, *, complete: bool) -> None:
        await self._pool.execute(
            "INSERT INTO demo_seed (id, per_area_code, started_at, completed_at) VALUES (1, $1, $2, $3)"
            " ON CONFLICT (id) DO UPDATE SET per_area_code = excluded.per_area_code,"
            " completed_at = excluded.completed_at",
            per_area_code, float(now), float(now) if complete else None,
        )

    def inventory(self) -> PostgresInventory:
        """What the operator's inventory commands use (`core.inventory_store.InventoryStore`)."""
        return PostgresInventory(self._pool)

    def import_jobs(self) -> PostgresImportJobs:
        """The admin API's background inventory imports (`core.import_job_store.ImportJobStore`)."""
        return PostgresImportJobs(self._pool)

    async def close(self) -> None:
        await self._pool.close()
